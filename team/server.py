"""The team hub: one supervisor and several moderators' desks on one event, over WebSocket.

The hub does not read chat. Each desk reads chat itself, and platform message keys
(`twitch:<id>`) name the same item on every desk. The hub holds what must be shared: the
rules (versions, supervisor-only, stale edits refused), claims (one holder per item,
released on timeout or disconnect), what was handled by whom, the roster and the alerts.
Its state lives in SQLite (team/state.py) and survives a restart.

No desk can lock out the others: each desk joins with its own token, every frame is checked
against its sender's role and rights, what a desk may hold or send is bounded (HubLimits), each
desk has its own outbound queue (a desk that does not read is dropped, the others never wait
for it), and every frame the hub sends fits under the frame limit whatever it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
import ssl
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from vigile.filters.matcher import CompiledRules
from vigile.filters.rules import RulePack, RulePackError, check_unique_ids, parse_pack
from vigile.team.limits import BucketsByKey, HubLimits, TokenBucket
from vigile.team.outbox import Outbox
from vigile.team.protocol import (
    CLAIM_TTL_S,
    MAX_FRAME,
    MAX_RULES_BYTES,
    MAX_SUMMARY,
    PAGE_BYTES,
    POLICY,
    REVOKED,
    TRY_LATER,
    UNKNOWN_DESK,
    FrameError,
    check_name,
    decode,
    rules_size,
    to_wire,
)
from vigile.team.state import HubState, RulesEntry, digest

log = logging.getLogger("vigile.hub")

HELLO_TIMEOUT_S = 5.0
TICK_S = 0.25  # the roster and alerts go out at most this often, coalesced
CREDENTIALS_EVERY_S = 2.0  # how soon a desk revoked from the command line is cut off
CLOSE_TIMEOUT_S = 2.0  # a dropped desk that does not answer the close is cut


@dataclass(slots=True)
class Member:
    name: str
    role: str
    digest: str
    connection: ServerConnection
    outbox: Outbox
    share: dict[str, list[str]]
    since: float
    frames: TokenBucket
    unclaimed: TokenBucket
    rule_changes: TokenBucket
    queue: int = 0
    handled: int = 0
    response_p50_s: float | None = None
    gone: bool = False
    closing: asyncio.Task[None] | None = None  # its drop: the handler waits for the close

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
    """The hub's state in memory; the file has it too, written before the desks are told."""

    rules: RulesEntry | None = None
    claims: dict[str, tuple[str, float]] = field(default_factory=dict)  # key → (holder, until)
    held: Counter[str] = field(default_factory=Counter)  # holder → live claims
    # key → (kind, by, ts), oldest first
    handled: OrderedDict[str, tuple[str, str, float]] = field(default_factory=OrderedDict)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)


def _share(raw: object) -> dict[str, list[str]]:
    """A desk's share of the queue: platforms and categories (empty: everything)."""
    if not isinstance(raw, dict):
        return {}
    return {
        k: [str(v)[:40] for v in raw.get(k, [])[:20] if isinstance(v, str)]
        for k in ("platforms", "categories")
        if isinstance(raw.get(k), list)
    }


class TeamHub:
    """The hub's side of a team: admits desks by their own token, keeps the shared state and
    tells every desk what changed.

    `serving` listens (TLS if given) and runs the chores (claims past `claim_ttl_s` released,
    the roster and alerts sent, revoked desks cut off); each connection is one `Member` whose
    frames (rules, claim, release, handled, status, alert) are checked against its role and
    rights and answered or broadcast once the change is in `state` (SQLite).
    """

    def __init__(
        self,
        state: HubState,
        claim_ttl_s: float = CLAIM_TTL_S,
        clock: Callable[[], float] = time.time,
        limits: HubLimits | None = None,
    ) -> None:
        self.state, self.claim_ttl_s, self.clock = state, claim_ttl_s, clock
        self.limits = limits or HubLimits()
        self.members: dict[str, Member] = {}
        self.shared = _Shared()
        self.dropped: list[tuple[str, str]] = []  # (desk, why), the latest few
        self._dirty: set[str] = set()  # "roster", "alerts": due at the next tick
        self._pending_hellos = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._floor = 0  # the version of rules in the file too big to share (an older hub's)
        self._failed_hellos = BucketsByKey(
            self.limits.failed_hellos_per_s, self.limits.failed_hellos_burst
        )
        self._joins = BucketsByKey(self.limits.joins_per_s, self.limits.joins_burst)

    async def load(self) -> None:
        rules = await self.state.current_rules()
        if rules is not None and rules_size(rules.packs) > MAX_RULES_BYTES:
            log.error(
                "rules v%d in the file are over %d KiB: not shared until a supervisor "
                "publishes smaller ones",
                rules.version,
                MAX_RULES_BYTES >> 10,
            )
            self._floor, rules = rules.version, None
        self.shared.rules = rules
        for key, (holder, until) in (await self.state.claims()).items():
            self._hold(key, holder, until)
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
            max_queue=4,  # frames read ahead of a desk the hub is slowing down
            ping_interval=10,
            ping_timeout=10,
            close_timeout=CLOSE_TIMEOUT_S,
            logger=log,
        )
        chores = asyncio.create_task(self._chores(), name="hub-chores")
        try:
            yield server
        finally:
            chores.cancel()
            server.close()
            await server.wait_closed()
            await asyncio.gather(chores, *self._tasks, return_exceptions=True)

    # -- one desk's connection ----------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        try:
            await self._serve_desk(connection)
        except Exception as exc:  # noqa: BLE001 - one line in the log, never a trace
            log.error("a desk's connection failed: %s", _short(exc))
            await _close(connection, 1011, "the hub failed on this connection")

    async def _serve_desk(self, connection: ServerConnection) -> None:
        if self._pending_hellos >= self.limits.pending_hellos:
            await _close(connection, TRY_LATER, "the hub is busy: try again")
            return
        self._pending_hellos += 1
        try:
            member = await self._admit(connection)
        finally:
            self._pending_hellos -= 1
        if member is None:
            return
        try:
            async for raw in connection:
                if wait := member.frames.delay():
                    await asyncio.sleep(wait)  # over its rate: this desk is read slower
                if member.gone:
                    break
                try:
                    await self._on_frame(member, decode(raw))
                except FrameError as exc:
                    self._drop(member, str(exc), POLICY)
                    break
                except Exception as exc:  # noqa: BLE001 - one line in the log, never a trace
                    log.error("%s's frame could not be handled: %s", member.name, _short(exc))
                    self._drop(member, "the hub could not handle this frame", 1011)
                    break
        except ConnectionClosed:
            pass
        finally:
            await self._leave(member)
            if member.closing is not None:  # else returning would close it without the reason
                await asyncio.gather(member.closing, return_exceptions=True)

    async def _admit(self, connection: ServerConnection) -> Member | None:
        """The first frame is a hello with a desk's name and that desk's own token."""
        where = connection.remote_address[0] if connection.remote_address else "?"
        failures = self._failed_hellos[where]
        try:
            hello = decode(await asyncio.wait_for(connection.recv(), HELLO_TIMEOUT_S))
            if hello["type"] != "hello":
                raise FrameError("the first frame must be a hello")
            if not failures.available():
                # too many failures from here: not even checked, so not guessable faster
                await _close(
                    connection,
                    TRY_LATER,
                    f"too many failed hellos from this address: try again in "
                    f"{failures.wait():.0f} s",
                )
                return None
            name = check_name(hello["name"])
            role = await self.state.role_of(name, hello["token"])
            if role is None:
                failures.allow()
                raise FrameError(UNKNOWN_DESK)
            if not self._joins[name].allow():
                await _close(connection, TRY_LATER, "this desk joins too often: try again")
                return None
            if name not in self.members and len(self.members) >= self.limits.desks:
                await _close(connection, TRY_LATER, f"the hub holds {self.limits.desks} desks")
                return None
        except (FrameError, TimeoutError) as exc:
            reason = str(exc) if isinstance(exc, FrameError) else "no hello in time"
            log.warning("refused a desk from %s: %s", where, reason)  # never the token itself
            await _close(connection, POLICY, reason)
            return None
        except ConnectionClosed:
            return None
        if (old := self.members.get(name)) is not None:  # the same desk, reconnecting
            self._drop(old, "replaced by a newer connection of this desk", 1000)
        member = self._member(name, role, connection, hello)
        for frame in self._greeting(member):  # queued before any broadcast can reach it
            member.outbox.put(frame)
        self.members[name] = member
        log.info("%s joined as %s from %s", name, role, where)
        self._dirty.add("roster")
        return member

    def _member(
        self, name: str, role: str, connection: ServerConnection, hello: dict[str, Any]
    ) -> Member:
        lim = self.limits
        return Member(
            name=name,
            role=role,
            digest=digest(hello["token"]),  # what it proved: a revocation changes it
            connection=connection,
            outbox=Outbox(connection, lim.outbox_bytes),
            share=_share(hello.get("share")),
            since=self.clock(),
            frames=TokenBucket(lim.frames_per_s, lim.frames_burst),
            unclaimed=TokenBucket(lim.unclaimed_per_s, lim.unclaimed_burst),
            rule_changes=TokenBucket(lim.rules_per_s, lim.rules_burst),
        )

    def _greeting(self, member: Member) -> Iterator[bytes]:
        """The welcome (rules and alerts, bounded by their own limits), then the claims and
        the newest handled items in pages: each frame under the limit however much is held."""
        s = self.shared
        yield to_wire(
            {
                "type": "welcome",
                "you": member.name,
                "role": member.role,
                "rules": s.rules.frame() if s.rules else None,
                "alerts": list(s.alerts.values()),
            }
        )
        now = self.clock()
        claims = ({"key": k, "by": h, "until": u} for k, (h, u) in s.claims.items() if u > now)
        recent = itertools.islice(reversed(s.handled.items()), self.limits.recent_handled)
        handled = ({"key": k, "kind": kind, "by": by, "ts": ts} for k, (kind, by, ts) in recent)
        yield from _pages("claims", claims)
        yield from _pages("handled", handled)

    async def _leave(self, member: Member) -> None:
        member.gone = True  # nothing more is read from it or queued for it
        await member.outbox.close()
        if self.members.get(member.name) is not member:
            return  # replaced by its own newer connection: the claims stay with the name
        del self.members[member.name]
        held = [k for k, (holder, _) in self.shared.claims.items() if holder == member.name]
        await self._release(held, member.name, "disconnect")
        gone = [k for k, a in self.shared.alerts.items() if a["by"] == member.name]
        for key in gone:
            del self.shared.alerts[key]
        if gone:
            self._dirty.add("alerts")
        log.info("%s left (%d claims released)", member.name, len(held))
        self._dirty.add("roster")

    def _drop(self, member: Member, why: str, code: int = POLICY) -> None:
        """Close a desk's connection with its reason (in the log too); it leaves at once."""
        if member.gone:
            return
        member.gone = True
        if code != 1000:
            log.warning("dropped %s: %s", member.name, why)
            self.dropped = [*self.dropped[-19:], (member.name, why)]
        task = member.closing = asyncio.create_task(self._dropped(member, why, code))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dropped(self, member: Member, why: str, code: int) -> None:
        await self._leave(member)
        await _close(member.connection, code, why)  # bounded by CLOSE_TIMEOUT_S

    # -- frames -------------------------------------------------------------------------------

    async def _on_frame(self, member: Member, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "rules":
            await self._on_rules(member, frame)
        elif kind == "claim":
            await self._on_claim(member, frame["key"])
        elif kind == "release":
            await self._on_release(member, frame["key"])
        elif kind == "handled":
            await self._on_handled(member, frame)
        elif kind == "status":
            member.queue, member.handled = frame["queue"], frame["handled"]
            member.response_p50_s = frame.get("response_p50_s")
            self._dirty.add("roster")
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
        if not member.rule_changes.allow():
            self._refuse(member, "rules", "rule changes come too fast: wait a moment")
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
                self._send(member, to_wire(current.frame()))
            return
        try:
            packs = _checked_packs(frame["packs"])
        except (RulePackError, FrameError) as exc:
            self._refuse(member, "rules", f"invalid rules, the team keeps v{at}: {exc}")
            return
        except RecursionError:
            self._refuse(member, "rules", f"invalid rules, the team keeps v{at}: nested too deeply")
            return
        entry = RulesEntry(max(at, self._floor) + 1, member.name, self.clock(), packs)
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
        if holder != member.name and self.shared.held[member.name] >= self.limits.claims_per_desk:
            self._refuse(
                member,
                "claim",
                f"this desk holds {self.limits.claims_per_desk} claims: act on or release "
                "some first",
                key,
            )
            return
        until = now + self.claim_ttl_s
        self._hold(key, member.name, until)
        await self._save(self.state.set_claim(key, member.name, until))  # then told
        self._broadcast({"type": "claimed", "key": key, "by": member.name, "until": until})

    async def _on_release(self, member: Member, key: str) -> None:
        holder = self.shared.claims.get(key, ("",))[0]
        if not holder:
            return  # released already (a timeout crossed it): nothing to say
        if holder != member.name and member.role != "supervisor":
            self._refuse(member, "release", f"claimed by {holder}: only they or a supervisor", key)
            return
        await self._release([key], holder, "released" if holder == member.name else member.name)

    async def _on_handled(self, member: Member, frame: dict[str, Any]) -> None:
        key, kind, now = frame["key"], frame["kind"], self.clock()
        done = self.shared.handled.get(key)
        if done and done[0] != "escalate":  # the first action stands: told and stored alike
            self._refuse(member, "handled", f"already handled by {done[1]} ({done[0]})", key)
            return
        holder, until = self.shared.claims.get(key, ("", 0.0))
        if holder and holder != member.name and until > now and member.role != "supervisor":
            self._refuse(member, "handled", f"claimed by {holder}", key)
            return
        if holder != member.name and not member.unclaimed.allow():
            self._refuse(
                member, "handled", "too many items marked handled without a claim: claim first", key
            )
            return
        handled = self.shared.handled
        handled[key] = (kind, member.name, now)
        handled.move_to_end(key)
        while len(handled) > self.limits.keep_handled:
            handled.popitem(last=False)
        self._unhold(key)
        await self._save(self.state.add_handled(key, kind, member.name, now))
        self._broadcast({"type": "handled", "key": key, "kind": kind, "by": member.name, "ts": now})

    def _on_alert(self, member: Member, frame: dict[str, Any]) -> None:
        key, alerts = frame["key"], self.shared.alerts
        if frame["state"] == "cleared":
            up = alerts.get(key)
            if up is None or (up["by"] != member.name and member.role != "supervisor"):
                return  # another desk still sees it: the one that reported it clears it
            del alerts[key]
        elif key in alerts:
            return  # the first desk to see it reports it
        elif len(alerts) >= self.limits.alerts or (
            sum(a["by"] == member.name for a in alerts.values()) >= self.limits.alerts_per_desk
        ):
            self._refuse(member, "alert", "too many alerts up: clear some first", key)
            return
        else:
            alerts[key] = {
                "key": key,
                "summary": frame.get("summary", "")[:MAX_SUMMARY],
                "by": member.name,
                "since": self.clock(),
            }
        self._dirty.add("alerts")  # coalesced: one alerts frame a tick, whatever came in

    async def _release(self, keys: list[str], holder: str, why: str) -> None:
        if not keys:
            return
        for key in keys:
            self._unhold(key)
        await self._save(self.state.drop_claims(keys))
        for key in keys:
            self._broadcast({"type": "released", "key": key, "by": holder, "why": why})

    def _hold(self, key: str, holder: str, until: float) -> None:
        self._unhold(key)
        self.shared.claims[key] = (holder, until)
        self.shared.held[holder] += 1

    def _unhold(self, key: str) -> None:
        if (claim := self.shared.claims.pop(key, None)) is not None:
            self.shared.held[claim[0]] -= 1
            if self.shared.held[claim[0]] <= 0:
                del self.shared.held[claim[0]]

    async def _save(self, write: Awaitable[None]) -> None:
        """Desks are told once the change is in the file. A locked or failing file is logged
        and the hub goes on from memory (desks are not cut off for it); the change is
        written with the next commit that succeeds."""
        try:
            await write
        except sqlite3.Error as exc:
            log.error("the hub's state was not saved (%s); serving from memory", exc)

    # -- sending ------------------------------------------------------------------------------

    def _send(self, member: Member, data: bytes, latest: str | None = None) -> None:
        if member.gone:
            return
        if not member.outbox.put(data, latest):
            why = (
                f"too slow: {member.outbox.waiting >> 10:,} KiB waiting to be sent "
                f"(the most is {self.limits.outbox_bytes >> 10:,} KiB)"
            )
            self._drop(member, why)

    def _broadcast(self, frame: dict[str, Any], latest: str | None = None) -> None:
        data = to_wire(frame)  # encoded once for every desk
        for member in list(self.members.values()):
            self._send(member, data, latest)

    def _refuse(self, member: Member, what: str, reason: str, key: str | None = None) -> None:
        frame = {"type": "refused", "what": what, "reason": reason}
        if key is not None:
            frame["key"] = key
        self._send(member, to_wire(frame))

    def _roster(self) -> dict[str, Any]:
        rows = sorted((m.row() for m in self.members.values()), key=lambda r: r["name"])
        return {"type": "roster", "members": rows}

    def _alerts(self) -> dict[str, Any]:
        return {"type": "alerts", "alerts": list(self.shared.alerts.values())}

    async def _chores(self) -> None:
        """Claims time out; the roster and alerts go out when they changed, at most once a
        tick; desks revoked meanwhile are cut off."""
        checked = 0.0
        while True:
            await asyncio.sleep(min(TICK_S, self.claim_ttl_s / 4))
            now = self.clock()
            expired = [(k, h) for k, (h, until) in self.shared.claims.items() if until <= now]
            for key, holder in expired:
                await self._release([key], holder, "timeout")
            if "roster" in self._dirty:
                self._broadcast(self._roster(), latest="roster")
            if "alerts" in self._dirty:
                self._broadcast(self._alerts(), latest="alerts")
            self._dirty.clear()
            if time.monotonic() - checked >= CREDENTIALS_EVERY_S:
                checked = time.monotonic()
                await self._cut_revoked()

    async def _cut_revoked(self) -> None:
        try:
            desks = await self.state.desks()
        except sqlite3.Error as exc:
            log.error("the desks' credentials could not be read again: %s", exc)
            return
        for member in list(self.members.values()):
            if desks.get(member.name) != (member.role, member.digest):
                self._drop(member, REVOKED)


def _pages(field_name: str, entries: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """`state` frames of at most PAGE_BYTES each; an entry too big for a page (a file written
    by an older hub) is left out."""
    page: list[bytes] = []
    size = 0
    other = "handled" if field_name == "claims" else "claims"
    for entry in entries:
        data = to_wire(entry)
        if len(data) > PAGE_BYTES // 2:
            continue
        if size + len(data) > PAGE_BYTES and page:
            yield _page(field_name, other, page)
            page, size = [], 0
        page.append(data)
        size += len(data) + 1
    if page:
        yield _page(field_name, other, page)


def _page(field_name: str, other: str, entries: list[bytes]) -> bytes:
    return b'{"type":"state","%s":[],"%s":[%s]}' % (
        other.encode(),
        field_name.encode(),
        b",".join(entries),
    )


async def _close(connection: ServerConnection, code: int, reason: str) -> None:
    with contextlib.suppress(ConnectionClosed):
        await connection.close(code, reason[:120])


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:160]}"


def _checked_packs(raw: list[Any]) -> list[dict[str, str]]:
    """The packs of a rules frame, validated as every desk will: parsed and compiled."""
    packs, parsed = [], []
    for item in raw:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("name", "origin", "text")
        ):
            raise FrameError("each pack is an object with name, origin and text")
        packs.append({k: item[k] for k in ("name", "origin", "text")})
    if (size := rules_size(packs)) > MAX_RULES_BYTES:
        raise FrameError(
            f"the packs are {size >> 10:,} KiB, more than the hub shares "
            f"({MAX_RULES_BYTES >> 10:,} KiB)"
        )
    for pack in packs:
        parsed.append(_compiled_pack(pack["text"], pack["origin"]))
    # Each pack compiles on its own (above, once per text: an edit compiles only its pack); ids
    # must also be unique across packs. What a desk's full compile would refuse is refused here.
    check_unique_ids(tuple(r for pack in parsed for r in pack.rules), "team rules")
    return packs


@lru_cache(maxsize=256)
def _compiled_pack(text: str, origin: str) -> RulePack:
    pack = parse_pack(text, origin)
    CompiledRules([pack])  # a pattern or regex that compiles nowhere is refused with its reason
    return pack
