"""What the team hub keeps across a restart, in one SQLite file: token hashes, every rules
version, claims with their expiry, and what was handled by whom.

Tokens are stored as SHA-256 digests only: the hub can check a token, never show it again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from vigile.replay.files import HUB_STATE, KIND_KEY, StoreError, require_writable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (role TEXT NOT NULL, digest TEXT NOT NULL, created REAL);
CREATE TABLE IF NOT EXISTS rules (
    version INTEGER PRIMARY KEY, author TEXT NOT NULL, ts REAL NOT NULL, packs TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL);
CREATE TABLE IF NOT EXISTS handled (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, by TEXT NOT NULL, ts REAL NOT NULL);
"""
RECENT_HANDLED = 5_000  # what a (re)joining desk is told was already handled
LOCK_WAIT_S = 2.0  # a write waits this long for a lock held elsewhere, then is reported


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
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path) -> HubState:
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
            await db.executescript(_SCHEMA)
            await db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (KIND_KEY, HUB_STATE)
            )
            await db.commit()
        except sqlite3.Error as exc:
            await db.close()  # its thread too, or the process could not exit
            raise HubStateError(f"{path} cannot be used as the hub's file: {exc}") from exc
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    # -- tokens -------------------------------------------------------------------------------

    async def has_tokens(self) -> bool:
        async with self._db.execute("SELECT 1 FROM tokens LIMIT 1") as rows:
            return await rows.fetchone() is not None

    async def new_tokens(self, now: float) -> dict[str, str]:
        """A fresh token per role, replacing the old ones; returned once, stored as digests."""
        tokens = {role: secrets.token_urlsafe(24) for role in ("supervisor", "moderator")}
        await self._db.execute("DELETE FROM tokens")
        await self._db.executemany(
            "INSERT INTO tokens VALUES (?, ?, ?)",
            [(role, digest(token), now) for role, token in tokens.items()],
        )
        await self._db.commit()
        return tokens

    async def role_of(self, token: str) -> str | None:
        """The role the token grants, compared in constant time against every stored digest."""
        presented = digest(token)
        found = None
        async with self._db.execute("SELECT role, digest FROM tokens") as rows:
            for role, stored in await rows.fetchall():
                if hmac.compare_digest(presented, stored):
                    found = role  # no early return: every digest is compared
        return found

    # -- rules --------------------------------------------------------------------------------

    async def current_rules(self) -> RulesEntry | None:
        sql = "SELECT version, author, ts, packs FROM rules ORDER BY version DESC LIMIT 1"
        async with self._db.execute(sql) as rows:
            row = await rows.fetchone()
        return RulesEntry(row[0], row[1], row[2], orjson.loads(row[3])) if row else None

    async def add_rules(self, entry: RulesEntry) -> None:
        await self._db.execute(
            "INSERT INTO rules VALUES (?, ?, ?, ?)",
            (entry.version, entry.author, entry.ts, orjson.dumps(entry.packs).decode()),
        )
        await self._db.commit()

    # -- claims and handled items -------------------------------------------------------------

    async def claims(self) -> dict[str, tuple[str, float]]:
        async with self._db.execute("SELECT key, holder, until FROM claims") as rows:
            return {key: (holder, until) for key, holder, until in await rows.fetchall()}

    async def set_claim(self, key: str, holder: str, until: float) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO claims VALUES (?, ?, ?)", (key, holder, until)
        )
        await self._db.commit()

    async def drop_claims(self, keys: list[str]) -> None:
        await self._db.executemany("DELETE FROM claims WHERE key = ?", [(k,) for k in keys])
        await self._db.commit()

    async def add_handled(self, key: str, kind: str, by: str, ts: float) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO handled VALUES (?, ?, ?, ?)", (key, kind, by, ts)
        )
        await self._db.execute("DELETE FROM claims WHERE key = ?", (key,))
        await self._db.commit()

    async def handled(self) -> dict[str, tuple[str, str, float]]:
        """The most recent RECENT_HANDLED, oldest first."""
        sql = (
            "SELECT * FROM (SELECT key, kind, by, ts FROM handled ORDER BY ts DESC LIMIT ?) "
            "ORDER BY ts"
        )
        async with self._db.execute(sql, (RECENT_HANDLED,)) as rows:
            return {key: (kind, by, ts) for key, kind, by, ts in await rows.fetchall()}
