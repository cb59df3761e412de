import contextlib
import sqlite3
from pathlib import Path

import pytest

from vigile.connectors.model import (
    ActionKind,
    ActionResult,
    ChatMessage,
    Match,
    MessageKind,
    ModAction,
    PlatformEvent,
    Role,
    Verdict,
)
from vigile.replay.chain import GENESIS_HASH, SEALED_KINDS, link_hash, row_digest
from vigile.replay.store import (
    SCHEMA_VERSION,
    Label,
    SessionStore,
    StoreError,
)
from vigile.replay.verify import verify_session

HOSTILE = "[bold red]x[/bold red] \x1b[2J z̷̢̛a̸l̴g̵o \u202etxet\u202c 🙂"


def message(n: int, text: str = "hello", **extra) -> ChatMessage:
    return ChatMessage(
        "twitch",
        "chan",
        f"id{n}",
        f"a{n % 3}",
        f"Author{n % 3}",
        text,
        sent_at=1_000.0 + n,
        received_at=1_000.5 + n,
        **extra,
    )


async def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    full = message(
        1,
        HOSTILE,
        roles=frozenset({Role.SUBSCRIBER, Role.VIP}),
        kind=MessageKind.PAID,
        amount=5.0,
        currency="EUR",
        reply_to="id0",
        first_message=True,
        raw={"badges": "vip/1"},
    )
    verdict = Verdict(
        (Match("r1", "sexism", 4, (0, 5), "exact", "salope"),), frozenset({"sexism"}), 72, "hide", 3
    )
    async with await SessionStore.open(path) as store:
        await store.start_session("night", "live", ["twitch:chan"], {"event": "race"})
        store.add_message(full, verdict, Label(True, "sexism", raid_member=True, phase="raid"))
        store.add_message(message(2))
        store.add_event(PlatformEvent("twitch", "chan", "raid", 1_003.0, {"viewers": 12}))
        store.add_action(
            ModAction(
                ActionKind.TIMEOUT,
                "twitch",
                "chan",
                "mod1",
                "a1",
                "id1",
                600,
                "slur",
                1_004.0,
                ActionResult.SIMULATED,
            )
        )
        store.add_rule_version(1_000.0, 1, "sup", "file", "abc", "[pack]")
    async with await SessionStore.open(path) as store:
        stored = [s async for s in store.messages()]
        assert [s.message for s in stored] == [full, message(2)]
        assert stored[0].message.raw == {"badges": "vip/1"}
        assert stored[0].label == Label(True, "sexism", True, False, "raid")
        assert stored[1].label is None
        assert (await store.events())[0].data == {"viewers": 12}
        (row,) = await store.rows("SELECT * FROM verdicts")
        assert (row["message_seq"], row["priority"], row["action"], row["rules_version"]) == (
            1,
            72,
            "hide",
            3,
        )
        assert '"span":[0,5]' in row["matches"]
        (action,) = await store.rows("SELECT * FROM actions")
        assert (action["kind"], action["duration_s"], action["result"]) == (
            "timeout",
            600,
            "simulated",
        )
        (session,) = await store.sessions()
        assert session["sources"] == ["twitch:chan"] and session["ended_at"] is not None
        assert await store.count("rule_versions") == 1
        assert await store.count("verdicts") == 1  # clean verdicts are not stored


async def test_rows_are_batched_and_committed_on_flush(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await SessionStore.open(path, batch_rows=1_000, batch_interval=60)
    await store.start_session("s", "live", [])
    for n in range(10):
        store.add_message(message(n))
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert store.pending == 10
    await store.flush()
    assert reader.execute("SELECT count(*) FROM messages").fetchone()[0] == 10
    assert store.pending == 0
    await store.close()


async def test_a_full_batch_wakes_the_writer(tmp_path: Path) -> None:
    import asyncio

    store = await SessionStore.open(tmp_path / "s.db", batch_rows=50, batch_interval=60)
    await store.start_session("s", "live", [])
    for n in range(120):
        store.add_message(message(n))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if store.committed_messages >= 100:
            break
    assert store.committed_messages >= 100  # written long before the 60 s interval
    await store.close()


def _recomputed_chain(path: Path) -> list[tuple[str, int]]:
    """Walk the file's chain by hand from its definition: every link's digest is the digest of
    the row it names, every hash follows from the one before. Returns (kind, key) per link."""
    db = sqlite3.connect(path)
    previous, seen = GENESIS_HASH, []
    for _, kind, ref, digest, chained in db.execute("SELECT * FROM chain ORDER BY link"):
        sealed = SEALED_KINDS[kind]
        where = " AND ended_at IS NOT NULL" if kind == "session_end" else ""
        columns = ", ".join(sealed.columns)
        values = db.execute(
            f"SELECT {columns} FROM {sealed.table} WHERE {sealed.key} = ?{where}", (ref,)
        ).fetchone()
        assert row_digest(kind, values) == digest, (kind, ref)
        assert link_hash(previous, digest) == chained
        previous = chained
        seen.append((kind, ref))
    return seen


async def test_every_recorded_row_is_a_link_of_one_chain_in_commit_order(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with await SessionStore.open(path) as store:
        await store.start_session("s", "live", [])
        for n in range(3):
            store.add_message(message(n))
        store.add_event(PlatformEvent("twitch", "chan", "raid", 1_000, {"from": "x"}))
        store.mark_deleted("twitch", "id1", 1_001)
        await store.flush()
        store.add_message(message(3))
    links = _recomputed_chain(path)
    assert links == [
        ("session", 1),
        *(("message", seq) for seq in (1, 2, 3)),
        ("event", 1),
        ("deletion", 1),
        ("message", 4),
        ("session_end", 1),
    ]
    # The message's hash column is its link's hash; a second session continues the chain.
    async with await SessionStore.open(path) as store:
        await store.start_session("s2", "live", [])
        store.add_message(message(9))
    links = _recomputed_chain(path)
    assert links[-3:] == [("session", 2), ("message", 5), ("session_end", 2)]
    db = sqlite3.connect(path)
    assert db.execute(
        "SELECT count(*) FROM messages m JOIN chain c ON c.kind = 'message' AND c.ref = m.seq"
        " WHERE c.hash = m.hash"
    ).fetchone() == (5,)
    assert db.execute("SELECT marked FROM deletions").fetchone() == ("[2]",)


async def test_an_earlier_schema_is_read_but_not_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with await SessionStore.open(path) as store:
        await store.start_session("s", "live", [])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="earlier Vigile .schema 1.; it can be read"):
        await SessionStore.open(path)
    async with await SessionStore.open(path, readonly=True) as store:
        assert len(await store.sessions()) == 1


async def test_deleted_messages_are_marked_not_removed(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with await SessionStore.open(path) as store:
        await store.start_session("s", "live", [])
        store.add_message(message(1))
        store.mark_deleted("twitch", "id1", 1_010.0)
    async with await SessionStore.open(path) as store:
        (stored,) = [s async for s in store.messages()]
    assert stored.deleted_at == 1_010.0 and stored.message.text == "hello"


async def test_a_locked_database_keeps_rows_buffered_and_retries(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await SessionStore.open(path, busy_timeout_ms=50)
    await store.start_session("s", "live", [])
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    store.add_message(message(1))
    await store.flush()
    assert store.pending == 1 and "locked" in (store.last_error or "")
    store.add_message(message(2))
    blocker.execute("ROLLBACK")
    await store.flush()
    assert store.pending == 0 and store.last_error is None
    await store.close()
    async with await SessionStore.open(path) as reopened:
        ids = [s.message.id async for s in reopened.messages()]
    assert ids == ["id1", "id2"]  # order kept across the failed attempt
    assert verify_session(path).intact  # the failed attempt left no link behind


async def test_close_raises_when_rows_cannot_be_saved(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await SessionStore.open(path, busy_timeout_ms=50)
    await store.start_session("s", "live", [])
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    store.add_message(message(1))
    with pytest.raises(StoreError, match="1 row could not be written"):
        await store.close()
    blocker.execute("ROLLBACK")


async def test_a_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database, just some text " * 200)
    with pytest.raises(StoreError, match="not a SQLite database"):
        await SessionStore.open(path)


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    async with await SessionStore.open(path):
        pass
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer Vigile"):
        await SessionStore.open(path)


async def test_the_file_is_in_wal_mode_with_a_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with await SessionStore.open(path):
        pass
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "2"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "messages", "verdicts", "actions", "rule_versions", "events"} <= tables


async def test_closing_while_the_writer_is_busy_loses_nothing(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "s.db"
    store = await SessionStore.open(path, batch_rows=20, batch_interval=0.001)
    await store.start_session("s", "live", [])
    for n in range(2_000):
        store.add_message(message(n))
        if n % 50 == 0:
            await asyncio.sleep(0)  # let the writer start a flush now and then
    await store.close()
    async with await SessionStore.open(path) as reopened:
        assert await reopened.count("messages") == 2_000


async def queued_store(path: Path, messages: int) -> SessionStore:
    """A store holding `messages` queued rows, none written yet (no tick before a minute)."""
    store = await SessionStore.open(path, batch_rows=10_000, batch_interval=60)
    await store.start_session("s", "live", [])
    for n in range(messages):
        store.add_message(message(n))
    return store


async def test_a_flush_cancelled_midway_keeps_its_rows(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "s.db"
    store = await queued_store(path, 5_000)
    flushing = asyncio.create_task(store.flush())
    await asyncio.sleep(0.001)  # inside the transaction
    flushing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flushing
    # the batch's call on the database thread cannot be stopped: it ends, and its rows are
    # committed (never twice) or queued again, never lost
    assert store.pending + store.committed_messages == 5_000
    await store.close()
    async with await SessionStore.open(path) as reopened:
        ids = [s.message.id async for s in reopened.messages()]
    assert ids == [f"id{n}" for n in range(5_000)]
    assert verify_session(path).intact


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 6, 8])
async def test_a_flush_cancelled_at_any_step_leaves_no_transaction_open(tmp_path, steps) -> None:
    """Cancelled while its BEGIN, a write or its COMMIT is under way: the next flush and the
    close still write every row (no "transaction within a transaction")."""
    import asyncio

    path = tmp_path / "s.db"
    store = await queued_store(path, 300)
    flushing = asyncio.create_task(store.flush())
    for _ in range(steps):
        await asyncio.sleep(0)  # the flush runs up to its next wait
    flushing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await flushing
    store.add_message(message(300))
    await store.flush()
    await store.close()
    async with await SessionStore.open(path) as reopened:
        ids = [s.message.id async for s in reopened.messages()]
    assert ids == [f"id{n}" for n in range(301)]
    assert verify_session(path).intact


async def test_a_close_cancelled_twice_still_seals_the_session_end(tmp_path: Path) -> None:
    """An app leaving cancels its workers, sometimes twice, while they close their store: the
    close finishes (every row and the session's sealed end), then the cancellation goes on."""
    import asyncio

    path = tmp_path / "s.db"
    store = await queued_store(path, 5_000)
    closing = asyncio.create_task(store.close())
    for _ in range(2):
        await asyncio.sleep(0.001)  # inside the final flush, then further on
        closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT ended_at IS NOT NULL FROM sessions").fetchone() == (1,)
    checked = verify_session(path)
    assert checked.intact and checked.messages == 5_000 and not checked.interrupted


async def test_a_full_disk_keeps_rows_buffered_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await SessionStore.open(path)
    await store.start_session("s", "live", [])
    store.add_message(message(0))
    await store.flush()
    pages = (await store.rows("PRAGMA page_count"))[0][0]
    # SQLite's own page limit stands in for a full disk: writes fail with SQLITE_FULL.
    await store.rows(f"PRAGMA max_page_count = {pages}")
    for n in range(1, 2_000):
        store.add_message(message(n, "x" * 200))
    await store.flush()
    assert store.pending == 1_999 and "full" in (store.last_error or "")
    await store.rows("PRAGMA max_page_count = 1000000")  # space again
    await store.flush()
    assert store.pending == 0 and store.last_error is None
    await store.close()
    async with await SessionStore.open(path, readonly=True) as reopened:
        assert await reopened.count("messages") == 2_000
    checked = verify_session(path)
    assert checked.intact and checked.messages == 2_000 and not checked.interrupted


async def test_read_only_opening_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with pytest.raises(StoreError, match="no such file"):
        await SessionStore.open(path, readonly=True)
    path.write_bytes(b"")
    with pytest.raises(StoreError, match="is empty"):
        await SessionStore.open(path, readonly=True)
    assert path.read_bytes() == b""  # untouched
