"""The team hub under attack: one hostile moderator desk floods each frame type in turn while a
well-behaved desk claims and acts, and new desks join.

    python bench/hub_attack_bench.py [--seconds 6] [--attacks handled claim ...]

A real `vigile hub` process on loopback (its own SQLite file; desks added with --add-desk).
The attacker runs in its own process: it holds a real moderator token, sends as fast as the
socket takes and never reads, and reconnects whenever the hub drops it. In this process, the
good desk claims an item, waits for the hub's answer and marks it handled, 20 times a second
(claim round trip: from sending the claim to the `claimed` frame). Three new desks join during
each attack (join: from opening the connection to the welcome). The hub's RSS is read from
/proc every 0.2 s. Each attack lasts `--seconds`; the whole run is bounded (~10 attacks).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vigile.replay.loadtest import percentile  # noqa: E402
from vigile.team.client import TeamLink  # noqa: E402
from vigile.team.protocol import MAX_KEY, encode  # noqa: E402

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
ATTACKS = (
    "none",
    "handled",
    "claim",
    "release",
    "alert",
    "status",
    "rules",
    "malformed",
    "oversize",
    "silent",
    "hello",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def add_desk(db: Path, name: str, role: str) -> str:
    out = subprocess.run(
        [*VIGILE, "hub", "--db", str(db), "--add-desk", name, "--role", role],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return next(line.strip() for line in out.splitlines() if line.startswith("  "))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the attacker (its own process) ---------------------------------------------------------------


def hostile_frames(kind: str) -> list[str]:
    def key(n: int) -> str:
        return f"twitch:{n:09d}".ljust(MAX_KEY, "x")

    if kind == "handled":
        return [encode({"type": "handled", "key": key(n), "kind": "ban"}) for n in range(50_000)]
    if kind in ("claim", "release"):
        return [encode({"type": kind, "key": key(n)}) for n in range(50_000)]
    if kind == "alert":
        summary = "RAID " + "é" * 190
        return [
            encode({"type": "alert", "key": f"alert:raid:{n}", "state": "up", "summary": summary})
            for n in range(50_000)
        ]
    if kind == "status":
        return [encode({"type": "status", "queue": n, "handled": n}) for n in range(50_000)]
    if kind == "rules":  # a moderator's rules: refused before any parse
        text = "[[rules]]\nid = 'x'\n" + "# " + "x" * 200_000
        packs = [{"name": "p", "origin": "p", "text": text}]
        return [encode({"type": "rules", "base": 0, "packs": packs})] * 2_000
    if kind == "malformed":  # closes the connection: the attacker reconnects each time
        return ['{"type": "claim", "key": ' + "[" * 5_000 + "]" * 5_000 + "}"]
    if kind == "oversize":
        return ["x" * ((1 << 20) + 1)]
    return []


async def attack(kind: str, url: str, name: str, token: str, seconds: float) -> int:
    from websockets.asyncio.client import connect

    frames, sent = hostile_frames(kind), 0
    hello = encode({"type": "hello", "name": name, "token": token})
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if kind == "hello":  # wrong tokens, as fast as the hub answers
                async with connect(url, open_timeout=2) as raw:
                    await raw.send(encode({"type": "hello", "name": name, "token": "guess"}))
                    sent += 1
                    await raw.wait_closed()
                continue
            sock = socket.create_connection(url.removeprefix("ws://").split(":"))
            if kind == "silent":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            async with connect(url, sock=sock, max_size=None, max_queue=1) as raw:
                await raw.send(hello)
                if kind == "silent":  # joined, then never reads again
                    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
                    continue
                for frame in frames:
                    await asyncio.wait_for(raw.send(frame), max(0.01, deadline - time.monotonic()))
                    sent += 1
                    if time.monotonic() > deadline:
                        break
                await asyncio.sleep(0.05)
        except Exception:  # noqa: BLE001 - dropped, refused, timed out: come back
            await asyncio.sleep(0.05)
    return sent


# -- the well-behaved side ------------------------------------------------------------------------


def online(link: TeamLink) -> asyncio.Event:
    """Set when the link has the hub's welcome."""
    event = asyncio.Event()
    link.listeners.append(lambda f: f["type"] == "welcome" and event.set())
    return event


async def measure(url: str, tokens: dict[str, str], kind: str, seconds: float, hub_pid: int):
    good = TeamLink(url, "good", tokens["good"])
    good_online = online(good)
    runner = asyncio.create_task(good.run())
    await good_online.wait()
    attacker = await asyncio.create_subprocess_exec(
        *[sys.executable, __file__, "--attacker", kind, url, tokens["mallory"], str(seconds)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    rtts, failed, joins, rss = [], 0, [], [rss_mib(hub_pid)]
    started = time.monotonic()
    n = 0

    async def sample_rss() -> None:
        while True:
            rss.append(rss_mib(hub_pid))
            await asyncio.sleep(0.2)

    async def join(name: str) -> None:
        link = TeamLink(url, name, tokens[name])
        joined = online(link)
        t0 = time.perf_counter()
        task = asyncio.create_task(link.run())
        try:
            await asyncio.wait_for(joined.wait(), 10)
            joins.append(time.perf_counter() - t0)
        except TimeoutError:
            joins.append(float("inf"))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    sampler = asyncio.create_task(sample_rss())
    joiners = []
    while time.monotonic() - started < seconds:
        elapsed = time.monotonic() - started
        if len(joiners) < 3 and elapsed > (len(joiners) + 1) * seconds / 4:
            joiners.append(asyncio.create_task(join(f"new-{kind}-{len(joiners)}")))
        n += 1
        key = f"youtube:{kind}-{n}"
        t0 = time.perf_counter()
        answer = await good.claim(key)
        if answer.granted:
            rtts.append(time.perf_counter() - t0)
            good.done(key, "delete")
        else:
            failed += 1
        await asyncio.sleep(0.05)
    await asyncio.gather(*joiners)
    sampler.cancel()
    out, _ = await attacker.communicate()
    sent = int(out.strip() or 0)
    runner.cancel()
    await asyncio.gather(runner, sampler, return_exceptions=True)
    rtts.sort()
    return {
        "sent": sent,
        "claims": len(rtts),
        "failed": failed,
        "p50": percentile(rtts, 0.5) * 1000 if rtts else float("nan"),
        "p99": percentile(rtts, 0.99) * 1000 if rtts else float("nan"),
        "max": max(rtts) * 1000 if rtts else float("nan"),
        "join": max(joins) * 1000,
        "rss": max(rss),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--attacks", nargs="+", default=list(ATTACKS), choices=ATTACKS)
    parser.add_argument("--attacker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attacker:
        kind, url, token, seconds = args.attacker
        print(asyncio.run(attack(kind, url, "mallory", token, float(seconds))))
        return
    folder = Path(tempfile.mkdtemp(prefix="vigile-hub-attack-"))
    db, port = folder / "hub.db", free_port()
    tokens = {"good": add_desk(db, "good", "moderator")}
    tokens["mallory"] = add_desk(db, "mallory", "moderator")
    for kind in args.attacks:
        for n in range(3):
            tokens[f"new-{kind}-{n}"] = add_desk(db, f"new-{kind}-{n}", "moderator")
    hub = subprocess.Popen(
        [*VIGILE, "hub", "--listen", f"127.0.0.1:{port}", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert hub.stdout is not None
    for line in hub.stdout:
        if line.startswith("Hub listening"):
            break
    url = f"ws://127.0.0.1:{port}"
    print(
        f"## Hub under attack: {args.seconds:g} s per attack, one hostile moderator desk "
        f"(machine: {os.cpu_count()} CPUs)\n"
    )
    print(
        "| attack | hostile frames sent | good claims | claims failed | claim RTT p50 ms "
        "| p99 ms | max ms | slowest of 3 joins ms | hub RSS max MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        for kind in args.attacks:
            r = asyncio.run(measure(url, tokens, kind, args.seconds, hub.pid))
            print(
                f"| {kind} | {r['sent']:,} | {r['claims']} | {r['failed']} | {r['p50']:.1f} | "
                f"{r['p99']:.1f} | {r['max']:.1f} | {r['join']:.0f} | {r['rss']:.1f} |",
                flush=True,
            )
            time.sleep(1.0)
    finally:
        hub.terminate()
        hub.wait(10)


if __name__ == "__main__":
    main()
