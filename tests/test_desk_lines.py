"""The desk on raw Twitch lines read by the real reader: notices, names and shared chat drawn,
and the keys honest about what this channel's moderator can do."""

import asyncio
import contextlib
from pathlib import Path

from tests.fakes.twitch_irc import Close, FakeTwitch, Wait
from tests.helpers import SIZE, screen_text, wait_for
from vigile.connectors.connection import Backoff
from vigile.connectors.model import ActionKind
from vigile.connectors.twitch import TwitchSource
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import Pipeline, SessionPlan, run_session
from vigile.tui.app import VigileApp
from vigile.tui.widgets.cards import explanation
from vigile.tui.widgets.live_feed import LiveFeed
from vigile.tui.widgets.priority_pane import PriorityPane

_COMMON = "badge-info=;badges=;color=;emotes=;flags=;mod=0;room-id=4242;tmi-sent-ts=1767225600000"
SHARED = (
    f"@{_COMMON};display-name=Visitor;id=s-1;source-badges=;source-id=src-1;"
    "source-room-id=9001;user-id=901 :visitor!visitor@visitor.tmi.twitch.tv PRIVMSG #lumina"
    " :kys loser"
)
LOCAL = (
    f"@{_COMMON};display-name=Heckler;id=h-1;user-id=902"
    " :heckler!heckler@heckler.tmi.twitch.tv PRIVMSG #lumina :you are a worthless idiot"
)
RAID = (
    f"@{_COMMON};display-name=KYS_Squad_88;id=r-1;login=kys_squad_88;msg-id=raid;"
    "msg-param-displayName=KYS_Squad_88;msg-param-login=kys_squad_88;msg-param-viewerCount=55;"
    r"system-msg=55\sraiders\sfrom\sKYS_Squad_88\shave\sjoined!;user-id=903"
    " :tmi.twitch.tv USERNOTICE #lumina"
)
RESUB = (
    f"@{_COMMON};display-name=Troll_Sub;id=t-1;login=troll_sub;msg-id=resub;"
    r"msg-param-cumulative-months=2;system-msg=Troll_Sub\ssubscribed\sfor\s2\smonths!;user-id=904"
    " :tmi.twitch.tv USERNOTICE #lumina :lumina you stupid whore"
)


def desk_on(url: str, db: Path) -> VigileApp:
    twitch = TwitchSource(["lumina"], url=url, backoff=Backoff(first=0.05, most=0.2))
    plan = SessionPlan("lines", "demo", [twitch], db)
    return VigileApp(plan, Triage(load_starter_packs()))


async def test_notices_names_and_shared_chat_on_the_desk(tmp_path: Path) -> None:
    async with FakeTwitch([[[SHARED, LOCAL, RAID, RESUB], Wait(30)]]) as server:
        app = desk_on(server.url, tmp_path / "desk.db")
        async with app.run_test(size=SIZE) as pilot:
            pane, feed = app.query_one(PriorityPane), app.query_one(LiveFeed)
            await wait_for(pilot, lambda: len(pane.items) == 4 and feed.line_count == 4)
            items = {item.message.id: item for item in pane.items.values()}
            assert "name" in items["r-1"].verdict.labels  # the raider's name, not a text
            assert items["t-1"].message.text == "lumina you stupid whore"
            await pilot.pause(0.3)
            text = screen_text(app)
            assert "⇄9001" in text  # the shared-chat line, in the feed and the queue
            assert "name «KYS_Squad_88»" in text
            assert "[Troll_Sub subscribed for 2 months!]" in text
            # the delete key is greyed out on the other channel's message, not on ours
            pane.focus()
            for row, key in enumerate(pane._order):
                pane._cursor_key = key
                shared = pane.items[key].message.shared_from is not None
                assert (pane.check_action("act", ("delete",)) is None) is shared, row
                assert pane.check_action("act", ("ban",)) is True
            shared_item = items["s-1"]
            assert not app.desk.request(shared_item, ActionKind.DELETE)
            assert "another channel of the shared chat (room 9001)" in app.desk.notices[-1]
            assert app.desk.request(shared_item, ActionKind.BAN)  # in this channel: yes
            # the explanation says what matched in the name, and what the keys can do
            raid = items["r-1"]
            assert "on the name «KYS_Squad_88»" in explanation(raid.message, raid.verdict).plain
            why = explanation(shared_item.message, shared_item.verdict).plain
            assert "delete is not possible from here" in why
            await pilot.press("q")


async def test_a_gift_bomb_is_recorded_but_is_no_chat_for_the_stream_signals(tmp_path) -> None:
    gifts = [
        f"@{_COMMON};display-name=Big_Spender;id=g-{n};login=big_spender;msg-id=subgift;"
        f"msg-param-recipient-display-name=Fan{n};msg-param-recipient-id={5000 + n};"
        f"msg-param-recipient-user-name=fan{n};user-id=905 :tmi.twitch.tv USERNOTICE #lumina"
        for n in range(50)
    ]
    said = f"@{_COMMON};display-name=Fan1;id=c-1;user-id=5001 :fan1!fan1@fan1 PRIVMSG #lumina :ty!"
    pipelines: list[Pipeline] = []
    async with FakeTwitch([[gifts, [said], Wait(0.5), Close()]]) as server:
        twitch = TwitchSource(["lumina"], url=server.url, backoff=Backoff(first=0.05, most=0.2))
        plan = SessionPlan("gifts", "demo", [twitch], tmp_path / "gifts.db")
        session = asyncio.create_task(
            run_session(plan, Triage(load_starter_packs()), pipelines.append)
        )
        await asyncio.sleep(0.2)
        for _ in range(200):
            if pipelines and pipelines[0].stats.messages == 51:
                break
            await asyncio.sleep(0.05)
        session.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await session
    (pipeline,) = pipelines
    assert pipeline.stats.messages == 51  # fifty notices and one line of chat, all recorded
    assert pipeline.signals is not None
    # the signals saw one message: the chat line, not the fifty gifts
    (scope,) = pipeline.signals._scopes.values()
    assert sum(count for _, count, _ in scope.seconds) == 1
