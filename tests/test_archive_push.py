"""`vigile archive push` against a real PostgreSQL: bulk, verified, idempotent, resumable."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tests.archive_fixtures import Event, Said, record
from vigile.archive.push import PushError, connect, push_file
from vigile.archive.schema import SCHEMA_VERSION, TABLES, message_columns
from vigile.archive.verify import verify_archived
from vigile.connectors.model import ActionKind
from vigile.replay.chain import SEALED_KINDS
from vigile.replay.verify import verify_session

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
NOV = datetime(2026, 11, 3, 20, tzinfo=UTC).timestamp()


def _event(name: str = "finale", at: float = NOV) -> Event:
    said = [Said(f"u{n % 7}", f"Viewer{n % 7}", f"message number {n}") for n in range(40)]
    said.append(Said("troll1", "TrollKing", "you are garbage", flagged="harassment"))
    return Event(name, at, "esports-co", name, said=said, actions=[(ActionKind.BAN, "troll1")])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGILE, *args], capture_output=True, text=True, timeout=120)


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}".encode()).fetchone()[0]
            for t in ("sessions", "messages", "verdicts", "actions", "events", "archive_log")
        }


async def test_push_copies_everything_and_twice_changes_nothing(tmp_path: Path, archive_url):
    path = await record(tmp_path / "finale.db", _event())
    first = _cli("archive", "push", str(path), "--to", archive_url, "--json")
    assert first.returncode == 0, first.stderr
    pushed = json.loads(first.stdout)["pushed"][0]
    assert pushed["status"] == "new"
    assert pushed["added"]["messages"] == 41 and pushed["added"]["actions"] == 1
    assert pushed["client"] == "esports-co" and pushed["event"] == "finale"
    before = _counts(archive_url)
    assert before["messages"] == 41 and before["verdicts"] == 1

    again = _cli("archive", "push", str(path), "--to", archive_url, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["pushed"][0]["status"] == "unchanged"
    assert _counts(archive_url) == before  # not even a log line


async def test_archived_rows_are_the_files_rows(tmp_path: Path, archive_url):
    path = await record(tmp_path / "finale.db", _event())
    db = sqlite3.connect(path)
    tables = [("messages", message_columns()), *((t, tuple(c)) for t, c in TABLES.items())]
    with connect(archive_url) as conn:
        pushed = push_file(conn, path)
        for table, columns in tables:
            archived_as = "file_sessions" if table == "sessions" else table
            key = {"verdicts": "message_seq", "chain": "link", "messages": "seq"}.get(table, "id")
            select = (
                f"SELECT {', '.join(columns)} FROM {archived_as}"
                f" WHERE session_id = %s ORDER BY {key}"
            )
            archived = conn.execute(select.encode(), (pushed.session_id,)).fetchall()
            mine = ", ".join("session_id" if c == "file_session_id" else c for c in columns)
            local = db.execute(f"SELECT {mine} FROM {table} ORDER BY {key}").fetchall()
            # every column, the ban's deletion marks and hashes included
            assert [tuple(r) for r in archived] == local, table
            filled = ("messages", "verdicts", "actions", "deletions", "chain", "sessions")
            assert local or table not in filled, f"{table}: nothing compared"
            if table == "messages":
                assert any(row[columns.index("deleted_at")] for row in archived)


async def test_a_grown_session_is_completed(tmp_path: Path, archive_url):
    path = await record(tmp_path / "live.db", _event())
    with connect(archive_url) as conn:
        push_file(conn, path)
    # the desk goes on recording into the same file: more messages, a later timeout
    from vigile.connectors.model import ActionResult, ChatMessage, ModAction
    from vigile.replay.store import SessionStore

    store = await SessionStore.open(path)
    store.session_id = 1
    for n in range(5):
        store.add_message(
            ChatMessage("twitch", "acmecast", f"late-{n}", "u1", "Viewer1", "hi", NOV + 100 + n)
        )
    store.add_action(
        ModAction(
            ActionKind.TIMEOUT,
            "twitch",
            "acmecast",
            "mod_anna",
            "u1",
            None,
            60,
            "",
            NOV + 200,
            ActionResult.OK,
        )
    )
    store.mark_author_deleted("twitch", "u1", NOV + 200)
    await store.flush()
    await store._db.close()

    with connect(archive_url) as conn:
        grown = push_file(conn, path)
        assert grown.status == "grown"
        assert grown.added["messages"] == 5 and grown.added["actions"] == 1
        assert grown.added["deletions"] > 0  # u1's earlier messages, archived before the timeout
        proven = verify_archived(conn, grown.session_id)
        assert proven.problem is None and proven.messages == 46
        assert proven.head == verify_session(path).head  # the file's own last link
    assert _counts(archive_url)["messages"] == 46


async def test_a_broken_chain_is_refused_with_its_reason(tmp_path: Path, archive_url):
    path = await record(tmp_path / "finale.db", _event())
    with sqlite3.connect(path) as db:
        db.execute("UPDATE messages SET text = 'rewritten' WHERE seq = 7")
    result = _cli("archive", "push", str(path), "--to", archive_url)
    assert result.returncode == 1
    assert "NOT INTACT after " in result.stderr  # `vigile verify`'s own words
    assert "good rows: altered: message seq 7" in result.stderr
    assert _counts(archive_url)["messages"] == 0


async def test_verify_proves_an_archived_session_as_the_file_did(tmp_path: Path, archive_url):
    path = await record(tmp_path / "finale.db", _event())
    local = _cli("verify", str(path))
    pushed = json.loads(_cli("archive", "push", str(path), "--to", archive_url, "--json").stdout)
    session = str(pushed["pushed"][0]["session"])
    archived = _cli("verify", archive_url, "--session", session)
    assert archived.returncode == 0, archived.stderr
    # word for word the file's verdict, but for what was checked: the same rows, the same head
    assert archived.stdout == local.stdout.replace("session file", "archived session")
    assert archived.stdout.startswith("intact: ") and "(41 messages)" in archived.stdout

    with psycopg.connect(archive_url, autocommit=True) as conn:
        conn.execute("UPDATE messages SET author_name = 'Someone' WHERE seq = 12")
    tampered = _cli("verify", archive_url, "--session", session)
    assert tampered.returncode == 1
    assert tampered.stdout.startswith("NOT INTACT after ")
    assert "good rows: altered: message seq 12" in tampered.stdout
    assert (
        _cli("verify", archive_url, "--session", "999")
        .stderr.strip()
        .endswith("no session 999 in the archive")
    )


def test_every_sealed_column_travels():
    message_columns()  # raises naming any sealed column the archive has no place for
    assert set(SEALED_KINDS["message"].columns) - {"session_id"} <= set(message_columns())
    assert {k.table for k in SEALED_KINDS.values()} <= {"messages", *TABLES}


async def test_schema_is_versioned_and_partitioned_by_month(tmp_path: Path, archive_url):
    oct_ = datetime(2026, 10, 30, 23, tzinfo=UTC).timestamp()
    a = await record(tmp_path / "a.db", _event("october", oct_))
    b = await record(tmp_path / "b.db", _event("november"))
    with connect(archive_url) as conn:
        push_file(conn, a)
        push_file(conn, b)
        version = conn.execute("SELECT value FROM archive_meta WHERE key='schema_version'")
        assert version.fetchone()[0] == str(SCHEMA_VERSION)
        parts = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'messages' ORDER BY 1"
        ).fetchall()
        assert [p[0] for p in parts] == ["messages_2026_10", "messages_2026_11"]
        # a session that runs past midnight on the 31st stays whole in its start month
        assert conn.execute("SELECT count(*) FROM messages_2026_10").fetchone()[0] == 41


async def test_prune_drops_whole_old_months_and_records_it(tmp_path: Path, archive_url):
    old = datetime(2024, 3, 5, tzinfo=UTC).timestamp()
    a = await record(tmp_path / "old.db", _event("old", old))
    b = await record(tmp_path / "new.db", _event("new"))
    with connect(archive_url) as conn:
        push_file(conn, a)
        push_file(conn, b)
    dry = _cli("archive", "prune", "--older-than", "13mo", "--dry-run", "--to", archive_url)
    assert "would drop 2024-03: 1 sessions, 41 msgs" in dry.stdout
    assert _counts(archive_url)["sessions"] == 2
    done = _cli("archive", "prune", "--older-than", "13mo", "--to", archive_url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["months"] == [
        {"month": "2024-03", "sessions": 1, "messages": 41}
    ]
    counts = _counts(archive_url)
    assert counts["sessions"] == 1 and counts["messages"] == 41
    with psycopg.connect(archive_url) as conn:
        log = conn.execute("SELECT detail FROM archive_log WHERE kind = 'prune'").fetchall()
    assert log[0][0]["month"] == "2024-03"


def test_bad_urls_and_files_get_one_line(tmp_path: Path, archive_url, monkeypatch):
    monkeypatch.delenv("VIGILE_ARCHIVE_URL", raising=False)
    missing = _cli("archive", "who", "x")
    assert missing.returncode == 2 and "VIGILE_ARCHIVE_URL" in missing.stderr
    wrong = _cli("archive", "who", "x", "--archive", "mysql://nope")
    assert "is a PostgreSQL URL" in wrong.stderr
    down = _cli("archive", "who", "x", "--archive", "postgresql://vigile@127.0.0.1:1/none")
    assert down.returncode == 1 and "cannot reach the archive" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
    nofile = _cli("archive", "push", str(tmp_path / "nope.db"), "--to", archive_url)
    assert nofile.returncode == 1 and "no session file at" in nofile.stderr
    with pytest.raises(PushError, match="not a Vigile session file"):
        (tmp_path / "other.db").write_bytes(b"")
        sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t(x)").connection.commit()
        with connect(archive_url) as conn:
            push_file(conn, tmp_path / "other.db")


async def test_questions_need_no_write_so_a_read_only_replica_answers(tmp_path: Path, archive_url):
    path = await record(tmp_path / "finale.db", _event())
    assert _cli("archive", "push", str(path), "--to", archive_url).returncode == 0
    name = archive_url.rsplit("/", 1)[1]
    with psycopg.connect(archive_url, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on".encode())
    who = _cli("archive", "who", "TrollKing", "--archive", archive_url, "--json")
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["actions"][0]["kind"] == "ban"
    refused = _cli("archive", "push", str(path), "--to", archive_url)  # pushes go to a primary
    assert refused.returncode == 1 and "read-only transaction" in refused.stderr


async def test_an_archive_from_a_newer_vigile_is_refused(archive_url):
    with connect(archive_url) as conn:
        conn.execute("UPDATE archive_meta SET value = '99' WHERE key = 'schema_version'")
    result = _cli("archive", "offenders", "--archive", archive_url)
    assert result.returncode == 1
    assert "made by a newer Vigile (schema 99" in result.stderr


async def test_a_grown_session_with_a_broken_new_part_is_refused_whole(tmp_path: Path, archive_url):
    path = await record(tmp_path / "live.db", _event())
    with connect(archive_url) as conn:
        push_file(conn, path)
    from vigile.connectors.model import ChatMessage
    from vigile.replay.store import SessionStore

    store = await SessionStore.open(path)
    store.session_id = 1
    for n in range(5):
        message = ChatMessage("twitch", "acmecast", f"late-{n}", "u1", "Viewer1", "hi", NOV + n)
        store.add_message(message)
    await store.flush()
    await store._db.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE messages SET text = 'edited' WHERE seq = 44")
    with connect(archive_url) as conn:
        with pytest.raises(
            PushError, match="NOT INTACT after .* good rows: altered: message seq 44"
        ):
            push_file(conn, path)
    assert _counts(archive_url)["messages"] == 41  # nothing of the new part went in


async def test_labels_given_later_grow_the_archived_session_and_stay_proven(
    tmp_path: Path, archive_url
):
    from vigile.replay.store import Label, SessionStore

    path = await record(tmp_path / "live.db", _event())
    with connect(archive_url) as conn:
        first = push_file(conn, path)
    store = await SessionStore.open(path)
    store.session_id = 1
    store.set_label(3, Label(True, "harassment"))
    store.set_label(3, Label(False))  # a second opinion on the same message: the latest counts
    store.set_label(9, Label(True, "spam"))
    await store.flush()
    await store._db.close()
    with connect(archive_url) as conn:
        grown = push_file(conn, path)
        assert grown.status == "grown" and grown.added["labels"] == 3
        assert grown.added["chain"] == 3 and grown.added["messages"] == 0
        assert push_file(conn, path).status == "unchanged"
        labels = conn.execute(
            "SELECT id, message_seq, should_flag FROM labels WHERE session_id = %s ORDER BY id",
            (first.session_id,),
        ).fetchall()
        assert [tuple(r) for r in labels] == [(1, 3, 1), (2, 3, 0), (3, 9, 1)]
        proven = verify_archived(conn, first.session_id)
        assert proven.problem is None and proven.head == verify_session(path).head
        # a label rewritten in the archive is caught like one rewritten in the file
        conn.execute("UPDATE labels SET should_flag = 1 WHERE id = 2")
        broken = verify_archived(conn, first.session_id)
    assert str(broken.problem).startswith("altered: label 2: its stored fields do not match")


async def test_every_kind_of_archived_row_is_proven(tmp_path: Path, archive_url):
    path = await record(tmp_path / "finale.db", _event())
    with connect(archive_url) as conn:
        sid = push_file(conn, path).session_id
        conn.execute("UPDATE actions SET moderator = 'someone else' WHERE session_id = %s", (sid,))
        assert str(verify_archived(conn, sid).problem).startswith("altered: action 1")
        conn.execute("UPDATE actions SET moderator = 'mod_anna' WHERE session_id = %s", (sid,))
        assert verify_archived(conn, sid).problem is None
        conn.execute("DELETE FROM deletions WHERE session_id = %s", (sid,))
        assert "deletion 1: sealed at link" in str(verify_archived(conn, sid).problem)
        conn.execute("DELETE FROM chain WHERE session_id = %s AND link = 5", (sid,))
        gone = _cli("verify", archive_url, "--session", str(sid))
    assert gone.returncode == 1
    assert "missing: links 5–5 of the chain are gone" in gone.stdout


async def test_a_file_of_an_earlier_vigile_is_refused_by_name(tmp_path: Path, archive_url):
    from vigile.replay.chain import GENESIS_HASH, legacy_seal_row
    from vigile.replay.schema import MESSAGE_COLUMNS

    path = await record(tmp_path / "old.db", _event())
    with sqlite3.connect(path) as db:  # what an earlier Vigile wrote: 9 fields sealed
        db.execute("DROP TABLE chain")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        previous = GENESIS_HASH
        for row in db.execute(f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages ORDER BY seq"):
            previous = legacy_seal_row(previous, row)
            db.execute("UPDATE messages SET hash = ? WHERE seq = ?", (previous, row[0]))
    result = _cli("archive", "push", str(path), "--to", archive_url)
    assert result.returncode == 1
    assert "earlier Vigile (schema 1)" in result.stderr and "every row is sealed" in result.stderr
    assert _counts(archive_url)["sessions"] == 0


async def test_a_file_whose_archived_part_was_rewritten_is_refused(tmp_path: Path, archive_url):
    path = await record(tmp_path / "finale.db", _event())
    other = _event()  # the same recording's identity (name, start, sources)…
    other.said[5] = Said("u5", "Viewer5", "something else was said here")
    rewritten = await record(tmp_path / "rewritten.db", other)  # …but another chain
    with connect(archive_url) as conn:
        first = push_file(conn, path)
        with pytest.raises(PushError, match="disagrees with the archive at link"):
            push_file(conn, rewritten)
        assert verify_archived(conn, first.session_id).head == verify_session(path).head


async def _grow(path: Path, count: int, at: float = NOV + 100) -> None:
    """The desk goes on recording into the same file."""
    from vigile.connectors.model import ChatMessage
    from vigile.replay.store import SessionStore

    store = await SessionStore.open(path)
    store.session_id = 1
    for n in range(count):
        message = ChatMessage("twitch", "acmecast", f"more-{n}", "u2", "Viewer2", "hi", at + n)
        store.add_message(message)
    await store.flush()
    await store._db.close()


async def test_a_grown_session_is_proven_from_the_archived_head_only(tmp_path: Path, archive_url):
    path = await record(tmp_path / "live.db", _event())
    with connect(archive_url) as conn:
        first = push_file(conn, path)
        head = verify_session(path).head
        assert first.proven_after == 0 and first.proven_rows == verify_session(path).rows
        again = push_file(conn, path)
        assert (again.status, again.proven_after, again.proven_rows) == (
            "unchanged",
            head["link"],
            0,
        )
    # A row the archive already holds and proved, edited in the file (its link left as it
    # was): a resumed proof does not read it again, and the archive keeps the proven copy.
    with sqlite3.connect(path) as db:
        db.execute("UPDATE messages SET text = 'edited later' WHERE seq = 7")
    await _grow(path, 5)
    result = _cli("archive", "push", str(path), "--to", archive_url)
    assert result.returncode == 0, result.stderr
    assert f"5 sealed rows proven after the archived head, link {head['link']}" in result.stdout
    with connect(archive_url) as conn:
        text = conn.execute("SELECT text FROM messages WHERE seq = 7").fetchone()[0]
        assert text == "message number 6"
        proven = verify_archived(conn, first.session_id)
        assert proven.problem is None and proven.messages == 46
    assert "altered: message seq 7" in _cli("verify", str(path)).stdout  # the file, whole


async def test_a_resumed_walk_fails_on_a_start_that_is_not_the_files(tmp_path: Path):
    from vigile.replay.verify import Resume

    path = await record(tmp_path / "live.db", _event())
    head = verify_session(path).head
    db = sqlite3.connect(path)
    keys = dict(db.execute("SELECT kind, max(ref) FROM chain GROUP BY kind").fetchall())
    db.close()
    await _grow(path, 3)
    resumed = verify_session(path, Resume(head["link"], head["hash"], keys))
    assert resumed.problem is None and resumed.rows == 3 and resumed.resumed_after == head["link"]
    assert resumed.head == verify_session(path).head
    wrong_hash = verify_session(path, Resume(head["link"], "f" * 64, keys))
    assert str(wrong_hash.problem) == (
        f"chain: link {head['link']} is not the link this walk resumes from"
    )
    # keys that are not the file's (a message said proven that was not) fail, never pass
    behind = verify_session(path, Resume(head["link"], head["hash"], {**keys, "message": 40}))
    assert str(behind.problem).startswith("unsealed: message seq 41")
    ahead = verify_session(path, Resume(head["link"], head["hash"], {**keys, "message": 42}))
    assert str(ahead.problem).startswith("missing: message seq 42")


def _one_line(result: subprocess.CompletedProcess[str], command: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vigile {command}: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_archive_failures_are_the_command_lines_one_line_and_status(
    tmp_path: Path, archive_url, monkeypatch
):
    monkeypatch.delenv("VIGILE_ARCHIVE_URL", raising=False)
    out = ["--out", str(tmp_path / "bilan")]
    secret = "postgresql://agency:hunter2@127.0.0.1:1/none"  # a password never comes back
    for args, command, status, words in [
        (["archive", "offenders", "--archive", "mysql://x"], "archive", 2, "a PostgreSQL URL"),
        (["archive", "push", "s.db"], "archive", 2, "no archive: pass --archive"),
        (["archive", "who", "x", "--archive", secret], "archive", 1, "cannot reach the archive"),
        (["archive", "offenders", "--since", "soon", "--archive", archive_url], "archive", 2,
         "'soon' is not a duration"),
        (["verify", archive_url, "--session", "999"], "verify", 1, "no session 999 in the archive"),
        (["verify", secret, "--session", "1"], "verify", 1, "cannot reach the archive"),
        (["verify", archive_url], "verify", 2, "give the archived session: --session ID"),
        (["bilan", "--archive", "mysql://x", "--client", "c", "--from", "2026-11-01", "--to",
          "2026-11-30", *out], "bilan", 2, "a PostgreSQL URL"),
        (["bilan", "--archive", secret, "--client", "c", "--from", "2026-11-01", "--to",
          "2026-11-30", *out], "bilan", 1, "cannot reach the archive"),
        (["bilan", "--archive", archive_url, "--client", "nobody", "--from", "2026-11-01",
          "--to", "2026-11-30", *out], "bilan", 2, "no archived session for client 'nobody'"),
    ]:  # fmt: skip
        result = _cli(*args)
        assert result.returncode == status, (args, result.stderr)
        assert words in _one_line(result, command), (args, result.stderr)
        assert "hunter2" not in result.stderr


async def test_each_refused_file_is_named_on_its_own_line(tmp_path: Path, archive_url):
    good = await record(tmp_path / "good.db", _event())
    result = _cli("archive", "push", str(tmp_path / "a.db"), str(good), str(tmp_path / "b.db"),
                  "--to", archive_url)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"vigile archive push: refused no session file at {tmp_path / name}"
        for name in ("a.db", "b.db")
    ]
    assert "good.db: session 1 new" in result.stdout
