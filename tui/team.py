"""The desk's side of the team: its share of the queue, what the hub's frames change on
screen, and the roster screen (`m`)."""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from vigile.team.client import TeamLink
from vigile.tui.chat_text import inert
from vigile.tui.flagged import ItemState, PriorityItem
from vigile.tui.widgets.priority_pane import PriorityPane

_RESPONSES_KEPT = 100  # the median response time the roster shows is over these


@dataclass(frozen=True, slots=True)
class Share:
    """The part of the queue a moderator watches: some platforms, some categories, or all."""

    platforms: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Share:
        """`platform:twitch`, `category:sexism`… (ValueError names a wrong one)."""
        platforms, categories = set(), set()
        for spec in specs:
            what, _, value = spec.partition(":")
            if what == "platform" and value in ("twitch", "youtube"):
                platforms.add(value)
            elif what == "category" and value:
                categories.add(value)
            else:
                raise ValueError(
                    f"--share {spec!r}: use platform:twitch, platform:youtube or category:NAME"
                )
        return cls(frozenset(platforms), frozenset(categories))

    def covers(self, item: PriorityItem) -> bool:
        if self.platforms and item.message.platform not in self.platforms:
            return False
        return not self.categories or not self.categories.isdisjoint(item.verdict.labels)

    def wire(self) -> dict[str, list[str]]:
        return {"platforms": sorted(self.platforms), "categories": sorted(self.categories)}


class DeskTeam:
    """Buffers the link's frames (they arrive between frames) and applies them at the next
    drain; keeps this desk's response times for the roster."""

    def __init__(self, link: TeamLink, share: Share) -> None:
        self.link, self.share = link, share
        self.inbox: deque[dict[str, Any]] = deque(maxlen=10_000)
        self.responses: deque[float] = deque(maxlen=_RESPONSES_KEPT)
        self.handled = 0
        link.listeners.append(self.inbox.append)

    def admit(self, item: PriorityItem) -> bool:
        """Whether a new item enters the pane: in this desk's share and not handled by another
        desk; one claimed or escalated elsewhere shows it from the start."""
        key = item.message.key
        done = self.link.handled.get(key)
        if not self.share.covers(item) or (done is not None and done[0] != "escalate"):
            return False
        if (holder := self.link.claims.get(key)) is not None:
            item.state, item.claimed_by = ItemState.CLAIMED, holder
        elif done is not None:
            item.state = ItemState.ESCALATED
        return True

    def acted(self, item: PriorityItem, kind: str, now: float) -> None:
        self.link.done(item.message.key, kind)
        self.handled += 1
        self.responses.append(max(0.0, now - item.flagged_at))

    def report(self, queue: int) -> None:
        median = statistics.median(self.responses) if self.responses else None
        self.link.status(queue, self.handled, None if median is None else round(median, 1))

    def apply(self, pane: PriorityPane) -> list[tuple[str, str]]:
        """Apply what the hub said; returns what to tell the moderator, with a severity."""
        told: list[tuple[str, str]] = []
        me = self.link.name
        while self.inbox:
            frame = self.inbox.popleft()
            kind = frame["type"]
            if kind == "claimed":
                pane.mark_claim(frame["key"], frame["by"])
            elif kind == "released":
                pane.mark_claim(frame["key"], None)
            elif kind == "handled" and frame["by"] != me:
                pane.handled_elsewhere(frame["key"], frame["kind"])
            elif kind == "rules" and frame.get("author") != me:
                told.append(
                    (
                        f"Team rules v{frame['version']} from {frame.get('author')} are live",
                        "information",
                    )
                )
            elif kind == "refused" and frame["what"] == "rules":
                told.append((f"Rules: {frame['reason']}", "error"))
            elif kind == "link" and frame["state"] == "online":
                told.append((f"Team hub joined as {self.link.role}", "information"))
            elif kind == "link" and frame["state"] == "refused":
                told.append((f"Team hub: {frame['problem']}. This desk works alone.", "error"))
            elif kind == "link":
                told.append(
                    (
                        f"Team hub {frame['state']}: {frame['problem']}. This desk goes on "
                        "alone and catches up when the hub is back.",
                        "warning",
                    )
                )
        return told

    def summary(self) -> str:
        """For the header: the link, the team's rules version, how many desks."""
        link = self.link
        if link.state == "online":
            return f"team ● {link.role} · v{link.hub_version} · {len(link.roster)} desks"
        return f"team ○ {link.state}"


def _clock(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S") if ts else "—"


def roster_table(link: TeamLink) -> Table:
    table = Table(title="Desks", expand=True, title_justify="left")
    for column in ("Desk", "Role", "Share", "Queue", "Handled", "Median response", "Since"):
        table.add_column(column)
    for m in link.roster:
        share = m.get("share") or {}
        parts = [*share.get("platforms", []), *share.get("categories", [])]
        p50 = m.get("response_p50_s")
        table.add_row(
            Text(inert(str(m["name"])), style="bold"),
            str(m["role"]),
            Text(inert(", ".join(parts) or "everything")),
            str(m.get("queue", 0)),
            str(m.get("handled", 0)),
            "—" if p50 is None else f"{p50:.0f} s",
            _clock(m["since"]),
        )
    return table


def alerts_table(link: TeamLink) -> Table:
    table = Table(title="Alerts up on the team", expand=True, title_justify="left")
    for column in ("Alert", "First seen by", "Since"):
        table.add_column(column)
    for a in link.alerts:
        table.add_row(
            Text(inert(str(a.get("summary") or a["key"]))),
            Text(inert(str(a["by"]))),
            _clock(a.get("since")),
        )
    return table


class TeamScreen(Screen[None]):
    """Who is connected, their load and response times; the alerts the team has up."""

    BINDINGS = [Binding("escape,m", "close", "Back to the desk", id="team.close")]
    DEFAULT_CSS = "TeamScreen #team-state { padding: 0 1; height: auto; }"

    def __init__(self, link: TeamLink) -> None:
        super().__init__()
        self.link = link

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="team-state")
            yield Static(id="team-roster")
            yield Static(id="team-alerts")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_tables()
        self.set_interval(1.0, self.refresh_tables)

    def refresh_tables(self) -> None:
        link = self.link
        state = Text(f"Hub {inert(link.url)}: {link.state}", style="bold")
        if link.problem and link.state != "online":
            state.append(f" ({inert(link.problem)})", "red")
        state.append(f" · team rules v{link.hub_version} · {len(link.claims)} claims up")
        self.query_one("#team-state", Static).update(state)
        self.query_one("#team-roster", Static).update(roster_table(link))
        self.query_one("#team-alerts", Static).update(alerts_table(link))

    def action_close(self) -> None:
        self.dismiss(None)
