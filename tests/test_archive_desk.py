"""The archive end to end: push → who → offenders → known offenders on a desk → bilan; and a
desk or a recorder that pushes as it goes, whether the server is up or not."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from tests.archive_fixtures import Event, Said, record
from tests.fakes.twitch_irc import FakeTwitch, Wait, privmsg
from tests.helpers import SIZE, FedSource, screen_text, wait_for
from vigile.archive.cluster import ThrowawayCluster
from vigile.archive.follow import ArchiveLink
from vigile.archive.push import connect, push_file
from vigile.archive.watchlist import KnownOffender, Watchlist
from vigile.connectors.model import ActionKind
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import SessionPlan
from vigile.tui.app import VigileApp
from vigile.tui.known import TAG, KnownOffenders
from vigile.tui.widgets.cards import CardScreen
from vigile.tui.widgets.live_feed import LiveFeed
from vigile.tui.widgets.priority_pane import PriorityPane

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
ROOT = Path(__file__).parent.parent
NOW = datetime.now(UTC)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGILE, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


async def _record_live(*args: str) -> tuple[int, str, str]:
    """`vigile record` while this loop serves the fake Twitch."""
    proc = await asyncio.create_subprocess_exec(
        *VIGILE,
        "record",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def _earlier_events() -> list[Event]:
    """The raider (id-raider on the fed desk's Twitch) was sanctioned in two earlier events."""
    crowd = [Said(f"id-fan{n}", f"fan{n}", "gg") for n in range(4)]
    return [
        Event(
            "quarter",
            (NOW - timedelta(days=12)).timestamp(),
            "esports-co",
            "Quarter-final",
            said=[*crowd, Said("id-raider", "raider", "you are trash", "harassment")],
            actions=[(ActionKind.BAN, "id-raider")],
        ),
        Event(
            "semi",
            (NOW - timedelta(days=4)).timestamp(),
            "esports-co",
            "Semi-final",
            said=[*crowd, Said("id-raider", "raider", "back again", "harassment")],
            actions=[(ActionKind.TIMEOUT, "id-raider")],
        ),
    ]


async def test_push_who_offenders_watchlist_on_a_desk_then_bilan(tmp_path: Path, archive_url):
    files = [str(await record(tmp_path / f"{e.name}.db", e)) for e in _earlier_events()]
    pushed = _cli("archive", "push", *files, "--to", archive_url)
    assert pushed.returncode == 0, pushed.stderr
    who = json.loads(_cli("archive", "who", "raider", "--archive", archive_url, "--json").stdout)
    assert [a["kind"] for a in who["actions"]] == ["timeout", "ban"]
    offenders = _cli("archive", "offenders", "--since", "30d", "--archive", archive_url, "--json")
    assert [o["author_id"] for o in json.loads(offenders.stdout)["offenders"]] == ["id-raider"]

    # Tonight's desk loads the watchlist from the archive and pushes its own session as it goes.
    source = FedSource()
    plan = SessionPlan("final", "live", [source], tmp_path / "final.db")
    link = ArchiveLink(archive_url, plan.db_path, "esports-co", "Final", push_every=0.2)
    app = VigileApp(plan, Triage(load_starter_packs()), archive=link)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(PriorityPane)
        await wait_for(pilot, lambda: "watchlist 1" in screen_text(app))
        source.say("hello everyone", author="raider")  # not flagged: marked all the same
        source.say("hello again", author="raider")  # only the first message is
        source.say("kill yourself", author="stranger")
        source.say("kill yourself", author="raider")
        await wait_for(pilot, lambda: len(pane.items) == 3)
        first, stranger, flagged = (pane.items[f"twitch:m{n}"] for n in (1, 3, 4))
        day = datetime.fromtimestamp(_earlier_events()[1].started_at + 6, UTC).date()
        note = f"banned 1×, timed out 1× in 2 events, last on {day.isoformat()}"
        assert first.known == note and TAG in first.verdict.labels
        assert stranger.known is None
        assert flagged.known == note
        assert flagged.verdict.priority > stranger.verdict.priority
        assert [i.message.id for i in pane.ordered()][0] == "m4"  # ranks first
        await pilot.pause(0.1)
        assert "⚑ banned 1×, timed out 1×" in screen_text(app)  # as far as the row has room
        app.show_user_card(first.message)
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        await wait_for(pilot, lambda: f"known offender: {note}" in screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: "archive ✓ 4 " in screen_text(app))
        await pilot.press("q")
    link.finish()

    with connect(archive_url) as conn:
        (client, event, messages) = conn.execute(
            "SELECT client, event, messages FROM sessions WHERE name = 'final'"
        ).fetchone()
    assert (client, event, messages) == ("esports-co", "Final", 4)

    out = tmp_path / "month"
    start, end = (NOW - timedelta(days=30)).date().isoformat(), NOW.date().isoformat()
    bilan = _cli(
        "bilan",
        "--archive",
        archive_url,
        "--client",
        "esports-co",
        "--from",
        start,
        "--to",
        end,
        "--out",
        str(out),
        "--lang",
        "en",
    )
    assert bilan.returncode == 0, bilan.stderr
    figures = json.loads((out / "bilan.json").read_text())
    assert [e["event"] for e in figures["events"]] == ["Quarter-final", "Semi-final", "Final"]
    assert figures["totals"]["messages"] == 14 and figures["evidence"]["intact"]


def test_known_offenders_without_a_watchlist_change_nothing():
    from vigile.connectors.model import ChatMessage, Verdict

    known = KnownOffenders()
    quiet = ChatMessage("twitch", "c", "1", "id-a", "a", "hi", 1.0)
    assert known.queue_item(quiet, Verdict(), 1, 0.0) is None
    listing = Watchlist([])
    known.watchlist = listing
    assert known.note(quiet) is None and len(known) == 0


async def test_a_recorder_survives_the_archive_being_down_and_catches_up(tmp_path: Path):
    path = await record(tmp_path / "live.db", _earlier_events()[0])
    cluster = ThrowawayCluster()
    cluster.start()
    try:
        link = ArchiveLink(cluster.url, path, push_every=0.1)
        cluster.halt()
        await link.sync()
        assert link.status.state == "unreachable"
        assert link.summary(5).startswith("archive ⚠ unreachable, 5 behind: ")
        cluster.resume()
        await link.sync()
        assert link.status.state == "current" and link.summary(5) == "archive ✓ 5"
        # loaded before this session's own ban was pushed; the next refresh has it
        assert link.watchlist is not None and link.watchlist.get("twitch", "id-raider") is None
        link.refresh_every = 0
        await link.sync()
        assert link.watchlist.get("twitch", "id-raider") is not None
    finally:
        cluster.stop()


async def test_record_pushes_as_it_goes_with_client_and_event(tmp_path: Path, archive_url):
    db = tmp_path / "live.db"
    lines = [privmsg("lumina", f"u{n % 5}", f"message {n}", f"lumina-{n}") for n in range(120)]
    async with FakeTwitch([[lines, Wait(30)]]) as server:
        code, out, err = await _record_live(
            "twitch:Lumina",
            "--db",
            str(db),
            "--duration",
            "2",
            "--twitch-url",
            server.url,
            "--archive",
            archive_url,
            "--client",
            "acme",
            "--event",
            "Launch night",
        )
    assert code == 0, err
    assert out.splitlines()[-1] == "archive ✓ 120"
    with psycopg.connect(archive_url) as conn:
        row = conn.execute("SELECT client, event, messages FROM sessions").fetchone()
    assert row == ("acme", "Launch night", 120)
    again = _cli("archive", "push", str(db), "--to", archive_url, "--json")
    assert json.loads(again.stdout)["pushed"][0]["status"] == "unchanged"


async def test_record_goes_on_when_the_archive_is_down(tmp_path: Path):
    db = tmp_path / "live.db"
    lines = [privmsg("lumina", "u1", f"message {n}", f"lumina-{n}") for n in range(50)]
    async with FakeTwitch([[lines, Wait(30)]]) as server:
        code, out, err = await _record_live(
            "twitch:Lumina",
            "--db",
            str(db),
            "--duration",
            "2",
            "--twitch-url",
            server.url,
            "--archive",
            "postgresql://vigile@127.0.0.1:1/none",
        )
    assert code == 0, err
    assert "50 messages" in out
    assert out.splitlines()[-1].startswith("archive ⚠ unreachable")


async def test_a_desk_without_a_connection_loads_an_exported_watchlist(tmp_path: Path, archive_url):
    with connect(archive_url) as conn:
        for e in _earlier_events():
            push_file(conn, await record(tmp_path / f"{e.name}.db", e))
    out = tmp_path / "watch.json"
    assert _cli("archive", "watchlist", "--archive", archive_url, "--out", str(out)).returncode == 0
    source = FedSource()
    plan = SessionPlan("offline", "live", [source], tmp_path / "offline.db")
    app = VigileApp(plan, Triage(load_starter_packs()), watchlist=Watchlist.read(out))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(PriorityPane)
        source.say("hi", author="raider")
        await wait_for(pilot, lambda: len(pane.items) == 1)
        await wait_for(pilot, lambda: "watchlist 1" in screen_text(app))
        assert next(iter(pane.items.values())).known.startswith("banned 1×, timed out 1×")
        await pilot.press("q")


async def test_the_live_feed_marks_a_known_offenders_lines_as_inert_text(tmp_path: Path):
    hostile = "[b]raid[/b]"  # a display name that is markup: drawn as it is, never applied
    offender = KnownOffender("twitch", f"id-{hostile}", 2, 0, 3, NOW.timestamp())
    source = FedSource()
    plan = SessionPlan("marked", "live", [source], tmp_path / "marked.db")
    app = VigileApp(plan, Triage(load_starter_packs()), watchlist=Watchlist([offender]))
    async with app.run_test(size=SIZE) as pilot:
        feed = app.query_one(LiveFeed)
        source.say("hello all", author=hostile)
        source.say("hello back", author="[b]fan[/b]")  # the same markup, an unknown account
        source.say("still here", author=hostile)  # every line of theirs, not the first only
        await wait_for(pilot, lambda: feed.line_count == 3)
        assert [line.known for line in feed.lines()] == [True, False, True]
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert f"⚑ {hostile}: hello all" in shown and f"⚑ {hostile}: still here" in shown
        assert "tw [b]fan[/b]: hello back" in shown  # no mark for a stranger
        strip = feed.line_strip(feed.lines()[0])
        marked = [s for s in strip if s.text == "⚑ "]
        assert marked and marked[0].style == feed._styles["known"]  # the theme's, not markup's
        await pilot.press("q")
