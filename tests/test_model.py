import dataclasses

import pytest

from vigile.connectors.model import ChatMessage, Match, MessageKind, Role, Verdict


def make(**changes) -> ChatMessage:
    fields = dict(
        platform="twitch",
        channel="c",
        id="m1",
        author_id="a1",
        author_name="Ann",
        text="hello",
        sent_at=1.0,
        received_at=2.0,
    )
    return ChatMessage(**{**fields, **changes})


def test_message_is_frozen_and_keyed_by_platform_id() -> None:
    m = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.text = "edited"  # type: ignore[misc]
    assert m.key == "twitch:m1"
    assert make(platform="youtube").key != m.key


def test_message_defaults_describe_an_ordinary_chat_line() -> None:
    m = make()
    assert m.kind is MessageKind.CHAT
    assert m.roles == frozenset()
    assert m.amount is None and m.reply_to is None and not m.first_message
    assert ChatMessage("t", "c", "i", "a", "A", "x", 1.0).received_at > 1_700_000_000  # UTC now


def test_raw_fields_do_not_take_part_in_equality() -> None:
    assert make(raw={"badges": "x"}) == make(raw={"other": 1})
    assert make(roles=frozenset({Role.MODERATOR})) != make()


def test_verdict_is_flagged_only_with_matches() -> None:
    assert not Verdict().flagged
    match = Match("r", "sexism", 4, (0, 3), "exact")
    assert Verdict(matches=(match,), priority=72).flagged


def test_a_verdict_keeps_categories_marks_and_its_cluster_apart_and_stores_them_as_before() -> None:
    from vigile.connectors.model import Mark

    v = Verdict(
        categories=frozenset({"spam", "sexism"}),
        marks=frozenset({Mark.RAID, Mark.COPYPASTA}),
        cluster=12,
    )
    assert v.labels == ["copypasta", "raid", "sexism", "spam"]  # what a row and a reason show
    assert v.tags == ["cluster:12", "copypasta", "raid", "sexism", "spam"]  # the stored form
    assert Verdict(categories=frozenset({"spam"})).tags == ["spam"]


def test_an_alert_event_reads_as_a_typed_notice() -> None:
    from vigile.connectors.model import PlatformEvent
    from vigile.filters.alert_notice import AlertNotice

    rule = {"id": "hijacked-x", "hashtags": ["#x"], "category": "harassment"}
    event = PlatformEvent(
        "twitch",
        "lumina",
        "alert:rising-hashtag",
        5.0,
        {
            "state": "up",
            "severity": 3,
            "subject": "#x",
            "hashtag": "#x",
            "messages_60s": 40,
            "authors": 22,
            "suggested_rule": rule,
        },
    )
    notice = AlertNotice.from_event(event)
    assert (notice.kind, notice.severity, notice.authors, notice.suggested_rule) == (
        "rising-hashtag",
        3,
        22,
        rule,
    )
    assert notice.describe() == "RISING #x tw:lumina"
    assert notice.team_key == "alert:rising-hashtag:twitch:lumina:#x"
    evidence = {"severity": 4, "source": "notice", "raider": "\x1b[2Jx", "viewers": 80}
    raid = PlatformEvent("twitch", "lumina", "alert:raid", 6.0, evidence)
    assert AlertNotice.from_event(raid).describe() == "RAID from ␛[2Jx tw:lumina · 80 viewers"
