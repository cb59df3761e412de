"""Twitch chat's IRC session, sans I/O: frames in; items, replies and what to do next out."""

from __future__ import annotations

from dataclasses import dataclass, field

from vigile.connectors.irc import MalformedLine, parse_line, split_frame
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.twitch_events import chat_message, notice_message, platform_event

CAPABILITIES = "twitch.tv/tags twitch.tv/commands twitch.tv/membership"
_AUTH_FAILURES = ("Login authentication failed", "Improperly formatted auth", "Invalid NICK")


@dataclass(slots=True)
class Received:
    """What one frame from Twitch means."""

    items: list[ChatMessage | PlatformEvent] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # lines to send back, CRLF included
    reconnect: bool = False  # Twitch asked us to move to a new connection
    refused: str | None = None  # Twitch refused the login, in its own words


class IrcSession:
    """The chat of some channels, for one login. The same session serves every connection of a
    source, so a channel's room state carries over a reconnect."""

    def __init__(self, channels: list[str], login: str, token: str | None = None) -> None:
        self.channels, self.login, self.token = channels, login, token
        self._roomstate: dict[str, dict[str, str]] = {}

    def opening(self) -> list[str]:
        """The lines that open a connection: capabilities, login, joins."""
        lines = [f"CAP REQ :{CAPABILITIES}"]
        if self.token:
            lines.append(f"PASS oauth:{self.token.removeprefix('oauth:')}")
        lines.append(f"NICK {self.login}")
        lines += [f"JOIN #{channel}" for channel in self.channels]
        return [line + "\r\n" for line in lines]

    def ping(self) -> str:
        """Our own PING, after a silence: no PONG in time means the connection is dead."""
        return "PING :vigile\r\n"

    def receive(self, frame: str | bytes) -> Received:
        text = frame.decode("utf-8", errors="replace") if isinstance(frame, bytes) else frame
        received = Received()
        for line in split_frame(text):
            self._line(line, received)
            if received.refused is not None:
                break  # nothing after a refusal counts: the connection is over
        return received

    def _line(self, line: str, received: Received) -> None:
        try:
            message = parse_line(line)
        except MalformedLine as exc:
            data = {"line": line[:2000], "error": str(exc)}
            received.items.append(
                PlatformEvent("twitch", ",".join(self.channels), "malformed", data=data)
            )
            return
        command = message.command
        if command == "PING":
            received.replies.append(f"PONG :{message.last_param}\r\n")
        elif command == "RECONNECT":
            received.reconnect = True
        elif command == "NOTICE" and any(f in message.text for f in _AUTH_FAILURES):
            received.refused = message.text
        elif command == "PRIVMSG":
            received.items.append(chat_message(message))
        elif command == "USERNOTICE":  # the stream event, and its sender's words and names
            if (notice := notice_message(message)) is not None:
                received.items.append(notice)
            if (event := platform_event(message)) is not None:
                received.items.append(event)
        elif command == "ROOMSTATE":  # partial updates: keep the whole state per channel
            channel = message.params[0].lstrip("#") if message.params else ""
            state = self._roomstate.setdefault(channel, {})
            state.update({k: v for k, v in message.tags.items() if k != "room-id"})
            received.items.append(PlatformEvent("twitch", channel, "roomstate", data=dict(state)))
        elif (event := platform_event(message)) is not None:
            received.items.append(event)
