"""Rule edit to live on a 5,000-term pack: parse + validate + compile + swap, per edit.

    python bench/rule_swap_bench.py [--terms 5000] [--edits 30]

Each edit adds one term to the pack text and goes through what a supervisor's edit goes
through (the file watcher's path): TOML parsing and validation, compiling a new rule set while
the old one keeps serving, and the one-reference swap. Reports p50/p95/max in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vigile.filters import lexicon  # noqa: E402
from vigile.filters.rules import parse_pack  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402

SYLLABLES = "ka lu mi no ra ze to vi sa po li de fa jo ne xi ba ro mu te ga be chi fo gu".split()


def pack_text(terms: list[str]) -> str:
    return (
        '[pack]\nname = "big"\nversion = 1\n\n[[rules]]\nid = "big"\ncategory = "harassment"\n'
        f'severity = 3\naction = "hide"\nterms = {json.dumps(terms)}\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--terms", type=int, default=5_000)
    parser.add_argument("--edits", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(5)
    terms: list[str] = []
    seen: set[str] = set()
    while len(terms) < args.terms:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            terms.append(word)
    lexicon.warm_up()
    started = time.perf_counter()
    triage = Triage([parse_pack(pack_text(terms), "big.toml")])
    first = (time.perf_counter() - started) * 1000
    timings = []
    for n in range(args.edits):
        terms.append(f"fresh{n}")
        text = pack_text(terms)
        started = time.perf_counter()
        triage.swap([parse_pack(text, "big.toml")], "supervisor", "file")
        timings.append((time.perf_counter() - started) * 1000)
        assert triage.judge_text(f"fresh{n}").flagged
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{args.terms:,}-term pack: first load {first:.0f} ms; edit to live over {args.edits} "
        f"edits: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
        f"max {timings[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
