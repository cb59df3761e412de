"""Twitch's own moderation on the headless desk: a live session on the EventSub and Helix fakes."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable

import pytest

from tests.fakes import twitch_eventsub as es
from tests.fakes.helix import ALL_SCOPES, MOD_TOOLS_SCOPES, Account, FakeHelix
from vigile.connectors.actions import Moderation
from vigile.connectors.model import ActionResult, ChatMessage, PlatformEvent, Verdict
from vigile.connectors.twitch_auth import TwitchCredentials
from vigile.connectors.twitch_eventsub import EventSubSource
from vigile.connectors.twitch_mod import TwitchModerator
from vigile.connectors.twitch_tools import TwitchTools
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.bilan import write_bilan
from vigile.replay.pipeline import Pipeline, SessionPlan, run_session
from vigile.replay.verify import verify_session
from vigile.tui.desk import Desk
from vigile.tui.flagged import PriorityItem
from vigile.tui.lockdown import LockdownPreset
from vigile.tui.twitch_desk import HELD_PRIORITY, HELD_TAG

FULL = Account("2", "modo", scopes=ALL_SCOPES + MOD_TOOLS_SCOPES)
SUBSCRIPTIONS = 9


class LiveDesk:
    """A live session recording EventSub into a file, a headless desk reading it."""

    def __init__(self, desk: Desk, task: asyncio.Task, events: list[PlatformEvent]) -> None:
        self.desk, self.task, self.events = desk, task, events
        self.held: list[PriorityItem] = []
        self.released: list[str] = []

    async def until(self, check: Callable[[], bool], within_s: float = 10.0) -> None:
        async with asyncio.timeout(within_s):
            while True:  # polled: the listener runs in the pipeline's task
                if check():
                    return
                await asyncio.sleep(0.02)

    def seen(self, kind: str) -> int:
        return sum(e.kind == kind for e in self.events)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def live_desk(tmp_path, helix: FakeHelix, server: es.FakeEventSub, account=FULL, **kw):
    token, refresh = helix.grant(account)
    moderator = TwitchModerator(TwitchCredentials(helix.client_id, token, refresh))
    moderation = Moderation(moderators={"twitch": moderator})
    source = EventSubSource("lumina", TwitchTools(moderator), url=server.url)
    plan = SessionPlan("live", "live", [source], tmp_path / "live.db")
    desk = Desk(plan, Triage(load_starter_packs()), moderator="ana", moderation=moderation)
    desk.twitch.channels = ["lumina"]
    if kw.get("preset"):
        desk.twitch.preset = kw["preset"]
    events: list[PlatformEvent] = []
    live: LiveDesk

    def ready(pipeline: Pipeline) -> None:
        desk.pipeline = pipeline

        def on_item(item, verdict, seq) -> None:
            if isinstance(item, PlatformEvent):
                events.append(item)
                changes = desk.twitch.observe(item, item.ts)
                live.held += changes.held
                live.released += changes.released

        pipeline.listeners.append(on_item)

    await moderation.start()
    task = asyncio.create_task(run_session(plan, desk.triage, ready))
    live = LiveDesk(desk, task, events)
    try:
        yield live
    finally:
        await live.stop()
        await moderation.close()


def rows(db, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_a_held_message_is_a_priority_item_of_its_own_kind_and_allowing_it_clears_it(
    tmp_path, helix
) -> None:
    hold = es.automod_hold("held-1", "you are an idiot and a clown", category="bullying")
    helix.held["held-1"] = hold
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("automod.message.hold", hold, version="2"),
    ]
    async with es.FakeEventSub([script]) as server:
        helix.eventsub = server
        async with live_desk(tmp_path, helix, server) as live:
            await live.until(lambda: live.held)
            (item,) = live.held
            assert item.held == "bullying (level 3)"
            assert HELD_TAG in item.verdict.labels
            assert item.verdict.priority >= HELD_PRIORITY
            assert item.ours is not None  # Vigile's own verdict on the held text, beside it
            done = await live.desk.twitch.resolve_hold(item, allow=True)
            assert done.result is ActionResult.OK, done.detail
            await live.until(lambda: live.released == ["held-1"])  # Twitch's update came back
            assert "held-1" not in live.desk.twitch.holds
    assert helix.automod_decisions == [{"msg_id": "held-1", "action": "ALLOW"}]
    db = tmp_path / "live.db"
    assert rows(db, "SELECT kind, target_message_id, result FROM actions") == [
        ("automod_allow", "held-1", "ok")
    ]
    kinds = [k for (k,) in rows(db, "SELECT kind FROM events ORDER BY id")]
    assert kinds.index("automod_hold") < kinds.index("automod_update")
    # the held message never entered the session as a posted message
    assert rows(db, "SELECT count(*) FROM messages") == [(0,)]
    # Twitch's events and the desk's acts are sealed like every row: the chain covers them
    proven = verify_session(db)
    assert proven.intact
    sealed = rows(db, "SELECT count(*) FROM events")[0][0] + 1  # and the action
    assert proven.rows >= sealed


async def test_a_hold_resolved_elsewhere_leaves_and_the_lockdown_key_toggles_twitch(
    tmp_path, helix
) -> None:
    hold = es.automod_hold("held-2", "hello")
    update = {
        **hold,
        "moderator_user_id": "3",
        "moderator_user_login": "othermod",
        "moderator_user_name": "Othermod",
        "status": "Denied",
    }
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("automod.message.hold", hold, version="2"),
        es.Notify("automod.message.update", update, version="2"),
    ]
    preset = LockdownPreset.parse(["followers:10", "slow:30", "emote-only"])
    async with es.FakeEventSub([script]) as server:
        helix.eventsub = server
        async with live_desk(tmp_path, helix, server, preset=preset) as live:
            await live.until(lambda: live.released == ["held-2"])
            await live.until(lambda: live.seen("eventsub_ready"))
            on = await live.desk.twitch.toggle_lockdown()
            assert [a.result for a in on] == [ActionResult.OK, ActionResult.OK], on
            await live.until(lambda: live.seen("shield_mode_begin"))
            assert live.desk.twitch.locked_down("lumina")
            assert helix.shield == {"1": True}
            assert helix.settings["1"]["follower_mode_duration"] == 10
            assert helix.settings["1"]["slow_mode_wait_time"] == 30
            assert helix.settings["1"]["emote_mode"] is True
            off = await live.desk.twitch.toggle_lockdown()  # the same key lifts it
            assert all(a.result is ActionResult.OK for a in off)
            await live.until(lambda: live.seen("shield_mode_end"))
            assert not live.desk.twitch.locked_down("lumina")
            assert helix.shield == {"1": False}
            assert helix.settings["1"]["follower_mode"] is False
            assert helix.settings["1"]["emote_mode"] is False
    db = tmp_path / "live.db"
    states = rows(db, "SELECT json_extract(data, '$.state') FROM events WHERE kind = 'lockdown'")
    assert states == [("start",), ("end",)]
    acted = rows(db, "SELECT kind, result FROM actions ORDER BY id")
    assert acted == [("shield_mode", "ok"), ("chat_mode", "ok")] * 2
    # the bilan's raid timeline has the lockdown (Shield Mode inside it is the same one)
    (lockdown,) = write_bilan(db, tmp_path / "bilan", lang="en").figures["threats"]["lockdowns"]
    assert (lockdown["source"], lockdown["by"]) == ("vigile", "modo")
    assert lockdown["ended_at"] > lockdown["started_at"]
    assert "followers-only (10 min)" in lockdown["what"]


async def test_suspicious_users_rank_higher_and_unban_requests_are_answered_with_history(
    tmp_path, helix
) -> None:
    request = es.unban_request("u-9", "I am sorry, please", user=("777", "evader"))
    helix.unban_requests["u-9"] = dict(request)
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("channel.suspicious_user.message", es.suspicious_message("s-1", "hey")),
        es.Notify("channel.moderate", es.moderate("ban", target=("777", "evader")), version="2"),
        es.Notify("channel.unban_request.create", request),
    ]
    async with es.FakeEventSub([script]) as server:
        helix.eventsub = server
        async with live_desk(tmp_path, helix, server) as live:
            twitch = live.desk.twitch
            await live.until(lambda: "u-9" in twitch.unban_requests)
            message = ChatMessage("twitch", "lumina", "m-1", "777", "Evader", "idiot", 0.0)
            item = twitch.ranked(PriorityItem(message, Verdict(priority=40), None, 0.0))
            assert item.verdict.priority == 55 and "likely ban evader" in (item.suspect or "")
            assert twitch.suspect_note(message).startswith("Twitch marks this user: restricted")
            (logged,) = [a for _, _, a in twitch.mod_log]
            assert logged.line == "othermod ban evader"
            history = await twitch.requester_history("u-9")
            assert history.startswith("0 message(s) this session, 0 flagged")
            assert "on Twitch: ban by othermod" in history
            done = await twitch.resolve_unban("u-9", approve=False, text="not this time")
            assert done.result is ActionResult.OK, done.detail
            await live.until(lambda: live.seen("unban_resolved"))
            assert "u-9" not in twitch.unban_requests
    assert helix.unban_requests["u-9"]["status"] == "denied"


async def test_without_the_scopes_each_feature_says_what_it_needs_and_nothing_is_sent(
    tmp_path, helix
) -> None:
    plain = Account("2", "modo", scopes=ALL_SCOPES)
    async with es.FakeEventSub([[]]) as server:
        helix.eventsub = server
        async with live_desk(tmp_path, helix, server, account=plain) as live:
            await live.until(lambda: live.seen("eventsub_unavailable") == 5)
            status = live.desk.twitch.status()
            assert (
                status["AutoMod queue"] == "needs moderator:manage:automod; run vigile login twitch"
            )
            assert "moderator:read:suspicious_users" in status["suspicious users"]
            assert await live.desk.twitch.toggle_lockdown() == []
            assert "Cannot lock down: needs moderator:read:shield_mode" in live.desk.notices[-1]
    assert helix.shield == {} and not server.subscriptions


def test_the_lockdown_preset_comes_from_the_config_and_a_bad_one_is_refused(tmp_path) -> None:
    from vigile.tui.config import ConfigError, load_config

    file = tmp_path / "config.toml"
    file.write_text('[desk]\nlockdown = ["emote-only", "slow:10"]\n')
    preset = LockdownPreset.parse(load_config({}, file).lockdown)
    assert preset.settings(True) == {
        "slow_mode": True,
        "slow_mode_wait_time": 10,
        "emote_mode": True,
    }
    assert preset.settings(False) == {"slow_mode": False, "emote_mode": False}
    assert preset.describe() == "Shield Mode + slow mode (10 s) + emote-only"
    assert LockdownPreset.parse(load_config({}, tmp_path / "none.toml").lockdown).settings(
        True
    ) == {
        "follower_mode": True,
        "follower_mode_duration": 10,
        "slow_mode": True,
        "slow_mode_wait_time": 30,
    }
    for bad in ('"slow:1"', '"shields-up"', '"followers:x"'):
        file.write_text(f"[desk]\nlockdown = [{bad}]\n")
        with pytest.raises(ConfigError, match="lockdown item"):
            load_config({}, file)


def test_a_raid_alert_on_twitch_brings_the_lockdown_key_up(tmp_path) -> None:
    moderation = Moderation(missing={"twitch": "no Twitch moderator token; run vigile login"})
    plan = SessionPlan("live", "live", [], tmp_path / "live.db")
    desk = Desk(plan, Triage(load_starter_packs()), moderation=moderation)
    raid = PlatformEvent("twitch", "lumina", "alert:raid", data={"state": "raised"})
    desk.alert_seen(raid)
    assert desk.notices[-1] == (
        "Raid on #lumina; the lockdown is off: no Twitch moderator token; run vigile login"
    )
    desk.moderation = Moderation(simulated=True, missing={"twitch": "rehearsal"})
    desk.alert_seen(raid)
    assert desk.notices[-1] == (
        "Raid on #lumina: l locks it down "
        "(Shield Mode + followers-only (10 min) + slow mode (30 s))"
    )
    told = len(desk.notices)
    desk.alert_seen(PlatformEvent("twitch", "lumina", "alert:raid", data={"state": "cleared"}))
    desk.alert_seen(PlatformEvent("youtube", "v", "alert:raid", data={"state": "raised"}))
    assert len(desk.notices) == told  # a cleared raid, or one off Twitch: nothing to lock
