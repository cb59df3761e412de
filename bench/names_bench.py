"""Names rules: what judging display names and logins costs per message, and how many ordinary
names they flag.

    python bench/names_bench.py [--rounds 5]

Cost: the labelled chat of bench/quality/dev*.jsonl (each line with its author; the login is the
author in lower case, as on Twitch), repeated to about 100,000 messages, judged by the starter
packs with `Triage.judge` as the pipeline does, with the names rules and without them (the same
packs less their `names` rules), alternating rounds in one process, caches warm; best round of
each. Every name is judged on first sight, during warm-up: the rounds measure the steady state,
where each message only asks whether its names were seen. The names check alone is timed too.
Precision: every distinct author of bench/quality/*.jsonl judged once by `Triage.judge_name`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vigile.connectors.model import ChatMessage  # noqa: E402
from vigile.filters.rules import RulePack, load_starter_packs  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402

QUALITY = Path(__file__).parent / "quality"


def _rows(pattern: str) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(QUALITY.glob(pattern))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def _without_names(packs: list[RulePack]) -> list[RulePack]:
    return [
        dataclasses.replace(p, rules=tuple(r for r in p.rules if r.scope != "names")) for p in packs
    ]


def _rate(judge, messages: list[ChatMessage]) -> float:
    start = time.perf_counter()
    for message in messages:
        judge(message)
    return len(messages) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    rows = _rows("dev*.jsonl")
    repeat = max(1, 100_000 // len(rows))
    messages = [
        ChatMessage(
            "twitch",
            "lumina",
            str(n),
            r["author"],
            r["author"],
            r["text"],
            0.0,
            raw={"login": r["author"].lower()},
        )  # fmt: skip
        for n, r in enumerate(rows * repeat)
    ]
    packs = load_starter_packs()
    with_names, without = Triage(packs), Triage(_without_names(packs))
    for triage in (with_names, without):
        _rate(triage.judge, messages[:5_000])  # warm caches
    best = {"with": 0.0, "without": 0.0, "check": 0.0}
    for _ in range(rounds):
        best["with"] = max(best["with"], _rate(with_names.judge, messages))
        best["without"] = max(best["without"], _rate(without.judge, messages))
        best["check"] = max(best["check"], _rate(with_names._names.check, messages))
    authors = sorted({r["author"] for r in _rows("*.jsonl")})
    flagged = [a for a in authors if with_names.judge_name(a).flagged]
    # the check's own time: on a shared machine the two judge rates differ by more than that
    # from one round to the next
    cost_us = 1e6 / best["check"]
    print(f"{len(messages):,} messages, {len({m.author_id for m in messages}):,} authors")
    print(f"judge with names rules:    {best['with']:>10,.0f} messages/s")
    print(f"judge without names rules: {best['without']:>10,.0f} messages/s")
    print(f"names check alone:         {best['check']:>10,.0f} messages/s")
    print(f"names cost per message:    {cost_us:>10.2f} µs")
    print(f"ordinary names flagged:    {len(flagged)} of {len(authors):,} {flagged[:10]}")


if __name__ == "__main__":
    main()
