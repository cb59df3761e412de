"""The headless desk: hub → triage → store, the one path every command and the TUI share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from vigile.connectors.model import ChatMessage, MessageKind, PlatformEvent, Verdict, utc_now
from vigile.connectors.sources import Source, SourceHub
from vigile.filters.rules import RulePackError
from vigile.filters.signals import Signals
from vigile.filters.triage import RulesVersion, Triage
from vigile.filters.watch import PackWatcher
from vigile.replay.store import SessionStore

log = logging.getLogger(__name__)

# Platform events that mean "this message is gone": the store marks it, the evidence keeps it.
DELETION_KINDS = frozenset({"clearmsg", "delete"})
AUTHOR_DELETION_KINDS = frozenset({"ban", "timeout", "delete_by_author"})


def purged_author(event: PlatformEvent) -> str | None:
    """The author whose messages this event removes from chat, if any."""
    if event.kind not in AUTHOR_DELETION_KINDS:
        return None
    return str(event.data.get("author_id") or event.data.get("user_id") or "") or None


# Items taken from the hub at once, at most: those already waiting, never a wait for more. The
# event loop turns between two batches (about 5-15 ms of triage at this size), so the store's
# writer and the screen keep their pace during a flood.
_BATCH = 50
# The interpreter's switch interval while a pipeline runs. The store writes on its database
# thread, which needs the interpreter lock back after every SQLite call; at Python's default
# (5 ms) a busy pipeline made it wait up to 5 ms each time, and a commit of 2,500 rows took
# 300-500 ms (p99 ingest-to-stored over a second). At 0.5 ms: about 30 ms, same throughput.
SWITCH_INTERVAL_S = 0.0005
_running_pipelines = 0
_process_switch_interval = 0.0


def _pipeline_starts() -> None:
    global _running_pipelines, _process_switch_interval
    if _running_pipelines == 0:
        _process_switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(_process_switch_interval, SWITCH_INTERVAL_S))
    _running_pipelines += 1


def _pipeline_ends() -> None:
    """The process's own switch interval back when its last pipeline ends (a desk and a load
    test, or two sessions, may overlap)."""
    global _running_pipelines
    _running_pipelines -= 1
    if _running_pipelines == 0:
        sys.setswitchinterval(_process_switch_interval)


# A replay read faster than the disk writes (loadtest --max, ×100) waits for the store past
# this many unwritten rows (about two seconds of writing), so memory stays bounded.
STORE_BACKLOG = 20_000


class RateMeter:
    """Events per second over a sliding window of one-second buckets."""

    def __init__(self, window_s: int = 5) -> None:
        self._window = window_s
        self._buckets: deque[list[float]] = deque()  # [second, count]

    def add(self, now: float, count: int = 1) -> None:
        second = int(now)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += count
        else:
            self._buckets.append([second, count])
            while self._buckets and self._buckets[0][0] < second - self._window:
                self._buckets.popleft()

    def rate(self, now: float) -> float:
        """Average over the last complete seconds of the window."""
        second = int(now)
        total = sum(c for s, c in self._buckets if second - self._window <= s < second)
        return total / self._window


@dataclass(slots=True)
class PipelineStats:
    messages: int = 0
    flagged: int = 0
    events: int = 0


Listener = Callable[[ChatMessage | PlatformEvent, Verdict | None, int | None], None]


class Pipeline:
    """Consumes the hub, judges each message with the current rules, records everything.

    Listeners (the TUI, the load test) receive `(item, verdict, seq)` synchronously and must
    only buffer: the per-message path runs thousands of times a second.
    """

    def __init__(
        self,
        hub: SourceHub,
        triage: Triage,
        store: SessionStore,
        with_signals: bool = True,
        store_backlog: int | None = None,
    ) -> None:
        """`with_signals`: stream alerts (raids, floods…); off only to measure what they cost.
        `store_backlog`: for sources that can wait (replays), the rows the store may hold
        unwritten before reading pauses for the disk; None (live chat) never pauses."""
        self.hub, self.triage, self.store = hub, triage, store
        self.store_backlog = store_backlog
        self.signals = Signals() if with_signals else None
        self.stats = PipelineStats()
        self.message_rate = RateMeter()
        self.flag_rate = RateMeter()
        self.listeners: list[Listener] = []
        self._last_item_at = utc_now()
        for version in triage.history:
            self._record_rules(version)
        triage.listeners.append(self._record_rules)

    def _record_rules(self, v: RulesVersion) -> None:
        self.store.add_rule_version(v.ts, v.version, v.author, v.origin, v.digest, v.text)

    def record_event(self, event: PlatformEvent) -> None:
        """An event of our own (a refused rule edit, an alert): recorded and shown like any."""
        self.store.add_event(event)
        self.stats.events += 1
        for listener in self.listeners:
            listener(event, None, None)

    def rules_rejected(self, error: RulePackError) -> None:
        data = {"error": error.reason, "file": error.file, "line": error.line}
        log.warning("rule edit refused, running rules kept: %s", error)
        self.record_event(PlatformEvent("vigile", "", "rules_rejected", data=data))

    async def run(self) -> PipelineStats:
        judge, store, stats, signals = self.triage.judge, self.store, self.stats, self.signals
        listeners, backlog = self.listeners, self.store_backlog
        ticking = asyncio.create_task(self._tick_signals(), name="signals-tick")
        _pipeline_starts()
        try:
            async for batch in self.hub.batches(_BATCH):
                now = self._last_item_at = utc_now()
                messages_before, flagged_before = stats.messages, stats.flagged
                for item in batch:
                    if not isinstance(item, ChatMessage):
                        self._event(item)
                        continue
                    verdict = judge(item)
                    alerts = ()
                    if signals is not None and (item.text or item.kind != MessageKind.NOTICE):
                        # a sub or gift notice with no words is not chat: fifty gifts at
                        # once must not count as a burst of clean lines in the stream signals
                        verdict, alerts = signals.observe(item, verdict)
                    seq = store.add_message(item, verdict)
                    stats.messages += 1
                    if verdict.flagged:
                        stats.flagged += 1
                    for listener in listeners:
                        listener(item, verdict, seq)
                    for alert in alerts:
                        self.record_event(alert)
                    if backlog is not None and store.pending >= backlog:
                        await store.caught_up(backlog // 2)
                if stats.messages > messages_before:
                    self.message_rate.add(now, stats.messages - messages_before)
                if stats.flagged > flagged_before:
                    self.flag_rate.add(now, stats.flagged - flagged_before)
                await asyncio.sleep(0)  # the store's writer, the UI and the sources: their turn
        finally:
            _pipeline_ends()
            ticking.cancel()
            if signals is not None:  # the recording ends: so do its alerts
                for alert in signals.end():
                    self.record_event(alert)
            self.triage.listeners.remove(self._record_rules)
            await self.hub.stop()
        return stats

    def _event(self, item: PlatformEvent) -> None:
        store, signals = self.store, self.signals
        if item.kind in DELETION_KINDS and "message_id" in item.data:
            store.mark_deleted(item.platform, str(item.data["message_id"]), item.ts)
        elif author := purged_author(item):
            store.mark_author_deleted(item.platform, author, utc_now())
        self.record_event(item)
        for alert in signals.observe_event(item) if signals is not None else ():
            self.record_event(alert)

    async def _tick_signals(self) -> None:
        """While the chat is quiet, time still passes: alerts clear."""
        while self.signals is not None:
            await asyncio.sleep(1.0)
            quiet = utc_now() - self._last_item_at
            if quiet >= 1.0:
                for alert in self.signals.tick(quiet):
                    self.record_event(alert)


class SessionKind(StrEnum):
    LIVE = "live"  # the only kind whose actions reach a platform
    REPLAY = "replay"
    DEMO = "demo"
    REHEARSAL = "rehearsal"


@dataclass(slots=True)
class SessionPlan:
    """What to run and where to record it."""

    name: str
    kind: SessionKind  # a plain string is read as one (ValueError if it is none)
    sources: list[Source]
    db_path: Path
    info: dict[str, object] = field(default_factory=dict)
    rule_files: list[Path] = field(default_factory=list)  # watched: edits go live at once

    def __post_init__(self) -> None:
        self.kind = SessionKind(self.kind)


async def run_session(
    plan: SessionPlan,
    triage: Triage,
    on_ready: Callable[[Pipeline], None] | None = None,
    on_ended: Callable[[PipelineStats], Awaitable[None]] | None = None,
) -> PipelineStats:
    """Open the store, record the session through the pipeline until the sources end or the
    task is cancelled, and always finish with a final flush.

    `on_ended` runs once the sources have ended, with the session still open: the desk waits
    there until the moderators quit, so actions on what is still queued are recorded too."""
    store = await SessionStore.open(plan.db_path)
    try:
        await store.start_session(plan.name, plan.kind, [s.name for s in plan.sources], plan.info)
        backlog = None if plan.kind is SessionKind.LIVE else STORE_BACKLOG
        pipeline = Pipeline(SourceHub(plan.sources), triage, store, store_backlog=backlog)
        if on_ready:
            on_ready(pipeline)
        watching = None
        if plan.rule_files:
            watcher = PackWatcher(plan.rule_files, triage, pipeline.rules_rejected)
            watching = asyncio.create_task(watcher.run(), name="rules-watcher")
        try:
            stats = await pipeline.run()
            if on_ended:
                await on_ended(stats)
            return stats
        finally:
            if watching:
                watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
    finally:
        await store.close()
