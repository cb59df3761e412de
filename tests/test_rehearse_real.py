"""Rehearsing on real chat: hand labels on an imported session, and a scenario laid over it;
the load test and the bilan score only what is labelled, and say so."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evidence_helpers import tamper, vigile
from vigile.connectors.model import ActionKind, ModAction
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.bilan import write_bilan
from vigile.replay.importers.driver import import_archives
from vigile.replay.importers.items import ImportOptions
from vigile.replay.labels import LabelError, read_sheet, write_sheet
from vigile.replay.loadtest import run_loadtest
from vigile.replay.pipeline import SessionPlan, run_session
from vigile.replay.player import ReplaySource
from vigile.replay.store import SessionStore
from vigile.replay.verify import verify_session
from vigile.scenarios.background import write_over_background

IMPORTS = Path(__file__).parent / "data" / "imports"
VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
TROLL = "3c2a8f71-5e44-4d1b-9f0e-6a7b8c9d0e03"  # t'es nulle rentre chez toi


@pytest.fixture
async def real(tmp_path: Path) -> Path:
    db = tmp_path / "real.db"
    await import_archives([IMPORTS / "lumina_racing_raw.irc"], db, ImportOptions())
    return db


def sheet_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, dialect="excel-tab"))


def labels(db: Path) -> dict[int, tuple[int, str | None, str]]:
    """Each labelled message's label, as the store reads it back (its latest)."""

    async def read() -> dict[int, tuple[int, str | None, str]]:
        store = await SessionStore.open(db, readonly=True)
        try:
            return {
                m.seq: (int(m.label.should_flag), m.label.category, m.label.phase)
                async for m in store.messages()
                if m.label is not None
            }
        finally:
            await store.close()

    return asyncio.run(read())


def sealed_labels(db: Path) -> list[tuple[int, int]]:
    """Every label row the chain seals, in order: (message seq, should_flag)."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT l.message_seq, l.should_flag FROM chain c JOIN labels l ON l.id = c.ref"
            " WHERE c.kind = 'label' ORDER BY c.link"
        ).fetchall()


def test_a_sheet_goes_out_and_comes_back_as_labels(real: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.tsv"
    assert write_sheet(real, sheet) == 5  # three chat lines, a sub and a raid notice
    rows = sheet_rows(sheet)
    assert [r["seq"] for r in rows] == ["1", "2", "3", "4", "5"] and rows[2]["id"] == TROLL
    assert all(r["should_flag"] == "" for r in rows)  # nothing labelled yet
    filled = tmp_path / "filled.tsv"
    filled.write_text(
        "id\tshould_flag\tcategory\n"
        f"twitch:{TROLL}\tyes\tharassment\n"  # platform:id
        "3c2a8f71-5e44-4d1b-9f0e-6a7b8c9d0e01\t0\t\n"  # a bare id
        "3c2a8f71-5e44-4d1b-9f0e-6a7b8c9d0e02\t\t\n"  # left blank
        "no-such-message\t1\t\n"
        f"{TROLL}\tmaybe\t\n",
        encoding="utf-8",
    )
    report = read_sheet(real, filled)
    assert (report.labelled, report.should_flag, report.left_blank) == (2, 1, 1)
    assert report.problem_count == 2
    assert report.problems == [
        "line 5: no message with id 'no-such-message' in the session",
        "line 6: should_flag 'maybe' is neither yes (1) nor no (0)",
    ]
    assert labels(real) == {3: (1, "harassment", "hand"), 1: (0, None, "hand")}
    checked = verify_session(real)  # labels are sealed rows: the chain takes them in
    assert checked.intact and checked.messages == 5
    assert sealed_labels(real) == [(3, 1), (1, 0)]  # in the sheet's order
    # the sheet out now carries them; by seq, a later sheet replaces a label
    assert [r["should_flag"] for r in sheet_rows(write_sheet(real, sheet) and sheet)] == [
        "0",
        "",
        "1",
        "",
        "",
    ]
    (tmp_path / "fix.tsv").write_text("seq\tflag\n3\tno\n", encoding="utf-8")
    assert read_sheet(real, tmp_path / "fix.tsv").labelled == 1
    assert labels(real)[3] == (0, None, "hand")
    # the label it replaced is still sealed where it was: a new row, never an edit
    assert sealed_labels(real) == [(3, 1), (1, 0), (3, 0)]
    checked = verify_session(real)
    assert checked.intact and checked.messages == 5
    assert [r["should_flag"] for r in sheet_rows(write_sheet(real, sheet) and sheet)][2] == "0"


def test_a_hand_label_changed_or_removed_afterwards_is_named(real: Path, tmp_path: Path) -> None:
    """Hand labels are sealed rows: relabelling in the file, or dropping a later label to bring
    back the one it replaced, is caught by verify."""
    first, later = tmp_path / "first.tsv", tmp_path / "later.tsv"
    first.write_text("seq\tshould_flag\n3\t1\n", encoding="utf-8")
    later.write_text("seq\tshould_flag\n3\t0\n", encoding="utf-8")
    assert read_sheet(real, first).labelled == read_sheet(real, later).labelled == 1
    assert labels(real)[3][0] == 0 and verify_session(real).intact
    relabelled = tamper(real, "UPDATE labels SET category = 'spam' WHERE id = 2", "relabelled")
    assert str(verify_session(relabelled).problem).startswith("altered: label 2")
    reverted = tamper(real, "DELETE FROM labels WHERE id = 2", "reverted")
    assert labels(reverted)[3][0] == 1  # what the edit was after: the earlier label back
    assert str(verify_session(reverted).problem).startswith("missing: label 2")
    done = vigile("verify", str(reverted))
    assert done.returncode == 1 and "missing: label 2" in done.stdout


def test_a_file_of_an_earlier_vigile_is_refused_for_labels(real: Path, tmp_path: Path) -> None:
    old = tamper(real, "UPDATE meta SET value = '1' WHERE key = 'schema_version'", "old")
    (tmp_path / "s.tsv").write_text("seq\tshould_flag\n3\t1\n", encoding="utf-8")
    with pytest.raises(LabelError, match="earlier Vigile"):
        read_sheet(old, tmp_path / "s.tsv")


def test_a_sheet_without_the_columns_is_refused(real: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("message\tverdict\nx\t1\n", encoding="utf-8")
    with pytest.raises(LabelError, match="seq or id column and a should_flag"):
        read_sheet(real, bad)


def test_chat_text_in_a_sheet_cannot_run_as_a_formula(tmp_path: Path) -> None:
    db = tmp_path / "hostile.db"
    log = tmp_path / "hostile-2024-07-20.log"
    log.write_text('[20:00:01]  mallory: =HYPERLINK("http://x","y")\x1b[31m\n', encoding="utf-8")
    asyncio.run(import_archives([log], db, ImportOptions()))
    (row,) = sheet_rows(write_sheet(db, tmp_path / "s.tsv") and tmp_path / "s.tsv")
    assert row["text"].startswith("'=") and "\x1b" not in row["text"]


async def test_hand_labels_score_the_load_test_and_the_bilan(real: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "l.tsv"
    sheet.write_text(f"id\tshould_flag\tcategory\n{TROLL}\t1\tharassment\n", encoding="utf-8")
    await asyncio.to_thread(read_sheet, real, sheet)  # the command's own (blocking) path
    report = await run_loadtest(real, None, tmp_path / "load.db", Triage(load_starter_packs()))
    score = report.score
    assert score is not None
    assert (score.labelled, score.messages, score.unlabelled) == (1, 5, 4)
    assert score.flag_recall == 1.0  # the starter packs flag the insult
    # a desk replays it and acts: on the labelled insult, and on an unlabelled viewer
    run = tmp_path / "rehearsal.db"
    plan = SessionPlan("rehearsal", "rehearsal", [ReplaySource(real, speed=None)], run)
    plan.info["replay_of"] = str(real)

    def act(pipeline) -> None:
        def on_item(item, verdict, seq) -> None:
            if getattr(item, "id", None) in (TROLL, "3c2a8f71-5e44-4d1b-9f0e-6a7b8c9d0e01"):
                action = ModAction(
                    ActionKind.DELETE, "twitch", "lumina_racing", "mod", item.author_id, item.id
                )
                pipeline.store.add_action(action)

        pipeline.listeners.append(on_item)

    await run_session(plan, Triage(load_starter_packs()), on_ready=act)
    r = write_bilan(run, tmp_path / "bilan", lang="en").figures["rehearsal"]
    assert (r["labelled"], r["unlabelled"]) == (1, 4)
    assert (r["should_act"], r["caught"]) == (1, 1)
    assert r["false_actions"] == 0  # the unlabelled viewer is no ground truth either way
    markdown = (tmp_path / "bilan" / "bilan.md").read_text(encoding="utf-8")
    assert "4 unlabelled messages (real chat) are not scored" in markdown


async def test_a_scenario_over_real_chat_labels_only_its_own_part(
    real: Path, tmp_path: Path, tiny_scenario
) -> None:
    over = tmp_path / "over.db"
    summary, copied = await write_over_background(tiny_scenario, real, over, offset=2.0)
    assert copied == 5
    store = await SessionStore.open(over, readonly=True)
    try:
        stored = [m async for m in store.messages()]
        events = await store.events()
    finally:
        await store.close()
    real_ones = [m for m in stored if m.message.id.startswith("3c2a8f71")]
    generated = [m for m in stored if not m.message.id.startswith("3c2a8f71")]
    assert len(real_ones) == 5 and all(m.label is None for m in real_ones)
    assert len(generated) == summary.messages and all(m.label is not None for m in generated)
    # on the real channel, from two seconds after the real chat's first message, in time order
    first_real = min(m.message.sent_at for m in real_ones)
    assert {(m.message.platform, m.message.channel) for m in generated} == {
        ("twitch", "lumina_racing")
    }
    assert min(m.message.sent_at for m in generated) >= first_real + 2.0
    sent = [m.message.sent_at for m in stored]
    assert sent == sorted(sent)
    assert [m.deleted_at is not None for m in real_ones] == [
        False,
        False,
        True,
        False,
        False,
    ]  # kept deleted
    kinds = {e.kind for e in events}
    assert {"scenario:phase", "raid", "timeout", "clearmsg"} <= kinds and "import" not in kinds
    report = await run_loadtest(over, None, tmp_path / "load.db", Triage(load_starter_packs()))
    assert report.score is not None
    assert (report.score.labelled, report.score.unlabelled) == (summary.messages, 5)


def test_the_commands_say_what_is_scored(real: Path, tmp_path: Path) -> None:
    over = tmp_path / "over.db"
    done = subprocess.run(
        [
            *VIGILE,
            "scenario",
            str(Path(__file__).parent / "data" / "tiny.toml"),
            "--db",
            str(over),
            "--background",
            str(real),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "over 5 real messages of real.db (unlabelled, not scored)" in done.stdout
    done = subprocess.run(
        [*VIGILE, "loadtest", str(over), "--max", "--db", str(tmp_path / "run.db")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "5 unlabelled ones (real chat) are not scored" in done.stdout
    done = subprocess.run(
        [*VIGILE, "label", str(real), "--from", str(tmp_path / "none.tsv")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
