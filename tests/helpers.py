"""Helpers the test modules share: a hand-fed source, a desk, pilot waits, a team hub in process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import SessionPlan
from vigile.replay.store import SessionStore
from vigile.team.client import TeamLink
from vigile.team.desks import add_desk
from vigile.team.limits import HubLimits
from vigile.team.server import TeamHub
from vigile.team.state import HubState
from vigile.tui.app import VigileApp

SIZE = (160, 45)


class FedSource:
    """A chat source the test feeds by hand, like a platform that sends when it wants."""

    name = "twitch:fed"

    def __init__(self) -> None:
        self.queue: asyncio.Queue[ChatMessage | PlatformEvent | None] = asyncio.Queue()
        self.count = 0

    def say(self, text: str, author: str = "viewer") -> ChatMessage:
        self.count += 1
        message = ChatMessage(
            "twitch",
            "fed",
            f"m{self.count}",
            f"id-{author}",
            author,
            text,
            sent_at=float(self.count),
        )
        self.queue.put_nowait(message)
        return message

    async def stream(self) -> AsyncIterator[ChatMessage | PlatformEvent]:
        while (item := await self.queue.get()) is not None:
            yield item


def desk(tmp_path: Path, *sources) -> VigileApp:
    plan = SessionPlan("test desk", "demo", list(sources), tmp_path / "desk.db")
    return VigileApp(plan, Triage(load_starter_packs()))


async def wait_for(pilot, condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


def screen_text(app: VigileApp) -> str:
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    )


async def recorded_actions(tmp_path: Path) -> list:
    async with await SessionStore.open(tmp_path / "desk.db") as store:
        return await store.rows("SELECT * FROM actions")


class RunningTeamHub:
    """A team hub in this process, on a free loopback port; each desk gets its own token."""

    def __init__(self, hub: TeamHub, url: str, db: Path) -> None:
        self.hub, self.url, self.db = hub, url, db
        self.tokens: dict[str, str] = {}  # desk name → its token
        self.tasks: list[asyncio.Task[None]] = []

    def token(self, name: str, role: str = "moderator") -> str:
        """The desk's token, given it the first time (as `vigile hub --add-desk` does)."""
        if name not in self.tokens:
            self.tokens[name] = add_desk(self.db, name, role)
        return self.tokens[name]

    def link(self, name: str, role: str = "moderator", triage: Triage | None = None) -> TeamLink:
        token = self.token(name, role)
        link = TeamLink(self.url, name, token, triage or Triage(load_starter_packs()))
        self.tasks.append(asyncio.create_task(link.run()))
        return link


@contextlib.asynccontextmanager
async def running_hub(
    tmp_path: Path, claim_ttl_s: float = 60.0, tls=None, limits: HubLimits | None = None
) -> AsyncIterator[RunningTeamHub]:
    db = tmp_path / "hub.db"
    state = await HubState.open(db)
    hub = TeamHub(state, claim_ttl_s=claim_ttl_s, limits=limits)
    async with hub.serving("127.0.0.1", 0, tls) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        running = RunningTeamHub(hub, f"{'wss' if tls else 'ws'}://127.0.0.1:{port}", db)
        try:
            yield running
        finally:
            for task in running.tasks:
                task.cancel()
            await asyncio.gather(*running.tasks, return_exceptions=True)
    await state.close()
