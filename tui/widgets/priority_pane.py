"""The priority pane: flagged messages that need a human, highest priority first, then oldest.

Drawn with the Line API (only the visible rows are rendered, each from a cached strip), so a
raid that adds hundreds of items a second never makes a key press wait. The selection follows
its item, not a row number: new items sliding in above never move what the moderator is on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from vigile.connectors.actions import out_of_reach
from vigile.connectors.model import ActionKind, utc_now
from vigile.tui.chat_text import before_text, hidden_spans, highlighted, inert
from vigile.tui.flagged import LEAVING, ItemState, PriorityItem
from vigile.tui.widgets.live_feed import paid
from vigile.tui.widgets.span_styles import SpanStyles

FLUSH_S = 0.25
# Column widths in cells; the message takes the rest.
WIDTHS = {"pri": 4, "age": 6, "src": 4, "author": 16, "category": 14, "state": 9}
HEADER = ("Pri", "Age", "Src", "Author", "Category", "")
ROW_CACHE = 1_024  # rows drawn (after the age), by item and what they show of its state
# Text styles alone, no colour: the theme's foreground shows through them.
_HEADER_STYLE = Style(bold=True, underline=True)
_BOLD = Style(bold=True)
_STATES = {  # what a row shows of its state, and the component class it is drawn in
    "new": ("", None),
    "sending": ("…", "sending"),
    "claimed": ("●", "claimed"),
    "escalated": ("⇪ sup", "escalated"),
}


def format_age(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h"


def _cell(text: Text | str, width: int, style: Style | str = "") -> Text:
    cell = text if isinstance(text, Text) else Text(text, style=style)
    cell.truncate(width - 1, overflow="ellipsis", pad=True)
    cell.append(" ")
    return cell


class PriorityPane(ScrollView, can_focus=True):
    """Bounded: past `max_items`, the lowest-priority oldest item leaves the pane (it stays in
    the session store). Items are keyed by their message's platform key, or their cluster."""

    DEFAULT_CSS = """
    PriorityPane {
        background: $panel;
        overflow-x: hidden;
        & > .priority-pane--age { color: $text-muted; }
        & > .priority-pane--age-warning { color: $text-warning; text-style: bold; }
        & > .priority-pane--age-late { color: $text-error; text-style: bold; }
        & > .priority-pane--twitch { color: $text-primary; text-style: bold; }
        & > .priority-pane--youtube { color: $text-error; text-style: bold; }
        & > .priority-pane--sending { color: $text-muted; }
        & > .priority-pane--claimed { color: $text-accent; }
        & > .priority-pane--escalated { color: $text-secondary; text-style: bold; }
        & > .priority-pane--paid { color: $text-success; text-style: bold; }
        & > .priority-pane--flood { color: $text-secondary; text-style: bold; }
        & > .priority-pane--known { color: $text-error; text-style: bold; }
        & > .priority-pane--held { color: $text-warning; text-style: bold italic; }
        & > .priority-pane--suspect { color: $text-error; text-style: bold; }
        & > .priority-pane--match { text-style: bold reverse; }
        & > .priority-pane--blurred { text-style: bold reverse; }
        & > .priority-pane--cursor { text-style: reverse; }
        & > .priority-pane--cursor-blurred { background: $block-cursor-blurred-background; }
        & > .priority-pane--notice { color: $text-accent; text-style: italic; }
        & > .priority-pane--shared { color: $text-secondary; text-style: bold; }
    }
    """
    COMPONENT_CLASSES = {
        "priority-pane--age",
        "priority-pane--age-warning",  # past the first response target
        "priority-pane--age-late",  # past the second
        "priority-pane--twitch",
        "priority-pane--youtube",
        "priority-pane--sending",
        "priority-pane--claimed",
        "priority-pane--escalated",
        "priority-pane--paid",
        "priority-pane--flood",  # a flood row's count of messages and authors
        "priority-pane--known",  # an account sanctioned in earlier events (the archive's)
        "priority-pane--held",  # a message Twitch's AutoMod holds: not in chat
        "priority-pane--suspect",  # an author Twitch marks (monitored, restricted)
        "priority-pane--match",
        "priority-pane--blurred",  # a match the blur option hides
        "priority-pane--cursor",  # the selected row, pane focused
        "priority-pane--cursor-blurred",  # the selected row, focus elsewhere
        "priority-pane--notice",  # a sub, gift, raid or announcement notice
        "priority-pane--shared",  # shared chat: sent in another channel
    }
    BINDINGS = [
        Binding("b", "act('ban')", "Ban", id="priority.ban", tooltip="Ban the author"),
        Binding(
            "t",
            "act('timeout', 600)",
            "Timeout 10 min",
            id="priority.timeout",
            tooltip="Time the author out for ten minutes",
        ),
        Binding(
            "T",
            "act('timeout', 3600)",
            "Timeout 1 h",
            id="priority.timeout_long",
            show=False,
            tooltip="Time the author out for an hour",
        ),
        Binding("x", "act('delete')", "Delete", id="priority.delete", tooltip="Delete the message"),
        Binding("w", "act('warn')", "Warn", id="priority.warn", tooltip="Warn the author"),
        Binding(
            "d", "act('dismiss')", "Dismiss", id="priority.dismiss", tooltip="Nothing to do here"
        ),
        Binding(
            "e",
            "act('escalate')",
            "Escalate",
            id="priority.escalate",
            tooltip="Hand it to the supervisor; it stays marked in the queue",
        ),
        Binding(
            "o",
            "act('approve')",
            "Approve",
            id="priority.approve",
            show=False,
            tooltip="The message is fine: approve it",
        ),
        Binding(
            "c",
            "claim",
            "Claim",
            id="priority.claim",
            show=False,
            tooltip="Team desks: take the item (or give it back) so no one else handles it",
        ),
        Binding(
            "i", "explain", "Why", id="priority.explain", tooltip="Which rules matched, and how"
        ),
        Binding(
            "enter",
            "user_card",
            "User card",
            id="priority.user_card",
            tooltip="The author: messages this session, flags, actions",
        ),
        Binding("up", "move(-1)", show=False, id="priority.up", tooltip="Previous item"),
        Binding("down", "move(1)", show=False, id="priority.down", tooltip="Next item"),
        Binding("k", "move(-1)", show=False, id="priority.up_vi", tooltip="Previous item"),
        Binding("j", "move(1)", show=False, id="priority.down_vi", tooltip="Next item"),
        Binding("pageup", "move(-10)", show=False, id="priority.page_up", tooltip="10 up"),
        Binding("pagedown", "move(10)", show=False, id="priority.page_down", tooltip="10 down"),
        Binding(
            "home", "move(-1000000)", show=False, id="priority.top", tooltip="The most urgent item"
        ),
    ]

    @dataclass
    class ActionRequested(Message):
        item: PriorityItem
        kind: ActionKind
        duration_s: int | None = None

    @dataclass
    class Explain(Message):
        item: PriorityItem

    @dataclass
    class Claim(Message):
        item: PriorityItem

    @dataclass
    class UserCard(Message):
        item: PriorityItem

    def __init__(
        self,
        max_items: int = 300,
        response_targets_s: tuple[float, float] = (300, 1200),
        blur: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.max_items = max_items
        self.warn_after_s, self.late_after_s = response_targets_s
        self.blur = blur
        self.clock: Callable[[], float] = utc_now
        self.items: dict[str, PriorityItem] = {}
        self._order: list[str] = []  # keys, highest priority then oldest first
        self._cursor_key: str | None = None
        self._pending: list[PriorityItem] = []
        self._flush_timer: Timer | None = None
        self.admit: Callable[[PriorityItem], bool] | None = None  # a team desk's share
        self._styles = SpanStyles(self, "priority-pane--")
        self._rows: LRUCache[tuple[str, str, str | None, int], Strip] = LRUCache(ROW_CACHE)

    # -- contents -----------------------------------------------------------------------------

    def ordered(self) -> list[PriorityItem]:
        return [self.items[key] for key in self._order]

    @property
    def waiting(self) -> int:
        """Items handed over and not shown yet (the next flush shows them)."""
        return len(self._pending)

    @property
    def cursor_row(self) -> int:
        if self._cursor_key is None or self._cursor_key not in self.items:
            return -1
        return self._order.index(self._cursor_key)

    def selected(self) -> PriorityItem | None:
        if self._cursor_key in self.items:
            return self.items[self._cursor_key]
        return None

    def add_items(self, batch: list[PriorityItem]) -> None:
        """Queued, then shown at most FLUSH_S apart: re-sorting the queue on every frame of a
        raid would leave the keys waiting."""
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
            batch = sorted(batch, key=lambda i: i.order)[: self.max_items]
        for item in batch:
            if self.admit is not None and not self.admit(item):
                continue
            key = item.key
            row = self.items.get(key)
            if row is None:
                self.items[key] = item
            elif key != item.message.key:
                row.absorb(item)  # its count changes, and so does its row's cache key
        if len(self.items) > self.max_items:
            by_weakness = sorted(
                self.items.values(), key=lambda i: (i.verdict.priority, -i.flagged_at)
            )
            for weakest in by_weakness[: len(self.items) - self.max_items]:
                if weakest.key != self._cursor_key:
                    del self.items[weakest.key]
        self._reorder()

    def _reorder(self, fallback_row: int = 0) -> None:
        """Sort the keys; keep the cursor on its item, or on the row it was at if it left."""
        self._order = sorted(self.items, key=lambda k: self.items[k].order)
        if self._cursor_key not in self.items:
            row = min(fallback_row, len(self._order) - 1)
            self._cursor_key = self._order[row] if row >= 0 else None
            self.refresh_bindings()  # the keys shown depend on the item (shared chat)
        self.virtual_size = Size(self.size.width, len(self._order) + 1)
        self._scroll_to_cursor()
        self.refresh()

    def _remove(self, key: str) -> None:
        if key in self.items:
            row = self._order.index(key)
            del self.items[key]
            self._reorder(fallback_row=row)

    def gone(
        self, platform: str, message_id: str | None = None, author_id: str | None = None
    ) -> None:
        """The platform removed a message, or all of an author's (a ban, a timeout, a purge,
        by this desk or another moderator): single items about it have nothing left to do."""
        for key, item in list(self.items.items()):
            m = item.message
            if item.members or m.platform != platform or item.state is ItemState.SENDING:
                continue
            if m.id == message_id or (author_id is not None and m.author_id == author_id):
                self._remove(key)

    def set_state(self, item: PriorityItem, state: ItemState) -> None:
        """`sending` while the platform answers; `handled`, `dismissed` and `approved` leave."""
        item.state = state
        if state in LEAVING:
            self._remove(item.key)
        else:
            self.refresh()

    def find(self, message_key: str) -> PriorityItem | None:
        """The row about this message: its own, or the flood row it leads."""
        item = self.items.get(message_key)
        if item is None:
            item = next((i for i in self.items.values() if i.message.key == message_key), None)
        return item

    def mark_claim(self, message_key: str, holder: str | None) -> None:
        """Another desk (or this one) took the item, or gave it back."""
        item = self.find(message_key)
        if item is None or item.state in (ItemState.SENDING, ItemState.ESCALATED):
            return
        item.claimed_by = holder
        item.state = ItemState.CLAIMED if holder else ItemState.NEW
        self.refresh()

    def handled_elsewhere(self, message_key: str, kind: str) -> None:
        """Another desk acted on the item: it leaves, or is marked if it was escalated."""
        item = self.find(message_key)
        if item is None or item.state is ItemState.SENDING:
            return
        if kind == "escalate":
            item.state, item.claimed_by = ItemState.ESCALATED, None
            self.refresh()
        else:
            self._remove(item.key)

    def refresh_ages(self) -> None:
        self.refresh()  # ages are drawn at render time: only the visible rows are redrawn

    # -- keys ---------------------------------------------------------------------------------

    def action_move(self, rows: int) -> None:
        if not self._order:
            return
        row = max(0, min(len(self._order) - 1, max(self.cursor_row, 0) + rows))
        self._cursor_key = self._order[row]
        self.refresh_bindings()  # the keys shown depend on the item (shared chat)
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        row = self.cursor_row
        if row < 0:
            return
        visible = max(1, self.size.height - 1)  # the header takes a line
        if row < self.scroll_offset.y:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= self.scroll_offset.y + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """An action out of reach on the selected item (deleting a message sent in another
        channel of a shared chat) is greyed out in the footer; the explanation card says why."""
        if action == "act" and parameters and (item := self.selected()) is not None:
            if out_of_reach(item.message, ActionKind(str(parameters[0]))):
                return None
        return True

    def action_act(self, kind: str, duration_s: int | None = None) -> None:
        item = self.selected()
        if item is not None and item.state is not ItemState.SENDING:
            self.post_message(self.ActionRequested(item, ActionKind(kind), duration_s))

    def action_claim(self) -> None:
        if (item := self.selected()) is not None:
            self.post_message(self.Claim(item))

    def action_explain(self) -> None:
        if (item := self.selected()) is not None:
            self.post_message(self.Explain(item))

    def action_user_card(self) -> None:
        if (item := self.selected()) is not None:
            self.post_message(self.UserCard(item))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # inside the border; None on the border itself
        if offset is None:
            return
        row = int(self.scroll_offset.y) + offset.y - 1  # the first line is the column header
        if 0 <= row < len(self._order):
            self._cursor_key = self._order[row]
            self.refresh_bindings()  # the keys shown depend on the item (shared chat)
            self.refresh()

    # -- drawing ------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        """The theme, the CSS or the focus changed: draw every row again in the new styles."""
        super().notify_style_update()
        self._styles.clear()
        self._rows.clear()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header(width)
        row = int(self.scroll_offset.y) + y - 1
        if row >= len(self._order):
            return Strip.blank(width, self.rich_style)
        key = self._order[row]
        item = self.items[key]
        styles = self._styles
        age_s = self.clock() - item.flagged_at
        age_style = (
            styles["age-late"]
            if age_s >= self.late_after_s
            else styles["age-warning"]
            if age_s >= self.warn_after_s
            else styles["age"]
        )
        head = Text(no_wrap=True, end="")
        head.append_text(_cell(str(item.verdict.priority), WIDTHS["pri"], _BOLD))
        head.append_text(_cell(format_age(age_s), WIDTHS["age"], age_style))
        strip = Strip.join([Strip(list(head.render(self.app.console))), self._row(item)])
        base = self.rich_style
        strip = strip.crop_extend(0, width, base)
        if key == self._cursor_key:
            strip = strip.apply_style(styles["cursor" if self.has_focus else "cursor-blurred"])
        # Under everything, the widget's own colours: what a span leaves unset is the theme's
        # foreground on the pane's background, not the terminal's defaults.
        return strip.apply_style(base).apply_offsets(0, row)

    def _header(self, width: int) -> Strip:
        line = Text(no_wrap=True, end="", style=_HEADER_STYLE)
        for label, cells in zip(HEADER, WIDTHS.values(), strict=True):
            line.append_text(_cell(label, cells))
        line.append("Message")
        base = self.rich_style
        strip = Strip(list(line.render(self.app.console))).crop_extend(0, width, base)
        return strip.apply_style(base)

    def _row(self, item: PriorityItem) -> Strip:
        """Everything after the age: drawn once per item and what its row shows of it."""
        key = (item.message.key, item.state, item.claimed_by, item.count)
        strip = self._rows.get(key)
        if strip is None:
            strip = self._rows[key] = self._draw_row(item)
        return strip

    def _draw_row(self, item: PriorityItem) -> Strip:
        m, v, styles = item.message, item.verdict, self._styles
        platform = styles[m.platform] if m.platform in ("twitch", "youtube") else _BOLD
        line = Text(no_wrap=True, end="")
        line.append_text(_cell(Text(m.platform[:2], style=platform), WIDTHS["src"]))
        line.append_text(_cell(inert(m.author_name), WIDTHS["author"], _BOLD))
        tags = ", ".join(v.labels)
        line.append_text(_cell(tags, WIDTHS["category"]))
        mark, style = _STATES.get(item.state, ("", None))
        if item.state is ItemState.CLAIMED and item.claimed_by:
            mark = f"● {item.claimed_by}"
        line.append_text(_cell(mark, WIDTHS["state"], styles[style] if style else ""))
        line.append_text(self.message_text(item))
        return Strip(list(line.render(self.app.console)), cell_len(line.plain))

    def message_text(self, item: PriorityItem) -> Text:
        m, v, styles = item.message, item.verdict, self._styles
        spans = [x.span for x in v.matches]
        hidden = hidden_spans(v, self.blur)
        text = highlighted(m.text, spans, styles["match"], "", hidden, styles["blurred"])
        text = before_text(m, v, self.blur, styles) + text
        if m.amount is not None:
            text = Text(f"[{paid(m)}] ", style=styles["paid"]) + text
        if item.known and v.flagged:  # what they said first, then who they are
            text = Text("⚑ ", style=styles["known"]) + text
            text.append(f"  ⚑ {item.known}", style=styles["known"])
        elif item.known:  # their first message here: who they are is the point
            text = Text(f"⚑ {item.known} · ", style=styles["known"]) + text
        if item.suspect:
            text = Text("⚠ ", style=styles["suspect"]) + text
        if item.held:  # not posted: marked first, then AutoMod's reason beside Vigile's own
            text = Text("⏸ ", style=styles["held"]) + text
            ours = ", ".join(item.ours.labels) if item.ours and item.ours.flagged else "clean"
            text.append(f"  · AutoMod: {inert(item.held)} · Vigile: {ours}", style=styles["held"])
        if item.members:
            more = "+" if item.authors_let_go else ""
            count = Text(
                f"×{item.count:,} ({len(item.by_author):,}{more} authors) ", style=styles["flood"]
            )
            text = count + text
        return text
