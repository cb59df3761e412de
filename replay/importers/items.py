"""What an archive reader yields, the options it reads with, and the one error that stops it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo

from vigile.connectors.model import ChatMessage, PlatformEvent


class ImportFailed(ValueError):
    """An archive that cannot be imported at all (missing, unknown shape, a needed option not
    given), in one line a user can act on. A bad line is never this: it is a `malformed` event."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line read and left out on purpose (blank, protocol chatter…), counted by reason."""

    reason: str


Item = ChatMessage | PlatformEvent | Skipped


@dataclass(frozen=True, slots=True)
class ImportOptions:
    channel: str | None = None  # overrides what the archive or its file name says
    platform: str | None = None  # for archives that do not say (text, CSV); else detected
    tz: tzinfo = UTC  # of times written without a zone
    start: datetime | None = None  # --date: the day of `[HH:MM:SS]` logs, the start of offsets
    columns: tuple[str, ...] | None = None  # CSV: the file's columns, in order

    def day(self, found: date | None = None) -> date | None:
        """The date of times of day: --date first, else what the file says."""
        return self.start.date() if self.start else found

    def origin(self) -> float | None:
        """Where offsets from the stream's start count from (--date), in UTC seconds."""
        if self.start is None:
            return None
        start = self.start if self.start.tzinfo else self.start.replace(tzinfo=self.tz)
        return start.timestamp()


def malformed(
    platform: str, channel: str, line: int, error: str, text: str, ts: float
) -> PlatformEvent:
    """A line that cannot be read: kept, with its number, as an event the session counts."""
    data = {"line": line, "error": error, "text": text[:500]}
    return PlatformEvent(platform, channel, "malformed", ts, data)


def numbered(event: PlatformEvent, line: int, ts: float) -> PlatformEvent:
    """A parser's own `malformed` event, placed at the archive's line and time."""
    return replace(event, ts=ts, data={**event.data, "line": line})


def as_received(m: ChatMessage) -> ChatMessage:
    """An archived message arrives when it was sent: its original timing is all there is.
    (Built field by field: `dataclasses.replace` costs a fifth of a line's import time.)"""
    return ChatMessage(
        m.platform,
        m.channel,
        m.id,
        m.author_id,
        m.author_name,
        m.text,
        m.sent_at,
        m.sent_at,
        m.roles,
        m.kind,
        m.amount,
        m.currency,
        m.reply_to,
        m.first_message,
        m.raw,
    )


class Timeline:
    """The archive's clock. Items that carry no time of their own (a room state, a deletion)
    take the time of the item before; those before any time wait, a bounded few, for the
    first one (or, at the end, for `fallback`)."""

    WAITING_MOST = 10_000

    def __init__(self, fallback: float | None) -> None:
        self.now: float | None = None
        self.fallback = fallback if fallback is not None else 0.0
        self._waiting: list[Item] = []

    @property
    def running(self) -> bool:
        """The clock is known and nothing waits: an item with a time just sets it."""
        return self.now is not None and not self._waiting

    def timed(self, item: Item, ts: float) -> Sequence[Item]:
        """An item with its own time: it sets the clock, and releases those that waited."""
        self.now = ts
        if not self._waiting:
            return (item,)
        return [*self._release(ts), item]

    def untimed(self, item: Item) -> list[Item]:
        """An item without: placed at the clock, or held until the clock is known."""
        if self.now is not None:
            return [_at(item, self.now)]
        self._waiting.append(item)
        if len(self._waiting) >= self.WAITING_MOST:
            return self._release(self.fallback)
        return []

    def end(self) -> list[Item]:
        return self._release(self.now if self.now is not None else self.fallback)

    def _release(self, ts: float) -> list[Item]:
        waiting, self._waiting = self._waiting, []
        return [_at(item, ts) for item in waiting]


def _at(item: Item, ts: float) -> Item:
    if isinstance(item, ChatMessage):
        return replace(item, sent_at=ts, received_at=ts)
    if isinstance(item, PlatformEvent):
        return replace(item, ts=ts)
    return item


def item_time(item: Item) -> float | None:
    if isinstance(item, ChatMessage):
        return item.sent_at
    if isinstance(item, PlatformEvent):
        return item.ts
    return None


def utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
