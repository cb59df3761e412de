"""Fan-in of many chat sources into one stream, with back-pressure and per-source status."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from vigile.connectors.model import ChatMessage, PlatformEvent, utc_now

log = logging.getLogger(__name__)


class SourceState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """Yielded by a source to report its own state; the hub keeps it and does not forward it."""

    state: SourceState
    detail: str = ""


@dataclass(slots=True)
class SourceStatus:
    """Live status of one source; `SourceHub.statuses()` hands out copies."""

    name: str
    state: SourceState = SourceState.CONNECTING
    detail: str = ""
    since: float = 0.0  # when the state last changed
    messages: int = 0
    lag_s: float = 0.0  # received → handed to the consumer, for the last item of this source


Item = ChatMessage | PlatformEvent


class Source(Protocol):
    """A named async stream of chat items; may also yield StatusChange values."""

    name: str

    def stream(self) -> AsyncIterator[Item | StatusChange]: ...


_END = object()


class SourceHub:
    """Runs every source as a task feeding one bounded queue.

    A full queue blocks the producing source (back-pressure: a socket reader stops reading and
    the kernel buffers), it never drops. Iterate the hub to consume; iteration ends when every
    source has ended or failed. A failing source becomes a `source_failed` event, not a crash.
    """

    def __init__(self, sources: list[Source], maxsize: int = 10_000) -> None:
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique: {names}")
        self._sources = sources
        self._queue: asyncio.Queue[tuple[str, Item] | object] = asyncio.Queue(maxsize)
        self._status = {n: SourceStatus(n, since=utc_now()) for n in names}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def maxsize(self) -> int:
        return self._queue.maxsize

    @property
    def depth(self) -> int:
        """Items waiting for the consumer: the pipeline's queue lag."""
        return self._queue.qsize()

    def statuses(self) -> list[SourceStatus]:
        return [replace(s) for s in self._status.values()]

    def _set(self, name: str, state: SourceState, detail: str = "") -> None:
        status = self._status[name]
        if state != status.state:
            status.since = utc_now()
        status.state, status.detail = state, detail

    async def _pump(self, source: Source) -> None:
        name = source.name
        try:
            async with contextlib.aclosing(source.stream()) as stream:
                async for item in stream:
                    if isinstance(item, StatusChange):
                        self._set(name, item.state, item.detail)
                        continue
                    if self._status[name].state is SourceState.CONNECTING:
                        self._set(name, SourceState.LIVE)
                    await self._queue.put((name, item))
            self._set(name, SourceState.ENDED, self._status[name].detail)
        except asyncio.CancelledError:
            self._set(name, SourceState.ENDED, "stopped")
            raise  # the consumer is stopping: no end marker needed
        except Exception as exc:  # a broken source must not take the others down
            log.exception("source %s failed", name)
            self._set(name, SourceState.FAILED, str(exc) or type(exc).__name__)
            platform, _, channel = name.partition(":")
            failure = PlatformEvent(
                platform, channel, "source_failed", data={"source": name, "error": repr(exc)}
            )
            await self._queue.put((name, failure))
        await self._queue.put(_END)

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._pump(s), name=f"source:{s.name}") for s in self._sources
            ]

    async def __aiter__(self) -> AsyncIterator[Item]:
        async for batch in self.batches(1):
            yield batch[0]

    async def batches(self, most: int) -> AsyncIterator[list[Item]]:
        """Like iterating the hub, an item at a time, but hands over what is already waiting
        (up to `most` items) at once: a consumer that is behind works through its backlog
        without a turn of the event loop per item, and one that keeps up gets each item alone,
        as soon as it comes (nothing waits for a batch to fill)."""
        self.start()
        queue, running = self._queue, len(self._sources)
        while running:
            batch: list[Item] = []
            entry = await queue.get()
            while True:
                if entry is _END:
                    running -= 1
                else:
                    name, item = entry  # type: ignore[misc]
                    self._handed(name, item)
                    batch.append(item)
                if not running or len(batch) >= most or queue.empty():
                    break
                entry = queue.get_nowait()
            if batch:
                yield batch

    def _handed(self, name: str, item: Item) -> None:
        if isinstance(item, ChatMessage):
            status = self._status[name]
            status.messages += 1
            status.lag_s = max(0.0, utc_now() - item.received_at)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
