"""A real PostgreSQL for the archive's tests (one cluster per run, a fresh database per test),
and session files written as a desk writes them, with the accounts and actions a test needs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from vigile.archive.cluster import ThrowawayCluster
from vigile.connectors.model import (
    ActionKind,
    ActionResult,
    ChatMessage,
    Match,
    ModAction,
    Verdict,
)
from vigile.replay.store import SessionStore

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayCluster]:
    cluster = ThrowawayCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def archive_url(postgres: ThrowawayCluster) -> str:
    """An empty database of its own: no test sees another's archive."""
    name = f"archive_{next(_databases)}"
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}".encode())
    return postgres.url.rsplit("/", 1)[0] + "/" + name


@dataclass
class Said:
    author_id: str
    author_name: str
    text: str
    flagged: str | None = None  # a category: the message carries a flagging verdict


@dataclass
class Event:
    """One recorded event: who said what, and what the moderators did."""

    name: str
    started_at: float
    client: str | None = None
    event: str | None = None
    channel: str = "acmecast"
    said: Sequence[Said] = ()
    actions: Sequence[tuple[ActionKind, str]] = ()  # (kind, author id), done for real
    simulated: Sequence[tuple[ActionKind, str]] = ()
    ids: list[str] = field(default_factory=list)


async def record(path: Path, e: Event) -> Path:
    """A session file with `e`'s messages a second apart, then its actions."""
    info = {k: v for k, v in (("client", e.client), ("event", e.event)) if v}
    store = await SessionStore.open(path)
    try:
        await store.start_session(e.name, "live", [f"twitch:{e.channel}"], info, e.started_at)
        for n, said in enumerate(e.said):
            at = e.started_at + n
            message = ChatMessage(
                "twitch",
                e.channel,
                f"{e.name}-{n}",
                said.author_id,
                said.author_name,
                said.text,
                at,
                at + 0.25,
            )
            verdict = None
            if said.flagged:
                match = Match(f"{said.flagged}-rule", said.flagged, 4, (0, 4), "exact", "x")
                verdict = Verdict((match,), frozenset({said.flagged}), 80, "timeout:600", 1)
            store.add_message(message, verdict)
        at = e.started_at + len(e.said) + 1
        for results, done in ((e.actions, ActionResult.OK), (e.simulated, ActionResult.SIMULATED)):
            for kind, author in results:
                duration = 600 if kind is ActionKind.TIMEOUT else None
                action = ModAction(
                    kind,
                    "twitch",
                    e.channel,
                    "mod_anna",
                    author,
                    None,
                    duration,
                    "archive test",
                    at,
                    done,
                )
                store.add_action(action)
                if kind in (ActionKind.BAN, ActionKind.TIMEOUT):
                    store.mark_author_deleted("twitch", author, at)
    finally:
        await store.close()
    return path
