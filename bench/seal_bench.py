"""What sealing every recorded row costs: recording throughput before and after, in one run.

    python bench/seal_bench.py --before REV [--scenario esports-raid] [--rounds 3]

REV is a commit of this repository from before every row was sealed (its code is taken with
`git archive` into a temporary folder). Each round runs, in a fresh interpreter per tree and
alternating trees so the shared machine's load falls on both alike:
- store: the scenario's messages (with their labels) written through SessionStore, as
  `vigile scenario` does: messages/s from the first add to the closed file;
- loadtest: `vigile loadtest FILE --max`'s own run (replay → triage → signals → store):
  its messages/s.
Prints the median of each and the after/before ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("connectors", "filters", "replay", "scenarios")

# Run in a fresh interpreter: point the package `vigile` at one tree, then measure.
_WORKER = """
import asyncio, json, sys, time
import vigile
vigile.__path__[:] = [sys.argv[1]]
mode, source, out = sys.argv[2], sys.argv[3], sys.argv[4]

async def store_run():
    from vigile.replay.store import SessionStore
    async with await SessionStore.open(source, readonly=True) as store:
        stored = [s async for s in store.messages()]
    started = time.perf_counter()
    async with await SessionStore.open(out) as store:
        await store.start_session("bench", "scenario", ["bench"])
        for s in stored:
            store.add_message(s.message, label=s.label)
    return len(stored) / (time.perf_counter() - started)

async def loadtest_run():
    from pathlib import Path
    from vigile.filters.rules import load_starter_packs
    from vigile.filters.triage import Triage
    from vigile.replay.loadtest import run_loadtest
    report = await run_loadtest(Path(source), None, Path(out), Triage(load_starter_packs()))
    assert report.dropped == 0
    return report.throughput_per_s

run = store_run if mode == "store" else loadtest_run
print(json.dumps(asyncio.run(run())))
"""


def extract(rev: str, into: Path) -> Path:
    """The package folders of `rev`, as they were."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, *FOLDERS],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(tree: Path, mode: str, source: Path, out: Path) -> float:
    out.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(tree), mode, str(source), str(out)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"{tree.name} {mode}: {done.stderr.strip().splitlines()[-1]}")
    return float(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="a commit from before the change")
    parser.add_argument("--scenario", default="esports-raid")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        trees = {"before": extract(args.before, work / "before"), "after": ROOT}
        source = work / "source.db"
        # made by the earlier tree: both read its files, the later one reads the earlier's
        generate = (
            "import asyncio, sys, vigile; vigile.__path__[:] = [sys.argv[1]]\n"
            "from vigile.scenarios.format import load_scenario\n"
            "from vigile.scenarios.generate import write_session\n"
            "asyncio.run(write_session(load_scenario(sys.argv[2]), sys.argv[3]))\n"
        )
        subprocess.run(
            [sys.executable, "-c", generate, str(trees["before"]), args.scenario, str(source)],
            check=True,
        )
        results: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for mode in ("store", "loadtest"):
                for name, tree in trees.items():
                    rate = measure(tree, mode, source, work / f"{name}-{mode}.db")
                    results.setdefault((name, mode), []).append(rate)
        for mode in ("store", "loadtest"):
            before = statistics.median(results[("before", mode)])
            after = statistics.median(results[("after", mode)])
            print(
                f"{mode:9} before {before:>9,.0f} msg/s   after {after:>9,.0f} msg/s   "
                f"after/before {after / before:.2f}   "
                f"(rounds: {[round(r) for r in results[('after', mode)]]})"
            )


if __name__ == "__main__":
    main()
