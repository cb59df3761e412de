"""Raw Twitch IRC logs, one IRC line per line, as public chat-log services serve them (`?raw`):
read through the live reader's own parser (connectors/irc.py, twitch_events.py, and its session,
twitch_session.py), so bans, timeouts, deletions, subs and raids come back as the same events a
live desk records."""

from __future__ import annotations

from collections.abc import Iterator

from vigile.connectors.irc import MalformedLine, parse_line
from vigile.connectors.model import ChatMessage
from vigile.connectors.twitch_events import chat_message
from vigile.connectors.twitch_session import IrcSession
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.items import (
    ImportOptions,
    Item,
    Skipped,
    Timeline,
    as_received,
    malformed,
    numbered,
)

_SENT = "tmi-sent-ts="
_PRIVMSG = " PRIVMSG #"
_FROM_TWITCH = ("@", ":", "PING", "PONG")


def read(archive: Archive, options: ImportOptions) -> Iterator[Item]:
    channel = options.channel or ""
    session = IrcSession([channel], "justinfan0")
    timeline = Timeline(options.origin())
    for number, line in archive.lines():
        if not line.strip():
            yield Skipped("blank line")
            continue
        if _PRIVMSG in line and _SENT in line and timeline.running:
            # most lines: chat, timed, nothing waiting; the session's own two steps, direct
            try:
                message = parse_line(line)
            except MalformedLine:
                message = None
            if message is not None and message.command == "PRIVMSG":
                chat = chat_message(message, archived=True)
                if not channel or chat.channel == channel:
                    timeline.now = chat.sent_at
                    yield chat
                    continue
        items = session.receive(line).items
        if not items and line.startswith(_FROM_TWITCH):
            yield Skipped("IRC protocol line (no chat in it)")
            continue
        if not items:  # parses as IRC, but Twitch never sends a line without a source
            error = "not a Twitch IRC line (no tags, no source)"
            yield from timeline.untimed(malformed("twitch", channel, number, error, line, 0.0))
            continue
        timed = _SENT in line  # else the parser stamped it with the time of this import
        for item in items:
            if channel and item.channel != channel and item.kind != "malformed":
                yield Skipped(f"another channel than #{channel}")
            elif isinstance(item, ChatMessage):
                if timed and timeline.running:  # the common case, kept short
                    timeline.now = item.sent_at
                    yield as_received(item)
                elif timed:
                    yield from timeline.timed(as_received(item), item.sent_at)
                else:
                    yield from timeline.untimed(item)
            elif item.kind == "malformed":
                yield from timeline.untimed(numbered(item, number, 0.0))
            elif timed:
                yield from timeline.timed(item, item.ts)
            else:
                yield from timeline.untimed(item)
    yield from timeline.end()
