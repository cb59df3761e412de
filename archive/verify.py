"""`vigile verify postgresql://… --session ID`: an archived session proven as its file was.

The archive holds every row the file's chain sealed, and the chain's links, column for column.
The archived rows are laid back into a session file of their own (a temporary one), and that
file is walked by `vigile verify`'s own code: the same checks, the same words."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import psycopg

from vigile.archive.schema import ARCHIVED_NAME, FILE_SESSION, TABLES, message_columns
from vigile.replay.schema import SCHEMA, SCHEMA_VERSION
from vigile.replay.verify import Verification, verify_session

_BATCH = 10_000


def verify_archived(conn: psycopg.Connection, session_id: int) -> Verification:
    """The walk `vigile verify FILE` does, over the archived rows of one recording."""
    found = conn.execute("SELECT month FROM sessions WHERE id = %s", (session_id,)).fetchone()
    if found is None:
        raise LookupError(f"no session {session_id} in the archive")
    with tempfile.TemporaryDirectory(prefix="vigile-verify-") as folder:
        path = Path(folder) / "archived.db"
        _lay_out(conn, path, found[0], session_id)
        return verify_session(path)


def _lay_out(conn: psycopg.Connection, path: Path, month: object, session_id: int) -> None:
    """The archived rows written back under the file's own names, as its writer laid them."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.executescript(SCHEMA)
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute("BEGIN")
        db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        tables = [("messages", message_columns()), *((t, tuple(c)) for t, c in TABLES.items())]
        for table, names in tables:
            archived_as = ARCHIVED_NAME.get(table, table)
            select = (
                f"SELECT {', '.join(names)} FROM {archived_as} WHERE month = %s AND session_id = %s"
            )
            file_names = ", ".join("session_id" if c == FILE_SESSION else c for c in names)
            insert = f"INSERT INTO {table} ({file_names}) VALUES ({', '.join('?' * len(names))})"
            with conn.cursor() as cur:
                cur.execute(select.encode(), (month, session_id))
                while batch := cur.fetchmany(_BATCH):
                    db.executemany(insert, batch)
        db.execute("COMMIT")
    finally:
        db.close()
