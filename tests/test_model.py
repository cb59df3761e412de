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
