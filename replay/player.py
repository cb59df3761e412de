"""A recorded or generated session played back as a chat source, at ×N speed or flat out."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from sqlite3 import Row

from vigile.connectors.model import ChatMessage, PlatformEvent, utc_now
from vigile.connectors.sources import SourceState, StatusChange
from vigile.replay.reads import FIRST_SENT
from vigile.replay.store import SENT_AT_OF_REPLAYED, SessionStore, replayed_message

# Events a replay passes on: what happened on the platform, not what our own desk said about it
# (source status, alerts and gaps of the original recording are recomputed by this run).
REPLAYED_EVENT_KINDS = frozenset(
    {
        "raid",
        "clearchat",
        "clearmsg",
        "ban",
        "timeout",
        "delete",
        "delete_author",
        "delete_by_author",  # YouTube's "all of this author's messages"
        "notice",
        "sub",
        "resub",
        "subgift",
        "announcement",
        "roomstate",
        "scenario:phase",
    }
)


class ReplaySource:
    """Yields the session's messages and platform events in their original order.

    `speed` multiplies the original pacing (1.0 is real time, 10.0 ten times faster); `None`
    replays as fast as the consumer takes them. Messages keep their original `sent_at` and get
    a fresh `received_at`, so latency figures measure this run, not the recording. `pause()`,
    `resume()` and `seek(seconds)` steer a replay while it runs; `position` tells where it is,
    in seconds from the start of the recording.
    """

    def __init__(self, path: str | Path, speed: float | None = 1.0, name: str | None = None):
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        self.path = Path(path)
        self.speed = speed
        self.name = name or f"replay:{self.path.stem}"
        self.position = 0.0
        self._running = asyncio.Event()
        self._running.set()
        self._seek_to: float | None = None

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def seek(self, seconds: float) -> None:
        """Jump to `seconds` after the recording's first message (backwards too)."""
        self._seek_to = max(0.0, seconds)
        self._running.set()

    async def stream(self) -> AsyncIterator[ChatMessage | PlatformEvent | StatusChange]:
        async with contextlib.AsyncExitStack() as stack:  # closes in reverse: cursors first
            store = await SessionStore.open(self.path, readonly=True)
            stack.push_async_callback(store.close)
            events = [e for e in await store.events() if e.kind in REPLAYED_EVENT_KINDS]
            (first,) = await store.read(FIRST_SENT)
            origin = first.value if first.value is not None else 0.0
            yield StatusChange(SourceState.LIVE, f"replaying ×{self.speed or 'max'}")
            offset = self._seek_to or 0.0  # a seek before the start: begin there
            while True:
                self._seek_to = None
                since = origin + offset
                later = [e for e in events if e.ts >= since]
                async with contextlib.aclosing(store.replayed_rows(since)) as rows:
                    async with contextlib.aclosing(_merge_by_time(rows, later)) as merged:
                        async for item in self._paced(merged, since, origin):
                            yield item
                            if self._seek_to is not None:
                                break
                if self._seek_to is None:
                    break
                offset = self._seek_to
            yield StatusChange(SourceState.ENDED, "end of recording")

    async def _paced(
        self, chunks: AsyncIterator[list[Row | PlatformEvent]], since: float, origin: float
    ) -> AsyncIterator[ChatMessage | PlatformEvent]:
        """Items at the recording's pace × speed, from recording time `since` on. A message is
        made when it is handed over, with that moment as its `received_at`."""
        start_wall, start_sent = utc_now(), since
        async for chunk in chunks:
            for item in chunk:
                is_event = isinstance(item, PlatformEvent)
                sent = item.ts if is_event else item[SENT_AT_OF_REPLAYED]
                if self.paused:
                    paused_at = utc_now()
                    await self._running.wait()
                    start_wall += utc_now() - paused_at  # the pause does not count as lateness
                    if self._seek_to is not None:
                        return
                if self.speed is not None:
                    delay = start_wall + (sent - start_sent) / self.speed - utc_now()
                    if delay > 0:
                        await asyncio.sleep(delay)
                self.position = max(0.0, sent - origin)
                now = utc_now()
                if is_event:
                    yield replace(item, ts=now, data={**item.data, "original_ts": item.ts})
                else:
                    yield replayed_message(item, now)


async def _merge_by_time(
    chunks: AsyncIterator[list[Row]], events: list[PlatformEvent]
) -> AsyncIterator[list[Row | PlatformEvent]]:
    """The stored messages' rows and the events, merged in time order, a chunk at a time (an
    event comes before the messages sent at or after it)."""
    pending = [(e.ts, i, e) for i, e in enumerate(events)]
    heapq.heapify(pending)
    async for rows in chunks:
        merged: list[Row | PlatformEvent] = []
        for row in rows:
            sent_at = row[SENT_AT_OF_REPLAYED]
            while pending and pending[0][0] <= sent_at:
                merged.append(heapq.heappop(pending)[2])
            merged.append(row)
        yield merged
    if pending:
        yield [heapq.heappop(pending)[2] for _ in range(len(pending))]
