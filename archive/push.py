"""`vigile archive push`: a verified session file copied to the archive in bulk, idempotently."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

from vigile.archive.schema import (
    ARCHIVED_NAME,
    FILE_SESSION,
    KEYS,
    TABLES,
    ensure_month,
    message_columns,
    migrate,
)
from vigile.replay.chain import SEALED_KINDS, canonical_json
from vigile.replay.verify import Resume, Verification, report, verify_session

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
    proven_after: int = 0  # the archived head the file's proof resumed from (0: proven whole)
    proven_rows: int = 0  # sealed rows proven by this push

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "session": self.session_id,
            "uid": self.uid,
            "status": self.status,
            "added": self.added,
            "client": self.client,
            "event": self.event,
            "proven_after_link": self.proven_after,
            "proven_rows": self.proven_rows,
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
    """Copy what the archive lacks, in one transaction, once the file's whole chain is proven:
    a broken chain is refused in `vigile verify`'s own words and leaves the archive as it was.

    The file is verified as `vigile verify` does (every sealed row beside its link), then read
    in one snapshot, up to the last link that was verified: rows a desk still recording adds
    meanwhile wait for the next push, so the archive never holds a row its chain does not seal."""
    columns = message_columns()
    archived = _archived_head(conn, path)
    resume = archived.resume if archived else None
    checked = _verified(path, resume)
    proof = (checked.resumed_after, checked.rows)
    db = _open_file(path)
    try:
        sessions = [dict(r) for r in db.execute("SELECT * FROM sessions ORDER BY id")]
        if not sessions:
            raise NotYet(f"{path} holds no session yet")
        bound = _Bound(db, checked.head["link"] if checked.head else 0, archived)
        sessions = [s for s in sessions if s["id"] in bound.sessions]
        if not sessions:
            raise NotYet(f"{path} holds no sealed session yet")
        for s in sessions:
            s["ended_at"] = s["ended_at"] if s["id"] in bound.ended else None
        first, last = sessions[0], sessions[-1]
        info = json.loads(first["info"] or "{}")
        client = client or info.get("client") or None
        event = event or info.get("event") or None
        uid = session_uid(first)
        month = month_of(first["started_at"])
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (uid,))
            found = conn.execute(
                "SELECT id, head_link, link_hash, client, event, ended_at FROM sessions"
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
                status = "new"
            else:
                session_id = found[0]
                client = client or found[3]
                event = event or found[4]
                status = "unchanged"
                _check_head(db, path, found[1], found[2])
                if found[1] > bound.link:  # another push got further meanwhile
                    return Pushed(path, session_id, uid, status, _nothing(), client, event, *proof)
            if resume is not None and (found is None or found[1] < resume.link):
                raise PushError(
                    f"{path}: the archive's copy of this recording changed during the push "
                    "(pruned, or pushed from elsewhere): push again"
                )
            ensure_month(conn, month)
            added = _copy_new(conn, db, columns, month, session_id, bound)
            ended = _end_sessions(conn, sessions, month, session_id)
            deleted = _apply_deletions(conn, month, session_id)
            head = db.execute(
                "SELECT seq, hash FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT 1",
                (bound.limits.get("messages", 0),),
            ).fetchone()
            changed = (
                any(added.values())
                or ended
                or deleted
                or (
                    found is not None
                    and ((found[3], found[4], found[5]) != (client, event, last["ended_at"]))
                )
            )
            if found is not None and changed:
                status = "grown" if any(added.values()) else "updated"
            if changed or found is None:
                conn.execute(
                    "UPDATE sessions SET ended_at = %s, client = %s, event = %s,"
                    " messages = messages + %s, head_seq = %s, head_hash = %s, head_link = %s,"
                    " link_hash = %s, pushed_at = now() WHERE id = %s",
                    (
                        last["ended_at"],
                        client,
                        event,
                        added["messages"],
                        head["seq"] if head else 0,
                        head["hash"] if head else None,
                        bound.link,
                        checked.head["hash"] if checked.head else None,
                        session_id,
                    ),
                )
                conn.execute(
                    "INSERT INTO archive_log(kind, detail) VALUES ('push', %s::jsonb)",
                    (json.dumps({"session": session_id, "uid": uid, "file": path.name, **added}),),
                )
        return Pushed(path, session_id, uid, status, added, client, event, *proof)
    finally:
        db.close()


def _nothing() -> dict[str, int]:
    return {t: 0 for t in ("messages", *TABLES) if t != "sessions"}


@dataclass(frozen=True)
class _Archived:
    """What the archive holds of a recording: where its proof resumes, and the file's sessions
    it holds, started and ended."""

    resume: Resume
    sessions: frozenset[int]
    ended: frozenset[int]


def _archived_head(conn: psycopg.Connection, path: Path) -> _Archived | None:
    """Where the proof of a file the archive already holds resumes: the archived head (its
    last link and hash) and the last key of each kind of row archived up to it. The file's
    link at that place must be the archived one, hash for hash (refused by name otherwise:
    a rewritten file); the links before it were proven when they were pushed. None for a
    recording the archive does not hold (or a file that does not read as a session: the
    whole walk says why)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            first = db.execute(
                "SELECT name, kind, started_at, sources FROM sessions ORDER BY id LIMIT 1"
            ).fetchone()
            if first is None:
                return None
            found = conn.execute(
                "SELECT id, month, head_link, link_hash FROM sessions WHERE uid = %s",
                (session_uid(dict(first)),),
            ).fetchone()
            if found is None or not found[2]:
                return None
            session_id, month, head_link, link_hash = found
            _check_head(db, path, head_link, link_hash)
    except sqlite3.Error:
        return None
    where = " WHERE month = %s AND session_id = %s"
    last_keys = {}
    for name, kind in SEALED_KINDS.items():
        table = ARCHIVED_NAME.get(kind.table, kind.table)
        ended = " AND ended_at IS NOT NULL" if name == "session_end" else ""
        last_keys[name] = conn.execute(
            f"SELECT coalesce(max({kind.key}), 0) FROM {table}{where}{ended}", (month, session_id)
        ).fetchone()[0]
    held = conn.execute(f"SELECT id, ended_at FROM file_sessions{where}", (month, session_id))
    rows = held.fetchall()
    return _Archived(
        Resume(head_link, link_hash, last_keys),
        frozenset(r[0] for r in rows),
        frozenset(r[0] for r in rows if r[1] is not None),
    )


def _verified(path: Path, resume: Resume | None = None) -> Verification:
    """The file's chain walked as `vigile verify` walks it (from `resume` on, when the archive
    holds its start); a broken chain is refused in its words, a file of an earlier Vigile (its
    actions, verdicts and deletions unsealed) too."""
    from vigile.replay.files import StoreError

    if not path.is_file():
        raise NotYet(f"no session file at {path}")
    try:
        checked = verify_session(path, resume)
    except (sqlite3.Error, StoreError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        if _unwritten(path):
            raise NotYet(f"{path} is not written yet") from exc  # a recording starting
        raise PushError(f"{path} is not a Vigile session file: {reason}") from exc
    if checked.scheme < 2:
        raise PushError(
            f"{path} was recorded by an earlier Vigile (schema 1), which sealed 9 fields of "
            "each message only: the archive takes sessions whose every row is sealed "
            "(`vigile verify` still checks its messages)"
        )
    if checked.problem is not None:
        raise PushError(f"{path}: {report(checked)[0]}")
    return checked


def _unwritten(path: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return not db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error:
        return False


class _Bound:
    """What the verified chain seals, read in the push's snapshot: the last key of each table's
    rows sealed up to `link`, the sessions started and the sessions ended by then. What the
    archive already holds is taken from it: only the links after its head are read."""

    def __init__(self, db: sqlite3.Connection, link: int, archived: _Archived | None) -> None:
        self.link = link
        since = archived.resume.link if archived else 0
        held = dict(archived.resume.last_keys) if archived else {}
        window = "link > ? AND link <= ?"
        last = dict(
            db.execute(
                f"SELECT kind, max(ref) FROM chain WHERE {window} GROUP BY kind", (since, link)
            ).fetchall()
        )
        self.limits = {
            kind.table: last.get(name) or held.get(name, 0)
            for name, kind in SEALED_KINDS.items()
            if kind.table != "sessions"
        }
        self.limits["chain"] = link
        refs = f"SELECT ref FROM chain WHERE {window} AND kind = ?"
        self.sessions = {r[0] for r in db.execute(refs, (since, link, "session"))}
        self.ended = {r[0] for r in db.execute(refs, (since, link, "session_end"))}
        if archived:
            self.sessions |= archived.sessions
            self.ended |= archived.ended


def _check_head(db: sqlite3.Connection, path: Path, head_link: int, link_hash: str | None) -> None:
    """The archive's last link must be the file's link at that place, hash for hash:
    otherwise the file is not the recording that was archived (or was rewritten since)."""
    if not head_link:
        return
    row = db.execute("SELECT hash FROM chain WHERE link = ?", (head_link,)).fetchone()
    if row is None or row["hash"] != link_hash:
        raise PushError(
            f"{path} disagrees with the archive at link {head_link} of its chain: "
            "it is not the recording that was archived under this session"
        )


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


def _file_columns(names: tuple[str, ...]) -> str:
    """The file's own names for the archive's columns."""
    return ", ".join("session_id" if c == FILE_SESSION else c for c in names)


def _copy_new(
    conn: psycopg.Connection,
    db: sqlite3.Connection,
    columns: tuple[str, ...],
    month: date,
    session_id: int,
    bound: _Bound,
) -> dict[str, int]:
    """Every table's rows past what the archive holds and within what the chain sealed.
    Deletion times are not copied: they follow from the sealed deletion marks."""
    added = {}
    for table, names in (("messages", columns), *((t, tuple(c)) for t, c in TABLES.items())):
        if table == "sessions":
            continue  # the file's session rows: `_end_sessions`
        key = "seq" if table == "messages" else KEYS.get(table, "id")
        archived_as = ARCHIVED_NAME.get(table, table)
        since = conn.execute(
            f"SELECT coalesce(max({key}), 0) FROM {archived_as}"
            " WHERE month = %s AND session_id = %s",
            (month, session_id),
        ).fetchone()[0]
        chosen = tuple(c for c in names if c != "deleted_at")
        select = (
            f"SELECT {_file_columns(chosen)} FROM {table}"
            f" WHERE {key} > ? AND {key} <= ? ORDER BY {key}"
        )
        rows = _rows(db, select, (since, bound.limits[table]))
        added[table] = _copy(conn, archived_as, chosen, rows, month, session_id)
    return added


def _end_sessions(
    conn: psycopg.Connection, sessions: list[dict[str, Any]], month: date, session_id: int
) -> int:
    """The file's session rows, sealed as they started; an end sealed since is added."""
    names = tuple(TABLES["sessions"])
    changed = 0
    for s in sessions:
        changed += conn.execute(
            f"INSERT INTO file_sessions (month, session_id, {', '.join(names)})"
            f" VALUES (%s, %s, {', '.join(['%s'] * len(names))})"
            " ON CONFLICT (month, session_id, id) DO UPDATE SET ended_at = excluded.ended_at"
            " WHERE file_sessions.ended_at IS NULL AND excluded.ended_at IS NOT NULL",
            (month, session_id, *(s[n] for n in names)),
        ).rowcount
    return changed


def _apply_deletions(conn: psycopg.Connection, month: date, session_id: int) -> int:
    """Each archived message's deletion time, as the sealed deletion marks give it (the first
    mark naming it), exactly as `vigile verify` expects it: a message archived before a ban
    removed it gets its time when the mark arrives. Returns the messages changed."""
    return conn.execute(
        """
        UPDATE messages m SET deleted_at = d.ts FROM (
            SELECT DISTINCT ON (seq) seq::bigint AS seq, ts FROM (
                SELECT x.id, x.ts, jsonb_array_elements_text(x.marked::jsonb) AS seq
                FROM deletions x WHERE x.month = %(month)s AND x.session_id = %(sid)s
            ) marks ORDER BY seq, id
        ) d
        WHERE m.month = %(month)s AND m.session_id = %(sid)s AND m.seq = d.seq
          AND m.deleted_at IS DISTINCT FROM d.ts
        """,
        {"month": month, "sid": session_id},
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
