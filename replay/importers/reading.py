"""The items of an import's archives, merged in time order, in batches: read here, or by a
second process (parallel.py) while this one seals and writes. Messages leave as the store's
row fields (plain values, cheap to hand from one process to another)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.replay.importers import chatdownloader, csvlog, irclog, textlog, twitchdownloader, ytdlp
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.detect import FORMATS
from vigile.replay.importers.items import ImportOptions, Item, Skipped, item_time
from vigile.replay.schema import MESSAGE_COLUMNS
from vigile.replay.store import message_fields

READERS: dict[str, Callable[[Archive, ImportOptions], Iterator[Item]]] = {
    "ytdlp": ytdlp.read,
    "twitchdownloader": twitchdownloader.read,
    "twitchdownloader-text": textlog.read_twitchdownloader,
    "chat-downloader": chatdownloader.read,
    "irc": irclog.read,
    "text": textlog.read,
    "csv": csvlog.read,
}
assert set(READERS) == set(FORMATS)

BATCH = 1_000  # items handed on at a time
MessageFields = tuple[Any, ...]  # a message as the store's `message_fields` lays it out
ReadItem = MessageFields | PlatformEvent | Skipped
Entry = tuple[str, ReadItem]  # the archive's file name, and one item read from it
FIELD = {name: n for n, name in enumerate(MESSAGE_COLUMNS[2:-1])}  # where each value is


def entries(
    archives: Sequence[Archive], formats: Sequence[str], options: ImportOptions
) -> Iterator[Entry]:
    """Every archive's items, read with its format's reader; several archives merge by time."""
    streams = [
        _timed(archive, READERS[fmt](archive, options), len(archives) > 1)
        for archive, fmt in zip(archives, formats, strict=True)
    ]
    merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_by_time)
    for _, name, item in merged:
        yield name, message_fields(item) if type(item) is ChatMessage else item


def batches(items: Iterator[Entry]) -> Iterator[list[Entry]]:
    while batch := list(itertools.islice(items, BATCH)):
        yield batch


class InProcess:
    """Archives read by this process, between the writer's commits."""

    def __init__(
        self, archives: Sequence[Archive], formats: Sequence[str], options: ImportOptions
    ) -> None:
        self._archives = archives
        self._batches = batches(entries(archives, formats, options))

    @property
    def position(self) -> int:
        """Bytes of the archives read so far."""
        return sum(archive.position for archive in self._archives)

    async def __aiter__(self) -> AsyncIterator[list[Entry]]:
        for batch in self._batches:
            yield batch

    async def aclose(self) -> None:
        """Nothing runs beside: the archives are closed by whoever opened them."""


def _by_time(entry: tuple[float, str, Item]) -> float:
    return entry[0]


def _timed(
    archive: Archive, items: Iterator[Item], merged: bool
) -> Iterator[tuple[float, str, Item]]:
    """(time, file, item): what the merge orders by; a skipped line keeps the time before.
    A single archive is not merged: its items need no time of their own here."""
    now, name = float("-inf"), archive.path.name
    if merged:
        for item in items:
            ts = item_time(item)
            if ts is not None:
                now = ts
            yield now, name, item
    else:
        for item in items:
            yield 0.0, name, item
    if archive.broken:  # a compressed file cut short: what came before is kept
        data = {"line": 0, "error": archive.broken}
        yield now, archive.path.name, PlatformEvent("vigile", "", "malformed", max(now, 0.0), data)
