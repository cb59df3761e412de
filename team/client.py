"""A desk's link to the team hub: rules in sync, claims, handled items, roster and alerts.

Headless (no Textual): the desk, the tests and the bench use it alike. The desk keeps
working alone when the hub is unreachable; the link reconnects with backoff, and on its
return sends what was done meanwhile and takes the team's current rules first.

Rules: a change made on this desk (editor, pack file, suggestion) is a `Triage` version; the
link hears it and, on a supervisor's desk, publishes it on the hub version it was made on. A
version from the hub is swapped into the triage unless its packs are already the ones
running (the supervisor's own edit coming back).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from vigile.connectors.connection import Backoff
from vigile.filters.rules import RulePackError, parse_pack
from vigile.filters.triage import RulesVersion, Triage
from vigile.team.protocol import (
    FINAL_REASONS,
    MAX_FRAME,
    MAX_RULES_BYTES,
    FrameError,
    decode,
    encode,
    packs_payload,
    rules_size,
)

log = logging.getLogger("vigile.team")

FROM_HUB = "hub"  # the origin of rules versions the link swapped in
CLAIM_WAIT_S = 2.0  # past this the hub is too slow: the desk acts alone
_OUTBOX = 10_000  # handled items and alerts kept while the hub is away


@dataclass(frozen=True, slots=True)
class ClaimAnswer:
    granted: bool
    reason: str = ""  # why not: claimed by…, already handled by…, or "offline"

    @property
    def offline(self) -> bool:
        return self.reason == "offline"


Listener = Callable[[dict[str, Any]], None]


class TeamLink:
    """One desk's link to the team hub, headless: `run` connects and reconnects with backoff
    until cancelled or the token is refused.

    It mirrors what the hub shares (`claims`, `handled`, `roster`, `alerts`, the team's rules
    version) and hands every frame to `listeners`; the desk calls `claim`, `release`, `done`,
    `status` and `alert`. Frames that matter are queued while offline and sent on return. With
    a `triage`, rule changes go both ways: local versions are published (supervisors only) and
    the team's versions are swapped in.
    """

    def __init__(
        self,
        url: str,
        name: str,
        token: str,
        triage: Triage | None = None,
        share: dict[str, list[str]] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url, self.name, self.share, self.tls = url, name, share or {}, tls
        self._token = token
        self.triage = triage
        self.state = "connecting"  # connecting | online | offline | refused
        self.problem = ""
        self.role: str | None = None
        self.hub_version = 0  # the last team rules version this desk has
        self.claims: dict[str, str] = {}  # key → holder
        self.handled: dict[str, tuple[str, str]] = {}  # key → (kind, by)
        self.roster: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        self.listeners: list[Listener] = []
        self._connection: ClientConnection | None = None
        self._outbox: deque[dict[str, Any]] = deque(maxlen=_OUTBOX)
        self._waiting: dict[str, asyncio.Future[ClaimAnswer]] = {}
        self._unpublished: tuple[int, list[dict[str, str]]] | None = None  # (base, packs)
        if triage is not None:
            triage.listeners.append(self._local_change)

    # -- the connection -----------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, and reconnect after every drop, until cancelled or the token is refused."""
        backoff = Backoff(first=0.5, most=10.0)
        while True:
            try:
                async with connect(self.url, **self._options()) as connection:
                    await connection.send(encode(self._hello()))
                    self._connection = connection
                    async for raw in connection:
                        self._receive(decode(raw))
                        if self.state == "online":
                            backoff.reset()
                close = connection.close_code, connection.close_reason
            except ConnectionClosed as exc:
                close = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")
            except (OSError, InvalidHandshake, TimeoutError, FrameError) as exc:
                close = (None, str(exc) or type(exc).__name__)
            except InvalidURI as exc:
                self._link("refused", f"not a hub address: {exc}")
                return
            finally:
                self._connection = None
                self._give_up_waiting()
            if close[1] in FINAL_REASONS:
                self._link("refused", f"the hub refused this desk: {close[1]}")
                return
            self._link("offline", close[1] or "the hub went away")
            await asyncio.sleep(backoff.next())

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"max_size": MAX_FRAME, "open_timeout": 5, "ping_interval": 10}
        if self.tls is not None:  # else the system's authorities, for wss://
            options["ssl"] = self.tls
        return options

    def _hello(self) -> dict[str, Any]:
        return {"type": "hello", "name": self.name, "token": self._token, "share": self.share}

    def _link(self, state: str, problem: str = "") -> None:
        """Listeners hear of a change of state, not of every failed retry while away."""
        changed = state != self.state
        self.state, self.problem = state, problem
        if changed:
            self._emit({"type": "link", "state": state, "problem": problem})

    def _send(self, frame: dict[str, Any], keep: bool = False) -> bool:
        """Send now if online; `keep` holds the frame for the return of the hub."""
        connection = self._connection
        if connection is not None and self.state == "online":
            task = asyncio.ensure_future(connection.send(encode(frame)))
            task.add_done_callback(_ignore_closed)
            return True
        if keep:
            self._outbox.append(frame)
        return False

    # -- what the hub says --------------------------------------------------------------------

    def _receive(self, frame: dict[str, Any]) -> None:
        try:
            self._apply(frame)
        except (KeyError, TypeError, AttributeError) as exc:  # a field inside is missing or odd
            raise FrameError(f"malformed {frame['type']} frame from the hub: {exc!r}") from None
        self._emit(frame)

    def _apply(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "welcome":
            self._welcome(frame)
        elif kind == "rules":
            self._rules_from_hub(frame)
        elif kind == "claimed":
            self.claims[frame["key"]] = frame["by"]
            if frame["by"] == self.name and (waiting := self._waiting.pop(frame["key"], None)):
                waiting.set_result(ClaimAnswer(True))
        elif kind == "released":
            self.claims.pop(frame["key"], None)
        elif kind == "handled":
            self.handled[frame["key"]] = (frame["kind"], frame["by"])
            self.claims.pop(frame["key"], None)
        elif kind == "state":  # a page of what the hub holds, after the welcome
            self.claims.update({c["key"]: c["by"] for c in frame["claims"]})
            self.handled.update({h["key"]: (h["kind"], h["by"]) for h in frame["handled"]})
        elif kind == "refused":
            key = frame.get("key")
            if key and (waiting := self._waiting.pop(key, None)):
                waiting.set_result(ClaimAnswer(False, frame["reason"]))
            if (
                key
                and frame["what"] == "handled"
                and not frame["reason"].startswith("already handled")
                and self.handled.get(key, ("", ""))[1] == self.name
            ):
                del self.handled[key]  # the team did not take it: not ours to show as done
        elif kind == "roster":
            self.roster = frame["members"]
        elif kind == "alerts":
            self.alerts = frame["alerts"]

    def _welcome(self, frame: dict[str, Any]) -> None:
        self.role = frame["role"]
        self.claims = {}  # the claims and handled items follow in `state` pages
        self.alerts = frame.get("alerts", [])
        self._link("online")
        rules = frame.get("rules")
        hub_at = rules["version"] if rules else 0
        unpublished, self._unpublished = self._unpublished, None
        if self.role == "supervisor" and unpublished and unpublished[0] == hub_at:
            self._send({"type": "rules", "base": hub_at, "packs": unpublished[1]})
        elif rules:
            if unpublished:
                self._say_refused(
                    f"the change made while the hub was away was on "
                    f"v{unpublished[0]}; the team is at v{hub_at}: its rules "
                    "apply, redo the change"
                )
            self._rules_from_hub(rules)
        elif self.role == "supervisor" and self.triage is not None:
            # the first supervisor on a new hub: the rules running here become the team's v1
            packs = packs_payload(self.triage.history[-1].packs)
            self._send({"type": "rules", "base": 0, "packs": packs})
        while self._outbox:
            self._send(self._outbox.popleft())

    def _rules_from_hub(self, frame: dict[str, Any]) -> None:
        self.hub_version = frame["version"]
        if self.triage is None:
            return
        running = [p.text for p in self.triage.history[-1].packs]
        if running == [p["text"] for p in frame["packs"]]:
            return  # already live here: this desk's own change coming back
        try:
            packs = [parse_pack(p["text"], f"{FROM_HUB}:{p['name']}") for p in frame["packs"]]
            # the origin tells _local_change this version is the team's, not one to publish
            self.triage.swap(packs, frame.get("author", "hub"), f"{FROM_HUB} v{frame['version']}")
        except RulePackError as exc:  # the hub checked it; a different Vigile version may not
            self._say_refused(f"team rules v{frame['version']} do not load here: {exc}")

    def _local_change(self, version: RulesVersion) -> None:
        """A rules version made on this desk: the supervisor's goes to the team."""
        if version.origin.startswith(FROM_HUB):
            return
        if self.role == "moderator":
            self._say_refused(
                "only the supervisor changes the team's rules: this change stays on this desk"
            )
            return
        packs = packs_payload(version.packs)
        if (size := rules_size(packs)) > MAX_RULES_BYTES:
            self._say_refused(
                f"these rules are {size // 1024:,} KiB, more than the hub shares "
                f"({MAX_RULES_BYTES // 1024:,} KiB): they stay on this desk"
            )
            return
        if not self._send({"type": "rules", "base": self.hub_version, "packs": packs}):
            self._unpublished = (self.hub_version, packs)

    # -- what this desk says ------------------------------------------------------------------

    async def claim(self, key: str) -> ClaimAnswer:
        """Take the item before acting on it, so no one else does the same."""
        holder = self.claims.get(key)
        if holder == self.name:
            return ClaimAnswer(True)
        done = self.handled.get(key)
        if done and done[0] != "escalate":
            return ClaimAnswer(False, f"already handled by {done[1]} ({done[0]})")
        if self.state != "online":
            return ClaimAnswer(False, "offline")
        waiting = self._waiting.get(key)
        if waiting is None:
            waiting = self._waiting[key] = asyncio.get_running_loop().create_future()
            self._send({"type": "claim", "key": key})
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), CLAIM_WAIT_S)
        except TimeoutError:
            self._waiting.pop(key, None)
            return ClaimAnswer(False, "offline")

    def release(self, key: str) -> None:
        if self.claims.get(key) == self.name:
            self._send({"type": "release", "key": key})

    def done(self, key: str, kind: str) -> None:
        """This desk acted on the item (or escalated it): the others drop it (or mark it)."""
        self.handled[key] = (kind, self.name)
        self._send({"type": "handled", "key": key, "kind": kind}, keep=True)

    def status(self, queue: int, handled: int, response_p50_s: float | None) -> None:
        self._send(
            {"type": "status", "queue": queue, "handled": handled, "response_p50_s": response_p50_s}
        )

    def alert(self, key: str, state: str, summary: str = "") -> None:
        self._send({"type": "alert", "key": key, "state": state, "summary": summary}, keep=True)

    def _give_up_waiting(self) -> None:
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_result(ClaimAnswer(False, "offline"))
        self._waiting.clear()

    def _say_refused(self, reason: str) -> None:
        """A rules refusal of the link's own, shown like the hub's."""
        self._emit({"type": "refused", "what": "rules", "reason": reason})

    def _emit(self, frame: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(frame)


def _ignore_closed(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        if not isinstance(exc, ConnectionClosed):
            log.warning("sending to the hub failed: %s", exc)


def tls_context(ca_file: str | None) -> ssl.SSLContext | None:
    """Trust the system's authorities, or the given one (a hub with its own certificate)."""
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"{ca_file} cannot be used as the hub's certificate: {exc}") from exc
