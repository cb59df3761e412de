"""Twitch chat read directly: IRC over WebSocket, anonymous or with a token, reconnecting."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from collections.abc import AsyncIterator

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidHandshake

from connectors.hub import SourceState, StatusChange
from connectors.irc import MalformedLine, parse_line, split_frame
from connectors.model import ChatMessage, PlatformEvent, utc_now
from connectors.twitch_events import chat_message, platform_event

log = logging.getLogger(__name__)

TWITCH_IRC = "wss://irc-ws.chat.twitch.tv:443"
CAPABILITIES = "twitch.tv/tags twitch.tv/commands twitch.tv/membership"
_AUTH_FAILURES = ("Login authentication failed", "Improperly formatted auth", "Invalid NICK")
_SEEN_IDS = 5_000  # message ids remembered to drop duplicates across a RECONNECT


class AuthenticationFailed(RuntimeError):
    """Fatal: retrying with the same credentials cannot help."""


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


class _Reconnect(Exception):
    """Twitch asked us to move to a new connection."""


class TwitchSource:
    """One chat source for one or more channels. Yields ChatMessage and PlatformEvent values,
    and StatusChange values the hub shows as the source's state."""

    def __init__(
        self,
        channels: list[str],
        url: str = TWITCH_IRC,
        login: str | None = None,
        token: str | None = None,
        ping_after_s: float = 60.0,
        pong_timeout_s: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.channels = [c.lower().lstrip("#") for c in channels]
        self.name = "twitch:" + ",".join(self.channels)
        self.url = url
        self.login = login or f"justinfan{random.randint(10_000, 99_999)}"
        self.token = token
        self.ping_after_s, self.pong_timeout_s = ping_after_s, pong_timeout_s
        self.backoff = backoff or Backoff()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._roomstate: dict[str, dict[str, str]] = {}

    async def _open(self) -> ClientConnection:
        ws = await connect(self.url, max_size=2**20, ping_interval=None, open_timeout=15)
        lines = [f"CAP REQ :{CAPABILITIES}"]
        if self.token:
            lines.append(f"PASS oauth:{self.token.removeprefix('oauth:')}")
        lines.append(f"NICK {self.login}")
        lines += [f"JOIN #{channel}" for channel in self.channels]
        for line in lines:
            await ws.send(line + "\r\n")
        return ws

    async def stream(self) -> AsyncIterator[ChatMessage | PlatformEvent | StatusChange]:
        gap_started: float | None = None
        while True:
            yield StatusChange(
                SourceState.RECONNECTING if gap_started else SourceState.CONNECTING, self.url
            )
            try:
                ws = await self._open()
                try:
                    if gap_started is not None:
                        gap = round(utc_now() - gap_started, 3)
                        yield PlatformEvent("twitch", ",".join(self.channels), "reconnect",
                                            data={"gap_s": gap})  # fmt: skip
                        gap_started = None
                    yield StatusChange(SourceState.LIVE, "")
                    self.backoff.reset()
                    async for item in self._read(ws):
                        yield item
                    return  # the server closed cleanly and we were not asked to come back
                finally:
                    await ws.close()
            except _Reconnect:
                gap_started = utc_now()  # asked to move: come back at once
                continue
            except AuthenticationFailed as exc:
                yield StatusChange(SourceState.FAILED, str(exc))
                raise
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
                gap_started = gap_started or utc_now()
                delay = self.backoff.next()
                log.warning("%s: connection lost (%s), retrying in %.1f s", self.name, exc, delay)
                yield StatusChange(SourceState.RECONNECTING, f"{exc or type(exc).__name__}")
                await asyncio.sleep(delay)

    async def _read(self, ws: ClientConnection) -> AsyncIterator[ChatMessage | PlatformEvent]:
        """Items until the server closes the connection normally (the source then ends; any
        other loss raises, and the caller reconnects)."""
        try:
            async for item in self._frames(ws):
                yield item
        except ConnectionClosedOK:
            return

    async def _frames(self, ws: ClientConnection) -> AsyncIterator[ChatMessage | PlatformEvent]:
        while True:
            try:
                frame = await asyncio.wait_for(ws.recv(), self.ping_after_s)
            except TimeoutError:
                # Silence: our own PING; no PONG in time means the connection is dead.
                await ws.send("PING :vigile\r\n")
                frame = await asyncio.wait_for(ws.recv(), self.pong_timeout_s)
            if isinstance(frame, bytes):
                frame = frame.decode("utf-8", errors="replace")
            for line in split_frame(frame):
                item = await self._handle(ws, line)
                if item is not None:
                    yield item

    async def _handle(self, ws: ClientConnection, line: str) -> ChatMessage | PlatformEvent | None:
        try:
            message = parse_line(line)
        except MalformedLine as exc:
            return PlatformEvent("twitch", ",".join(self.channels), "malformed",
                                 data={"line": line[:2000], "error": str(exc)})  # fmt: skip
        command = message.command
        if command == "PING":
            await ws.send(f"PONG :{message.trailing}\r\n")
            return None
        if command == "RECONNECT":
            raise _Reconnect()
        if command == "NOTICE" and any(f in message.trailing for f in _AUTH_FAILURES):
            raise AuthenticationFailed(f"Twitch refused the login: {message.trailing}")
        if command == "PRIVMSG":
            chat = chat_message(message)
            if chat.id in self._seen:
                return None  # seen on the previous connection
            self._seen[chat.id] = None
            if len(self._seen) > _SEEN_IDS:
                self._seen.popitem(last=False)
            return chat
        if command == "ROOMSTATE":  # partial updates: keep the whole state per channel
            channel = message.params[0].lstrip("#") if message.params else ""
            state = self._roomstate.setdefault(channel, {})
            state.update({k: v for k, v in message.tags.items() if k != "room-id"})
            return PlatformEvent("twitch", channel, "roomstate", data=dict(state))
        return platform_event(message)
