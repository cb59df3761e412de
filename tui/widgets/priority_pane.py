"""The priority pane: flagged messages that need a human, highest priority first, then oldest."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable

from connectors.model import ActionKind, ChatMessage, Verdict, utc_now
from tui.inert import highlighted, inert
from tui.widgets.live_feed import PLATFORM_STYLES, paid

_MATCH_STYLE = Style(reverse=True, bold=True)
FLUSH_S = 0.25
COLUMNS = (
    ("pri", "Pri"),
    ("age", "Age"),
    ("src", "Src"),
    ("author", "Author"),
    ("category", "Category"),
    ("message", "Message"),
)


class _PriorityCell(Text):
    """The priority cell also carries the pane's sort order: priority first, then oldest."""

    order: tuple[int, float] = (0, 0.0)


def format_age(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h"


@dataclass(slots=True)
class PriorityItem:
    message: ChatMessage
    verdict: Verdict
    seq: int | None
    flagged_at: float
    state: str = "new"
    # A near-duplicate flood is one row: its messages, the first one included.
    members: list[PriorityItem] = field(default_factory=list)
    member_keys: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        """The row: the message, or the cluster it belongs to."""
        m = self.message
        cluster = next((t for t in self.verdict.tags if t.startswith("cluster:")), None)
        return f"{m.platform}:{m.channel}:{cluster}" if cluster else m.key

    @property
    def group(self) -> list[PriorityItem]:
        return self.members or [self]


class PriorityPane(DataTable[Text | str]):
    """Bounded: past `max_items`, the lowest-priority oldest item leaves the pane (it stays in
    the session store). Rows are keyed by the message's platform key."""

    DEFAULT_CSS = """
    PriorityPane {
        background: $panel;
    }
    """
    BINDINGS = [
        Binding("b", "act('ban')", "Ban", id="priority.ban", tooltip="Ban the author"),
        Binding(
            "t",
            "act('timeout', 600)",
            "Timeout 10 min",
            id="priority.timeout",
            tooltip="Time the author out for ten minutes",
        ),
        Binding("x", "act('delete')", "Delete", id="priority.delete", tooltip="Delete the message"),
        Binding("w", "act('warn')", "Warn", id="priority.warn", tooltip="Warn the author"),
        Binding(
            "d", "act('dismiss')", "Dismiss", id="priority.dismiss", tooltip="Nothing to do here"
        ),
    ]

    @dataclass
    class ActionRequested(Message):
        item: PriorityItem
        kind: ActionKind
        duration_s: int | None = None

    def __init__(self, max_items: int = 300, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.max_items = max_items
        self.items: dict[str, PriorityItem] = {}
        self._pending: list[PriorityItem] = []
        self._flush_timer: Timer | None = None

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def add_items(self, batch: list[PriorityItem]) -> None:
        """Queued, then shown at most FLUSH_S apart: re-sorting and redrawing the rows on every
        frame of a raid would leave the keys waiting."""
        if not batch:
            return
        self._pending.extend(batch)
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_S, self.flush)

    def flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        if len(batch) > self.max_items:  # the rest would only be evicted again (all are stored)
            batch = sorted(batch, key=lambda i: (-i.verdict.priority, -i.flagged_at))
            batch = batch[: self.max_items]
        grown: set[str] = set()
        for item in batch:
            key = item.key
            row = self.items.get(key)
            if row is None:
                self.items[key] = item
                self.add_row(*self._cells(item), key=key)
            elif key != item.message.key and item.message.key not in row.member_keys:
                if not row.members:
                    row.members.append(row)
                    row.member_keys.add(row.message.key)
                row.members.append(item)
                row.member_keys.add(item.message.key)
                grown.add(key)
        for key in grown:
            self.update_cell(key, "message", self._text(self.items[key]))
        if len(self.items) > self.max_items:
            by_weakness = sorted(
                self.items.values(), key=lambda i: (i.verdict.priority, -i.flagged_at)
            )
            for weakest in by_weakness[: len(self.items) - self.max_items]:
                self._remove(weakest.key)
        self.sort("pri", key=lambda cell: cell.order)

    def _cells(self, item: PriorityItem) -> tuple[Text | str, ...]:
        m, v = item.message, item.verdict
        priority = _PriorityCell(str(v.priority), style="bold")
        priority.order = (-v.priority, item.flagged_at)
        return (
            priority,
            format_age(utc_now() - item.flagged_at),
            Text(m.platform[:2], style=PLATFORM_STYLES.get(m.platform, Style(bold=True))),
            Text(inert(m.author_name)),
            Text(", ".join(sorted(t for t in v.tags if not t.startswith("cluster:")))),
            self._text(item),
        )

    @staticmethod
    def _text(item: PriorityItem) -> Text:
        m, v = item.message, item.verdict
        text = highlighted(m.text, [x.span for x in v.matches], _MATCH_STYLE)
        if m.amount is not None:
            text = Text(f"[{paid(m)}] ", style="bold green") + text
        if item.members:
            authors = len({member.message.author_id for member in item.members})
            count = Text(f"×{len(item.members)} ({authors} authors) ", style="bold magenta")
            text = count + text
        return text

    def refresh_ages(self) -> None:
        now = utc_now()
        for key, item in self.items.items():
            self.update_cell(key, "age", format_age(now - item.flagged_at))

    def selected(self) -> PriorityItem | None:
        if not self.items or self.cursor_row < 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:
            return None
        return self.items.get(str(row_key.value))

    def _remove(self, key: str) -> None:
        if self.items.pop(key, None) is not None:
            self.remove_row(key)

    def action_act(self, kind: str, duration_s: int | None = None) -> None:
        item = self.selected()
        if item is not None and item.state != "sending":
            self.post_message(self.ActionRequested(item, ActionKind(kind), duration_s))

    def gone(
        self, platform: str, message_id: str | None = None, author_id: str | None = None
    ) -> None:
        """The platform removed a message, or all of an author's (a ban, a timeout, a purge,
        by this desk or another moderator): single items about it have nothing left to do."""
        for key, item in list(self.items.items()):
            m = item.message
            if item.members or m.platform != platform or item.state == "sending":
                continue
            if m.id == message_id or (author_id is not None and m.author_id == author_id):
                self._remove(key)

    def set_state(self, item: PriorityItem, state: str) -> None:
        """`sending` while the platform answers; `handled` and `dismissed` leave the pane."""
        item.state = state
        if state in ("handled", "dismissed"):
            self._remove(item.key)
