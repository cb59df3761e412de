"""Where the load test's time goes: each stage of the pipeline alone, then all of them together.

    vigile scenario esports-raid --db er.db
    python bench/loadtest_stages.py er.db [--rounds 3]

Stages, each timed alone over the whole session, in one process: reading (the replay player
through the source hub, flat out), triage (a fresh Triage judging every message), stream
signals (every message with its verdict), storing (queueing each row, then the batched,
sealed commits until the file is closed). Then the end-to-end load test (`vigile loadtest
FILE --max`: the same stages interleaved, with the store's commits on its own thread).
Prints microseconds per message, and the throughput each stage alone would allow.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vigile.connectors.model import ChatMessage, PlatformEvent, Verdict  # noqa: E402
from vigile.connectors.sources import SourceHub  # noqa: E402
from vigile.filters.rules import load_starter_packs  # noqa: E402
from vigile.filters.signals import Signals  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402
from vigile.replay.loadtest import run_loadtest  # noqa: E402
from vigile.replay.player import ReplaySource  # noqa: E402
from vigile.replay.store import SessionStore  # noqa: E402

Item = ChatMessage | PlatformEvent


async def read(source: Path) -> list[Item]:
    hub = SourceHub([ReplaySource(source, None)], maxsize=1_000)
    items = [item for batch in [b async for b in hub.batches(100)] for item in batch]
    await hub.stop()
    return items


def judge(items: list[Item], triage: Triage) -> list[Verdict | None]:
    return [triage.judge(i) if isinstance(i, ChatMessage) else None for i in items]


def observe(items: list[Item], verdicts: list[Verdict | None]) -> list[Verdict | None]:
    signals, out = Signals(), []
    for item, verdict in zip(items, verdicts, strict=True):
        if isinstance(item, ChatMessage) and verdict is not None:
            out.append(signals.observe(item, verdict)[0])
        else:
            signals.observe_event(item)  # type: ignore[arg-type]
            out.append(None)
    return out


async def store(items: list[Item], verdicts: list[Verdict | None], out: Path) -> None:
    session = await SessionStore.open(out)
    await session.start_session("bench", "loadtest", ["bench"])
    for n, (item, verdict) in enumerate(zip(items, verdicts, strict=True)):
        if isinstance(item, ChatMessage):
            session.add_message(item, verdict)
        else:
            session.add_event(item)
        if n % 100 == 0:
            await asyncio.sleep(0)  # the writer's turn, as the pipeline gives it
    await session.close()


def timed(work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a session file (vigile scenario NAME --db F)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    packs = load_starter_packs()
    folder = Path(tempfile.mkdtemp(prefix="vigile-stages-"))
    seconds: dict[str, list[float]] = {}
    rates, p99s = [], []
    messages = 0
    for n in range(args.rounds):
        items, t_read = timed(lambda: asyncio.run(read(args.source)))
        messages = sum(isinstance(i, ChatMessage) for i in items)
        triage = Triage(packs)
        verdicts, t_judge = timed(lambda: judge(items, triage))  # noqa: B023
        final, t_signals = timed(lambda: observe(items, verdicts))  # noqa: B023
        out = folder / f"stored-{n}.db"
        _, t_store = timed(lambda: asyncio.run(store(items, final, out)))  # noqa: B023
        for stage, spent in (
            ("read (player → hub)", t_read),
            ("triage", t_judge),
            ("stream signals", t_signals),
            ("store (queue, seal, commit)", t_store),
        ):
            seconds.setdefault(stage, []).append(spent)
        report = asyncio.run(run_loadtest(args.source, None, folder / f"e2e-{n}.db", Triage(packs)))
        rates.append(report.throughput_per_s)
        p99s.append(report.latency_ms_p99)
    print(f"{messages:,} messages, median of {args.rounds} rounds")
    total = 0.0
    for stage, spent in seconds.items():
        each = statistics.median(spent) / messages
        total += each
        print(f"  {stage:30} {each * 1e6:7.1f} µs/message  (alone: {1 / each:9,.0f} msg/s)")
    print(f"  {'sum of the stages':30} {total * 1e6:7.1f} µs/message  ({1 / total:9,.0f} msg/s)")
    print(
        f"  end to end (loadtest --max): {statistics.median(rates):,.0f} msg/s, "
        f"p99 {statistics.median(p99s):.0f} ms (each round: "
        + ", ".join(f"{r:,.0f}/{p:.0f} ms" for r, p in zip(rates, p99s, strict=True))
        + ")"
    )


if __name__ == "__main__":
    main()
