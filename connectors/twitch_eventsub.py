"""Twitch's EventSub over WebSocket for one channel: what AutoMod holds, Shield Mode, suspicious
users, every moderator's actions and unban requests, as recorded PlatformEvents.

A source like the chat readers: the hub runs it, the shared ConnectionLoop reconnects it. On a
new session's welcome it subscribes through Helix (Twitch closes a session left without a
subscription for ten seconds); a silence longer than the keepalive Twitch announced means the
connection is dead. Twitch's `session_reconnect` is followed make-before-break: the old
connection is read until Twitch closes it while the new one is welcomed, and a notification
both deliver is kept once (by message_id). Revocations and malformed frames become events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from vigile.connectors.connection import (
    LIVE,
    Backoff,
    ConnectionLoop,
    Fatal,
    Live,
    Moved,
    Retry,
    SeenIds,
)
from vigile.connectors.eventsub_catalogue import (
    FEATURE_OF,
    FEATURES,
    OLDER,
    missing_scopes,
    needs,
)
from vigile.connectors.eventsub_events import PLATFORM, to_event
from vigile.connectors.eventsub_frames import (
    Frame,
    Keepalive,
    Malformed,
    Notification,
    Reconnect,
    Revocation,
    Welcome,
    read_frame,
)
from vigile.connectors.model import PlatformEvent, utc_now
from vigile.connectors.sources import StatusChange

TWITCH_EVENTSUB = "wss://eventsub.wss.twitch.tv/ws"
KEEPALIVE_GRACE_S = 5.0  # beyond Twitch's announced keepalive: a slow network is not a dead one
WELCOME_TIMEOUT_S = 10.0


class SessionLost(RuntimeError):
    """The EventSub connection went silent or did not follow the protocol: connect again."""


class Subscriber(Protocol):
    """The Helix side (connectors.twitch_tools.TwitchTools)."""

    @property
    def scopes(self) -> frozenset[str]: ...

    async def ready(self) -> str | None: ...

    async def condition(self, channel: str) -> dict[str, str]: ...

    async def subscribe(
        self, session_id: str, sub_type: str, version: str, condition: dict[str, str]
    ) -> str: ...


def classify(exc: Exception) -> Retry | Fatal | None:
    """A lost, silent or refused connection, or Helix out of reach while subscribing, is worth
    another try; a bad address is not."""
    lost = SessionLost | OSError | TimeoutError | ConnectionClosed | InvalidHandshake
    if isinstance(exc, lost | aiohttp.ClientError):
        return Retry(f"{exc or type(exc).__name__}")
    if isinstance(exc, InvalidURI):
        return Fatal(exc)
    return None


class EventSubSource:
    """Yields PlatformEvents for `channel` (see eventsub_events), `eventsub_unavailable` for a
    feature that cannot run (with what it needs), `eventsub_revoked`, `eventsub_malformed`,
    and the loop's `reconnect` events; StatusChange values for the hub."""

    def __init__(
        self,
        channel: str,
        subscriber: Subscriber,
        url: str = TWITCH_EVENTSUB,
        backoff: Backoff | None = None,
        handover_s: float = 30.0,
        keepalive_grace_s: float = KEEPALIVE_GRACE_S,
    ) -> None:
        self.channel = channel.lower().lstrip("#")
        self.name = f"twitch-eventsub:{self.channel}"
        self.subscriber, self.url = subscriber, url
        self.handover_s, self.keepalive_grace_s = handover_s, keepalive_grace_s
        self.seen = SeenIds()
        self.wanted: list[tuple[str, str]] = []  # (type, version) this token may subscribe to
        self.told_off = False  # the features out of reach were told once
        self.loop = ConnectionLoop(
            platform=PLATFORM,
            channel=self.channel,
            name=self.name,
            where=url,
            classify=classify,
            backoff=backoff or Backoff(),
            tell_who_asked=True,
        )

    def stream(self) -> AsyncIterator[PlatformEvent | StatusChange]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[PlatformEvent | StatusChange]:
        problem = await self.subscriber.ready()
        if problem is not None:
            yield self._event("eventsub_unavailable", feature="all", reason=problem)
            return
        for event in self._plan():
            yield event
        if not self.wanted:
            return
        async with contextlib.aclosing(self.loop.run(self._connection)) as items:
            async for item in items:
                yield item  # type: ignore[misc]

    def _plan(self) -> list[PlatformEvent]:
        """Which subscriptions this token may make; an event for each feature it may not."""
        told = []
        for feature in FEATURES:
            lacking = missing_scopes(self.subscriber.scopes, feature.scopes)
            if lacking:
                told.append(self._unavailable(feature.key, needs(lacking)))
            else:
                self.wanted.extend(feature.subscriptions)
        return told

    def _event(self, kind: str, **data: object) -> PlatformEvent:
        return PlatformEvent(PLATFORM, self.channel, kind, data=data)

    def _unavailable(self, feature: str, reason: str) -> PlatformEvent:
        name = next((f.name for f in FEATURES if f.key == feature), feature)
        return self._event("eventsub_unavailable", feature=feature, name=name, reason=reason)

    # -- one connection ------------------------------------------------------------------------

    async def _connection(self) -> AsyncIterator[PlatformEvent | Live | Moved]:
        ws = await connect(self.url, max_size=2**20, open_timeout=15)
        try:
            welcome = await self._welcome(ws)
            for event in await self._subscribe(welcome.session_id):
                yield event
            yield LIVE
            keepalive = welcome.keepalive_s
            while True:
                frame = await self._next(ws, keepalive)
                if isinstance(frame, Reconnect):
                    asked_at = utc_now()
                    moved: list[tuple[ClientConnection, float]] = []
                    async for event in self._handover(ws, frame.url, moved):
                        yield event
                    ws, keepalive = moved[0]
                    yield Moved(asked_at)
                    continue
                for event in self._items(frame):
                    yield event
        finally:
            await ws.close()

    async def _welcome(self, ws: ClientConnection) -> Welcome:
        frame = read_frame(await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT_S))
        if not isinstance(frame, Welcome):
            raise SessionLost(f"Twitch's first EventSub message was not a welcome: {frame}")
        return frame

    async def _next(self, ws: ClientConnection, keepalive_s: float) -> Frame:
        try:
            text = await asyncio.wait_for(ws.recv(), keepalive_s + self.keepalive_grace_s)
        except TimeoutError:
            raise SessionLost(
                f"no EventSub message for {keepalive_s + self.keepalive_grace_s:.0f} s "
                f"(keepalive {keepalive_s:.0f} s)"
            ) from None
        return read_frame(text)

    async def _subscribe(self, session_id: str) -> list[PlatformEvent]:
        """Every wanted subscription at once (ten seconds to make one); a refused one turns
        its feature off with Twitch's reason."""
        condition = await self.subscriber.condition(self.channel)
        wanted = list(self.wanted)
        results = await asyncio.gather(
            *(self._make(session_id, t, v, condition) for t, v in wanted),
            return_exceptions=True,
        )
        told, off = [], set()
        for (sub_type, version), result in zip(wanted, results, strict=True):
            if not isinstance(result, Exception):
                continue
            if not hasattr(result, "status"):
                raise result  # not an answer from Twitch: ours to see, not to hide
            status = result.status
            if status == 409:  # already there (a session carried over): nothing lost
                continue
            feature = FEATURE_OF[sub_type]
            self.wanted.remove((sub_type, version))
            if feature.key in off:
                continue
            off.add(feature.key)
            where = f"Twitch refused {sub_type} v{version} (HTTP {status}): {result}"
            lacking = missing_scopes(self.subscriber.scopes, feature.scopes)
            reason = needs(lacking) if status in (401, 403) and lacking else where
            told.append(self._unavailable(feature.key, reason))
        ready = sorted({FEATURE_OF[t].key for t, _ in self.wanted})
        told.append(self._event("eventsub_ready", features=ready))
        return told

    async def _make(
        self, session_id: str, sub_type: str, version: str, condition: dict[str, str]
    ) -> None:
        """One subscription, in the version before if Twitch does not offer this one."""
        try:
            await self.subscriber.subscribe(session_id, sub_type, version, condition)
        except Exception as exc:
            older = OLDER.get((sub_type, version))
            if older is None or getattr(exc, "status", None) != 400:
                raise
            await self.subscriber.subscribe(session_id, sub_type, older, condition)
            self.wanted[self.wanted.index((sub_type, version))] = (sub_type, older)

    def _items(self, frame: Frame) -> list[PlatformEvent]:
        match frame:
            case Notification():
                if self.seen.repeated(frame.message_id):
                    return []
                return [to_event(frame, self.channel)]
            case Revocation():
                if self.seen.repeated(frame.message_id):
                    return []
                feature = FEATURE_OF.get(frame.subscription_type)
                with contextlib.suppress(ValueError):
                    self.wanted.remove((frame.subscription_type, frame.version))
                return [
                    self._event(
                        "eventsub_revoked",
                        subscription=frame.subscription_type,
                        version=frame.version,
                        status=frame.status,
                        feature=feature.key if feature else "",
                        reason=f"Twitch ended {frame.subscription_type}: {frame.status}",
                    )
                ]
            case Malformed():
                return [self._event("eventsub_malformed", reason=frame.reason, frame=frame.excerpt)]
            case Keepalive() | Welcome() | Reconnect():
                return []  # a welcome mid-session or a second move: nothing to record
        return []

    async def _handover(
        self, old: ClientConnection, url: str, moved: list[tuple[ClientConnection, float]]
    ) -> AsyncIterator[PlatformEvent]:
        """Both connections at once: the old one until Twitch closes it (it does once the new
        one is welcomed) or `handover_s` passes, the new one from its welcome on, which carries
        the subscriptions over (no new subscription). `moved` gets the new connection."""
        new = await connect(url, max_size=2**20, open_timeout=15)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.handover_s
        reading = {asyncio.ensure_future(ws.recv()): ws for ws in (old, new)}
        keepalive: float | None = None
        try:
            while (left := deadline - loop.time()) > 0:
                if keepalive is not None and old not in reading.values():
                    break
                done, _ = await asyncio.wait(reading, timeout=left, return_when="FIRST_COMPLETED")
                for task in done:
                    ws = reading.pop(task)
                    try:
                        frame = read_frame(task.result())
                    except ConnectionClosed:
                        if ws is new:
                            raise SessionLost(
                                "the new EventSub connection closed in the move"
                            ) from None
                        continue  # the old one is done: what it said is in
                    if ws is new and keepalive is None:
                        if not isinstance(frame, Welcome):
                            raise SessionLost(f"no welcome on the new connection: {frame}")
                        keepalive = frame.keepalive_s
                    else:
                        for event in self._items(frame):
                            yield event
                    reading[asyncio.ensure_future(ws.recv())] = ws
            if keepalive is None:
                raise SessionLost("Twitch's new EventSub connection sent no welcome in time")
        except BaseException:
            await new.close()
            raise
        finally:
            for task in reading:
                task.cancel()  # websockets: a cancelled recv() loses no frame
        await old.close()
        moved.append((new, keepalive))
