"""Triage in process on realistic chat: the bundled scenarios' messages, as a desk judges them.

    python bench/triage_bench.py [--rounds 3]

Every bundled scenario is generated in memory (its own pools of lines, emotes, mentions, links,
the raids' copied lines and a Zipf-shaped mix of regulars), and its messages are judged by the
starter packs with `Triage.judge`, who wrote them and where included. A fresh Triage per round:
the first pass meets every token and line for the first time (a chat's start); the second pass
is the same chat again (a long stream, where tokens and lines repeat). Prints messages/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vigile.connectors.model import ChatMessage  # noqa: E402
from vigile.filters.rules import load_starter_packs  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402
from vigile.scenarios.format import load_scenario  # noqa: E402
from vigile.scenarios.generate import generate  # noqa: E402

SCENARIOS = ["demo", "esports-raid", "hijacked-hashtag", "product-recall", "black-friday"]


def chat() -> list[ChatMessage]:
    return [
        item
        for name in SCENARIOS
        for item, _ in generate(load_scenario(name))
        if isinstance(item, ChatMessage)
    ]


def rate(triage: Triage, messages: list[ChatMessage]) -> float:
    started = time.perf_counter()
    for message in messages:
        triage.judge(message)
    return len(messages) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    messages = chat()
    packs = load_starter_packs()
    first, second = [], []
    for _ in range(args.rounds):
        triage = Triage(packs)
        first.append(rate(triage, messages))
        second.append(rate(triage, messages))
    unique = len({m.text for m in messages})
    print(
        f"{len(messages):,} messages of {len(SCENARIOS)} scenarios ({unique:,} distinct lines): "
        f"first pass {statistics.median(first):,.0f} msg/s, "
        f"second pass {statistics.median(second):,.0f} msg/s "
        f"(medians of {args.rounds} rounds, a fresh Triage each)"
    )


if __name__ == "__main__":
    main()
