"""A local WebSocket server that speaks Twitch's IRC, scripted per connection, for tests."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection

from tests.fakes.websocket_server import LocalWebSocketServer


@dataclass
class Abrupt:
    """Drop the TCP connection without a closing handshake."""


@dataclass
class Close:
    """Close the WebSocket cleanly (code 1000)."""


@dataclass
class Wait:
    """Send nothing for a while (until the connection closes, at the latest)."""

    seconds: float


@dataclass
class Expect:
    """Wait (10 s at most) until the client has sent a line starting with `prefix`."""

    prefix: str


Step = str | list[str] | Abrupt | Close | Wait | Expect  # a line, lines in one frame, or an act


def privmsg(channel: str, user: str, text: str, msg_id: str, **tags: str) -> str:
    base = {
        "badge-info": "",
        "badges": "",
        "color": "#FF0000",
        "display-name": user,
        "emotes": "",
        "first-msg": "0",
        "id": msg_id,
        "mod": "0",
        "room-id": "1",
        "subscriber": "0",
        "tmi-sent-ts": "1767225600000",
        "turbo": "0",
        "user-id": f"id-{user.lower()}",
        "user-type": "",
    }
    base.update({k.replace("_", "-"): v for k, v in tags.items()})
    raw = ";".join(f"{k}={v}" for k, v in base.items())
    login = user.lower()
    return f"@{raw} :{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #{channel} :{text}"


@dataclass
class FakeTwitch(LocalWebSocketServer):
    """Connection number i plays scripts[i]; a connection past the last script stays idle.

    Records what clients sent, so tests can check the login, the JOINs and the PONGs."""

    scripts: list[list[Step]]
    received: list[list[str]] = field(default_factory=list)
    refuse_login: bool = False

    @property
    def url(self) -> str:
        return self.address

    async def _handle(self, ws: ServerConnection) -> None:
        number = len(self.received)
        lines: list[str] = []
        self.received.append(lines)
        reader = asyncio.create_task(self._collect(ws, lines))
        try:
            await self._login(ws, lines)
            for step in self.scripts[number] if number < len(self.scripts) else []:
                if isinstance(step, Wait):  # silence, cut short if the connection goes
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ws.wait_closed(), step.seconds)
                elif isinstance(step, Expect):
                    for _ in range(1_000):
                        if any(line.startswith(step.prefix) for line in lines):
                            break
                        await asyncio.sleep(0.01)
                elif isinstance(step, Abrupt):
                    ws.transport.abort()
                    return
                elif isinstance(step, Close):
                    await ws.close(1000, "bye")
                    return
                else:
                    frame = step if isinstance(step, str) else "\r\n".join(step)
                    await ws.send(frame + "\r\n")
            await ws.wait_closed()
        finally:
            reader.cancel()

    async def _collect(self, ws: ServerConnection, lines: list[str]) -> None:
        async for frame in ws:
            lines.extend(line for line in str(frame).split("\r\n") if line)

    async def _login(self, ws: ServerConnection, lines: list[str]) -> None:
        for _ in range(200):  # wait for NICK and the JOINs
            if any(line.startswith("NICK ") for line in lines) and any(
                line.startswith("JOIN ") for line in lines
            ):
                break
            await asyncio.sleep(0.01)
        nick = next(line.split()[1] for line in lines if line.startswith("NICK "))
        await ws.send(
            ":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands twitch.tv/membership\r\n"
        )
        if self.refuse_login:
            await ws.send(":tmi.twitch.tv NOTICE * :Login authentication failed\r\n")
            return
        await ws.send(f":tmi.twitch.tv 001 {nick} :Welcome, GLHF!\r\n")
        for line in lines:
            if line.startswith("JOIN "):
                channel = line.split()[1]
                await ws.send(f":{nick}!{nick}@{nick}.tmi.twitch.tv JOIN {channel}\r\n")
