"""The desk driven by Textual's pilot, on replays and on a source fed by the test."""

import contextlib
import json
from pathlib import Path

from tests.fakes import youtube as yt
from tests.fakes.helix import Account, FakeHelix
from tests.fakes.youtube import FakeYouTube
from tests.helpers import SIZE, FedSource, desk, recorded_actions, screen_text, wait_for
from vigile.connectors.actions import Moderation
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.twitch_auth import TwitchCredentials, use_base_url
from vigile.connectors.twitch_mod import TwitchModerator
from vigile.connectors.youtube import YouTubeSource
from vigile.connectors.youtube_auth import YouTubeCredentials
from vigile.connectors.youtube_mod import QuotaLedger, YouTubeModerator
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import SessionPlan
from vigile.replay.player import ReplaySource
from vigile.replay.store import SessionStore
from vigile.tui.app import VigileApp
from vigile.tui.widgets.live_feed import LiveFeed
from vigile.tui.widgets.priority_pane import PriorityPane
from vigile.tui.widgets.suggestion import SuggestionScreen


async def test_a_replay_fills_both_panes_and_quitting_saves_it(tmp_path, tiny_session) -> None:
    app = desk(tmp_path, ReplaySource(tiny_session, speed=None))
    async with app.run_test(size=SIZE) as pilot:
        feed, pane = app.query_one(LiveFeed), app.query_one(PriorityPane)
        await wait_for(pilot, lambda: feed.line_count > 100 and len(pane.items) > 10)
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "Priority (" in text and "Live feed" in text
        newest = feed.lines()[-1].message
        assert newest.author_name in text  # tail mode shows the newest message
        assert any(item.message.text[:20] in text for item in pane.items.values())
        await pilot.press("q")
    async with await SessionStore.open(tmp_path / "desk.db") as store:
        async with await SessionStore.open(tiny_session) as source:
            assert await store.count("messages") == await source.count("messages")
        (session,) = await store.sessions()
        assert session["ended_at"] is not None


async def test_priority_pane_orders_by_priority_then_age(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        source.say("c'est combien ?")  # question, low priority
        source.say("kill yourself")  # threat, top priority
        source.say("is it in stock?")
        pane = app.query_one(PriorityPane)
        await wait_for(pilot, lambda: len(pane.items) == 3)
        ordered = [item.message.text for item in pane.ordered()]
        assert ordered == ["kill yourself", "c'est combien ?", "is it in stock?"]
        await pilot.press("q")


async def test_pause_freezes_the_feed_and_counts_new_messages(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        feed = app.query_one(LiveFeed)
        for n in range(60):
            source.say(f"line {n}")
        await wait_for(pilot, lambda: feed.line_count == 60)
        await pilot.press("p")
        assert not feed.tail
        top = feed.scroll_y
        for n in range(60, 80):
            source.say(f"line {n}")
        await wait_for(pilot, lambda: feed.line_count == 80)
        await pilot.pause(0.1)
        assert feed.scroll_y == top and feed.unseen == 20
        assert "paused · 20 new" in screen_text(app)
        await pilot.press("p")
        await pilot.pause(0.1)
        assert feed.tail and feed.unseen == 0 and feed.scroll_y == feed.max_scroll_y
        assert "line 79" in screen_text(app)
        await pilot.press("q")


async def test_dismiss_removes_the_item_and_records_the_action(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        target = source.say("t'es qu'une salope", author="troll")
        pane = app.query_one(PriorityPane)
        await wait_for(pilot, lambda: len(pane.items) == 1)
        pane.focus()
        await pilot.press("d")
        assert not pane.items and not pane.ordered()
        await pilot.press("q")
    async with await SessionStore.open(tmp_path / "desk.db") as store:
        (action,) = await store.rows("SELECT * FROM actions")
    assert (action["kind"], action["target_message_id"], action["target_author_id"]) == (
        "dismiss",
        target.id,
        "id-troll",
    )


async def test_hostile_text_is_shown_inert_in_both_panes(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    hostile = (
        "[bold red]salope[/bold red] \x1b[2J\x1b]0;pwned\x07 \u202eevil z\u0336\u0337\u0338\u0339o"
    )
    async with app.run_test(size=SIZE) as pilot:
        source.say(hostile, author="[link=http://x]mod[/link]\x1b[31m")
        pane = app.query_one(PriorityPane)
        await wait_for(pilot, lambda: len(pane.items) == 1)
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "[bold red]salope[/bold red]" in text  # markup shown as typed
        assert "[link=http://x]mod[/link]" in text
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "␛[2J" in text
        feed = app.query_one(LiveFeed)
        line = "".join(seg.text for seg in feed.line_strip(feed.lines()[0]))
        assert "\x1b" not in line and line.endswith("\ufffdevil z\u0336\u0337o")  # zalgo cut
        await pilot.press("q")
    async with await SessionStore.open(tmp_path / "desk.db") as store:
        (stored,) = [s async for s in store.messages()]
    assert stored.message.text == hostile  # stored verbatim


async def test_deleted_messages_are_struck_through(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        message = source.say("this will be deleted")
        source.queue.put_nowait(
            PlatformEvent("twitch", "fed", "clearmsg", data={"message_id": message.id})
        )
        feed = app.query_one(LiveFeed)
        await wait_for(pilot, lambda: feed.line_count == 1 and feed.lines()[0].deleted)
        strip = feed.line_strip(feed.lines()[0])
        struck = [seg for seg in strip if "deleted" in seg.text]
        assert struck and all(seg.style and seg.style.strike for seg in struck)
        await pilot.press("q")


async def test_pack_edits_reach_the_desk_live(tmp_path) -> None:
    import os
    import time

    from vigile.filters.rules import load_pack

    pack = tmp_path / "live.toml"
    pack.write_text('[[rules]]\nid = "brand"\ncategory = "brand"\nterms = ["acme"]\n')
    source = FedSource()
    plan = SessionPlan("desk", "demo", [source], tmp_path / "desk.db", rule_files=[pack])
    app = VigileApp(plan, Triage([load_pack(pack)]))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(PriorityPane)
        source.say("globex is great")
        await pilot.pause(0.3)
        assert not pane.items
        pack.write_text('[[rules]]\nid = "brand"\ncategory = "brand"\nterms = ["acme", "globex"]\n')
        os.utime(pack, ns=(time.time_ns() + 1_000_000,) * 2)
        await wait_for(pilot, lambda: app.triage.version == 2, seconds=2)
        source.say("globex again")
        await wait_for(pilot, lambda: len(pane.items) == 1)
        await wait_for(pilot, lambda: "rules v2" in screen_text(app))
        pack.write_text("[[rules]]\nid = \n")
        os.utime(pack, ns=(time.time_ns() + 2_000_000,) * 2)
        await wait_for(pilot, lambda: app.rules_error is not None, seconds=2)
        assert app.rules_error.startswith(f"{pack}:2: ")
        assert app.triage.version == 2
        await pilot.press("q")


async def test_replay_keys_pause_and_seek_the_recording(tmp_path, tiny_session) -> None:
    source = ReplaySource(tiny_session, speed=1.0)
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        feed = app.query_one(LiveFeed)
        await wait_for(pilot, lambda: feed.line_count >= 5)
        assert "PAUSED" not in screen_text(app).splitlines()[0]
        await pilot.press("space")
        assert source.paused
        header = screen_text(app).splitlines()[0]
        assert "replay:tiny PAUSED at 0:" in header and "replay:tiny live" not in header
        held = feed.line_count
        await pilot.pause(1.0)
        assert feed.line_count <= held + 2  # in flight only
        assert "PAUSED at" in screen_text(app).splitlines()[0]  # for as long as it lasts
        await pilot.press("space")
        assert not source.paused
        await pilot.pause(0.1)
        assert "PAUSED" not in screen_text(app).splitlines()[0]
        await pilot.press("right_square_bracket")  # +30 s: past the end of a 7 s recording
        await wait_for(pilot, lambda: "ended" in screen_text(app), seconds=5)
        await pilot.press("q")


async def test_replay_keys_are_hidden_on_a_live_desk(tmp_path) -> None:
    app = desk(tmp_path, FedSource())
    async with app.run_test(size=SIZE) as pilot:
        assert "Pause replay" not in screen_text(app)
        await pilot.press("space")  # does nothing, breaks nothing
        await pilot.press("q")


# -- acting as a moderator ----------------------------------------------------------------------


def live_desk(tmp_path: Path, source: FedSource, moderation: Moderation) -> VigileApp:
    plan = SessionPlan("live desk", "live", [source], tmp_path / "desk.db")
    return VigileApp(plan, Triage(load_starter_packs()), moderation=moderation)


@contextlib.asynccontextmanager
async def helix_desk(tmp_path: Path, token: str = "", **helix_options):
    """A live desk on a fed Twitch channel, moderating as `modo` through a fake Helix (with a
    token Twitch granted, unless `token` names one it will refuse)."""
    async with FakeHelix(users={"1": "fed", "2": "modo"}, **helix_options) as helix:
        use_base_url(helix.url)
        refresh = "nope"
        if not token:
            token, refresh = helix.grant(Account("2", "modo"))
        moderator = TwitchModerator(TwitchCredentials(helix.client_id, token, refresh))
        source = FedSource()
        app = live_desk(tmp_path, source, Moderation(moderators={"twitch": moderator}))
        try:
            yield helix, moderator, source, app
        finally:
            use_base_url(None)


async def flag_one(pilot, app: VigileApp, source: FedSource) -> ChatMessage:
    target = source.say("t'es qu'une salope", author="troll")
    pane = app.query_one(PriorityPane)
    await wait_for(pilot, lambda: len(pane.items) == 1)
    pane.focus()
    return target


async def test_ban_key_bans_through_helix_and_records_the_result(tmp_path) -> None:
    async with helix_desk(tmp_path) as (helix, moderator, source, app):
        async with app.run_test(size=SIZE) as pilot:
            target = await flag_one(pilot, app, source)
            await wait_for(pilot, lambda: moderator.user_id == "2")  # token validated
            await pilot.press("b")
            await wait_for(pilot, lambda: ("1", "id-troll") in helix.bans)
            await wait_for(pilot, lambda: not app.query_one(PriorityPane).items)
            assert app.notices[-1] == "ban: troll — banned in #fed"
            await pilot.press("q")
    (action,) = await recorded_actions(tmp_path)
    assert (action["kind"], action["result"], action["moderator"]) == ("ban", "ok", "modo")
    assert action["target_message_id"] == target.id
    assert "sexism" in helix.bans[("1", "id-troll")]["reason"]


async def test_a_refused_action_keeps_the_item_and_says_why(tmp_path) -> None:
    async with helix_desk(tmp_path, moderators={}) as (helix, moderator, source, app):
        async with app.run_test(size=SIZE) as pilot:
            await flag_one(pilot, app, source)
            await wait_for(pilot, lambda: moderator.user_id == "2")
            await pilot.press("x")
            await wait_for(pilot, lambda: app.notices and "failed" in app.notices[-1])
            assert "not one of the broadcaster's moderators" in app.notices[-1]
            (item,) = app.query_one(PriorityPane).items.values()
            assert item.state == "new"
            await pilot.press("q")
    (action,) = await recorded_actions(tmp_path)
    assert (action["kind"], action["result"]) == ("delete", "failed")


async def test_without_a_token_actions_are_off_with_the_reason_and_reading_goes_on(
    tmp_path,
) -> None:
    source = FedSource()
    why = "no Twitch moderator token; run `vigile login twitch`"
    app = live_desk(tmp_path, source, Moderation(missing={"twitch": why}))
    async with app.run_test(size=SIZE) as pilot:
        await flag_one(pilot, app, source)
        await pilot.press("b")
        assert app.notices[-1] == f"Cannot ban: {why}."
        assert len(app.query_one(PriorityPane).items) == 1
        source.say("still reading")
        await wait_for(pilot, lambda: len(app.query_one(LiveFeed).lines()) == 2)
        await pilot.press("d")  # deciding there is nothing to do needs no platform
        assert not app.query_one(PriorityPane).items
        await pilot.press("q")
    assert [a["kind"] for a in await recorded_actions(tmp_path)] == ["dismiss"]


async def test_in_a_demo_actions_are_simulated_and_recorded_as_such(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        await flag_one(pilot, app, source)
        await pilot.press("t")
        await wait_for(pilot, lambda: not app.query_one(PriorityPane).items)
        assert app.notices[-1] == "timeout: troll (simulated)"
        await pilot.press("q")
    (action,) = await recorded_actions(tmp_path)
    assert (action["kind"], action["result"], action["duration_s"]) == ("timeout", "simulated", 600)


async def test_a_ban_strikes_through_what_the_author_said_on_screen_and_in_the_file(
    tmp_path,
) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        source.say("t'es qu'une salope", author="troll")
        source.say("ferme ta gueule", author="viewer")
        source.say("sale pute", author="troll")
        feed, pane = app.query_one(LiveFeed), app.query_one(PriorityPane)
        await wait_for(pilot, lambda: len(feed.lines()) == 3 and len(pane.items) == 3)
        source.queue.put_nowait(PlatformEvent("twitch", "fed", "ban", data={"user_id": "id-troll"}))
        await wait_for(pilot, lambda: sum(line.deleted for line in feed.lines()) == 2)
        assert [line.deleted for line in feed.lines()] == [True, False, True]
        # what the platform already removed leaves the queue; the rest stays
        assert [i.message.author_name for i in pane.items.values()] == ["viewer"]
        await pilot.press("q")
    async with await SessionStore.open(tmp_path / "desk.db") as store:
        rows = await store.rows("SELECT author_name, deleted_at FROM messages ORDER BY seq")
    assert [(r["author_name"], r["deleted_at"] is not None) for r in rows] == [
        ("troll", True),
        ("viewer", False),
        ("troll", True),
    ]


async def test_delete_key_on_a_youtube_item_goes_through_the_data_api(tmp_path) -> None:
    troll = "UCtroll_________________"
    page = [
        yt.text_message("t'es qu'une salope", author="troll", channel=troll),
        yt.super_chat("€5,00", "merci pour le live", author="donor"),
    ]
    async with FakeYouTube([page]) as server:
        token, refresh = server.api.grant()
        credentials = YouTubeCredentials(
            server.api.client_id, server.api.client_secret, token, refresh
        )
        moderator = YouTubeModerator(
            credentials, base_url=server.url, ledger=QuotaLedger(tmp_path / "quota.json")
        )
        source = YouTubeSource(server.video_id, base_url=server.url)
        plan = SessionPlan("yt desk", "live", [source], tmp_path / "desk.db")
        moderation = Moderation(moderators={"youtube": moderator})
        app = VigileApp(plan, Triage(load_starter_packs()), moderation=moderation)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(PriorityPane)
            await wait_for(pilot, lambda: len(pane.items) == 1 and moderator.login == "Modo")
            pane.focus()
            await pilot.press("x")
            await wait_for(pilot, lambda: server.api.deleted)
            await wait_for(pilot, lambda: not pane.items)
            assert "of 10,000 left today" in app.notices[-1]  # the quota, where it is spent
            assert "donor: [5 EUR] merci pour le live" in screen_text(app)
            await pilot.press("q")
    (action,) = await recorded_actions(tmp_path)
    assert (action["kind"], action["result"], action["moderator"]) == ("delete", "ok", "Modo")
    assert "quota units" in action["detail"]


async def test_a_copypasta_flood_is_one_row_in_the_header_and_acted_on_as_a_group(
    tmp_path,
) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    line = "lumina cup final tonight everyone be there it is going to be huge"
    async with app.run_test(size=SIZE) as pilot:
        for n in range(70):  # a minute of ordinary chat first (one message a second)
            source.say(f"gg {n}", author=f"regular{n % 20}")
        for n in range(24):
            source.say(line.upper() if n % 2 else line, author=f"bot{n}")
        pane = app.query_one(PriorityPane)
        await wait_for(pilot, lambda: len(pane.ordered()) == 1 and len(pane.items) == 1)
        (row,) = pane.items.values()
        await wait_for(pilot, lambda: len(row.group) == 7)  # from the 18th copy on
        await wait_for(pilot, lambda: "COPYPASTA tw:fed ×24 by 24" in screen_text(app))
        assert "×7 (7 authors)" in screen_text(app)
        pane.focus()
        await pilot.press("x")
        await wait_for(pilot, lambda: not pane.ordered())
        assert app.notices[-1] == "delete: 7 targets (simulated)"
        await pilot.press("q")
    actions = await recorded_actions(tmp_path)
    assert sorted(a["target_message_id"] for a in actions) == [f"m{n}" for n in range(88, 95)]
    async with await SessionStore.open(tmp_path / "desk.db") as store:
        alerts = await store.rows("SELECT kind, data FROM events WHERE kind LIKE 'alert:%'")
    copypasta = [json.loads(a["data"])["state"] for a in alerts if a["kind"] == "alert:copypasta"]
    assert copypasta == ["raised", "cleared"]  # the session's end clears what is still up


async def palette(pilot, query: str) -> None:
    """Ctrl+P, type, Enter: as a moderator picks a command."""
    await pilot.press("ctrl+p")
    await pilot.pause(0.2)
    await pilot.press(*query)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause(0.2)


async def test_channel_commands_change_modes_clear_and_unban_through_helix(tmp_path) -> None:
    async with helix_desk(tmp_path) as (helix, moderator, source, app):
        async with app.run_test(size=SIZE) as pilot:
            await flag_one(pilot, app, source)
            await wait_for(pilot, lambda: moderator.user_id == "2")
            await pilot.press("b")
            await wait_for(pilot, lambda: ("1", "id-troll") in helix.bans)
            await palette(pilot, "slow mode 30")
            await wait_for(pilot, lambda: helix.settings.get("1", {}).get("slow_mode"))
            assert helix.settings["1"]["slow_mode_wait_time"] == 30
            await palette(pilot, "unban troll")
            await wait_for(pilot, lambda: ("1", "id-troll") not in helix.bans)
            await palette(pilot, "clear the chat")
            await wait_for(pilot, lambda: helix.cleared == ["1"])
            await pilot.press("q")
    kinds = [(a["kind"], a["result"]) for a in await recorded_actions(tmp_path)]
    assert kinds == [("ban", "ok"), ("chat_mode", "ok"), ("unban", "ok"), ("clear", "ok")]


async def test_a_suggested_rule_is_dry_run_then_applied_with_one_key(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        for n in range(20):
            source.say(f"gg {n}", author=f"regular{n}")
        for n in range(10):
            source.say("#BoycottLumina sale pute", author=f"angry{n % 6}")
        feed = app.query_one(LiveFeed)
        await wait_for(pilot, lambda: len(feed.lines()) == 30)
        await wait_for(pilot, lambda: app.desk.suggestion() is not None)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, SuggestionScreen))
        body = str(app.screen.query_one("#suggestion-body").render())
        assert "would flag 10 of the last 30 messages (10 already flagged" in body
        assert "hijacked-boycottlumina" in body
        assert '[[rules]]\nid = "hijacked-boycottlumina"\n' in body  # TOML, as the editor has it
        assert "␊" not in body and '"id":' not in body  # no JSON, no newline marks
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.triage.version == 2)
        live = "Rule hijacked-boycottlumina is live (rules v2; r then F9 undoes it)."
        assert app.notices[-1] == live
        source.say("#boycottLumina", author="newcomer")  # now caught by the accepted rule
        await wait_for(pilot, lambda: len(feed.lines()) == 31)
        assert feed.lines()[-1].verdict.matches[0].rule_id == "hijacked-boycottlumina"
        await pilot.press("a")
        assert app.notices[-1].startswith("No rule is suggested right now")
        await pilot.press("q")
    async with await SessionStore.open(tmp_path / "desk.db") as store:
        versions = await store.rows("SELECT version, origin FROM rule_versions ORDER BY version")
    assert [(v["version"], v["origin"]) for v in versions] == [(1, "start"), (2, "suggestion")]


async def test_a_refused_token_turns_actions_off_with_the_reason_and_reading_goes_on(
    tmp_path,
) -> None:
    async with helix_desk(tmp_path, token="revoked") as (helix, moderator, source, app):
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: any("are off" in n for n in app.notices))
            assert "Twitch refused the moderator token" in app.notices[-1]
            assert app.notices[-1].endswith("Reading chat goes on.")
            await flag_one(pilot, app, source)
            await pilot.press("b")
            assert app.notices[-1].startswith("Cannot ban: Twitch refused the moderator token")
            await pilot.press("q")
    assert not any(r["path"].startswith("/helix/moderation") for r in helix.requests)


async def test_actions_after_every_source_ended_are_still_recorded(tmp_path, tiny_session) -> None:
    app = desk(tmp_path, ReplaySource(tiny_session, speed=None))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(PriorityPane)
        statuses = lambda: app.pipeline.hub.statuses() if app.pipeline else []  # noqa: E731
        await wait_for(pilot, lambda: statuses() and all(s.state == "ended" for s in statuses()))
        await wait_for(pilot, lambda: app.caught_up)  # the chat is over; the queue holds work
        pane.focus()
        await pilot.press("x")
        await wait_for(pilot, lambda: app.notices and app.notices[-1].startswith("delete"))
        await pilot.press("q")
    actions = await recorded_actions(tmp_path)
    assert actions and {a["kind"] for a in actions} == {"delete"}
