"""Shared fixtures: small generated sessions, never the developer's own config or network."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigile.scenarios.format import Scenario, load_scenario
from vigile.scenarios.generate import write_session

DATA = Path(__file__).parent / "data"

pytest_plugins = ["tests.archive_fixtures"]  # a real PostgreSQL for the archive's tests


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
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
