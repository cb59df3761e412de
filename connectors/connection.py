"""One reconnecting loop for every chat source: backoff, error classes, status, gaps, repeats."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Final

from vigile.connectors.model import ChatMessage, PlatformEvent, utc_now
from vigile.connectors.sources import SourceState, StatusChange

log = logging.getLogger(__name__)

SEEN_IDS = 5_000  # message ids remembered to drop what a new connection repeats


class Backoff:
    """Jittered exponential backoff, reset after a good session."""

    def __init__(self, first: float = 1.0, most: float = 60.0) -> None:
        self.first, self.most, self.attempt = first, most, 0

    def next(self) -> float:
        delay = min(self.most, self.first * 2**self.attempt)
        self.attempt += 1
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.attempt = 0


class SeenIds:
    """The latest message ids, to drop a message delivered twice (overlapping connections,
    a poll restarted from an earlier page)."""

    def __init__(self, most: int = SEEN_IDS) -> None:
        self.most = most
        self._ids: OrderedDict[str, None] = OrderedDict()

    def repeated(self, message_id: str) -> bool:
        """True if the id was seen already; else remember it."""
        if message_id in self._ids:
            return True
        self._ids[message_id] = None
        if len(self._ids) > self.most:
            self._ids.popitem(last=False)
        return False


class Live:
    """Yielded by a connection once it is good: the gap (if any) is over, backoff resets."""


LIVE: Final = Live()


@dataclass(frozen=True, slots=True)
class Moved:
    """Yielded by a connection that the server asked to move and that has moved, at `since`."""

    since: float


@dataclass(frozen=True, slots=True)
class Retry:
    """A failure another connection may not have: wait, then connect again."""

    reason: str
    event: PlatformEvent | None = None  # recorded before the wait (a page that made no sense)


@dataclass(frozen=True, slots=True)
class Fatal:
    """A failure retrying cannot mend: the source fails and `error` is raised."""

    error: Exception


Item = ChatMessage | PlatformEvent
Connect = Callable[[], AsyncIterator[Item | StatusChange | Live | Moved]]
Classify = Callable[[Exception], Retry | Fatal | None]  # None: not ours to judge, raise it


@dataclass(kw_only=True)
class ConnectionLoop:
    """Runs one connection after another for a source and yields what they deliver.

    A connection (`connect()`) yields items, its own status changes, `LIVE` once it is good and
    `Moved` after a move the server asked for; when it ends, the source ends. An exception from
    it is classified: a retry records the gap and connects again after a backoff, a fatal one
    fails the source. Chat messages delivered twice are dropped by id."""

    platform: str
    channel: str
    name: str
    where: str  # the detail of the connecting status: the address, or the source's name
    classify: Classify
    backoff: Backoff = field(default_factory=Backoff)
    tell_who_asked: bool = False  # reconnect events say whether the server asked for the move
    seen: SeenIds = field(default_factory=SeenIds)

    async def run(self, connect: Connect) -> AsyncIterator[Item | StatusChange]:
        gap_started: float | None = None
        while True:
            state = SourceState.RECONNECTING if gap_started else SourceState.CONNECTING
            yield StatusChange(state, self.where)
            try:
                async with contextlib.aclosing(connect()) as connection:
                    async for value in connection:
                        if isinstance(value, Live):
                            if gap_started is not None:
                                yield self.reconnected(gap_started)
                                gap_started = None
                            yield StatusChange(SourceState.LIVE, "")
                            self.backoff.reset()
                        elif isinstance(value, Moved):
                            yield self.reconnected(value.since, asked=True)
                        elif isinstance(value, ChatMessage) and self.seen.repeated(value.id):
                            continue
                        else:
                            yield value
                return
            except Exception as exc:
                outcome = self.classify(exc)
                if outcome is None:
                    raise
                if isinstance(outcome, Fatal):
                    yield StatusChange(SourceState.FAILED, str(outcome.error))
                    if outcome.error is exc:
                        raise
                    raise outcome.error from exc
                gap_started = gap_started or utc_now()
                delay = self.backoff.next()
                if outcome.event is not None:
                    yield outcome.event
                log.warning("%s: %s, retrying in %.1f s", self.name, outcome.reason, delay)
                yield StatusChange(SourceState.RECONNECTING, outcome.reason)
                await asyncio.sleep(delay)

    def reconnected(self, since: float, asked: bool = False) -> PlatformEvent:
        data: dict[str, object] = {"gap_s": round(utc_now() - since, 3)}
        if self.tell_who_asked:
            data["asked_by_server"] = asked
        return PlatformEvent(self.platform, self.channel, "reconnect", data=data)
