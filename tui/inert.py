"""Chat text on the screen: inert (see connectors.inert) and never parsed as markup."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from connectors.inert import inert

__all__ = ["highlighted", "inert"]


BLUR = "▒"


def highlighted(
    text: str,
    spans: Iterable[tuple[int, int]],
    style: Style | str,
    base: Style | str = "",
    blur: bool = False,
) -> Text:
    """Chat text as a rich Text (never parsed as markup) with `spans` of the original styled.

    Each piece is made inert on its own, so the spans stay right even where making the text
    inert changes its length. `blur` hides what the spans say (the slurs) behind a block as
    wide as the word, for moderators who would rather not read them all day.
    """
    out = Text(no_wrap=True, end="")
    cursor = 0
    for start, end in sorted(spans):
        start = max(start, cursor)
        if start >= end:
            continue
        out.append(inert(text[cursor:start]), base)
        matched = inert(text[start:end])
        out.append(BLUR * cell_len(matched) if blur else matched, style)
        cursor = end
    out.append(inert(text[cursor:]), base)
    return out
