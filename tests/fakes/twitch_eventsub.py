"""A local WebSocket server that speaks Twitch's EventSub (session_welcome, session_keepalive,
notification, session_reconnect, revocation), scripted per connection, for tests.

Like Twitch: each connection opens with a welcome; a new session with no subscription within
`unused_after_s` is closed (4003 "connection unused"); keepalives are sent whenever nothing
else was for `keepalive_s`; a connection on a reconnect URL keeps its session (and its
subscriptions) and, once welcomed, the old connection is closed. Subscriptions are made on the
linked FakeHelix (`helix.eventsub = this`), which checks the session id against this server."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection

from tests.fakes.websocket_server import LocalWebSocketServer


@dataclass
class Notify:
    sub_type: str
    event: dict[str, Any]
    message_id: str = ""  # a fresh one if empty; the same one twice tests de-duplication
    version: str = "1"


@dataclass
class Revoke:
    sub_type: str
    status: str = "authorization_revoked"
    version: str = "1"


@dataclass
class MoveSession:
    """Send session_reconnect with a URL on this server; the client must connect there."""


@dataclass
class Raw:
    text: str


@dataclass
class Wait:
    seconds: float


@dataclass
class Silence:
    """No more keepalives on this connection, nothing at all: the client must give up."""


@dataclass
class AwaitSubscriptions:
    count: int


@dataclass
class Close:
    code: int = 4000
    reason: str = "internal server error"


Step = Notify | Revoke | MoveSession | Raw | Wait | Silence | AwaitSubscriptions | Close


@dataclass
class _Connection:
    ws: ServerConnection
    session_id: str
    number: int
    last_sent: float = field(default_factory=time.monotonic)
    keepalives: bool = True
    script_done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FakeEventSub(LocalWebSocketServer):
    scripts: list[list[Step]] = field(default_factory=list)
    keepalive_s: int = 10
    unused_after_s: float = 10.0
    subscriptions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by session
    sent: list[dict[str, Any]] = field(default_factory=list)  # every frame, for assertions
    connections: list[_Connection] = field(default_factory=list)
    _live: dict[str, _Connection] = field(default_factory=dict)  # session id → its connection
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def url(self) -> str:
        return self.address + "/ws"

    def live_session(self, session_id: str) -> bool:
        return session_id in self._live

    # -- what Helix's side calls --------------------------------------------------------------

    def subscribed(self, session_id: str, subscription: dict[str, Any]) -> None:
        self.subscriptions.setdefault(session_id, []).append(subscription)

    async def broadcast(self, sub_type: str, event: dict[str, Any]) -> None:
        """Twitch telling every session subscribed to `sub_type` (after a Helix act, say)."""
        for session_id, subs in list(self.subscriptions.items()):
            connection = self._live.get(session_id)
            for sub in subs:
                if sub["type"] == sub_type and connection is not None:
                    await self._send(connection, self._notification(sub, event, ""))

    # -- a connection -------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else ""
        moved_from = path.rsplit("/", 1)[-1] if "/reconnect/" in path else None
        session_id = moved_from or secrets.token_urlsafe(12)
        number = next(self._ids)
        connection = _Connection(ws, session_id, number)
        self.connections.append(connection)
        old = self._live.get(session_id)
        self._live[session_id] = connection
        beat = asyncio.create_task(self._keepalives(connection))
        try:
            await self._send(
                connection,
                _message(
                    "session_welcome",
                    {
                        "session": {
                            "id": session_id,
                            "status": "connected",
                            "connected_at": _now(),
                            "keepalive_timeout_seconds": self.keepalive_s,
                            "reconnect_url": None,
                            "recovery_url": None,
                        }
                    },
                ),
            )
            if old is not None:  # Twitch closes the old connection once the new one is in
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(old.script_done.wait(), 10)
                await old.ws.close(1000, "moved")
            else:
                asyncio.create_task(self._close_if_unused(connection))
            for step in self.scripts[number] if number < len(self.scripts) else []:
                if not await self._play(connection, step):
                    return
            connection.script_done.set()
            await ws.wait_closed()
        finally:
            connection.script_done.set()
            beat.cancel()
            if self._live.get(session_id) is connection:
                del self._live[session_id]

    async def _play(self, connection: _Connection, step: Step) -> bool:
        ws = connection.ws
        match step:
            case Notify():
                sub = self._subscription(connection.session_id, step.sub_type, step.version)
                await self._send(connection, self._notification(sub, step.event, step.message_id))
            case Revoke():
                sub = self._subscription(connection.session_id, step.sub_type, step.version)
                sub["status"] = step.status
                metadata = {
                    "subscription_type": step.sub_type,
                    "subscription_version": sub["version"],
                }
                await self._send(
                    connection, _message("revocation", {"subscription": sub}, **metadata)
                )
                subs = self.subscriptions.get(connection.session_id, [])
                self.subscriptions[connection.session_id] = [s for s in subs if s is not sub]
            case MoveSession():
                url = self.url.removesuffix("/ws") + f"/reconnect/{connection.session_id}"
                session = {
                    "id": connection.session_id,
                    "status": "reconnecting",
                    "keepalive_timeout_seconds": None,
                    "reconnect_url": url,
                    "connected_at": _now(),
                }
                await self._send(connection, _message("session_reconnect", {"session": session}))
            case Raw():
                await ws.send(step.text)
                connection.last_sent = time.monotonic()
            case Wait():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ws.wait_closed(), step.seconds)
            case Silence():
                connection.keepalives = False
            case AwaitSubscriptions():
                for _ in range(1_000):
                    if len(self.subscriptions.get(connection.session_id, [])) >= step.count:
                        break
                    await asyncio.sleep(0.01)
            case Close():
                await ws.close(step.code, step.reason)
                return False
        return True

    def _subscription(self, session_id: str, sub_type: str, version: str) -> dict[str, Any]:
        for sub in self.subscriptions.get(session_id, []):
            if sub["type"] == sub_type:
                return sub
        raise AssertionError(f"the script sends {sub_type}, which the client did not subscribe to")

    def _notification(self, sub: dict[str, Any], event: dict[str, Any], message_id: str) -> str:
        metadata = {"subscription_type": sub["type"], "subscription_version": sub["version"]}
        payload = {"subscription": sub, "event": event}
        return _message("notification", payload, message_id=message_id, **metadata)

    async def _send(self, connection: _Connection, text: str) -> None:
        self.sent.append(json.loads(text))
        with contextlib.suppress(Exception):  # a closed connection: the client left
            await connection.ws.send(text)
        connection.last_sent = time.monotonic()

    async def _keepalives(self, connection: _Connection) -> None:
        while True:
            await asyncio.sleep(0.1)
            idle = time.monotonic() - connection.last_sent
            if connection.keepalives and idle >= self.keepalive_s:
                await self._send(connection, _message("session_keepalive", {}))

    async def _close_if_unused(self, connection: _Connection) -> None:
        await asyncio.sleep(self.unused_after_s)
        if not self.subscriptions.get(connection.session_id):
            await connection.ws.close(4003, "connection unused")


def _message(kind: str, payload: dict[str, Any], message_id: str = "", **metadata: str) -> str:
    head = {
        "message_id": message_id or secrets.token_hex(8),
        "message_type": kind,
        "message_timestamp": _now(),
        **metadata,
    }
    return json.dumps({"metadata": head, "payload": payload})


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())


# -- Twitch's event payloads, as the EventSub reference lays them out ---------------------------

BROADCASTER = {
    "broadcaster_user_id": "1",
    "broadcaster_user_login": "lumina",
    "broadcaster_user_name": "Lumina",
}


def _user(user_id: str, login: str) -> dict[str, str]:
    return {"user_id": user_id, "user_login": login, "user_name": login.title()}


def _moderator(user_id: str, login: str) -> dict[str, str]:
    return {
        "moderator_user_id": user_id,
        "moderator_user_login": login,
        "moderator_user_name": login.title(),
    }


def automod_hold(
    message_id: str,
    text: str,
    user: tuple[str, str] = ("666", "troll"),
    category: str = "aggression",
    level: int = 3,
    blocked: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """automod.message.hold v2: held by AutoMod's category, or by a blocked term (its span)."""
    found = None
    if blocked is not None:
        found = {
            "terms_found": [
                {
                    "term_id": "t-1",
                    "boundary": {"start_pos": blocked[0], "end_pos": blocked[1]},
                    "owner_broadcaster_user_id": "1",
                    "owner_broadcaster_user_login": "lumina",
                    "owner_broadcaster_user_name": "Lumina",
                }
            ]
        }
    return {
        **BROADCASTER,
        **_user(*user),
        "message_id": message_id,
        "message": {"text": text, "fragments": [{"type": "text", "text": text}]},
        "reason": "blocked_term" if blocked else "automod",
        "automod": None
        if blocked
        else {"category": category, "level": level, "boundaries": [{"start_pos": 0, "end_pos": 3}]},
        "blocked_term": found,
        "held_at": _now(),
    }


def moderate(
    action: str,
    moderator: tuple[str, str] = ("3", "othermod"),
    target: tuple[str, str] | None = ("666", "troll"),
    **extra: Any,
) -> dict[str, Any]:
    """channel.moderate v2: `action`'s own object holds the target and the details."""
    event: dict[str, Any] = {
        **BROADCASTER,
        "source_broadcaster_user_id": None,
        "source_broadcaster_user_login": None,
        "source_broadcaster_user_name": None,
        **_moderator(*moderator),
        "action": action,
    }
    for name in (
        "followers slow vip unvip mod unmod ban unban timeout untimeout raid unraid delete "
        "automod_terms unban_request warn"
    ).split():
        event[name] = None
    if target is not None:
        event[action] = {**_user(*target), **extra}
    elif extra:
        event[action] = extra
    return event


def suspicious_message(
    message_id: str,
    text: str,
    user: tuple[str, str] = ("777", "evader"),
    status: str = "restricted",
) -> dict[str, Any]:
    return {
        **BROADCASTER,
        **_user(*user),
        "low_trust_status": status,
        "shared_ban_channel_ids": ["100", "101"],
        "types": ["ban_evader_detector"],
        "ban_evasion_evaluation": "likely",
        "message": {
            "message_id": message_id,
            "text": text,
            "fragments": [{"type": "text", "text": text}],
        },
    }


def suspicious_update(
    status: str,
    user: tuple[str, str] = ("777", "evader"),
    moderator: tuple[str, str] = ("3", "othermod"),
) -> dict[str, Any]:
    return {**BROADCASTER, **_moderator(*moderator), **_user(*user), "low_trust_status": status}


def unban_request(
    request_id: str, text: str, user: tuple[str, str] = ("666", "troll")
) -> dict[str, Any]:
    return {**BROADCASTER, "id": request_id, **_user(*user), "text": text, "created_at": _now()}


def shield(active: bool, moderator: tuple[str, str] = ("3", "othermod")) -> dict[str, Any]:
    at = "started_at" if active else "ended_at"
    return {**BROADCASTER, **_moderator(*moderator), at: _now()}
