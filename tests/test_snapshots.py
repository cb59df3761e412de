"""Snapshots of the main screen and the rule editor (pytest-textual-snapshot).

The chat is fixed (texts, authors, clocks) and the desk's clock is pinned, so ages and rates
draw the same every run. After a deliberate change of the screens, look at the new pictures
(`pytest --snapshot-update`, then the report) before committing them.
"""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

from tests.helpers import wait_for
from vigile.connectors.model import ChatMessage, PlatformEvent, Role
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import SessionPlan
from vigile.tui.app import VigileApp
from vigile.tui.widgets.priority_pane import PriorityPane

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC: the chat's clock and the desk's
CHAT = [
    ("twitch", "lumina", "rora35", "kill yourself lol", ()),
    ("youtube", "LuminaLive", "Nine", "t'es qu'une salope", ()),
    ("twitch", "lumina", "dezefa", "free skins at https://gg-free-skins.example now", ()),
    ("twitch", "lumina", "kaka50", "how much is the jersey?", (Role.SUBSCRIBER,)),
    ("youtube", "LuminaLive", "Jonira", "c'est combien la livraison ?", ()),
    ("twitch", "lumina", "[bold]mod[/bold]", "[red]gg[/red] \x1b[2J what a race", ()),
    ("twitch", "lumina", "fami", "great analysis", ()),
    ("youtube", "LuminaLive", "Delo", "she's so fast", ()),
]


class FixedChat:
    name = "twitch:lumina"

    async def stream(self) -> AsyncIterator[ChatMessage | PlatformEvent]:
        for n, (platform, channel, author, text, roles) in enumerate(CHAT):
            at = T0 + n
            yield ChatMessage(
                platform,
                channel,
                f"m{n}",
                f"id-{author}",
                author,
                text,
                sent_at=at,
                received_at=at,
                roles=frozenset(roles),
            )


def fixed_desk(tmp_path: Path) -> VigileApp:
    plan = SessionPlan("snapshot desk", "demo", [FixedChat()], tmp_path / "desk.db")
    app = VigileApp(plan, Triage(load_starter_packs()), moderator="lea")
    app.clock = lambda: T0 + 12  # ages 0:05 to 0:12 on every run
    return app


async def settled(pilot) -> None:
    app = pilot.app
    pane = app.query_one(PriorityPane)
    await wait_for(pilot, lambda: app.pipeline is not None and app.pipeline.stats.messages == 8)
    await wait_for(pilot, lambda: len(pane.items) == 5 and app.pipeline.store.pending == 0)
    await wait_for(pilot, lambda: all(s.state == "ended" for s in app.pipeline.hub.statuses()))
    app.clear_notifications()
    await pilot.pause(0.7)  # the header's twice-a-second refresh has caught up


def test_the_main_screen(snap_compare, tmp_path) -> None:
    assert snap_compare(fixed_desk(tmp_path), terminal_size=(140, 24), run_before=settled)
    # left without `q` (the snapshot tool exits the app): the recording is closed all the same
    with sqlite3.connect(tmp_path / "desk.db") as db:
        assert db.execute("SELECT ended_at IS NOT NULL FROM sessions").fetchone() == (1,)


def test_the_rule_editor(snap_compare, tmp_path) -> None:
    async def open_editor(pilot) -> None:
        await settled(pilot)
        await pilot.press("r")
        await pilot.pause(0.3)
        await pilot.press("down", "down", "f3")  # racism-en, dry-run as it stands
        await pilot.pause(0.3)

    assert snap_compare(fixed_desk(tmp_path), terminal_size=(140, 30), run_before=open_editor)
