"""Conformance: raw Twitch IRC lines and YouTube live-chat actions, of the kinds mature chat
clients test themselves against (tests/data/conformance/*.jsonl, written as data: the line as
the platform sends it, and what a desk must make of it), run through our real parsers and
triage, then recorded end to end by `vigile record` against the local fakes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.twitch_irc import FakeTwitch, Wait
from tests.fakes.youtube import End, FakeYouTube
from tests.test_record import record
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.twitch_session import IrcSession
from vigile.connectors.youtube_items import items_from
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.bilan_figures import collect

DATA = Path(__file__).parent / "data" / "conformance"
PACKS = load_starter_packs()
VIDEO = "confVideo01"


def cases(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


TWITCH = cases("twitch_irc.jsonl")
YOUTUBE = cases("youtube_live_chat.jsonl")


def twitch_lines(case: dict[str, Any]) -> list[str]:
    line = case["line"]
    return line if isinstance(line, list) else [line]


# -- what a case expects --------------------------------------------------------------------


def check_message(got: ChatMessage, want: dict[str, Any]) -> None:
    assert (got.text, got.author_name, str(got.kind)) == (
        want["text"],
        want["author"],
        want["kind"],
    )
    if "roles" in want:
        assert sorted(got.roles) == sorted(want["roles"])
    if "raw" in want:
        assert {k: got.raw.get(k) for k in want["raw"]} == want["raw"]
    fields = {
        "author_id": got.author_id,
        "sent_at": got.sent_at,
        "amount": got.amount,
        "currency": got.currency,
        "reply_to": got.reply_to,
        "first_message": got.first_message,
        "notice": got.notice,
        "shared_from": got.shared_from,
    }
    for key, value in fields.items():
        if key in want:
            assert value == want[key], key


def check_events(got: list[PlatformEvent], want: list[dict[str, Any]]) -> None:
    assert [e.kind for e in got] == [w["kind"] for w in want]
    for event, wanted in zip(got, want, strict=True):
        assert {k: event.data.get(k) for k in wanted["data"]} == wanted["data"], event.kind


def check_verdicts(messages: Iterable[ChatMessage], want: dict[str, Any]) -> None:
    """The case's messages judged by the starter packs, as a desk of its own (names are judged
    on first sight: a fresh desk sees every name for the first time)."""
    triage = Triage(PACKS)
    triage.protect("lumina")
    verdicts = [triage.judge(m) for m in messages]
    assert verdicts, "a verdict is expected, but the case makes no message"
    rules = {m.rule_id for v in verdicts for m in v.matches}
    marks = {str(mark) for v in verdicts for mark in v.marks}
    if "flagged" in want:
        assert any(v.flagged for v in verdicts) is want["flagged"], rules
    assert set(want.get("rules", ())) <= rules
    assert set(want.get("marks", ())) <= marks


def check(case: dict[str, Any], items: list[ChatMessage | PlatformEvent]) -> None:
    expect = case["expect"]
    messages = [i for i in items if isinstance(i, ChatMessage)]
    events = [i for i in items if isinstance(i, PlatformEvent)]
    if "messages" in expect:
        assert len(messages) == len(expect["messages"]), [m.text for m in messages]
        for got, want in zip(messages, expect["messages"], strict=True):
            check_message(got, want)
    if "events" in expect:
        check_events(events, expect["events"])
    if "verdict" in expect:
        check_verdicts(messages, expect["verdict"])
    if expect.get("distinct_ids"):
        assert len({m.id for m in messages}) == len(messages)


# -- each line, through the real parsers ----------------------------------------------------


@pytest.mark.parametrize("case", TWITCH, ids=[c["name"] for c in TWITCH])
def test_twitch_line(case: dict[str, Any]) -> None:
    session = IrcSession(["lumina"], "justinfan12345")
    received = session.receive("\r\n".join(twitch_lines(case)) + "\r\n")
    expect = case["expect"]
    assert received.refused == expect.get("refused")
    assert received.replies == expect.get("replies", [])
    assert received.reconnect is expect.get("reconnect", False)
    check(case, received.items)


@pytest.mark.parametrize("case", YOUTUBE, ids=[c["name"] for c in YOUTUBE])
def test_youtube_action(case: dict[str, Any]) -> None:
    check(case, list(items_from(case["action"], VIDEO)))


def test_every_case_checks_something() -> None:
    checked = {"messages", "events", "verdict", "refused", "replies", "reconnect"}
    for case in TWITCH + YOUTUBE:
        assert checked & set(case["expect"]), case["name"]
    assert len(TWITCH) >= 50 and len(YOUTUBE) >= 20


# -- a recording of every line kind ---------------------------------------------------------


def _stored(db: Path) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    messages = conn.execute(
        "SELECT m.platform, m.author_name, m.text, m.kind, m.msg_id, m.raw, v.matches, v.tags"
        " FROM messages m LEFT JOIN verdicts v ON v.message_seq = m.seq ORDER BY m.seq"
    ).fetchall()
    events = conn.execute("SELECT platform, kind, data FROM events ORDER BY id").fetchall()
    return messages, events


def _subsequence(wanted: list[str], got: list[str]) -> bool:
    found = iter(got)
    return all(any(w == g for g in found) for w in wanted)


async def test_a_recording_of_every_line_kind(tmp_path: Path) -> None:
    # the login refusal and the move to a new connection end or change the connection: they
    # are checked line by line above
    recorded = [c for c in TWITCH if not {"refused", "reconnect"} & set(c["expect"])]
    lines = [line for case in recorded for line in twitch_lines(case)]
    db = tmp_path / "conformance.db"
    async with (
        FakeTwitch([[lines, Wait(30)]]) as twitch,
        FakeYouTube([[c["action"] for c in YOUTUBE], End()]) as youtube,
    ):
        code, out, err = await record(
            "twitch:lumina",
            f"youtube:{youtube.video_id}",
            "--db",
            str(db),
            "--duration",
            "4",
            "--twitch-url",
            twitch.url,
            "--youtube-base-url",
            youtube.url,
        )
    assert code == 0, err
    messages, events = _stored(db)
    for platform, platform_cases, made in (
        (
            "twitch",
            recorded,
            lambda c: (
                IrcSession(["lumina"], "j").receive("\r\n".join(twitch_lines(c)) + "\r\n").items
            ),
        ),
        ("youtube", YOUTUBE, lambda c: list(items_from(c["action"], youtube.video_id))),
    ):
        rows = [r for r in messages if r["platform"] == platform]
        # every message each line makes is in the file, in order, with its text and kind
        per_case = [[i for i in made(c) if isinstance(i, ChatMessage)] for c in platform_cases]
        assert [(r["author_name"], r["text"], r["kind"]) for r in rows] == [
            (m.author_name, m.text, str(m.kind)) for group in per_case for m in group
        ]
        start = 0
        for case, group in zip(platform_cases, per_case, strict=True):
            mine, start = rows[start : start + len(group)], start + len(group)
            for row, want in zip(mine, case["expect"].get("messages", []), strict=False):
                assert (row["text"], row["author_name"]) == (want["text"], want["author"])
            verdict = case["expect"].get("verdict")
            if verdict is None:
                continue
            rules = {m["rule_id"] for row in mine for m in json.loads(row["matches"] or "[]")}
            tags = {t for row in mine for t in json.loads(row["tags"] or "[]")}
            if "flagged" in verdict:
                assert any(row["matches"] for row in mine) is verdict["flagged"], case["name"]
            assert set(verdict.get("rules", ())) <= rules, case["name"]
            assert set(verdict.get("marks", ())) <= tags, case["name"]
        # and every event, in order, among the recording's own (status changes, alerts)
        wanted = [e["kind"] for c in platform_cases for e in c["expect"].get("events", [])]
        got = [r["kind"] for r in events if r["platform"] == platform]
        assert _subsequence(wanted, got), (wanted, got)
    # the bilan counts notices, Super Chats and memberships with chat, flagged ones with the rest
    event, moderation = collect(db)["event"], collect(db)["moderation"]
    assert event["messages"] == len(messages)
    assert moderation["flagged"] == sum(1 for row in messages if row["matches"])
    notices = [r for r in messages if r["kind"] == "notice" and r["matches"]]
    assert len(notices) >= 5  # a resub, an announcement, a raider's and a recipient's names…
