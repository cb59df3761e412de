"""Two real desks on one team hub, each driven by its own pilot: a supervisor and a moderator
reading the same chat (the same platform message ids), claiming, acting and editing rules."""

from __future__ import annotations

from tests.helpers import SIZE, FedSource, running_hub, screen_text, wait_for
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import SessionPlan
from vigile.team.client import TeamLink
from vigile.tui.app import VigileApp
from vigile.tui.team import DeskTeam, Share, TeamScreen
from vigile.tui.widgets.priority_pane import PriorityPane
from vigile.tui.widgets.rule_editor import RuleEditorScreen


def team_desk(tmp_path, hub, name: str, role: str, share: Share | None = None) -> tuple:
    share = share or Share()
    source = FedSource()
    triage = Triage(load_starter_packs())
    plan = SessionPlan(f"{name}'s desk", "demo", [source], tmp_path / f"{name}.db")
    link = TeamLink(hub.url, name, hub.token(name, role), triage, share.wire())
    app = VigileApp(plan, triage, name, team=DeskTeam(link, share))
    return app, source


def say_to_both(sources, text: str, author: str) -> str:
    keys = {source.say(text, author=author).key for source in sources}
    assert len(keys) == 1  # the same chat: the same platform message id on both desks
    return keys.pop()


async def test_a_claim_and_an_action_on_one_desk_show_on_the_other(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        sup_app, sup_chat = team_desk(tmp_path, hub, "sup", "supervisor")
        mod_app, mod_chat = team_desk(tmp_path, hub, "mod", "moderator")
        async with sup_app.run_test(size=SIZE) as sup, mod_app.run_test(size=SIZE) as mod:
            await wait_for(
                sup,
                lambda: mod_app.team.link.state == "online" and sup_app.team.link.state == "online",
            )
            key = say_to_both([sup_chat, mod_chat], "kill yourself", "troll")
            sup_pane, mod_pane = sup_app.query_one(PriorityPane), mod_app.query_one(PriorityPane)
            await wait_for(sup, lambda: key in sup_pane.items and key in mod_pane.items)

            await mod.press("c")  # the moderator takes it
            await wait_for(sup, lambda: sup_pane.items[key].claimed_by == "mod")
            await sup.pause(0.1)
            assert "● mod" in screen_text(sup_app)
            await sup.press("b")  # the supervisor tries to ban it too: refused, not sent
            await wait_for(sup, lambda: sup_app.notices and "claimed by mod" in sup_app.notices[-1])
            assert sup_pane.items[key].state == "claimed"

            await mod.press("x")  # the moderator deletes it: it leaves both desks
            await wait_for(sup, lambda: key not in sup_pane.items and key not in mod_pane.items)
            assert sup_app.team.link.handled[key] == ("delete", "mod")

            again = say_to_both([sup_chat, mod_chat], "t'es qu'une salope", "troll2")
            await wait_for(sup, lambda: again in sup_pane.items and again in mod_pane.items)
            await sup.press("e")  # escalated on one desk: marked on the other, not dropped
            await wait_for(mod, lambda: mod_pane.items[again].state == "escalated")

            await mod.press("m")  # the roster: both desks, the moderator's handled count
            await wait_for(mod, lambda: isinstance(mod_app.screen, TeamScreen))
            await wait_for(
                mod, lambda: {m["name"] for m in mod_app.team.link.roster} == {"sup", "mod"}
            )
            mod_app.team.report(len(mod_pane.items))
            await wait_for(
                mod,
                lambda: (
                    next(m for m in mod_app.team.link.roster if m["name"] == "mod")["handled"] == 1
                ),
            )
            mod_app.screen.refresh_tables()
            await mod.pause(0.1)
            text = screen_text(mod_app)
            assert "Desks" in text and "sup" in text and "supervisor" in text
            await mod.press("escape")
            await sup.press("q")
            await mod.press("q")


async def test_the_supervisor_s_rule_edit_goes_live_on_the_moderator_s_desk(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        sup_app, sup_chat = team_desk(tmp_path, hub, "sup", "supervisor")
        mod_app, mod_chat = team_desk(tmp_path, hub, "mod", "moderator")
        async with sup_app.run_test(size=SIZE) as sup, mod_app.run_test(size=SIZE) as mod:
            link = mod_app.team.link
            await wait_for(mod, lambda: link.state == "online" and link.hub_version == 1)
            await sup.press("r")
            await wait_for(sup, lambda: isinstance(sup_app.screen, RuleEditorScreen))
            editor = sup_app.screen
            await sup.press("f2")
            editor.query_one("TextArea").load_text(
                '[[rules]]\nid = "hijacked-tag"\ncategory = "harassment"\nseverity = 3\n'
                'action = "review"\nhashtags = ["#teamzorg"]\n'
            )
            # How fast it travels is measured by bench/team_bench.py, not here.
            await sup.press("f8")
            await wait_for(mod, lambda: link.hub_version == 2)
            key = say_to_both([sup_chat, mod_chat], "allez #TeamZorg", "fan")
            mod_pane = mod_app.query_one(PriorityPane)
            await wait_for(mod, lambda: key in mod_pane.items)
            assert mod_pane.items[key].verdict.matches[0].rule_id == "hijacked-tag"
            await wait_for(mod, lambda: any("Team rules v2 from sup" in n for n in mod_app.notices))

            await mod.press("r")  # the moderator may look, not change
            await wait_for(mod, lambda: isinstance(mod_app.screen, RuleEditorScreen))
            await mod.press("f2", "f8")
            await mod.pause(0.1)
            assert "only the supervisor changes the rules" in screen_text(mod_app)
            assert link.hub_version == 2 and mod_app.triage.version == 2
            await mod.press("escape")
            await sup.press("escape", "q")
            await mod.press("q")


async def test_a_moderator_s_share_keeps_only_its_part_of_the_queue(tmp_path) -> None:
    async with running_hub(tmp_path) as hub:
        share = Share.parse(["category:threat"])
        app, chat = team_desk(tmp_path, hub, "threats", "moderator", share)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.team.link.state == "online")
            chat.say("c'est combien ?", author="buyer")
            chat.say("kill yourself", author="troll")
            chat.say("bonjour à tous", author="fan")
            pane = app.query_one(PriorityPane)
            await wait_for(pilot, lambda: len(pane.items) == 1 and pilot.app.query_one("#feed"))
            await pilot.pause(0.4)  # the question was flagged too, and stayed out
            assert [i.message.text for i in pane.items.values()] == ["kill yourself"]
            await wait_for(
                pilot,
                lambda: any(m["share"]["categories"] == ["threat"] for m in app.team.link.roster),
            )
            await pilot.press("q")
