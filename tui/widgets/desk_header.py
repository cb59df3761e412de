"""The desk header: each source with its state, message and flag rates, queue lag; below, the
stream alerts that are up (raids, floods, copypasta, rising hashtags), worst first."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from vigile.connectors.hub import SourceState, SourceStatus
from vigile.filters.alert_notice import AlertNotice
from vigile.tui.inert import inert

ALERT_STYLES = {
    1: Style(color="yellow"),
    2: Style(color="black", bgcolor="yellow"),
    3: Style(color="black", bgcolor="dark_orange", bold=True),
    4: Style(color="white", bgcolor="red", bold=True),
    5: Style(color="white", bgcolor="dark_red", bold=True, underline=True),
}
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
    alerts: tuple[AlertNotice, ...] = ()  # each active alert, with its latest evidence
    team: str = ""  # the team hub link, on a team desk


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
    if f.team:
        line.append(f"  {inert(f.team)}", Style(color="cyan", bold=True))
    if f.store_error:
        line.append(f"  ⚠ recording: {inert(f.store_error)}", Style(color="red", bold=True))
    line.append("\n")
    if not f.alerts:
        line.append(" no alerts", Style(dim=True))
    # One entry per kind and channel, the worst first, so that ten floods do not hide a raid.
    worst: dict[tuple[str, str, str], list[AlertNotice]] = {}
    for alert in sorted(f.alerts, key=lambda a: -a.severity):
        worst.setdefault((alert.kind, alert.platform, alert.channel), []).append(alert)
    for alerts in sorted(worst.values(), key=lambda g: -g[0].severity):
        severity = alerts[0].severity
        more = f" (+{len(alerts) - 1})" if len(alerts) > 1 else ""
        line.append(f" ⚠ {alerts[0].describe()}{more} ", ALERT_STYLES[min(severity, 5)])
        line.append(" ")
    return line


class DeskHeader(Static):
    DEFAULT_CSS = """
    DeskHeader {
        height: 2;
        background: $panel;
        color: $foreground;
    }
    """

    def show(self, figures: DeskFigures) -> None:
        self.update(render_figures(figures))
