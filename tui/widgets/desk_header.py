"""The desk header: each source with its state, message and flag rates, queue lag; below, the
stream alerts that are up (raids, floods, copypasta, rising hashtags), worst first."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from vigile.connectors.sources import SourceStatus
from vigile.filters.alert_notice import AlertNotice
from vigile.tui.chat_text import inert
from vigile.tui.widgets.span_styles import SpanStyles


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
    paused: tuple[tuple[str, float], ...] = ()  # replays on hold: (source name, position s)
    archive: str = ""  # the agency archive: pushed so far, or why not; the watchlist's size
    twitch: str = ""  # Twitch's Shield Mode, a lockdown, AutoMod's held messages


def render_figures(f: DeskFigures, styles: SpanStyles) -> Text:
    """The two lines; their colours are the header's component classes (`styles["live"]`…)."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(" VIGILE ", Style(bold=True, reverse=True))
    line.append(f" {inert(f.title)}  ", Style(bold=True))
    paused = dict(f.paused)
    for status in f.sources:
        if status.name in paused:  # a state of its own: the chat stands still on purpose
            position = int(paused[status.name])
            line.append("❚❚ ", styles["paused"])
            line.append(f"{inert(status.name)} ", styles["paused"])
            line.append(f"PAUSED at {position // 60}:{position % 60:02d}", styles["paused"])
            line.append("  ")
            continue
        line.append("● ", styles[status.state.value])
        line.append(f"{inert(status.name)} {status.state}  ")
    line.append(f"msg/s {f.messages_per_s:,.1f}  ", Style(bold=True))
    line.append(f"flagged/s {f.flagged_per_s:,.1f}  ", styles["flagged-rate"])
    line.append(f"total {f.messages:,} / {f.flagged:,} flagged  ", styles["figure"])
    line.append(f"queue {f.queue}  unsaved {f.unsaved}  rules v{f.rules_version}", styles["figure"])
    if f.team:
        line.append(f"  {inert(f.team)}", styles["team"])
    if f.archive:
        warn = "⚠" in f.archive
        line.append(f"  {inert(f.archive)}", styles["store-error" if warn else "team"])
    if f.store_error:
        line.append(f"  ⚠ recording: {inert(f.store_error)}", styles["store-error"])
    line.append("\n")
    if f.twitch:  # the channel's state on Twitch before the alerts: a lockdown shapes them
        line.append(f" {inert(f.twitch)} ", styles["store-error"])
    if not f.alerts:
        line.append(" no alerts", styles["figure"])
    # One entry per kind and channel, the worst first, so that ten floods do not hide a raid.
    worst: dict[tuple[str, str, str], list[AlertNotice]] = {}
    for alert in sorted(f.alerts, key=lambda a: -a.severity):
        worst.setdefault((alert.kind, alert.platform, alert.channel), []).append(alert)
    for alerts in sorted(worst.values(), key=lambda g: -g[0].severity):
        severity = alerts[0].severity
        more = f" (+{len(alerts) - 1})" if len(alerts) > 1 else ""
        line.append(f" ⚠ {alerts[0].describe()}{more} ", styles[f"alert-{min(severity, 5)}"])
        line.append(" ")
    return line


class DeskHeader(Widget):
    """Drawn from the latest figures it was shown, in the theme's colours: a theme switch
    redraws it (the component styles change, and Textual refreshes the widget)."""

    DEFAULT_CSS = """
    DeskHeader {
        height: 2;
        background: $panel;
        color: $foreground;
        & > .desk-header--connecting { color: $text-warning; }
        & > .desk-header--live { color: $text-success; text-style: bold; }
        & > .desk-header--reconnecting { color: $text-warning; text-style: bold; }
        & > .desk-header--ended { color: $text-muted; }
        & > .desk-header--failed { color: $text-error; text-style: bold; }
        & > .desk-header--paused { color: $text; background: $warning; text-style: bold; }
        & > .desk-header--flagged-rate { color: $text-warning; text-style: bold; }
        & > .desk-header--figure { color: $text-muted; }
        & > .desk-header--team { color: $text-accent; text-style: bold; }
        & > .desk-header--store-error { color: $text-error; text-style: bold; }
        & > .desk-header--alert-1 { color: $text-warning; }
        & > .desk-header--alert-2 { color: $text; background: $warning-muted; }
        & > .desk-header--alert-3 { color: $text; background: $warning; text-style: bold; }
        & > .desk-header--alert-4 { color: $text; background: $error; text-style: bold; }
        & > .desk-header--alert-5 {
            color: $text;
            background: $error-darken-2;
            text-style: bold underline;
        }
    }
    """
    COMPONENT_CLASSES = {
        # a source's state (SourceState values)
        "desk-header--connecting",
        "desk-header--live",
        "desk-header--reconnecting",
        "desk-header--ended",
        "desk-header--failed",
        "desk-header--paused",  # a replay on hold
        "desk-header--flagged-rate",
        "desk-header--figure",  # totals, queue, rules version, "no alerts"
        "desk-header--team",
        "desk-header--store-error",
        # alerts, by severity
        "desk-header--alert-1",
        "desk-header--alert-2",
        "desk-header--alert-3",
        "desk-header--alert-4",
        "desk-header--alert-5",
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._styles = SpanStyles(self, "desk-header--")
        self._figures: DeskFigures | None = None

    def show(self, figures: DeskFigures) -> None:
        self._figures = figures
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def render(self) -> Text:
        if self._figures is None:
            return Text()
        return render_figures(self._figures, self._styles)
