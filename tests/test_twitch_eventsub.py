"""Twitch's EventSub over WebSocket, against local fakes of the EventSub server and of Helix."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from tests.fakes import twitch_eventsub as es
from tests.fakes.helix import ALL_SCOPES, MOD_TOOLS_SCOPES, Account, FakeHelix
from vigile.connectors.connection import Backoff
from vigile.connectors.eventsub_events import (
    AutoModHold,
    ModeratorAction,
    SuspiciousUser,
    UnbanRequest,
    read_event,
)
from vigile.connectors.eventsub_frames import Malformed, Notification, Welcome, read_frame
from vigile.connectors.model import PlatformEvent
from vigile.connectors.twitch_auth import TwitchCredentials, use_base_url
from vigile.connectors.twitch_eventsub import EventSubSource
from vigile.connectors.twitch_mod import TwitchModerator
from vigile.connectors.twitch_tools import TwitchTools

FULL = Account("2", "modo", scopes=ALL_SCOPES + MOD_TOOLS_SCOPES)
SUBSCRIPTIONS = 9  # two per feature, one for the mod log


_STARTED: list[TwitchModerator] = []


@pytest.fixture
async def helix():
    async with FakeHelix() as server:
        use_base_url(server.url)
        yield server
        while _STARTED:
            await _STARTED.pop().close()
    use_base_url(None)


async def tools_for(helix: FakeHelix, account: Account = FULL) -> TwitchTools:
    token, refresh = helix.grant(account)
    moderator = TwitchModerator(TwitchCredentials(helix.client_id, token, refresh))
    _STARTED.append(moderator)
    await moderator.start()
    return TwitchTools(moderator)


async def collect(source: EventSubSource, until, within_s: float = 10.0) -> list[PlatformEvent]:
    """The source's events until `until(events)` holds (then the source is stopped)."""
    events: list[PlatformEvent] = []
    stream = source.stream()
    try:
        async with asyncio.timeout(within_s):
            async for item in stream:
                if isinstance(item, PlatformEvent):
                    events.append(item)
                    if until(events):
                        break
    finally:
        await stream.aclose()
    return events


def kinds(events: list[PlatformEvent]) -> list[str]:
    return [e.kind for e in events]


def count(kind: str, n: int = 1):
    return lambda events: sum(e.kind == kind for e in events) >= n


# -- frames, sans I/O -----------------------------------------------------------------------------


def test_frames_are_typed_and_bad_ones_are_values() -> None:
    welcome = read_frame(
        json.dumps(
            {
                "metadata": {"message_id": "a", "message_type": "session_welcome"},
                "payload": {"session": {"id": "S1", "keepalive_timeout_seconds": 12}},
            }
        )
    )
    assert welcome == Welcome("S1", 12.0)
    note = read_frame(
        json.dumps(
            {
                "metadata": {
                    "message_id": "m1",
                    "message_type": "notification",
                    "message_timestamp": "2026-01-01T00:00:00.0Z",
                    "subscription_type": "channel.moderate",
                    "subscription_version": "2",
                },
                "payload": {"subscription": {}, "event": {"action": "clear"}},
            }
        )
    )
    assert isinstance(note, Notification) and note.subscription_type == "channel.moderate"
    for bad in (
        "{not json",
        "[1]",
        '{"metadata": {}}',
        b"\xff\xfe",
        '{"metadata": {"message_type": "x"}, "payload": {}}',
    ):
        frame = read_frame(bad)
        assert isinstance(frame, Malformed), bad
        assert frame.reason


# -- the client against the fakes ----------------------------------------------------------------


async def test_welcome_subscribes_within_the_window_and_notifications_become_typed_events(
    helix,
) -> None:
    hold = es.automod_hold("held-1", "you are a clown", category="bullying", level=2)
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("automod.message.hold", hold, version="2"),
        es.Notify("channel.moderate", es.moderate("ban", reason="spam bot"), version="2"),
        es.Notify("channel.suspicious_user.message", es.suspicious_message("s-1", "hi again")),
        es.Notify("channel.unban_request.create", es.unban_request("u-1", "sorry")),
        es.Notify("channel.shield_mode.begin", es.shield(True)),
    ]
    async with es.FakeEventSub([script], unused_after_s=3) as server:
        helix.eventsub = server
        source = EventSubSource("lumina", await tools_for(helix), url=server.url)
        events = await collect(source, count("shield_mode_begin"))
    session = server.connections[0].session_id
    made = server.subscriptions[session]
    assert {(s["type"], s["version"]) for s in made} >= {
        ("automod.message.hold", "2"),
        ("channel.moderate", "2"),
        ("channel.unban_request.resolve", "1"),
    }
    assert all(
        s["condition"] == {"broadcaster_user_id": "1", "moderator_user_id": "2"} for s in made
    )
    assert "eventsub_unavailable" not in kinds(events)
    ready = next(e for e in events if e.kind == "eventsub_ready")
    assert ready.data["features"] == ["automod", "modlog", "shield", "suspicious", "unban"]
    held = read_event(next(e for e in events if e.kind == "automod_hold"), AutoModHold)
    assert held == AutoModHold(
        "held-1", "666", "troll", "Troll", "you are a clown", "automod", "bullying", 2
    )
    assert held.why == "bullying (level 2)"
    ban = read_event(next(e for e in events if e.kind == "moderate"), ModeratorAction)
    assert (ban.action, ban.moderator_login, ban.target_login, ban.reason) == (
        "ban",
        "othermod",
        "troll",
        "spam bot",
    )
    sus = read_event(next(e for e in events if e.kind == "suspicious_message"), SuspiciousUser)
    assert sus.marked and sus.message_id == "s-1"
    assert (
        sus.why
        == "restricted (ban evader detector, likely ban evader, banned in 2 other channel(s))"
    )
    req = read_event(next(e for e in events if e.kind == "unban_request"), UnbanRequest)
    assert (req.request_id, req.user_login, req.text, req.status) == (
        "u-1",
        "troll",
        "sorry",
        "pending",
    )
    # Twitch's own payload is kept whole beside the typed fields (the archive keeps raw data)
    assert (
        next(e for e in events if e.kind == "moderate").data["event"]["ban"]["reason"] == "spam bot"
    )


async def test_blocked_term_hold_names_the_term_as_written() -> None:
    from vigile.connectors.eventsub_events import to_event

    event = es.automod_hold("h", "buy f0llowers now", blocked=(4, 12))
    note = Notification("m", "automod.message.hold", "2", "", event)
    hold = read_event(to_event(note, "lumina"), AutoModHold)
    assert hold.reason == "blocked_term" and hold.terms == ("f0llowers",)
    assert hold.why == "blocked term: f0llowers"


async def test_reconnect_hands_over_without_losing_or_repeating_a_notification(helix) -> None:
    """Make before break: what the old connection says after session_reconnect is kept, what
    both connections deliver is kept once, and nothing is subscribed again."""
    mod = es.moderate
    old = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("channel.moderate", mod("ban"), message_id="n-1", version="2"),
        es.MoveSession(),
        es.Notify("channel.moderate", mod("timeout"), message_id="n-2", version="2"),
        es.Notify("channel.moderate", mod("warn"), message_id="n-3", version="2"),
    ]
    new = [
        es.Notify("channel.moderate", mod("warn"), message_id="n-3", version="2"),  # again
        es.Notify("channel.moderate", mod("unban"), message_id="n-4", version="2"),
    ]
    async with es.FakeEventSub([old, new]) as server:
        helix.eventsub = server
        source = EventSubSource("lumina", await tools_for(helix), url=server.url)
        events = await collect(source, count("moderate", 4))
        await asyncio.sleep(0.2)  # nothing more (no fifth, repeated, notification) arrives
    actions = [read_event(e, ModeratorAction).action for e in events if e.kind == "moderate"]
    assert actions == ["ban", "timeout", "warn", "unban"]
    assert len(server.connections) == 2
    assert server.connections[0].session_id == server.connections[1].session_id
    assert len(server.subscriptions[server.connections[0].session_id]) == SUBSCRIPTIONS
    moved = next(e for e in events if e.kind == "reconnect")
    assert moved.data["asked_by_server"] is True


async def test_a_silent_connection_is_left_and_a_new_session_subscribes_again(helix) -> None:
    first = [es.AwaitSubscriptions(SUBSCRIPTIONS), es.Silence(), es.Wait(30)]
    second = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("channel.moderate", es.moderate("clear", target=None), version="2"),
    ]
    async with es.FakeEventSub([first, second], keepalive_s=1) as server:
        helix.eventsub = server
        source = EventSubSource(
            "lumina",
            await tools_for(helix),
            url=server.url,
            backoff=Backoff(0.01, 0.05),
            keepalive_grace_s=0.3,
        )
        events = await collect(source, count("moderate"))
    assert len(server.connections) == 2
    assert server.connections[0].session_id != server.connections[1].session_id
    assert len(server.subscriptions[server.connections[1].session_id]) == SUBSCRIPTIONS
    gap = next(e for e in events if e.kind == "reconnect")
    assert gap.data["asked_by_server"] is False


async def test_revocation_is_recorded_and_turns_the_feature_off(helix) -> None:
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Revoke("automod.message.hold", "authorization_revoked", version="2"),
        es.Notify("channel.moderate", es.moderate("ban"), version="2"),
    ]
    async with es.FakeEventSub([script]) as server:
        helix.eventsub = server
        source = EventSubSource("lumina", await tools_for(helix), url=server.url)
        events = await collect(source, count("moderate"))
    revoked = next(e for e in events if e.kind == "eventsub_revoked")
    assert revoked.data["feature"] == "automod"
    assert revoked.data["status"] == "authorization_revoked"
    assert "authorization_revoked" in revoked.data["reason"]
    assert ("automod.message.hold", "2") not in source.wanted  # not made again on a new session


async def test_malformed_frames_are_events_and_the_session_goes_on(helix) -> None:
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Raw("{this is not json"),
        es.Raw(json.dumps({"metadata": {"message_type": "notification"}, "payload": {}})),
        es.Raw(
            json.dumps(
                {
                    "metadata": {
                        "message_id": "odd",
                        "message_type": "notification",
                        "subscription_type": "automod.message.hold",
                        "subscription_version": "2",
                    },
                    "payload": {"event": {"message": 5, "automod": "x"}},
                }
            )
        ),
        es.Notify("channel.moderate", es.moderate("ban"), version="2"),
    ]
    async with es.FakeEventSub([script]) as server:
        helix.eventsub = server
        source = EventSubSource("lumina", await tools_for(helix), url=server.url)
        events = await collect(source, count("moderate"))
    bad = [e for e in events if e.kind == "eventsub_malformed"]
    assert len(bad) == 3
    assert "not JSON" in bad[0].data["reason"] and bad[0].data["frame"] == "{this is not json"
    assert "unexpected shape" in bad[2].data["reason"]


async def test_without_a_scope_each_feature_says_what_it_needs(helix) -> None:
    only_automod = Account("2", "modo", scopes=(*ALL_SCOPES, "moderator:manage:automod"))
    script = [
        es.AwaitSubscriptions(2),
        es.Notify("automod.message.hold", es.automod_hold("h", "x"), version="2"),
    ]
    async with es.FakeEventSub([script]) as server:
        helix.eventsub = server
        source = EventSubSource("lumina", await tools_for(helix, only_automod), url=server.url)
        events = await collect(source, count("automod_hold"))
    off = {e.data["feature"]: e.data["reason"] for e in events if e.kind == "eventsub_unavailable"}
    assert set(off) == {"shield", "suspicious", "modlog", "unban"}
    assert off["suspicious"] == "needs moderator:read:suspicious_users; run vigile login twitch"
    assert "moderator:read:vips" in off["modlog"]
    assert [s["type"] for s in server.subscriptions[server.connections[0].session_id]] == [
        "automod.message.hold",
        "automod.message.update",
    ]


async def test_a_refused_subscription_turns_its_feature_off_with_twitchs_reason(helix) -> None:
    """A token that claims a scope Twitch does not honour for this channel: 403 from Helix."""
    helix.moderators["1"] = set()  # modo is no longer a moderator of lumina
    async with es.FakeEventSub([[]], unused_after_s=0.5) as server:
        helix.eventsub = server
        source = EventSubSource(
            "lumina", await tools_for(helix), url=server.url, backoff=Backoff(5, 5)
        )
        events = await collect(source, count("eventsub_ready"))
    off = [e for e in events if e.kind == "eventsub_unavailable"]
    assert len(off) == 5
    assert all("HTTP 403" in e.data["reason"] for e in off)
    assert "subscription missing proper authorization" in off[0].data["reason"]


async def test_a_token_that_failed_to_start_says_so_once(helix) -> None:
    moderator = TwitchModerator(TwitchCredentials(helix.client_id, "not-a-token", ""))
    with contextlib.suppress(Exception):
        await moderator.start()
    source = EventSubSource("lumina", TwitchTools(moderator), url="ws://127.0.0.1:9")
    events = await collect(source, lambda e: False)
    assert kinds(events) == ["eventsub_unavailable"]
    assert events[0].data["feature"] == "all"


async def test_login_asks_for_the_scopes_of_twitchs_own_tools(helix) -> None:
    from vigile.connectors.twitch_auth import device_login

    def show(url: str, code: str) -> None:
        asyncio.get_running_loop().call_later(0.2, helix.approve, FULL)

    await device_login(helix.client_id, show, timeout_s=20)
    asked = repr(helix.requests[0]["query"])
    for scope in MOD_TOOLS_SCOPES:
        assert scope in asked, scope


# -- acting through Helix -----------------------------------------------------------------------


def act(kind, **kwargs):
    from vigile.connectors.model import ModAction

    base = {"platform": "twitch", "channel": "lumina", "moderator": "modo"}
    return ModAction(kind=kind, **{**base, **kwargs})


async def test_held_messages_shield_mode_and_unban_requests_are_acted_on(helix) -> None:
    from vigile.connectors.model import ActionKind, ActionResult

    tools = await tools_for(helix)
    helix.held["h-1"] = es.automod_hold("h-1", "x")
    helix.held["h-2"] = es.automod_hold("h-2", "y")
    allowed = await tools.resolve_automod(act(ActionKind.AUTOMOD_ALLOW), "666", "h-1")
    denied = await tools.resolve_automod(act(ActionKind.AUTOMOD_DENY), "666", "h-2")
    assert (allowed.result, denied.result) == (ActionResult.OK, ActionResult.OK), denied.detail
    assert helix.automod_decisions == [
        {"msg_id": "h-1", "action": "ALLOW"},
        {"msg_id": "h-2", "action": "DENY"},
    ]
    again = await tools.resolve_automod(act(ActionKind.AUTOMOD_ALLOW), "666", "h-1")
    assert again.result is ActionResult.FAILED and "not found" in again.detail
    on = await tools.shield_mode(act(ActionKind.SHIELD_MODE), True)
    assert on.result is ActionResult.OK and helix.shield == {"1": True}
    off = await tools.shield_mode(act(ActionKind.SHIELD_MODE), False)
    assert off.detail == "Shield Mode off in #lumina" and helix.shield == {"1": False}
    helix.unban_requests["u-1"] = es.unban_request("u-1", "sorry")
    done = await tools.resolve_unban_request(act(ActionKind.UNBAN_DENY), "u-1", "not yet")
    assert done.result is ActionResult.OK, done.detail
    assert helix.unban_requests["u-1"]["status"] == "denied"
    assert helix.unban_requests["u-1"]["resolution_text"] == "not yet"


async def test_acts_without_their_scope_say_what_they_need_and_twitch_refusals_are_explained(
    helix,
) -> None:
    from vigile.connectors.model import ActionKind, ActionResult

    tools = await tools_for(helix, Account("2", "modo", scopes=ALL_SCOPES))
    held = await tools.resolve_automod(act(ActionKind.AUTOMOD_ALLOW), "666", "h-1")
    assert held.result is ActionResult.FAILED
    assert "moderator:manage:automod" in held.detail and "vigile login twitch" in held.detail
    assert not helix.automod_decisions  # nothing was sent
    # The token claims the scope, Twitch says it does not have it: its 401, explained.
    tools.moderator.scopes = tools.moderator.scopes | {"moderator:manage:shield_mode"}
    refused = await tools.shield_mode(act(ActionKind.SHIELD_MODE), True)
    assert refused.result is ActionResult.FAILED
    assert "Missing scope: moderator:manage:shield_mode" in refused.detail
    assert "vigile login twitch" in refused.detail


async def test_watch_reads_twitchs_events_only_with_a_token_and_takes_the_test_hook(helix) -> None:
    from vigile.connectors.actions import Moderation
    from vigile.tui.accounts import eventsub_sources
    from vigile.tui.cli import build_parser

    args = build_parser().parse_args(
        ["watch", "twitch:lumina", "youtube:dQw4w9WgXcQ", "--eventsub-url", "ws://127.0.0.1:9/ws"]
    )
    assert args.eventsub_url == "ws://127.0.0.1:9/ws"
    without = Moderation(missing={"twitch": "no token"})
    assert eventsub_sources(without, args.sources, args.eventsub_url) == []
    tools = await tools_for(helix)
    with_token = Moderation(moderators={"twitch": tools.moderator})
    (source,) = eventsub_sources(with_token, args.sources, args.eventsub_url)
    assert (source.name, source.url) == ("twitch-eventsub:lumina", "ws://127.0.0.1:9/ws")


async def test_where_twitch_offers_no_v2_the_v1_subscription_is_made_and_read(helix) -> None:
    helix.without_v2 = {"automod.message.hold", "automod.message.update"}
    v1_hold = {  # automod.message.hold v1: category and level at the top, no blocked terms
        **es.BROADCASTER,
        "user_id": "666",
        "user_login": "troll",
        "user_name": "Troll",
        "message_id": "h-1",
        "message": {"text": "you clown", "fragments": []},
        "category": "bullying",
        "level": 4,
        "held_at": "2026-01-01T00:00:00Z",
    }
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("automod.message.hold", v1_hold, version="1"),
    ]
    async with es.FakeEventSub([script]) as server:
        helix.eventsub = server
        source = EventSubSource("lumina", await tools_for(helix), url=server.url)
        events = await collect(source, count("automod_hold"))
    made = {
        (s["type"], s["version"]) for s in server.subscriptions[server.connections[0].session_id]
    }
    assert ("automod.message.hold", "1") in made and ("channel.moderate", "2") in made
    assert "eventsub_unavailable" not in kinds(events)
    hold = read_event(next(e for e in events if e.kind == "automod_hold"), AutoModHold)
    assert (hold.category, hold.level, hold.why) == ("bullying", 4, "bullying (level 4)")
