"""The Twitch reader against a local server that speaks Twitch's IRC over WebSocket."""

import asyncio

import pytest

from tests.fakes.twitch_irc import Abrupt, Close, Expect, FakeTwitch, Wait, privmsg
from vigile.connectors.connection import Backoff
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.sources import SourceHub, SourceState
from vigile.connectors.twitch import AuthenticationFailed, TwitchSource


def flood(start: int, stop: int, per_frame: int = 50) -> list[list[str]]:
    lines = [
        privmsg("lumina", f"user{n % 97}", f"message {n}", f"m{n}") for n in range(start, stop)
    ]
    return [lines[i : i + per_frame] for i in range(0, len(lines), per_frame)]


def source(url: str, **kwargs) -> TwitchSource:
    kwargs.setdefault("handover_s", 0.3)
    return TwitchSource(["Lumina"], url=url, backoff=Backoff(first=0.05, most=0.2), **kwargs)


async def collect(twitch: TwitchSource, seconds: float = 20) -> list:
    async def run() -> list:
        return [item async for item in SourceHub([twitch])]

    return await asyncio.wait_for(run(), seconds)


async def test_a_5000_message_flood_arrives_whole_and_in_order() -> None:
    script = [*flood(0, 5_000), "PING :tmi.twitch.tv", Expect("PONG"), Close()]
    async with FakeTwitch([script]) as server:
        twitch = source(server.url)
        items = await collect(twitch)
    ids = [i.id for i in items if isinstance(i, ChatMessage)]
    assert ids == [f"m{n}" for n in range(5_000)]
    sent = server.received[0]
    assert sent[0] == "CAP REQ :twitch.tv/tags twitch.tv/commands twitch.tv/membership"
    assert any(line.startswith("NICK justinfan") for line in sent)
    assert "JOIN #lumina" in sent and "PONG :tmi.twitch.tv" in sent


async def test_reconnect_mid_flood_loses_and_doubles_nothing() -> None:
    first = [*flood(0, 1_000), "RECONNECT"]
    second = [*flood(900, 2_000), Close()]  # the new connection overlaps the old one
    async with FakeTwitch([first, second]) as server:
        items = await collect(source(server.url))
    ids = [i.id for i in items if isinstance(i, ChatMessage)]
    assert ids == [f"m{n}" for n in range(2_000)]
    assert [i.kind for i in items if isinstance(i, PlatformEvent)] == ["reconnect"]
    assert len(server.received) == 2


async def test_reconnect_joins_the_new_connection_before_leaving_the_old_one() -> None:
    # Twitch keeps the old connection open for a while after RECONNECT: what it still sends
    # there must not be lost, and the new connection must be joined before the old one closes.
    first = [*flood(0, 500), "RECONNECT", Wait(0.2), *flood(500, 700), Close()]
    second = [*flood(650, 1_000), Close()]
    async with FakeTwitch([first, second]) as server:
        items = await collect(source(server.url, handover_s=5))
    ids = [i.id for i in items if isinstance(i, ChatMessage)]
    # the two connections are read together: arrival order, each message once
    assert sorted(ids, key=lambda i: int(i[1:])) == [f"m{n}" for n in range(1_000)]
    assert len(set(ids)) == len(ids)
    (moved,) = [i for i in items if isinstance(i, PlatformEvent) and i.kind == "reconnect"]
    assert moved.data["asked_by_server"] is True
    assert "JOIN #lumina" in server.received[1]


async def test_a_dropped_connection_is_retried_and_the_gap_recorded() -> None:
    async with FakeTwitch([[*flood(0, 100), Abrupt()], [*flood(100, 200), Close()]]) as server:
        items = await collect(source(server.url))
    ids = [i.id for i in items if isinstance(i, ChatMessage)]
    assert ids == [f"m{n}" for n in range(200)]
    (gap,) = [i for i in items if isinstance(i, PlatformEvent) and i.kind == "reconnect"]
    assert gap.data["gap_s"] >= 0


async def test_silence_then_no_pong_means_a_dead_connection() -> None:
    # The first server goes silent and never answers our PING: we must move on.
    async with FakeTwitch([[*flood(0, 10), Wait(5)], [*flood(10, 20), Close()]]) as server:
        twitch = source(server.url, ping_after_s=0.2, pong_timeout_s=0.2)
        items = await collect(twitch)
    ids = [i.id for i in items if isinstance(i, ChatMessage)]
    assert ids == [f"m{n}" for n in range(20)]
    assert "PING :vigile" in server.received[0]


async def test_a_refused_login_fails_at_once_with_a_clear_message() -> None:
    async with FakeTwitch([[]], refuse_login=True) as server:
        twitch = source(server.url, token="bad", login="mod_anna")
        hub = SourceHub([twitch])
        items = await asyncio.wait_for(_all(hub), 10)
    (failure,) = [i for i in items if i.kind == "source_failed"]
    assert "Login authentication failed" in failure.data["error"]
    status = hub.statuses()[0]
    assert status.state is SourceState.FAILED and "refused the login" in status.detail
    assert len(server.received) == 1  # no retry loop
    assert "PASS oauth:bad" in server.received[0] and "NICK mod_anna" in server.received[0]


async def _all(hub: SourceHub) -> list:
    return [item async for item in hub]


async def test_malformed_lines_are_recorded_and_the_stream_goes_on() -> None:
    script = [
        [privmsg("lumina", "a", "before", "m1"), "@@@garbage", "", "%%%% nope"],
        privmsg("lumina", "b", "after", "m2"),
        Close(),
    ]
    async with FakeTwitch([script]) as server:
        items = await collect(source(server.url))
    assert [i.text for i in items if isinstance(i, ChatMessage)] == ["before", "after"]
    malformed = [i for i in items if isinstance(i, PlatformEvent) and i.kind == "malformed"]
    assert len(malformed) == 2 and malformed[0].data["line"] == "@@@garbage"


async def test_roomstate_updates_are_merged() -> None:
    script = [
        "@emote-only=0;followers-only=-1;r9k=0;room-id=1;slow=0;subs-only=0 "
        ":tmi.twitch.tv ROOMSTATE #lumina",
        "@room-id=1;slow=30 :tmi.twitch.tv ROOMSTATE #lumina",
        Close(),
    ]
    async with FakeTwitch([script]) as server:
        items = await collect(source(server.url))
    states = [i.data for i in items if isinstance(i, PlatformEvent) and i.kind == "roomstate"]
    assert states[-1]["slow"] == "30" and states[-1]["followers-only"] == "-1"


HOSTILE = "[bold red]x[/bold red] \x1b[2J z̷̢̛a̸l̴g̵o \u202etxet\u202c"


async def test_hostile_text_is_recorded_verbatim(tmp_path) -> None:
    from vigile.filters.rules import load_starter_packs
    from vigile.filters.triage import Triage
    from vigile.replay.pipeline import SessionPlan, run_session
    from vigile.replay.store import SessionStore

    escaped = HOSTILE.replace("\x1b", "\x1b")
    async with FakeTwitch([[privmsg("lumina", "evil", escaped, "h1"), Close()]]) as server:
        plan = SessionPlan("live", "live", [source(server.url)], tmp_path / "s.db")
        await run_session(plan, Triage(load_starter_packs()))
    async with await SessionStore.open(tmp_path / "s.db", readonly=True) as store:
        (stored,) = [s async for s in store.messages()]
    assert stored.message.text == HOSTILE


def test_an_unreachable_server_is_retried_not_fatal() -> None:
    async def run() -> list[str]:
        twitch = source("ws://127.0.0.1:9")  # nothing listens on the discard port
        states = []
        async for item in twitch.stream():
            states.append(getattr(item, "state", None))
            if states.count(SourceState.RECONNECTING) >= 2:
                break
        return states

    states = asyncio.run(run())
    assert states[0] is SourceState.CONNECTING and SourceState.RECONNECTING in states


@pytest.mark.parametrize("token", ["abc", "oauth:abc"])
def test_token_is_sent_once_prefixed(token: str) -> None:
    twitch = TwitchSource(["c"], token=token)
    assert twitch.token.removeprefix("oauth:") == "abc"
    assert isinstance(AuthenticationFailed("x"), RuntimeError)
