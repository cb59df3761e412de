"""`vigile import`: each tool's archive, in its real shape, becomes a normal session."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vigile.connectors.model import ChatMessage, MessageKind, PlatformEvent, Role
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.bilan import write_bilan
from vigile.replay.importers.driver import import_archives
from vigile.replay.importers.items import ImportFailed, ImportOptions
from vigile.replay.loadtest import run_loadtest
from vigile.replay.pipeline import SessionPlan, run_session
from vigile.replay.player import ReplaySource
from vigile.replay.store import SessionStore, StoredMessage
from vigile.replay.verify import verify_session

IMPORTS = Path(__file__).parent / "data" / "imports"
VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


async def imported(
    tmp_path: Path,
    *names: str,
    options: ImportOptions | None = None,
    fmt: str = "auto",
    db_name: str = "imported.db",
) -> tuple[list[StoredMessage], list[PlatformEvent], Path]:
    db = tmp_path / db_name
    report = await import_archives(
        [IMPORTS / n for n in names], db, options or ImportOptions(), fmt
    )
    store = await SessionStore.open(db, readonly=True)
    try:
        messages = [m async for m in store.messages()]
        events = await store.events()
        (session,) = await store.sessions()
    finally:
        await store.close()
    assert session["kind"] == "import" and report.messages == len(messages)
    checked = verify_session(db)  # every row sealed by the chain, like any recording
    assert checked.intact and checked.messages == len(messages) and not checked.interrupted
    with sqlite3.connect(db) as conn:  # a normal session file: WAL, every index built
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        indexes = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        kinds = [kind for (kind,) in conn.execute("SELECT kind FROM chain ORDER BY link")]
    assert {"messages_by_platform_id", "messages_by_author", "events_by_kind"} <= indexes
    # the deletion marks waited for the indexes: sealed after every message, in the order the
    # archive gave them, and before the session's end
    marks = kinds.count("deletion")
    assert kinds[-1] == "session_end" and "deletion" not in kinds[: -marks - 1 or None]
    return messages, events, db


def compressed(source: Path, target: Path) -> Path:
    with open(source, "rb") as src, gzip.open(target, "wb") as out:
        shutil.copyfileobj(src, out)
    return target


def by_kind(events: list[PlatformEvent]) -> dict[str, list[PlatformEvent]]:
    out: dict[str, list[PlatformEvent]] = {}
    for event in events:
        out.setdefault(event.kind, []).append(event)
    return out


async def test_ytdlp_live_chat_goes_through_the_live_youtube_processor(tmp_path) -> None:
    messages, events, _ = await imported(tmp_path, "Lumina race night [Lr7xQ2mVt9k].live_chat.json")
    first, moderator, paid, insult, member, again = (m.message for m in messages)
    assert (first.platform, first.channel) == ("youtube", "Lr7xQ2mVt9k")  # the id in the name
    assert first.text == "le départ est dans combien de temps ? 😀"
    assert first.sent_at == first.received_at == at("2024-07-20T12:10:05")
    assert Role.MODERATOR in moderator.roles
    assert (paid.kind, paid.amount, paid.currency) == (MessageKind.PAID, 10.0, "EUR")
    assert member.kind is MessageKind.NOTICE and Role.SUBSCRIBER in member.roles
    kinds = by_kind(events)
    (deleted,) = kinds["delete"]
    assert deleted.data["message_id"] == insult.id
    assert deleted.ts == at("2024-07-20T12:10:12.5")  # placed by its video offset
    assert [m.deleted_at for m in messages if m.message.id == insult.id] == [deleted.ts]
    # the author purge marks what they had said by then: both lines of troll_42
    assert {m.message.text for m in messages if m.deleted_at} == {insult.text, again.text}
    (bad,) = kinds["malformed"]
    assert bad.data["line"] == 5 and "JSONDecodeError" in bad.data["error"]


async def test_twitchdownloader_json_streams_its_comments(tmp_path) -> None:
    messages, events, _ = await imported(tmp_path, "lumina_racing_2199887766.json")
    fan, modo, cheer, streamer = (m.message for m in messages)
    assert (fan.channel, fan.author_id, fan.author_name) == ("lumina_racing", "140001", "Ana_Fan")
    assert fan.sent_at == pytest.approx(at("2024-07-20T18:00:04.123456"))
    assert Role.SUBSCRIBER in fan.roles and Role.MODERATOR in modo.roles
    assert (cheer.kind, cheer.amount, cheer.currency) == (MessageKind.PAID, 100.0, "BITS")
    assert cheer.raw["emotes"] == ["425618"]  # from the fragments
    # no created_at: the video start plus the offset; the broadcaster's own line, a /me
    assert streamer.sent_at == at("2024-07-20T18:00:12.25")
    assert streamer.kind is MessageKind.ACTION and Role.BROADCASTER in streamer.roles
    (bad,) = [e for e in events if e.kind == "malformed"]
    assert bad.data["line"] == 4 and "commenter" in bad.data["error"]


async def test_twitchdownloader_text_counts_from_the_stream_start(tmp_path) -> None:
    start = ImportOptions(tz=PARIS, start=datetime(2024, 7, 20, 20, 0))
    messages, events, _ = await imported(
        tmp_path, "Race night (twitchdownloader).txt", options=start
    )
    assert [m.message.sent_at for m in messages] == [
        at("2024-07-20T18:00:04"),
        at("2024-07-20T18:00:06"),
        at("2024-07-20T18:00:08"),
        at("2024-07-20T19:02:03"),
    ]
    assert messages[0].message.author_name == "Ana_Fan"
    (bad,) = events[:-1]  # the last one is the import's own summary
    assert (bad.kind, bad.data["line"]) == ("malformed", 4)


async def test_twitchdownloader_text_needs_a_start(tmp_path) -> None:
    with pytest.raises(ImportFailed, match="--date"):
        await imported(tmp_path, "Race night (twitchdownloader).txt")
    assert not (tmp_path / "imported.db").exists()  # a half import leaves nothing behind


async def test_utc_stamped_text_needs_no_date(tmp_path) -> None:
    messages, _, _ = await imported(tmp_path, "Race night utc.txt")
    assert [m.message.sent_at for m in messages][-1] == at("2024-07-20T18:00:08.25")


async def test_chatterino_log_takes_its_date_and_channel_from_the_file(tmp_path) -> None:
    messages, events, _ = await imported(
        tmp_path, "lumina_racing-2024-07-20.log", options=ImportOptions(tz=PARIS)
    )
    texts = {m.message.text: m for m in messages}
    first = messages[0].message
    assert (first.channel, first.author_id, first.sent_at) == (
        "lumina_racing",
        "ana_fan",
        at("2024-07-20T18:00:04"),  # 20:00:04 in Paris, summer time
    )
    assert messages[1].message.author_name == "Pit_Modo"  # "Localized login: text"
    assert "https://example.com/a:b est le lien" in texts
    assert texts["et voilà, le lendemain"].message.sent_at == at("2024-07-20T22:00:03")
    (timeout,) = by_kind(events)["timeout"]
    assert timeout.data == {"user": "troll_99", "user_id": "troll_99", "duration_s": 600}
    assert texts["t'es nulle rentre chez toi"].deleted_at == timeout.ts
    (bad,) = by_kind(events)["malformed"]
    assert bad.data["line"] == 7 and "[20:61:99]" in bad.data["error"]


async def test_chat_downloader_twitch_moderation_becomes_events(tmp_path) -> None:
    messages, events, _ = await imported(tmp_path, "chat-downloader-twitch.json")
    fan, troll = (m.message for m in messages)
    assert (fan.platform, fan.author_id, fan.sent_at) == ("twitch", "140001", 1721498404.1)
    assert Role.SUBSCRIBER in fan.roles
    kinds = by_kind(events)
    assert kinds["clearmsg"][0].data["message_id"] == troll.id
    assert kinds["timeout"][0].data == {"user": "troll_99", "user_id": "140099", "duration_s": 600}
    assert kinds["raid"][0].data["viewers"] == 412 and kinds["sub"][0].data["user"] == "newsub"
    assert messages[1].deleted_at == kinds["clearmsg"][0].ts
    assert kinds["malformed"][0].data["line"] == 7


async def test_chat_downloader_youtube_keeps_money_and_badges(tmp_path) -> None:
    messages, _, _ = await imported(tmp_path, "chat-downloader-youtube.json")
    modo, paid, member = (m.message for m in messages)
    assert modo.platform == "youtube" and Role.MODERATOR in modo.roles
    assert (paid.kind, paid.amount, paid.currency) == (MessageKind.PAID, 10.0, "EUR")
    assert member.kind is MessageKind.NOTICE and Role.SUBSCRIBER in member.roles


async def test_raw_irc_log_goes_through_the_live_twitch_parser(tmp_path) -> None:
    messages, events, _ = await imported(tmp_path, "lumina_racing_raw.irc")
    fan, modo, troll, sub, raid = (m.message for m in messages)
    assert (fan.id, fan.sent_at, fan.channel) == (
        "3c2a8f71-5e44-4d1b-9f0e-6a7b8c9d0e01",
        1721498404.123,
        "lumina_racing",
    )
    assert modo.kind is MessageKind.ACTION and modo.text == "rappelle les règles"
    assert troll.first_message
    # a notice is also a message of its own, judged like chat (its sender and its words)
    assert (sub.kind, sub.notice, raid.notice) == (MessageKind.NOTICE, "sub", "raid")
    kinds = by_kind(events)
    assert set(kinds) >= {"roomstate", "clearmsg", "timeout", "sub", "raid", "ban", "malformed"}
    # a room state carries no time: it takes the first time the log gives
    assert kinds["roomstate"][0].ts == fan.sent_at
    assert kinds["raid"][0].data["viewers"] == 412
    assert messages[2].deleted_at == 1721498409.0  # CLEARMSG, before the timeout
    assert kinds["malformed"][0].data["line"] == 8


async def test_csv_with_a_header_and_bad_rows(tmp_path) -> None:
    messages, events, _ = await imported(tmp_path, "race-night.csv")
    assert [m.message.author_name for m in messages] == [
        "ana_fan",
        "pit_modo",
        "troll_99",
        "night_owl",
    ]
    assert (
        messages[2].message.text == "sur deux\nlignes" and messages[2].message.sent_at == 1721498408
    )
    bad = {e.data["line"]: e.data["error"] for e in events if e.kind == "malformed"}
    assert set(bad) == {6, 7} and "3 expected" in bad[7]


async def test_csv_without_a_header_takes_columns_and_a_date(tmp_path) -> None:
    options = ImportOptions(tz=PARIS, start=datetime(2024, 7, 20), columns=("ts", "user", "text"))
    messages, _, _ = await imported(tmp_path, "headerless.csv", options=options)
    assert [m.message.sent_at for m in messages] == [
        at("2024-07-20T16:00:04"),
        at("2024-07-20T16:00:06"),
    ]
    with pytest.raises(ImportFailed, match="--columns"):
        await imported(tmp_path, "headerless.csv", db_name="again.db")


async def test_several_archives_merge_by_time_and_repeat_nothing(tmp_path) -> None:
    irc = compressed(IMPORTS / "lumina_racing_raw.irc", tmp_path / "again.irc.gz")
    db = tmp_path / "merged.db"
    report = await import_archives(
        [IMPORTS / "Race night utc.txt", IMPORTS / "lumina_racing_raw.irc", irc],
        db,
        ImportOptions(),
    )
    assert report.files["again.irc.gz"] == "irc" and report.duplicates == 5
    assert report.messages == 8
    store = await SessionStore.open(db, readonly=True)
    sent = [m.message.sent_at async for m in store.messages()]
    await store.close()
    assert sent == sorted(sent)


def test_the_command_reports_and_refuses_in_one_line(tmp_path) -> None:
    db = tmp_path / "s.db"
    done = subprocess.run(
        [*VIGILE, "import", str(IMPORTS / "lumina_racing_raw.irc"), "--db", str(db)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "5 messages from 5 authors" in done.stdout and "line 8" in done.stdout
    assert done.stderr == ""  # no progress bar when standard error is not a terminal
    again = subprocess.run(
        [*VIGILE, "import", str(IMPORTS / "lumina_racing_raw.irc"), "--db", str(db)],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    broken = tmp_path / "broken.txt"  # times of day and no date: refused, the session kept
    broken.write_text("[0:00:01] a: b\n", encoding="utf-8")
    refused = subprocess.run(
        [*VIGILE, "import", str(broken), "--db", str(db), "--force"], capture_output=True, text=True
    )
    assert refused.returncode == 2 and "--date" in refused.stderr
    checked = verify_session(db)  # the session it would have replaced is untouched
    assert checked.intact and checked.messages == 5
    unknown = tmp_path / "notes.bin"
    unknown.write_bytes(b"\x00\x01 nothing a chat tool writes")
    done = subprocess.run(
        [*VIGILE, "import", str(unknown), "--db", str(tmp_path / "u.db")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--format" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    nowhere = tmp_path / "no-such-folder" / "s.db"
    done = subprocess.run(
        [*VIGILE, "import", str(IMPORTS / "race-night.csv"), "--db", str(nowhere)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.startswith("vigile import: cannot write the")
    assert str(nowhere) in done.stderr and len(done.stderr.strip().splitlines()) == 1


async def test_an_import_replays_and_reports_like_a_recording(tmp_path) -> None:
    """import → replay through the headless desk → bilan, and the load test on the same file."""
    _, _, db = await imported(tmp_path, "lumina_racing_raw.irc")
    seen: list[ChatMessage | PlatformEvent] = []
    run = tmp_path / "replayed.db"
    plan = SessionPlan("replay of import", "replay", [ReplaySource(db, speed=None)], run)
    stats = await run_session(
        plan,
        Triage(load_starter_packs()),
        on_ready=lambda p: p.listeners.append(lambda item, v, s: seen.append(item)),
    )
    assert stats.messages == 5
    replayed_kinds = {i.kind for i in seen if isinstance(i, PlatformEvent)}
    assert {"clearmsg", "timeout", "ban", "raid", "sub"} <= replayed_kinds
    figures = write_bilan(run, tmp_path / "bilan", lang="en").figures
    assert figures["event"]["messages"] == 5 and figures["evidence"]["intact"]
    assert figures["event"]["deleted_messages"] == 1  # the CLEARMSG replayed marks it again
    assert (tmp_path / "bilan" / "bilan.html").is_file()
    report = await run_loadtest(db, None, tmp_path / "load.db", Triage(load_starter_packs()))
    assert report.messages == 5 and report.dropped == 0 and report.score is None


async def test_a_youtube_author_purge_replays_like_the_other_deletions(tmp_path) -> None:
    _, _, db = await imported(tmp_path, "Lumina race night [Lr7xQ2mVt9k].live_chat.json")
    kinds = [
        item.kind
        async for item in ReplaySource(db, speed=None).stream()
        if isinstance(item, PlatformEvent)
    ]
    assert kinds == ["delete", "delete_by_author"]  # the import's own summary is not replayed


async def test_the_report_never_prints_the_archive_s_control_characters(tmp_path) -> None:
    log = tmp_path / "evil-2024-07-20.log"
    log.write_text("[\x1b[2J\x07 12:00] x: y\n", encoding="utf-8")
    report = await import_archives([log], tmp_path / "e.db", ImportOptions(), "text")
    assert report.malformed == 1
    assert not any(ord(c) < 32 for line in report.lines() for c in line)
