"""The check before a suggested rule goes live: the rule, and what it would have caught among
the messages on screen. Enter applies it, Escape leaves the rules as they are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from vigile.filters.suggestions import DryRun, rule_toml
from vigile.replay.counts import count
from vigile.tui.chat_text import inert


class SuggestionScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    SuggestionScreen {
        align: center middle;
    }
    SuggestionScreen > Vertical {
        width: 90;
        height: auto;
        border: thick $warning;
        background: $panel;
        padding: 1 2;
    }
    """
    BINDINGS = [
        Binding("enter", "apply", "Apply the rule", id="suggestion.apply"),
        Binding("escape", "cancel", "Cancel", id="suggestion.cancel"),
    ]

    def __init__(self, why: str, rule: Mapping[str, Any], result: DryRun) -> None:
        super().__init__()
        self.why, self.rule, self.result = why, rule, result

    def compose(self) -> ComposeResult:
        r = self.result
        text = Text()
        text.append("Suggested by: ", "bold")
        text.append(inert(self.why) + "\n\n")
        text.append("Rule (as the rule editor will show it)\n", "bold")
        for line in rule_toml(self.rule).splitlines():  # line by line: inert marks a newline
            text.append(inert(line) + "\n", "green")
        text.append("\n")
        text.append("Dry run on the messages on screen\n", "bold")
        text.append(
            f"would flag {r.would_flag:,} of the last {count(r.looked_at, 'message')} "
            f"({r.already_flagged:,} already flagged by the running rules)\n"
        )
        for example in r.examples:
            text.append(f"  · {inert(example)}\n", "dim")
        with Vertical():
            yield Static(text, id="suggestion-body")
        yield Footer()

    def action_apply(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
