"""Plain-text chat logs: `[2024-07-20 12:33:03 UTC] user: text` (TwitchDownloader, many bots),
`[12:33:03] user: text` (Chatterino and similar clients: the date comes from the file name, a
`# Start logging at` line or --date), and TwitchDownloader's text export, whose `[1:02:03]` are
offsets from the stream's start (--date gives the start)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from vigile.connectors.model import ChatMessage, MessageKind, PlatformEvent
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.clock import DayClock, clock_seconds, date_in_name, parse_datetime
from vigile.replay.importers.items import (
    ImportFailed,
    ImportOptions,
    Item,
    Skipped,
    Timeline,
    malformed,
)

_STAMPED = re.compile(r"^\[([^\]]{5,40})\]\s?(.*)$")
_SAID = re.compile(r"^\s*(?:(?P<shown>[^\s:]+) )?(?P<login>[^\s:]{1,40}): (?P<text>.*)$")
_START_LOGGING = re.compile(r"^# Start logging at (\d{4}-\d{2}-\d{2})")
_TIMED_OUT = re.compile(r"^(?P<user>\w+) has been timed out for (?P<duration>[^.]+)")
_BANNED = re.compile(r"^(?P<user>\w+) has been (?:permanently )?banned")
_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def read(archive: Archive, options: ImportOptions) -> Iterator[Item]:
    """Wall-clock logs: times of day are on the log's date, in --tz."""
    yield from _read(archive, options, relative=False)


def read_twitchdownloader(archive: Archive, options: ImportOptions) -> Iterator[Item]:
    """TwitchDownloader's text export: `[h:mm:ss]` counts from the stream's start."""
    yield from _read(archive, options, relative=True)


def _read(archive: Archive, options: ImportOptions, relative: bool) -> Iterator[Item]:
    platform = options.platform or "twitch"
    channel = options.channel or _channel_in_name(archive.path.name)
    stem = archive.path.name
    timeline = Timeline(options.origin())
    day: date | None = options.day(date_in_name(archive.path))
    days: DayClock | None = None
    for number, line in archive.lines():
        if not line.strip():
            yield Skipped("blank line")
            continue
        if line.startswith("#"):
            started = _START_LOGGING.match(line)
            if started and options.start is None:
                day, days = date.fromisoformat(started[1]), None
            yield Skipped("comment line")
            continue
        stamped = _STAMPED.match(line)
        rest, ts = line, None
        if stamped:
            stamp, rest = stamped[1], stamped[2]
            seconds = clock_seconds(stamp)
            try:
                if seconds is None:
                    ts = parse_datetime(stamp, options.tz)
                elif relative:
                    ts = _origin(options, archive) + seconds
                else:
                    if days is None:
                        days = DayClock(_needed(day, archive), options.tz)
                    ts = days.at(seconds)
            except ImportFailed:
                raise
            except ValueError as exc:
                error = f"unreadable time [{stamp}]: {exc}"
                yield from timeline.untimed(malformed(platform, channel, number, error, line, 0.0))
                continue
        item = _item(rest, platform, channel, f"{stem}:{number}", number, line, ts is not None)
        if ts is None:
            yield from timeline.untimed(item)
        else:
            yield from timeline.timed(_at(item, ts), ts)
    yield from timeline.end()


def _item(
    rest: str, platform: str, channel: str, msg_id: str, number: int, line: str, stamped: bool
) -> Item:
    """A chat line; a stamped line without an author is the client's own (a notice); a line
    with neither is not a chat log line."""
    said = _SAID.match(rest)
    if said:
        login, text = said["login"], said["text"]
        kind = MessageKind.CHAT
        if text.startswith("/me "):
            text, kind = text[4:], MessageKind.ACTION
        return ChatMessage(
            platform=platform,
            channel=channel,
            id=msg_id,
            author_id=login.lower(),
            author_name=said["shown"] or login,
            text=text,
            sent_at=0.0,
            received_at=0.0,
            kind=kind,
            raw={"line": number, "login": login},
        )
    notice = _notice(rest, platform, channel, number) if stamped else None
    return notice or malformed(platform, channel, number, "no `name: text` in the line", line, 0.0)


def _notice(rest: str, platform: str, channel: str, number: int) -> PlatformEvent | None:
    """What clients write without an author: timeouts and bans become events (so the author's
    messages are marked deleted, as live), any other system line a notice."""
    if not rest.strip():
        return None
    if found := _TIMED_OUT.match(rest):
        duration = sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(found["duration"]))
        data = {"user": found["user"], "user_id": found["user"].lower(), "duration_s": duration}
        return PlatformEvent(platform, channel, "timeout", 0.0, data)
    if found := _BANNED.match(rest):
        data = {"user": found["user"], "user_id": found["user"].lower()}
        return PlatformEvent(platform, channel, "ban", 0.0, data)
    return PlatformEvent(platform, channel, "notice", 0.0, {"text": rest, "line": number})


def _at(item: Item, ts: float) -> Item:
    if isinstance(item, ChatMessage):
        return ChatMessage(
            item.platform,
            item.channel,
            item.id,
            item.author_id,
            item.author_name,
            item.text,
            ts,
            ts,
            kind=item.kind,
            raw=item.raw,
        )
    if isinstance(item, PlatformEvent):
        return PlatformEvent(item.platform, item.channel, item.kind, ts, item.data)
    return item


def _channel_in_name(name: str) -> str:
    """`lumina_racing-2024-07-20.log` → lumina_racing (Chatterino's daily files)."""
    stem = name.split(".", 1)[0]
    return re.sub(r"[-_ ]?\d{4}-\d{2}-\d{2}.*$", "", stem) or stem


def _needed(day: date | None, archive: Archive) -> date:
    if day is None:
        raise ImportFailed(
            f"{archive.path.name} has times of day but no date: give --date YYYY-MM-DD "
            "(or name the file CHANNEL-YYYY-MM-DD.log)"
        )
    return day


def _origin(options: ImportOptions, archive: Archive) -> float:
    origin = options.origin()
    if origin is None:
        raise ImportFailed(
            f"{archive.path.name} counts time from the stream's start: give the start with "
            "--date YYYY-MM-DD or --date YYYY-MM-DDTHH:MM"
        )
    return origin
