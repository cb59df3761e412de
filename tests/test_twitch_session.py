"""The Twitch IRC session without sockets: raw frames in, items, replies and decisions out."""

from tests.fakes.twitch_irc import privmsg
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.twitch_session import CAPABILITIES, IrcSession


def session(token: str | None = None) -> IrcSession:
    return IrcSession(["lumina"], "justinfan12345", token)


def frame(*lines: str) -> str:
    return "".join(line + "\r\n" for line in lines)


def test_an_anonymous_connection_opens_with_capabilities_nick_and_joins() -> None:
    opening = IrcSession(["lumina", "nova"], "justinfan12345").opening()
    assert opening == [
        f"CAP REQ :{CAPABILITIES}\r\n",
        "NICK justinfan12345\r\n",
        "JOIN #lumina\r\n",
        "JOIN #nova\r\n",
    ]


def test_a_token_is_sent_once_prefixed_before_the_nick() -> None:
    for token in ("abc", "oauth:abc"):
        opening = IrcSession(["lumina"], "mod_anna", token).opening()
        assert opening[1:3] == ["PASS oauth:abc\r\n", "NICK mod_anna\r\n"]


def test_a_ping_is_answered_by_a_reply_not_an_item() -> None:
    received = session().receive(frame("PING :tmi.twitch.tv"))
    assert received.replies == ["PONG :tmi.twitch.tv\r\n"] and received.items == []
    assert not received.reconnect and received.refused is None
    assert session().ping() == "PING :vigile\r\n"


def test_one_frame_gives_its_messages_in_order_and_its_replies() -> None:
    received = session().receive(
        frame(privmsg("lumina", "a", "one", "m1"), "PING :x", privmsg("lumina", "b", "two", "m2"))
    )
    assert [i.text for i in received.items if isinstance(i, ChatMessage)] == ["one", "two"]
    assert received.replies == ["PONG :x\r\n"]


def test_bytes_are_read_as_utf8_and_protocol_chatter_gives_nothing() -> None:
    chatter = frame(
        ":tmi.twitch.tv 001 justinfan1 :Welcome, GLHF!",
        ":justinfan1!justinfan1@justinfan1.tmi.twitch.tv JOIN #lumina",
    )
    assert session().receive(chatter.encode()).items == []
    (said,) = session().receive(frame(privmsg("lumina", "a", "héhé", "m1")).encode()).items
    assert isinstance(said, ChatMessage) and said.text == "héhé"


def test_reconnect_is_a_decision_and_the_rest_of_the_frame_is_still_read() -> None:
    received = session().receive(frame("RECONNECT", privmsg("lumina", "a", "late", "m9")))
    assert received.reconnect
    assert [i.id for i in received.items] == ["m9"]


def test_a_refused_login_carries_twitch_reason_and_ends_the_frame() -> None:
    received = session("bad").receive(
        frame(
            ":tmi.twitch.tv CAP * ACK :twitch.tv/tags",
            ":tmi.twitch.tv NOTICE * :Login authentication failed",
            privmsg("lumina", "a", "never", "m1"),
        )
    )
    assert received.refused == "Login authentication failed" and received.items == []


def test_an_ordinary_notice_is_an_event_not_a_refusal() -> None:
    received = session().receive(
        frame("@msg-id=slow_on :tmi.twitch.tv NOTICE #lumina :This room is now in slow mode.")
    )
    (notice,) = received.items
    assert received.refused is None and notice.kind == "notice"


def test_a_malformed_line_is_recorded_and_the_frame_goes_on() -> None:
    received = session().receive(frame("%%%% nope", privmsg("lumina", "a", "after", "m2")))
    bad, said = received.items
    assert isinstance(bad, PlatformEvent) and bad.kind == "malformed"
    assert bad.data["line"] == "%%%% nope" and bad.channel == "lumina"
    assert isinstance(said, ChatMessage) and said.text == "after"


def test_roomstate_updates_merge_across_frames_and_connections() -> None:
    chat = session()
    chat.receive(
        frame("@emote-only=0;followers-only=-1;room-id=1;slow=0 :tmi.twitch.tv ROOMSTATE #lumina")
    )
    (state,) = chat.receive(frame("@room-id=1;slow=30 :tmi.twitch.tv ROOMSTATE #lumina")).items
    assert state.kind == "roomstate" and state.channel == "lumina"
    assert state.data == {"emote-only": "0", "followers-only": "-1", "slow": "30"}


def test_the_session_does_not_drop_repeats_the_connection_loop_does() -> None:
    chat = session()
    line = frame(privmsg("lumina", "a", "twice", "m1"))
    assert len(chat.receive(line).items) == len(chat.receive(line).items) == 1
