"""A recorded or generated session played back as a chat source, at ×N speed or flat out."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from connectors.hub import SourceState, StatusChange
from connectors.model import ChatMessage, PlatformEvent, utc_now
from replay.store import SessionStore, StoredMessage

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
    a fresh `received_at`, so latency figures measure this run, not the recording.
    """

    def __init__(self, path: str | Path, speed: float | None = 1.0, name: str | None = None):
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        self.path = Path(path)
        self.speed = speed
        self.name = name or f"replay:{self.path.stem}"

    async def stream(self) -> AsyncIterator[ChatMessage | PlatformEvent | StatusChange]:
        if not self.path.exists():
            raise FileNotFoundError(f"no session file at {self.path}")
        async with contextlib.AsyncExitStack() as stack:  # closes in reverse: cursors first
            store = await SessionStore.open(self.path)
            stack.push_async_callback(store.close)
            events = [e for e in await store.events() if e.kind in REPLAYED_EVENT_KINDS]
            stored = await stack.enter_async_context(contextlib.aclosing(store.messages()))
            merged = await stack.enter_async_context(
                contextlib.aclosing(_merge_by_time(stored, events))
            )
            yield StatusChange(SourceState.LIVE, f"replaying ×{self.speed or 'max'}")
            start_wall: float | None = None
            start_sent = 0.0
            async for item in merged:
                sent = item.sent_at if isinstance(item, ChatMessage) else item.ts
                if start_wall is None:
                    start_wall, start_sent = utc_now(), sent
                if self.speed is not None:
                    delay = start_wall + (sent - start_sent) / self.speed - utc_now()
                    if delay > 0:
                        await asyncio.sleep(delay)
                now = utc_now()
                if isinstance(item, ChatMessage):
                    yield replace(item, received_at=now)
                else:
                    yield replace(item, ts=now, data={**item.data, "original_ts": item.ts})
            yield StatusChange(SourceState.ENDED, "end of recording")


async def _merge_by_time(
    stored: AsyncIterator[StoredMessage], events: list[PlatformEvent]
) -> AsyncIterator[ChatMessage | PlatformEvent]:
    pending = [(e.ts, i, e) for i, e in enumerate(events)]
    heapq.heapify(pending)
    async for row in stored:
        message = row.message
        while pending and pending[0][0] <= message.sent_at:
            yield heapq.heappop(pending)[2]
        yield message
    while pending:
        yield heapq.heappop(pending)[2]
