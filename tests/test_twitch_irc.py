"""Twitch IRC lines parsed and turned into chat, events and malformed-line records."""

import pytest

from tests.fakes.twitch_irc import privmsg
from vigile.connectors.irc import MalformedLine, parse_line, split_frame, unescape_tag
from vigile.connectors.model import MessageKind, Role
from vigile.connectors.twitch_events import chat_message, platform_event


def test_tag_unescaping() -> None:
    assert unescape_tag(r"hello\sworld\:\\\r\n") == "hello world;\\\r\n"
    assert unescape_tag("trailing\\") == "trailing"  # a lone backslash is dropped
    assert unescape_tag(r"\q") == "q"


def test_a_privmsg_becomes_a_chat_message_with_roles_and_times() -> None:
    line = privmsg(
        "lumina",
        "Anna",
        "hello :) [b]x[/b]",
        "m-1",
        badges="moderator/1,subscriber/12",
        tmi_sent_ts="1767225600123",
        first_msg="1",
    )
    message = chat_message(parse_line(line))
    assert (message.channel, message.id, message.author_id, message.author_name) == (
        "lumina",
        "m-1",
        "id-anna",
        "Anna",
    )
    assert message.text == "hello :) [b]x[/b]"
    assert message.roles == {Role.MODERATOR, Role.SUBSCRIBER}
    assert message.sent_at == 1767225600.123 and message.first_message


def test_me_bits_and_replies() -> None:
    action = chat_message(parse_line(privmsg("c", "u", "\x01ACTION waves\x01", "m1")))
    assert action.kind is MessageKind.ACTION and action.text == "waves"
    cheer = chat_message(parse_line(privmsg("c", "u", "cheer100 go", "m2", bits="100")))
    assert cheer.kind is MessageKind.PAID and cheer.amount == 100 and cheer.currency == "BITS"
    reply = chat_message(
        parse_line(
            privmsg(
                "c",
                "u",
                "@bob yes",
                "m3",
                reply_parent_msg_id="p1",
                reply_parent_msg_body=r"is\sit\sok?",
            )
        )
    )
    assert reply.reply_to == "p1" and reply.raw["reply_parent_text"] == "is it ok?"


@pytest.mark.parametrize(
    ("line", "kind", "data"),
    [
        (
            "@ban-duration=600;room-id=1;target-user-id=9;tmi-sent-ts=1 "
            ":tmi.twitch.tv CLEARCHAT #c :troll",
            "timeout",
            {"user": "troll", "user_id": "9", "duration_s": 600},
        ),
        (
            "@room-id=1;target-user-id=9;tmi-sent-ts=1 :tmi.twitch.tv CLEARCHAT #c :troll",
            "ban",
            {"user": "troll", "user_id": "9"},
        ),
        ("@room-id=1;tmi-sent-ts=1 :tmi.twitch.tv CLEARCHAT #c", "clearchat", {"scope": "chat"}),
        (
            "@login=troll;room-id=;target-msg-id=abc;tmi-sent-ts=1"
            " :tmi.twitch.tv CLEARMSG #c :slur",
            "clearmsg",
            {"message_id": "abc", "user": "troll", "text": "slur"},
        ),
        (
            "@msg-id=raid;msg-param-displayName=H8Squad;msg-param-viewerCount=412;login=h8squad;"
            "tmi-sent-ts=1 :tmi.twitch.tv USERNOTICE #c",
            "raid",
            {"raider": "H8Squad", "viewers": 412},
        ),
        (
            "@msg-id=slow_on :tmi.twitch.tv NOTICE #c :This room is now in slow mode.",
            "notice",
            {"msg_id": "slow_on"},
        ),
        ("@badges=moderator/1;mod=1 :tmi.twitch.tv USERSTATE #c", "userstate", {"moderator": True}),
    ],
)
def test_stream_events(line: str, kind: str, data: dict) -> None:
    event = platform_event(parse_line(line))
    assert event is not None and event.kind == kind and event.channel == "c"
    for key, value in data.items():
        assert event.data[key] == value


def test_protocol_chatter_is_not_an_event() -> None:
    for line in [
        ":tmi.twitch.tv 001 justinfan1 :Welcome, GLHF!",
        ":justinfan1!justinfan1@justinfan1.tmi.twitch.tv JOIN #c",
        ":tmi.twitch.tv CAP * ACK :twitch.tv/tags",
    ]:
        assert platform_event(parse_line(line)) is None


@pytest.mark.parametrize(
    "line", ["", "   ", "@tags-only", ":prefix-only", "12345 nope", "%%% x", "\r :x", ":p \t :x"]
)
def test_malformed_lines_are_refused(line: str) -> None:
    with pytest.raises(MalformedLine):
        parse_line(line)


def test_several_lines_in_one_frame_and_long_lines() -> None:
    long_text = "x" * 3000
    frame = (
        "\r\n".join(
            [
                privmsg("c", "a", "one", "1"),
                "PING :tmi.twitch.tv",
                privmsg("c", "b", long_text, "2"),
            ]
        )
        + "\r\n"
    )
    lines = split_frame(frame)
    assert len(lines) == 3
    assert parse_line(lines[1]).command == "PING"
    assert chat_message(parse_line(lines[2])).text == long_text
