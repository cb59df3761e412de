"""A large archive is read by a second process: the session it makes holds the very same rows,
each sealed with the same digest, as one read by the importing process itself. (The order of
the links between messages and events follows when each batch commits, in both.)"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from vigile.replay.importers.driver import import_archives
from vigile.replay.importers.items import ImportFailed, ImportOptions
from vigile.replay.verify import verify_session

IMPORTS = Path(__file__).parent / "data" / "imports"


def rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the session holds but its end (the time the import finished) and the links'
    order."""
    with sqlite3.connect(db) as conn:
        out = {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("events", "deletions", "labels")
        }
        out["messages"] = [row[:-1] for row in conn.execute("SELECT * FROM messages ORDER BY 1")]
        out["sessions"] = conn.execute(
            "SELECT id, name, kind, started_at, sources, info FROM sessions"
        ).fetchall()
        out["chain"] = conn.execute(
            "SELECT kind, ref, digest FROM chain WHERE kind != 'session_end' ORDER BY kind, ref"
        ).fetchall()
    return out


async def both_ways(
    tmp_path: Path, paths: list[Path], options: ImportOptions
) -> dict[str, list[tuple[Any, ...]]]:
    here, apart = tmp_path / "here.db", tmp_path / "apart.db"
    report_here = await import_archives(paths, here, options, parallel=False)
    report_apart = await import_archives(paths, apart, options, parallel=True)
    assert report_apart.lines() == report_here.lines()
    assert verify_session(apart).intact
    found = rows(apart)
    assert found == rows(here)
    return found


@pytest.mark.parametrize(
    "names",
    [
        ["lumina_racing_raw.irc"],  # bans, timeouts, deletions, subs, a raid, a bad line
        ["Lumina race night [Lr7xQ2mVt9k].live_chat.json"],
        ["lumina_racing_2199887766.json"],
        ["chat-downloader-twitch.json"],
        ["chat-downloader-youtube.json"],
        ["race-night.csv"],
        ["Race night utc.txt", "lumina_racing_raw.irc"],  # merged by time
    ],
)
async def test_every_format_makes_the_same_session_read_apart(tmp_path, names) -> None:
    found = await both_ways(tmp_path, [IMPORTS / n for n in names], ImportOptions())
    assert found["messages"]


def irc_archive(path: Path, lines: int) -> Path:
    """Twitch chat as a chat-log service serves it, with what a long log holds besides: blank
    lines, protocol lines, room states, deletions, broken lines; gzipped."""
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for n in range(lines):
            if n % 500 == 499:
                out.write("}{ broken line\n")
            elif n % 700 == 350:
                out.write("\n" if n % 1400 == 350 else "PING :tmi.twitch.tv\n")
            elif n % 900 == 450:
                out.write(f"@slow={n % 3} :tmi.twitch.tv ROOMSTATE #lumina\n")
            elif n % 1100 == 550:
                out.write(
                    f"@login=user{n - 1};target-msg-id=m{n - 1};tmi-sent-ts={1_721_498_400_000 + n}"
                    f" :tmi.twitch.tv CLEARMSG #lumina :gone\n"
                )
            else:
                tags = (
                    f"badges=subscriber/{n % 7};display-name=User{n % 300};id=m{n};mod=0;"
                    f"tmi-sent-ts={1_721_498_400_000 + n * 5};user-id={n % 300}"
                )
                user = f"user{n % 300}"
                out.write(f"@{tags} :{user}!{user}@{user}.tmi.twitch.tv PRIVMSG #lumina :hi {n}\n")
    return path


async def test_a_long_log_makes_the_same_session_read_apart(tmp_path) -> None:
    archive = irc_archive(tmp_path / "long.irc.gz", 12_000)  # a dozen batches
    found = await both_ways(tmp_path, [archive], ImportOptions())
    malformed = [r for r in found["events"] if r[5] == "malformed"]
    assert len(malformed) == 24 and len(found["deletions"]) > 5
    assert len(found["messages"]) > 11_000


async def test_what_stops_the_reading_process_stops_the_import_in_one_line(tmp_path) -> None:
    db = tmp_path / "s.db"
    with pytest.raises(ImportFailed, match="--columns"):  # a CSV without a header
        await import_archives([IMPORTS / "headerless.csv"], db, ImportOptions(), parallel=True)
    assert list(tmp_path.iterdir()) == []  # nothing left behind, not even the hidden file


async def test_an_interrupted_import_leaves_nothing_and_no_process(tmp_path) -> None:
    archive = irc_archive(tmp_path / "long.irc.gz", 40_000)
    db = tmp_path / "s.db"
    progressed = asyncio.Event()
    task = asyncio.create_task(
        import_archives(
            [archive], db, ImportOptions(), on_progress=lambda _: progressed.set(), parallel=True
        )
    )
    await asyncio.wait_for(progressed.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.irc.gz"]
    assert not child_processes()  # the reader is stopped and waited for


def child_processes() -> list[str]:
    return [
        pid for p in Path("/proc/self/task").glob("*/children") for pid in p.read_text().split()
    ]


def test_a_truncated_archive_keeps_what_came_before(tmp_path) -> None:
    archive = irc_archive(tmp_path / "long.irc.gz", 3_000)
    cut = tmp_path / "cut.irc.gz"
    with open(archive, "rb") as src, open(cut, "wb") as out:
        shutil.copyfileobj(src, out)
        out.truncate(archive.stat().st_size // 2)
    found = asyncio.run(both_ways(tmp_path, [cut], ImportOptions()))
    assert any(r[5] == "malformed" and "ends early" in r[6] for r in found["events"])
