import asyncio
from collections.abc import AsyncIterator

from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.sources import SourceHub, SourceState, StatusChange


def message(source: str, n: int) -> ChatMessage:
    return ChatMessage(
        "twitch", source.split(":")[-1], f"{source}-{n}", "a", "A", f"msg {n}", sent_at=float(n)
    )


class ListSource:
    def __init__(self, name: str, count: int, fail_after: int | None = None) -> None:
        self.name, self.count, self.fail_after = name, count, fail_after
        self.produced = 0

    async def stream(self) -> AsyncIterator[ChatMessage | StatusChange]:
        yield StatusChange(SourceState.CONNECTING, "dialling")
        for n in range(self.count):
            if self.fail_after is not None and n == self.fail_after:
                raise ConnectionError("socket closed by peer")
            self.produced += 1
            yield message(self.name, n)


async def test_fan_in_delivers_everything_in_per_source_order() -> None:
    sources = [ListSource("twitch:a", 300), ListSource("twitch:b", 200)]
    hub = SourceHub(sources, maxsize=16)
    seen: dict[str, list[int]] = {"a": [], "b": []}
    async for item in hub:
        assert isinstance(item, ChatMessage)
        seen[item.channel.split(":")[-1]].append(int(item.id.split("-")[1]))
    assert seen == {"a": list(range(300)), "b": list(range(200))}
    assert {s.name: (s.state, s.messages) for s in hub.statuses()} == {
        "twitch:a": (SourceState.ENDED, 300),
        "twitch:b": (SourceState.ENDED, 200),
    }


async def test_a_full_queue_blocks_the_source_instead_of_dropping() -> None:
    source = ListSource("twitch:fast", 1_000)
    hub = SourceHub([source], maxsize=10)
    stream = hub.__aiter__()
    first = await anext(stream)
    await asyncio.sleep(0.05)  # the producer runs as far as it can while we do not consume
    assert hub.depth <= hub.maxsize
    assert source.produced <= hub.maxsize + 2  # blocked on the full queue, not racing ahead
    rest = [item async for item in stream]
    assert len(rest) + 1 == 1_000 and first.id == "twitch:fast-0"


async def test_a_failing_source_is_reported_and_the_others_go_on() -> None:
    hub = SourceHub([ListSource("twitch:ok", 50), ListSource("twitch:bad", 50, fail_after=5)])
    items = [item async for item in hub]
    failures = [i for i in items if isinstance(i, PlatformEvent)]
    assert len(failures) == 1 and failures[0].kind == "source_failed"
    assert "socket closed by peer" in failures[0].data["error"]
    status = {s.name: s for s in hub.statuses()}
    assert status["twitch:bad"].state is SourceState.FAILED
    assert "socket closed" in status["twitch:bad"].detail
    assert status["twitch:ok"].messages == 50 and status["twitch:ok"].state is SourceState.ENDED


async def test_status_changes_are_kept_not_forwarded() -> None:
    class Reconnecting:
        name = "twitch:r"

        async def stream(self):
            yield StatusChange(SourceState.RECONNECTING, "gap 2.0 s")
            await asyncio.sleep(0.05)

    hub = SourceHub([Reconnecting()])
    stream = hub.__aiter__()
    task = asyncio.ensure_future(anext(stream, None))
    await asyncio.sleep(0.01)
    assert hub.statuses()[0].state is SourceState.RECONNECTING
    assert hub.statuses()[0].detail == "gap 2.0 s"
    assert await task is None


async def test_stop_cancels_running_sources() -> None:
    class Endless:
        name = "twitch:endless"

        async def stream(self):
            n = 0
            while True:
                n += 1
                yield message("endless", n)
                await asyncio.sleep(0)

    hub = SourceHub([Endless()], maxsize=5)
    async for _ in hub:
        break
    await hub.stop()
    assert hub.statuses()[0].state is SourceState.ENDED
    assert hub.statuses()[0].detail == "stopped"


def test_source_names_must_be_unique() -> None:
    import pytest

    with pytest.raises(ValueError, match="unique"):
        SourceHub([ListSource("twitch:a", 1), ListSource("twitch:a", 1)])
