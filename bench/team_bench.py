"""Rule propagation on a team: a supervisor's edit → every desk has the new version.

    python bench/team_bench.py [--clients 10 50] [--edits 60] [--terms 5000]

A real `vigile hub` process (its own SQLite file, on loopback) and, in this process, one
supervisor link and N moderator links. Each moderator also claims and reports items twice a
second, so the hub is not idle. Each edit adds a term to a pack of `--terms` terms plus the
starter packs, the way the rule editor does (`Triage.swap`); the supervisor's link publishes
it, the hub validates (parse + compile), stores and broadcasts it. Measured from just before
the supervisor's swap to the moment each moderator's link has the frame decoded and its
version recorded. The moderators' links here hold no triage: 50 desks compiling the new rules
in one process would measure this machine's two cores, not the hub. What a desk then takes to
apply it is the swap alone, measured here on the same rules (and in rule_swap_bench.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rule_swap_bench import SYLLABLES, pack_text  # noqa: E402

from vigile.filters.rules import load_starter_packs, parse_pack  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402
from vigile.replay.loadtest import percentile  # noqa: E402
from vigile.team.client import TeamLink  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_hub(folder: Path) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    port = free_port()
    hub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigile.tui.cli",
            "hub",
            "--listen",
            f"127.0.0.1:{port}",
            "--db",
            str(folder / "hub.db"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    tokens: dict[str, str] = {}
    assert hub.stdout is not None
    for line in hub.stdout:
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("supervisor", "moderator"):
            tokens[parts[0]] = parts[1]
        if line.startswith("Hub listening"):
            return hub, f"ws://127.0.0.1:{port}", tokens
    raise RuntimeError("the hub did not start")


def terms(count: int) -> list[str]:
    rng, found = random.Random(5), dict[str, None]()
    while len(found) < count:
        found["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(found)


async def until(condition, step: float = 0.002, limit_s: float = 60.0) -> None:
    deadline = time.perf_counter() + limit_s
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the hub did not answer in time")
        await asyncio.sleep(step)


async def busy(link: TeamLink, stop: asyncio.Event) -> None:
    """A moderator at work: claims and handles an item, reports its load, twice a second."""
    n = 0
    while not stop.is_set():
        n += 1
        key = f"twitch:{link.name}-{n}"
        if (await link.claim(key)).granted:
            link.done(key, "delete")
        link.status(queue=n % 40, handled=n, response_p50_s=30.0)
        await asyncio.sleep(0.5)


async def run(clients: int, edits: int, term_count: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="vigile-team-bench-"))
    hub, url, tokens = start_hub(folder)
    words = terms(term_count + edits)
    base = words[:term_count]
    boss = Triage([*load_starter_packs(), parse_pack(pack_text(base), "big.toml")])
    supervisor = TeamLink(url, "supervisor", tokens["supervisor"], boss)
    arrivals: dict[int, list[float]] = {}

    def arrived(frame: dict) -> None:
        if frame["type"] == "rules":
            arrivals.setdefault(frame["version"], []).append(time.perf_counter())

    desks = [TeamLink(url, f"mod{n:02d}", tokens["moderator"]) for n in range(clients)]
    for desk in desks:
        desk.listeners.append(arrived)
    tasks = [asyncio.create_task(link.run()) for link in [supervisor, *desks]]
    stop = asyncio.Event()
    try:
        await until(lambda: all(d.hub_version == 1 for d in [supervisor, *desks]), 0.05)
        workers = [asyncio.create_task(busy(d, stop)) for d in desks]
        delays, swaps = [], []
        for edit in range(edits):
            packs = [
                *load_starter_packs(),
                parse_pack(pack_text(base + [words[term_count + edit]]), "big.toml"),
            ]
            started = time.perf_counter()
            boss.swap(packs, "supervisor", "editor")  # the link publishes it
            version = edit + 2
            await until(lambda v=version: len(arrivals.get(v, [])) >= clients)
            delays += [(t - started) * 1000 for t in arrivals[version]]
            swap_started = time.perf_counter()  # what one desk then spends applying it
            Triage(packs)
            swaps.append((time.perf_counter() - swap_started) * 1000)
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*workers)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        hub.terminate()
        hub.wait(10)
    delays.sort()
    swaps.sort()
    return {
        "p50": percentile(delays, 0.5),
        "p99": percentile(delays, 0.99),
        "max": max(delays),
        "apply_p50": percentile(swaps, 0.5),
        "samples": len(delays),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--terms", type=int, default=5_000)
    args = parser.parse_args()
    print(
        f"## Rule propagation: {args.edits} edits of a {args.terms:,}-term pack + the starter "
        f"packs, moderators busy claiming (machine: {os.cpu_count()} CPUs)\n"
    )
    print("| desks | samples | p50 ms | p99 ms | max ms | one desk applying it, p50 ms |")
    print("|---|---|---|---|---|---|")
    for clients in args.clients:
        r = asyncio.run(run(clients, args.edits, args.terms))
        print(
            f"| {clients} | {r['samples']:,} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{r['max']:.1f} | {r['apply_p50']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
