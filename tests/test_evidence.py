"""Evidence: a session's chain verifies, and every kind of tampering is named."""

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.chain import SEALED
from vigile.replay.evidence import export_dossier, verify_dossier, verify_session
from vigile.replay.pipeline import SessionPlan, run_session
from vigile.replay.player import ReplaySource

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]


@pytest.fixture
async def judged(tmp_path: Path, tiny_session: Path) -> Path:
    """A session as the desk records it: messages with verdicts, and an action."""
    from vigile.connectors.model import ActionKind, ActionResult, ModAction

    out = tmp_path / "judged.db"
    plan = SessionPlan("evidence", "replay", [ReplaySource(tiny_session, speed=None)], out)

    def act(pipeline) -> None:
        acted: list[str] = []

        def on_item(item, verdict, seq) -> None:
            if verdict is not None and verdict.flagged and not acted:
                acted.append(item.id)
                action = ModAction(
                    ActionKind.TIMEOUT,
                    item.platform,
                    item.channel,
                    "mod-anna",
                    item.author_id,
                    item.id,
                    600,
                    "slur",
                    result=ActionResult.SIMULATED,
                )
                pipeline.store.add_action(action)

        pipeline.listeners.append(on_item)

    await run_session(plan, Triage(load_starter_packs()), on_ready=act)
    return out


def tamper(path: Path, sql: str, name: str = "tampered") -> Path:
    copy = path.with_name(f"{name}-{path.name}")
    shutil.copy(path, copy)
    with sqlite3.connect(copy) as db:
        db.executescript(sql)
    return copy


def test_an_untouched_session_verifies(judged: Path) -> None:
    checked, problem = verify_session(judged)
    assert problem is None and checked > 100
    done = subprocess.run([*VIGILE, "verify", str(judged)], capture_output=True, text=True)
    assert done.returncode == 0 and "intact" in done.stdout


@pytest.mark.parametrize(
    ("sql", "kind", "seq"),
    [
        ("UPDATE messages SET text = 'nothing happened' WHERE seq = 40", "altered", 40),
        ("UPDATE messages SET sent_at = sent_at + 1 WHERE seq = 12", "altered", 12),
        ("DELETE FROM messages WHERE seq = 30", "missing", 31),
        (  # two messages swapped in place: their fields change rows
            "UPDATE messages SET seq = -1 WHERE seq = 20;"
            " UPDATE messages SET seq = 20 WHERE seq = 21;"
            " UPDATE messages SET seq = 21 WHERE seq = -1;",
            "reordered",
            20,
        ),
    ],
)
def test_tampering_is_named(judged: Path, sql: str, kind: str, seq: int) -> None:
    broken = tamper(judged, sql)
    _, problem = verify_session(broken)
    assert problem is not None and (problem.kind, problem.seq) == (kind, seq)
    done = subprocess.run([*VIGILE, "verify", str(broken)], capture_output=True, text=True)
    assert done.returncode == 1 and f"{kind}: message seq {seq}" in done.stdout
    if kind == "missing":  # one message gone, worded as one
        assert "message 30 is gone" in done.stdout


# Stored but not sealed: what a platform adds around a message, and what happens to it later.
UNSEALED = (
    "session_id",
    "roles",
    "amount",
    "currency",
    "reply_to",
    "first_message",
    "raw",
    "deleted_at",
)


def altered(column: str) -> str:
    """An SQL expression that changes a column's value whatever its type."""
    return (
        f"CASE typeof({column}) WHEN 'real' THEN {column} + 1 WHEN 'integer' THEN {column} + 1"
        f" WHEN 'null' THEN 1 ELSE {column} || 'x' END"
    )


def test_every_sealed_column_is_checked_by_verify(judged: Path) -> None:
    """What the recorder seals, `verify` checks: a change to any sealed column of a recorded
    message names that message, and a change elsewhere leaves the chain intact."""
    columns = [row[1] for row in sqlite3.connect(judged).execute("PRAGMA table_info(messages)")]
    assert sorted(SEALED + UNSEALED + ("seq", "hash")) == sorted(columns)  # a new column: choose
    for column in SEALED + UNSEALED:
        change = f"UPDATE messages SET {column} = {altered(column)} WHERE seq = 7"
        broken = tamper(judged, change, name=column)
        _, problem = verify_session(broken)
        if column in SEALED:
            assert problem is not None and (problem.kind, problem.seq) == ("altered", 7), column
        else:
            assert problem is None, column


def test_every_sealed_field_is_checked_in_a_dossier(judged: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dossier"
    export_dossier(judged, folder)
    pristine = (folder / "messages.json").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    for column in SEALED:
        records = json.loads(pristine)
        value = records[2][column]
        records[2][column] = value + 1 if isinstance(value, float) else f"{value}x"
        (folder / "messages.json").write_text(json.dumps(records))
        digest = hashlib.sha256((folder / "messages.json").read_bytes()).hexdigest()
        manifest["files"]["messages.json"] = digest  # forged: the message's hash must tell
        (folder / "manifest.json").write_text(json.dumps(manifest))
        _, problem = verify_dossier(folder)
        assert problem is not None and (problem.kind, problem.seq) == ("altered", records[2]["seq"])


def test_the_dossier_holds_the_flagged_messages_with_their_actions(judged, tmp_path) -> None:
    folder = tmp_path / "dossier"
    done = subprocess.run(
        [*VIGILE, "export-evidence", str(judged), "--out", str(folder)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    records = json.loads((folder / "messages.json").read_text())
    flagged = sqlite3.connect(judged).execute("SELECT count(*) FROM verdicts").fetchone()[0]
    assert manifest["messages_exported"] == len(records) == flagged
    first = records[0]
    assert first["sent_at_utc"].endswith("+00:00") and first["rules"] and first["hash"]
    assert first["stream_url"].startswith("https://")
    acted = [r for r in records if r["actions"]]
    assert acted and acted[0]["actions"][0]["by"] == "mod-anna"
    assert (folder / "messages.csv").read_text().count("\n") == len(records) + 1
    assert verify_dossier(folder) == (len(records), None)
    everything = export_dossier(judged, tmp_path / "all", everything=True)
    assert everything["messages_exported"] == everything["messages_in_chain"]


def test_a_changed_dossier_is_caught(judged: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dossier"
    export_dossier(judged, folder)
    records = json.loads((folder / "messages.json").read_text())
    records[1]["text"] = "edited by someone"
    (folder / "messages.json").write_text(json.dumps(records))
    _, problem = verify_dossier(folder)
    assert problem is not None and "changed after export" in problem.detail
    # Even with the manifest's file hash forged, the message's own hash gives it away.
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["messages.json"] = hashlib.sha256(
        (folder / "messages.json").read_bytes()
    ).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    _, problem = verify_dossier(folder)
    assert problem is not None and (problem.kind, problem.seq) == ("altered", records[1]["seq"])
    done = subprocess.run([*VIGILE, "verify", str(folder)], capture_output=True, text=True)
    assert done.returncode == 1


def test_a_broken_session_is_not_exported(judged: Path, tmp_path: Path) -> None:
    broken = tamper(judged, "UPDATE messages SET text = 'x' WHERE seq = 5")
    done = subprocess.run(
        [*VIGILE, "export-evidence", str(broken), "--out", str(tmp_path / "d")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "chain is broken" in done.stderr
