"""The live feed: every message of every source, drawn with the Line API over a ring buffer."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Container
from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from vigile.connectors.model import ChatMessage, Verdict
from vigile.tui.chat_text import before_text, chat_clock, hidden_spans, highlighted, inert
from vigile.tui.widgets.span_styles import SpanStyles

# Enough for every line on the tallest screen and a page of scrolling back; the rest is redrawn.
STRIP_CACHE = 1_024
_BOLD = Style(bold=True)  # no colour in it: the theme's foreground shows through


def paid(m: ChatMessage) -> str:
    """`5 EUR`, `100 BITS`: a paid message's amount as the feed and the pane show it."""
    return f"{m.amount:,.2f}".removesuffix(".00") + f" {m.currency or ''}".rstrip()


@dataclass(slots=True, eq=False)  # compared and hashed by identity: a key of the strip cache
class FeedLine:
    message: ChatMessage
    verdict: Verdict
    deleted: bool = False
    known: bool = False  # sanctioned in earlier events (the archive's watchlist), on arrival


class LiveFeed(ScrollView, can_focus=True):
    """Follows the newest message (tail mode) until the user scrolls up or pauses; then the view
    stays put, and an "N new" count tells how much arrived meanwhile."""

    DEFAULT_CSS = """
    LiveFeed {
        background: $surface;
        overflow-x: hidden;
        & > .live-feed--clock { color: $text-muted; }
        & > .live-feed--flag { color: $text-warning; text-style: bold; }
        & > .live-feed--known { color: $text-error; text-style: bold; }
        & > .live-feed--twitch { color: $text-primary; text-style: bold; }
        & > .live-feed--youtube { color: $text-error; text-style: bold; }
        & > .live-feed--paid { color: $text; background: $success; text-style: bold; }
        & > .live-feed--match { text-style: bold reverse; }
        & > .live-feed--blurred { text-style: bold reverse; }
        & > .live-feed--deleted { text-style: strike dim; }
        & > .live-feed--found { text-style: reverse; }
        & > .live-feed--notice { color: $text-accent; text-style: italic; }
        & > .live-feed--shared { color: $text-secondary; text-style: bold; }
        & > .live-feed--suspect { color: $text-error; text-style: bold; }
    }
    """
    COMPONENT_CLASSES = {
        "live-feed--clock",
        "live-feed--flag",
        "live-feed--known",  # ⚑ an account sanctioned in earlier events
        "live-feed--twitch",
        "live-feed--youtube",
        "live-feed--paid",
        "live-feed--match",
        "live-feed--blurred",  # a match the blur option hides
        "live-feed--deleted",
        "live-feed--found",  # the search match on screen
        "live-feed--notice",  # a sub, gift, raid or announcement notice
        "live-feed--shared",  # shared chat: sent in another channel
        "live-feed--suspect",  # an author Twitch marks (monitored, restricted)
    }
    BINDINGS = [
        Binding("end", "resume_tail", "Follow", id="feed.follow", tooltip="Back to the newest"),
        Binding(
            "n",
            "next_match(-1)",
            "Older match",
            id="feed.search_older",
            show=False,
            tooltip="The previous (older) message matching the search",
        ),
        Binding(
            "N",
            "next_match(1)",
            "Newer match",
            id="feed.search_newer",
            show=False,
            tooltip="The next (newer) message matching the search",
        ),
    ]

    tail: reactive[bool] = reactive(True)
    unseen: reactive[int] = reactive(0)

    def __init__(self, max_lines: int = 5_000, blur: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.blur = blur
        self._lines: deque[FeedLine] = deque(maxlen=max_lines)
        self._by_key: dict[str, FeedLine] = {}
        self.query = ""  # the search: lines whose author or text holds it, casefolded
        self.found: FeedLine | None = None  # the match on screen, drawn reversed
        self.search_rank = (0, 0)  # (which match is shown, how many), for the pane's title
        self._styles = SpanStyles(self, "live-feed--")
        self._strips: LRUCache[tuple[FeedLine, bool], Strip] = LRUCache(STRIP_CACHE)
        # What the archive's watchlist says of a message's author (None: not known), asked
        # once per message as it arrives: a line keeps the mark it was drawn with.
        self.known_note: Callable[[ChatMessage], str | None] | None = None
        self.suspects: Container[tuple[str, str]] = ()  # (platform, author id) Twitch marks

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
        known = self.known_note
        for message, verdict in batch[-(lines.maxlen or len(batch)) :]:
            line = FeedLine(
                message, verdict, known=known is not None and known(message) is not None
            )
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
            line.deleted = True  # a new cache key: the line is drawn again
            self.refresh()

    def mark_author_deleted(self, platform: str, author_id: str) -> None:
        """A ban, a timeout, a purge: everything the author said so far is struck through."""
        for line in self._lines:
            m = line.message
            if not line.deleted and m.author_id == author_id and m.platform == platform:
                line.deleted = True
        self.refresh()

    def pause(self) -> None:
        self.tail = False

    def _matches(self) -> list[int]:
        needle = self.query.casefold()
        return [
            i
            for i, line in enumerate(self._lines)
            if needle in line.message.text.casefold()
            or needle in line.message.author_name.casefold()
        ]

    def search(self, query: str) -> tuple[int, int]:
        """Pause and show the newest message holding `query`: (its rank from 1, matches)."""
        self.query, self.found = query.strip(), None
        if not self.query:
            self.refresh()
            return 0, 0
        matches = self._matches()
        if matches:
            self._show(matches[-1])
        self.refresh()
        self.search_rank = (len(matches), len(matches))
        return self.search_rank

    def action_next_match(self, step: int) -> tuple[int, int]:
        """The next match older (-1) or newer (+1) than the one shown."""
        if not self.query:
            return 0, 0
        matches = self._matches()
        if not matches:
            self.found = None
            return 0, 0
        here = self._lines.index(self.found) if self.found in self._lines else len(self._lines)
        if step < 0:
            older = [i for i in matches if i < here]
            rank = matches.index(older[-1]) if older else 0
        else:
            newer = [i for i in matches if i > here]
            rank = matches.index(newer[0]) if newer else len(matches) - 1
        self._show(matches[rank])
        self.search_rank = (rank + 1, len(matches))
        return self.search_rank

    def _show(self, index: int) -> None:
        self.tail = False
        self.found = self._lines[index]
        visible = max(1, self.size.height)
        if not self.scroll_y <= index < self.scroll_y + visible:
            self.scroll_to(y=max(0, index - visible // 2), animate=False, immediate=True)
        self.refresh()

    def action_resume_tail(self) -> None:
        self.tail = True
        self.found, self.query, self.search_rank = None, "", (0, 0)
        self.unseen = 0
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new < old and new < self.max_scroll_y:
            self.tail = False  # any scroll up leaves tail mode
        elif new > old and new >= self.max_scroll_y and not self.tail:
            self.action_resume_tail()  # scrolling back down to the end resumes it

    def notify_style_update(self) -> None:
        """The theme or the CSS changed: draw every line again in the new styles."""
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def marks_changed(self) -> None:
        """Twitch marked or cleared an author: lines are drawn again with the marks of now."""
        self._strips.clear()
        self.refresh()

    def line_strip(self, line: FeedLine) -> Strip:
        """The whole line, drawn once and kept while it is on screen or near it."""
        key = (line, line.deleted)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._draw(line)
        return strip

    def _draw(self, line: FeedLine) -> Strip:
        m, styles = line.message, self._styles
        clock = chat_clock(m.sent_at)  # the chat's own time, as the cards show it
        head = Text(no_wrap=True, end="")
        head.append(f"{clock} ", styles["clock"])
        head.append("● " if line.verdict.flagged else "  ", styles["flag"])
        platform = styles[m.platform] if m.platform in ("twitch", "youtube") else _BOLD
        head.append(f"{m.platform[:2]} ", platform)
        if line.known:
            head.append("⚑ ", styles["known"])
        if (m.platform, m.author_id) in self.suspects:
            head.append("⚠ ", styles["suspect"])
        head.append(inert(m.author_name), _BOLD)
        head.append(": ")
        head.append_text(before_text(m, line.verdict, self.blur, styles))
        if m.amount is not None:  # bits, Super Chats: seen at a glance
            head.append(f"[{paid(m)}] ", styles["paid"])
        spans = [match.span for match in line.verdict.matches]
        base = styles["deleted"] if line.deleted else ""
        hidden = hidden_spans(line.verdict, self.blur)
        body = highlighted(m.text, spans, styles["match"], base, hidden, styles["blurred"])
        head.append_text(body)
        return Strip(list(head.render(self.app.console)), cell_len(head.plain))

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        line = self._lines[index]
        base = self.rich_style
        strip = self.line_strip(line).crop_extend(0, width, base)
        if line is self.found:
            strip = strip.apply_style(self._styles["found"])
        # Under everything, the widget's own colours: what a span leaves unset is the theme's
        # foreground on the pane's background, not the terminal's defaults.
        return strip.apply_style(base).apply_offsets(0, index)
