"""Twitch's own moderation on the desk's screen, by the pilot: a live desk on a fed channel,
EventSub and Helix fakes behind it."""

from __future__ import annotations

import contextlib
from pathlib import Path

from tests.fakes import twitch_eventsub as es
from tests.fakes.helix import ALL_SCOPES, MOD_TOOLS_SCOPES, Account, FakeHelix
from tests.helpers import SIZE, FedSource, recorded_actions, screen_text, wait_for
from vigile.connectors.actions import Moderation
from vigile.connectors.twitch_auth import TwitchCredentials, use_base_url
from vigile.connectors.twitch_eventsub import EventSubSource
from vigile.connectors.twitch_mod import TwitchModerator
from vigile.connectors.twitch_tools import TwitchTools
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import SessionPlan
from vigile.tui.app import VigileApp
from vigile.tui.widgets.live_feed import LiveFeed
from vigile.tui.widgets.priority_pane import PriorityPane
from vigile.tui.widgets.twitch_screens import ConfirmScreen, ModLogScreen, UnbanScreen

FULL = Account("2", "modo", scopes=ALL_SCOPES + MOD_TOOLS_SCOPES)
SUBSCRIPTIONS = 9


@contextlib.asynccontextmanager
async def twitch_desk(tmp_path: Path, script: list, account: Account = FULL):
    """A live desk on channel `fed` with its moderator token, EventSub playing `script`."""
    async with (
        FakeHelix(users={"1": "fed", "2": "modo"}) as helix,
        es.FakeEventSub([script]) as eventsub,
    ):
        helix.eventsub = eventsub
        use_base_url(helix.url)
        token, refresh = helix.grant(account)
        moderator = TwitchModerator(TwitchCredentials(helix.client_id, token, refresh))
        chat = FedSource()
        events = EventSubSource("fed", TwitchTools(moderator), url=eventsub.url)
        plan = SessionPlan("live desk", "live", [chat, events], tmp_path / "desk.db")
        moderation = Moderation(moderators={"twitch": moderator})
        app = VigileApp(plan, Triage(load_starter_packs()), moderation=moderation)
        try:
            yield helix, chat, app
        finally:
            use_base_url(None)


def pane_rows(app: VigileApp) -> list[str]:
    pane = app.query_one(PriorityPane)
    return [pane.message_text(item).plain for item in pane.ordered()]


async def test_a_held_message_s_blocked_term_is_shown_inert(tmp_path) -> None:
    text = "buy \x1b[2J[bold]followers[/bold] here"
    hold = es.automod_hold("held-x", text, blocked=(4, 30))
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("automod.message.hold", hold, version="2"),
    ]
    async with twitch_desk(tmp_path, script) as (helix, chat, app):
        helix.held.update({"held-x": hold})
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(PriorityPane)
            await wait_for(pilot, lambda: len(pane.items) == 1)
            (row,) = pane_rows(app)
            reason = row.split("· AutoMod: ", 1)[1]
            assert "\x1b" not in row and "[bold]followers[/bold]" in reason  # text, not markup
            await pilot.press("q")


async def test_automod_holds_are_their_own_rows_and_o_allows_x_denies(tmp_path) -> None:
    first = es.automod_hold("held-1", "you are a clown", user=("id-troll", "troll"))
    second = es.automod_hold("held-2", "buy followers here", blocked=(4, 12))
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("automod.message.hold", first, version="2"),
        es.Notify("automod.message.hold", second, version="2"),
    ]
    async with twitch_desk(tmp_path, script) as (helix, chat, app):
        helix.held.update({"held-1": first, "held-2": second})
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(PriorityPane)
            await wait_for(pilot, lambda: len(pane.items) == 2)
            rows = pane_rows(app)
            held_by = "⏸ you are a clown  · AutoMod: aggression (level 3) · Vigile: "
            assert any(r.startswith(held_by) for r in rows)
            assert "⏸ buy followers here  · AutoMod: blocked term: followers · Vigile: spam" in rows
            assert all("held by AutoMod" in item.verdict.labels for item in pane.ordered())
            assert app.query_one(LiveFeed).line_count == 0  # never shown as posted
            await wait_for(pilot, lambda: "AutoMod holds 2" in screen_text(app))
            pane.focus()
            held = pane.selected().message.id
            await pilot.press("o")
            await wait_for(pilot, lambda: len(pane.items) == 1)  # Twitch's update took it off
            other = pane.selected().message.id
            await pilot.press("x")
            await wait_for(pilot, lambda: not pane.items)
            await pilot.press("q")
    assert helix.automod_decisions == [
        {"msg_id": held, "action": "ALLOW"},
        {"msg_id": other, "action": "DENY"},
    ]
    kinds = [(a["kind"], a["result"]) for a in await recorded_actions(tmp_path)]
    assert kinds == [("automod_allow", "ok"), ("automod_deny", "ok")]


async def test_one_confirmed_key_locks_a_raid_down_and_the_same_key_lifts_it(tmp_path) -> None:
    async with twitch_desk(tmp_path, [es.AwaitSubscriptions(SUBSCRIPTIONS)]) as (helix, _, app):
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.desk.twitch.ready)
            await pilot.press("l")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")  # asked, refused: nothing happens
            assert helix.shield == {}
            await pilot.press("l", "y")
            await wait_for(pilot, lambda: helix.shield == {"1": True})
            await wait_for(pilot, lambda: "LOCKDOWN + SHIELD MODE #fed" in screen_text(app))
            assert helix.settings["1"]["follower_mode"] is True
            assert helix.settings["1"]["slow_mode_wait_time"] == 30
            await pilot.press("l", "y")
            await wait_for(pilot, lambda: helix.shield == {"1": False})
            await wait_for(pilot, lambda: "SHIELD MODE" not in screen_text(app))
            assert helix.settings["1"]["follower_mode"] is False
            await pilot.press("q")
    kinds = [(a["kind"], a["result"]) for a in await recorded_actions(tmp_path)]
    assert kinds == [("shield_mode", "ok"), ("chat_mode", "ok")] * 2


async def test_suspicious_users_are_marked_and_the_mod_log_and_unban_requests_show(
    tmp_path,
) -> None:
    evader = ("id-evader", "evader")
    request = es.unban_request("u-1", "please unban me", user=evader)
    script = [
        es.AwaitSubscriptions(SUBSCRIPTIONS),
        es.Notify("channel.suspicious_user.message", es.suspicious_message("s-1", "hi", evader)),
        es.Notify(
            "channel.moderate", es.moderate("timeout", target=evader, reason="spam"), "", "2"
        ),
        es.Notify("channel.unban_request.create", request),
    ]
    async with twitch_desk(tmp_path, script) as (helix, chat, app):
        helix.unban_requests["u-1"] = dict(request)
        async with app.run_test(size=SIZE) as pilot:
            twitch = app.desk.twitch
            await wait_for(pilot, lambda: twitch.unban_requests and twitch.suspects)
            chat.say("t'es qu'une salope", author="evader")
            chat.say("t'es qu'une salope", author="stranger")
            pane = app.query_one(PriorityPane)
            await wait_for(pilot, lambda: len(pane.items) == 2)
            first, second = pane.ordered()
            assert first.message.author_name == "evader"  # ranked above the same words
            assert first.verdict.priority > second.verdict.priority
            assert pane_rows(app)[0].startswith("⚠ ")
            await wait_for(pilot, lambda: "⚠ evader" in screen_text(app))  # in the feed too
            pane.focus()
            await pilot.press("enter")  # the user card says why Twitch marks them
            await wait_for(pilot, lambda: "Twitch marks this user: restricted" in screen_text(app))
            await pilot.press("escape", "g")
            assert isinstance(app.screen, ModLogScreen)
            assert "othermod" in screen_text(app) and "timeout" in screen_text(app)
            assert "spam" in screen_text(app)
            await pilot.press("escape", "u")
            assert isinstance(app.screen, UnbanScreen)
            await wait_for(pilot, lambda: "please unban me" in screen_text(app))
            assert "1 message(s) this session, 1 flagged" in screen_text(app)
            await pilot.press("d")
            await wait_for(pilot, lambda: helix.unban_requests["u-1"]["status"] == "denied")
            await pilot.press("escape", "q")
    kinds = [(a["kind"], a["result"]) for a in await recorded_actions(tmp_path)]
    assert ("unban_deny", "ok") in kinds


async def test_without_a_token_twitchs_tools_say_what_they_need_and_the_desk_works(
    tmp_path,
) -> None:
    chat = FedSource()
    moderation = Moderation(missing={"twitch": "no Twitch moderator token; run `vigile login`"})
    plan = SessionPlan("live desk", "live", [chat], tmp_path / "desk.db")
    app = VigileApp(plan, Triage(load_starter_packs()), moderation=moderation)
    async with app.run_test(size=SIZE) as pilot:
        chat.say("t'es qu'une salope", author="troll")
        pane = app.query_one(PriorityPane)
        await wait_for(pilot, lambda: len(pane.items) == 1)
        await pilot.press("l", "y")
        await wait_for(
            pilot, lambda: "Cannot lock down: no Twitch moderator token" in app.notices[-1]
        )
        await pilot.press("g")
        assert "The mod log no Twitch moderator token" in screen_text(app)
        await pilot.press("escape", "q")
