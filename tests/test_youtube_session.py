"""The YouTube poll without HTTP: the endpoint's answers in, items and the next poll out."""

import json

from tests.fakes import youtube as yt
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.youtube_session import BadPage, Ended, LiveChatSession, NoChat, Page

VIDEO = "dQw4w9WgXcQ"


def started(longest_wait_s: float = 5.0) -> LiveChatSession:
    session = LiveChatSession(VIDEO, longest_wait_s)
    session.start(yt.CHANNEL_ID)
    return session


def body(actions: list, continuation: str = "c1", timeout_ms: int = 50) -> bytes:
    return json.dumps(yt._page(actions, continuation, timeout_ms)).encode()


def test_the_first_poll_asks_for_a_continuation_built_from_the_video_and_channel() -> None:
    session = LiveChatSession(VIDEO)
    assert not session.started
    session.start(yt.CHANNEL_ID)
    assert session.started
    assert session.request()["continuation"] == session.continuation


def test_a_page_gives_its_items_in_order_and_the_next_poll() -> None:
    session = started()
    page = session.receive(body([yt.text_message("one"), yt.deleted("x"), yt.text_message("two")]))
    assert isinstance(page, Page) and page.wait_s == 0.05
    assert [i.text for i in page.items if isinstance(i, ChatMessage)] == ["one", "two"]
    assert [i.kind for i in page.items if isinstance(i, PlatformEvent)] == ["delete"]
    assert session.continuation == "c1" and session.request()["continuation"] == "c1"


def test_the_wait_youtube_asks_for_is_capped() -> None:
    page = started(longest_wait_s=2.0).receive(body([], timeout_ms=10_000))
    assert isinstance(page, Page) and page.wait_s == 2.0


def test_a_page_without_continuation_is_the_last_one() -> None:
    answer = yt._page([yt.text_message("bye")], "", 50)
    page = started().receive(json.dumps(answer))
    assert isinstance(page, Page) and page.wait_s is None and len(page.items) == 1


def test_the_end_of_the_chat() -> None:
    answer = {"responseContext": {"visitorData": "Cgt2aXNpdG9y"}}
    assert started().receive(json.dumps(answer)) == Ended()


def test_a_video_without_chat() -> None:
    answer = {"responseContext": {"errors": {"error": [{"code": "invalid"}]}}}
    outcome = started().receive(json.dumps(answer))
    assert isinstance(outcome, NoChat) and "private" in outcome.reason


def test_pages_that_make_no_sense_keep_the_last_good_continuation() -> None:
    session = started()
    session.receive(body([], "c4"))
    for answer in ("{not json", "[1, 2]", json.dumps({"continuationContents": {}})):
        outcome = session.receive(answer)
        assert isinstance(outcome, BadPage), answer
        assert session.continuation == "c4"
    assert session.receive("{not json").reason.startswith("JSONDecodeError: ")
    assert "not an object" in session.receive("[1, 2]").reason
