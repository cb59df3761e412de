"""What the team hub keeps across a restart, in one SQLite file: each desk's credentials,
every rules version, claims with their expiry, and the newest handled items.

Tokens are stored as SHA-256 digests only: the hub can check a token, never show it again.
Writes are grouped: every change waiting when the file is free goes in one transaction, and
each caller hears when its change is committed (the hub tells the desks only then).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from vigile.replay.files import HUB_STATE, KIND_KEY, StoreError, require_writable

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS desks (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, digest TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rules (
    version INTEGER PRIMARY KEY, author TEXT NOT NULL, ts REAL NOT NULL, packs TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL);
CREATE TABLE IF NOT EXISTS handled (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, by TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS handled_ts ON handled (ts);
"""
LOCK_WAIT_S = 0.5  # a write waits this long for a lock held elsewhere, then is reported
TRIM_EVERY = 500  # handled items written between two trims of the file to the window
MAX_OWED = 50_000  # changes kept for the file while it cannot be written
_NO_DIGEST = "0" * 64  # compared against when the name is unknown: the same work either way

Statement = tuple[str, tuple[Any, ...]]


class HubStateError(RuntimeError):
    """The hub's file cannot be used (not a database, locked, unreadable)."""


@dataclass(frozen=True, slots=True)
class RulesEntry:
    version: int
    author: str
    ts: float
    packs: list[dict[str, str]]

    def frame(self) -> dict[str, Any]:
        return {
            "type": "rules",
            "version": self.version,
            "author": self.author,
            "ts": self.ts,
            "packs": self.packs,
        }


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class HubState:
    def __init__(
        self, db: aiosqlite.Connection, writer: sqlite3.Connection, keep_handled: int
    ) -> None:
        self._db, self._writer_db, self.keep_handled = db, writer, keep_handled
        self._waiting: list[tuple[list[Statement], asyncio.Future[None]]] = []
        self._owed: list[Statement] = []  # changes a failed commit still owes the file
        self._writer: asyncio.Task[None] | None = None
        self._since_trim = 0

    @classmethod
    async def open(cls, path: Path, keep_handled: int = 20_000) -> HubState:
        try:  # a session file (or anything else) is refused before a table is added to it
            require_writable(path, HUB_STATE)
        except StoreError as exc:
            raise HubStateError(str(exc)) from exc
        try:
            db = await aiosqlite.connect(path, timeout=LOCK_WAIT_S)
        except sqlite3.Error as exc:
            raise HubStateError(f"{path} cannot be opened as the hub's file: {exc}") from exc
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.executescript(SCHEMA)
            await db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (KIND_KEY, HUB_STATE)
            )
            await db.commit()
            # The one writer: each group of changes is one transaction run whole in a worker
            # thread, so no transaction is ever held open while the event loop does other work.
            writer = sqlite3.connect(
                path, timeout=LOCK_WAIT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            await db.close()  # its thread too, or the process could not exit
            raise HubStateError(f"{path} cannot be used as the hub's file: {exc}") from exc
        return cls(db, writer, keep_handled)

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        self._writer_db.close()
        await self._db.close()

    # -- desks --------------------------------------------------------------------------------

    async def role_of(self, name: str, token: str) -> str | None:
        """The role of the desk `name` if `token` is its own, compared in constant time."""
        sql = "SELECT role, digest FROM desks WHERE name = ?"
        async with self._db.execute(sql, (name,)) as rows:
            row = await rows.fetchone()
        role, stored = row if row else (None, _NO_DIGEST)
        return role if hmac.compare_digest(digest(token), stored) else None

    async def desks(self) -> dict[str, tuple[str, str]]:
        """name → (role, digest), as the file says now (another process may have revoked)."""
        async with self._db.execute("SELECT name, role, digest FROM desks") as rows:
            return {name: (role, d) for name, role, d in await rows.fetchall()}

    # -- reads at start -----------------------------------------------------------------------

    async def current_rules(self) -> RulesEntry | None:
        sql = "SELECT version, author, ts, packs FROM rules ORDER BY version DESC LIMIT 1"
        async with self._db.execute(sql) as rows:
            row = await rows.fetchone()
        return RulesEntry(row[0], row[1], row[2], orjson.loads(row[3])) if row else None

    async def claims(self) -> dict[str, tuple[str, float]]:
        async with self._db.execute("SELECT key, holder, until FROM claims") as rows:
            return {key: (holder, until) for key, holder, until in await rows.fetchall()}

    async def handled(self) -> dict[str, tuple[str, str, float]]:
        """The newest `keep_handled`, oldest first."""
        sql = (
            "SELECT * FROM (SELECT key, kind, by, ts FROM handled ORDER BY ts DESC LIMIT ?) "
            "ORDER BY ts"
        )
        async with self._db.execute(sql, (self.keep_handled,)) as rows:
            return {key: (kind, by, ts) for key, kind, by, ts in await rows.fetchall()}

    # -- changes, committed in groups ---------------------------------------------------------

    async def add_rules(self, entry: RulesEntry) -> None:
        row = (entry.version, entry.author, entry.ts, orjson.dumps(entry.packs).decode())
        await self._commit([("INSERT INTO rules VALUES (?, ?, ?, ?)", row)])

    async def set_claim(self, key: str, holder: str, until: float) -> None:
        row = (key, holder, until)
        await self._commit([("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)", row)])

    async def drop_claims(self, keys: list[str]) -> None:
        await self._commit([("DELETE FROM claims WHERE key = ?", (k,)) for k in keys])

    async def add_handled(self, key: str, kind: str, by: str, ts: float) -> None:
        """Replaces an escalation (the hub refuses any other second action on a key)."""
        statements = [
            ("INSERT OR REPLACE INTO handled VALUES (?, ?, ?, ?)", (key, kind, by, ts)),
            ("DELETE FROM claims WHERE key = ?", (key,)),
        ]
        self._since_trim += 1
        if self._since_trim >= TRIM_EVERY:
            self._since_trim = 0
            statements.append(
                (
                    "DELETE FROM handled WHERE ts < (SELECT ts FROM handled "
                    "ORDER BY ts DESC LIMIT 1 OFFSET ?)",
                    (self.keep_handled - 1,),
                )
            )
        await self._commit(statements)

    async def _commit(self, statements: list[Statement]) -> None:
        """Returns once the change is in the file; raises sqlite3.Error if it could not be
        (the change is then retried with the next commit)."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((statements, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="hub-state-writer")
        await done

    async def _write(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            statements = self._owed + [s for change, _ in group for s in change]
            try:
                await asyncio.to_thread(self._transaction, statements)
            except sqlite3.Error as exc:
                self._owed = statements[-MAX_OWED:]  # a file locked for hours: the newest
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
            else:
                self._owed = []
                for _, done in group:
                    if not done.done():
                        done.set_result(None)

    def _transaction(self, statements: list[Statement]) -> None:
        db = self._writer_db
        db.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                db.execute(sql, params)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
