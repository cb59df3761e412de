"""The supervisor's screen: the running rules, one rule's TOML to edit, the dry run that shows
what a change would catch among the session's recent messages, apply, and undo.

An edit is validated before anything changes; a refused one shows its reason and the running
rules stay. Apply swaps the whole rule set at once (`Triage.swap`), which records a version.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from vigile.filters.editing import NEW_RULE, compare, edited_pack, rule_block
from vigile.filters.rules import Rule, RulePack, RulePackError
from vigile.filters.suggestions import PACK_NAME as SUGGESTIONS
from vigile.replay.counts import count
from vigile.tui.chat_text import inert
from vigile.tui.desk import Desk


def rule_entry(rule: Rule) -> Text:
    """One line of the rule list, never wrapped: the id, then its category, severity (s1-s5)
    and how many terms and hashtags it holds, as the list's subtitle explains."""
    entry = Text(no_wrap=True, overflow="ellipsis", end="")
    entry.append(inert(rule.id), "bold")
    entry.append(f"  {rule.category} · s{rule.severity} · ", "dim")
    entry.append(count(len(rule.terms) + len(rule.hashtags), "term"), "dim")
    return entry


class RuleEditorScreen(Screen[None]):
    """The supervisor's rule editor, over the desk: the running rules listed on the left, the
    chosen rule's TOML block to edit on the right, and the result of the last dry run or apply.

    A dry run compiles the edited packs and compares them with the running rules on the
    `recent()` messages (what they would flag, what they would stop flagging). Apply swaps the
    whole rule set into `triage` (a new version, by `author`), pushes the version it replaced
    onto `undo_stack` and hands the packs to `write_back` (their files).
    `locked()` says why this desk may not change rules now (a team's moderator), or None.
    """

    DEFAULT_CSS = """
    RuleEditorScreen #rule-list { width: 52; height: 1fr; border: round $primary; }
    RuleEditorScreen #rule-side { width: 1fr; }
    RuleEditorScreen #rule-text { height: 1fr; border: round $accent; }
    RuleEditorScreen #rule-hint { height: 1; padding: 0 1; color: $text-muted; }
    RuleEditorScreen #rule-result { height: auto; max-height: 14; border: round $warning;
                                    padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back to the desk", id="rules.close"),
        Binding("f2", "new_rule", "New rule", id="rules.new"),
        Binding("f4", "remove_rule", "Remove rule", id="rules.remove"),
        # F5 to F7 select text in a TextArea: these keys are free in it
        Binding("f3,ctrl+t", "dry_run", "Dry run", id="rules.dry_run"),
        Binding("f8,ctrl+s", "apply", "Apply", id="rules.apply"),
        Binding("f9", "undo", "Undo last change", id="rules.undo"),
    ]

    def __init__(self, desk: Desk, recent: Callable[[], list[str]]) -> None:
        """`desk` changes the rules (and undoes, and refuses on a team's moderator desk);
        `recent` is the chat a dry run is measured on."""
        super().__init__()
        self.desk, self.triage, self.recent = desk, desk.triage, recent
        self.target: tuple[int, str | None] | None = None  # (pack index, rule id; None: new)
        self.removing = False
        self._shown = Text()

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield OptionList(id="rule-list")
            with Vertical(id="rule-side"):
                yield Static("Pick a rule, or F2 for a new one.", id="rule-hint")
                yield TextArea("", id="rule-text", soft_wrap=True, show_line_numbers=True)
                yield Static("", id="rule-result")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rule-list").border_title = "Rules"
        self._fill_list()
        self.query_one(OptionList).focus()

    # -- the list -----------------------------------------------------------------------------

    def _packs(self) -> list[RulePack]:
        return list(self.triage.rules.packs)

    def _fill_list(self, select: str | None = None) -> None:
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for index, pack in enumerate(self._packs()):
            heading = Text(inert(pack.name), "bold underline")
            options.add_option(Option(heading, id=f"pack-{index}", disabled=True))
            for rule in pack.rules:
                options.add_option(Option(rule_entry(rule), id=f"{index}:{rule.id}"))
        self.query_one("#rule-list").border_title = f"Rules (v{self.triage.version})"
        self.query_one("#rule-list").border_subtitle = "category · severity · terms"
        if select is not None:
            try:
                options.highlighted = options.get_option_index(select)
            except Exception:  # the rule is gone (removed): stay near where the cursor was
                options.highlighted = min(highlighted or 0, options.option_count - 1)
        elif highlighted is not None and options.option_count:
            options.highlighted = min(highlighted, options.option_count - 1)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if str(event.option.id).startswith("pack-"):  # a pack's heading, not a rule
            return
        index, _, rule_id = str(event.option.id).partition(":")
        pack = self._packs()[int(index)]
        self.target, self.removing = (int(index), rule_id), False
        self.query_one(TextArea).load_text(rule_block(pack, rule_id))
        self._hint(f"{pack.name} ({pack.origin}) › {rule_id}: edit, then F3 dry run, F8 apply")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one(TextArea).focus()

    # -- editing ------------------------------------------------------------------------------

    def _editable_pack(self) -> int:
        """New rules go into the highlighted rule's pack, else the first pack of one's own."""
        if self.target is not None:
            return self.target[0]
        names = [p.name for p in self._packs()]
        return next((i for i, name in enumerate(names) if name != SUGGESTIONS), 0)

    def action_new_rule(self) -> None:
        self.target, self.removing = (self._editable_pack(), None), False
        area = self.query_one(TextArea)
        area.load_text(NEW_RULE)
        area.focus()
        pack = self._packs()[self.target[0]]
        self._hint(f"a new rule for {pack.name}: write it, then F3 dry run, F8 apply")

    def action_remove_rule(self) -> None:
        if self.target is None or self.target[1] is None:
            self._say(Text("Pick a rule to remove first.", style="bold red"))
            return
        self.removing = True
        self.action_dry_run()
        self._append(Text("\nF8 removes it; pick another rule to cancel.", style="bold"))

    def _proposed(self) -> list[RulePack]:
        if self.target is None:
            raise RulePackError("the editor", None, "pick a rule or start a new one (F2) first")
        index, rule_id = self.target
        packs = self._packs()
        block = None if self.removing else self.query_one(TextArea).text
        packs[index] = edited_pack(packs[index], rule_id, block)
        return packs

    def action_dry_run(self) -> None:
        try:
            packs = self._proposed()
            result = compare(self.triage.rules, packs, self.recent())
        except RulePackError as error:
            self._refused(error)
            return
        text = Text("Dry run: ", style="bold")
        text.append(result.summary() + "\n")
        for label, examples in (
            ("would flag", result.new_examples),
            ("would stop flagging", result.gone_examples),
        ):
            for example in examples:
                text.append(f"  {label}: ", "dim")
                text.append(inert(example) + "\n")
        self._say(text)

    def _refuse_if_locked(self) -> bool:
        if (why := self.desk.rules_locked()) is not None:
            self._say(Text(f"Not applied: {inert(why)}", style="bold red"))
            return True
        return False

    def action_apply(self) -> None:
        if self._refuse_if_locked():
            return
        try:
            packs = self._proposed()
            version = self.desk.change_rules(packs, "editor")
        except RulePackError as error:
            self._refused(error)
            return
        what = "removed" if self.removing else "applied"
        rule_id = self._new_rule_id(packs) if self.target and self.target[1] is None else None
        select = f"{self.target[0]}:{rule_id or self.target[1]}" if self.target else None
        self.removing = False
        self._fill_list(select)
        self._say(
            Text(f"{what}: rules v{version.version} are live (F9 undoes it)", style="bold green")
        )

    def _new_rule_id(self, packs: list[RulePack]) -> str | None:
        if self.target is None:
            return None
        return packs[self.target[0]].rules[-1].id if packs[self.target[0]].rules else None

    def action_undo(self) -> None:
        if self._refuse_if_locked():
            return
        undone = self.desk.undo()
        if undone is None:
            self._say(Text("Nothing to undo.", style="bold"))
            return
        previous, version = undone
        self.target = None
        self._fill_list()
        self._say(
            Text(f"undone: rules v{version.version} are v{previous}'s again", style="bold green")
        )

    def action_close(self) -> None:
        self.dismiss(None)

    # -- the result panel ---------------------------------------------------------------------

    def _refused(self, error: RulePackError) -> None:
        text = Text("Refused, the running rules stay: ", style="bold red")
        text.append(inert(str(error)))
        self._say(text)

    def _hint(self, text: str) -> None:
        self.query_one("#rule-hint", Static).update(Text(inert(text)))

    def _say(self, text: Text) -> None:
        self._shown = text
        self.query_one("#rule-result", Static).update(text)

    def _append(self, more: Text) -> None:
        self._say(self._shown + more)
