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
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState

from vigile.connectors.actions import Moderation
from vigile.connectors.model import ActionKind, ChatMessage, PlatformEvent, Verdict, utc_now
from vigile.filters.alert_notice import is_alert
from vigile.filters.triage import Triage
from vigile.replay.pipeline import DELETION_KINDS, Pipeline, SessionPlan, purged_author, run_session
from vigile.tui.channel_commands import ChannelCommand
from vigile.tui.chat_text import CLOCK_ZONE, inert
from vigile.tui.config import DeskConfig
from vigile.tui.desk import Desk, Severity
from vigile.tui.flagged import PriorityItem
from vigile.tui.lockdown import LockdownPreset
from vigile.tui.team import DeskTeam, TeamScreen
from vigile.tui.twitch_desk import EVENTS as TWITCH_EVENTS
from vigile.tui.twitch_keys import TwitchToolKeys
from vigile.tui.widgets.cards import CardScreen, explanation, user_card
from vigile.tui.widgets.desk_header import DeskFigures, DeskHeader
from vigile.tui.widgets.live_feed import LiveFeed
from vigile.tui.widgets.priority_pane import PriorityPane, format_age
from vigile.tui.widgets.rule_editor import RuleEditorScreen
from vigile.tui.widgets.suggestion import SuggestionScreen

if TYPE_CHECKING:
    from vigile.archive.follow import ArchiveLink
    from vigile.archive.watchlist import Watchlist

FRAME_S = 1 / 30  # drain the inbox at frame rate: ingest at wire speed, draw at frame rate
_INBOX_LIMIT = 50_000  # beyond this the feed only needs the newest; the store has everything


class VigileApp(TwitchToolKeys, App[None]):
    """The moderator desk on screen: the header, the priority pane beside the live feed, the
    footer of keys. It composes, binds keys, runs workers and draws; what the keys do is the
    headless `Desk`'s (self.desk).

    The session runs as the `pipeline` worker (sources → triage → signals → store); what it
    produces lands in `_inbox` at wire speed and `_drain` moves it to the panes at frame rate
    (FRAME_S), so a raid never makes a key press wait. `clock` is what ages and rates are
    measured against; tests pin it.
    """

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
        Binding(
            "l",
            "lockdown",
            "Lockdown",
            id="twitch.lockdown",
            tooltip="Raid lockdown on Twitch: Shield Mode and the preset chat modes (asks first); "
            "again to lift it",
        ),
        Binding(
            "g",
            "mod_log",
            "Mod log",
            id="twitch.mod_log",
            show=False,
            tooltip="Every moderator's actions in the channel, as Twitch tells them",
        ),
        Binding(
            "u",
            "unban_requests",
            "Unban requests",
            id="twitch.unban_requests",
            show=False,
            tooltip="Twitch unban requests, with each requester's history this session",
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
        archive: ArchiveLink | None = None,
        watchlist: Watchlist | None = None,
    ) -> None:
        """`team`: this desk's link to a team hub (claims, shared rules, roster), if any.
        `archive`: its link to the agency archive (pushes, watchlist); `watchlist`: one from a
        file, for a desk without a connection."""
        super().__init__()
        self.plan, self.triage, self.moderator = plan, triage, moderator
        self.config = config or DeskConfig()
        self.desk = Desk(plan, triage, moderator, moderation, team)
        self.desk.clock = lambda: self.clock()
        self.desk.listeners.append(self._notify_told)
        self.clock: Callable[[], float] = utc_now  # what ages and rates are measured against
        self.blur = self.config.blur_matches
        self.set_keymap(self.config.keys)
        self.moderation = self.desk.moderation
        self.recording: Path = plan.db_path
        self._inbox: deque[tuple[ChatMessage | PlatformEvent, Verdict | None, int | None]] = deque(
            maxlen=_INBOX_LIMIT
        )
        self._stopped = asyncio.Event()
        self.pipeline_error: BaseException | None = None
        self.team = team
        self.archive = archive
        self.desk.known.watchlist = watchlist
        self.desk.twitch.preset = LockdownPreset.parse(self.config.lockdown)

    @property
    def pipeline(self) -> Pipeline | None:
        return self.desk.pipeline

    @property
    def notices(self) -> deque[str]:
        """What the desk told the moderator, newest last."""
        return self.desk.notices

    @property
    def rules_error(self) -> str | None:
        return self.desk.rules_error

    @property
    def caught_up(self) -> bool:
        """Everything the pipeline has handed over is in the feed and the queue."""
        return not self._inbox and not self.query_one(PriorityPane).waiting

    def compose(self) -> ComposeResult:
        yield DeskHeader(id="header")
        with Horizontal(id="panes"):
            c = self.config
            pane = PriorityPane(c.queue_size, c.response_targets_s, c.blur_matches, id="priority")
            pane.clock = lambda: self.clock()
            self.desk.board = pane
            if self.team is not None:  # its share of the queue, without what others handled
                pane.admit = self.team.admit
            yield pane
            feed = LiveFeed(c.feed_size, c.blur_matches, id="feed")
            feed.known_note = self.desk.known.note  # the ⚑ of a known offender's lines
            feed.suspects = self.desk.twitch.suspects  # the desk's own, kept up to date
            yield feed
        yield Input(placeholder="search the live feed (Enter: find, Escape: close)", id="search")
        yield Footer(compact=True)  # every key fits at 180 columns

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
        if self.archive is not None:
            self.run_archive_link()
        if self.team is not None:
            self.run_team_link()
            self.set_interval(
                2.0, lambda: self.team and self.team.report(len(self.query_one(PriorityPane).items))
            )

    @work(group="archive", exit_on_error=False)
    async def run_archive_link(self) -> None:
        if self.archive is not None:
            await self.archive.run()

    @work(group="team", exit_on_error=False)
    async def run_team_link(self) -> None:
        if self.team is not None:
            await self.team.link.run()

    # -- the pipeline, as a worker of the app -------------------------------------------------

    def _attach(self, pipeline: Pipeline) -> None:
        self.desk.pipeline = pipeline
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
        self.notify(
            "All sources have ended. Actions are still recorded; q saves and quits.", timeout=10
        )
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
                self.desk.seen(item)
                if (row := self.desk.known.queue_item(item, verdict, seq, now)) is not None:
                    flagged.append(self.desk.twitch.ranked(row))
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
            elif isinstance(item, PlatformEvent) and item.kind in TWITCH_EVENTS:
                pane.add_items(flagged)  # a hold and its release in one frame: both seen
                flagged = []
                self.twitch_event(item, now)
            elif isinstance(item, PlatformEvent) and is_alert(item):
                self.desk.alert_seen(item)
            elif isinstance(item, PlatformEvent) and item.kind == "rules_rejected":
                refused = self.desk.rules_refused(item)
                self.notify(
                    f"Rule edit refused, running rules kept.\n{refused}",
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
        title = f"Live feed ({CLOCK_ZONE})"  # the chat's own times, zone named once
        if not feed.tail:
            title += f" — paused · {feed.unseen} new"
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

    def _archive_summary(self, recorded: int) -> str:
        """The archive's state for the header; a refreshed watchlist goes to the desk here."""
        if self.archive is None:
            known = len(self.desk.known)
            return f"watchlist {known:,}" if self.desk.known.watchlist is not None else ""
        if self.archive.watchlist is not None:
            self.desk.known.watchlist = self.archive.watchlist
        summary = self.archive.summary(recorded if self.archive.pushing else None)
        return f"{summary} · watchlist {len(self.desk.known):,}"

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
            alerts=self.desk.alerts(),
            team=self.team.summary() if self.team is not None else "",
            paused=tuple((r.name, r.position) for r in self.desk.replays() if r.paused),
            archive=self._archive_summary(pipeline.store.committed_messages),
            twitch=self.desk.twitch.header(),
        )
        self.query_one(DeskHeader).show(figures)
        self._update_titles()

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _DESK_ONLY and self.screen is not self.screen_stack[0]:
            return False  # on the editor or a card, q types a q and does not quit the desk
        if action in ("toggle_replay", "seek"):
            return bool(self.desk.replays())  # replay keys only where something is replayed
        if action == "team":
            return self.team is not None
        if action in ("lockdown", "mod_log", "unban_requests"):
            return self.desk.twitch.relevant()  # a desk with no Twitch in it has no use for them
        return True

    def action_toggle_replay(self) -> None:
        for replay in self.desk.toggle_replay():
            state = "paused" if replay.paused else "resumed"
            self.notify(f"Replay {state} at {format_age(replay.position)}", timeout=3)
        self._refresh_header()  # the header says so at once, and for as long as it lasts

    def action_seek(self, seconds: float) -> None:
        for replay in self.desk.seek(seconds):
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
        if event.item.held and event.kind in (ActionKind.APPROVE, ActionKind.DELETE):
            self.resolve_hold(event.item, allow=event.kind is ActionKind.APPROVE)
            return
        if self.desk.request(event.item, event.kind):
            self.carry_out(event.item, event.kind, event.duration_s)

    def on_priority_pane_claim(self, event: PriorityPane.Claim) -> None:
        self.toggle_claim(event.item)

    @work(group="actions")
    async def toggle_claim(self, item: PriorityItem) -> None:
        await self.desk.toggle_claim(item)

    def on_priority_pane_explain(self, event: PriorityPane.Explain) -> None:
        m, item = event.item.message, event.item
        body = explanation(m, item.ours or item.verdict, self.blur)
        title = f"Why this was flagged: {inert(m.author_name)}"
        if item.held:
            title = f"Held by AutoMod ({inert(item.held)}); Vigile's verdict beside it"
        self.push_screen(CardScreen(title, body))

    def on_priority_pane_user_card(self, event: PriorityPane.UserCard) -> None:
        self.show_user_card(event.item.message)

    @work(group="cards", exclusive=True, exit_on_error=False)
    async def show_user_card(self, message: ChatMessage) -> None:
        if self.pipeline is None:
            return
        try:
            known = self.desk.known.note(message)
            twitch = self.desk.twitch.suspect_note(message)
            body = await user_card(self.pipeline.store, message, self.blur, known, twitch)
        except (sqlite3.Error, ValueError) as exc:  # a locked or closed file: say so, go on
            self.tell(f"The user card cannot be read now: {exc}", severity="error")
            return
        self.push_screen(CardScreen(f"User card: {inert(message.author_name)}", body))

    @work(group="actions")
    async def carry_out(self, item: PriorityItem, kind: ActionKind, duration_s: int | None) -> None:
        await self.desk.carry_out(item, kind, duration_s)

    # -- suggested rules ---------------------------------------------------------------------------

    def action_review_suggestion(self) -> None:
        recent = [
            (line.message.text, line.verdict.flagged) for line in self.query_one(LiveFeed).lines()
        ]
        reviewed = self.desk.review_suggestion(recent)
        if reviewed is None:
            return
        why, rule, result = reviewed

        def decided(apply: bool | None) -> None:
            if apply:
                self.desk.apply_suggestion(rule)

        self.push_screen(SuggestionScreen(why, rule, result), decided)

    # -- the rule editor ----------------------------------------------------------------------

    def action_edit_rules(self) -> None:
        feed = self.query_one(LiveFeed)
        self.push_screen(
            RuleEditorScreen(self.desk, lambda: [line.message.text for line in feed.lines()])
        )

    # -- channel-wide actions, from the command palette ------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for command in self.desk.channel_commands():
            yield SystemCommand(
                command.title, command.help, partial(self.run_channel_command, command)
            )

    @work(group="actions")
    async def run_channel_command(self, command: ChannelCommand) -> None:
        await self.desk.run_channel_command(command)

    def tell(self, text: str, severity: Severity = "information") -> None:
        """A notification that chat text cannot style, kept for whoever asks what was said."""
        self.desk.tell(text, severity)

    def _notify_told(self, text: str, severity: Severity) -> None:
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


_DESK_ONLY = frozenset(
    {
        "quit",
        "toggle_pause",
        "search",
        "edit_rules",
        "review_suggestion",
        "toggle_replay",
        "seek",
        "team",
        "lockdown",
        "mod_log",
        "unban_requests",
    }
)
