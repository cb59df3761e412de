import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from vigile.connectors.model import ChatMessage
from vigile.replay.store import SessionStore
from vigile.scenarios.format import ScenarioError, bundled_names, load_scenario, parse_scenario
from vigile.scenarios.generate import generate, mutate, write_session


def test_bundled_scenarios_parse_and_include_a_raid() -> None:
    names = bundled_names()
    assert "demo" in names and any("raid" in n for n in names)
    for name in names:
        scenario = load_scenario(name)
        assert scenario.phases and scenario.duration > 0
        assert set(scenario.languages) == {"fr", "en"}


def test_generation_is_deterministic_for_a_seed(tiny_scenario) -> None:
    first = list(generate(tiny_scenario))
    second = list(generate(tiny_scenario))
    assert first == second
    assert len(first) > 100


def test_another_seed_gives_another_session(tiny_scenario) -> None:
    from dataclasses import replace

    def texts(scenario) -> list[str]:
        return [m.text for m, _ in generate(scenario) if isinstance(m, ChatMessage)][:50]

    assert texts(replace(tiny_scenario, seed=tiny_scenario.seed + 1)) != texts(tiny_scenario)


def test_the_raid_comes_from_fresh_look_alike_accounts(tiny_scenario) -> None:
    items = list(generate(tiny_scenario))
    raid = [(m, label) for m, label in items if label and label.raid_member]
    calm = [(m, label) for m, label in items if label and label.phase == "calm"]
    assert raid and calm
    assert all(m.author_name.startswith("h8r_") for m, _ in raid)
    assert all(label.should_flag and label.category == "sexism" for _, label in raid)
    authors = {m.author_id for m, _ in raid}
    first_messages = [m for m, _ in raid if m.first_message]
    assert len(first_messages) == len(authors)  # each raider's first message is marked
    assert not any(label.raid_member for _, label in calm)
    times = [m.sent_at for m, _ in items if isinstance(m, ChatMessage)]
    assert times == sorted(times)
    raid_rate = len(raid) / 3
    calm_rate = len(calm) / 4
    assert raid_rate > 2 * calm_rate


def test_french_and_english_lines_are_both_generated(tiny_scenario) -> None:
    langs = {m.raw["lang"] for m, _ in generate(tiny_scenario) if isinstance(m, ChatMessage)}
    assert langs == {"fr", "en"}


def test_mutations_keep_a_near_duplicate() -> None:
    import random

    rng = random.Random(3)
    original = "sale pute dégage de la course"
    variants = {mutate(rng, original) for _ in range(50)}
    assert len(variants) > 10
    assert all(v != original for v in variants)


async def test_written_session_reads_back_with_labels(tmp_path: Path, tiny_scenario) -> None:
    path = tmp_path / "tiny.db"
    summary = await write_session(tiny_scenario, path)
    async with await SessionStore.open(path) as store:
        stored = [s async for s in store.messages()]
        (session,) = await store.sessions()
        kinds = [e.kind for e in await store.events()]
    assert len(stored) == summary.messages
    assert all(s.label is not None for s in stored)
    assert sum(s.label.raid_member for s in stored) == summary.raid_messages
    assert session["kind"] == "scenario" and session["started_at"] == tiny_scenario.start
    assert kinds == ["scenario:phase", "scenario:phase", "raid"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[scenario]\nname='x'\n", "needs at least one [[channels]]"),
        ("nothing = 1", "needs a [scenario] table"),
        (
            "[scenario]\n[[channels]]\nplatform='twitch'\nchannel='c'\n[[phases]]\nduration=5\nrate=1\n"
            "mix={nope=1}\n",
            "unknown pool 'nope'",
        ),
        (
            "[scenario]\n[[channels]]\nplatform='twitch'\nchannel='c'\n[[phases]]\nduration=-1\nrate=1\n",
            "duration must be",
        ),
        ("[scenario\n", "TOML syntax"),
    ],
)
def test_invalid_scenarios_are_explained(text: str, reason: str) -> None:
    with pytest.raises(ScenarioError, match=reason.replace("[", r"\[")):
        parse_scenario(text, "bad.toml")


def test_cli_writes_the_raid_scenario_and_refuses_to_overwrite(tmp_path: Path) -> None:
    raid_file = next(Path("scenarios").glob("*raid*.toml"))
    db = tmp_path / "out.db"
    run = [sys.executable, "-m", "vigile.tui.cli", "scenario", str(raid_file), "--db", str(db)]
    done = subprocess.run(run, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "messages" in done.stdout
    conn = sqlite3.connect(db)
    labelled = conn.execute("SELECT count(*) FROM labels WHERE raid_member = 1").fetchone()[0]
    assert labelled > 1000
    again = subprocess.run(run, capture_output=True, text=True)
    assert again.returncode != 0 and "already exists" in again.stderr
    forced = subprocess.run([*run, "--force"], capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr
