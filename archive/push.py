"""`vigile archive push`: a verified session file copied to the archive in bulk, idempotently."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import psycopg

from vigile.archive.schema import KEYS, TABLES, ensure_month, message_columns, migrate
from vigile.replay.chain import GENESIS_HASH, SEALED, canonical_json, chain_hash
from vigile.replay.evidence import verify_session

_BATCH = 10_000  # rows fetched from the file per round trip


class PushError(RuntimeError):
    """A session the archive refuses (a broken chain, a file that disagrees with what was
    archived), with the reason."""


class NotYet(PushError):
    """A recording that has not started yet: no file, or no session in it."""


class Unreachable(PushError):
    """The archive's server cannot be reached (down, wrong address, refused login)."""


@dataclass
class Pushed:
    """What one push did: `added` counts the rows copied per table (all zero: nothing new)."""

    path: Path
    session_id: int
    uid: str
    status: str  # new | grown | unchanged
    added: dict[str, int] = field(default_factory=dict)
    client: str | None = None
    event: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "session": self.session_id,
            "uid": self.uid,
            "status": self.status,
            "added": self.added,
            "client": self.client,
            "event": self.event,
        }


def session_uid(first_session: dict[str, Any]) -> str:
    """A recording's identity in the archive: its first session's name, kind, start and
    sources. The same file pushed again (or grown) finds its archived session by it."""
    fields = [first_session[k] for k in ("name", "kind", "started_at", "sources")]
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()[:32]


def month_of(ts: float) -> date:
    moment = datetime.fromtimestamp(ts, UTC)
    return date(moment.year, moment.month, 1)


def _open_file(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise NotYet(f"no session file at {path}")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    db.row_factory = sqlite3.Row
    # One snapshot for every read of the push: a desk still recording into the file cannot
    # slip rows in between the copy and the head it records as archived.
    db.execute("BEGIN")
    return db


def _rows(db: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    cursor = db.execute(sql, params)
    cursor.row_factory = None  # plain tuples: the copy takes them as they are
    while batch := cursor.fetchmany(_BATCH):
        yield from batch


def push_file(
    conn: psycopg.Connection,
    path: Path,
    client: str | None = None,
    event: str | None = None,
) -> Pushed:
    """Copy what the archive lacks, in one transaction, verifying the chain of every message
    as it goes: a broken chain is refused with its reason and leaves the archive as it was.

    Messages are checked while they stream to the server (one read of the file, the hashing
    beside the server's work), from the start for a new session, and from the archived head
    for a grown one: what the archive already holds is proven by its own copy of the chain."""
    columns = message_columns()
    db = _open_file(path)
    try:
        try:
            sessions = [dict(r) for r in db.execute("SELECT * FROM sessions ORDER BY id")]
        except sqlite3.Error as exc:
            if not db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise NotYet(f"{path} is not written yet") from exc  # a recording starting
            raise PushError(f"{path} is not a Vigile session file: {exc}") from exc
        if not sessions:
            raise NotYet(f"{path} holds no session yet")
        first, last = sessions[0], sessions[-1]
        info = json.loads(first["info"] or "{}")
        client = client or info.get("client") or None
        event = event or info.get("event") or None
        uid = session_uid(first)
        month = month_of(first["started_at"])
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (uid,))
            found = conn.execute(
                "SELECT id, head_seq, head_hash, client, event, ended_at FROM sessions"
                " WHERE uid = %s",
                (uid,),
            ).fetchone()
            if found is None:
                session_id = conn.execute(
                    "INSERT INTO sessions(uid, month, name, kind, started_at, ended_at, sources,"
                    " info, client, event) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
                    (
                        uid,
                        month,
                        first["name"],
                        first["kind"],
                        first["started_at"],
                        last["ended_at"],
                        first["sources"],
                        first["info"],
                        client,
                        event,
                    ),
                ).fetchone()[0]
                head_seq, head_hash = 0, None
                status = "new"
            else:
                session_id, head_seq, head_hash = found[0], found[1], found[2]
                client = client or found[3]
                event = event or found[4]
                status = "unchanged"
                _check_head(db, path, head_seq, head_hash)
            ensure_month(conn, month)
            try:
                added = _copy_new(
                    conn, db, columns, month, session_id, head_seq, head_hash or GENESIS_HASH
                )
            except _Broken:
                raise _why_broken(path) from None
            if head_seq:
                added["deletions"] = _mark_deletions(conn, db, month, session_id, head_seq)
            head = db.execute("SELECT seq, hash FROM messages ORDER BY seq DESC LIMIT 1").fetchone()
            changed = any(added.values()) or (
                found is not None
                and ((found[3], found[4], found[5]) != (client, event, last["ended_at"]))
            )
            if found is not None and changed:
                status = "grown" if any(added.values()) else "updated"
            if changed or found is None:
                conn.execute(
                    "UPDATE sessions SET ended_at = %s, client = %s, event = %s,"
                    " messages = messages + %s, head_seq = %s, head_hash = %s, pushed_at = now()"
                    " WHERE id = %s",
                    (
                        last["ended_at"],
                        client,
                        event,
                        added["messages"],
                        head["seq"] if head else 0,
                        head["hash"] if head else None,
                        session_id,
                    ),
                )
                conn.execute(
                    "INSERT INTO archive_log(kind, detail) VALUES ('push', %s::jsonb)",
                    (json.dumps({"session": session_id, "uid": uid, "file": path.name, **added}),),
                )
        return Pushed(path, session_id, uid, status, added, client, event)
    finally:
        db.close()


def _check_head(db: sqlite3.Connection, path: Path, head_seq: int, head_hash: str | None) -> None:
    """The archive's last message must be the file's message at that place, hash for hash:
    otherwise the file is not the recording that was archived (or was rewritten since)."""
    if not head_seq:
        return
    row = db.execute("SELECT hash FROM messages WHERE seq = ?", (head_seq,)).fetchone()
    if row is None or row["hash"] != head_hash:
        raise PushError(
            f"{path} disagrees with the archive at message {head_seq}: "
            "it is not the recording that was archived under this session"
        )


class _Broken(Exception):
    """The chain does not hold at some message: the push stops, its transaction rolls back."""


def _chained(
    rows: Iterator[tuple[Any, ...]], columns: tuple[str, ...], head_seq: int, head_hash: str
) -> Iterator[tuple[Any, ...]]:
    """`rows` as they are, each checked against the chain (chain.py's own hash and fields)."""
    sealed = itemgetter(*(columns.index(column) for column in SEALED))
    seq_at, hash_at = columns.index("seq"), columns.index("hash")
    previous_seq, previous_hash = head_seq, head_hash
    for row in rows:
        if (
            row[seq_at] != previous_seq + 1
            or chain_hash(previous_hash, sealed(row)) != row[hash_at]
        ):
            raise _Broken
        previous_seq, previous_hash = row[seq_at], row[hash_at]
        yield row


def _why_broken(path: Path) -> PushError:
    """The refusal, worded as `vigile verify` words it (which message, and how)."""
    checked, problem = verify_session(path)
    return PushError(f"{path}: chain broken after {checked:,} good messages: {problem}")


def _copy(
    conn: psycopg.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Iterator[tuple[Any, ...]],
    month: date,
    session_id: int,
) -> int:
    count = 0
    statement = f"COPY {table} (month, session_id, {', '.join(columns)}) FROM STDIN"
    with conn.cursor().copy(statement.encode()) as copy:
        for row in rows:
            copy.write_row((month, session_id, *row))
            count += 1
    return count


def _copy_new(
    conn: psycopg.Connection,
    db: sqlite3.Connection,
    columns: tuple[str, ...],
    month: date,
    session_id: int,
    head_seq: int,
    head_hash: str,
) -> dict[str, int]:
    added = {}
    select = f"SELECT {', '.join(columns)} FROM messages WHERE seq > ? ORDER BY seq"
    rows = _chained(_rows(db, select, (head_seq,)), columns, head_seq, head_hash)
    added["messages"] = _copy(conn, "messages", columns, rows, month, session_id)
    for table, types in TABLES.items():
        names = tuple(types)
        key = KEYS.get(table, "id")
        if key == "message_seq":
            since = head_seq  # written with their message, in the same batch
        else:
            since = conn.execute(
                f"SELECT coalesce(max(id), 0) FROM {table} WHERE month = %s AND session_id = %s",
                (month, session_id),
            ).fetchone()[0]
        select = f"SELECT {', '.join(names)} FROM {table} WHERE {key} > ? ORDER BY {key}"
        added[table] = _copy(conn, table, names, _rows(db, select, (since,)), month, session_id)
    return added


def _mark_deletions(
    conn: psycopg.Connection, db: sqlite3.Connection, month: date, session_id: int, head_seq: int
) -> int:
    """Messages archived before they were deleted (a ban removes what its author had said):
    their deletion time follows them. Deletion only ever goes from none to a time."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS deleted_now (seq bigint, deleted_at float8)")
    conn.execute("TRUNCATE deleted_now")
    rows = _rows(
        db,
        "SELECT seq, deleted_at FROM messages WHERE seq <= ? AND deleted_at IS NOT NULL",
        (head_seq,),
    )
    with conn.cursor().copy(b"COPY deleted_now (seq, deleted_at) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return conn.execute(
        "UPDATE messages m SET deleted_at = d.deleted_at FROM deleted_now d"
        " WHERE m.month = %s AND m.session_id = %s AND m.seq = d.seq AND m.deleted_at IS NULL",
        (month, session_id),
    ).rowcount


def connect(url: str) -> psycopg.Connection:
    """A connection to the archive with its schema brought up to date."""
    try:
        conn = psycopg.connect(url, connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        raise Unreachable(f"cannot reach the archive: {_short(exc)}") from exc
    migrate(conn)
    return conn


def _short(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
