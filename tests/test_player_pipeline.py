import asyncio
import sys
import time
from pathlib import Path

from tests.helpers import FedSource
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.sources import SourceHub
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import (
    SWITCH_INTERVAL_S,
    Pipeline,
    RateMeter,
    SessionPlan,
    run_session,
)
from vigile.replay.player import ReplaySource
from vigile.replay.store import SessionStore


async def test_replay_at_max_speed_yields_every_message_in_order(tiny_session: Path) -> None:
    async with await SessionStore.open(tiny_session) as store:
        original = [s.message async for s in store.messages()]
    replayed = [m async for m in SourceHub([ReplaySource(tiny_session, speed=None)])]
    messages = [m for m in replayed if isinstance(m, ChatMessage)]
    assert [m.id for m in messages] == [m.id for m in original]
    assert all(m.sent_at == o.sent_at for m, o in zip(messages, original, strict=True))
    assert all(m.received_at > o.received_at for m, o in zip(messages, original, strict=True))
    kinds = [e.kind for e in replayed if isinstance(e, PlatformEvent)]
    assert kinds == ["scenario:phase", "scenario:phase", "raid"]


async def test_replay_keeps_the_pacing_at_ten_times_speed(tiny_session: Path) -> None:
    async with await SessionStore.open(tiny_session) as store:
        sent = [s.message.sent_at async for s in store.messages()]
    span = sent[-1] - sent[0]
    started = time.monotonic()
    count = len([m async for m in SourceHub([ReplaySource(tiny_session, speed=10)])])
    elapsed = time.monotonic() - started
    assert count >= len(sent)
    assert span / 10 * 0.9 <= elapsed <= span / 10 + 0.5


async def test_replay_keeps_real_time_at_one_times_speed(tiny_session: Path) -> None:
    async with await SessionStore.open(tiny_session, readonly=True) as store:
        sent = [s.message.sent_at async for s in store.messages()]
    source = ReplaySource(tiny_session, speed=1.0)
    source.seek(5.0)  # the last seconds of the recording, at their own pace
    started = time.monotonic()
    messages = [m async for m in SourceHub([source]) if isinstance(m, ChatMessage)]
    elapsed = time.monotonic() - started
    span = sent[-1] - messages[0].sent_at
    assert messages[0].sent_at >= sent[0] + 5.0
    assert span * 0.95 <= elapsed <= span + 0.5


async def test_pipeline_records_everything_with_verdicts_and_rules(tmp_path, tiny_session) -> None:
    out = tmp_path / "run.db"
    triage = Triage(load_starter_packs())
    seen: list[tuple[object, object]] = []
    plan = SessionPlan("rehearsal", "replay", [ReplaySource(tiny_session, speed=None)], out)
    stats = await run_session(
        plan,
        triage,
        on_ready=lambda p: p.listeners.append(
            lambda item, verdict, seq: seen.append((item, verdict))
        ),
    )
    async with await SessionStore.open(tiny_session) as source:
        total = await source.count("messages")
    async with await SessionStore.open(out) as store:
        assert await store.count("messages") == total == stats.messages
        assert await store.count("verdicts") == stats.flagged > 0
        (version,) = await store.rows("SELECT * FROM rule_versions")
        assert version["version"] == 1 and "hate-fr" in version["content"]
        (session,) = await store.sessions()
        assert session["kind"] == "replay" and session["ended_at"]
        flagged_rows = await store.rows(
            "SELECT m.text, v.matches FROM verdicts v JOIN messages m ON m.seq = v.message_seq"
        )
    assert len([v for _, v in seen if v is not None and v.flagged]) == stats.flagged
    assert all('"rule_id"' in row["matches"] for row in flagged_rows)


async def test_a_rule_swap_mid_stream_is_recorded(tmp_path, tiny_session) -> None:
    out = tmp_path / "run.db"
    triage = Triage(load_starter_packs())
    async with await SessionStore.open(out) as store:
        await store.start_session("s", "replay", [])
        pipeline = Pipeline(SourceHub([ReplaySource(tiny_session, speed=None)]), triage, store)
        triage.swap(load_starter_packs()[:1], "supervisor", "editor")
        await pipeline.run()
    async with await SessionStore.open(out) as store:
        rows = await store.rows("SELECT version, author, origin FROM rule_versions ORDER BY id")
    assert [tuple(r) for r in rows] == [(1, "system", "start"), (2, "supervisor", "editor")]


def test_rate_meter_averages_complete_seconds() -> None:
    meter = RateMeter(window_s=2)
    for t in (100.1, 100.5, 101.2, 101.3, 101.9, 102.0):
        meter.add(t)
    assert meter.rate(102.5) == (2 + 3) / 2
    assert meter.rate(110.0) == 0


async def test_pause_holds_the_replay_and_resume_goes_on(tiny_session: Path) -> None:
    import asyncio

    source = ReplaySource(tiny_session, speed=None)
    received: list[object] = []

    async def consume() -> None:
        async for item in SourceHub([source], maxsize=1):  # a short queue: the source's pace shows
            received.append(item)
            if len(received) == 20:
                source.pause()

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    held = len(received)
    await asyncio.sleep(0.3)
    assert source.paused and 20 <= held <= 23 and len(received) == held  # nothing moves
    source.resume()
    await asyncio.wait_for(task, 10)
    async with await SessionStore.open(tiny_session) as store:
        total = await store.count("messages") + 3  # and the replayed events
    assert len(received) == total  # nothing lost by pausing


async def test_seek_jumps_forward_and_back(tiny_session: Path) -> None:
    source = ReplaySource(tiny_session, speed=None)
    origin = None
    offsets: list[float] = []
    async for item in SourceHub([source], maxsize=1):
        if not isinstance(item, ChatMessage):
            continue
        origin = item.sent_at if origin is None else origin
        offsets.append(item.sent_at - origin)
        if len(offsets) == 5:
            source.seek(5.0)  # into the raid
        elif len(offsets) == 12:
            source.seek(0.0)  # and back to the start
        elif len(offsets) == 20:
            break
    assert all(o < 1.0 for o in offsets[:5])
    assert all(o >= 5.0 for o in offsets[8:12])  # after what was in flight
    assert all(o < 1.0 for o in offsets[15:20])


async def test_a_read_only_recording_replays(tiny_session: Path) -> None:
    import os
    import stat

    os.chmod(tiny_session, stat.S_IRUSR)
    os.chmod(tiny_session.parent, stat.S_IRUSR | stat.S_IXUSR)  # no journal can be created
    try:
        count = len([m async for m in SourceHub([ReplaySource(tiny_session, speed=None)])])
    finally:
        os.chmod(tiny_session.parent, stat.S_IRWXU)
        os.chmod(tiny_session, stat.S_IRUSR | stat.S_IWUSR)
    assert count > 100


async def test_a_replay_read_faster_than_the_disk_waits_for_the_store(
    tmp_path, tiny_session
) -> None:
    """At max speed a replay must not buffer unwritten rows without bound: past the backlog
    the pipeline waits for the store. A live chat (no backlog) never waits."""
    async with await SessionStore.open(tiny_session, readonly=True) as store:
        total = await store.count("messages")
    triage = Triage(load_starter_packs())

    async def most_pending(backlog: int | None) -> tuple[int, int]:
        out = tmp_path / f"run-{backlog}.db"
        store = await SessionStore.open(out, batch_rows=10_000, batch_interval=60)
        await store.start_session("max", "replay", ["replay"])
        pipeline = Pipeline(
            SourceHub([ReplaySource(tiny_session, speed=None)]),
            triage,
            store,
            store_backlog=backlog,
        )
        peak = [0]
        pipeline.listeners.append(lambda *_: peak.__setitem__(0, max(peak[0], store.pending)))
        await pipeline.run()
        await store.close()
        async with await SessionStore.open(out, readonly=True) as written:
            return peak[0], await written.count("messages")

    assert total > 200
    unbounded, stored = await most_pending(None)  # the writer's batches are too big to help
    assert unbounded >= total and stored == total
    bounded, stored = await most_pending(50)
    assert bounded <= 50 + 10 and stored == total  # the last message's rows, an event or two


async def test_the_switch_interval_is_short_while_any_pipeline_runs(tmp_path: Path) -> None:
    """Two sessions in one process: the first to end leaves the other its short interval, and
    the last gives the process its own back."""
    before = sys.getswitchinterval()
    sources = [FedSource(), FedSource()]
    started = [asyncio.Event(), asyncio.Event()]

    def session(n: int) -> asyncio.Task:
        plan = SessionPlan(f"s{n}", "replay", [sources[n]], tmp_path / f"s{n}.db")
        ready = lambda p: p.listeners.append(lambda *_: started[n].set())  # noqa: E731
        return asyncio.create_task(run_session(plan, Triage(load_starter_packs()), ready))

    runs = []
    try:
        for n, source in enumerate(sources):  # one after the other: the first started ends first
            runs.append(session(n))
            source.say("hello")
            await asyncio.wait_for(started[n].wait(), 10)
        assert sys.getswitchinterval() == SWITCH_INTERVAL_S < before
        sources[0].queue.put_nowait(None)
        await runs[0]
        assert sys.getswitchinterval() == SWITCH_INTERVAL_S
        sources[1].queue.put_nowait(None)
        await runs[1]
        assert sys.getswitchinterval() == before
    finally:  # a failed check leaves no session running
        for source, run in zip(sources, runs, strict=False):
            source.queue.put_nowait(None)
            await run
