"""The connection loop both readers share: backoff, error classes, status, gaps and repeats."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect

from tests.fakes.twitch_irc import Abrupt, Close, FakeTwitch, privmsg
from vigile.connectors.connection import (
    LIVE,
    Backoff,
    ConnectionLoop,
    Fatal,
    Moved,
    Retry,
    SeenIds,
)
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.sources import SourceState, StatusChange
from vigile.connectors.twitch import classify
from vigile.connectors.twitch_session import IrcSession


def said(message_id: str) -> ChatMessage:
    return ChatMessage("test", "room", message_id, "a1", "Anna", f"text {message_id}", 0.0)


class Lost(Exception):
    """A failure the test's classifier calls retryable."""


class Refused(Exception):
    """A failure the test's classifier calls fatal."""


def judge(exc: Exception) -> Retry | Fatal | None:
    if isinstance(exc, Lost):
        return Retry(f"lost: {exc}")
    if isinstance(exc, Refused):
        return Fatal(exc)
    return None


def loop(**kwargs) -> ConnectionLoop:
    kwargs.setdefault("classify", judge)
    kwargs.setdefault("backoff", Backoff(first=0.01, most=0.02))
    return ConnectionLoop(
        platform="test", channel="room", name="test:room", where="ws://somewhere", **kwargs
    )


def scripted(*runs: list) -> tuple[list[int], object]:
    """Connection n plays runs[n]: values to yield, an exception to raise at that point."""
    opened: list[int] = []

    async def connection() -> AsyncIterator:
        opened.append(len(opened))
        for value in runs[len(opened) - 1]:
            if isinstance(value, Exception):
                raise value
            yield value

    return opened, connection


async def everything(stream: AsyncIterator) -> list:
    return [item async for item in stream]


def states(items: list) -> list[tuple[SourceState, str]]:
    return [(i.state, i.detail) for i in items if isinstance(i, StatusChange)]


async def test_a_lost_connection_is_retried_the_gap_recorded_and_repeats_dropped() -> None:
    opened, connection = scripted(
        [LIVE, said("m1"), said("m2"), Lost("reset")],
        [LIVE, said("m2"), said("m3")],  # the restart repeats what was already delivered
    )
    items = await everything(loop().run(connection))
    assert [i.id for i in items if isinstance(i, ChatMessage)] == ["m1", "m2", "m3"]
    assert states(items) == [
        (SourceState.CONNECTING, "ws://somewhere"),
        (SourceState.LIVE, ""),
        (SourceState.RECONNECTING, "lost: reset"),
        (SourceState.RECONNECTING, "ws://somewhere"),
        (SourceState.LIVE, ""),
    ]
    (gap,) = [i for i in items if isinstance(i, PlatformEvent)]
    assert gap.kind == "reconnect" and gap.data == {"gap_s": gap.data["gap_s"]}
    assert gap.data["gap_s"] >= 0 and len(opened) == 2


async def test_the_gap_event_comes_once_the_connection_is_good_again() -> None:
    _, connection = scripted([LIVE, Lost("a")], [Lost("b")], [said("early"), LIVE, said("m")])
    items = await everything(loop().run(connection))
    kinds = [getattr(i, "kind", None) or getattr(i, "state", None) for i in items]
    assert kinds.index("reconnect") == kinds.index(SourceState.LIVE, 2) - 1
    assert kinds.count("reconnect") == 1  # one gap, however many attempts it took


async def test_backoff_grows_while_failing_and_resets_once_live() -> None:
    backoff = Backoff(first=0.001, most=0.004)
    _, connection = scripted([Lost("1")], [Lost("2")], [Lost("3")], [LIVE])
    await everything(loop(backoff=backoff).run(connection))
    assert backoff.attempt == 0


async def test_a_retry_may_record_an_event_before_waiting() -> None:
    bad = PlatformEvent("test", "room", "malformed", data={"error": "odd page"})

    def with_event(exc: Exception) -> Retry | None:
        return Retry("odd page", bad) if isinstance(exc, Lost) else None

    _, connection = scripted([Lost("x")], [LIVE])
    items = await everything(loop(classify=with_event).run(connection))
    at = items.index(bad)
    assert items[at + 1] == StatusChange(SourceState.RECONNECTING, "odd page")


async def test_a_fatal_failure_fails_the_source_and_is_raised() -> None:
    opened, connection = scripted([Refused("wrong password")], [LIVE])
    seen: list = []
    with pytest.raises(Refused, match="wrong password"):
        async for item in loop().run(connection):
            seen.append(item)
    assert states(seen)[-1] == (SourceState.FAILED, "wrong password")
    assert len(opened) == 1  # no retry


async def test_a_fatal_failure_may_be_told_as_another_error() -> None:
    def replaced(exc: Exception) -> Fatal:
        return Fatal(LookupError(f"nothing to read ({exc})"))

    _, connection = scripted([Refused("gone")])
    with pytest.raises(LookupError, match="nothing to read") as raised:
        await everything(loop(classify=replaced).run(connection))
    assert isinstance(raised.value.__cause__, Refused)


async def test_an_error_nobody_classified_is_raised_as_is() -> None:
    _, connection = scripted([LIVE, ZeroDivisionError("bug")])
    with pytest.raises(ZeroDivisionError):
        await everything(loop().run(connection))


async def test_a_move_the_server_asked_for_is_recorded_as_such() -> None:
    _, connection = scripted([LIVE, said("m1"), Moved(since=0.0), said("m1"), said("m2")])
    items = await everything(loop(tell_who_asked=True).run(connection))
    (moved,) = [i for i in items if isinstance(i, PlatformEvent)]
    assert moved.kind == "reconnect" and moved.data["asked_by_server"] is True
    assert [i.id for i in items if isinstance(i, ChatMessage)] == ["m1", "m2"]


async def test_closing_the_stream_closes_the_connection() -> None:
    closed = asyncio.Event()

    async def connection() -> AsyncIterator:
        try:
            yield LIVE
            yield said("m1")
            await asyncio.sleep(60)
        finally:
            closed.set()

    async with contextlib.aclosing(loop().run(connection)) as stream:
        async for item in stream:
            if isinstance(item, ChatMessage):
                break
    assert closed.is_set()


def test_backoff_is_exponential_jittered_and_capped() -> None:
    backoff = Backoff(first=1.0, most=8.0)
    delays = [backoff.next() for _ in range(6)]
    for delay, ceiling in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next() <= 1.0


def test_seen_ids_remember_the_latest_only() -> None:
    seen = SeenIds(most=3)
    assert [seen.repeated(i) for i in "abca"] == [False, False, False, True]
    seen.repeated("d")  # pushes out the oldest, "a"
    assert not seen.repeated("a") and seen.repeated("d")


async def test_the_loop_over_a_real_socket_reconnects_after_an_abrupt_drop() -> None:
    # The loop around a bare IRC connection to the fake: a dropped TCP connection is a real
    # network error, classified as Twitch's reader does; the second connection repeats some.
    first = [[privmsg("lumina", "a", f"n{n}", f"m{n}") for n in range(0, 50)], Abrupt()]
    second = [[privmsg("lumina", "b", f"n{n}", f"m{n}") for n in range(40, 80)], Close()]
    chat = IrcSession(["lumina"], "justinfan1")

    async def connection() -> AsyncIterator:
        async with connect(server.url) as ws:
            for line in chat.opening():
                await ws.send(line)
            yield LIVE
            async for frame in ws:
                for item in chat.receive(frame).items:
                    yield item

    async with FakeTwitch([first, second]) as server:
        reader = loop(classify=classify).run(connection)
        items = await asyncio.wait_for(everything(reader), 20)
    assert [i.id for i in items if isinstance(i, ChatMessage)] == [f"m{n}" for n in range(80)]
    assert [i.kind for i in items if isinstance(i, PlatformEvent)] == ["reconnect"]
    assert len(server.received) == 2
