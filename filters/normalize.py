"""Normalise chat text for matching, keeping a map from each output character to the original."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    source_length: int  # length of the original text
    # offsets[i] is the index in the original text of normalised character i;
    # None means the identity map (the common all-ASCII case costs nothing).
    offsets: tuple[int, ...] | None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text back onto the original text."""
        if self.offsets is None:
            return start, end
        if start >= end:  # an empty span: a position between two original characters
            at = self.offsets[start] if start < len(self.offsets) else self.source_length
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1


@lru_cache(maxsize=65_536)
def fold_char(char: str) -> str:
    """One original character → its folded form ("" when it should vanish).

    NFKC turns fullwidth and compatibility forms into plain letters, casefold handles ß and
    friends, NFD + dropping combining marks removes accents, and format characters (zero-width
    joiners and spaces, bidi controls) disappear so they cannot split a word.
    """
    if unicodedata.category(char) == "Cf":
        return ""
    folded = unicodedata.normalize("NFKC", char).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> Normalized:
    if text.isascii():
        return Normalized(text.lower(), len(text), None)
    out: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = fold_char(char)
        if folded:
            out.append(folded)
            offsets.extend([index] * len(folded))
    return Normalized("".join(out), len(text), tuple(offsets))


def normalize_term(term: str) -> str:
    """Rule terms go through the same folding as chat text, with spaces collapsed."""
    return " ".join(normalize(term).text.split())
