"""Stream signals: what they cost, and how well they do on every bundled scenario.

    python bench/signals_bench.py [--rounds 3]

Cost: a chat at 5,000 messages a second of its own clock (bench/data/rate-5k.toml, 150,000
messages) judged in memory by the starter packs, with and without signals, alternating rounds
in one process; end to end (replay → triage → signals → store) as fast as possible, with and
without; and paced at its own 5,000 messages/s, with and without. Quality: each bundled
scenario generated, run through the headless pipeline and scored against its labels
(replay/scoring.py), as `vigile scenario NAME --db F` and `vigile loadtest F --max` do.
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

from vigile.connectors.model import ChatMessage  # noqa: E402
from vigile.connectors.sources import SourceHub  # noqa: E402
from vigile.filters.rules import load_starter_packs  # noqa: E402
from vigile.filters.signals import Signals  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402
from vigile.replay.loadtest import run_loadtest  # noqa: E402
from vigile.replay.pipeline import Pipeline  # noqa: E402
from vigile.replay.player import ReplaySource  # noqa: E402
from vigile.replay.scoring import score_run  # noqa: E402
from vigile.replay.store import SessionStore  # noqa: E402
from vigile.scenarios.format import load_scenario  # noqa: E402
from vigile.scenarios.generate import generate, write_session  # noqa: E402

RATE_5K = Path(__file__).parent / "data" / "rate-5k.toml"
SCENARIOS = [
    "demo",
    "esports-raid",
    "hijacked-hashtag",
    "product-recall",
    "black-friday",
    "harassment-campaign",
]


def in_memory(messages: list[ChatMessage], triage: Triage, with_signals: bool) -> float:
    signals = Signals() if with_signals else None
    started = time.perf_counter()
    for m in messages:
        verdict = triage.judge(m)
        if signals is not None:
            signals.observe(m, verdict)
    return len(messages) / (time.perf_counter() - started)


async def end_to_end(
    source: Path, triage: Triage, with_signals: bool, speed: float | None
) -> float:
    out = Path(tempfile.mkdtemp()) / "run.db"
    store = await SessionStore.open(out)
    await store.start_session("bench", "loadtest", ["bench"])
    hub = SourceHub([ReplaySource(source, speed)], maxsize=2_000)
    pipeline = Pipeline(hub, triage, store, with_signals=with_signals)
    started = time.perf_counter()
    stats = await pipeline.run()
    await store.close()
    return stats.messages / (time.perf_counter() - started)


async def main(rounds: int) -> None:
    triage = Triage(load_starter_packs())
    folder = Path(tempfile.mkdtemp(prefix="vigile-signals-"))
    busy = folder / "rate-5k.db"
    await write_session(load_scenario(str(RATE_5K)), busy)
    messages = [m for m, _ in generate(load_scenario(str(RATE_5K))) if isinstance(m, ChatMessage)]

    print(
        f"## Cost at 5,000 messages/s ({len(messages):,} messages of bench/data/rate-5k.toml, "
        f"median of {rounds} alternating rounds)\n"
    )
    print("| | without signals | with signals | ratio |\n|---|---|---|---|")
    plain, signalled = [], []
    for _ in range(rounds):  # alternate, so that machine noise hits both alike
        plain.append(in_memory(messages, triage, False))
        signalled.append(in_memory(messages, triage, True))
    a, b = statistics.median(plain), statistics.median(signalled)
    print(f"| triage in memory (msg/s) | {a:,.0f} | {b:,.0f} | {b / a:.2f} |")
    plain_e2e, signalled_e2e = [], []
    for _ in range(rounds):
        plain_e2e.append(await end_to_end(busy, triage, False, None))
        signalled_e2e.append(await end_to_end(busy, triage, True, None))
    a, b = statistics.median(plain_e2e), statistics.median(signalled_e2e)
    print(
        f"| replay → triage → store, as fast as possible (msg/s) | {a:,.0f} | {b:,.0f} | "
        f"{b / a:.2f} |"
    )
    for with_signals in (False, True):
        report = await run_loadtest(
            busy, 1.0, folder / f"paced-{with_signals}.db", triage, signals=with_signals
        )
        label = "with" if with_signals else "without"
        print(
            f"| paced at 5,000 msg/s, {label} signals: throughput, p99 latency, dropped | "
            f"{report.throughput_per_s:,.0f} msg/s, p99 {report.latency_ms_p99} ms, "
            f"{report.dropped} dropped | | |"
        )

    print("\n## Scenarios (scored against their labels)\n")
    print(
        "| scenario | messages | flag precision / recall | raid members precision / recall "
        "| onset → first alert | alerts before onset | alerts raised |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in SCENARIOS:
        source = folder / f"{name}.db"
        if not source.exists():
            await write_session(load_scenario(name), source)
        run = folder / f"{name}-run.db"
        await run_loadtest(source, None, run, triage)
        score = score_run(source, run)
        assert score is not None
        onset = (
            "no raid"
            if score.raid_onset is None
            else (
                "never"
                if score.seconds_to_first_alert is None
                else f"{score.seconds_to_first_alert:.1f} s"
            )
        )
        before = "–" if score.raid_onset is None else str(score.alerts_before_onset)
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(score.alerts.items())) or "none"
        print(
            f"| {name} | {score.labelled:,} | {_pct(score.flag_precision)} / "
            f"{_pct(score.flag_recall)} | {_pct(score.raid_precision)} / "
            f"{_pct(score.raid_recall)} | {onset} | {before} | {kinds} |"
        )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
