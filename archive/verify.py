"""`vigile verify postgresql://… --session ID`: an archived chain, walked as the file's is."""

from __future__ import annotations

import psycopg

from vigile.replay.chain import SEALED
from vigile.replay.evidence import Problem, verify_rows
from vigile.replay.reads import CHAIN_ROWS


def verify_archived(conn: psycopg.Connection, session_id: int) -> tuple[int, Problem | None]:
    """The same walk `vigile verify FILE` does, over the archived rows: the chain fields
    travelled unchanged, so every hash must match as it did in the file."""
    found = conn.execute("SELECT month FROM sessions WHERE id = %s", (session_id,)).fetchone()
    if found is None:
        raise LookupError(f"no session {session_id} in the archive")
    # The file's own read, by column name: the archive answers with the same row type.
    sql = (
        f"SELECT seq, hash, {', '.join(SEALED)} FROM messages"
        " WHERE month = %s AND session_id = %s ORDER BY seq"
    )
    with conn.cursor(name="chain") if not conn.autocommit else conn.cursor() as cur:
        cur.execute(sql.encode(), (found[0], session_id))
        CHAIN_ROWS.check([(column.name,) for column in cur.description or []])
        rows = [CHAIN_ROWS.build(values) for values in cur]
    return verify_rows(rows)
