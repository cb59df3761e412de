"""Pack files edited while Vigile runs: valid edits go live, broken ones change nothing."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vigile.filters.rules import RulePackError, parse_pack
from vigile.filters.suggestions import suggestion_pack
from vigile.filters.triage import Triage
from vigile.filters.watch import PackWatcher

PACK = '[pack]\nname = "live"\n\n[[rules]]\nid = "brand"\ncategory = "brand"\nterms = [{terms}]\n'


def write(path: Path, terms: str) -> None:
    path.write_text(PACK.format(terms=terms), "utf-8")
    # Make the change visible to a stat-based watcher even within one clock tick.
    stamp = time.time_ns() + 1_000_000
    os.utime(path, ns=(stamp, stamp))


def test_an_edit_saved_while_the_desk_starts_is_not_missed(tmp_path: Path) -> None:
    """The packs are read, then the watcher starts: an edit saved in between goes live."""
    path = tmp_path / "live.toml"
    write(path, '"acme"')
    triage = Triage([parse_pack(path.read_text(), str(path))])
    write(path, '"acme", "globex"')  # saved before the watcher took its first look
    watcher = PackWatcher([path], triage)
    version = watcher.check()
    assert version is not None and version.version == 2
    assert triage.judge_text("globex is great").flagged
    assert watcher.check() is None  # and only once


def test_a_valid_edit_goes_live_and_a_broken_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "live.toml"
    write(path, '"acme"')
    triage = Triage([parse_pack(path.read_text(), str(path))])
    refused: list[RulePackError] = []
    watcher = PackWatcher([path], triage, refused.append, author="supervisor")
    assert watcher.check() is None  # nothing changed yet

    write(path, '"acme", "#boycottacme"')
    version = watcher.check()
    assert version is not None and version.version == 2 and version.author == "supervisor"
    assert triage.judge_text("#boycottacme").flagged

    path.write_text(PACK.format(terms='"acme", "unterminated') + "\n", "utf-8")
    os.utime(path, ns=(time.time_ns() + 2_000_000,) * 2)
    error = watcher.check()
    assert isinstance(error, RulePackError) and refused == [error]
    assert error.file == str(path) and error.line == 7 and "TOML syntax" in error.reason
    assert triage.version == 2 and triage.judge_text("#boycottacme").flagged  # still running

    path.unlink()
    assert isinstance(watcher.check(), RulePackError)  # a vanished file is refused too
    assert triage.version == 2


def test_a_file_edit_keeps_the_suggestions_a_supervisor_accepted(tmp_path: Path) -> None:
    path = tmp_path / "live.toml"
    write(path, '"acme"')
    file_pack = parse_pack(path.read_text(), str(path))
    triage = Triage([file_pack])
    watcher = PackWatcher([path], triage)
    accepted = suggestion_pack(
        [
            {
                "id": "hijacked-acmegate",
                "category": "harassment",
                "hashtags": ["#acmegate"],
                "severity": 3,
            }
        ]
    )
    triage.swap([file_pack, accepted], "supervisor", "suggestion")
    write(path, '"acme", "acme sucks"')
    assert watcher.check() is not None and triage.version == 3
    assert triage.judge_text("acme sucks").flagged  # the edit is live
    assert triage.judge_text("#AcmeGate").flagged  # and the accepted suggestion stayed


def test_saving_without_a_change_makes_no_version(tmp_path: Path) -> None:
    path = tmp_path / "live.toml"
    write(path, '"acme"')
    triage = Triage([parse_pack(path.read_text(), str(path))])
    watcher = PackWatcher([path], triage)
    write(path, '"acme"')
    assert watcher.check() is None and triage.version == 1


def test_vigile_check_follows_edits_to_its_pack(tmp_path: Path) -> None:
    path = tmp_path / "live.toml"
    write(path, '"acme"')
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigile.tui.cli", "check", "--rules", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )

    def ask(text: str) -> dict:
        proc.stdin.write(text + "\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    try:
        assert not ask("globex rocks")["flagged"]
        write(path, '"acme", "globex"')
        assert ask("globex rocks")["matches"][0]["rule"] == "brand"
        path.write_text("[[rules]\n", "utf-8")
        os.utime(path, ns=(time.time_ns() + 2_000_000,) * 2)
        assert ask("globex again")["flagged"]  # the broken edit changed nothing
        deep = "[" * 900 + "]" * 900  # a crafted file: nesting that overflows the TOML reader
        path.write_text(f'[[rules]]\nid = "brand"\ncategory = "brand"\nterms = {deep}\n')
        os.utime(path, ns=(time.time_ns() + 4_000_000,) * 2)
        assert ask("globex still")["flagged"]  # refused, and check goes on
        write(path, '"initech"')
        os.utime(path, ns=(time.time_ns() + 6_000_000,) * 2)
        assert ask("initech now")["flagged"] and not ask("globex gone")["flagged"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    complaints = proc.stderr.read().splitlines()
    assert len(complaints) == 2  # each refused edit told once, in one wording
    assert all(c.startswith("vigile check: edit refused, running rules kept:") for c in complaints)
    assert "nested too deeply" in complaints[1]


async def test_a_session_records_file_edits_and_refusals(tmp_path: Path) -> None:
    from vigile.connectors.model import ChatMessage
    from vigile.replay.pipeline import SessionPlan, run_session
    from vigile.replay.store import SessionStore

    path = tmp_path / "live.toml"
    write(path, '"acme"')
    triage = Triage([parse_pack(path.read_text(), str(path))])

    class Slow:
        name = "twitch:slow"

        async def stream(self):
            for n in range(8):
                yield ChatMessage("twitch", "slow", f"m{n}", "a", "A", "globex", float(n))
                if n == 2:
                    write(path, '"acme", "globex"')
                if n == 5:
                    path.write_text("[[rules]]\nid = 3\n", "utf-8")
                    os.utime(path, ns=(time.time_ns() + 2_000_000,) * 2)
                await asyncio.sleep(0.4)

    plan = SessionPlan("live", "live", [Slow()], tmp_path / "s.db", rule_files=[path])
    stats = await run_session(plan, triage)
    assert stats.flagged >= 3  # globex flagged once the edit was live
    async with await SessionStore.open(tmp_path / "s.db") as store:
        versions = await store.rows("SELECT version, origin, content FROM rule_versions")
        refusals = [e for e in await store.events() if e.kind == "rules_rejected"]
    assert [(v["version"], v["origin"]) for v in versions] == [(1, "start"), (2, "file")]
    assert "globex" in versions[1]["content"]
    assert len(refusals) == 1 and refusals[0].data["file"] == str(path)


@pytest.mark.parametrize("size", [5_000])
def test_an_edit_to_a_large_pack_compiles_without_touching_the_running_set(size: int) -> None:
    terms = ", ".join(f'"term{n:05d}x"' for n in range(size))
    pack = parse_pack(PACK.format(terms=terms))
    triage = Triage([pack])
    before = triage.rules
    edited = parse_pack(PACK.format(terms=terms + ', "fresh"'))
    triage.swap([edited], "supervisor", "editor")
    assert before.match("fresh") == () and triage.judge_text("fresh").flagged
    assert triage.judge_text("term04999x").flagged
