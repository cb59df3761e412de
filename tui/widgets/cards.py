"""Cards over the desk: why a message was flagged, and who its author is this session.

Everything a card shows from chat goes through `inert` and Rich Text, never through markup.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from vigile.connectors.actions import reach
from vigile.connectors.model import ChatMessage, Verdict
from vigile.filters.triage import NAME_MATCH
from vigile.replay.counts import count
from vigile.replay.reads import ACTIONS_ON_AUTHOR, SAID_BY_AUTHOR
from vigile.replay.store import SessionStore
from vigile.tui.chat_text import (
    CLOCK_ZONE,
    blurred,
    chat_clock,
    hidden_spans,
    hides,
    highlighted,
    inert,
)

_MATCH = Style(reverse=True, bold=True)
_RECENT = 15  # messages a user card lists, newest last


class CardScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    CardScreen {
        align: center middle;
    }
    CardScreen > VerticalScroll {
        width: 100;
        max-height: 90%;
        height: auto;
        border: thick $accent;
        background: $panel;
        padding: 1 2;
    }
    """
    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="card.close")]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = self.title_text
            yield Static(self.body, id="card-body")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


def explanation(message: ChatMessage, verdict: Verdict, blur: bool = False) -> Text:
    """Each match: the rule, its category and severity, how it matched and on which words."""
    text = Text()
    spans = [m.span for m in verdict.matches]
    text.append(highlighted(message.text, spans, _MATCH, hidden=hidden_spans(verdict, blur)))
    text.append(f"\n\npriority {verdict.priority}, suggested action {verdict.action}", "bold")
    if tags := verdict.labels:
        text.append(f"; tags: {', '.join(tags)}")
    text.append(f"; rules version {verdict.rules_version}\n")
    if shared := reach(message):
        text.append(f"\n{shared}\n", "bold")
    for m in verdict.matches:
        start, end = m.span
        words = inert(message.text[start:end])
        hide = hides(m.category, blur)
        text.append(f"\n• {m.rule_id}", "bold")
        text.append(f"  {m.category}, severity {m.severity}, {m.how}\n")
        if m.how.startswith(NAME_MATCH):  # the name, not the message, matched
            text.append("  on the name «")
            text.append(blurred(inert(m.term)) if hide else inert(m.term), _MATCH)
            text.append("»\n")
            continue
        text.append("  on «")
        text.append(blurred(words) if hide else words, _MATCH)
        text.append(f"» (characters {start}–{end})")
        if m.term:
            text.append(f", rule term «{blurred(m.term) if hide else inert(m.term)}»")
        text.append("\n")
    return text


def profile_link(message: ChatMessage) -> str:
    if message.platform == "twitch":
        login = str(message.raw.get("login") or message.author_name).lower()
        return f"https://www.twitch.tv/popout/{message.channel}/viewercard/{login}"
    if message.platform == "youtube":
        return f"https://www.youtube.com/channel/{message.author_id}"
    return ""


_clock = chat_clock


async def user_card(
    store: SessionStore,
    message: ChatMessage,
    blur: bool = False,
    known: str | None = None,
    twitch: str | None = None,
) -> Text:
    """The author as this session saw them: roles, first seen, every message counted, the last
    ones listed (flagged ones marked, deleted ones struck through), and the actions taken.
    `known`: what the agency archive says of them (sanctioned in earlier events); `twitch`:
    how Twitch itself treats them (monitored, restricted, a likely ban evader)."""
    await store.flush()  # what arrived in the last quarter second counts too
    who = (message.platform, message.author_id)
    said = await store.read(SAID_BY_AUTHOR, *who)
    actions = await store.read(ACTIONS_ON_AUTHOR, *who)
    text = Text()
    text.append(inert(message.author_name), "bold")
    text.append(f"  {message.platform} id {inert(message.author_id)}\n")
    if known:
        text.append(f"⚑ known offender: {known}\n", "bold red")
    if twitch:
        text.append(f"⚠ {inert(twitch)}\n", "bold red")
    roles = ", ".join(sorted(message.roles)) or "no role"
    first = _clock(said[0].sent_at) if said else "—"
    flagged = sum(1 for row in said if row.matches is not None)
    deleted = sum(1 for row in said if row.deleted_at is not None)
    text.append(f"{roles}; first seen {first} (times: the chat's, {CLOCK_ZONE})")
    text.append("; first message ever in this chat" if message.first_message else "")
    text.append(f"\n{count(len(said), 'message')} this session, ")
    text.append(f"{flagged:,} flagged", "bold red" if flagged else "")
    text.append(f", {deleted:,} deleted\n")
    if link := profile_link(message):
        text.append(link + "\n", Style(link=link, underline=True))
    text.append("\nLast messages\n", "bold")
    for row in said[-_RECENT:]:
        base = Style(strike=True, dim=True) if row.deleted_at is not None else Style()
        text.append(f"{_clock(row.sent_at)} ", "dim")
        text.append("● " if row.matches is not None else "  ", "yellow")
        spans, hidden = _spans(row.matches or [], blur)
        text.append(highlighted(row.text, spans, _MATCH, base, hidden))
        text.append("\n")
    text.append("\nActions\n", "bold")
    if not actions:
        text.append("none yet\n", "dim")
    for a in actions:
        length = f" {a.duration_s} s" if a.duration_s else ""
        text.append(f"{_clock(a.ts)} {a.kind}{length} by {inert(a.moderator)}: {a.result}")
        text.append(f" ({inert(a.detail)})\n" if a.detail else "\n", "dim")
    return text


def _spans(
    matches: list[dict[str, Any]], blur: bool
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """A stored verdict's spans, and those the blur option hides."""
    spans = [(m["span"][0], m["span"][1]) for m in matches]
    hidden = [(m["span"][0], m["span"][1]) for m in matches if hides(m["category"], blur)]
    return spans, hidden
