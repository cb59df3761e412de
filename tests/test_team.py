"""The team hub with headless desks: rules in sync, claims, handled items, the roster, and its
faults (wrong token, bad frames, a desk dropped mid-claim, the hub killed and restarted, TLS)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import trustme
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from tests.helpers import running_hub
from vigile.filters.rules import load_starter_packs, parse_pack
from vigile.filters.triage import Triage
from vigile.team.client import TeamLink, tls_context
from vigile.team.desks import revoke_desk
from vigile.team.limits import HubLimits
from vigile.team.protocol import MAX_FRAME, encode

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]

NEW_RULE = """[[rules]]
id = "team-zorglub"
category = "harassment"
severity = 3
action = "review"
terms = ["zorglub"]
"""


async def until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def edited(triage: Triage, text: str = NEW_RULE) -> list:
    return [*triage.history[-1].packs, parse_pack(text, "team-edit.toml")]


async def test_a_supervisor_edit_reaches_every_desk_as_a_version(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        boss = Triage(load_starter_packs())
        supervisor = hub.link("sup", "supervisor", boss)
        desks = [hub.link(f"mod{n}") for n in range(3)]
        await until(lambda: all(d.state == "online" for d in [supervisor, *desks]))
        await until(lambda: supervisor.hub_version == 1)  # its rules became the team's v1
        assert not desks[0].triage.judge_text("zorglub").flagged
        boss.swap(edited(boss), "sup", "editor")
        # how fast it arrives is bench/team_bench.py's to measure (four compiles share two
        # cores here); what arrives is this test's
        await until(lambda: all(d.hub_version == 2 for d in desks), seconds=30)
        for desk in desks:
            verdict = desk.triage.judge_text("you zorglub")
            assert verdict.flagged and verdict.matches[0].rule_id == "team-zorglub"
            assert desk.triage.history[-1].origin == "hub v2"
        assert boss.version == 2  # its own edit came back: not swapped a second time
        stored = await hub.hub.state.current_rules()
        assert stored.version == 2 and stored.author == "sup"


async def test_only_a_supervisor_changes_the_team_s_rules(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        moderator = hub.link("mod")
        said: list[dict] = []
        moderator.listeners.append(said.append)
        await until(lambda: moderator.state == "online")
        async with connect(hub.url) as raw:  # a moderator's token, sending rules anyway
            await raw.send(encode({"type": "hello", "name": "rogue", "token": hub.token("rogue")}))
            await raw.recv()  # welcome
            await raw.send(encode({"type": "rules", "base": 0, "packs": []}))
            frames = [await raw.recv() for _ in range(2)]
        assert any("only a supervisor" in f for f in frames)
        assert hub.hub.shared.rules is None
        triage = moderator.triage
        triage.swap(edited(triage), "mod", "editor")  # a local change on a moderator's desk
        await until(lambda: any(f["type"] == "refused" for f in said))
        assert "only the supervisor" in [f for f in said if f["type"] == "refused"][0]["reason"]


async def test_a_stale_edit_is_refused_and_the_desk_gets_the_current_rules(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        first = Triage(load_starter_packs())
        alice = hub.link("alice", "supervisor", first)
        await until(lambda: alice.hub_version == 1)
        first.swap(edited(first), "alice", "editor")  # v2
        await until(lambda: alice.hub_version == 2)
        async with connect(hub.url) as bob:  # a second supervisor whose edit was made on v1
            hello = {"type": "hello", "name": "bob", "token": hub.token("bob", "supervisor")}
            await bob.send(encode(hello))
            await bob.recv()  # welcome
            packs = [{"name": "p", "origin": "p.toml", "text": NEW_RULE.replace("zorglub", "b")}]
            await bob.send(encode({"type": "rules", "base": 1, "packs": packs}))
            frames = [orjson.loads(await bob.recv()) for _ in range(3)]
        refused = next(f for f in frames if f["type"] == "refused")
        assert refused["reason"].startswith(
            "stale edit: it was made on v1, the team is at v2 by alice"
        )
        current = next(f for f in frames if f["type"] == "rules")
        assert current["version"] == 2 and "zorglub" in current["packs"][-1]["text"]
        assert (await hub.hub.state.current_rules()).version == 2


async def test_a_desk_that_comes_back_gets_the_current_rules_first(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        boss = Triage(load_starter_packs())
        supervisor = hub.link("sup", "supervisor", boss)
        await until(lambda: supervisor.hub_version == 1)
        late = TeamLink(hub.url, "late", hub.token("late"), Triage(load_starter_packs()))
        frames: list[str] = []
        late.listeners.append(lambda f: frames.append(f["type"]))
        boss.swap(edited(boss), "sup", "editor")
        await until(lambda: hub.hub.shared.rules.version == 2)
        hub.tasks.append(asyncio.create_task(late.run()))
        await until(lambda: late.hub_version == 2)
        assert frames[:2] == ["link", "welcome"]  # the rules came in the welcome itself
        assert late.triage.judge_text("zorglub").flagged


async def test_claims_are_exclusive_and_released_on_timeout(tmp_path) -> None:
    async with running_hub(tmp_path, claim_ttl_s=0.4) as hub:
        ann, ben = hub.link("ann"), hub.link("ben")
        await until(lambda: ann.state == ben.state == "online")
        assert (await ann.claim("twitch:m1")).granted
        await until(lambda: ben.claims.get("twitch:m1") == "ann")  # ben sees who holds it
        refused = await ben.claim("twitch:m1")
        assert not refused.granted and refused.reason == "claimed by ann"
        await until(lambda: "twitch:m1" not in ben.claims, seconds=3)  # nobody acted: it returns
        assert (await ben.claim("twitch:m1")).granted


async def test_an_action_is_broadcast_so_no_item_is_handled_twice(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        ann, ben = hub.link("ann"), hub.link("ben")
        await until(lambda: ann.state == ben.state == "online")
        assert (await ann.claim("youtube:x9")).granted
        ann.done("youtube:x9", "ban")
        await until(lambda: ben.handled.get("youtube:x9") == ("ban", "ann"))
        assert ben.claims == {}
        answer = await ben.claim("youtube:x9")
        assert not answer.granted and answer.reason == "already handled by ann (ban)"
        ann.done("youtube:e1", "escalate")  # an escalation stays open for the supervisor
        await until(lambda: "youtube:e1" in ben.handled)
        assert (await ben.claim("youtube:e1")).granted


async def test_a_desk_dropped_mid_claim_releases_its_claims(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        watcher = hub.link("watcher")
        released: list[dict] = []
        watcher.listeners.append(lambda f: f["type"] == "released" and released.append(f))
        await until(lambda: watcher.state == "online")
        raw = await connect(hub.url)
        await raw.send(encode({"type": "hello", "name": "flaky", "token": hub.token("flaky")}))
        await raw.recv()
        await raw.send(encode({"type": "claim", "key": "twitch:m7"}))
        await until(lambda: watcher.claims.get("twitch:m7") == "flaky")
        raw.transport.abort()  # the cable is pulled: no closing handshake
        await until(lambda: released)
        assert released[0] == {
            "type": "released",
            "key": "twitch:m7",
            "by": "flaky",
            "why": "disconnect",
        }
        assert (await watcher.claim("twitch:m7")).granted


async def close_of(url: str, *frames: str | bytes) -> tuple[int, str]:
    """Send the frames and return how the hub closed the connection."""
    async with connect(url, max_size=None) as raw:
        with contextlib.suppress(ConnectionClosed):
            for frame in frames:
                await raw.send(frame)
            while True:
                await raw.recv()
        return raw.close_code, raw.close_reason


async def test_wrong_tokens_and_bad_frames_are_closed_with_a_reason(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        hello = encode({"type": "hello", "name": "ok", "token": hub.token("ok")})
        assert await close_of(hub.url, encode({"type": "hello", "name": "x", "token": "nope"})) == (
            1008,
            "unknown desk or token",
        )
        assert await close_of(hub.url, "{not json") == (1008, await _reason("{not json"))
        assert await close_of(hub.url, encode({"type": "claim", "key": "k"})) == (
            1008,
            "the first frame must be a hello",
        )
        code, reason = await close_of(hub.url, hello, encode({"type": "claim"}))
        assert (code, reason) == (1008, "malformed claim frame: 'key' is missing")
        code, reason = await close_of(
            hub.url, hello, encode({"type": "welcome", "you": "x", "role": "supervisor"})
        )
        assert (code, reason) == (1008, "a desk does not send welcome frames")
        code, reason = await close_of(hub.url, hello, b"\x00binary")
        assert code == 1008 and "binary" in reason
        code, reason = await close_of(hub.url, hello, "x" * (MAX_FRAME + 1))
        assert code == 1009  # message too big
        boss = hub.link("boss", "supervisor")
        await until(lambda: boss.state == "online")
        impostor = encode({"type": "hello", "name": "boss", "token": hub.token("ok")})
        assert await close_of(hub.url, impostor) == (1008, "unknown desk or token")
        assert hub.hub.members["boss"].role == "supervisor"  # the supervisor was not kicked
        await until(lambda: list(hub.hub.members) == ["boss"])  # every bad desk is gone
        good = hub.link("good")
        await until(lambda: good.state == "online")


async def _reason(raw: str) -> str:
    from vigile.team.protocol import FrameError, decode

    try:
        decode(raw)
    except FrameError as exc:
        return str(exc)
    raise AssertionError("expected a refusal")


async def test_a_link_given_a_wrong_token_stops_and_says_so(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        link = TeamLink(hub.url, "intruder", "not-a-token")
        await asyncio.wait_for(link.run(), 5)  # returns: retrying cannot help
        assert link.state == "refused" and "token" in link.problem


async def test_a_desk_cut_off_works_alone_and_catches_up(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        ann = hub.link("ann")
        ben = hub.link("ben")
        await until(lambda: ann.state == ben.state == "online")
        await ann._connection.close()  # noqa: SLF001 - the hub goes away for ann only
        await until(lambda: ann.state == "offline")
        assert (await ann.claim("twitch:m3")).offline  # she acts alone
        ann.done("twitch:m3", "delete")
        await until(lambda: ann.state == "online", seconds=15)  # reconnected with backoff
        await until(lambda: ben.handled.get("twitch:m3") == ("delete", "ann"))


async def test_a_link_survives_a_broken_hub_and_says_what_was_wrong() -> None:
    """A hub (here a stand-in) answering with a frame that lacks a field inside: the link
    drops that connection with the reason and retries; it does not die."""
    greetings: list[str] = []

    async def broken_hub(connection) -> None:
        greetings.append(await connection.recv())
        await connection.send(encode({"type": "welcome", "you": "x", "role": "moderator"}))
        await connection.send(
            encode({"type": "state", "claims": [{"key": "k"}], "handled": []})
        )  # no "by"
        await connection.wait_closed()

    async with serve(broken_hub, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        link = TeamLink(f"ws://127.0.0.1:{port}", "desk", "token")
        task = asyncio.create_task(link.run())
        try:
            # it came back to try again, and (between two welcomes) is offline with the reason
            await until(lambda: len(greetings) >= 2 and link.state == "offline", seconds=10)
            assert "malformed state frame" in link.problem
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_tls_with_the_hub_s_own_certificate(tmp_path) -> None:
    authority = trustme.CA()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(server)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    async with running_hub(tmp_path, tls=server) as hub:
        assert hub.url.startswith("wss://")
        trusted = TeamLink(hub.url, "tls", hub.token("tls"), tls=tls_context(str(ca_file)))
        stranger = TeamLink(hub.url, "plain", hub.token("plain"))  # system CAs only
        hub.tasks += [asyncio.create_task(trusted.run()), asyncio.create_task(stranger.run())]
        await until(lambda: trusted.state == "online")
        await until(lambda: stranger.state == "offline")
        assert "CERTIFICATE_VERIFY_FAILED" in stranger.problem
        await until(lambda: [m["name"] for m in trusted.roster] == ["tls"])


async def test_the_roster_shows_each_desk_s_load_and_response_time(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        ann = hub.link("ann")
        ann.share = {"platforms": ["youtube"], "categories": []}
        ben = hub.link("ben", "supervisor")
        await until(lambda: len(ben.roster) == 2)
        ann.status(queue=12, handled=30, response_p50_s=41.5)
        await until(lambda: next(m for m in ben.roster if m["name"] == "ann")["queue"] == 12)
        row = next(m for m in ben.roster if m["name"] == "ann")
        assert row["handled"] == 30 and row["response_p50_s"] == 41.5
        assert row["role"] == "moderator" and row["share"]["platforms"] == ["youtube"]
        ann.alert("alert:raid:twitch:fed:x", "up", "RAID tw:fed · 40 accounts")
        await until(lambda: ben.alerts)
        assert ben.alerts[0]["by"] == "ann" and "RAID" in ben.alerts[0]["summary"]
        ann.alert("alert:raid:twitch:fed:x", "cleared")
        await until(lambda: not ben.alerts)


async def test_a_locked_hub_file_is_reported_and_the_hub_goes_on(tmp_path, caplog) -> None:
    async with running_hub(tmp_path) as hub:
        ann, ben = hub.link("ann"), hub.link("ben")
        await until(lambda: ann.state == ben.state == "online")
        locker = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another process holds the file
        try:
            assert (await ann.claim("twitch:m9")).granted  # served from memory meanwhile
            await until(lambda: ben.claims.get("twitch:m9") == "ann")
            await until(lambda: "was not saved" in caplog.text, seconds=10)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert "database is locked" in caplog.text


async def test_a_late_desk_is_told_the_newest_handled_items_only(tmp_path) -> None:
    async with running_hub(tmp_path, limits=HubLimits(recent_handled=3)) as hub:
        ann = hub.link("ann")
        await until(lambda: ann.state == "online")
        for n in range(6):
            ann.done(f"twitch:h{n}", "delete")
        await until(lambda: len(hub.hub.shared.handled) == 6)
        late = hub.link("late")
        await until(lambda: late.state == "online")
        assert sorted(late.handled) == ["twitch:h3", "twitch:h4", "twitch:h5"]


async def test_rules_too_large_for_the_hub_stay_on_the_desk_with_a_reason(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        boss = Triage(load_starter_packs())
        supervisor = hub.link("sup", "supervisor", boss)
        said: list[str] = []
        supervisor.listeners.append(lambda f: f["type"] == "refused" and said.append(f["reason"]))
        await until(lambda: supervisor.hub_version == 1)
        huge = NEW_RULE + f'description = "{"x" * MAX_FRAME}"\n'
        boss.swap(edited(boss, huge), "sup", "editor")
        await until(lambda: said)
        assert "more than the hub shares" in said[0]
        assert supervisor.state == "online" and hub.hub.shared.rules.version == 1


# -- `vigile hub` as a process: desks added with their tokens, kill -9 and restart ---------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_hub(db: Path, port: int) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen(
        [*VIGILE, "hub", "--listen", f"127.0.0.1:{port}", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    while True:  # up to the "listening" line
        line = process.stdout.readline()
        assert line, f"the hub did not start: {process.stderr.read()}"
        lines.append(line)
        if line.startswith("Hub listening"):
            return process, lines


def add_desk_cli(db: Path, name: str, role: str) -> str:
    """`vigile hub --add-desk`: the token is the one indented line of its output."""
    done = subprocess.run(
        [*VIGILE, "hub", "--db", str(db), "--add-desk", name, "--role", role],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    (token,) = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    return token


@pytest.mark.timeout(60)
async def test_the_hub_killed_and_restarted_keeps_its_state_and_desks_return(tmp_path) -> None:
    db, port = tmp_path / "hub.db", free_port()
    tokens = {"supervisor": add_desk_cli(db, "sup", "supervisor")}
    tokens["moderator"] = add_desk_cli(db, "mod", "moderator")
    process, lines = start_hub(db, port)
    assert not any(token in "".join(lines) for token in tokens.values())
    url = f"ws://127.0.0.1:{port}"
    boss = Triage(load_starter_packs())
    supervisor = TeamLink(url, "sup", tokens["supervisor"], boss)
    moderator = TeamLink(url, "mod", tokens["moderator"], Triage(load_starter_packs()))
    states: list[str] = []
    moderator.listeners.append(lambda f: f["type"] == "link" and states.append(f["state"]))
    tasks = [asyncio.create_task(supervisor.run()), asyncio.create_task(moderator.run())]
    try:
        await until(lambda: moderator.hub_version == 1, seconds=10)  # the supervisor's rules
        boss.swap(edited(boss), "sup", "editor")
        await until(lambda: moderator.hub_version == 2, seconds=10)
        moderator.done("twitch:m1", "ban")
        await until(lambda: "twitch:m1" in supervisor.handled)
        process.kill()  # SIGKILL: no goodbye, no flush beyond what was committed
        process.wait()
        await until(lambda: moderator.state == supervisor.state == "offline", seconds=10)
        process, lines = start_hub(db, port)
        assert not any(token in "".join(lines) for token in tokens.values())  # shown once
        assert "rules v2" in lines[-1]
        await until(lambda: moderator.state == supervisor.state == "online", seconds=20)
        assert states == ["online", "offline", "online"]  # not one notice per failed retry
        answer = await supervisor.claim("twitch:m1")
        assert answer.reason == "already handled by mod (ban)"
        boss.swap(
            edited(boss, NEW_RULE.replace("team-zorglub", "team-2").replace("zorglub", "bidule")),
            "sup",
            "editor",
        )
        await until(lambda: moderator.hub_version == 3, seconds=10)
        assert moderator.triage.judge_text("bidule").flagged
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "sup joined as supervisor" in errors
    for token in tokens.values():  # the log names desks, never their secrets
        assert token not in errors


def test_the_hub_command_refuses_bad_addresses_half_a_tls_pair_and_a_junk_file(tmp_path) -> None:
    base = [*VIGILE, "hub", "--db", str(tmp_path / "h.db")]
    done = subprocess.run([*base, "--listen", "nowhere"], capture_output=True, text=True)
    assert done.returncode == 2 and "expected HOST:PORT" in done.stderr
    done = subprocess.run([*base, "--cert", "c.pem"], capture_output=True, text=True)
    assert done.returncode == 2 and "both --cert and --key" in done.stderr
    (tmp_path / "junk.db").write_text("not a database, not at all")
    done = subprocess.run(
        [*base[:-1], str(tmp_path / "junk.db")], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1 and "junk.db: is not a Vigile file" in done.stderr
    env = {**os.environ, "VIGILE_TEAM_TOKEN": ""}
    done = subprocess.run(
        [*VIGILE, "demo", "--team", "ws://127.0.0.1:1"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2 and "VIGILE_TEAM_TOKEN" in done.stderr


def test_desks_are_added_listed_and_revoked_from_the_command_line(tmp_path) -> None:
    db = tmp_path / "hub.db"
    hub = [*VIGILE, "hub", "--db", str(db)]
    token = add_desk_cli(db, "alice", "moderator")
    assert len(token) >= 32
    again = subprocess.run(
        [*hub, "--add-desk", "alice", "--role", "supervisor"], capture_output=True, text=True
    )
    assert again.returncode == 2 and "exists already" in again.stderr
    no_role = subprocess.run([*hub, "--add-desk", "bob"], capture_output=True, text=True)
    assert no_role.returncode == 2 and "needs --role" in no_role.stderr
    listed = subprocess.run([*hub, "--list-desks"], capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout.startswith("alice\tmoderator\tadded ")
    assert token not in listed.stdout
    stored = sqlite3.connect(db).execute("SELECT digest FROM desks").fetchone()[0]
    assert token not in stored and len(stored) == 64  # a digest, never the token
    gone = subprocess.run([*hub, "--revoke-desk", "alice"], capture_output=True, text=True)
    assert gone.returncode == 0 and "revoked" in gone.stdout
    unknown = subprocess.run([*hub, "--revoke-desk", "alice"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "no desk is called 'alice'" in unknown.stderr


async def test_a_revoked_desk_is_cut_off_and_stops_retrying(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        alice, bob = hub.link("alice"), hub.link("bob")
        await until(lambda: alice.state == bob.state == "online")
        assert (await alice.claim("twitch:r1")).granted
        revoke_desk(hub.db, "alice")  # as `vigile hub --revoke-desk alice` does, hub running
        await until(lambda: alice.state == "refused", seconds=6)
        assert "revoked" in alice.problem
        await until(lambda: "twitch:r1" not in bob.claims)  # her claims went back
        assert bob.state == "online" and list(hub.hub.members) == ["bob"]
