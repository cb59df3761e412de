"""The moderator desk without a screen: it acts on flagged items, runs suggested rules, claims."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

from vigile.connectors.actions import Moderation, out_of_reach
from vigile.connectors.model import (
    ActionKind,
    ActionResult,
    ChatMessage,
    ModAction,
    PlatformEvent,
    utc_now,
)
from vigile.connectors.safe_text import inert
from vigile.filters.alert_notice import AlertNotice
from vigile.filters.editing import edited_pack, rule_block
from vigile.filters.rules import RulePack, RulePackError, write_atomically
from vigile.filters.suggestions import PACK_NAME as SUGGESTIONS
from vigile.filters.suggestions import DryRun, dry_run, suggestion_pack
from vigile.filters.triage import RulesVersion, Triage
from vigile.replay.pipeline import Pipeline, SessionKind, SessionPlan
from vigile.replay.player import ReplaySource
from vigile.team.client import TeamLink
from vigile.tui.channel_commands import ChannelCommand, channel_commands
from vigile.tui.flagged import ItemState, PriorityItem
from vigile.tui.known import KnownOffenders
from vigile.tui.twitch_desk import TwitchDesk

Severity = Literal["information", "warning", "error"]

# Decisions that need no answer from a platform: the item settles at once.
SETTLED = {ActionKind.DISMISS: ItemState.DISMISSED, ActionKind.APPROVE: ItemState.APPROVED}


class Board(Protocol):
    """Where the desk's items are shown: the priority pane, or nothing in a headless run."""

    def set_state(self, item: PriorityItem, state: ItemState) -> None: ...
    def mark_claim(self, message_key: str, holder: str | None) -> None: ...
    def handled_elsewhere(self, message_key: str, kind: str) -> None: ...


class Unshown:
    """The board of a desk without a screen: states live on the items, nothing is drawn."""

    def set_state(self, item: PriorityItem, state: ItemState) -> None:
        item.state = state

    def mark_claim(self, message_key: str, holder: str | None) -> None:
        pass

    def handled_elsewhere(self, message_key: str, kind: str) -> None:
        pass


class TeamSeat(Protocol):
    """This desk's place on a team: its link to the hub, and its response times."""

    link: TeamLink

    def acted(self, item: PriorityItem, kind: str, now: float) -> None: ...


class Desk:
    """What a moderator's keys do, whatever draws them: moderation of flagged items and
    floods (sent, or simulated outside a live session, and recorded as ModActions),
    channel-wide commands, suggested rules applied and undone, packs written back to their
    files, team claims, replay control. What it has to say goes to `notices` and `listeners`."""

    def __init__(
        self,
        plan: SessionPlan,
        triage: Triage,
        moderator: str = "me",
        moderation: Moderation | None = None,
        team: TeamSeat | None = None,
    ) -> None:
        self.plan, self.triage, self.moderator, self.team = plan, triage, moderator, team
        # Outside a live session every platform action is simulated: rehearse without harm.
        self.moderation = moderation or Moderation(simulated=plan.kind is not SessionKind.LIVE)
        self.board: Board = Unshown()
        self.clock: Callable[[], float] = utc_now  # what response times are measured against
        self.pipeline: Pipeline | None = None
        self.notices: deque[str] = deque(maxlen=50)
        self.listeners: list[Callable[[str, Severity], None]] = []
        self.channels: set[tuple[str, str]] = set()  # (platform, channel) seen in this session
        self.banned: dict[tuple[str, str, str], str] = {}  # bans and timeouts made from here
        self.rules_error: str | None = None  # the last refused rule edit, as shown
        self.undo_stack: list[int] = []  # rules versions before each change made on this desk
        self.known = KnownOffenders()  # the archive's watchlist, once a desk has one
        self.twitch = TwitchDesk(self)  # Twitch's own tools: AutoMod, Shield Mode, mod log…

    def tell(self, text: str, severity: Severity = "information") -> None:
        """Something for the moderator; chat text in it made inert, kept for whoever asks."""
        text = inert(text)  # an author's name may carry terminal controls
        self.notices.append(text)
        for listener in self.listeners:
            listener(text, severity)

    # -- what the session brings ---------------------------------------------------------------

    def seen(self, message: ChatMessage) -> None:
        self.channels.add((message.platform, message.channel))

    def rules_refused(self, event: PlatformEvent) -> str:
        """A rule edit the pipeline refused (the running rules stay): what to show."""
        where = f"{event.data.get('file')}:{event.data.get('line') or '?'}"
        self.rules_error = f"{where}: {event.data.get('error')}"
        return self.rules_error

    def alert_seen(self, event: PlatformEvent) -> None:
        """The team sees what any desk saw first; a raid on Twitch brings the lockdown key up."""
        if (hint := self.twitch.raid_hint(event)) is not None:
            self.tell(hint, severity="warning")
        if self.team is not None:
            alert = AlertNotice.from_event(event)
            state = "cleared" if alert.state == "cleared" else "up"
            self.team.link.alert(alert.team_key, state, alert.describe())

    def alerts(self) -> tuple[AlertNotice, ...]:
        """The alerts up now, with their latest evidence."""
        if self.pipeline is None or self.pipeline.signals is None:
            return ()
        return tuple(
            AlertNotice.from_event(a.event("up", a.last_seen))
            for a in self.pipeline.signals.alerts.values()
        )

    # -- acting on flagged items ---------------------------------------------------------------

    def request(self, item: PriorityItem, kind: ActionKind) -> bool:
        """A key pressed on an item: whether to carry it out (if not, the moderator was told)."""
        problem = out_of_reach(item.message, kind) or self.moderation.unavailable(
            item.message.platform, kind
        )
        if problem:
            self.tell(f"Cannot {kind}: {problem}.", severity="warning")
            return False
        settled = SETTLED.get(kind)
        # a team desk waits for its claim before a dismissal or approval settles the item
        self.board.set_state(item, settled if self.team is None and settled else ItemState.SENDING)
        return True

    async def carry_out(self, item: PriorityItem, kind: ActionKind, duration_s: int | None) -> None:
        """Send the action (or simulate it) for the item, or for every message of a flood
        (each author once for bans, timeouts and warnings); record each with its result."""
        if not await self.claim_to_act(item):
            return
        board = self.board
        if self.team is not None and kind in SETTLED:
            board.set_state(item, SETTLED[kind])
        targets = flood_targets(item, kind)
        results = [await self.act_on(target, kind, duration_s) for target in targets]
        failed = [
            (t, done)
            for t, done in zip(targets, results, strict=True)
            if done.result is ActionResult.FAILED
        ]
        if failed:
            board.set_state(item, ItemState.NEW)
            if self.team is not None:
                self.team.link.release(item.message.key)
            target, done = failed[0]
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            self.tell(
                f"{kind} of {target.message.author_name} failed{more}: {done.detail}",
                severity="error",
            )
            return
        if self.team is not None:  # the other desks drop it (or mark it escalated)
            self.team.acted(item, kind.value, self.clock())
        if kind is ActionKind.ESCALATE:
            board.set_state(item, ItemState.ESCALATED)
            self.tell(f"escalated to the supervisor: {item.message.author_name}")
        elif kind not in SETTLED:
            board.set_state(item, ItemState.HANDLED)
            who = item.message.author_name if len(targets) == 1 else f"{len(targets)} targets"
            if results[-1].result is ActionResult.SIMULATED:
                self.tell(f"{kind}: {who} (simulated)")
            else:  # what the platform said, and for YouTube what is left of the day's quota
                self.tell(f"{kind}: {who} — {results[-1].detail}")

    async def act_on(
        self, item: PriorityItem, kind: ActionKind, duration_s: int | None
    ) -> ModAction:
        """One message's action, performed and recorded."""
        m = item.message
        action = ModAction(
            kind=kind,
            platform=m.platform,
            channel=m.channel,
            moderator=self.moderation.moderator_name(m.platform, self.moderator),
            target_author_id=m.author_id,
            target_message_id=m.id,
            duration_s=duration_s,
            reason=", ".join(item.verdict.labels),
        )
        done = await self.moderation.perform(action, m)
        if self.pipeline is not None:
            self.pipeline.store.add_action(done)
        if kind in (ActionKind.BAN, ActionKind.TIMEOUT) and done.result is not ActionResult.FAILED:
            self.banned[(m.platform, m.channel, m.author_id)] = m.author_name
        return done

    # -- claims, on a team ---------------------------------------------------------------------

    async def toggle_claim(self, item: PriorityItem) -> None:
        """Take the item so no other desk handles it, or give it back."""
        if self.team is None:
            self.tell("Claims are for team desks (join a hub with --team).")
            return
        link, key = self.team.link, item.message.key
        if link.claims.get(key) == link.name:
            link.release(key)
            self.tell(f"Given back: {item.message.author_name}")
            return
        answer = await link.claim(key)
        if answer.granted:
            self.board.mark_claim(key, link.name)
        else:
            self.tell(f"Not claimed: {answer.reason}", severity="warning")

    async def claim_to_act(self, item: PriorityItem) -> bool:
        """On a team, take the item before acting: False (and why, told) if another desk
        holds or handled it. Without the hub the desk acts alone."""
        if self.team is None:
            return True
        link = self.team.link
        answer = await link.claim(item.message.key)
        if answer.granted or answer.offline:
            return True
        key = item.message.key
        self.board.set_state(item, ItemState.NEW)
        if (holder := link.claims.get(key)) is not None:
            self.board.mark_claim(key, holder)
        elif (done := link.handled.get(key)) is not None:
            self.board.handled_elsewhere(key, done[0])
        self.tell(f"Not done: {answer.reason}", severity="warning")
        return False

    # -- channel-wide actions ------------------------------------------------------------------

    def channel_commands(self) -> list[ChannelCommand]:
        return list(channel_commands(self.channels, self.banned))

    async def run_channel_command(self, command: ChannelCommand) -> None:
        problem = self.moderation.unavailable(command.platform, command.kind)
        if problem:
            self.tell(f"Cannot {command.title.lower()}: {problem}.", severity="warning")
            return
        action = ModAction(
            kind=command.kind,
            platform=command.platform,
            channel=command.channel,
            moderator=self.moderation.moderator_name(command.platform, self.moderator),
            target_author_id=command.target_author_id,
            reason=command.title,
        )
        if command.kind is ActionKind.CHAT_MODE:
            done = await self.moderation.change_chat(action, command.settings or {})
        else:
            done = await self.moderation.perform(action)
        if self.pipeline is not None:
            self.pipeline.store.add_action(done)
        if done.result is ActionResult.FAILED:
            self.tell(f"{command.title} failed: {done.detail}", severity="error")
            return
        if command.kind is ActionKind.UNBAN:
            self.banned.pop(
                (command.platform, command.channel, command.target_author_id or ""), None
            )
        simulated = " (simulated)" if done.result is ActionResult.SIMULATED else ""
        self.tell(f"{command.title}{simulated}")

    # -- suggested rules -----------------------------------------------------------------------

    def suggestion(self) -> tuple[str, dict[str, Any]] | None:
        """The newest alert's ready-made rule that is not live yet, and why it is suggested."""
        if self.pipeline is None or self.pipeline.signals is None:
            return None
        live = self.accepted_pack()
        accepted = {rule.id for rule in live.rules} if live else set()
        alerts = sorted(self.pipeline.signals.alerts.values(), key=lambda a: -a.raised_at)
        for alert in alerts:
            notice = AlertNotice.from_event(alert.event("up", alert.last_seen))
            rule = notice.suggested_rule
            if rule and rule["id"] not in accepted:
                return notice.describe(), dict(rule)
        return None

    def review_suggestion(
        self, recent: list[tuple[str, bool]]
    ) -> tuple[str, dict[str, Any], DryRun] | None:
        """The suggestion, dry-run on `recent` (text, flagged now) messages; None, and why
        told, if there is none or it is not valid."""
        found = self.suggestion()
        if found is None:
            self.tell("No rule is suggested right now (rising hashtags and terms suggest one).")
            return None
        why, rule = found
        try:
            result = dry_run(suggestion_pack([rule]), recent)
        except RulePackError as exc:
            self.tell(f"The suggested rule is not valid: {exc}", severity="error")
            return None
        return why, rule, result

    def apply_suggestion(self, rule: dict[str, Any]) -> bool:
        """Make the rule live beside the running packs; undone like any edit of this desk."""
        if (locked := self.rules_locked()) is not None:
            self.tell(f"Rule not applied: {locked}", severity="warning")
            return False
        running = [p for p in self.triage.rules.packs if p.name != SUGGESTIONS]
        accepted = self.accepted_pack()
        before = self.triage.version
        try:
            fresh = suggestion_pack([rule])
            pack = (
                fresh
                if accepted is None
                else edited_pack(accepted, None, rule_block(fresh, rule["id"]))
            )
            version = self.triage.swap([*running, pack], self.moderator, "suggestion")
        except RulePackError as exc:
            self.tell(f"Rule refused, running rules kept: {exc}", severity="error")
            return False
        self.undo_stack.append(before)
        self.tell(f"Rule {rule['id']} is live (rules v{version.version}; r then F9 undoes it).")
        return True

    def accepted_pack(self) -> RulePack | None:
        """The suggestions applied so far, as they run now (an undo may have taken some out:
        those are suggested again)."""
        return next((p for p in self.triage.rules.packs if p.name == SUGGESTIONS), None)

    # -- the rules -----------------------------------------------------------------------------

    def change_rules(self, packs: list[RulePack], origin: str) -> RulesVersion:
        """Make `packs` the running rules (RulePackError, and the old ones stay, if they are
        not valid), undoably; packs from files get the change in their file."""
        before = self.triage.version
        version = self.triage.swap(packs, self.moderator, origin)
        self.undo_stack.append(before)
        self.write_back(packs)
        return version

    def undo(self) -> tuple[int, RulesVersion] | None:
        """The rules as they were before this desk's last change, files included: the version
        they come back from and the new one; None if there is nothing to undo."""
        if not self.undo_stack:
            return None
        previous = self.undo_stack.pop()
        packs = list(self.triage.history[previous - 1].packs)
        version = self.triage.swap(packs, self.moderator, f"undo to v{previous}")
        self.write_back(packs)
        return previous, version

    def rules_locked(self) -> str | None:
        """Why this desk may not change the rules now, if it may not."""
        if self.team is not None and self.team.link.role == "moderator":
            return "on this team only the supervisor changes the rules (they reach every desk)"
        return None

    def write_back(self, packs: list[RulePack]) -> None:
        """Packs loaded from files get the change in their file too, so it survives the
        session and an editor on the file sees it (the watcher finds it already live)."""
        files = {str(path) for path in self.plan.rule_files}
        for pack in packs:
            if pack.origin in files:
                try:
                    write_atomically(Path(pack.origin), pack.text)
                except OSError as exc:
                    self.tell(f"Live, but not saved to {pack.origin}: {exc}", severity="error")

    # -- replay --------------------------------------------------------------------------------

    def replays(self) -> list[ReplaySource]:
        return [s for s in self.plan.sources if isinstance(s, ReplaySource)]

    def toggle_replay(self) -> list[ReplaySource]:
        """Pause what plays, resume what is paused; the replays, to say where they are."""
        replays = self.replays()
        for replay in replays:
            if replay.paused:
                replay.resume()
            else:
                replay.pause()
        return replays

    def seek(self, seconds: float) -> list[ReplaySource]:
        replays = self.replays()
        for replay in replays:
            replay.seek(replay.position + seconds)
        return replays


def flood_targets(item: PriorityItem, kind: ActionKind) -> list[PriorityItem]:
    """Acting on a flood: its newest messages for deletions and decisions (up to
    KEEP_MEMBERS), each of its authors once for bans, timeouts and warnings."""
    if not item.members:
        return [item]
    if kind in (ActionKind.BAN, ActionKind.TIMEOUT, ActionKind.WARN):
        return list(item.by_author.values())
    return item.group
