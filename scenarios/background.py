"""A scenario laid over a real session's chat (`vigile scenario NAME --background REAL.db`): the
generated attack is labelled, the real chat around it is copied unlabelled, so a team rehearses
a raid inside the noise of its own channel and the scores count only the generated part."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.replay.player import REPLAYED_EVENT_KINDS
from vigile.replay.reads import FIRST_SENT, MESSAGES_BY_CHANNEL
from vigile.replay.store import Label, SessionStore, StoredMessage
from vigile.scenarios.format import Channel, Scenario
from vigile.scenarios.generate import GenerationSummary, generate

_BATCH = 2_000
# the background's own platform events come along; a scenario's phases in it would move the
# raid onset the score measures from, so they stay out
_BACKGROUND_EVENTS = REPLAYED_EVENT_KINDS - {"scenario:phase"}


class BackgroundError(ValueError):
    """A background that cannot be used, in one line."""


@dataclass(frozen=True, slots=True)
class Overlay:
    """Where the generated chat lands: from `start` on, each scenario channel on a real one."""

    start: float
    channels: dict[tuple[str, str], tuple[str, str]]


async def write_over_background(
    scenario: Scenario, background: Path, db_path: Path, offset: float = 0.0
) -> tuple[GenerationSummary, int]:
    """The session at `db_path`: `scenario`, `offset` seconds after the background's first
    message, merged in time order with the background's messages and platform events.
    Returns the summary of the generated part and the count of real messages copied."""
    real = await SessionStore.open(background, readonly=True)  # StoreError if it is none
    try:
        overlay = await _overlay(real, scenario, offset)
        events = [e for e in await real.events() if e.kind in _BACKGROUND_EVENTS]
        moved = replace(scenario, start=overlay.start, channels=_moved(scenario, overlay))
        store = await SessionStore.open(db_path, batch_rows=_BATCH)
        try:
            return await _write(store, moved, real, events, background)
        finally:
            await store.close()
    finally:
        await real.close()


async def _overlay(real: SessionStore, scenario: Scenario, offset: float) -> Overlay:
    (first,) = await real.read(FIRST_SENT)
    channels = await real.read(MESSAGES_BY_CHANNEL)  # busiest first
    if first.value is None or not channels:
        raise BackgroundError(f"{real.path} holds no messages to lay a scenario over")
    mapping = {}
    for wanted in scenario.channels:
        same = [c for c in channels if c.platform == wanted.platform]
        chosen = (same or channels)[0]
        mapping[(wanted.platform, wanted.channel)] = (chosen.platform, chosen.channel)
    return Overlay(float(first.value) + offset, mapping)


def _moved(scenario: Scenario, overlay: Overlay) -> tuple[Channel, ...]:
    """The scenario's channels renamed to the real ones they land on (weights kept)."""
    return tuple(
        replace(
            c,
            platform=overlay.channels[(c.platform, c.channel)][0],
            channel=overlay.channels[(c.platform, c.channel)][1],
        )
        for c in scenario.channels
    )


async def _write(
    store: SessionStore,
    scenario: Scenario,
    real: SessionStore,
    events: list[PlatformEvent],
    background: Path,
) -> tuple[GenerationSummary, int]:
    sources = sorted({f"{c.platform}:{c.channel}" for c in scenario.channels})
    info = {
        "title": scenario.title,
        "seed": scenario.seed,
        "scenario": scenario.name,
        "background": str(background),
    }
    session_id = await store.start_session(
        f"{scenario.name} over {background.stem}",
        "scenario",
        [*sources, f"background:{background.name}"],
        info,
        started_at=scenario.start,
    )
    counts = {"messages": 0, "flag": 0, "raid": 0, "events": 0, "real": 0}
    generated = generate(scenario)
    async with contextlib.aclosing(real.messages()) as stored:
        async for item, label, is_real in _merged(generated, stored, events):
            if isinstance(item, StoredMessage):
                store.add_message(item.message)  # real chat: no label, never scored
                if item.deleted_at is not None:
                    store.mark_deleted(item.message.platform, item.message.id, item.deleted_at)
                counts["real"] += 1
            elif isinstance(item, ChatMessage):
                store.add_message(item, label=label)
                counts["messages"] += 1
                counts["flag"] += bool(label and label.should_flag)
                counts["raid"] += bool(label and label.raid_member)
            else:
                store.add_event(item)
                counts["events"] += not is_real
            if store.pending >= _BATCH:
                await store.flush()
    summary = GenerationSummary(
        store.path, session_id, counts["messages"], counts["flag"], counts["raid"], counts["events"]
    )
    return summary, counts["real"]


async def _merged(
    generated: Iterator[tuple[ChatMessage | PlatformEvent, Label | None]],
    stored: AsyncIterator[StoredMessage],
    events: list[PlatformEvent],
) -> AsyncIterator[tuple[ChatMessage | PlatformEvent | StoredMessage, Label | None, bool]]:
    """Both streams in time order, each item with its label and whether it is real chat; the
    generated part holds one item of look-ahead."""
    pending_events = iter(sorted(events, key=lambda e: e.ts))
    next_event = next(pending_events, None)
    upcoming = next(generated, None)
    async for row in stored:
        sent = row.message.sent_at
        while upcoming is not None and _time(upcoming[0]) <= sent:
            yield *upcoming, False
            upcoming = next(generated, None)
        while next_event is not None and next_event.ts <= sent:
            yield next_event, None, True
            next_event = next(pending_events, None)
        yield row, None, True
    while upcoming is not None:
        yield *upcoming, False
        upcoming = next(generated, None)
    while next_event is not None:
        yield next_event, None, True
        next_event = next(pending_events, None)


def _time(item: ChatMessage | PlatformEvent) -> float:
    return item.sent_at if isinstance(item, ChatMessage) else item.ts
