"""A desk's link to the archive while it records: pushes as it goes, loads the watchlist.

Every call to the server runs in a thread, so the desk never waits on the network; a server
that is down only delays the archive, which catches up from the local file (a push is
idempotent and sends what the archive lacks)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from vigile.archive.push import NotYet, PushError, Unreachable, connect, push_file
from vigile.archive.schema import SchemaError
from vigile.archive.watchlist import Watchlist

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ArchiveState:
    state: str  # connecting | current | behind | unreachable | refused
    archived: int = 0  # messages in the archive for this session
    detail: str = ""
    at: float = 0.0  # monotonic time of the last push that went through

    def describe(self, recorded: int | None = None) -> str:
        """The header's words: whether the archive holds what was recorded so far."""
        if self.state == "connecting":
            return "archive …"
        behind = f", {recorded - self.archived:,} behind" if recorded is not None else ""
        if self.state == "current":
            if recorded is None or recorded <= self.archived:
                return f"archive ✓ {self.archived:,}"
            return f"archive ✓ {self.archived:,}{behind}"
        reason = f": {self.detail}" if self.detail else ""
        return f"archive ⚠ {self.state}{behind}{reason}"


class ArchiveLink:
    """Pushes `db_path` every `push_every` seconds and reloads the watchlist every
    `refresh_every`. `run` never raises: failures become its state and are retried with a
    growing pause (up to a minute)."""

    def __init__(
        self,
        url: str,
        db_path: Path,
        client: str | None = None,
        event: str | None = None,
        push_every: float = 5.0,
        refresh_every: float = 60.0,
        push: bool = True,
    ) -> None:
        self.url, self.db_path = url, db_path
        self.client, self.event = client, event
        self.push_every, self.refresh_every = push_every, refresh_every
        self.pushing = push
        self.status = ArchiveState("connecting")
        self.watchlist: Watchlist | None = None
        self.pushes = 0
        self._conn: psycopg.Connection | None = None
        self._refreshed_at = 0.0
        self._failures = 0
        self._lock = threading.Lock()

    def summary(self, recorded: int | None = None) -> str:
        return self.status.describe(recorded)

    async def run(self) -> None:
        while True:
            began = time.monotonic()
            await self.sync()
            pause = self.push_every * (2 ** min(self._failures, 4)) if self._failures else 0
            # A push proves the whole file first: on a long recording that walk takes a while,
            # so the thread rests four times as long as it worked (it shares the desk's CPU).
            worked = 4 * (time.monotonic() - began)
            await asyncio.sleep(min(60.0, max(self.push_every, pause, worked)))

    async def sync(self) -> None:
        """One round, in a thread: the desk's loop never waits on the server. Never raises."""
        await asyncio.to_thread(self.round)

    def round(self) -> None:
        """The watchlist when due, then the session. Rounds never overlap: a round still
        running in its thread when the desk stops finishes before the last one starts."""
        with self._lock:
            try:
                self._sync()
                self._failures = 0
            except NotYet:
                self.status = ArchiveState("connecting")
            except Unreachable as exc:
                self._failures += 1
                detail = str(exc).removeprefix("cannot reach the archive: ")
                self.status = ArchiveState("unreachable", self.status.archived, detail)
            except PushError as exc:
                self._failures += 1
                self.status = ArchiveState("refused", self.status.archived, str(exc))
                log.error("archive: %s", exc)
            except (psycopg.Error, OSError, SchemaError) as exc:
                self._failures += 1
                self._drop_connection()
                self.status = ArchiveState("unreachable", self.status.archived, _short(exc))

    def _sync(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.url)
        if self.watchlist is None or time.monotonic() - self._refreshed_at >= self.refresh_every:
            self.watchlist = Watchlist.load(self._conn)
            self._refreshed_at = time.monotonic()
        if not self.pushing:
            self.status = ArchiveState("current", 0, "watchlist only")
            return
        pushed = push_file(self._conn, self.db_path, self.client, self.event)
        self.pushes += 1
        archived = self._conn.execute(
            "SELECT messages FROM sessions WHERE id = %s", (pushed.session_id,)
        ).fetchone()
        count = int(archived[0]) if archived else 0
        self.status = ArchiveState("current", count, at=time.monotonic())

    def finish(self) -> ArchiveState:
        """The last round once the recording is closed, then let go of the server."""
        self.round()
        with self._lock:
            self._drop_connection()
        return self.status

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
