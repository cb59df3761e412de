"""YouTube live chat: the shapes YouTube sends, and the reader against a local fake of it."""

import asyncio

import pytest

from tests.fakes import youtube as yt
from tests.fakes.youtube import BadVideo, End, FakeYouTube, HttpError, Stall
from vigile.connectors.connection import Backoff
from vigile.connectors.model import ChatMessage, MessageKind, PlatformEvent, Role
from vigile.connectors.sources import SourceHub, SourceState, StatusChange
from vigile.connectors.youtube import VideoUnavailable, YouTubeSource
from vigile.connectors.youtube_items import InvalidVideo, items_from, parse_amount, video_id

VIDEO = "dQw4w9WgXcQ"


def one(action: dict):
    (item,) = list(items_from(action, VIDEO))
    return item


# -- shapes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        VIDEO,
        f"https://www.youtube.com/watch?v={VIDEO}",
        f"https://www.youtube.com/watch?feature=share&v={VIDEO}&t=42",
        f"https://youtu.be/{VIDEO}?si=abc",
        f"https://www.youtube.com/live/{VIDEO}?feature=shared",
        f"https://youtube.com/shorts/{VIDEO}",
        f"https://m.youtube.com/embed/{VIDEO}",
    ],
)
def test_every_url_form_gives_the_video_id(spec: str) -> None:
    assert video_id(spec) == VIDEO


@pytest.mark.parametrize("spec", ["", "abc", "https://www.youtube.com/channel/UCxyz", "x" * 12])
def test_what_is_not_a_video_is_refused(spec: str) -> None:
    with pytest.raises(InvalidVideo):
        video_id(spec)


def test_a_text_message_with_roles_and_emoji() -> None:
    runs = [{"text": "gg "}, yt.emoji("😀"), {"text": " "}, yt.custom_emoji(":yt:")]
    message = one(
        yt.text_message(runs, author="Modo", msg_id="abc", badges=("moderator", "member"))
    )
    assert isinstance(message, ChatMessage)
    assert (message.platform, message.channel, message.id) == ("youtube", VIDEO, "abc")
    assert message.text == "gg 😀 :yt:"
    assert message.roles == {Role.MODERATOR, Role.SUBSCRIBER}
    assert message.author_name == "Modo" and message.author_id.startswith("UC")
    assert message.sent_at == 1_767_225_600.0 and message.kind is MessageKind.CHAT
    owner = one(yt.text_message("hi", badges=("owner", "verified")))
    assert owner.roles == {Role.BROADCASTER, Role.VERIFIED}


@pytest.mark.parametrize(
    ("shown", "amount", "currency"),
    [
        ("$5.00", 5.0, "USD"),
        ("€10,50", 10.5, "EUR"),
        ("CA$1,000.00", 1000.0, "CAD"),
        ("¥1,000", 1000.0, "JPY"),
        ("1 234,56 €", 1234.56, "EUR"),
        ("CHF\xa020.00", 20.0, "CHF"),
        ("R$ 10,00", 10.0, "BRL"),
    ],
)
def test_paid_amounts_and_currencies(shown: str, amount: float, currency: str) -> None:
    assert parse_amount(shown) == (amount, currency)


def test_super_chat_super_sticker_and_memberships() -> None:
    paid = one(yt.super_chat("€20,00", "merci pour le live"))
    assert (paid.kind, paid.amount, paid.currency, paid.text) == (
        MessageKind.PAID,
        20.0,
        "EUR",
        "merci pour le live",
    )
    silent = one(yt.super_chat("$2.00"))
    assert silent.text == "" and silent.amount == 2.0
    sticker = one(yt.super_sticker("£3.00", label="Dancing cat"))
    assert (sticker.kind, sticker.currency, sticker.text) == (
        MessageKind.PAID,
        "GBP",
        "[sticker: Dancing cat]",
    )
    # a membership is the member's message (judged) and the stream event (recorded)
    welcome, joined = items_from(yt.membership("newbie"), VIDEO)
    assert welcome.kind is MessageKind.NOTICE and welcome.text == ""
    assert welcome.notice == "membership" and welcome.raw["system_message"] == "Welcome to Lumina!"
    assert (joined.kind, joined.data["message_id"]) == ("membership", welcome.id)
    milestone, _ = items_from(
        yt.membership("loyal", milestone="Member for 6 months", text="still here"), VIDEO
    )
    assert (milestone.notice, milestone.text) == ("membership_milestone", "still here")
    assert milestone.raw["system_message"] == "Member for 6 months"
    assert Role.SUBSCRIBER in milestone.roles


def test_deletions_by_id_and_by_author_become_events() -> None:
    for action in (yt.deleted("m-1"), yt.removed("m-1")):
        event = one(action)
        assert (event.kind, event.data["message_id"]) == ("delete", "m-1")
    purge = one(yt.deleted_by_author("UCtroll"))
    assert (purge.kind, purge.data["author_id"]) == ("delete_by_author", "UCtroll")


def test_unknown_and_malformed_actions_become_events_and_quiet_ones_nothing() -> None:
    unknown = one({"clickTrackingParams": "x", "addPollThing": {"a": 1}})
    assert unknown.kind == "unknown" and unknown.data["kind"] == "addPollThing"
    broken = one({"addChatItemAction": {"item": {"liveChatTextMessageRenderer": {"id": "x"}}}})
    assert broken.kind == "malformed" and "authorExternalChannelId" in broken.data["error"]
    strange = one(yt._add("liveChatBrandNewRenderer", {"id": "x"}))
    assert strange.kind == "unknown" and strange.data["kind"] == "liveChatBrandNewRenderer"
    assert list(items_from(yt.ticker("$5.00"), VIDEO)) == []


# -- the reader against the fake ---------------------------------------------------------------


def source(server: FakeYouTube, **kwargs) -> YouTubeSource:
    kwargs.setdefault("backoff", Backoff(first=0.05, most=0.2))
    return YouTubeSource(server.video_id, base_url=server.url, **kwargs)


async def collect(youtube: YouTubeSource, seconds: float = 30) -> list:
    async def run() -> list:
        return [item async for item in SourceHub([youtube])]

    return await asyncio.wait_for(run(), seconds)


def texts(items: list) -> list[str]:
    return [i.text for i in items if isinstance(i, ChatMessage)]


async def test_long_pages_arrive_whole_and_in_order_then_the_chat_ends() -> None:
    pages = [[yt.text_message(f"message {p * 400 + n}") for n in range(400)] for p in range(3)]
    async with FakeYouTube([*pages, End()]) as server:
        youtube = source(server)
        hub = SourceHub([youtube])
        items = await asyncio.wait_for(_drain(hub), 30)
    assert texts(items) == [f"message {n}" for n in range(1_200)]
    (status,) = hub.statuses()
    assert status.state is SourceState.ENDED and "ended" in status.detail


async def _drain(hub: SourceHub) -> list:
    return [item async for item in hub]


async def test_every_shape_is_read_and_moderation_actions_are_recorded() -> None:
    page = [
        yt.text_message("bonjour", msg_id="keep"),
        yt.text_message("insulte", msg_id="gone", author="troll"),
        yt.super_chat("€5,00", "c'est combien la livraison ?"),
        yt.super_sticker("$1.00"),
        yt.membership(),
        yt.deleted("gone"),
        yt.deleted_by_author("UCtroll_________________"[:24]),
        yt.ticker("€5,00"),
        {"someNewAction": {}},
        {"addChatItemAction": {"item": {"liveChatTextMessageRenderer": {"id": "broken"}}}},
        yt.text_message("after the broken one"),
    ]
    async with FakeYouTube([page, End()]) as server:
        items = await collect(source(server))
    kinds = [i.kind for i in items if isinstance(i, PlatformEvent)]
    assert kinds == ["membership", "delete", "delete_by_author", "unknown", "malformed"]
    assert texts(items)[-1] == "after the broken one" and len(texts(items)) == 6


async def test_a_500_and_a_stall_restart_from_the_last_continuation_with_gaps_recorded() -> None:
    steps = [
        [yt.text_message("one")],
        HttpError(500),
        [yt.text_message("two")],
        Stall(5),
        [yt.text_message("three")],
        End(),
    ]
    async with FakeYouTube(steps) as server:
        youtube = source(server, request_timeout_s=0.5)
        items = await collect(youtube)
    assert texts(items) == ["one", "two", "three"]
    gaps = [i for i in items if isinstance(i, PlatformEvent) and i.kind == "reconnect"]
    assert len(gaps) == 2 and all(g.data["gap_s"] > 0 for g in gaps)
    # each fault was retried from the continuation that had failed, never from the start
    assert server.served[1:] == ["c1", "c1", "c2", "c3", "c3", "c4", "c5"]


async def test_broken_json_is_recorded_and_the_poll_goes_on() -> None:
    async with FakeYouTube([[yt.text_message("a")], "{not json", End()]) as server:
        items = await collect(source(server))
    assert [i.kind for i in items if isinstance(i, PlatformEvent)] == ["malformed", "reconnect"]
    assert texts(items) == ["a"]


async def test_a_video_without_live_chat_fails_with_a_clear_message() -> None:
    async with FakeYouTube([BadVideo()]) as server:
        youtube = source(server)

        async def read() -> None:
            async for item in youtube.stream():
                assert isinstance(item, StatusChange)

        with pytest.raises(VideoUnavailable, match="no live chat to read"):
            await asyncio.wait_for(read(), 20)


async def test_hostile_text_is_kept_verbatim() -> None:
    hostile = "[bold red]x[/bold red] \x1b[2J \u202eevil z\u0336\u0337\u0338"
    async with FakeYouTube([[yt.text_message(hostile)], End()]) as server:
        items = await collect(source(server))
    assert texts(items) == [hostile]
