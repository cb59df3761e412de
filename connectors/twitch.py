"""Twitch chat read directly: IRC over WebSocket, anonymous or with a token, reconnecting."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidHandshake

from vigile.connectors.connection import LIVE, Backoff, ConnectionLoop, Fatal, Live, Moved, Retry
from vigile.connectors.model import ChatMessage, PlatformEvent, utc_now
from vigile.connectors.sources import StatusChange
from vigile.connectors.twitch_session import IrcSession, Received

TWITCH_IRC = "wss://irc-ws.chat.twitch.tv:443"


class AuthenticationFailed(RuntimeError):
    """Fatal: retrying with the same credentials cannot help."""


def classify(exc: Exception) -> Retry | Fatal | None:
    """A refused login is fatal; a lost, refused or silent connection is worth another try."""
    if isinstance(exc, AuthenticationFailed):
        return Fatal(exc)
    if isinstance(exc, OSError | TimeoutError | ConnectionClosed | InvalidHandshake):
        return Retry(f"{exc or type(exc).__name__}")
    return None


def _check_login(received: Received) -> None:
    if received.refused is not None:
        raise AuthenticationFailed(f"Twitch refused the login: {received.refused}")


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
        self.session = IrcSession(self.channels, self.login, token)
        self.loop = ConnectionLoop(
            platform="twitch",
            channel=",".join(self.channels),
            name=self.name,
            where=url,
            classify=classify,
            backoff=self.backoff,
            tell_who_asked=True,  # a RECONNECT asked for vs a connection lost
        )

    def stream(self) -> AsyncIterator[ChatMessage | PlatformEvent | StatusChange]:
        return self.loop.run(self._connection)

    async def _open(self) -> ClientConnection:
        ws = await connect(self.url, max_size=2**20, ping_interval=None, open_timeout=15)
        for line in self.session.opening():
            await ws.send(line)
        return ws

    async def _connection(self) -> AsyncIterator[ChatMessage | PlatformEvent | Live | Moved]:
        """One connection, and the ones Twitch asks us to move to, until the server closes
        normally (the source then ends); any other loss raises, and the loop reconnects."""
        ws = await self._open()
        try:
            yield LIVE
            while True:
                try:
                    received = await self._next(ws)
                    for reply in received.replies:
                        await ws.send(reply)
                except ConnectionClosedOK:
                    return  # the server closed cleanly and we were not asked to come back
                for item in received.items:
                    yield item
                _check_login(received)
                if received.reconnect:
                    # Make before break: join on a new connection, keep reading the old one for
                    # a moment (the loop drops duplicates by id), then switch.
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
                    yield Moved(asked_at)
        finally:
            await ws.close()

    async def _next(self, ws: ClientConnection) -> Received:
        try:
            frame = await asyncio.wait_for(ws.recv(), self.ping_after_s)
        except TimeoutError:
            # Silence: our own PING; no PONG in time means the connection is dead.
            await ws.send(self.session.ping())
            frame = await asyncio.wait_for(ws.recv(), self.pong_timeout_s)
        return self.session.receive(frame)

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
                    received = self.session.receive(frame)  # a RECONNECT here: already moving
                    for reply in received.replies:
                        await ws.send(reply)
                    for item in received.items:
                        yield item
                    _check_login(received)
                    reading[asyncio.ensure_future(ws.recv())] = ws
        finally:
            for task in reading:
                task.cancel()  # websockets: a cancelled recv() loses no frame
