"""Twitch chat read directly: IRC over WebSocket, anonymous or with a token, reconnecting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import AsyncIterator

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidHandshake

from vigile.connectors.irc import MalformedLine, parse_line, split_frame
from vigile.connectors.model import ChatMessage, PlatformEvent, utc_now
from vigile.connectors.sources import SourceState, StatusChange
from vigile.connectors.twitch_events import chat_message, platform_event

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


def _text(frame: str | bytes) -> str:
    return frame.decode("utf-8", errors="replace") if isinstance(frame, bytes) else frame


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
        handover_s: float = 2.0,
    ) -> None:
        self.channels = [c.lower().lstrip("#") for c in channels]
        self.name = "twitch:" + ",".join(self.channels)
        self.url = url
        self.login = login or f"justinfan{random.randint(10_000, 99_999)}"
        self.token = token
        self.ping_after_s, self.pong_timeout_s = ping_after_s, pong_timeout_s
        self.backoff = backoff or Backoff()
        self.handover_s = handover_s
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
                        yield self._reconnected(gap_started)
                        gap_started = None
                    yield StatusChange(SourceState.LIVE, "")
                    self.backoff.reset()
                    while True:
                        try:
                            async for item in self._read(ws):
                                yield item
                            return  # the server closed cleanly and we were not asked to come back
                        except _Reconnect:
                            # Make before break: join on a new connection, keep reading the old
                            # one for a moment (duplicates are dropped by id), then switch.
                            asked_at = utc_now()
                            successor = await self._open()
                            try:
                                async for item in self._handover(ws, successor):
                                    yield item
                            except BaseException:
                                await successor.close()
                                raise
                            await ws.close()
                            ws = successor
                            yield self._reconnected(asked_at, asked=True)
                finally:
                    await ws.close()
            except AuthenticationFailed as exc:
                yield StatusChange(SourceState.FAILED, str(exc))
                raise
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
                gap_started = gap_started or utc_now()
                delay = self.backoff.next()
                log.warning("%s: connection lost (%s), retrying in %.1f s", self.name, exc, delay)
                yield StatusChange(SourceState.RECONNECTING, f"{exc or type(exc).__name__}")
                await asyncio.sleep(delay)

    def _reconnected(self, since: float, asked: bool = False) -> PlatformEvent:
        data = {"gap_s": round(utc_now() - since, 3), "asked_by_server": asked}
        return PlatformEvent("twitch", ",".join(self.channels), "reconnect", data=data)

    async def _handover(
        self, old: ClientConnection, new: ClientConnection
    ) -> AsyncIterator[ChatMessage | PlatformEvent]:
        """Both connections at once, until the old one closes or `handover_s` passes: nothing
        said on either is lost or waits, and what both deliver is dropped the second time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.handover_s
        reading = {asyncio.ensure_future(ws.recv()): ws for ws in (old, new)}
        try:
            while old in reading.values() and (left := deadline - loop.time()) > 0:
                done, _ = await asyncio.wait(reading, timeout=left, return_when="FIRST_COMPLETED")
                for task in done:
                    ws = reading.pop(task)
                    try:
                        frame = task.result()
                    except ConnectionClosed:
                        # The old one gone ends the handover; the new one gone is left for
                        # the reader to tell a clean end from a loss, once the old one is read.
                        continue
                    for line in split_frame(_text(frame)):
                        with contextlib.suppress(_Reconnect):  # already moving
                            item = await self._handle(ws, line)
                            if item is not None:
                                yield item
                    reading[asyncio.ensure_future(ws.recv())] = ws
        finally:
            for task in reading:
                task.cancel()  # websockets: a cancelled recv() loses no frame

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
            for line in split_frame(_text(frame)):
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
