"""Every expected failure of the command line: one line naming the file and why, a status."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vigile.replay.store import SessionStore
from vigile.team.state import HubState
from vigile.tui.cli import main

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]


def run(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VIGILE, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def one_line(done: subprocess.CompletedProcess, status: int, *expected: str) -> str:
    """The failure was told in exactly one line (no traceback, no thread's traceback)."""
    lines = done.stderr.splitlines()
    assert done.returncode == status, done.stderr
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def junk(tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "notes.db"
    text.write_text("hello, this is a text file\n" * 50)
    noise = tmp_path / "noise.db"
    noise.write_bytes(os.urandom(5000))
    empty = tmp_path / "empty.db"
    empty.touch()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    return {"text": text, "noise": noise, "empty": empty, "other": other}


@pytest.fixture
async def hub_file(tmp_path: Path) -> Path:
    path = tmp_path / "hub.db"
    state = await HubState.open(path)
    await state.close()
    return path


# -- files that are not sessions ----------------------------------------------------------------


@pytest.mark.parametrize("command", ["loadtest", "replay", "export-evidence", "bilan", "verify"])
def test_every_reading_command_refuses_what_is_not_a_session(
    command: str, junk: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = {
        "loadtest": ["--max"],
        "export-evidence": ["--out", str(tmp_path / "d")],
        "bilan": ["--out", str(tmp_path / "b")],
    }.get(command, [])
    reasons = {
        "text": "is not a Vigile file (not a SQLite database)",
        "noise": "is not a Vigile file (not a SQLite database)",
        "empty": "is empty, not a Vigile file",
        "other": "is a SQLite database, but not one Vigile wrote",
    }
    for name, path in junk.items():
        assert main([command, str(path), *extra]) == 2
        assert capsys.readouterr().err == f"vigile {command}: {path}: {reasons[name]}\n"
    assert not (tmp_path / "d").exists() and not (tmp_path / "b").exists()


def test_a_hub_file_and_a_session_refuse_each_others_commands(
    tiny_session: Path, hub_file: Path, tmp_path: Path
) -> None:
    before = tiny_session.read_bytes()
    done = run("hub", "--db", str(tiny_session), "--listen", "127.0.0.1:0")
    one_line(done, 1, f"vigile hub: {tiny_session}: is a Vigile session, not a team hub's state")
    assert tiny_session.read_bytes() == before  # no table was added to it
    for args in (
        ["loadtest", str(hub_file), "--max"],
        ["scenario", "demo", "--db", str(hub_file), "--force"],
        ["replay", str(hub_file)],
    ):
        done = run(*args)
        one_line(done, 2, f"{hub_file}: is a team hub's state file, not a Vigile session")
    assert hub_file.exists()  # --force replaces a session, never a file of another sort


# -- where a command writes ---------------------------------------------------------------------


def test_writing_into_a_missing_folder_is_refused_before_anything_starts(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.db"
    for args in (
        ["scenario", "demo", "--db", str(missing)],
        ["demo", "--db", str(missing)],
    ):
        done = run(*args)
        one_line(done, 2, f"{missing}: the folder {missing.parent} does not exist")
    assert not missing.parent.exists()


def test_replay_refuses_a_recording_place_it_cannot_write(
    tiny_session: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "x.db"
    done = run("replay", str(tiny_session), "--db", str(missing))
    line = one_line(done, 2, f"vigile replay: {missing}: the folder")
    assert "recorded" not in done.stdout + line  # never claims what was not done
    done = run("replay", str(tiny_session), "--db", str(tiny_session))
    one_line(done, 2, "is the session being replayed")


def test_a_folder_in_place_of_the_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "somedir"
    folder.mkdir()
    done = run("scenario", "demo", "--db", str(folder), "--force")
    one_line(done, 2, f"vigile scenario: {folder}: is a folder; give a file name inside it")


def test_an_existing_scenario_is_kept_without_force(tiny_session: Path) -> None:
    done = run("scenario", "demo", "--db", str(tiny_session))
    one_line(done, 2, f"{tiny_session}: already exists (use --force to replace it)")


async def test_a_loadtest_never_overwrites_a_session(tiny_session: Path, tmp_path: Path) -> None:
    other = tmp_path / "kept.db"
    async with await SessionStore.open(other) as store:
        await store.start_session("kept", "live", [])
    done = run("loadtest", str(tiny_session), "--max", "--db", str(other))
    one_line(done, 2, f"{other}: already holds a session")
    async with await SessionStore.open(other, readonly=True) as store:
        assert len(await store.sessions()) == 1


# -- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["replay", "x.db", "--speed", "nan"], "--speed: 'nan' is not a speed"),
        (["replay", "x.db", "--speed", "inf"], "--speed: 'inf' is not a speed"),
        (["replay", "x.db", "--speed", "abc"], "--speed: 'abc' is not a speed"),
        (["replay", "x.db", "--speed", "0"], "--speed: '0' is not a speed"),
        (["demo", "--speed", "-2"], "--speed: '-2' is not a speed"),
        (["replay", "x.db", "--speed", "2", "--max"], "--speed and --max do not go together"),
        (["loadtest", "x.db", "--speed", "2", "--max"], "--speed and --max do not go together"),
        (
            ["bilan", "x.db", "--out", "o", "--target-minutes", "-3"],
            "--target-minutes: '-3': the response-time target in minutes is a number above 0",
        ),
        (["record", "twitch:x", "--duration", "nan"], "--duration: 'nan': a duration"),
    ],
)
def test_bad_arguments_are_answered_in_one_line(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(args)
    assert exit.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"vigile {args[0]}: ")
    assert expected in err[0] and f"(see vigile {args[0]} --help)" in err[0]


def test_bilan_refuses_labels_it_cannot_find(
    tiny_session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.db"
    out = tmp_path / "o"
    assert main(["bilan", str(tiny_session), "--out", str(out), "--labels", str(missing)]) == 2
    assert capsys.readouterr().err == f"vigile bilan: {missing}: no such file\n"
    assert not out.exists()


# -- interruptions and leftovers ----------------------------------------------------------------


def test_ctrl_c_in_a_loadtest_says_where_the_intact_partial_run_is(
    tiny_session: Path, tmp_path: Path
) -> None:
    out = tmp_path / "partial.db"
    proc = subprocess.Popen(
        [*VIGILE, "loadtest", str(tiny_session), "--speed", "0.2", "--db", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not out.exists() and time.monotonic() < deadline:  # the run has begun
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.splitlines() == [
        f"vigile loadtest: {out}: interrupted; the partial run is recorded, intact, here"
    ]
    verify = run("verify", str(out))
    assert verify.returncode == 0 and verify.stdout.startswith("intact: "), verify.stdout


def test_a_demo_that_cannot_start_leaves_nothing_behind(tmp_path: Path) -> None:
    recording = tmp_path / "demo.db"
    bad_pack = tmp_path / "bad.toml"
    bad_pack.write_text('[[rules]]\nid = "x"\ncategory = "spam"\naction = "explode"\n')
    done = run("demo", "--db", str(recording), "--rules", str(bad_pack))
    one_line(done, 2, f"vigile demo: {bad_pack}")
    done = run("demo", "--db", str(recording), "--share", "platform:twitch")
    one_line(done, 2, "vigile demo: --share splits a team's queue: it needs --team")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]  # no demo-scenario.db


async def test_counts_agree_with_their_nouns(tmp_path: Path) -> None:
    from vigile.connectors.model import ChatMessage

    one = tmp_path / "one.db"
    async with await SessionStore.open(one) as store:
        await store.start_session("one", "live", [])
        store.add_message(ChatMessage("twitch", "c", "m1", "a", "A", "hello", 1.0))
    done = run("verify", str(one))
    assert done.stdout.startswith("intact: 3 sealed rows (1 message) in this session file")
    done = run("export-evidence", str(one), "--out", str(tmp_path / "d"), "--all")
    assert f"\n1 of 1 message exported (all messages; 3 sealed rows) → {tmp_path / 'd'}\n" in (
        done.stdout
    )
    done = run("export-evidence", str(one), "--out", str(tmp_path / "f"))
    assert "0 of 1 message exported (flagged" in done.stdout, done.stdout


def test_only_a_file_the_command_created_is_removed_on_failure(tmp_path: Path) -> None:
    from vigile.tui.cli_errors import CommandError, removed_on_failure

    kept, made = tmp_path / "kept.db", tmp_path / "made.db"
    kept.write_text("a session already there")
    for path in (kept, made):
        with pytest.raises(CommandError), removed_on_failure(path):
            path.write_text("half written")
            raise CommandError("the disk is full", path)
    assert kept.exists() and not made.exists()
