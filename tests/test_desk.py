"""The desk's queue keys, cards, search and configuration, driven by Textual's pilot."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SIZE, FedSource, desk, recorded_actions, screen_text, wait_for
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import SessionPlan
from vigile.tui.app import VigileApp
from vigile.tui.config import ConfigError, DeskConfig, load_config
from vigile.tui.keys import desk_bindings
from vigile.tui.widgets.cards import CardScreen
from vigile.tui.widgets.live_feed import LiveFeed
from vigile.tui.widgets.priority_pane import PriorityPane

BINDINGS = {i: (screen, b.key) for i, (screen, b) in desk_bindings().items()}


def configured_desk(tmp_path: Path, source: FedSource, config: DeskConfig) -> VigileApp:
    plan = SessionPlan("test desk", "demo", [source], tmp_path / "desk.db")
    return VigileApp(plan, Triage(load_starter_packs()), config=config)


async def queue_of(pilot, app: VigileApp, source: FedSource, *texts: str) -> PriorityPane:
    for n, text in enumerate(texts):
        source.say(text, author=f"author{n}")
    pane = app.query_one(PriorityPane)
    await wait_for(pilot, lambda: len(pane.items) == len(texts))
    pane.focus()
    return pane


async def test_escalate_keeps_the_item_marked_and_approve_clears_it(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        pane = await queue_of(pilot, app, source, "kill yourself", "t'es qu'une salope")
        top = pane.selected()
        await pilot.press("e")
        await wait_for(pilot, lambda: top.state == "escalated")
        await pilot.pause(0.1)
        assert top.key in pane.items and "⇪ sup" in screen_text(app)
        assert app.notices[-1] == "escalated to the supervisor: author0"
        await pilot.press("down", "o")
        await wait_for(pilot, lambda: len(pane.items) == 1)
        await pilot.press("q")
    kinds = sorted(a["kind"] for a in await recorded_actions(tmp_path))
    assert kinds == ["approve", "escalate"]


async def test_the_selection_stays_on_its_item_when_more_urgent_items_arrive(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        pane = await queue_of(pilot, app, source, "c'est combien ?", "is it in stock?")
        await pilot.press("down")
        chosen = pane.selected()
        assert chosen.message.text == "is it in stock?"
        source.say("kill yourself", author="threat")  # jumps to the top of the queue
        await wait_for(pilot, lambda: len(pane.items) == 3)
        assert pane.ordered()[0].message.text == "kill yourself"
        assert pane.selected() is chosen and pane.cursor_row == 2
        await pilot.press("d")  # the item acted on is the one the moderator was on
        await wait_for(pilot, lambda: chosen.key not in pane.items)
        assert pane.cursor_row == 1  # and the cursor stays at that row: the next item
        await pilot.click("#priority", offset=(10, 2))  # border, header, then the first row
        assert pane.cursor_row == 0 and pane.selected().message.text == "kill yourself"
        await pilot.press("q")


async def test_why_shows_each_rule_that_matched(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        await queue_of(pilot, app, source, "t'es qu'une s4l0pe [b]x[/b]")
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        text = screen_text(app)
        assert "Why this was flagged: author0" in text
        assert "sexism-slurs-fr" in text and "severity 4" in text and "«s4l0pe»" in text
        assert "[b]x[/b]" in text  # chat markup shown as typed
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CardScreen))
        await pilot.press("q")


async def test_the_user_card_shows_the_author_s_session(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        source.say("salut tout le monde", author="troll")
        source.say("[red]hello[/red] \x1b[2J", author="troll")
        source.say("unrelated", author="someone")
        pane = await queue_of(pilot, app, source)
        source.say("t'es qu'une salope", author="troll")
        await wait_for(pilot, lambda: len(pane.items) == 1)
        await pilot.press("t")  # a timeout first: the card lists it
        await wait_for(pilot, lambda: not pane.items)
        source.say("encore une salope", author="troll")
        await wait_for(pilot, lambda: len(pane.items) == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        await pilot.pause(0.1)
        assert "User card: troll" in screen_text(app)
        text = app.screen.body.plain  # the card alone, not the panes behind it
        assert "4 messages this session, 2 flagged, 0 deleted" in text
        assert "salut tout le monde" in text and "unrelated" not in text
        assert "[red]hello[/red] ␛[2J" in text and "\x1b" not in screen_text(app)
        assert "timeout 600 s by me: simulated" in text
        assert "twitch.tv/popout/fed/viewercard/troll" in text
        await pilot.press("escape")
        await pilot.press("q")


async def test_search_finds_messages_and_steps_through_them(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        feed = app.query_one(LiveFeed)
        for n in range(200):
            source.say(f"line {n}" + (" GIVEAWAY here" if n in (20, 90, 150) else ""))
        await wait_for(pilot, lambda: feed.line_count == 200)
        await pilot.press("slash")
        await pilot.press(*"giveaway", "enter")
        await pilot.pause(0.1)
        assert feed.found.message.text == "line 150 GIVEAWAY here" and not feed.tail
        assert feed.search_rank == (3, 3)
        await pilot.press("n", "n")
        assert feed.found.message.text == "line 20 GIVEAWAY here" and feed.search_rank == (1, 3)
        await pilot.pause(0.6)
        assert "search «giveaway» 1/3" in screen_text(app) and "line 20 GIVEAWAY" in screen_text(
            app
        )
        await pilot.press("N")
        assert feed.found.message.text == "line 90 GIVEAWAY here"
        await pilot.press("end")
        assert feed.tail and feed.found is None and not feed.query
        await pilot.press("q")


async def test_blur_hides_slurs_but_not_questions_in_both_panes(tmp_path) -> None:
    source = FedSource()
    config = DeskConfig(blur_matches=True)
    app = configured_desk(tmp_path, source, config)
    async with app.run_test(size=SIZE) as pilot:
        await queue_of(pilot, app, source, "t'es qu'une salope", "c'est combien ?")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "salope" not in text and "t'es qu'une ▒▒▒▒▒▒" in text
        assert "c'est combien ?" in text  # a question is not hurtful: readable
        await pilot.press("q")


async def test_remapped_keys_act_and_show_in_the_footer(tmp_path) -> None:
    source = FedSource()
    config = DeskConfig(keys={"priority.ban": "B", "priority.dismiss": "z"})
    app = configured_desk(tmp_path, source, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = await queue_of(pilot, app, source, "kill yourself", "t'es qu'une salope")
        await pilot.press("b", "d")  # the old keys do nothing now
        await pilot.pause(0.2)
        assert len(pane.items) == 2
        await pilot.press("B")
        await wait_for(pilot, lambda: len(pane.items) == 1)
        await pilot.press("z")
        await wait_for(pilot, lambda: not pane.items)
        assert "B Ban" in screen_text(app)
        await pilot.press("q")
    assert sorted(a["kind"] for a in await recorded_actions(tmp_path)) == ["ban", "dismiss"]


def test_the_config_file_is_read_and_checked(tmp_path, monkeypatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[desk]\nresponse_warning_minutes = 2\nfeed_size = 800\ntheme = "nord"\n'
        'packs = ["~/mine.toml"]\n[keys]\n"priority.ban" = "B"\n'
    )
    config = load_config(BINDINGS, path)
    assert config.response_targets_s == (120, 1200) and config.feed_size == 800
    assert config.theme == "nord" and config.keys == {"priority.ban": "B"}
    assert config.packs[0].endswith("/mine.toml") and "~" not in config.packs[0]
    for body, reason in [
        ("[desk]\nfeed_size = 'big'", "wrong type"),
        ("[desk]\nblur = true", "not a setting"),
        ("[desk]\ntheme = 'neon'", "not one of"),
        ("[keys]\n'priority.nuke' = 'n'", "not a binding id"),
        ("[keys]\n'priority.ban' = 'x'", "would do both priority.ban and priority.delete"),
        ("[desk]\nresponse_warning_minutes = 30", "at most response_late_minutes"),
        ("[desk\n", "Expected"),
        ("[colours]\n", "unknown table"),
    ]:
        path.write_text(body)
        with pytest.raises(ConfigError, match=reason):
            load_config(BINDINGS, path)

    path.write_text('[desk]\ntheme = "nord"\n')  # the environment has the last word
    monkeypatch.setenv("VIGILE_BLUR", "1")
    monkeypatch.setenv("VIGILE_THEME", "dracula")
    config = load_config(BINDINGS, path)
    assert config.blur_matches and config.theme == "dracula"


def test_a_broken_config_stops_the_desk_before_it_starts(tmp_path) -> None:
    folder = tmp_path / "cfg" / "vigile"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text("[keys]\n'priority.ban' = 'q'\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    done = subprocess.run(
        [sys.executable, "-m", "vigile.tui.cli", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert "config.toml: [keys] 'q' would do both app.quit and priority.ban" in done.stderr


def test_vigile_keys_lists_every_binding_id() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vigile.tui.cli", "keys"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for binding_id in ("priority.ban", "priority.escalate", "feed.search", "card.close"):
        assert binding_id in done.stdout


def test_a_flood_row_stays_bounded_however_long_the_flood_lasts() -> None:
    from vigile.connectors.model import ChatMessage, Verdict
    from vigile.tui.flagged import KEEP_MEMBERS, PriorityItem

    def copy(n: int) -> PriorityItem:
        author = f"bot{n % 300}"
        m = ChatMessage("twitch", "c", f"m{n}", author, author, "spam spam", sent_at=float(n))
        return PriorityItem(m, Verdict(cluster=1, priority=40), n, 0.0)

    row = copy(0)
    assert all(row.absorb(copy(n)) for n in range(1, 5_000))
    assert not row.absorb(copy(4_999))  # the same message twice counts once
    assert (row.count, len(row.by_author), len(row.members)) == (5_000, 300, KEEP_MEMBERS)
    assert len(row.member_keys) == KEEP_MEMBERS and row.group[-1].message.id == "m4999"


def test_a_flood_row_keeps_its_latest_authors_when_a_campaign_brings_too_many() -> None:
    from vigile.connectors.model import ChatMessage, Verdict
    from vigile.tui.flagged import KEEP_AUTHORS, PriorityItem

    def copy(n: int, author: str) -> PriorityItem:
        m = ChatMessage("twitch", "c", f"m{n}", author, author, "spam spam", sent_at=float(n))
        return PriorityItem(m, Verdict(cluster=1, priority=40), n, 0.0)

    row = copy(0, "first")
    for n in range(1, KEEP_AUTHORS + 100):
        row.absorb(copy(n, f"bot{n}"))
    assert len(row.by_author) == KEEP_AUTHORS and row.authors_let_go == 100
    assert "first" not in row.by_author and "bot99" not in row.by_author
    row.absorb(copy(KEEP_AUTHORS + 100, "bot50"))  # an early author back: kept again, newest
    assert row.by_author["bot50"].message.id == f"m{KEEP_AUTHORS + 100}"
    assert list(row.by_author)[-1] == "bot50" and len(row.by_author) == KEEP_AUTHORS
    assert "bot100" not in row.by_author and "bot101" in row.by_author  # the quietest went


async def test_one_clock_the_chat_s_own_time_named_once(tmp_path) -> None:
    from vigile.connectors.model import ChatMessage

    source = FedSource()
    app = desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        sent = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC; it arrives later
        source.queue.put_nowait(
            ChatMessage("twitch", "fed", "x1", "id-troll", "troll", "t'es qu'une salope", sent)
        )
        feed = app.query_one(LiveFeed)
        await wait_for(pilot, lambda: feed.line_count == 1)
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "Live feed (UTC)" in text
        assert "14:13:20" in text  # the sent time, not the arrival time
        assert text.count("UTC") == 1  # the zone is named once on the screen
        pane = app.query_one(PriorityPane)
        await wait_for(pilot, lambda: len(pane.items) == 1)
        pane.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        card = app.screen.body.plain
        assert "first seen 14:13:20 (times: the chat's, UTC)" in card
        assert "1 message this session" in card
        assert card.count("UTC") == 1
        await pilot.press("escape")
        await pilot.press("q")


async def test_the_rule_list_keeps_one_line_per_rule_and_says_what_its_figures_are(
    tmp_path,
) -> None:
    from vigile.tui.widgets.rule_editor import RuleEditorScreen

    app = desk(tmp_path, FedSource())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RuleEditorScreen))
        await pilot.pause(0.2)
        rules = app.triage.rules.packs
        listed = app.screen.query_one("#rule-list")
        assert listed.border_subtitle == "category · severity · terms"
        rows = [line.strip("│╭╮╰╯─ ") for line in screen_text(app).splitlines()]
        first = rules[0].rules[0]
        entry = next(row for row in rows if row.startswith(first.id))
        assert f"{first.category} · s{first.severity} · " in entry
        assert entry.split(" · ")[-1].split()[1].rstrip("│ ") in ("term", "terms")
        # no entry spills onto a line of its own: every row of the list starts with an id,
        # a pack's name or the border
        ids = {r.id for pack in rules for r in pack.rules} | {p.name for p in rules}
        list_width = listed.size.width
        lines = [line[:list_width] for line in screen_text(app).splitlines()[1:-2]]
        inside = [line.strip("│ ") for line in lines if line.startswith("│")]
        assert inside and all(row.split(" ")[0] in ids or not row for row in inside), inside
        await pilot.press("escape")
        await pilot.press("q")


@pytest.mark.parametrize("width", [180, 240])
async def test_the_footer_is_not_cut_on_a_replay_desk(tmp_path, tiny_session, width) -> None:
    from vigile.replay.player import ReplaySource

    app = desk(tmp_path, ReplaySource(tiny_session, speed=1.0))
    async with app.run_test(size=(width, 36)) as pilot:
        await wait_for(pilot, lambda: app.query_one(LiveFeed).line_count >= 1)
        await wait_for(pilot, lambda: screen_text(app).splitlines()[-1].strip() != "")
        footer = screen_text(app).splitlines()[-1]
        assert footer.startswith("b Ban") and "^p palette" in footer, footer
        assert "space Pause replay [ −30 s ] +30 s " in footer, footer  # the last key, whole
        await pilot.press("q")
