"""Cross-event questions on a real archive: who, offenders, search, the watchlist file."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.archive_fixtures import Event, Said, record
from vigile.archive.push import connect, push_file
from vigile.archive.watchlist import Watchlist
from vigile.connectors.model import ActionKind

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
NOW = datetime.now(UTC)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGILE, *args], capture_output=True, text=True, timeout=120)


def _ago(days: float) -> float:
    return (NOW - timedelta(days=days)).timestamp()


def events() -> list[Event]:
    crowd = [Said(f"fan{n}", f"Fan{n}", "gg well played") for n in range(6)]
    return [
        Event(
            "cup-quarter",
            _ago(20),
            "esports-co",
            "Cup quarter-final",
            said=[
                *crowd,
                Said("r41d", "RaidLord", "les chevaux mangeaient le stream", "spam"),
                Said("r41d", "RaidLord", "you are all trash", "harassment"),
            ],
            actions=[(ActionKind.BAN, "r41d")],
        ),
        Event(
            "cup-semi",
            _ago(10),
            "esports-co",
            "Cup semi-final",
            said=[
                *crowd,
                Said("r41d", "RaidL0rd", "running back again lol", "harassment"),
                Said("spam9", "Spammer", "buy followers cheap", "spam"),
            ],
            actions=[(ActionKind.TIMEOUT, "r41d"), (ActionKind.DELETE, "spam9")],
        ),
        Event(
            "launch",
            _ago(5),
            "brand-inc",
            "Product launch",
            said=[
                *crowd,
                Said("r41d", "RaidL0rd", "hello again"),
                Said("spam9", "Spammer", "buy followers here", "spam"),
            ],
            actions=[(ActionKind.TIMEOUT, "spam9")],
            simulated=[(ActionKind.BAN, "fan1")],  # a rehearsal's ban names nobody
        ),
        Event(
            "old-show",
            _ago(90),
            "esports-co",
            "Old show",
            said=[Said("spam9", "Spammer", "buy now")],
            actions=[(ActionKind.BAN, "spam9")],
        ),
    ]


@pytest.fixture
async def filled(tmp_path: Path, archive_url: str) -> str:
    with connect(archive_url) as conn:
        for n, event in enumerate(events()):
            push_file(conn, await record(tmp_path / f"{n}.db", event))
    return archive_url


def test_who_tells_every_event_message_and_action_newest_first(filled: str):
    result = _cli("archive", "who", "RaidLord", "--archive", filled, "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["identities"] == [{"platform": "twitch", "author_id": "r41d"}]
    assert [a["event"] for a in found["appearances"]] == [
        "Product launch",
        "Cup semi-final",
        "Cup quarter-final",
    ]
    assert [a["flagged"] for a in found["appearances"]] == [0, 1, 2]
    assert {n["name"] for n in found["names"]} == {"RaidLord", "RaidL0rd"}
    assert [m["text"] for m in found["messages"]][:2] == ["hello again", "running back again lol"]
    assert found["messages"][1]["categories"] == ["harassment"]
    assert [(a["kind"], a["event"]) for a in found["actions"]] == [
        ("timeout", "Cup semi-final"),
        ("ban", "Cup quarter-final"),
    ]
    table = _cli("archive", "who", "twitch:r41d", "--archive", filled)
    assert "known as RaidL0rd, RaidLord" in table.stdout
    assert "Cup semi-final" in table.stdout and "timeout" in table.stdout
    unknown = _cli("archive", "who", "nobody-here", "--archive", filled)
    assert unknown.returncode == 1 and "never seen" in unknown.stdout


def test_offenders_are_accounts_acted_on_in_two_events(filled: str):
    found = json.loads(
        _cli("archive", "offenders", "--since", "30d", "--archive", filled, "--json").stdout
    )
    rows = {
        (o["author_id"], o["events"], o["bans"], o["timeouts"], o["deletions"])
        for o in found["offenders"]
    }
    # spam9's ban is 90 days old; fan1's ban was simulated: neither counts
    assert rows == {("r41d", 2, 1, 1, 0), ("spam9", 2, 0, 1, 1)}
    client = json.loads(
        _cli(
            "archive",
            "offenders",
            "--since",
            "30d",
            "--client",
            "esports-co",
            "--archive",
            filled,
            "--json",
        ).stdout
    )
    assert [o["author_id"] for o in client["offenders"]] == ["r41d"]
    assert client["offenders"][0]["name"] == "RaidL0rd"  # the newest name it used
    longer = json.loads(
        _cli("archive", "offenders", "--since", "13mo", "--archive", filled, "--json").stdout
    )
    assert {o["author_id"]: o["events"] for o in longer["offenders"]}["spam9"] == 3
    table = _cli("archive", "offenders", "--since", "30d", "--archive", filled)
    assert table.stdout.splitlines()[0].split()[:4] == ["platform", "account", "id", "events"]
    bad = _cli("archive", "offenders", "--since", "soon", "--archive", filled)
    assert bad.returncode == 2 and "is not a duration" in bad.stderr


def test_search_stems_french_and_english(filled: str):
    french = json.loads(_cli("archive", "search", "manger", "--archive", filled, "--json").stdout)
    assert [m["text"] for m in french["messages"]] == ["les chevaux mangeaient le stream"]
    english = json.loads(_cli("archive", "search", "runs", "--archive", filled, "--json").stdout)
    assert [m["text"] for m in english["messages"]] == ["running back again lol"]
    phrase = json.loads(
        _cli("archive", "search", '"buy followers" -cheap', "--archive", filled, "--json").stdout
    )
    assert [(m["text"], m["client"]) for m in phrase["messages"]] == [
        ("buy followers here", "brand-inc")
    ]
    hostile = _cli("archive", "search", "'); DROP TABLE messages; --", "--archive", filled)
    assert hostile.returncode == 0
    assert _cli("archive", "search", "trash", "--archive", filled).stdout.count("trash") == 1


async def test_watchlist_exports_for_desks_without_a_connection(filled: str, tmp_path: Path):
    out = tmp_path / "watch.json"
    done = _cli("archive", "watchlist", "--archive", filled, "--out", str(out))
    assert done.returncode == 0, done.stderr
    listing = Watchlist.read(out)
    raider = listing.get("twitch", "r41d")
    assert raider is not None and listing.get("twitch", "fan1") is None
    day = datetime.fromtimestamp(_ago(10) + 9, UTC).strftime("%Y-%m-%d")
    assert raider.note == f"banned 1×, timed out 1× in 2 events, last on {day}"
    spammer = listing.get("twitch", "spam9")
    assert spammer is not None and spammer.note.startswith("banned 1×, timed out 1× in 2 events")
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a Vigile watchlist"):
        Watchlist.read(tmp_path / "bad.json")


def test_bilan_over_a_month_of_a_clients_events(filled: str, tmp_path: Path):
    start = (NOW - timedelta(days=30)).strftime("%Y-%m-%d")
    end = NOW.strftime("%Y-%m-%d")
    out = tmp_path / "month"
    done = _cli(
        "bilan",
        "--archive",
        filled,
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
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 events, 16 messages, 4 flagged, 3 actions")
    figures = json.loads((out / "bilan.json").read_text())
    assert [e["event"] for e in figures["events"]] == ["Cup quarter-final", "Cup semi-final"]
    assert all(e["chain"]["intact"] for e in figures["events"])
    # every sealed row proven, not only messages, up to the file's own last link
    assert all(
        e["chain"]["rows_checked"] > e["chain"]["messages_checked"] == e["messages"] > 0
        and e["chain"]["head"]["link"] == e["chain"]["rows_checked"]
        for e in figures["events"]
    )
    assert figures["flagged_by_category"] == {"harassment": 2, "spam": 2}
    assert figures["actions_by_kind"] == {"ban": 1, "delete": 1, "timeout": 1}
    assert figures["totals"]["unique_authors"] == 8
    assert figures["handled"] == 4 and figures["unhandled"] == 0
    assert figures["response_times"]["count"] == 4
    assert [o["author_id"] for o in figures["repeat_offenders"]] == ["r41d"]
    assert "response_times" in figures and "seconds" not in figures["response_times"]
    page = (out / "bilan.html").read_text()
    assert "<h1>Report for the period — esports-co</h1>" in page
    assert page.count("<svg") == 4  # per event, per day, by category, response times
    for figure in ("Messages per event", "per day", "Flagged messages by category",
                   "Response-time distribution"):  # fmt: skip
        assert f"<figcaption>{figure}" in page or figure in page
    assert ">Cup quarter-final</td>" in page and ">Cup semi-final</td>" in page
    assert '<td class="chat">RaidL0rd</td>' in page  # the repeat offender, as last seen
    assert page.count('<span class="ok">Chain intact</span>') == 4  # events, then evidence
    md = (out / "bilan.md").read_text()
    assert "# Report for the period — esports-co" in md
    assert "| Cup quarter-final |" in md and "| intact |" in md
    assert "- RaidL0rd (twitch): 2 events" in md
    nothing = _cli(
        "bilan",
        "--archive",
        filled,
        "--client",
        "nobody",
        "--from",
        start,
        "--to",
        end,
        "--out",
        str(out),
    )
    assert nothing.returncode == 2 and "no archived session for client 'nobody'" in nothing.stderr


async def test_the_period_page_shows_names_and_chat_as_text_only(tmp_path: Path, archive_url):
    hostile = '<img src=x onerror="alert(1)">'
    crowd = [Said(f"fan{n}", f"Fan{n}", "gg") for n in range(3)]
    raid = [Said("r1", f"{hostile}\x1b[31m", "$x^2$ <b>you</b> are trash", "harassment")]
    shows = [
        Event(f"night-{n}", _ago(3 - n), "<script>x</script>", f"{hostile} night {n} $5$",
              said=[*crowd, *raid], actions=[(ActionKind.BAN, "r1")])
        for n in range(2)
    ]  # fmt: skip
    with connect(archive_url) as conn:
        for show in shows:
            push_file(conn, await record(tmp_path / f"{show.name}.db", show))
    out = tmp_path / "page"
    start, end = (NOW - timedelta(days=7)).strftime("%Y-%m-%d"), NOW.strftime("%Y-%m-%d")
    done = _cli("bilan", "--archive", archive_url, "--client", "<script>x</script>",
                "--from", start, "--to", end, "--out", str(out), "--lang", "fr")  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = (out / "bilan.html").read_text()
    assert "<script" not in page and "<img" not in page and "<b>you" not in page
    assert "\x1b" not in page  # no terminal control in a page either
    assert "Bilan de la période — &lt;script&gt;x&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; night 0 $5$</td>" in page
    assert '<td class="chat">&lt;img src=x onerror=&#34;alert(1)&#34;&gt;' in page  # recidivist
    # the event names reach the chart as text, a `$` as a dollar sign and not a formula
    assert "night 1 $5$" in page.split("<svg", 2)[1]
