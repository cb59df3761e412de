"""The desk without a screen or a pilot: actions recorded, suggested rules, packs written back."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from vigile.connectors.model import ActionKind, ChatMessage, Verdict
from vigile.filters.editing import edited_pack
from vigile.filters.rules import load_pack, load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import Pipeline, SessionPlan, run_session
from vigile.replay.player import ReplaySource
from vigile.tui.desk import Desk
from vigile.tui.flagged import ItemState, PriorityItem

Act = Callable[[Desk, list[PriorityItem]], Awaitable[None]]


async def run_desk(plan: SessionPlan, triage: Triage, act: Act) -> Desk:
    """Record the session with a headless desk on it; once the chat is over (the session
    still open, as on a desk waiting for `q`), `act` on what was flagged."""
    desk = Desk(plan, triage, moderator="ana")
    flagged: list[PriorityItem] = []

    def ready(pipeline: Pipeline) -> None:
        desk.pipeline = pipeline
        pipeline.listeners.append(
            lambda item, verdict, seq: (
                flagged.append(PriorityItem(item, verdict, seq, 0.0))
                if isinstance(item, ChatMessage) and verdict is not None and verdict.flagged
                else None
            )
        )

    async def ended(_stats: object) -> None:
        await act(desk, flagged)

    await run_session(plan, triage, ready, ended)
    return desk


def recorded_actions(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT kind, moderator, target_author_id, target_message_id, duration_s, reason,"
            " result FROM actions ORDER BY id"
        ).fetchall()


async def test_a_timeout_on_a_flagged_replayed_message_is_simulated_and_recorded(
    tmp_path, tiny_session
) -> None:
    plan = SessionPlan(
        "rehearsal", "replay", [ReplaySource(tiny_session, speed=None)], tmp_path / "run.db"
    )
    acted: list[PriorityItem] = []

    async def timeout_first(desk: Desk, flagged: list[PriorityItem]) -> None:
        item = flagged[0]
        assert desk.request(item, ActionKind.TIMEOUT)
        assert item.state is ItemState.SENDING  # until the (simulated) platform answers
        await desk.carry_out(item, ActionKind.TIMEOUT, 600)
        acted.append(item)

    desk = await run_desk(plan, Triage(load_starter_packs()), timeout_first)
    (item,) = acted
    m = item.message
    assert item.state is ItemState.HANDLED
    assert desk.notices[-1] == f"timeout: {m.author_name} (simulated)"
    assert desk.banned == {(m.platform, m.channel, m.author_id): m.author_name}
    assert recorded_actions(plan.db_path) == [
        ("timeout", "ana", m.author_id, m.id, 600, ", ".join(item.verdict.labels), "simulated")
    ]
    assert item.verdict.labels and "cluster:" not in ", ".join(item.verdict.labels)


async def test_a_ban_on_a_flood_row_bans_each_author_once_and_a_dismissal_settles_at_once(
    tmp_path, tiny_session
) -> None:
    plan = SessionPlan(
        "rehearsal", "replay", [ReplaySource(tiny_session, speed=None)], tmp_path / "run.db"
    )

    def copy(n: int, author: str) -> PriorityItem:
        m = ChatMessage("twitch", "tinychan", f"flood{n}", author, author, "spam spam", float(n))
        return PriorityItem(m, Verdict(categories=frozenset({"spam"}), cluster=7), n, 0.0)

    row = copy(0, "bot1")
    for n, author in enumerate(["bot2", "bot1", "bot3", "bot2"], start=1):
        row.absorb(copy(n, author))
    single: list[PriorityItem] = []

    async def act(desk: Desk, flagged: list[PriorityItem]) -> None:
        await desk.carry_out(row, ActionKind.BAN, None)
        single.append(flagged[0])
        assert desk.request(flagged[0], ActionKind.DISMISS)
        assert flagged[0].state is ItemState.DISMISSED  # no platform to wait for
        await desk.carry_out(flagged[0], ActionKind.DISMISS, None)

    desk = await run_desk(plan, Triage(load_starter_packs()), act)
    actions = recorded_actions(plan.db_path)
    bans = [(kind, author) for kind, _, author, *_ in actions if kind == "ban"]
    assert sorted(bans) == [("ban", "bot1"), ("ban", "bot2"), ("ban", "bot3")]
    assert row.state is ItemState.HANDLED
    assert "ban: 3 targets (simulated)" in desk.notices
    assert actions[-1][0] == "dismiss" and actions[-1][3] == single[0].message.id


def test_a_suggested_rule_goes_live_and_an_undo_takes_it_out(tmp_path) -> None:
    triage = Triage(load_starter_packs())
    plan = SessionPlan("desk", "demo", [], tmp_path / "desk.db")
    desk = Desk(plan, triage, moderator="ana")
    rule = {
        "id": "hijacked-boycottlumina",
        "hashtags": ["#boycottlumina"],
        "category": "harassment",
        "severity": 3,
        "action": "review",
    }
    assert not triage.judge_text("all in for #boycottlumina").flagged

    assert desk.apply_suggestion(rule)
    assert triage.judge_text("all in for #boycottlumina").flagged
    live = desk.accepted_pack()
    assert live is not None and [r.id for r in live.rules] == ["hijacked-boycottlumina"]
    assert (
        desk.notices[-1] == "Rule hijacked-boycottlumina is live (rules v2; r then F9 undoes it)."
    )

    undone = desk.undo()
    assert undone is not None and (undone[0], undone[1].version) == (1, 3)  # v3 is v1 again
    assert not triage.judge_text("all in for #boycottlumina").flagged
    assert desk.accepted_pack() is None and desk.undo() is None


def test_a_rule_change_is_written_back_to_its_pack_file_and_undone_there(tmp_path) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    path = folder / "brand.toml"
    original = '[[rules]]\nid = "brand"\ncategory = "brand"\nterms = ["acme"]\n'
    path.write_text(original)
    unlisted = load_pack(path)  # the same file, but not one this session watches
    plan = SessionPlan("desk", "demo", [], tmp_path / "desk.db", rule_files=[path])
    triage = Triage([load_pack(path)])
    desk = Desk(plan, triage, moderator="ana")

    block = '[[rules]]\nid = "rival"\ncategory = "brand"\nterms = ["globex"]\n'
    desk.change_rules([edited_pack(triage.rules.packs[0], None, block)], "editor")
    assert [r.id for r in load_pack(path).rules] == ["brand", "rival"]
    assert triage.judge_text("globex rocks").flagged

    desk.undo()
    assert path.read_text() == original and not triage.judge_text("globex rocks").flagged

    desk.plan = SessionPlan("desk", "demo", [], tmp_path / "desk.db", rule_files=[])
    desk.write_back([edited_pack(unlisted, None, block)])
    assert path.read_text() == original  # only the session's own files are written

    desk.plan = plan
    shutil.rmtree(folder)
    desk.change_rules([edited_pack(triage.rules.packs[0], None, block)], "editor")
    assert triage.judge_text("globex rocks").flagged  # live all the same
    assert desk.notices[-1].startswith(f"Live, but not saved to {path}: ")
