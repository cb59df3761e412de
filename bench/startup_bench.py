"""Start-up of the `vigile` command line: `--help`, and `check` answering one line.

    python bench/corpus.py && python bench/startup_bench.py [--runs 10] [--json FILE]

Each command runs as a whole process, `--runs` times, the commands taking turns (a shared
machine's load then weighs on all alike); reported: best and median wall time, and the best
CPU time (user + system), which a busy machine inflates less. The start-up caches are warm: one
run of each command comes first, unmeasured (the first start after an install or a pack edit
builds them). Vigile runs as installed: with its modules' bytecode cached, as pip writes it at
install time. PYTHONDONTWRITEBYTECODE, set in some shells, is dropped for the runs: in a
checkout that never had its bytecode written, it would compile every module at every start
(about 0.1 s more here).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
LINE = b'{"text": "hello"}\n'


def commands() -> dict[str, tuple[list[str], bytes]]:
    vigile = str(Path(sys.executable).parent / "vigile")
    return {
        "vigile --help": ([vigile, "--help"], b""),
        "vigile check, one line": ([vigile, "check"], LINE),
        "vigile check --rules pack-2000.toml, one line": (
            [vigile, "check", "--rules", str(OUT / "pack-2000.toml")],
            LINE,
        ),
        "peer (profanex + fuzzy), one line": (
            [sys.executable, str(Path(__file__).parent / "peer_check.py")],
            LINE,
        ),
    }


def startup_seconds(runs: int = 10) -> dict[str, dict[str, float]]:
    """Best and median wall time and best CPU time of each command, in seconds."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    chosen = commands()
    walls: dict[str, list[float]] = {name: [] for name in chosen}
    cpus: dict[str, list[float]] = {name: [] for name in chosen}
    for round_ in range(runs + 1):
        for name, (command, given) in chosen.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, input=given, capture_output=True, check=True, env=env)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if round_:  # the first round warms the caches and the disk
                walls[name].append(wall)
                cpus[name].append(
                    after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                )
    return {
        name: {
            "best_s": round(min(walls[name]), 3),
            "median_s": round(statistics.median(walls[name]), 3),
            "best_cpu_s": round(min(cpus[name]), 3),
        }
        for name in chosen
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not (OUT / "pack-2000.toml").exists():
        raise SystemExit("run `python bench/corpus.py` first (it writes bench/out/pack-2000.toml)")
    found = startup_seconds(args.runs)
    width = max(map(len, found))
    print(f"{'':{width}}  best    median  best CPU  (s, {args.runs} runs each)")
    for name, figures in found.items():
        print(
            f"{name:{width}}  {figures['best_s']:.3f}   {figures['median_s']:.3f}   "
            f"{figures['best_cpu_s']:.3f}"
        )
    if args.json:
        args.json.write_text(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
