"""The live feed: every message of every source, drawn with the Line API over a ring buffer."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from connectors.model import ChatMessage, Verdict
from tui.inert import highlighted, inert

PLATFORM_STYLES = {
    "twitch": Style(color="magenta", bold=True),
    "youtube": Style(color="red", bold=True),
}
_MATCH_STYLE = Style(reverse=True, bold=True)
_DELETED_STYLE = Style(strike=True, dim=True)
_FLAG_MARK = Style(color="yellow", bold=True)
_PAID_STYLE = Style(color="black", bgcolor="green", bold=True)


def paid(m: ChatMessage) -> str:
    """`5 EUR`, `100 BITS`: a paid message's amount as the feed and the pane show it."""
    return f"{m.amount:,.2f}".removesuffix(".00") + f" {m.currency or ''}".rstrip()


@dataclass(slots=True)
class FeedLine:
    message: ChatMessage
    verdict: Verdict
    deleted: bool = False
    _strip: Strip | None = field(default=None, repr=False)

    def strip(self, console: object) -> Strip:
        if self._strip is None:
            m = self.message
            clock = datetime.fromtimestamp(m.received_at, UTC).strftime("%H:%M:%S")
            head = Text(no_wrap=True, end="")
            head.append(f"{clock} ", "dim")
            head.append("● " if self.verdict.flagged else "  ", _FLAG_MARK)
            head.append(f"{m.platform[:2]} ", PLATFORM_STYLES.get(m.platform, Style(bold=True)))
            head.append(inert(m.author_name), Style(bold=True))
            head.append(": ")
            if m.amount is not None:  # bits, Super Chats: seen at a glance
                head.append(f"[{paid(m)}] ", _PAID_STYLE)
            spans = [match.span for match in self.verdict.matches]
            body = highlighted(m.text, spans, _MATCH_STYLE, _DELETED_STYLE if self.deleted else "")
            head.append_text(body)
            segments = list(head.render(console))  # type: ignore[arg-type]
            self._strip = Strip(segments, cell_len(head.plain))
        return self._strip


class LiveFeed(ScrollView, can_focus=True):
    """Follows the newest message (tail mode) until the user scrolls up or pauses; then the view
    stays put, and an "N new" count tells how much arrived meanwhile."""

    DEFAULT_CSS = """
    LiveFeed {
        background: $surface;
        overflow-x: hidden;
    }
    """
    BINDINGS = [
        Binding("end", "resume_tail", "Follow", id="feed.follow", tooltip="Back to the newest"),
    ]

    tail: reactive[bool] = reactive(True)
    unseen: reactive[int] = reactive(0)

    def __init__(self, max_lines: int = 5_000, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._lines: deque[FeedLine] = deque(maxlen=max_lines)
        self._by_key: dict[str, FeedLine] = {}

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def lines(self) -> list[FeedLine]:
        return list(self._lines)

    def add(self, batch: list[tuple[ChatMessage, Verdict]]) -> None:
        """Append a frame's worth of messages at once (one refresh per batch, not per message)."""
        if not batch:
            return
        lines, index = self._lines, self._by_key
        evicted = max(0, len(lines) + len(batch) - (lines.maxlen or 0))
        for _ in range(min(evicted, len(lines))):
            index.pop(lines[0].message.key, None)
            lines.popleft()
        for message, verdict in batch[-(lines.maxlen or len(batch)) :]:
            line = FeedLine(message, verdict)
            lines.append(line)
            index[message.key] = line
        self.virtual_size = Size(self.size.width, len(lines))
        if self.tail:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self.unseen += len(batch)
            if evicted:  # keep the paused view on the same messages while old ones drop off
                self.scroll_to(y=max(0, self.scroll_y - evicted), animate=False, immediate=True)
        self.refresh()

    def mark_deleted(self, key: str) -> None:
        line = self._by_key.get(key)
        if line and not line.deleted:
            line.deleted, line._strip = True, None
            self.refresh()

    def mark_author_deleted(self, platform: str, author_id: str) -> None:
        """A ban, a timeout, a purge: everything the author said so far is struck through."""
        for line in self._lines:
            m = line.message
            if not line.deleted and m.author_id == author_id and m.platform == platform:
                line.deleted, line._strip = True, None
        self.refresh()

    def pause(self) -> None:
        self.tail = False

    def action_resume_tail(self) -> None:
        self.tail = True
        self.unseen = 0
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new < old and new < self.max_scroll_y:
            self.tail = False  # any scroll up leaves tail mode
        elif new > old and new >= self.max_scroll_y and not self.tail:
            self.action_resume_tail()  # scrolling back down to the end resumes it

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        strip = self._lines[index].strip(self.app.console)
        return strip.crop_extend(0, width, self.rich_style).apply_offsets(0, index)
