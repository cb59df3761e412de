"""The desk header: each source with its state, message and flag rates, queue lag."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from connectors.hub import SourceState, SourceStatus
from tui.inert import inert

STATE_STYLES = {
    SourceState.CONNECTING: Style(color="yellow"),
    SourceState.LIVE: Style(color="green", bold=True),
    SourceState.RECONNECTING: Style(color="yellow", bold=True),
    SourceState.ENDED: Style(dim=True),
    SourceState.FAILED: Style(color="red", bold=True),
}


@dataclass(frozen=True, slots=True)
class DeskFigures:
    title: str
    sources: tuple[SourceStatus, ...]
    messages_per_s: float
    flagged_per_s: float
    messages: int
    flagged: int
    queue: int  # hub items waiting for triage
    unsaved: int  # rows waiting for the store
    rules_version: int = 0
    store_error: str | None = None


def render_figures(f: DeskFigures) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(" VIGILE ", Style(bold=True, reverse=True))
    line.append(f" {inert(f.title)}  ", Style(bold=True))
    for status in f.sources:
        line.append("● ", STATE_STYLES[status.state])
        line.append(f"{inert(status.name)} {status.state}  ")
    line.append(f"msg/s {f.messages_per_s:,.1f}  ", Style(bold=True))
    line.append(f"flagged/s {f.flagged_per_s:,.1f}  ", Style(color="yellow", bold=True))
    line.append(f"total {f.messages:,} / {f.flagged:,} flagged  ", Style(dim=True))
    line.append(f"queue {f.queue}  unsaved {f.unsaved}  rules v{f.rules_version}", Style(dim=True))
    if f.store_error:
        line.append(f"  ⚠ recording: {inert(f.store_error)}", Style(color="red", bold=True))
    return line


class DeskHeader(Static):
    DEFAULT_CSS = """
    DeskHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def show(self, figures: DeskFigures) -> None:
        self.update(render_figures(figures))
