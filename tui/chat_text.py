"""Chat text on the screen: inert (see connectors.safe_text) and never parsed as markup."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Protocol

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from vigile.connectors.model import ChatMessage, Verdict
from vigile.connectors.safe_text import inert
from vigile.filters.triage import NAME_MATCH

# One clock on every screen: the time the platform says a message was sent, in this zone,
# named once per screen (the feed's title, the card's header), never beside each time.
CLOCK_ZONE = "UTC"


def chat_clock(ts: float) -> str:
    """A chat time as the desk shows it everywhere: HH:MM:SS in CLOCK_ZONE."""
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


BLUR = "▒"
# What the blur option hides: abuse aimed at people. Questions, links and spam stay readable.
HURTFUL = frozenset({"racism", "sexism", "lgbtphobia", "threat", "harassment"})


def hides(category: str, blur: bool) -> bool:
    """Whether the blur option hides a match of this category."""
    return blur and category in HURTFUL


def blurred(text: str) -> str:
    """A block as wide as `text` on screen."""
    return BLUR * cell_len(text)


def hidden_spans(verdict: Verdict, blur: bool) -> list[tuple[int, int]]:
    return [m.span for m in verdict.matches if hides(m.category, blur)]


def highlighted(
    text: str,
    spans: Iterable[tuple[int, int]],
    style: Style | str,
    base: Style | str = "",
    hidden: Collection[tuple[int, int]] = (),
    hidden_style: Style | str | None = None,
) -> Text:
    """Chat text as a rich Text (never parsed as markup) with `spans` of the original styled.

    Each piece is made inert on its own, so the spans stay right even where making the text
    inert changes its length. Spans also in `hidden` (the slurs, with the blur option) show as
    a block as wide as the word, for moderators who would rather not read them all day, in
    `hidden_style` if given (else in `style`).
    """
    out = Text(no_wrap=True, end="")
    cursor = 0
    for start, end in sorted(spans):
        start = max(start, cursor)
        if start >= end:
            continue
        out.append(inert(text[cursor:start]), base)
        matched = inert(text[start:end])
        hide = any(h_start < end and start < h_end for h_start, h_end in hidden)
        if hide:
            out.append(blurred(matched), style if hidden_style is None else hidden_style)
        else:
            out.append(matched, style)
        cursor = end
    out.append(inert(text[cursor:]), base)
    return out


class _Styles(Protocol):
    def __getitem__(self, name: str, /) -> Style: ...


def before_text(m: ChatMessage, verdict: Verdict, blur: bool, styles: _Styles) -> Text:
    """What a line shows ahead of a message's words: the other channel of a shared chat it was
    sent in (`⇄room`), a name that matched a names rule (`name «…»`) and a notice's own words
    (`[… subscribed for 6 months]`), each inert and in its widget's `shared`, `match` and
    `notice` styles."""
    out = Text(no_wrap=True, end="")
    if m.shared_from:
        out.append(f"⇄{inert(m.shared_from)} ", styles["shared"])
    named: dict[str, bool] = {}
    for match in verdict.matches:
        if match.how.startswith(NAME_MATCH):
            named[match.term] = named.get(match.term, False) or hides(match.category, blur)
    for name, hide in named.items():
        out.append("name «")
        out.append(blurred(inert(name)) if hide else inert(name), styles["match"])
        out.append("» ")
    if m.notice:
        out.append(f"[{inert(str(m.raw.get('system_message') or m.notice))}] ", styles["notice"])
    return out
