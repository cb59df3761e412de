"""A hostile desk on the team hub: it holds a real moderator's token and floods, lies and
stalls; the team goes on. Each test drives the real hub over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import time

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.helpers import running_hub
from tests.test_team import NEW_RULE, close_of, until
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.team.client import TeamLink
from vigile.team.limits import HubLimits
from vigile.team.protocol import MAX_FRAME, MAX_KEY, encode


def long_key(n: int, prefix: str = "twitch:") -> str:
    return f"{prefix}{n:08d}".ljust(MAX_KEY, "x")


def hello(hub, name: str, role: str = "moderator") -> str:
    return encode({"type": "hello", "name": name, "token": hub.token(name, role)})


async def flood(url: str, first: str, frames: list[str]) -> None:
    """Send everything as fast as the socket takes it, and read nothing back."""
    async with connect(url, max_size=None) as raw:
        with contextlib.suppress(ConnectionClosed):
            await raw.send(first)
            for frame in frames:
                await raw.send(frame)
            await raw.send(encode({"type": "status", "queue": 4242, "handled": 0}))
            await asyncio.sleep(30)  # held open, unread, until the test is done with it


async def silent_desk(url: str, first: str) -> asyncio.StreamWriter:
    """A desk that says hello and then reads nothing: a hand-made WebSocket handshake on a
    stream whose reader stops taking bytes after 1 KiB, over a 4 KiB receive buffer."""
    host, port = url.removeprefix("ws://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    writer.write(
        f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    payload, mask = first.encode(), os.urandom(4)
    header = bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big")
    writer.write(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    return writer


def sizes_of(link: TeamLink) -> list[int]:
    """The size of every frame the link receives (its listener sees them decoded)."""
    seen: list[int] = []
    link.listeners.append(lambda frame: seen.append(len(orjson.dumps(frame))))
    return seen


async def test_a_hostile_moderator_cannot_lock_the_team_out_even_after_a_restart(tmp_path) -> None:
    """The attack seen on the old hub: thousands of handled items and claims with long keys
    grew the welcome past what desks accept, for good. Here every desk still joins, before and
    after a restart from the state the attacker built."""
    async with running_hub(tmp_path) as hub:
        watcher = hub.link("watcher", "supervisor")
        await until(lambda: watcher.state == "online")
        frames = [
            encode({"type": "handled", "key": long_key(n), "kind": "ban"}) for n in range(2500)
        ]
        frames += [encode({"type": "claim", "key": long_key(n, "youtube:")}) for n in range(1500)]
        attack = asyncio.create_task(flood(hub.url, hello(hub, "mallory"), frames))
        try:
            await until(  # the status frame after the flood: the hub has read all of it
                lambda: any(m["queue"] == 4242 for m in watcher.roster), seconds=60
            )
            held = hub.hub.shared
            assert sum(h == "mallory" for h, _ in held.claims.values()) == 20
            assert len(held.handled) <= 1_000 + 60  # its unclaimed burst, plus the refill
            started = time.monotonic()
            late = hub.link("late")
            late_sizes = sizes_of(late)
            await until(lambda: late.state == "online", seconds=5)
            assert time.monotonic() - started < 2.0
            await until(lambda: len(late.handled) == len(held.handled))
            assert max(late_sizes) < MAX_FRAME
        finally:
            attack.cancel()
            await asyncio.gather(attack, return_exceptions=True)
    async with running_hub(tmp_path) as hub:  # restarted from the file the attacker filled
        boss, desk = hub.link("boss", "supervisor"), hub.link("desk")
        await until(lambda: boss.state == desk.state == "online", seconds=5)
        await until(lambda: len(desk.handled) >= 1_000)
        assert (await desk.claim("twitch:fresh")).granted


async def test_a_hub_restarted_from_any_state_lets_every_desk_join(tmp_path) -> None:
    """A file as full as it gets (rules at the size limit, the handled window full of the
    longest keys, hundreds of claims), some of it written by an older hub with longer keys."""
    async with running_hub(tmp_path):
        pass  # the file, with its tables
    big_rule = NEW_RULE + f'description = "{"d" * 600_000}"\n'
    packs = [{"name": "big", "origin": "big.toml", "text": big_rule}]
    now = time.time()
    db = sqlite3.connect(tmp_path / "hub.db")
    with db:
        db.execute("INSERT INTO rules VALUES (1, 'boss', ?, ?)", (now, orjson.dumps(packs)))
        db.executemany(
            "INSERT INTO handled VALUES (?, 'ban', 'someone', ?)",
            [(long_key(n) + "y" * 44, now - n) for n in range(20_000)],  # 300: an older hub's
        )
        db.executemany(
            "INSERT INTO claims VALUES (?, ?, ?)",
            [(long_key(n, "youtube:"), f"desk{n % 40}", now + 600) for n in range(800)],
        )
    db.close()
    async with running_hub(tmp_path) as hub:
        boss = hub.link("boss", "supervisor", Triage(load_starter_packs()))
        desk = hub.link("desk")
        desk_sizes = sizes_of(desk)
        await until(lambda: boss.state == desk.state == "online", seconds=10)
        await until(lambda: len(desk.handled) == 5_000 and len(desk.claims) == 800, seconds=10)
        assert desk.hub_version == 1 and max(desk_sizes) < MAX_FRAME
        assert desk.triage.judge_text("you zorglub").flagged  # the big rules reached it


async def test_only_the_holder_or_a_supervisor_acts_on_a_claimed_item(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        alice, bob = hub.link("alice"), hub.link("bob")
        boss = hub.link("boss", "supervisor")
        refusals: list[dict] = []
        bob.listeners.append(lambda f: f["type"] == "refused" and refusals.append(f))
        await until(lambda: alice.state == bob.state == boss.state == "online")
        assert (await alice.claim("twitch:a1")).granted
        await until(lambda: bob.claims.get("twitch:a1") == "alice")
        bob._send({"type": "release", "key": "twitch:a1"})  # noqa: SLF001 - what a rogue desk sends
        bob.done("twitch:a1", "dismiss")
        await until(lambda: len(refusals) == 2)
        assert [r["what"] for r in refusals] == ["release", "handled"]
        assert all("claimed by alice" in r["reason"] for r in refusals)
        assert "twitch:a1" not in bob.handled  # its own view is put right
        assert hub.hub.shared.claims["twitch:a1"][0] == "alice"
        assert "twitch:a1" not in hub.hub.shared.handled
        boss._send({"type": "release", "key": "twitch:a1"})  # noqa: SLF001 - a supervisor may
        await until(lambda: "twitch:a1" not in alice.claims)
        assert (await alice.claim("twitch:a1")).granted
        boss.done("twitch:a1", "ban")  # a supervisor may act over a claim
        await until(lambda: alice.handled.get("twitch:a1") == ("ban", "boss"))


async def test_the_first_action_stands_in_what_desks_are_told_and_what_is_stored(
    tmp_path,
) -> None:
    """Desks hear of a claim or an action only once it is in the hub's file, and a second
    action on the same item is refused: after a crash, the file says what the desks were told."""
    async with running_hub(tmp_path) as hub:
        alice, bob, watcher = hub.link("alice"), hub.link("bob"), hub.link("watcher")
        stored = sqlite3.connect(tmp_path / "hub.db")  # another reader, as after a crash
        told_but_not_stored: list[str] = []

        def check(frame: dict) -> None:
            if frame["type"] not in ("handled", "claimed"):
                return
            sql = "SELECT 1 FROM handled WHERE key = ? UNION SELECT 1 FROM claims WHERE key = ?"
            if not stored.execute(sql, (frame["key"], frame["key"])).fetchone():
                told_but_not_stored.append(frame["key"])  # (a claim acted on is in handled)

        watcher.listeners.append(check)
        await until(lambda: alice.state == bob.state == watcher.state == "online")
        for n in range(30):
            alice.done(f"twitch:k{n}", "ban")
            bob.done(f"twitch:k{n}", "dismiss")
            assert (await alice.claim(f"twitch:c{n}")).granted
            alice.done(f"twitch:c{n}", "timeout")
        await until(lambda: len(watcher.handled) == 60)
        await asyncio.sleep(0.2)  # any second action would have arrived by now
        told = dict(watcher.handled)
        rows = stored.execute("SELECT key, kind, by FROM handled").fetchall()
        assert {k: (kind, by) for k, kind, by in rows} == told
        assert all(told[k] == hub.hub.shared.handled[k][:2] for k in told)
        assert told_but_not_stored == []
        stored.close()


async def test_alerts_are_bounded_and_coalesced(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        watcher = hub.link("watcher")
        frames_seen: list[int] = []
        watcher.listeners.append(
            lambda f: f["type"] == "alerts" and frames_seen.append(len(orjson.dumps(f)))
        )
        await until(lambda: watcher.state == "online")
        summary = "RAID " + "é" * 190
        frames = [
            encode({"type": "alert", "key": f"alert:raid:{n}", "state": "up", "summary": summary})
            for n in range(2_000)
        ]
        started = time.monotonic()
        attack = asyncio.create_task(flood(hub.url, hello(hub, "mallory"), frames))
        try:
            await until(lambda: any(m["queue"] == 4242 for m in watcher.roster), seconds=30)
            await asyncio.sleep(0.5)
            elapsed = time.monotonic() - started
            assert len(watcher.alerts) == 16  # one desk's most
            assert len(frames_seen) <= elapsed / 0.25 + 3  # one alerts frame a tick at most
            assert sum(frames_seen) < 16 * 600 * len(frames_seen)  # never a growing payload
        finally:
            attack.cancel()
            await asyncio.gather(attack, return_exceptions=True)
        await until(lambda: watcher.alerts == [])  # the attacker left: its alerts went with it


async def test_a_desk_that_reads_nothing_is_dropped_and_the_others_go_on(tmp_path) -> None:
    limits = HubLimits(outbox_bytes=256 << 10, rules_per_s=50, rules_burst=50)
    async with running_hub(tmp_path, limits=limits) as hub:
        boss = TeamLink(hub.url, "boss", hub.token("boss", "supervisor"))  # no triage: no compile
        desk = TeamLink(hub.url, "desk", hub.token("desk"))
        hub.tasks += [asyncio.create_task(boss.run()), asyncio.create_task(desk.run())]
        stalled = await silent_desk(hub.url, hello(hub, "sleepy"))
        await until(lambda: boss.state == desk.state == "online" and "sleepy" in hub.hub.members)
        for version in range(1, 40):  # ~500 KB of rules each, to every desk
            text = NEW_RULE + f"# {version} {'x' * 500_000}\n"
            boss._send(  # noqa: SLF001 - published the way the link publishes
                {
                    "type": "rules",
                    "base": version - 1,
                    "packs": [{"name": "p", "origin": "p", "text": text}],
                }
            )
            await until(lambda v=version: desk.hub_version == v, seconds=10)
            if "sleepy" not in hub.hub.members:
                break
        try:
            assert "sleepy" not in hub.hub.members
            assert any(
                who == "sleepy" and why.startswith("too slow") for who, why in hub.hub.dropped
            )
            started = time.monotonic()
            assert (await desk.claim("twitch:after")).granted
            assert time.monotonic() - started < 1.0
        finally:
            stalled.close()


async def test_frames_that_do_not_validate_are_refused_with_a_reason_and_no_trace(
    tmp_path, caplog
) -> None:
    caplog.set_level(logging.INFO)
    async with running_hub(tmp_path) as hub:
        first = hello(hub, "mallory")
        deep = "[" * 5_000 + "]" * 5_000
        cases = {
            '{"type": "claim", "key": ' + deep + "}": "not JSON",
            encode({"type": "claim", "key": "x" * (MAX_KEY + 1)}): "a key is 1 to 256",
            encode({"type": "claim", "key": "twitch:a b"}): "without spaces",
            encode(
                {"type": "handled", "key": "twitch:1", "kind": ["ban"]}
            ): "'kind' has the wrong type",
            encode({"type": "status", "queue": 2**60, "handled": 0}): "out of range",
            encode(
                {"type": "alert", "key": "k", "state": "up", "summary": "s" * 500}
            ): "longer than",
        }
        for frame, reason in cases.items():
            code, said = await close_of(hub.url, first, frame)
            assert code == 1008 and reason in said, (said, reason)
            await asyncio.sleep(2.1)  # the hub limits how often one desk joins
        async with connect(hub.url) as raw:  # a supervisor's rules with a deeply nested value
            await raw.send(hello(hub, "boss", "supervisor"))
            await raw.recv()
            nested = "[[rules]]\nid = 'x'\nterms = ['x']\ncategory = 'spam'\nseverity = 1\n"
            nested += "action = 'review'\nextra = " + "[" * 3_000 + "]" * 3_000 + "\n"
            packs = [{"name": "n", "origin": "n.toml", "text": nested}]
            await raw.send(encode({"type": "rules", "base": 0, "packs": packs}))
            while (answer := orjson.loads(await raw.recv()))["type"] != "refused":
                pass
        assert answer["what"] == "rules" and "invalid rules" in answer["reason"]
    assert "Traceback" not in caplog.text
    assert hub.hub.shared.rules is None


async def test_failed_hellos_are_slowed_down(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        wrong = encode({"type": "hello", "name": "alice", "token": "guess"})
        hub.token("alice")
        answers = [await close_of(hub.url, wrong) for _ in range(14)]
        assert answers[:10] == [(1008, "unknown desk or token")] * 10
        assert all(code == 1013 and "too many failed hellos" in why for code, why in answers[11:])
