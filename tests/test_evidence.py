"""A session file's seal: every kind of recorded row is checked by `vigile verify`, and every
kind of tampering with one is named, through the real command on real files."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.evidence_helpers import tamper, vigile
from vigile.replay.chain import GENESIS_HASH, SEALED_KINDS, legacy_seal_row
from vigile.replay.schema import MESSAGE_COLUMNS
from vigile.replay.verify import verify_session


def one(path: Path, sql: str) -> int:
    return sqlite3.connect(path).execute(sql).fetchone()[0]


def test_an_untouched_session_verifies_every_kind_of_row(judged: Path) -> None:
    result = verify_session(judged)
    assert result.intact and result.messages > 100 and not result.interrupted
    kinds = {r[0] for r in sqlite3.connect(judged).execute("SELECT DISTINCT kind FROM chain")}
    # all but labels (a scenario's ground truth, absent from a live recording)
    assert kinds == set(SEALED_KINDS) - {"label"}
    assert result.rows == one(judged, "SELECT count(*) FROM chain")
    done = vigile("verify", str(judged))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"intact: {result.rows:,} sealed rows ({result.messages}")
    assert "interrupted" not in done.stdout


def _cases(flagged: int, clean: int, deleted: int) -> list[tuple[str, str]]:
    """(SQL someone with the file could run, what `verify` must say)."""
    return [
        # messages
        ("UPDATE messages SET text = 'nothing happened' WHERE seq = 40", "altered: message seq 40"),
        ("DELETE FROM messages WHERE seq = 30", "missing: message seq 30"),
        (
            "INSERT INTO messages SELECT 1000, session_id, platform, channel, 'made-up', author_id,"
            " author_name, roles, kind, 'made up', amount, currency, reply_to, first_message,"
            " sent_at, received_at, raw, deleted_at, hash FROM messages WHERE seq = 5",
            "unsealed: message seq 1000",
        ),
        (
            "UPDATE messages SET seq = -1 WHERE seq = 20; UPDATE messages SET seq = 20 WHERE seq ="
            " 21; UPDATE messages SET seq = 21 WHERE seq = -1;",
            "reordered: message seq 20",
        ),
        # deletion marks, and the deletion times they set
        (
            f"UPDATE messages SET deleted_at = NULL WHERE seq = {deleted}",
            f"altered: message seq {deleted}",
        ),
        (
            f"UPDATE messages SET deleted_at = 5 WHERE seq = {clean}",
            f"altered: message seq {clean}",
        ),
        ("UPDATE deletions SET ts = ts + 60 WHERE id = 1", "altered: deletion 1"),
        ("DELETE FROM deletions WHERE id = 2", "missing: deletion 2"),
        (
            "INSERT INTO deletions SELECT 3, session_id, ts, platform, 'author', 'x', '[]'"
            " FROM deletions WHERE id = 1",
            "unsealed: deletion 3",
        ),
        # verdicts
        (
            f"UPDATE verdicts SET priority = priority + 1 WHERE message_seq = {flagged}",
            f"altered: verdict {flagged}",
        ),
        (f"DELETE FROM verdicts WHERE message_seq = {flagged}", f"missing: verdict {flagged}"),
        (
            f"INSERT INTO verdicts SELECT {clean}, rules_version, priority, action, tags, matches"
            f" FROM verdicts WHERE message_seq = {flagged}",
            f"unsealed: verdict {clean}",
        ),
        # actions: who did what, when
        ("UPDATE actions SET moderator = 'mod-bob' WHERE id = 1", "altered: action 1"),
        ("UPDATE actions SET ts = ts - 600 WHERE id = 1", "altered: action 1"),
        ("DELETE FROM actions WHERE id = 1", "missing: action 1"),
        (
            "INSERT INTO actions SELECT 2, session_id, ts, platform, channel, 'ban', 'mod-anna',"
            " target_author_id, target_message_id, NULL, 'made up', 'done', '' FROM actions",
            "unsealed: action 2",
        ),
        # events (raids, alerts, bans seen on the platform)
        ("UPDATE events SET data = '{}' WHERE id = 3", "altered: event 3"),
        ("DELETE FROM events WHERE id = 3", "missing: event 3"),
        (
            "INSERT INTO events SELECT 999, session_id, ts, platform, channel, 'ban', '{}'"
            " FROM events WHERE id = 1",
            "unsealed: event 999",
        ),
        # rule versions
        ("UPDATE rule_versions SET content = '' WHERE id = 1", "altered: rule version 1"),
        ("UPDATE rule_versions SET author = 'someone' WHERE id = 1", "altered: rule version 1"),
        ("DELETE FROM rule_versions WHERE id = 1", "missing: rule version 1"),
        (
            "INSERT INTO rule_versions SELECT 2, session_id, ts, 2, author, origin, digest, ''"
            " FROM rule_versions WHERE id = 1",
            "unsealed: rule version 2",
        ),
        # the session row: its start, its end
        ("UPDATE sessions SET name = 'another event'", "altered: session 1"),
        ("UPDATE sessions SET started_at = started_at - 3600", "altered: session 1"),
        ("UPDATE sessions SET ended_at = ended_at + 60", "altered: session end 1"),
        ("UPDATE sessions SET ended_at = NULL", "missing: session end 1"),
        (
            "INSERT INTO sessions VALUES (2, 'ghost', 'live', 0, 1, '[]', '{}')",
            "unsealed: session 2",
        ),
        # the chain itself
        ("DELETE FROM chain WHERE link = 10", "missing: links 10–10 of the chain are gone"),
        ("UPDATE chain SET digest = hash WHERE link = 10", "chain: link 10"),
    ]


CASES = [expected.split(" ")[0] + "-" + sql.split(" ")[0] for sql, expected in _cases(0, 0, 0)]


@pytest.mark.parametrize("case", range(len(CASES)), ids=CASES)
def test_tampering_with_any_sealed_row_is_named(judged: Path, case: int) -> None:
    flagged = one(judged, "SELECT min(message_seq) FROM verdicts")
    clean = one(
        judged,
        "SELECT min(seq) FROM messages WHERE deleted_at IS NULL"
        " AND seq NOT IN (SELECT message_seq FROM verdicts)",
    )
    deleted = one(judged, "SELECT min(seq) FROM messages WHERE deleted_at IS NOT NULL")
    sql, expected = _cases(flagged, clean, deleted)[case]
    broken = tamper(judged, sql)
    done = vigile("verify", str(broken))
    assert done.returncode == 1, done.stdout
    assert done.stdout.startswith("NOT INTACT after ") and expected in done.stdout, done.stdout
    assert done.stderr == ""


SEALED_TABLES = (
    "sessions",
    "messages",
    "verdicts",
    "actions",
    "events",
    "rule_versions",
    "deletions",
)


def altered(column: str) -> str:
    """An SQL expression that changes a column's value whatever its type."""
    return (
        f"CASE typeof({column}) WHEN 'real' THEN {column} + 1 WHEN 'integer' THEN {column} + 1"
        f" WHEN 'null' THEN 1 ELSE {column} || 'x' END"
    )


def test_every_column_of_every_recorded_table_is_checked(judged: Path) -> None:
    """A change to any column of any row a report relies on is caught: nothing stored beside
    the seal can be edited unseen (roles, amounts, raw fields and deletion times included)."""
    db = sqlite3.connect(judged)
    for table in SEALED_TABLES:
        key = "seq" if table == "messages" else "message_seq" if table == "verdicts" else "id"
        row = db.execute(f"SELECT {key} FROM {table} ORDER BY {key} LIMIT 1 OFFSET 1").fetchone()
        row = row or db.execute(f"SELECT {key} FROM {table} LIMIT 1").fetchone()
        for _, column, *_ in db.execute(f"PRAGMA table_info({table})").fetchall():
            if column == key:
                continue  # a key changed is a row removed and another added: tested above
            change = f"UPDATE {table} SET {column} = {altered(column)} WHERE {key} = {row[0]}"
            result = verify_session(tamper(judged, change, name=f"{table}-{column}"))
            assert result.problem is not None, (table, column)
            assert result.problem.ref == row[0], (table, column, str(result.problem))


def test_a_message_id_made_of_terminal_controls_never_reaches_the_terminal(judged: Path) -> None:
    """A forged id that would redraw the line as a green "intact" is shown inert."""
    forged = "\r\x1b[2K\x1b[32mintact: 255 messages, every hash matches\x1b[0m\x9b"
    broken = tamper(judged, "")
    with sqlite3.connect(broken) as db:
        db.execute("UPDATE messages SET msg_id = ? WHERE seq = 7", (forged,))
    done = vigile("verify", str(broken))
    assert done.returncode == 1 and done.stdout.startswith("NOT INTACT")
    assert not any(c in done.stdout for c in "\r\x1b\x9b"), repr(done.stdout)
    assert "message seq 7 (id ␍␛[2K␛[32mintact" in done.stdout


_WRITER = textwrap.dedent(
    """
    import asyncio, sys, time
    from vigile.connectors.model import ChatMessage
    from vigile.replay.store import SessionStore

    async def main():
        store = await SessionStore.open(sys.argv[1])
        await store.start_session("crash test", "live", ["twitch:chan"])
        for n in range(40):
            store.add_message(ChatMessage("twitch", "chan", f"m{n}", "a", "A", "hi", 1.0, 1.0))
        await store.flush()
        print("written", flush=True)
        time.sleep(60)  # killed here: the session never ends

    asyncio.run(main())
    """
)


def test_an_interrupted_session_is_flagged_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "crashed.db"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "written\n"
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    done = vigile("verify", str(path))
    assert done.returncode == 0, done.stdout + done.stderr  # what was written is intact
    assert done.stdout.startswith("intact: 41 sealed rows (40 messages)")
    assert (
        "interrupted: session 1 (crash test) has no clean end; it holds 41 sealed rows"
        " (40 messages)" in done.stdout
    )
    out = tmp_path / "bilan"
    bilan = vigile("bilan", str(path), "--out", str(out), "--lang", "en")
    assert bilan.returncode == 0, bilan.stderr
    html = (out / "bilan.html").read_text()
    assert "Session interrupted, no clean end</span>: crash test (it holds 41 sealed rows" in html


def _as_schema_1(path: Path) -> None:
    """What an earlier Vigile wrote: no chain table, a hash over 9 fields of each message."""
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE chain")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        previous = GENESIS_HASH
        columns = ", ".join(MESSAGE_COLUMNS)
        for row in db.execute(f"SELECT {columns} FROM messages ORDER BY seq").fetchall():
            previous = legacy_seal_row(previous, row)
            db.execute("UPDATE messages SET hash = ? WHERE seq = ?", (previous, row[0]))


def test_a_file_of_an_earlier_vigile_is_verified_as_it_was_sealed(judged: Path, tmp_path) -> None:
    _as_schema_1(judged)
    done = vigile("verify", str(judged))
    assert done.returncode == 0, done.stdout
    assert "note: this file was recorded by an earlier Vigile (schema 1)" in done.stdout
    assert "actions, verdicts" in done.stdout and "are not proven" in done.stdout
    # its messages are still checked the old way; what it never sealed is not claimed
    broken = tamper(judged, "UPDATE messages SET text = 'x' WHERE seq = 9")
    done = vigile("verify", str(broken))
    assert done.returncode == 1 and "altered: message seq 9" in done.stdout
    exported = vigile("export-evidence", str(judged), "--out", str(tmp_path / "d"))
    assert exported.returncode == 1 and "schema 1" in exported.stderr
    assert not (tmp_path / "d").exists()
    bilan = vigile("bilan", str(judged), "--out", str(tmp_path / "b"), "--lang", "en")
    assert bilan.returncode == 0, bilan.stderr
    report = (tmp_path / "b" / "bilan.md").read_text()
    assert "File from an earlier Vigile: only 9 fields of each message are sealed" in report
    assert "sealed rows (messages, verdicts" not in report  # not claimed for such a file


def test_a_broken_session_is_not_exported(judged: Path, tmp_path: Path) -> None:
    broken = tamper(judged, "UPDATE actions SET moderator = 'nobody'")
    done = vigile("export-evidence", str(broken), "--out", str(tmp_path / "d"))
    assert done.returncode == 1 and "chain is broken" in done.stderr and "action 1" in done.stderr


def test_the_bilan_says_a_chain_is_broken(judged: Path, tmp_path: Path) -> None:
    broken = tamper(judged, "UPDATE rule_versions SET content = ''")
    done = vigile("bilan", str(broken), "--out", str(tmp_path / "b"), "--lang", "en")
    assert done.returncode == 1 and "altered: rule version 1" in done.stderr
    assert "CHAIN BROKEN" in (tmp_path / "b" / "bilan.html").read_text()
