"""Shared fixtures: small generated sessions, never the developer's own config or network."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.helix import FakeHelix
from vigile.connectors.twitch_auth import use_base_url
from vigile.scenarios.format import Scenario, load_scenario
from vigile.scenarios.generate import write_session

DATA = Path(__file__).parent / "data"

pytest_plugins = ["tests.archive_fixtures"]  # a real PostgreSQL for the archive's tests


@pytest.fixture(scope="session")
def _shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One start-up cache for the whole run (word tables, compiled packs), never the user's."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, _shared_cache: Path
):
    monkeypatch.setenv("VIGILE_CACHE_DIR", str(_shared_cache))
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    for name in ("VIGILE_TWITCH_TOKEN", "VIGILE_TWITCH_CLIENT_ID", "VIGILE_TWITCH_LOGIN"):
        monkeypatch.delenv(name, raising=False)  # a developer's own token never reaches a test


@pytest.fixture
def tiny_scenario() -> Scenario:
    return load_scenario(str(DATA / "tiny.toml"))


@pytest.fixture
async def tiny_session(tmp_path: Path, tiny_scenario: Scenario) -> Path:
    path = tmp_path / "tiny.db"
    await write_session(tiny_scenario, path)
    return path


@pytest.fixture
async def judged(tmp_path: Path, tiny_session: Path) -> Path:
    """A session as a desk records it, for the evidence tests: messages with verdicts, an
    action, deletion marks (one message, one author), alerts and a rule version."""
    from vigile.connectors.model import ActionKind, ActionResult, ModAction
    from vigile.filters.rules import load_starter_packs
    from vigile.filters.triage import Triage
    from vigile.replay.pipeline import SessionPlan, run_session
    from vigile.replay.player import ReplaySource

    out = tmp_path / "judged.db"
    plan = SessionPlan("evidence", "replay", [ReplaySource(tiny_session, speed=None)], out)

    def act(pipeline) -> None:
        acted: list[str] = []

        def on_item(item, verdict, seq) -> None:
            if verdict is None or not verdict.flagged or len(acted) >= 2:
                return
            acted.append(item.id)
            store = pipeline.store
            if len(acted) == 1:  # a timeout, and the message deleted
                action = ModAction(
                    ActionKind.TIMEOUT,
                    item.platform,
                    item.channel,
                    "mod-anna",
                    item.author_id,
                    item.id,
                    600,
                    "slur",
                    result=ActionResult.SIMULATED,
                )
                store.add_action(action)
                store.mark_deleted(item.platform, item.id, item.received_at + 1)
            else:  # a ban: what the author had said is marked deleted
                store.mark_author_deleted(item.platform, item.author_id, item.received_at + 1)

        pipeline.listeners.append(on_item)

    await run_session(plan, Triage(load_starter_packs()), on_ready=act)
    return out


@pytest.fixture
async def helix():
    """A fake Helix on 127.0.0.1 that this process's Twitch clients call, for one test."""
    async with FakeHelix() as server:
        use_base_url(server.url)
        yield server
    use_base_url(None)
