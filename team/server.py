"""The team hub: one supervisor and several moderators' desks on one event, over WebSocket.

The hub does not read chat. Each desk reads chat itself, and platform message keys
(`twitch:<id>`) name the same item on every desk. The hub holds what must be shared: the
rules (versions, supervisor-only, stale edits refused), claims (one holder per item,
released on timeout or disconnect), what was handled by whom, the roster and the alerts.
Its state lives in SQLite (team/state.py) and survives a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from vigile.filters.matcher import CompiledRules
from vigile.filters.rules import RulePack, RulePackError, check_unique_ids, parse_pack
from vigile.team.protocol import (
    CLAIM_TTL_S,
    MAX_FRAME,
    POLICY,
    FrameError,
    check_name,
    decode,
    encode,
)
from vigile.team.state import RECENT_HANDLED, HubState, RulesEntry

log = logging.getLogger("vigile.hub")

HELLO_TIMEOUT_S = 5.0
ROSTER_EVERY_S = 1.0
KEEP_HANDLED = 50_000  # handled items the hub remembers in memory (all are in its file)


@dataclass(slots=True)
class Member:
    name: str
    role: str
    connection: ServerConnection
    share: dict[str, list[str]]
    since: float
    queue: int = 0
    handled: int = 0
    response_p50_s: float | None = None

    def row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "share": self.share,
            "since": self.since,
            "queue": self.queue,
            "handled": self.handled,
            "response_p50_s": self.response_p50_s,
        }


@dataclass(slots=True)
class _Shared:
    """The hub's state in memory, mirrored to SQLite on every change."""

    rules: RulesEntry | None = None
    claims: dict[str, tuple[str, float]] = field(default_factory=dict)  # key → (holder, until)
    # key → (kind, by, ts), oldest first
    handled: OrderedDict[str, tuple[str, str, float]] = field(default_factory=OrderedDict)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)


def _share(raw: object) -> dict[str, list[str]]:
    """A desk's share of the queue: platforms and categories (empty: everything)."""
    if not isinstance(raw, dict):
        return {}
    return {
        k: [str(v)[:40] for v in raw.get(k, [])][:20]
        for k in ("platforms", "categories")
        if isinstance(raw.get(k), list)
    }


class TeamHub:
    """The hub's side of a team: admits desks by token, keeps the shared state and tells
    every desk what changed.

    `serving` listens (TLS if given) and runs the chores (claims past `claim_ttl_s` released,
    the roster sent); each connection is one `Member` whose frames (rules, claim, release,
    handled, status, alert) are checked against its role and answered or broadcast. What
    must survive a restart (rules versions, claims, handled items) is also kept in `state`
    (SQLite), and `load` takes it back from there.
    """

    def __init__(
        self,
        state: HubState,
        claim_ttl_s: float = CLAIM_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state, self.claim_ttl_s, self.clock = state, claim_ttl_s, clock
        self.members: dict[str, Member] = {}
        self.shared = _Shared()
        self._roster_dirty = False

    async def load(self) -> None:
        self.shared.rules = await self.state.current_rules()
        self.shared.claims = await self.state.claims()
        self.shared.handled = OrderedDict(await self.state.handled())

    @contextlib.asynccontextmanager
    async def serving(self, host: str, port: int, tls: ssl.SSLContext | None = None):  # noqa: ANN201
        """Listen until the block ends; yields the websockets Server (its port when 0)."""
        await self.load()
        server: Server = await serve(
            self._handle,
            host,
            port,
            ssl=tls,
            max_size=MAX_FRAME,
            ping_interval=10,
            ping_timeout=10,
            logger=log,
        )
        chores = asyncio.create_task(self._chores(), name="hub-chores")
        try:
            yield server
        finally:
            chores.cancel()
            server.close()
            await server.wait_closed()

    # -- one desk's connection ----------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        member = await self._admit(connection)
        if member is None:
            return
        try:
            async for raw in connection:
                try:
                    frame = decode(raw)
                    await self._on_frame(member, frame)
                except FrameError as exc:
                    log.warning("closed %s's connection: %s", member.name, exc)
                    await connection.close(POLICY, str(exc)[:120])
                    break
        except ConnectionClosed:
            pass
        finally:
            await self._leave(member)

    async def _admit(self, connection: ServerConnection) -> Member | None:
        """The first frame is a hello with a name and a valid token, or the door closes."""
        where = connection.remote_address[0] if connection.remote_address else "?"
        try:
            hello = decode(await asyncio.wait_for(connection.recv(), HELLO_TIMEOUT_S))
            if hello["type"] != "hello":
                raise FrameError("the first frame must be a hello")
            name = check_name(hello["name"])
            role = await self.state.role_of(hello["token"])
            if role is None:
                raise FrameError("unknown token")
            if (taken := self.members.get(name)) is not None and taken.role != role:
                raise FrameError(f"the name {name!r} is in use by a {taken.role}'s desk")
        except (FrameError, TimeoutError) as exc:
            reason = str(exc) if isinstance(exc, FrameError) else "no hello in time"
            log.warning("refused a desk from %s: %s", where, reason)  # never the token itself
            with contextlib.suppress(ConnectionClosed):
                await connection.close(POLICY, reason)
            return None
        except ConnectionClosed:
            return None
        if (old := self.members.get(name)) is not None:  # the same desk, reconnecting
            await old.connection.close(1000, "replaced by a newer connection of this desk")
        member = Member(name, role, connection, _share(hello.get("share")), self.clock())
        self.members[name] = member
        try:
            await connection.send(encode(self._welcome(member)))
        except ConnectionClosed:  # gone already (a frame too big right after its hello…)
            await self._leave(member)
            return None
        log.info("%s joined as %s from %s", name, role, where)
        self._broadcast(self._roster())
        return member

    def _welcome(self, member: Member) -> dict[str, Any]:
        s = self.shared
        now = self.clock()
        return {
            "type": "welcome",
            "you": member.name,
            "role": member.role,
            "rules": s.rules.frame() if s.rules else None,
            "claims": [
                {"key": k, "by": h, "until": u} for k, (h, u) in s.claims.items() if u > now
            ],
            "handled": [
                {"key": k, "kind": kind, "by": by, "ts": ts}
                for k, (kind, by, ts) in itertools.islice(
                    reversed(s.handled.items()), RECENT_HANDLED
                )
            ],
            "alerts": list(s.alerts.values()),
        }

    async def _leave(self, member: Member) -> None:
        if self.members.get(member.name) is not member:
            return  # replaced by its own newer connection: the claims stay with the name
        del self.members[member.name]
        held = [k for k, (holder, _) in self.shared.claims.items() if holder == member.name]
        await self._release(held, member.name, "disconnect")
        gone = [k for k, a in self.shared.alerts.items() if a["by"] == member.name]
        for key in gone:
            del self.shared.alerts[key]
        if gone:
            self._broadcast(self._alerts())
        log.info("%s left (%d claims released)", member.name, len(held))
        self._broadcast(self._roster())

    # -- frames -------------------------------------------------------------------------------

    async def _on_frame(self, member: Member, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "rules":
            await self._on_rules(member, frame)
        elif kind == "claim":
            await self._on_claim(member, frame["key"])
        elif kind == "release":
            if self.shared.claims.get(frame["key"], ("",))[0] == member.name:
                await self._release([frame["key"]], member.name, "released")
        elif kind == "handled":
            await self._on_handled(member, frame)
        elif kind == "status":
            member.queue, member.handled = frame["queue"], frame["handled"]
            member.response_p50_s = frame.get("response_p50_s")
            self._roster_dirty = True
        elif kind == "alert":
            self._on_alert(member, frame)
        else:
            raise FrameError(f"a desk does not send {kind} frames")

    async def _on_rules(self, member: Member, frame: dict[str, Any]) -> None:
        current = self.shared.rules
        at = current.version if current else 0
        if member.role != "supervisor":
            self._refuse(member, "rules", "only a supervisor can change the team's rules")
            return
        base = frame.get("base", -1)
        if base != at:
            who = f" by {current.author}" if current else ""
            self._refuse(
                member,
                "rules",
                f"stale edit: it was made on v{base}, the team is at "
                f"v{at}{who}; the current rules follow",
            )
            if current:
                await member.connection.send(encode(current.frame()))
            return
        try:
            packs = _checked_packs(frame["packs"])
        except (RulePackError, FrameError) as exc:
            self._refuse(member, "rules", f"invalid rules, the team keeps v{at}: {exc}")
            return
        entry = RulesEntry(at + 1, member.name, self.clock(), packs)
        self.shared.rules = entry  # before any await: a concurrent edit is now stale
        await self._save(self.state.add_rules(entry))
        log.info("rules v%d from %s", entry.version, member.name)
        self._broadcast(entry.frame())

    async def _on_claim(self, member: Member, key: str) -> None:
        now = self.clock()
        done = self.shared.handled.get(key)
        if done and done[0] != "escalate":
            self._refuse(member, "claim", f"already handled by {done[1]} ({done[0]})", key)
            return
        holder, until = self.shared.claims.get(key, ("", 0.0))
        if holder and holder != member.name and until > now:
            self._refuse(member, "claim", f"claimed by {holder}", key)
            return
        until = now + self.claim_ttl_s
        self.shared.claims[key] = (member.name, until)
        # told first, written after: a slow disk never delays a claim
        self._broadcast({"type": "claimed", "key": key, "by": member.name, "until": until})
        await self._save(self.state.set_claim(key, member.name, until))

    async def _on_handled(self, member: Member, frame: dict[str, Any]) -> None:
        key, kind, now = frame["key"], frame["kind"][:20], self.clock()
        handled = self.shared.handled
        handled[key] = (kind, member.name, now)
        handled.move_to_end(key)
        if len(handled) > KEEP_HANDLED:
            handled.popitem(last=False)
        self.shared.claims.pop(key, None)
        self._broadcast({"type": "handled", "key": key, "kind": kind, "by": member.name, "ts": now})
        await self._save(self.state.add_handled(key, kind, member.name, now))

    def _on_alert(self, member: Member, frame: dict[str, Any]) -> None:
        key = frame["key"]
        if frame["state"] == "cleared":
            if self.shared.alerts.pop(key, None) is None:
                return
        elif key not in self.shared.alerts:  # the first desk to see it reports it
            self.shared.alerts[key] = {
                "key": key,
                "summary": frame.get("summary", "")[:200],
                "by": member.name,
                "since": self.clock(),
            }
        else:
            return
        self._broadcast(self._alerts())

    async def _release(self, keys: list[str], holder: str, why: str) -> None:
        if not keys:
            return
        for key in keys:
            self.shared.claims.pop(key, None)
            self._broadcast({"type": "released", "key": key, "by": holder, "why": why})
        await self._save(self.state.drop_claims(keys))

    async def _save(self, write: Awaitable[None]) -> None:
        """The state is written through to SQLite; a locked or failing file is logged and the
        hub goes on from memory (desks are not cut off for it)."""
        try:
            await write
        except sqlite3.Error as exc:
            log.error("the hub's state was not saved (%s); serving from memory", exc)

    # -- sending ------------------------------------------------------------------------------

    def _broadcast(self, frame: dict[str, Any]) -> None:
        broadcast([m.connection for m in self.members.values()], encode(frame))

    def _refuse(self, member: Member, what: str, reason: str, key: str | None = None) -> None:
        frame = {"type": "refused", "what": what, "reason": reason}
        if key is not None:
            frame["key"] = key
        broadcast([member.connection], encode(frame))

    def _roster(self) -> dict[str, Any]:
        self._roster_dirty = False
        rows = sorted((m.row() for m in self.members.values()), key=lambda r: r["name"])
        return {"type": "roster", "members": rows}

    def _alerts(self) -> dict[str, Any]:
        return {"type": "alerts", "alerts": list(self.shared.alerts.values())}

    async def _chores(self) -> None:
        """Claims time out; the roster goes out at most once a second when it changed."""
        while True:
            await asyncio.sleep(min(ROSTER_EVERY_S, self.claim_ttl_s / 4))
            now = self.clock()
            expired = [(k, h) for k, (h, until) in self.shared.claims.items() if until <= now]
            for key, holder in expired:
                await self._release([key], holder, "timeout")
            if self._roster_dirty:
                self._broadcast(self._roster())


def _checked_packs(raw: list[Any]) -> list[dict[str, str]]:
    """The packs of a rules frame, validated as every desk will: parsed and compiled."""
    packs, parsed = [], []
    for item in raw:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("name", "origin", "text")
        ):
            raise FrameError("each pack is an object with name, origin and text")
        parsed.append(_compiled_pack(item["text"], item["origin"]))
        packs.append({k: item[k] for k in ("name", "origin", "text")})
    # Each pack compiles on its own (above, once per text: an edit compiles only its pack); ids
    # must also be unique across packs. What a desk's full compile would refuse is refused here.
    check_unique_ids(tuple(r for pack in parsed for r in pack.rules), "team rules")
    return packs


@lru_cache(maxsize=256)
def _compiled_pack(text: str, origin: str) -> RulePack:
    pack = parse_pack(text, origin)
    CompiledRules([pack])  # a pattern or regex that compiles nowhere is refused with its reason
    return pack
