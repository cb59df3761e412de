"""The desk header: each source with its state, message and flag rates, queue lag; below, the
stream alerts that are up (raids, floods, copypasta, rising hashtags), worst first."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from vigile.connectors.model import PlatformEvent
from vigile.connectors.sources import SourceState, SourceStatus
from vigile.tui.chat_text import inert

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
    alerts: tuple[PlatformEvent, ...] = ()  # the latest event of each active alert
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
    worst: dict[tuple[str, str, str], list[PlatformEvent]] = {}
    for alert in sorted(f.alerts, key=lambda a: -int(a.data.get("severity", 0))):
        worst.setdefault((alert.kind, alert.platform, alert.channel), []).append(alert)
    for alerts in sorted(worst.values(), key=lambda g: -int(g[0].data.get("severity", 0))):
        severity = int(alerts[0].data.get("severity", 1))
        more = f" (+{len(alerts) - 1})" if len(alerts) > 1 else ""
        line.append(f" ⚠ {describe_alert(alerts[0])}{more} ", ALERT_STYLES[min(severity, 5)])
        line.append(" ")
    return line


def describe_alert(alert: PlatformEvent) -> str:
    """One short phrase per alert, for the header (chat text in it made inert)."""
    kind, d = alert.kind.removeprefix("alert:"), alert.data
    where = f"{alert.platform[:2]}:{alert.channel}"
    if kind == "raid":
        size = d.get("flagged_authors") or d.get("viewers") or "?"
        who = f" from {d['raider']}" if d.get("raider") else ""
        detail = f"{size} accounts" if d.get("source") == "behaviour" else f"{size} viewers"
        return inert(f"RAID{who} {where} · {detail}")
    if kind == "copypasta":
        return inert(f"COPYPASTA {where} ×{d.get('messages')} by {d.get('authors')}")
    if kind == "flood":
        return f"FLOOD {inert(where)} {d.get('messages_10s')} msg/10 s"
    if kind in ("rising-hashtag", "rising-term"):
        return inert(f"RISING {d.get('hashtag') or d.get('term')} {where}")
    if kind == "author-burst":
        return inert(f"BURST {d.get('author')} ×{d.get('messages')} {where}")
    return inert(f"{kind.upper()} {where}")


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
