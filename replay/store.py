"""The session store: one SQLite file per session, written in batches by one task, crash-safe."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from vigile.connectors.model import (
    ChatMessage,
    MessageKind,
    ModAction,
    PlatformEvent,
    Role,
    Verdict,
    utc_now,
)
from vigile.replay.batch_write import Batch, seal, write_batch
from vigile.replay.chain import GENESIS_HASH, KIND_OF_TABLE, SEALED_KINDS, link_hash, row_digest
from vigile.replay.chain import canonical_json as _json  # stored JSON columns are canonical too
from vigile.replay.counts import count
from vigile.replay.files import (
    KIND_KEY,
    QUERY_ONLY,
    SESSION,
    StoreError,
    reader_uri,
    require,
    require_writable,
)
from vigile.replay.reads import CURRENT_LABELS, R, Read
from vigile.replay.schema import (
    CHAIN_INSERT,
    DROP_MESSAGE_INDEXES,
    INSERTS,
    MESSAGE_COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
)

log = logging.getLogger(__name__)


__all__ = ["Label", "SessionStore", "StoreError", "StoredMessage"]


@dataclass(frozen=True, slots=True)
class Label:
    """Ground truth on a message, for scoring: a scenario's, or a hand label (`vigile label`)."""

    should_flag: bool
    category: str | None = None
    raid_member: bool = False
    question: bool = False
    phase: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    seq: int
    session_id: int
    message: ChatMessage
    deleted_at: float | None
    hash: str
    label: Label | None = None


def _message_from_row(row: sqlite3.Row) -> ChatMessage:
    return ChatMessage(
        platform=row["platform"],
        channel=row["channel"],
        id=row["msg_id"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        text=row["text"],
        sent_at=row["sent_at"],
        received_at=row["received_at"],
        roles=frozenset(Role(r) for r in json.loads(row["roles"])),
        kind=MessageKind(row["kind"]),
        amount=row["amount"],
        currency=row["currency"],
        reply_to=row["reply_to"],
        first_message=bool(row["first_message"]),
        raw=json.loads(row["raw"]),
    )


_RECEIVED_AT = MESSAGE_COLUMNS.index("received_at")

# What a replay reads of each message, by position: everything but its seq, label and seal.
REPLAYED_COLUMNS = (
    "platform, channel, msg_id, author_id, author_name, text, sent_at, roles, kind, amount,"
    " currency, reply_to, first_message, raw"
)
SENT_AT_OF_REPLAYED = 6
_KINDS = {str(kind): kind for kind in MessageKind}


@functools.lru_cache(maxsize=256)  # a chat has a handful of role sets, read on every message
def _roles(stored: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in json.loads(stored))


def _json_value(stored: str) -> Any:
    try:
        return orjson.loads(stored)
    except orjson.JSONDecodeError:  # what orjson refuses (an integer past 64 bits) json reads
        return json.loads(stored)


def replayed_message(values: Sequence[Any], received_at: float) -> ChatMessage:
    """A message from its REPLAYED_COLUMNS, received at `received_at` (a replay's now)."""
    (platform, channel, msg_id, author_id, author_name, text, sent_at, roles, kind, amount,
     currency, reply_to, first_message, raw) = values  # fmt: skip
    return ChatMessage(
        platform,
        channel,
        msg_id,
        author_id,
        author_name,
        text,
        sent_at,
        received_at,
        _roles(roles),
        _KINDS.get(kind) or MessageKind(kind),
        amount,
        currency,
        reply_to,
        bool(first_message),
        _json_value(raw),
    )


def message_fields(m: ChatMessage) -> tuple[Any, ...]:
    """A message's row short of its seq, session and hash (MESSAGE_COLUMNS[2:-1]): plain values
    a reading process hands on cheaply (`add_message_fields`). Times and amounts as floats and
    the kind as text: what SQLite gives back to a verifier (0 and 0.0 serialise differently)."""
    roles = _json(sorted(m.roles))
    return (
        m.platform,
        m.channel,
        m.id,
        m.author_id,
        m.author_name,
        roles,
        str(m.kind),
        m.text,
        None if m.amount is None else float(m.amount),
        m.currency,
        m.reply_to,
        int(m.first_message),
        float(m.sent_at),
        float(m.received_at),
        _json(m.raw),
    )


def _verdict_row(seq: int, v: Verdict) -> tuple[Any, ...]:
    matches = _json(
        [
            {
                "rule_id": m.rule_id,
                "category": m.category,
                "severity": m.severity,
                "span": m.span,
                "how": m.how,
                "term": m.term,
            }
            for m in v.matches
        ]
    )
    return (seq, v.rules_version, v.priority, v.action, _json(v.tags), matches)


def _label_row(seq: int, lb: Label) -> tuple[Any, ...]:
    return (seq, int(lb.should_flag), lb.category, int(lb.raid_member), int(lb.question), lb.phase)


def _action_row(session: int | None, a: ModAction) -> tuple[Any, ...]:
    return (
        session,
        a.requested_at,
        a.platform,
        a.channel,
        str(a.kind),
        a.moderator,
        a.target_author_id,
        a.target_message_id,
        a.duration_s,
        a.reason,
        str(a.result),
        a.detail,
    )


class SessionStore:
    """Buffers rows in memory and commits them in one transaction every `batch_rows` rows or
    `batch_interval` seconds. `add_*` never wait on the disk: a slow disk grows `pending` (lag),
    it never drops rows. If a commit fails (locked, full, read-only), the rows stay buffered,
    `last_error` says why, and the next tick retries."""

    def __init__(
        self, db: aiosqlite.Connection, path: Path, batch_rows: int, batch_interval: float
    ) -> None:
        self.path = path
        self.session_id: int | None = None
        self.last_error: str | None = None
        self.committed_messages = 0
        self._db = db
        self._batch_rows = batch_rows
        self._batch_interval = batch_interval
        self._batch: dict[str, list[tuple[Any, ...]]] = {table: [] for table in INSERTS}
        self.pending = 0  # rows buffered, not yet committed
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self.readonly = False
        self.bulk = False
        self._deferred_marks: list[tuple[Any, ...]] = []  # a bulk load's, sealed at its end
        self._flush_lock = asyncio.Lock()  # one transaction at a time
        self._flushed = asyncio.Event()  # set after each commit, done or failed
        # Called after each commit with the committed messages' received_at and the commit
        # time: the load test's ingest-to-stored latency.
        self.commit_listeners: list[Callable[[list[float], float], None]] = []
        self._next_seq = 1
        # The next key of each table whose rows are keyed by the store, and the chain's end.
        keyed = ("sessions", "labels", "events", "actions", "rule_versions", "deletions")
        self._next_key = dict.fromkeys(keyed, 1)
        self._link, self._last_hash = 0, GENESIS_HASH

    # -- opening and closing ------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        batch_rows: int = 500,
        batch_interval: float = 0.1,
        busy_timeout_ms: int = 5_000,
        readonly: bool = False,
        bulk: bool = False,
    ) -> SessionStore:
        """Open (or create) a session file. `readonly` opens an existing one for reading only:
        a replay or a report never writes to the recording it reads. `bulk` loads a new file
        that nobody reads meanwhile and that is thrown away if the load fails (an import): no
        write-ahead log and no sync until `close`, which turns it into a normal WAL session."""
        path = Path(path)
        if readonly:
            require(path, SESSION)
        else:
            require_writable(path, SESSION)
        try:
            if readonly:
                db = await aiosqlite.connect(reader_uri(path), uri=True, isolation_level=None)
            else:
                db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot be opened: {exc}", path) from exc
        db.row_factory = sqlite3.Row
        store = cls(db, path, batch_rows, batch_interval)
        store.readonly, store.bulk = readonly, bulk
        try:
            await store._prepare(busy_timeout_ms)
        except sqlite3.Error as exc:
            await db.close()
            raise StoreError(f"is not a usable Vigile session: {exc}", path) from exc
        except StoreError:
            await db.close()
            raise
        return store

    async def _prepare(self, busy_timeout_ms: int) -> None:
        await self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if self.readonly:
            await self._db.execute(QUERY_ONLY)  # a replay never writes to what it reads
        if self.bulk:  # written once, twice as fast: the data is not copied from a WAL later
            # large pages for a file written from start to end: fewer page splits and headers,
            # about a tenth less work (applies only to a new, empty file)
            await self._db.execute("PRAGMA page_size = 65536")
            await self._db.execute("PRAGMA journal_mode = MEMORY")
            await self._db.execute("PRAGMA synchronous = OFF")
            await self._db.execute("PRAGMA cache_size = -65536")
        elif not self.readonly:
            await self._db.execute("PRAGMA journal_mode = WAL")
            await self._db.execute("PRAGMA synchronous = NORMAL")
            await self._db.execute("PRAGMA foreign_keys = OFF")  # rows are written in batch order
        async with self._db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'"
        ) as cur:
            has_meta = await cur.fetchone() is not None
        if has_meta:
            async with self._db.execute("SELECT value FROM meta WHERE key='schema_version'") as cur:
                row = await cur.fetchone()
            found = int(row[0]) if row else 0
            if found > SCHEMA_VERSION:
                raise StoreError(
                    f"was written by a newer Vigile (schema {found}, "
                    f"this one reads up to {SCHEMA_VERSION})",
                    self.path,
                )
            if found < SCHEMA_VERSION and not self.readonly:
                # Its rows are not all sealed: appending sealed ones would mix two proofs.
                raise StoreError(
                    f"{self.path} was recorded by an earlier Vigile (schema {found}); it can "
                    f"be read and verified, but record into a new file"
                )
        elif self.readonly:
            raise StoreError("is not a Vigile session (no meta table)", self.path)
        if self.readonly:
            return
        await self._db.executescript(SCHEMA)
        if self.bulk and not has_meta:  # a new file: its indexes are built once, at the end
            await self._db.executescript(DROP_MESSAGE_INDEXES)
        await self._db.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?), (?, ?)",
            (str(SCHEMA_VERSION), KIND_KEY, SESSION),
        )
        async with self._db.execute("SELECT coalesce(max(seq), 0) FROM messages") as cur:
            self._next_seq = (await cur.fetchone())[0] + 1  # type: ignore[index]
        for table in self._next_key:
            async with self._db.execute(f"SELECT coalesce(max(id), 0) FROM {table}") as cur:
                self._next_key[table] = (await cur.fetchone())[0] + 1  # type: ignore[index]
        async with self._db.execute(
            "SELECT link, hash FROM chain ORDER BY link DESC LIMIT 1"
        ) as cur:
            last = await cur.fetchone()
        if last:
            self._link, self._last_hash = last["link"], last["hash"]

    async def start_session(
        self,
        name: str,
        kind: str,
        sources: list[str],
        info: Mapping[str, Any] | None = None,
        started_at: float | None = None,
    ) -> int:
        key = self._next_key["sessions"]
        row = SEALED_KINDS["session"].stored(
            (key, name, kind, started_at or utc_now(), _json(sources), _json(info or {}))
        )
        await self._write_sealed(
            "session",
            row,
            "INSERT INTO sessions(id, name, kind, started_at, sources, info)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            row,
        )
        self._next_key["sessions"] = key + 1
        self.session_id = key
        self._writer = asyncio.create_task(self._write_loop(), name="store-writer")
        return key

    async def _write_sealed(
        self, kind: str, sealed: tuple[Any, ...], sql: str, params: tuple[Any, ...]
    ) -> None:
        """One sealed row written on its own, with its link (a session's start or end)."""
        async with self._flush_lock:
            digest = row_digest(kind, sealed)
            link, chained = self._link + 1, link_hash(self._last_hash, digest)
            async with self._transaction():
                await self._db.execute(sql, params)
                await self._db.execute(CHAIN_INSERT, (link, kind, sealed[0], digest, chained))
            self._link, self._last_hash = link, chained

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE … COMMIT; on any failure rolled back (if it can be) and raised. The
        BEGIN is inside: a cancellation landing while it runs must not leave it open."""
        try:
            await self._db.execute("BEGIN IMMEDIATE")
            yield
            await self._db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._db.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        """Final flush, end the session, checkpoint the WAL. Raises StoreError if rows could not
        be written, so a caller never believes a lost recording was saved. A cancellation (an
        app leaving cancels its workers, sometimes twice) waits for the close to end and is
        passed on then: a close cut in half would roll back the session's sealed end."""
        closing = asyncio.ensure_future(self._close())
        cancelled = False
        while not closing.done():
            try:
                await asyncio.shield(closing)
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        closing.result()

    async def _close(self) -> None:
        if self._writer:
            # The writer ends after its batch, written or queued again. A Ctrl-C may have
            # cancelled it (asyncio.run cancels every task): the final flush below still runs.
            self._closing = True
            self._wake.set()
            try:
                await self._writer
            except asyncio.CancelledError:
                if not self._writer.cancelled():
                    raise
            self._writer = None
        try:
            await self.flush()
            if self.pending:
                raise StoreError(
                    f"{count(self.pending, 'row')} could not be written: {self.last_error}",
                    self.path,
                )
            if self.bulk:  # before the session's end: its marks are sealed inside the session
                await self._end_bulk()
            if self.session_id is not None:
                end = SEALED_KINDS["session_end"].stored((self.session_id, utc_now()))
                await self._write_sealed(
                    "session_end", end, "UPDATE sessions SET ended_at = ?2 WHERE id = ?1", end
                )
            if not self.readonly:
                await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await self._db.close()

    async def __aenter__(self) -> SessionStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- writing ------------------------------------------------------------------------------

    def _queue(self, table: str, row: tuple[Any, ...]) -> None:
        self._batch[table].append(row)
        self.pending += 1
        if self.pending >= self._batch_rows:
            self._wake.set()

    def add_message(
        self, message: ChatMessage, verdict: Verdict | None = None, label: Label | None = None
    ) -> int:
        """Queue a message (with its verdict and ground-truth label); returns its seq.

        Its seq is given here, in arrival order; its seal when its batch commits."""
        seq = self.add_message_fields(message_fields(message))
        if verdict is not None and verdict.flagged:  # clean verdicts carry nothing to keep
            self._queue("verdicts", _verdict_row(seq, verdict))
        if label is not None:
            self._queue_keyed("labels", _label_row(seq, label))
        return seq

    def add_message_fields(self, fields: tuple[Any, ...]) -> int:
        """Queue a message given as `message_fields` made it (an import's reading process
        builds them); returns its seq."""
        seq = self._next_seq
        self._next_seq += 1
        self._queue("messages", (seq, self.session_id, *fields))
        return seq

    def set_label(self, seq: int, label: Label) -> None:
        """Label a stored message (hand labels on a real session). The label is a new sealed
        row: it becomes the message's label, and the one it replaces stays sealed beside it."""
        self._queue_keyed("labels", _label_row(seq, label))

    def _queue_keyed(self, table: str, row: tuple[Any, ...]) -> None:
        """A row of a table whose key the store gives: the key, then `row`, as SQLite stores it."""
        key = self._next_key[table]
        self._next_key[table] = key + 1
        self._queue(table, KIND_OF_TABLE[table].stored((key, *row)))

    def add_event(self, e: PlatformEvent) -> None:
        row = (self.session_id, e.ts, e.platform, e.channel, e.kind, _json(e.data))
        self._queue_keyed("events", row)

    def add_action(self, action: ModAction) -> None:
        self._queue_keyed("actions", _action_row(self.session_id, action))

    def add_rule_version(
        self, ts: float, version: int, author: str, origin: str, digest: str, content: str
    ) -> None:
        row = (self.session_id, ts, version, author, origin, digest, content)
        self._queue_keyed("rule_versions", row)

    def mark_deleted(self, platform: str, msg_id: str, ts: float) -> None:
        """Deleted messages are kept and marked, never removed (the evidence needs them)."""
        self._queue_mark(ts, platform, "message", msg_id)

    def mark_author_deleted(self, platform: str, author_id: str, ts: float) -> None:
        """Every message the author had sent by `ts`: a ban, a timeout, a purge by author."""
        self._queue_mark(ts, platform, "author", author_id)

    def _queue_mark(self, ts: float, platform: str, scope: str, target: str) -> None:
        # The seqs it marks are known when it is written; its seal holds them.
        key = self._next_key["deletions"]
        self._next_key["deletions"] = key + 1
        self._queue("deletions", (key, self.session_id, float(ts), platform, scope, str(target)))

    async def _write_loop(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._batch_interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        async with self._flush_lock:
            if self.pending:
                await self._commit_batch()
        self._flushed.set()

    async def caught_up(self, below: int) -> None:
        """Wait for the commit under way (or the next) to end, and more until fewer than `below`
        rows are pending. For a reader that can wait (a replay): it then goes at the disk's
        pace instead of buffering rows without bound. A live chat never waits here."""
        while self._writer is not None and not self._writer.done() and not self._closing:
            self._wake.set()
            self._flushed.clear()
            with contextlib.suppress(TimeoutError):  # and look again: the writer may be gone
                await asyncio.wait_for(self._flushed.wait(), 1.0)
            if self.pending < below:
                return
            if self.last_error:  # the disk refuses for now: retry at the writer's pace
                await asyncio.sleep(self._batch_interval)

    async def _end_bulk(self) -> None:
        """Build the indexes in one sorted pass, apply and seal the deletion marks that waited
        for them (in the order they were given, after every message of the load), and become a
        session like any, in WAL mode."""
        await self._db.execute("PRAGMA cache_size = -65536")  # the index sort, in memory
        await self._db.executescript(SCHEMA)  # what was left out: the message indexes
        async with self._flush_lock:
            if self._deferred_marks:
                marks = {"deletions": self._deferred_marks}
                self._link, self._last_hash = await self._written(marks)
                self._deferred_marks = []
        async with self._db.execute("PRAGMA journal_mode = WAL") as cursor:
            await cursor.fetchall()

    async def _commit_batch(self) -> None:
        batch = self._batch
        if self.bulk:  # marks need the message indexes, built at the end: they wait till then
            self._deferred_marks += batch["deletions"]
            self.pending -= len(batch["deletions"])
            batch["deletions"] = []
        count = self.pending
        self._batch, self.pending = {table: [] for table in INSERTS}, 0
        writing = asyncio.ensure_future(self._written(batch))
        cancelled = False
        while not writing.done():  # a cancellation waits: the call on the thread cannot stop
            try:
                await asyncio.wait([writing])  # (never cancels it, nor raises its failure)
            except asyncio.CancelledError:
                cancelled = True
        committed = None
        if writing.cancelled():  # cancelled from outside (a loop shutting down): ask the file
            committed = await self._committed_end()
        elif writing.exception() is None:
            committed = writing.result()
        if committed is None:
            # Put the batch back in front of what arrived meanwhile: nothing is lost, the next
            # tick (or close) retries.
            for table, rows in batch.items():
                self._batch[table][:0] = rows
            self.pending += count
            exc = writing.exception() if not writing.cancelled() else None
            if not isinstance(exc, sqlite3.Error | OSError):
                if cancelled or exc is None:
                    raise asyncio.CancelledError
                raise exc
            if self.last_error != str(exc):
                log.error("session store %s: write failed, %d rows kept: %s", self.path, count, exc)
            self.last_error = str(exc)
        else:
            self._link, self._last_hash = committed
            self.committed_messages += len(batch["messages"])
            self.last_error = None
            if self.commit_listeners and batch["messages"]:
                committed_at = utc_now()
                received = [row[_RECEIVED_AT] for row in batch["messages"]]
                for listener in self.commit_listeners:
                    listener(received, committed_at)
        if cancelled:  # passed on once the batch is safe: committed, or queued again
            raise asyncio.CancelledError

    async def _committed_end(self) -> tuple[int, str] | None:
        """The chain's end in the file, if it is past the one known here: the batch whose call
        was cut off from us committed after all. (Calls run in order: this one runs after.)"""
        async with self._db.execute(
            "SELECT link, hash FROM chain ORDER BY link DESC LIMIT 1"
        ) as cur:
            last = await cur.fetchone()
        return (last["link"], last["hash"]) if last and last["link"] > self._link else None

    async def _written(self, batch: Batch) -> tuple[int, str]:
        """Write and seal `batch` in one transaction, as one call on the database's own thread;
        returns the chain's new end. aiosqlite runs each statement as a call of its own, and
        between two calls the writer waits for the event loop, which a flood keeps busy: a
        batch written statement by statement took 100-400 ms under load, most of it waiting.
        (aiosqlite has no public call that runs a function on its thread; its version is
        pinned in pyproject.toml.)"""
        db, sealed = self._db, seal(batch, self._link, self._last_hash)
        return await db._execute(lambda: write_batch(db._conn, sealed))

    # -- reading ------------------------------------------------------------------------------

    async def count(self, table: str) -> int:
        if table not in {
            "sessions",
            "messages",
            "verdicts",
            "labels",
            "actions",
            "rule_versions",
            "events",
            "deletions",
            "chain",
        }:
            raise ValueError(f"unknown table {table!r}")
        async with self._db.execute(f"SELECT count(*) FROM {table}") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def sessions(self) -> list[dict[str, Any]]:
        async with self._db.execute("SELECT * FROM sessions ORDER BY id") as cur:
            rows = await cur.fetchall()
        return [
            {**dict(r), "sources": json.loads(r["sources"]), "info": json.loads(r["info"])}
            for r in rows
        ]

    async def messages(
        self, session_id: int | None = None, since: float | None = None
    ) -> AsyncIterator[StoredMessage]:
        """Stored messages in recording order, with their labels; `since` skips those sent
        before that time."""
        query = (
            "SELECT m.*, l.should_flag, l.category, l.raid_member, l.question, l.phase"
            f" FROM messages m LEFT JOIN {CURRENT_LABELS} l ON l.message_seq = m.seq WHERE 1"
        )
        params: tuple[Any, ...] = ()
        if session_id is not None:
            query += " AND m.session_id = ?"
            params += (session_id,)
        if since is not None:
            query += " AND m.sent_at >= ?"
            params += (since,)
        async with self._db.execute(query + " ORDER BY m.seq", params) as cur:
            cur.arraysize = 500  # one thread hop per 500 rows, not per row
            async for row in cur:
                label = None
                if row["should_flag"] is not None:
                    label = Label(
                        bool(row["should_flag"]),
                        row["category"],
                        bool(row["raid_member"]),
                        bool(row["question"]),
                        row["phase"],
                    )
                yield StoredMessage(
                    row["seq"],
                    row["session_id"],
                    _message_from_row(row),
                    row["deleted_at"],
                    row["hash"],
                    label,
                )

    async def replayed_rows(self, since: float) -> AsyncIterator[list[sqlite3.Row]]:
        """The messages sent at or after `since`, in recording order, as chunks of rows of
        REPLAYED_COLUMNS (`replayed_message` makes each a message): a replay at full speed
        reads a chunk per thread hop and builds each message once, when it hands it over."""
        query = f"SELECT {REPLAYED_COLUMNS} FROM messages WHERE sent_at >= ? ORDER BY seq"
        async with self._db.execute(query, (since,)) as cur:
            while rows := await cur.fetchmany(500):
                yield rows

    async def events(self, session_id: int | None = None) -> list[PlatformEvent]:
        query, params = "SELECT * FROM events", ()
        if session_id is not None:
            query, params = query + " WHERE session_id = ?", (session_id,)
        async with self._db.execute(query + " ORDER BY ts, id", params) as cur:
            rows = await cur.fetchall()
        return [
            PlatformEvent(r["platform"], r["channel"], r["kind"], r["ts"], json.loads(r["data"]))
            for r in rows
        ]

    async def read(self, query: Read[R], *params: Any) -> list[R]:
        """A named read (replay/reads.py) on the live file: what the desk's cards show."""
        async with self._db.execute(query.sql, params) as cur:
            query.check(cur.description)
            return [query.build(values) for values in await cur.fetchall()]

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Ad-hoc query helper for tests and tools; Vigile's own reads are named in reads.py."""
        async with self._db.execute(sql, params) as cur:
            return list(await cur.fetchall())
