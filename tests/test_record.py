"""`vigile record` against local Twitch and YouTube servers, as a user runs it."""

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

from tests.fakes import youtube as yt
from tests.fakes.twitch_irc import Close, FakeTwitch, Wait, privmsg
from tests.fakes.youtube import End, FakeYouTube

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
ROOT = Path(__file__).parent.parent


def chatter(count: int, channel: str = "lumina") -> list[list[str]]:
    lines = [
        privmsg(
            channel,
            f"u{n % 50}",
            f"message {n} salope" if n % 10 == 0 else f"message {n}",
            f"{channel}-{n}",
        )
        for n in range(count)
    ]
    return [lines[i : i + 25] for i in range(0, count, 25)]


async def record(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *VIGILE,
        "record",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_record_for_a_duration_stores_everything(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    async with FakeTwitch([[*chatter(500), Wait(30)]]) as server:
        code, out, err = await record(
            "twitch:Lumina", "--db", str(db), "--duration", "2", "--twitch-url", server.url
        )
    assert code == 0, err
    assert "500 messages (50 flagged)" in out
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 500
    assert conn.execute("SELECT count(*) FROM verdicts").fetchone()[0] == 50
    (ended,) = conn.execute("SELECT ended_at FROM sessions").fetchone()
    assert ended is not None
    assert out.rstrip().endswith(f"Session recorded to {db}")


async def test_ctrl_c_stops_with_a_clean_final_flush(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    async with FakeTwitch([[*chatter(300), Wait(30)]]) as server:
        proc = await asyncio.create_subprocess_exec(
            *VIGILE,
            "record",
            "twitch:lumina",
            "--db",
            str(db),
            "--twitch-url",
            server.url,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(100):
            await asyncio.sleep(0.1)
            if db.exists() and _count(db) >= 300:
                break
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert _count(db) == 300


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    except sqlite3.Error:
        return 0


async def test_several_channels_on_one_connection(tmp_path: Path) -> None:
    db = tmp_path / "two.db"
    script = [*chatter(50, "alpha"), *chatter(50, "beta"), Wait(30)]
    async with FakeTwitch([script]) as server:
        code, _, err = await record(
            "twitch:alpha",
            "twitch:beta",
            "--db",
            str(db),
            "--duration",
            "1.5",
            "--twitch-url",
            server.url,
        )
        joins = [line for line in server.received[0] if line.startswith("JOIN")]
    assert code == 0, err
    assert joins == ["JOIN #alpha", "JOIN #beta"]
    channels = dict(
        sqlite3.connect(db)
        .execute("SELECT channel, count(*) FROM messages GROUP BY channel")
        .fetchall()
    )
    assert channels == {"alpha": 50, "beta": 50}


async def test_bad_sources_are_refused_clearly(tmp_path: Path) -> None:
    code, _, err = await record("youtube:abc", "--db", str(tmp_path / "x.db"))
    assert code == 2 and "neither a YouTube video id nor a video URL" in err
    code, _, err = await record("mixer:old", "--db", str(tmp_path / "x.db"))
    assert code == 2 and "expected twitch:CHANNEL" in err


async def test_a_refused_login_makes_record_fail(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VIGILE_TWITCH_LOGIN", "mod_anna")
    monkeypatch.setenv("VIGILE_TWITCH_TOKEN", "not-a-token")
    async with FakeTwitch([[]], refuse_login=True) as server:
        code, out, err = await record(
            "twitch:lumina", "--db", str(tmp_path / "x.db"), "--twitch-url", server.url
        )
    assert code == 1 and "Login authentication failed" in err
    assert "not-a-token" not in out + err  # the token never reaches the screen


async def test_twitch_and_youtube_recorded_in_one_session(tmp_path: Path) -> None:
    db = tmp_path / "both.db"
    pages = [
        [yt.text_message(f"yt {p}-{n}", msg_id=f"y{p}-{n}") for n in range(300)] for p in range(2)
    ]
    pages[1].append(yt.deleted("y0-5"))
    async with (
        FakeTwitch([[*chatter(200), Wait(0.5), Close()]]) as twitch,
        FakeYouTube([*pages, End()]) as youtube,
    ):
        code, out, err = await record(
            "twitch:lumina",
            f"youtube:https://youtu.be/{youtube.video_id}",
            "--db",
            str(db),
            "--twitch-url",
            twitch.url,
            "--youtube-base-url",
            youtube.url,
        )
    assert code == 0, err
    assert "800 messages" in out
    conn = sqlite3.connect(db)
    per_platform = dict(conn.execute("SELECT platform, count(*) FROM messages GROUP BY 1"))
    assert per_platform == {"twitch": 200, "youtube": 600}
    (deleted,) = conn.execute("SELECT msg_id FROM messages WHERE deleted_at IS NOT NULL").fetchone()
    assert deleted == "y0-5"


async def test_recording_into_a_session_file_says_it_adds_to_it(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    for _ in (1, 2):
        async with FakeTwitch([[*chatter(50), Close()]]) as server:
            code, out, err = await record(
                "twitch:Lumina", "--db", str(db), "--duration", "1", "--twitch-url", server.url
            )
        assert code == 0, err
    assert out.rstrip().endswith(f"Session 2 recorded to {db}, after the 1 session it held")
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 2
