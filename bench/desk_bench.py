"""The desk under a 2,000 messages/s replay: key press to screen, drain time per frame, queue
depth and memory over the run.

    python bench/desk_bench.py [--seconds 110]
    python bench/desk_bench.py --seconds 600 --calm-seconds 570   # a ten-minute soak
    python bench/desk_bench.py --default-collector                 # Python's GC settings as shipped

The real Textual app (headless, 160×45) replays bench/data/rate-2k.toml at its own pace
(2,000 messages a second, a raid at the end) through hub → triage → signals → store. Every
half second the bench presses `p` (pause/resume the live feed) and times it from the key
event to the first screen update that follows the action. Textual computes each update
(layout, widget lines) before handing it to the terminal; headless, that hand-off is where the
clock stops, so the terminal's own write is not included. Garbage collections are timed by
generation; the desk runs with `settle_collector()` as `vigile` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vigile.filters.rules import load_starter_packs  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402
from vigile.replay.loadtest import rss_mib  # noqa: E402
from vigile.replay.pipeline import SessionPlan  # noqa: E402
from vigile.replay.player import ReplaySource  # noqa: E402
from vigile.scenarios.format import load_scenario  # noqa: E402
from vigile.scenarios.generate import write_session  # noqa: E402
from vigile.tui.app import VigileApp, settle_collector  # noqa: E402
from vigile.tui.widgets.live_feed import LiveFeed  # noqa: E402

RATE_2K = Path(__file__).parent / "data" / "rate-2k.toml"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def main(seconds: float, calm_seconds: float | None, default_collector: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="vigile-desk-"))
    source = folder / "rate-2k.db"
    scenario = RATE_2K
    if calm_seconds:  # the same chat, with a longer calm before the raid
        scenario = folder / "rate-2k-long.toml"
        text = RATE_2K.read_text("utf-8").replace(
            "duration = 90", f"duration = {calm_seconds:g}", 1
        )
        scenario.write_text(text, "utf-8")
    await write_session(load_scenario(str(scenario)), source)
    plan = SessionPlan("desk bench", "replay", [ReplaySource(source, 1.0)], folder / "run.db")
    app = VigileApp(plan, Triage(load_starter_packs()))
    if not default_collector:
        settle_collector()  # as `vigile demo|replay|watch` does

    drains: list[float] = []  # seconds spent per drain (one per frame)
    press: dict[str, float] = {}  # this press: when the action ran, when the screen showed it
    shown = asyncio.Event()
    display, toggle, drain = app._display, app.action_toggle_pause, app._drain

    def timed_display(screen, renderable) -> None:  # noqa: ANN001 - Textual's own signature
        if renderable is not None and "acted" in press and not shown.is_set():
            press["shown"] = time.perf_counter()
            shown.set()
        display(screen, renderable)

    def timed_toggle() -> None:
        toggle()
        press["acted"] = time.perf_counter()

    def timed_drain() -> None:
        started = time.perf_counter()
        drain()
        drains.append(time.perf_counter() - started)

    app._display, app.action_toggle_pause, app._drain = timed_display, timed_toggle, timed_drain
    latencies, depths, memory, blocks, sampled_at = [], [], [], [], []
    minutes_told = 0
    collections: dict[int, list[float]] = {0: [], 1: [], 2: []}  # ms, by generation
    collecting = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            collecting[0] = time.perf_counter()
        else:
            collections[info["generation"]].append((time.perf_counter() - collecting[0]) * 1000)

    gc.callbacks.append(on_gc)
    async with app.run_test(headless=True, size=(160, 45)) as pilot:
        while app.pipeline is None:
            await pilot.pause(0.05)
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            await asyncio.sleep(0.5)
            press.clear()
            shown.clear()
            pressed = time.perf_counter()
            app.simulate_key("p")
            await asyncio.wait_for(shown.wait(), 10)  # the action ran and the screen shows it
            latencies.append((press["shown"] - pressed) * 1000)
            depths.append(app.pipeline.hub.depth)
            memory.append(rss_mib())
            blocks.append(sys.getallocatedblocks() / 1e6)  # Python's own objects, in millions
            sampled_at.append(time.perf_counter() - started)
            if (minute := int(sampled_at[-1] // 60)) > minutes_told:  # progress, for long runs
                minutes_told = minute
                print(
                    f"minute {minute}: RSS {memory[-1]:.0f} MiB, {blocks[-1]:.2f} M Python blocks",
                    file=sys.stderr,
                    flush=True,
                )
        messages = app.pipeline.stats.messages
        feed = app.query_one(LiveFeed)
        await pilot.press("q")
    elapsed = time.perf_counter() - started
    gc.callbacks.remove(on_gc)
    drain_ms = [d * 1000 for d in drains]
    print(f"## Desk at 2,000 msg/s ({elapsed:.0f} s, {messages:,} messages judged and shown)\n")
    print("| | p50 | p95 | max |\n|---|---|---|---|")
    print(
        f"| key press → screen ({len(latencies)} presses, ms) | "
        f"{percentile(latencies, 0.5):.1f} | {percentile(latencies, 0.95):.1f} | "
        f"{max(latencies):.1f} |"
    )
    print(
        f"| drain per frame ({len(drains):,} frames, ms) | {percentile(drain_ms, 0.5):.1f} | "
        f"{percentile(drain_ms, 0.95):.1f} | {max(drain_ms):.1f} |"
    )
    print(
        f"| hub queue depth at each press | {percentile(depths, 0.5):.0f} | "
        f"{percentile(depths, 0.95):.0f} | {max(depths)} |"
    )
    for generation, pauses in collections.items():
        if pauses:
            print(
                f"| garbage collections of generation {generation} ({len(pauses):,}, ms) | "
                f"{percentile(pauses, 0.5):.1f} | {percentile(pauses, 0.95):.1f} | "
                f"{max(pauses):.1f} |"
            )
    third = max(1, len(memory) // 3)
    print(
        f"\nmemory (RSS, MiB): first third {statistics.mean(memory[:third]):.0f}, "
        f"middle {statistics.mean(memory[third:-third] or memory):.0f}, "
        f"last third {statistics.mean(memory[-third:]):.0f}; feed buffer "
        f"{len(feed.lines()):,} lines"
    )
    if elapsed > 300:  # a soak: the memory minute by minute of the run
        print(
            "memory by minute (MiB): " + " ".join(f"{m:.0f}" for m in by_minute(memory, sampled_at))
        )
        print(
            "Python blocks by minute (millions): "
            + " ".join(f"{b:.2f}" for b in by_minute(blocks, sampled_at))
        )


def by_minute(samples: list[float], at: list[float]) -> list[float]:
    """The mean of the samples taken in each whole minute of the run."""
    minutes: dict[int, list[float]] = {}
    for value, seconds in zip(samples, at, strict=True):
        minutes.setdefault(int(seconds // 60), []).append(value)
    return [statistics.mean(values) for _, values in sorted(minutes.items())]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=110.0)
    parser.add_argument("--calm-seconds", type=float, help="stretch the calm before the raid")
    parser.add_argument(
        "--default-collector", action="store_true", help="leave Python's collector as it comes"
    )
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.calm_seconds, args.default_collector))
