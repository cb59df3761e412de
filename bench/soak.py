"""Memory over a long run: one process replays a session N times through the full pipeline.

    python bench/soak.py SESSION.db [--rounds 6]

Each round is a fresh recording (hub → triage → store) of the whole session, flat out, in the
same process and with the same rule set, so caches and buffers carry over as they do during a
long event. Prints resident memory after every round: a flat line is the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vigile.filters.rules import load_starter_packs  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402
from vigile.replay.loadtest import rss_mib, run_loadtest  # noqa: E402


async def soak(session: Path, rounds: int) -> None:
    triage = Triage(load_starter_packs())
    folder = Path(tempfile.mkdtemp(prefix="vigile-soak-"))
    total = 0
    started = time.perf_counter()
    print(f"start: {rss_mib():.1f} MiB")
    for number in range(1, rounds + 1):
        out = folder / f"round-{number}.db"
        report = await run_loadtest(session, None, out, triage)
        out.unlink()
        total += report.messages
        print(
            f"round {number}: {total:,} messages in {time.perf_counter() - started:.0f} s, "
            f"{report.throughput_per_s:,.0f}/s, p99 {report.latency_ms_p99} ms, "
            f"dropped {report.dropped}, RSS {rss_mib():.1f} MiB",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("session", type=Path)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    asyncio.run(soak(args.session, args.rounds))


if __name__ == "__main__":
    main()
