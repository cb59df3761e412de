"""The headless desk under replay load: throughput, ingest-to-stored latency, drops, memory."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from vigile.connectors.sources import SourceHub
from vigile.filters.triage import Triage
from vigile.replay.pipeline import STORE_BACKLOG, Pipeline
from vigile.replay.player import ReplaySource
from vigile.replay.reads import MESSAGE_COUNT, SessionFile
from vigile.replay.scoring import Score, score_run
from vigile.replay.store import SessionStore

# A replay at --max is an infinitely fast source: the queue is always full, so every message
# waits its whole length before triage (at 4,000 messages/s, 1,000 items were 250 ms of its
# latency). 250 still absorbs the pauses of the store's commits (now one thread call each).
LOAD_QUEUE = 250


@dataclass(frozen=True, slots=True)
class LoadReport:
    messages: int
    duration_s: float
    throughput_per_s: float
    latency_ms_p50: float
    latency_ms_p95: float
    latency_ms_p99: float
    latency_ms_max: float
    dropped: int
    peak_rss_mib: float
    rss_start_mib: float
    rss_end_mib: float
    flagged: int
    speed: str
    alerts: int = 0
    score: Score | None = None  # against the source's ground truth, when it has labels

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Progress:
    messages: int
    total: int
    rate_per_s: float
    queue: int
    unsaved: int


def rss_mib() -> float:
    """Resident memory now (not the peak), from /proc where there is one."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(share * len(sorted_values)) - 1))
    return sorted_values[index]


def count_messages(path: Path) -> int:
    with SessionFile(path) as db:
        count = db.one(MESSAGE_COUNT)
    return int(count.value) if count else 0


async def run_loadtest(
    source: Path,
    speed: float | None,
    out_db: Path,
    triage: Triage,
    on_progress: Callable[[Progress], None] | None = None,
    signals: bool = True,
) -> LoadReport:
    """Replay `source` through hub → triage → store into `out_db`; measure everything."""
    total = count_messages(source)
    latencies: list[float] = []
    rss_start = rss_mib()
    store = await SessionStore.open(out_db)
    store.commit_listeners.append(
        lambda received, committed_at: latencies.extend(committed_at - r for r in received)
    )
    await store.start_session(f"loadtest of {source.stem}", "loadtest", [f"replay:{source}"])
    hub = SourceHub([ReplaySource(source, speed)], maxsize=LOAD_QUEUE)
    pipeline = Pipeline(hub, triage, store, with_signals=signals, store_backlog=STORE_BACKLOG)
    started = time.perf_counter()
    reporter = None
    if on_progress:
        reporter = asyncio.create_task(_report(pipeline, total, started, on_progress))
    try:
        stats = await pipeline.run()
    finally:
        if reporter:
            reporter.cancel()
        await store.close()  # the final flush counts: a message is done once it is stored
    duration = time.perf_counter() - started
    score = score_run(source, out_db)
    latencies.sort()
    milliseconds = [value * 1000 for value in latencies]
    return LoadReport(
        messages=store.committed_messages,
        duration_s=round(duration, 3),
        throughput_per_s=round(store.committed_messages / duration, 1),
        latency_ms_p50=round(percentile(milliseconds, 0.50), 1),
        latency_ms_p95=round(percentile(milliseconds, 0.95), 1),
        latency_ms_p99=round(percentile(milliseconds, 0.99), 1),
        latency_ms_max=round(milliseconds[-1], 1) if milliseconds else 0.0,
        dropped=total - store.committed_messages,
        peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        rss_start_mib=round(rss_start, 1),
        rss_end_mib=round(rss_mib(), 1),
        flagged=stats.flagged,
        speed="max" if speed is None else f"x{speed:g}",
        alerts=sum((score.alerts if score else {}).values()),
        score=score,
    )


async def _report(
    pipeline: Pipeline, total: int, started: float, on_progress: Callable[[Progress], None]
) -> None:
    while True:
        await asyncio.sleep(1.0)
        done = pipeline.stats.messages
        rate = done / max(1e-9, time.perf_counter() - started)
        on_progress(Progress(done, total, rate, pipeline.hub.depth, pipeline.store.pending))
