"""Twitch's own moderation on the desk, without a screen: AutoMod's held messages as priority
items of their own kind, the raid lockdown in one key, suspicious users marked, every
moderator's actions in a mod log, unban requests answered. It reads the EventSub events the
session records (connectors.twitch_eventsub) and acts through Helix (connectors.twitch_tools);
every act is recorded as a ModAction, the lockdown also as `lockdown` events."""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vigile.connectors.eventsub_catalogue import AUTOMOD, FEATURES, SHIELD, UNBAN_REQUESTS, needs
from vigile.connectors.eventsub_events import (
    KINDS,
    AutoModHold,
    AutoModUpdate,
    ModeratorAction,
    ShieldChange,
    SuspiciousUser,
    UnbanRequest,
    read_event,
)
from vigile.connectors.model import (
    ActionKind,
    ActionResult,
    ChatMessage,
    ModAction,
    PlatformEvent,
)
from vigile.replay.reads import ACTIONS_ON_AUTHOR, SAID_BY_AUTHOR
from vigile.tui.flagged import PriorityItem
from vigile.tui.lockdown import DEFAULT, LockdownPreset

if TYPE_CHECKING:
    from vigile.connectors.twitch_tools import TwitchTools
    from vigile.tui.desk import Desk

HELD_PRIORITY = 60  # a held message waits for a decision: above review-only rows
HELD_TAG = "held by AutoMod"
SUSPECT_BOOST = 15  # a suspicious user's flagged message outranks the same from a stranger
MOD_LOG = 2_000  # the moderators' latest actions kept on screen (the session has them all)
_NAMES = {f.key: f.name for f in FEATURES}
EVENTS = KINDS | {"eventsub_unavailable", "eventsub_ready", "eventsub_revoked"}  # observed
_ACT_SCOPE = {"automod": AUTOMOD, "shield": SHIELD, "unban": UNBAN_REQUESTS}


@dataclass(slots=True)
class Changes:
    """What an event changed that the screen must show."""

    held: list[PriorityItem] = field(default_factory=list)
    released: list[str] = field(default_factory=list)  # message ids no longer held
    suspects: bool = False
    mod_log: bool = False
    unban: bool = False
    told: list[str] = field(default_factory=list)


class TwitchDesk:
    def __init__(self, desk: Desk, preset: LockdownPreset | None = None) -> None:
        self.desk = desk
        self.preset = preset or LockdownPreset.parse(DEFAULT)
        # feature key → None while it works; why not, once Twitch or the token said so
        self.off: dict[str, str] = {}
        self.ready: set[str] = set()  # features whose subscriptions Twitch accepted
        self.holds: dict[str, PriorityItem] = {}  # AutoMod's held messages by message id
        self.shield: dict[str, ShieldChange] = {}  # channel → its latest Shield Mode change
        self.locked: dict[str, float] = {}  # channel → when this desk locked it down
        self.suspects: dict[tuple[str, str], SuspiciousUser] = {}  # (platform, author id)
        self.mod_log: deque[tuple[float, str, ModeratorAction]] = deque(maxlen=MOD_LOG)
        self.unban_requests: dict[str, tuple[str, UnbanRequest, float]] = {}  # pending, by id
        # the Twitch channels with EventSub: the lockdown's, before any message is seen
        self.channels = [
            s.name.partition(":")[2]
            for s in desk.plan.sources
            if s.name.startswith("twitch-eventsub:")
        ]

    # -- what can be done --------------------------------------------------------------------

    def tools(self) -> TwitchTools | None:
        from vigile.connectors.twitch_tools import TwitchTools

        moderator = self.desk.moderation.moderators.get("twitch")
        return TwitchTools(moderator) if moderator is not None else None  # type: ignore[arg-type]

    def relevant(self) -> bool:
        """Whether this desk has Twitch's tools at all: a Twitch token (or the reason it has
        none) or Twitch's events in the session."""
        moderation = self.desk.moderation
        return bool(
            "twitch" in moderation.moderators or "twitch" in moderation.missing or self.channels
        )

    def unavailable(self, feature: str, kind: ActionKind | None = None) -> str | None:
        """Why a feature (or an act of it) cannot be used now; None when it can."""
        moderation = self.desk.moderation
        if moderation.simulated:
            return None
        if "twitch" not in moderation.moderators:
            return moderation.missing.get("twitch") or needs([_ACT_SCOPE.get(feature, AUTOMOD)])
        if feature in self.off:
            return self.off[feature]
        if kind is not None:
            return moderation.unavailable("twitch", kind)
        return None

    def status(self) -> dict[str, str]:
        """Each feature's state in words, for the header and the tools' screens."""
        said = {}
        for key, name in _NAMES.items():
            problem = self.unavailable(key)
            if problem:
                said[name] = problem
            elif key in self.ready or self.desk.moderation.simulated:
                said[name] = "on"
            else:
                said[name] = "waiting for Twitch"
        return said

    def header(self) -> str:
        """Shield Mode, lockdowns and held messages, for the desk's header ("" when none)."""
        said = []
        for channel, change in sorted(self.shield.items()):
            if change.active:
                lock = "LOCKDOWN + " if channel in self.locked else ""
                said.append(f"{lock}SHIELD MODE #{channel} (by {change.moderator_login})")
        for channel in sorted(set(self.locked) - {c for c, s in self.shield.items() if s.active}):
            said.append(f"LOCKDOWN #{channel}")
        if self.holds:
            said.append(f"AutoMod holds {len(self.holds)}")
        return " · ".join(said)

    # -- what the session brings -------------------------------------------------------------

    def observe(self, event: PlatformEvent, now: float) -> Changes:
        changes = Changes()
        kind, data = event.kind, event.data
        if kind == "eventsub_unavailable":
            for key in _NAMES if data.get("feature") == "all" else [str(data.get("feature"))]:
                self.off[key] = str(data.get("reason", ""))
            changes.told.append(f"Twitch {data.get('name') or 'tools'}: {data.get('reason')}")
        elif kind == "eventsub_ready":
            self.ready.update(str(f) for f in data.get("features") or ())
        elif kind == "eventsub_revoked":
            feature = str(data.get("feature", ""))
            self.off[feature] = f"{data.get('reason')}; run vigile login twitch"
            self.ready.discard(feature)
            changes.told.append(
                f"Twitch {_NAMES.get(feature, feature)} is off: {self.off[feature]}"
            )
        elif (hold := read_event(event, AutoModHold)) is not None:
            changes.held.append(self._held(event, hold, now))
        elif (update := read_event(event, AutoModUpdate)) is not None:
            if self.holds.pop(update.message_id, None) is not None:
                changes.released.append(update.message_id)
        elif (change := read_event(event, ShieldChange)) is not None:
            self.shield[event.channel] = change
            if not change.active:
                self.locked.pop(event.channel, None)
        elif (suspect := read_event(event, SuspiciousUser)) is not None:
            key = (event.platform, suspect.user_id)
            if suspect.marked:
                self.suspects[key] = suspect
            else:
                self.suspects.pop(key, None)
            changes.suspects = True
        elif (action := read_event(event, ModeratorAction)) is not None:
            self.mod_log.append((event.ts, event.channel, action))
            changes.mod_log = True
        elif (request := read_event(event, UnbanRequest)) is not None:
            if request.status == "pending":
                self.unban_requests[request.request_id] = (event.channel, request, event.ts)
            else:
                self.unban_requests.pop(request.request_id, None)
            changes.unban = True
        return changes

    def _held(self, event: PlatformEvent, hold: AutoModHold, now: float) -> PriorityItem:
        """The held message as a row of its own kind, with Vigile's verdict on its text."""
        message = ChatMessage(
            platform=event.platform,
            channel=event.channel,
            id=hold.message_id,
            author_id=hold.user_id,
            author_name=hold.user_name,
            text=hold.text,
            sent_at=event.ts,
            raw={"login": hold.user_login, "held": True},
        )
        ours = self.desk.triage.judge(message)
        shown = dataclasses.replace(
            ours,
            categories=ours.categories | {HELD_TAG},
            priority=max(ours.priority, HELD_PRIORITY),
            action=ours.action if ours.flagged else "review",
        )
        item = PriorityItem(message, shown, None, now, held=hold.why, ours=ours)
        self.holds[hold.message_id] = item
        return item

    def ranked(self, item: PriorityItem) -> PriorityItem:
        """A suspicious user's flagged message, marked and ranked higher."""
        suspect = self.suspects.get((item.message.platform, item.message.author_id))
        if suspect is None:
            return item
        item.suspect = suspect.why
        item.verdict = dataclasses.replace(
            item.verdict, priority=min(100, item.verdict.priority + SUSPECT_BOOST)
        )
        return item

    def suspect_note(self, message: ChatMessage) -> str | None:
        suspect = self.suspects.get((message.platform, message.author_id))
        return f"Twitch marks this user: {suspect.why}" if suspect else None

    # -- acts --------------------------------------------------------------------------------

    async def resolve_hold(self, item: PriorityItem, allow: bool) -> ModAction:
        """Allow the held message into chat, or deny it; the hold leaves the pane when Twitch
        confirms (automod.message.update), or at once in a rehearsal."""
        kind = ActionKind.AUTOMOD_ALLOW if allow else ActionKind.AUTOMOD_DENY
        m = item.message
        action = self._action(kind, m.channel, m.author_id, m.id, reason=item.held or "")
        problem = self.unavailable("automod", kind)
        if problem:
            return self._record(_failed(action, problem))
        tools = self.tools()
        if self.desk.moderation.simulated or tools is None:
            self.holds.pop(m.id, None)
            return self._record(_simulated(action))
        return self._record(await tools.resolve_automod(action, m.author_id, m.id))

    def lockdown_channels(self) -> list[str]:
        seen = [c for p, c in sorted(self.desk.channels) if p == "twitch"]
        return list(dict.fromkeys([*self.channels, *seen]))

    def raid_hint(self, event: PlatformEvent) -> str | None:
        """When a raid alert goes up on a Twitch channel not locked down: the key that would."""
        raised = event.kind == "alert:raid" and event.data.get("state") == "raised"
        if not raised or event.platform != "twitch" or not self.relevant():
            return None
        if self.locked_down(event.channel):
            return None
        if problem := self.unavailable("shield", ActionKind.SHIELD_MODE):
            return f"Raid on #{event.channel}; the lockdown is off: {problem}"
        return f"Raid on #{event.channel}: l locks it down ({self.preset.describe()})"

    def locked_down(self, channel: str) -> bool:
        shield = self.shield.get(channel)
        return channel in self.locked or (shield is not None and shield.active)

    async def toggle_lockdown(self) -> list[ModAction]:
        """Lock every Twitch channel of the session down (Shield Mode and the preset), or, if
        it is locked down, lift it all. Each act is recorded; so are the start and the end."""
        channels = self.lockdown_channels()
        if not channels:
            self.desk.tell("No Twitch channel to lock down yet.", severity="warning")
            return []
        on = not any(self.locked_down(c) for c in channels)
        problem = self.unavailable("shield", ActionKind.SHIELD_MODE) or self.unavailable(
            "shield", ActionKind.CHAT_MODE
        )
        if problem:
            self.desk.tell(f"Cannot lock down: {problem}.", severity="warning")
            return []
        done: list[ModAction] = []
        for channel in channels:
            done += await self._lock(channel, on)
        return done

    async def _lock(self, channel: str, on: bool) -> list[ModAction]:
        now = self.desk.clock()
        word = "on" if on else "off"
        shield = self._action(ActionKind.SHIELD_MODE, channel, reason=f"raid lockdown {word}")
        modes = self._action(ActionKind.CHAT_MODE, channel, reason=f"raid lockdown {word}")
        tools = self.tools()
        if self.desk.moderation.simulated or tools is None:
            results = [_simulated(shield), _simulated(modes)]
        else:
            results = [await tools.shield_mode(shield, on)]
            if settings := self.preset.settings(on):
                results.append(await self.desk.moderation.change_chat(modes, settings))
        for result in results:
            self._record(result)
        failed = [r for r in results if r.result is ActionResult.FAILED]
        if on and not failed:
            self.locked[channel] = now
        if not on:
            self.locked.pop(channel, None)
        if len(failed) < len(results):  # something changed on Twitch: the session says what
            data = {
                "state": "start" if on else "end",
                "preset": self.preset.describe(),
                "moderator": shield.moderator,
                "failed": [r.detail for r in failed],
            }
            if self.desk.pipeline is not None:
                self.desk.pipeline.record_event(
                    PlatformEvent("twitch", channel, "lockdown", ts=now, data=data)
                )
        if failed:
            self.desk.tell(f"Lockdown of #{channel}: {failed[0].detail}", severity="error")
        else:
            simulated = " (simulated)" if results[0].result is ActionResult.SIMULATED else ""
            said = f"locked down: {self.preset.describe()}" if on else "lockdown lifted"
            self.desk.tell(f"#{channel} {said}{simulated}")
        return results

    async def resolve_unban(self, request_id: str, approve: bool, text: str = "") -> ModAction:
        channel, request, _ = self.unban_requests[request_id]
        kind = ActionKind.UNBAN_APPROVE if approve else ActionKind.UNBAN_DENY
        action = self._action(kind, channel, request.user_id, reason=text or request.text[:200])
        problem = self.unavailable("unban", kind)
        if problem:
            return self._record(_failed(action, problem))
        tools = self.tools()
        if self.desk.moderation.simulated or tools is None:
            self.unban_requests.pop(request_id, None)
            return self._record(_simulated(action))
        done = self._record(await tools.resolve_unban_request(action, request_id, text))
        if done.result is ActionResult.OK:
            self.unban_requests.pop(request_id, None)
        return done

    async def requester_history(self, request_id: str) -> str:
        """What the session knows of an unban request's author, in a line."""
        pipeline = self.desk.pipeline
        if pipeline is None:
            return "no session open"
        _, request, _ = self.unban_requests[request_id]
        await pipeline.store.flush()
        said = await pipeline.store.read(SAID_BY_AUTHOR, "twitch", request.user_id)
        acted = await pipeline.store.read(ACTIONS_ON_AUTHOR, "twitch", request.user_id)
        flagged = sum(1 for row in said if row.matches is not None)
        acts = ", ".join(f"{a.kind} by {a.moderator}" for a in acted) or "no action from this desk"
        outside = [a for _, _, a in self.mod_log if a.target_id == request.user_id]
        if outside:
            acts += "; on Twitch: " + ", ".join(
                f"{a.action} by {a.moderator_login}" for a in outside
            )
        return f"{len(said)} message(s) this session, {flagged} flagged; {acts}"

    # -- records -----------------------------------------------------------------------------

    def _action(
        self,
        kind: ActionKind,
        channel: str,
        author_id: str | None = None,
        message_id: str | None = None,
        reason: str = "",
    ) -> ModAction:
        moderator = self.desk.moderation.moderator_name("twitch", self.desk.moderator)
        return ModAction(
            kind=kind,
            platform="twitch",
            channel=channel,
            moderator=moderator,
            target_author_id=author_id,
            target_message_id=message_id,
            reason=reason,
            requested_at=self.desk.clock(),
        )

    def _record(self, action: ModAction) -> ModAction:
        if self.desk.pipeline is not None:
            self.desk.pipeline.store.add_action(action)
        return action


def _failed(action: ModAction, problem: str) -> ModAction:
    return dataclasses.replace(action, result=ActionResult.FAILED, detail=f"Not sent: {problem}.")


def _simulated(action: ModAction) -> ModAction:
    return dataclasses.replace(action, result=ActionResult.SIMULATED, detail="simulated")
