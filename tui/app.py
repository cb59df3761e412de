"""The moderator desk: header, priority pane beside the live feed, footer of keys."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState

from vigile.connectors.actions import Moderation
from vigile.connectors.model import (
    ActionKind,
    ActionResult,
    ChatMessage,
    ModAction,
    PlatformEvent,
    Verdict,
    utc_now,
)
from vigile.filters.alert_notice import AlertNotice, is_alert
from vigile.filters.editing import edited_pack, rule_block
from vigile.filters.rules import RulePack, RulePackError, write_atomically
from vigile.filters.suggestions import PACK_NAME as SUGGESTIONS
from vigile.filters.suggestions import dry_run, suggestion_pack
from vigile.filters.triage import Triage
from vigile.replay.flagged import ItemState, PriorityItem
from vigile.replay.pipeline import (
    DELETION_KINDS,
    Pipeline,
    SessionKind,
    SessionPlan,
    purged_author,
    run_session,
)
from vigile.replay.player import ReplaySource
from vigile.tui.channel_commands import ChannelCommand, channel_commands
from vigile.tui.config import DeskConfig
from vigile.tui.inert import inert
from vigile.tui.team import DeskTeam, TeamScreen
from vigile.tui.widgets.cards import CardScreen, explanation, user_card
from vigile.tui.widgets.desk_header import DeskFigures, DeskHeader
from vigile.tui.widgets.live_feed import LiveFeed
from vigile.tui.widgets.priority_pane import PriorityPane, format_age
from vigile.tui.widgets.rule_editor import RuleEditorScreen
from vigile.tui.widgets.suggestion import SuggestionScreen

FRAME_S = 1 / 30  # drain the inbox at frame rate: ingest at wire speed, draw at frame rate
_INBOX_LIMIT = 50_000  # beyond this the feed only needs the newest; the store has everything


class VigileApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Vigile"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Save the recording and quit"),
        Binding(
            "p",
            "toggle_pause",
            "Pause feed",
            id="feed.pause",
            tooltip="Freeze the live feed; new messages are counted",
        ),
        Binding("tab", "focus_next", "Next pane", id="app.focus_next", show=False),
        Binding(
            "slash",
            "search",
            "Search",
            id="feed.search",
            tooltip="Find messages in the live feed by text or author",
        ),
        Binding(
            "r",
            "edit_rules",
            "Rules",
            id="app.rules",
            tooltip="The rule editor: edit, dry-run, apply and undo rules live",
        ),
        Binding(
            "a",
            "review_suggestion",
            "Suggested rule",
            id="app.suggestion",
            tooltip="Dry-run the rule an alert suggests, then apply it or not",
        ),
        Binding(
            "space",
            "toggle_replay",
            "Pause replay",
            id="replay.pause",
            tooltip="Pause or resume the recording being replayed",
        ),
        Binding(
            "left_square_bracket",
            "seek(-30)",
            "−30 s",
            id="replay.back",
            tooltip="Replay from 30 seconds earlier",
        ),
        Binding(
            "right_square_bracket",
            "seek(30)",
            "+30 s",
            id="replay.forward",
            tooltip="Skip 30 seconds of the recording",
        ),
        Binding(
            "m",
            "team",
            "Team",
            id="app.team",
            tooltip="Team desks: who is connected, their load and response times, alerts",
        ),
    ]

    def __init__(
        self,
        plan: SessionPlan,
        triage: Triage,
        moderator: str = "me",
        moderation: Moderation | None = None,
        config: DeskConfig | None = None,
        team: DeskTeam | None = None,
    ) -> None:
        """`team`: this desk's link to a team hub (claims, shared rules, roster), if any."""
        super().__init__()
        self.plan, self.triage, self.moderator = plan, triage, moderator
        self.config = config or DeskConfig()
        self.clock: Callable[[], float] = utc_now  # what ages and rates are measured against
        self.blur = self.config.blur_matches
        self.set_keymap(self.config.keys)
        # Outside a live session every platform action is simulated: rehearse without harm.
        self.moderation = moderation or Moderation(simulated=plan.kind is not SessionKind.LIVE)
        self.notices: deque[str] = deque(maxlen=50)
        self.channels: set[tuple[str, str]] = set()  # (platform, channel) seen in this session
        self.banned: dict[tuple[str, str, str], str] = {}  # bans and timeouts made from here
        self.pipeline: Pipeline | None = None
        self.recording: Path = plan.db_path
        self._inbox: deque[tuple[ChatMessage | PlatformEvent, Verdict | None, int | None]] = deque(
            maxlen=_INBOX_LIMIT
        )
        self._stopped = asyncio.Event()
        self.pipeline_error: BaseException | None = None
        self.rules_error: str | None = None  # the last refused rule edit, as shown
        self.undo_stack: list[int] = []  # rules versions before each change made on this desk
        self.team = team

    def compose(self) -> ComposeResult:
        yield DeskHeader(id="header")
        with Horizontal(id="panes"):
            c = self.config
            pane = PriorityPane(c.queue_size, c.response_targets_s, c.blur_matches, id="priority")
            pane.clock = lambda: self.clock()
            if self.team is not None:  # its share of the queue, without what others handled
                pane.admit = self.team.admit
            yield pane
            yield LiveFeed(c.feed_size, c.blur_matches, id="feed")
        yield Input(placeholder="search the live feed (Enter: find, Escape: close)", id="search")
        yield Footer()

    def on_mount(self) -> None:
        self.theme = self.config.theme
        self.query_one("#priority").border_title = "Priority"
        self.query_one("#feed").border_title = "Live feed"
        self.run_pipeline()
        self.start_moderation()
        self.set_interval(FRAME_S, self._drain)
        self.set_interval(0.5, self._refresh_header)
        self.set_interval(1.0, self.query_one(PriorityPane).refresh_ages)
        self.query_one(PriorityPane).focus()
        if self.team is not None:
            self.run_team_link()
            self.set_interval(2.0, lambda: self.team and self.team.report(
                len(self.query_one(PriorityPane).items)))  # fmt: skip

    @work(group="team", exit_on_error=False)
    async def run_team_link(self) -> None:
        if self.team is not None:
            await self.team.link.run()

    # -- the pipeline, as a worker of the app -------------------------------------------------

    def _attach(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        pipeline.listeners.append(
            lambda item, verdict, seq: self._inbox.append((item, verdict, seq))
        )

    @work(exclusive=True, group="pipeline", exit_on_error=False)
    async def run_pipeline(self) -> None:
        try:
            await run_session(self.plan, self.triage, self._attach, self._sources_ended)
        finally:
            self._stopped.set()

    async def _sources_ended(self, _stats: object) -> None:
        """The chat is over, the queue may not be: keep recording actions until `q`."""
        self.notify("All sources have ended. Actions are still recorded; q saves and quits.",
                    timeout=10)  # fmt: skip
        await asyncio.Event().wait()  # until the quit cancels the pipeline worker

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        if event.worker.group == "pipeline":
            self.pipeline_error = event.worker.error
            self.notify(f"Recording stopped: {event.worker.error}", severity="error", timeout=30)
        else:  # a card, the moderators' sign-in: the desk and the recording go on
            self.tell(f"{event.worker.name} failed: {event.worker.error}", severity="error")

    # -- drawing ------------------------------------------------------------------------------

    def _drain(self) -> None:
        if self.team is not None and self.team.inbox:
            for text, severity in self.team.apply(self.query_one(PriorityPane)):
                self.tell(text, severity)  # type: ignore[arg-type]
        if not self._inbox:
            return
        feed = self.query_one(LiveFeed)
        pane = self.query_one(PriorityPane)
        batch: list[tuple[ChatMessage, Verdict]] = []
        flagged: list[PriorityItem] = []
        inbox = self._inbox
        now = self.clock()
        while inbox:
            item, verdict, seq = inbox.popleft()
            if isinstance(item, ChatMessage) and verdict is not None:
                batch.append((item, verdict))
                self.channels.add((item.platform, item.channel))
                if verdict.flagged:
                    flagged.append(PriorityItem(item, verdict, seq, now))
            elif isinstance(item, PlatformEvent) and item.kind in DELETION_KINDS:
                feed.add(batch)
                batch = []
                pane.add_items(flagged)
                flagged = []
                feed.mark_deleted(f"{item.platform}:{item.data.get('message_id')}")
                pane.gone(item.platform, message_id=str(item.data.get("message_id")))
            elif isinstance(item, PlatformEvent) and (author := purged_author(item)):
                feed.add(batch)
                batch = []
                pane.add_items(flagged)
                flagged = []
                feed.mark_author_deleted(item.platform, author)
                pane.gone(item.platform, author_id=author)
            elif isinstance(item, PlatformEvent) and is_alert(item):
                if self.team is not None:  # the team sees what any desk saw first
                    alert = AlertNotice.from_event(item)
                    state = "cleared" if alert.state == "cleared" else "up"
                    self.team.link.alert(alert.team_key, state, alert.describe())
            elif isinstance(item, PlatformEvent) and item.kind == "rules_rejected":
                where = f"{item.data.get('file')}:{item.data.get('line') or '?'}"
                self.rules_error = f"{where}: {item.data.get('error')}"
                self.notify(
                    f"Rule edit refused, running rules kept.\n{self.rules_error}",
                    title="Rules",
                    severity="error",
                    timeout=20,
                    markup=False,
                )
        feed.add(batch)
        pane.add_items(flagged)
        self._update_titles()

    def _update_titles(self) -> None:
        feed = self.query_one(LiveFeed)
        pane = self.query_one(PriorityPane)
        pane.border_title = f"Priority ({len(pane.items)})"
        title = "Live feed" if feed.tail else f"Live feed — paused · {feed.unseen} new"
        if feed.query:
            rank, total = feed.search_rank
            found = f"{rank}/{total}" if total else "not found"
            title += f" · search «{inert(feed.query)}» {found} (n older, N newer, End leaves)"
        feed.border_title = title

    # -- search -------------------------------------------------------------------------------

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "search":
            return
        event.input.display = False
        feed = self.query_one(LiveFeed)
        feed.search(event.value)
        feed.focus()
        self._update_titles()

    def on_key(self, event: events.Key) -> None:
        box = self.query_one("#search", Input)
        if event.key == "escape" and box.has_focus:
            box.display = False
            self.query_one(LiveFeed).focus()

    def _refresh_header(self) -> None:
        pipeline = self.pipeline
        if pipeline is None:
            return
        now = self.clock()
        figures = DeskFigures(
            title=self.plan.name,
            sources=tuple(pipeline.hub.statuses()),
            messages_per_s=pipeline.message_rate.rate(now),
            flagged_per_s=pipeline.flag_rate.rate(now),
            messages=pipeline.stats.messages,
            flagged=pipeline.stats.flagged,
            queue=pipeline.hub.depth,
            unsaved=pipeline.store.pending,
            rules_version=self.triage.version,
            store_error=pipeline.store.last_error,
            alerts=self._alerts(pipeline),
            team=self.team.summary() if self.team is not None else "",
        )
        self.query_one(DeskHeader).show(figures)
        self._update_titles()

    @staticmethod
    def _alerts(pipeline: Pipeline) -> tuple[AlertNotice, ...]:
        """The alerts up now, with their latest evidence."""
        if pipeline.signals is None:
            return ()
        return tuple(AlertNotice.from_event(a.event("up", a.last_seen))
                     for a in pipeline.signals.alerts.values())  # fmt: skip

    # -- actions ------------------------------------------------------------------------------

    def _replays(self) -> list[ReplaySource]:
        return [s for s in self.plan.sources if isinstance(s, ReplaySource)]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _DESK_ONLY and self.screen is not self.screen_stack[0]:
            return False  # on the editor or a card, q types a q and does not quit the desk
        if action in ("toggle_replay", "seek"):
            return bool(self._replays())  # replay keys only where something is replayed
        if action == "team":
            return self.team is not None
        return True

    def action_toggle_replay(self) -> None:
        for replay in self._replays():
            if replay.paused:
                replay.resume()
            else:
                replay.pause()
            state = "paused" if replay.paused else "resumed"
            self.notify(f"Replay {state} at {format_age(replay.position)}", timeout=3)

    def action_seek(self, seconds: float) -> None:
        for replay in self._replays():
            replay.seek(replay.position + seconds)
            self.notify(f"Replay from {format_age(max(0.0, replay.position + seconds))}", timeout=3)

    def action_team(self) -> None:
        if self.team is not None:
            self.push_screen(TeamScreen(self.team.link))

    def action_toggle_pause(self) -> None:
        feed = self.query_one(LiveFeed)
        if feed.tail:
            feed.pause()
        else:
            feed.action_resume_tail()
        self._update_titles()

    def on_priority_pane_action_requested(self, event: PriorityPane.ActionRequested) -> None:
        item, kind = event.item, event.kind
        problem = self.moderation.unavailable(item.message.platform, kind)
        if problem:
            self.tell(f"Cannot {kind}: {problem}.", severity="warning")
            return
        pane = self.query_one(PriorityPane)
        settled = _SETTLED.get(kind)
        # a team desk waits for its claim before a dismissal or approval settles the item
        pane.set_state(item, ItemState.SENDING if self.team is not None or not settled else settled)
        self.carry_out(item, kind, event.duration_s)

    def on_priority_pane_claim(self, event: PriorityPane.Claim) -> None:
        if self.team is None:
            self.tell("Claims are for team desks (join a hub with --team).")
            return
        self.toggle_claim(event.item)

    @work(group="actions")
    async def toggle_claim(self, item: PriorityItem) -> None:
        assert self.team is not None
        link, key = self.team.link, item.message.key
        if link.claims.get(key) == link.name:
            link.release(key)
            self.tell(f"Given back: {item.message.author_name}")
            return
        answer = await link.claim(key)
        if answer.granted:
            self.query_one(PriorityPane).mark_claim(key, link.name)
        else:
            self.tell(f"Not claimed: {answer.reason}", severity="warning")

    async def _claim_to_act(self, item: PriorityItem) -> bool:
        """On a team, take the item before acting: False (and why, on screen) if another desk
        holds or handled it. Without the hub the desk acts alone."""
        if self.team is None:
            return True
        answer = await self.team.link.claim(item.message.key)
        if answer.granted or answer.offline:
            return True
        pane, key = self.query_one(PriorityPane), item.message.key
        pane.set_state(item, ItemState.NEW)
        if (holder := self.team.link.claims.get(key)) is not None:
            pane.mark_claim(key, holder)
        elif (done := self.team.link.handled.get(key)) is not None:
            pane.handled_elsewhere(key, done[0])
        self.tell(f"Not done: {answer.reason}", severity="warning")
        return False

    def on_priority_pane_explain(self, event: PriorityPane.Explain) -> None:
        m = event.item.message
        body = explanation(m, event.item.verdict, self.blur)
        self.push_screen(CardScreen(f"Why this was flagged: {inert(m.author_name)}", body))

    def on_priority_pane_user_card(self, event: PriorityPane.UserCard) -> None:
        self.show_user_card(event.item.message)

    @work(group="cards", exclusive=True, exit_on_error=False)
    async def show_user_card(self, message: ChatMessage) -> None:
        if self.pipeline is None:
            return
        try:
            body = await user_card(self.pipeline.store, message, self.blur)
        except (sqlite3.Error, ValueError) as exc:  # a locked or closed file: say so, go on
            self.tell(f"The user card cannot be read now: {exc}", severity="error")
            return
        self.push_screen(CardScreen(f"User card: {inert(message.author_name)}", body))

    @work(group="actions")
    async def carry_out(self, item: PriorityItem, kind: ActionKind, duration_s: int | None) -> None:
        """Send the action (or simulate it) for the item, or for every message of a flood
        (each author once for bans, timeouts and warnings); record each with its result."""
        if not await self._claim_to_act(item):
            return
        pane = self.query_one(PriorityPane)
        if self.team is not None and kind in _SETTLED:
            pane.set_state(item, _SETTLED[kind])
        targets = _targets(item, kind)
        results = [await self._act_on(target, kind, duration_s) for target in targets]
        failed = [(t, done) for t, done in zip(targets, results, strict=True)
                  if done.result is ActionResult.FAILED]  # fmt: skip
        if failed:
            pane.set_state(item, ItemState.NEW)
            if self.team is not None:
                self.team.link.release(item.message.key)
            target, done = failed[0]
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            self.tell(f"{kind} of {target.message.author_name} failed{more}: {done.detail}",
                      severity="error")  # fmt: skip
            return
        if self.team is not None:  # the other desks drop it (or mark it escalated)
            self.team.acted(item, kind.value, self.clock())
        if kind is ActionKind.ESCALATE:
            pane.set_state(item, ItemState.ESCALATED)
            self.tell(f"escalated to the supervisor: {item.message.author_name}")
        elif kind not in _SETTLED:
            pane.set_state(item, ItemState.HANDLED)
            who = item.message.author_name if len(targets) == 1 else f"{len(targets)} targets"
            if results[-1].result is ActionResult.SIMULATED:
                self.tell(f"{kind}: {who} (simulated)")
            else:  # what the platform said, and for YouTube what is left of the day's quota
                self.tell(f"{kind}: {who} — {results[-1].detail}")

    async def _act_on(
        self, item: PriorityItem, kind: ActionKind, duration_s: int | None
    ) -> ModAction:
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

    # -- suggested rules ---------------------------------------------------------------------------

    def _suggestion(self) -> tuple[str, dict[str, Any]] | None:
        """The newest alert's ready-made rule that is not live yet."""
        if self.pipeline is None or self.pipeline.signals is None:
            return None
        live = self._accepted_pack()
        accepted = {rule.id for rule in live.rules} if live else set()
        alerts = sorted(self.pipeline.signals.alerts.values(), key=lambda a: -a.raised_at)
        for alert in alerts:
            notice = AlertNotice.from_event(alert.event("up", alert.last_seen))
            rule = notice.suggested_rule
            if rule and rule["id"] not in accepted:
                return notice.describe(), dict(rule)
        return None

    def action_review_suggestion(self) -> None:
        found = self._suggestion()
        if found is None:
            self.tell("No rule is suggested right now (rising hashtags and terms suggest one).")
            return
        why, rule = found
        recent = [(line.message.text, line.verdict.flagged)
                  for line in self.query_one(LiveFeed).lines()]  # fmt: skip
        try:
            result = dry_run(suggestion_pack([rule]), recent)
        except RulePackError as exc:
            self.tell(f"The suggested rule is not valid: {exc}", severity="error")
            return

        def decided(apply: bool | None) -> None:
            if apply:
                self._apply_suggestion(rule)

        self.push_screen(SuggestionScreen(why, rule, result), decided)

    def _apply_suggestion(self, rule: dict[str, Any]) -> None:
        if (locked := self._rules_locked()) is not None:
            self.tell(f"Rule not applied: {locked}", severity="warning")
            return
        running = [p for p in self.triage.rules.packs if p.name != SUGGESTIONS]
        accepted = self._accepted_pack()
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
            return
        self.undo_stack.append(before)
        self.tell(f"Rule {rule['id']} is live (rules v{version.version}; r then F9 undoes it).")

    # -- the rule editor ----------------------------------------------------------------------

    def action_edit_rules(self) -> None:
        feed = self.query_one(LiveFeed)
        self.push_screen(RuleEditorScreen(
            self.triage, lambda: [line.message.text for line in feed.lines()], self.moderator,
            self.undo_stack, self._write_back, self._rules_locked,
        ))  # fmt: skip

    def _rules_locked(self) -> str | None:
        """Why this desk may not change the rules now, if it may not."""
        if self.team is not None and self.team.link.role == "moderator":
            return "on this team only the supervisor changes the rules (they reach every desk)"
        return None

    def _write_back(self, packs: list[RulePack]) -> None:
        """Packs loaded from files get the change in their file too, so it survives the
        session and an editor on the file sees it (the watcher finds it already live)."""
        files = {str(path) for path in self.plan.rule_files}
        for pack in packs:
            if pack.origin in files:
                try:
                    write_atomically(Path(pack.origin), pack.text)
                except OSError as exc:
                    self.tell(f"Live, but not saved to {pack.origin}: {exc}", severity="error")

    def _accepted_pack(self) -> RulePack | None:
        """The suggestions applied so far, as they run now (an undo may have taken some out:
        those are suggested again)."""
        return next((p for p in self.triage.rules.packs if p.name == SUGGESTIONS), None)

    # -- channel-wide actions, from the command palette ------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for command in channel_commands(self.channels, self.banned):
            yield SystemCommand(command.title, command.help,
                                partial(self.run_channel_command, command))  # fmt: skip

    @work(group="actions")
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

    def tell(self, text: str, severity: SeverityLevel = "information") -> None:
        """A notification that chat text cannot style, kept for whoever asks what was said."""
        text = inert(text)  # an author's name may carry terminal controls
        self.notices.append(text)
        self.notify(text, severity=severity, markup=False, timeout=8)

    @work(group="moderation", exit_on_error=False)
    async def start_moderation(self) -> None:
        for problem in await self.moderation.start():
            self.tell(f"{problem} Reading chat goes on.", severity="warning")

    async def on_unmount(self) -> None:
        """However the desk is left (q, a signal, a test's exit), the recording is closed."""
        if not self._stopped.is_set():
            self.workers.cancel_group(self, "pipeline")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=10)

    async def action_quit(self) -> None:
        """Stop the sources, flush the recording, then leave: nothing received is lost."""
        self.workers.cancel_group(self, "pipeline")
        await self.moderation.close()
        try:
            await asyncio.wait_for(self._stopped.wait(), timeout=10)
        except TimeoutError:
            self.notify("The recording did not close in time", severity="error")
        self.exit()


def settle_collector() -> None:
    """For a process that runs the desk, before it starts. Everything loaded by then (Textual,
    the rules, the word lists: most of the heap) lives as long as the process, so it is moved
    out of the collector's sight; and young collections run every 10,000 allocations instead
    of 700, so most chat objects, which live seconds, die of their reference count before they
    are promoted. At 2,000 msg/s the defaults ran a full collection twice a second, about
    130 ms each; now it is about one every 9 s (bench/desk_bench.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


_DESK_ONLY = frozenset({"quit", "toggle_pause", "search", "edit_rules", "review_suggestion",
                        "toggle_replay", "seek", "team"})  # fmt: skip
# Decisions that need no answer from a platform: the item settles at once.
_SETTLED = {ActionKind.DISMISS: ItemState.DISMISSED, ActionKind.APPROVE: ItemState.APPROVED}


def _targets(item: PriorityItem, kind: ActionKind) -> list[PriorityItem]:
    """Acting on a flood: its newest messages for deletions and decisions (up to
    KEEP_MEMBERS), each of its authors once for bans, timeouts and warnings."""
    if not item.members:
        return [item]
    if kind in (ActionKind.BAN, ActionKind.TIMEOUT, ActionKind.WARN):
        return list(item.by_author.values())
    return item.group
