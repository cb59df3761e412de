"""Twitch reading: lines parsed and recorded per second from a local flood, and reconnect time.

    python bench/twitch_bench.py [--lines 50000]

A local server speaking Twitch's IRC over WebSocket (tests/fakes) sends a flood, 50 lines per
frame, to the real reader; the full pipeline judges and records it. Then the server sends
RECONNECT, and drops a connection: the time to the first message on the new one is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.twitch_irc import Abrupt, Close, FakeTwitch, privmsg  # noqa: E402
from vigile.connectors.connection import Backoff  # noqa: E402
from vigile.connectors.model import ChatMessage  # noqa: E402
from vigile.connectors.sources import SourceHub  # noqa: E402
from vigile.connectors.twitch import TwitchSource  # noqa: E402
from vigile.filters.rules import load_starter_packs  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402
from vigile.replay.pipeline import SessionPlan, run_session  # noqa: E402

TEXTS = ["gg", "what a race", "t'es qu'une salope", "c'est combien ?", "lets gooo", "pog"]


def flood(count: int, start: int = 0) -> list[list[str]]:
    lines = [
        privmsg("lumina", f"user{n % 500}", f"{TEXTS[n % len(TEXTS)]} {n}", f"m{n}")
        for n in range(start, start + count)
    ]
    return [lines[i : i + 50] for i in range(0, count, 50)]


async def throughput(count: int, judged: bool) -> float:
    async with FakeTwitch([[*flood(count), Close()]]) as server:
        db = Path(tempfile.mkdtemp()) / "flood.db"
        plan = SessionPlan("flood", "live", [TwitchSource(["lumina"], url=server.url)], db)
        triage = Triage(load_starter_packs() if judged else [])
        started = time.perf_counter()
        stats = await run_session(plan, triage)
        elapsed = time.perf_counter() - started
    assert stats.messages == count, stats
    return count / elapsed


async def reconnect_time(last_step: object) -> float:
    """Seconds from the last message before the break to the first one after it."""
    async with FakeTwitch([[*flood(10), last_step], [*flood(10, 10), Close()]]) as server:
        source = TwitchSource(["lumina"], url=server.url, backoff=Backoff(first=0.5))
        times = []
        async for item in SourceHub([source]):
            if isinstance(item, ChatMessage):
                times.append((item.id, time.perf_counter()))
    stamps = dict(times)
    return stamps["m10"] - stamps["m9"]


async def main(count: int) -> None:
    recorded = await throughput(count, judged=False)
    print(f"flood: {count:,} lines parsed and recorded at {recorded:,.0f} lines/s")
    judged = await throughput(count, judged=True)
    print(
        f"flood: {count:,} lines parsed, judged (starter packs) and recorded at "
        f"{judged:,.0f} lines/s"
    )
    asked = await reconnect_time("RECONNECT")
    print(f"RECONNECT asked by the server: next message after {asked:.3f} s")
    print(
        f"connection dropped (backoff starts at 0.5 s): next message after "
        f"{await reconnect_time(Abrupt()):.3f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50_000)
    asyncio.run(main(parser.parse_args().lines))
