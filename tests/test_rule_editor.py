"""The supervisor's rule editor: rule blocks, the dry run, apply, undo, refusals, write-back."""

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.helpers import SIZE, FedSource, wait_for
from vigile.filters.editing import compare, edited_pack, rule_block
from vigile.filters.matcher import CompiledRules
from vigile.filters.rules import RulePackError, load_pack, load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import SessionPlan
from vigile.replay.store import SessionStore
from vigile.tui.app import VigileApp
from vigile.tui.widgets.priority_pane import PriorityPane
from vigile.tui.widgets.rule_editor import RuleEditorScreen

PACKS = Path(__file__).parent.parent / "filters" / "packs"


def starter(name: str = "hate-fr"):
    return next(p for p in load_starter_packs() if p.name == name)


def test_a_rule_block_is_cut_out_and_put_back_with_its_layout() -> None:
    pack = starter()
    block = rule_block(pack, "sexism-slurs-fr")
    assert block.startswith("[[rules]]") and 'id = "sexism-slurs-fr"' in block
    assert "racism" not in block  # only that rule
    same = edited_pack(pack, "sexism-slurs-fr", block)
    assert same.rules == pack.rules
    changed = edited_pack(pack, "sexism-slurs-fr", block.replace("severity = 4", "severity = 5"))
    assert next(r for r in changed.rules if r.id == "sexism-slurs-fr").severity == 5
    assert [r.id for r in changed.rules] == [r.id for r in pack.rules]  # same place


def test_rules_are_added_and_removed() -> None:
    pack = starter()
    added = edited_pack(
        pack,
        None,
        '[[rules]]\nid = "x"\ncategory = "spam"\nseverity = 2\n'
        'action = "review"\nterms = ["zorglub"]\n',
    )
    assert added.rules[-1].id == "x" and len(added.rules) == len(pack.rules) + 1
    removed = edited_pack(added, "sexism-slurs-fr", None)
    assert "sexism-slurs-fr" not in {r.id for r in removed.rules} and removed.rules[-1].id == "x"


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ('[[rules]]\nid = "sexism-slurs-fr"\ncategory = "sexism"\nseverity = 9\n', "severity"),
        ('[[rules]]\nid = "x"\ncategory = "sexism"\nseverity = 4\nterms = [\n', "TOML"),
        (
            '[[rules]]\nid = "a"\ncategory = "spam"\nseverity = 1\nterms = ["a"]\n'
            '[[rules]]\nid = "b"\ncategory = "spam"\nseverity = 1\nterms = ["b"]\n',
            "exactly one",
        ),
    ],
)
def test_an_invalid_block_is_refused_with_the_reason(block: str, reason: str) -> None:
    with pytest.raises(RulePackError, match=reason):
        edited_pack(starter(), "sexism-slurs-fr", block)


def test_the_dry_run_counts_what_a_change_adds_and_takes_away() -> None:
    packs = load_starter_packs()
    running = CompiledRules(packs)
    fr = next(p for p in packs if p.name == "hate-fr")

    def with_fr(edited):  # the running packs, the French hate pack replaced
        return [edited if p is fr else p for p in packs]

    block = rule_block(fr, "sexism-slurs-fr").replace("terms = [", 'terms = ["virage", ')
    proposed = with_fr(edited_pack(fr, "sexism-slurs-fr", block))
    recent = ["beau virage !", "le virage est fou", "salope", "bonjour", "quel virage"]
    result = compare(running, proposed, recent)
    assert (result.looked_at, result.newly_flagged, result.no_longer_flagged) == (5, 3, 0)
    assert result.still_flagged == 1 and result.new_examples[0] == "beau virage !"
    assert "also flag 3" in result.summary()
    gone = compare(running, with_fr(edited_pack(fr, "sexism-slurs-fr", None)), recent)
    assert gone.no_longer_flagged == 1 and gone.gone_examples == ("salope",)


def editor_desk(tmp_path: Path, source: FedSource, rule_files=()) -> VigileApp:
    packs = [load_pack(f) for f in rule_files] or load_starter_packs()
    plan = SessionPlan("desk", "demo", [source], tmp_path / "desk.db", rule_files=list(rule_files))
    return VigileApp(plan, Triage(packs), moderator="sup")


async def open_editor(pilot, app: VigileApp, rule: str) -> RuleEditorScreen:
    await pilot.press("r")
    await wait_for(pilot, lambda: isinstance(app.screen, RuleEditorScreen))
    editor = app.screen
    options = editor.query_one("OptionList")
    options.highlighted = next(
        i for i in range(options.option_count) if options.get_option_at_index(i).id.endswith(rule)
    )
    await pilot.pause(0.1)
    return editor


async def test_edit_dry_run_apply_and_undo_on_the_desk(tmp_path) -> None:
    source = FedSource()
    app = editor_desk(tmp_path, source)
    async with app.run_test(size=SIZE) as pilot:
        for text in ("beau virage !", "le virage est fou", "bonjour"):
            source.say(text)
        pane = app.query_one(PriorityPane)
        await wait_for(pilot, lambda: app.query_one("#feed").line_count == 3)
        editor = await open_editor(pilot, app, "sexism-slurs-fr")
        area = editor.query_one("TextArea")
        assert 'id = "sexism-slurs-fr"' in area.text
        area.load_text(area.text.replace("terms = [", 'terms = ["virage", '))
        await pilot.press("f3")
        assert "also flag 2 and stop flagging 0" in editor._shown.plain
        assert "would flag: beau virage !" in editor._shown.plain
        assert app.triage.version == 1  # a dry run changes nothing

        area.load_text(area.text.replace("severity = 4", "severity = 12"))
        await pilot.press("f8")
        assert "Refused, the running rules stay" in editor._shown.plain
        assert "severity" in editor._shown.plain and app.triage.version == 1

        area.load_text(area.text.replace("severity = 12", "severity = 4"))
        await pilot.press("f8")
        assert app.triage.version == 2 and "rules v2 are live" in editor._shown.plain
        await pilot.press("escape")
        source.say("quel virage", author="fan")
        await wait_for(pilot, lambda: len(pane.items) == 1)  # the new term flags, live

        await open_editor(pilot, app, "sexism-slurs-fr")
        await pilot.press("f9")
        assert app.triage.version == 3 and "v1's again" in app.screen._shown.plain
        assert app.triage.history[2].packs == app.triage.history[0].packs
        await pilot.press("escape")
        source.say("virage encore", author="fan2")
        await wait_for(pilot, lambda: app.query_one("#feed").line_count == 5)
        await pilot.pause(0.3)
        assert len(pane.items) == 1  # undone: "virage" flags nothing any more
        await pilot.press("q")
    async with await SessionStore.open(tmp_path / "desk.db") as store:
        versions = await store.rows("SELECT version, author, origin FROM rule_versions")
    assert [tuple(v) for v in versions] == [
        (1, "system", "start"),
        (2, "sup", "editor"),
        (3, "sup", "undo to v1"),
    ]


async def test_new_and_removed_rules_and_the_pack_file_follows(tmp_path) -> None:
    pack_file = tmp_path / "mine.toml"
    shutil.copy(PACKS / "scams-en.toml", pack_file)
    source = FedSource()
    app = editor_desk(tmp_path, source, [pack_file])
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, app, "self-promo-en")
        await pilot.press("f2")
        editor.query_one("TextArea").load_text(
            '[[rules]]\nid = "hijacked-tag"\ncategory = "harassment"\nseverity = 3\n'
            'action = "review"\nhashtags = ["#rendslevolant"]\n'
        )
        await pilot.press("f8")
        assert app.triage.version == 2, app.screen._shown.plain
        assert "hijacked-tag" in pack_file.read_text()  # saved to the file it came from
        await open_editor(pilot, app, "self-promo-en")
        await pilot.press("f4")
        assert "stop flagging" in app.screen._shown.plain and app.triage.version == 2
        await pilot.press("f8")
        assert app.triage.version == 3
        assert 'id = "self-promo-en"' not in pack_file.read_text()
        await asyncio.sleep(0.6)  # the pack watcher polls the file: it is already live
        assert app.triage.version == 3 and load_pack(pack_file).rules[-1].id == "hijacked-tag"
        await pilot.press("escape", "q")
