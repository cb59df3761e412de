"""Evasion-resistant normalisation of chat text, with a map back to the original characters."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import methodcaller

from vigile.filters import disk_cache


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    source_length: int  # length of the original text
    # offsets[i] is the index in the original text of normalised character i;
    # None means the identity map (ASCII, or accents only: the common cases cost nothing).
    offsets: tuple[int, ...] | None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text back onto the original text."""
        if self.offsets is None:
            return start, end
        if start >= end:  # an empty span: a position between two original characters
            at = self.offsets[start] if start < len(self.offsets) else self.source_length
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1


def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@cache
def _homoglyphs() -> dict[str, str]:
    """Unicode's confusables (via confusable_homoglyphs): every non-ASCII character that looks
    like a Latin letter → that letter. Cyrillic а, Greek ο, mathematical 𝐬, ø…

    Built once and kept in the start-up cache: reading Unicode's table takes a good part of a
    second."""
    from importlib.metadata import version

    key = disk_cache.digest(
        "homoglyphs", version("confusable_homoglyphs"), unicodedata.unidata_version
    )
    table = disk_cache.load("homoglyphs", key)
    if not isinstance(table, dict):
        table = _build_homoglyphs()
        disk_cache.store("homoglyphs", key, table)
    return table


def _build_homoglyphs() -> dict[str, str]:
    """The table links look-alikes pairwise (τ ~ ᴛ, ᴛ ~ T), so a character is mapped to the
    Latin letter it reaches in the fewest links."""
    from confusable_homoglyphs import confusables

    links: dict[str, set[str]] = {}
    for char, entries in confusables.confusables_data.items():
        for entry in entries:
            other = _strip_marks(entry["c"].strip("\u200e\u200f")) or entry["c"]
            if len(char) == 1 and len(other) == 1:
                links.setdefault(char, set()).add(other)
                links.setdefault(other, set()).add(char)
    # Ligature-like letters listed as two Latin letters: æ → ae, œ → oe.
    table: dict[str, str] = {
        char: entry["c"].lower()
        for char, entries in confusables.confusables_data.items()
        for entry in entries
        if len(char) == 1
        and not char.isascii()
        and len(entry["c"]) == 2
        and entry["c"].isascii()
        and entry["c"].isalpha()
    }
    for start in links:
        if start.isascii():
            continue
        frontier, seen = [start], {start}
        for _ in range(3):  # at most three links away
            letters = sorted(c.lower() for c in frontier if c.isascii() and c.isalpha())
            if letters:
                table[start] = letters[0]
                break
            frontier = [n for c in frontier for n in links.get(c, ()) if n not in seen]
            seen.update(frontier)
    return table


def _look_alike(char: str) -> str:
    """The Latin letter(s) `char` imitates, or "". Greek τ is listed through its capital Τ."""
    homoglyphs = _homoglyphs()
    return homoglyphs.get(char) or homoglyphs.get(char.upper(), "") if len(char) == 1 else ""


_MARKS = frozenset({"Cf", "Mn", "Me"})
SYMBOL = "\ue000"  # fold_char's answer for an emoji or symbol: removed inside a word, else a space
_SYMBOL_CATEGORIES = frozenset({"So", "Sk", "Sm", "Co", "Cn"})


@lru_cache(maxsize=65_536)
def fold_char(char: str) -> str:
    """One original character → its folded form ("" when it should vanish).

    NFKC turns fullwidth and compatibility forms into plain letters, casefold handles ß and
    friends, NFD + dropping combining marks removes accents, format characters (zero-width
    joiners and spaces, bidi controls, soft hyphens) disappear so they cannot split a word, and
    look-alike letters from other scripts become the Latin letter they imitate.
    """
    category = unicodedata.category(char)
    if category in _MARKS:  # invisible: format characters, variation selectors…
        return ""
    # Before case folding: Cyrillic Ь looks like b, its lower case ь does not.
    look_alike = _look_alike(char)
    if look_alike:
        return look_alike
    folded = _strip_marks(unicodedata.normalize("NFKC", char).casefold())
    if folded.isascii():
        return folded
    # Decomposition can leave marks that are invisible on their own (Indic and Thai vowels).
    mapped = "".join(_look_alike(c) or c for c in folded if unicodedata.category(c) not in _MARKS)
    if mapped.isascii():
        return mapped
    if category in _SYMBOL_CATEGORIES:
        return SYMBOL
    # A compatibility form that unfolds into symbols (¼ → 1⁄4): the symbols become spaces.
    return "".join(" " if unicodedata.category(c) in _SYMBOL_CATEGORIES else c for c in mapped)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@cache
def _one_to_one() -> dict[int, str]:
    """Characters that fold to exactly one ASCII character (é → e, Ç → c, Cyrillic а → a…),
    for str.translate: a message made only of those keeps its offsets as they are."""
    table = {}
    for block_start, block_end in ((0x80, 0x250), (0x370, 0x530), (0xFF01, 0xFF5F)):
        for code in range(block_start, block_end):
            folded = fold_char(chr(code))
            if len(folded) == 1 and folded.isascii():
                table[code] = folded
    return table


# A capital I after a lower-case letter stands for an l as often as for an i (kiII, kIll): it is
# read as the leet "1", which has both readings. One character for one, so offsets hold.
_MIXED_I = re.compile(r"(?<=[a-z])I+")


def _mixed_i(found: re.Match[str]) -> str:
    return "1" * len(found.group())


def normalize(text: str) -> Normalized:
    if "I" in text:
        text = _MIXED_I.sub(_mixed_i, text)
    if text.isascii():
        return Normalized(text.lower(), len(text), None)
    # The common case in French chat: a few accented letters, each one character for one.
    folded = text.translate(_one_to_one())
    if folded.isascii():
        return Normalized(folded.lower(), len(text), None)
    out: list[str] = []
    offsets: list[int] = []
    symbol_at = -1  # where a run of emoji/symbols started, while we look past it

    def emit(folded: str, positions: range | list[int]) -> None:
        nonlocal symbol_at
        if symbol_at >= 0:
            # An emoji between two letters is an evasion (sa🍑lope): it vanishes. Anywhere else
            # it separates words, as a space would.
            if not (out and out[-1][-1].isalnum() and folded[0].isalnum()):
                out.append(" ")
                offsets.append(symbol_at)
            symbol_at = -1
        out.append(folded)
        offsets.extend(positions)

    cursor = 0
    for found in _NON_ASCII.finditer(text):
        index = found.start()
        if index > cursor:  # the ASCII run before it, in one piece
            emit(text[cursor:index].lower(), range(cursor, index))
        cursor = index + 1
        folded = fold_char(found.group())
        if folded == SYMBOL:
            if symbol_at < 0:
                symbol_at = index
        elif folded:
            emit(folded, [index] * len(folded))
    if cursor < len(text):
        emit(text[cursor:].lower(), range(cursor, len(text)))
    if symbol_at >= 0:
        out.append(" ")
        offsets.append(symbol_at)
    return Normalized("".join(out), len(text), tuple(offsets))


# -- token-level folding: leetspeak and stretched letters ----------------------------------------

# Leet characters with their usual reading; the ambiguous ones get a second reading below.
_LEET = str.maketrans("4@3€1!05$7+89|", "aaeeiiossttbgl")
_LEET_ALT = str.maketrans({"1": "l", "|": "i", "!": "l"})
LEET_CHARS = frozenset("4@3€1!05$7+89|")
_AMBIGUOUS = frozenset("1!|")
_RUNS = re.compile(r"(.)\1+")
# A function, not the template r"\1": re expands a template in Python on every call, even
# when nothing matched (a few microseconds per word, and most words have no repeats).
_FIRST_OF_RUN = methodcaller("group", 1)
_STRETCH = re.compile(r"(.)\1\1")


def deleet(token: str) -> list[str]:
    """Readings of a token that mixes letters with leet characters (s4l0pe, k1ll, $lut). An
    ambiguous character (1 ! | for i or l) is read both ways; with two or three of them, every
    mix is tried (horr1b1e: the first 1 an i, the second an l)."""
    primary = token.translate(_LEET)
    alternative = token.translate(_LEET_ALT).translate(_LEET)
    if alternative == primary:
        return [primary]
    ambiguous = [i for i, c in enumerate(token) if c in _AMBIGUOUS]
    if not 2 <= len(ambiguous) <= 3:
        return [primary, alternative]
    readings = [primary, alternative]
    for mask in range(1, 2 ** len(ambiguous) - 1):
        letters = list(primary)
        for bit, at in enumerate(ambiguous):
            if mask >> bit & 1:
                letters[at] = alternative[at]
        readings.append("".join(letters))
    return readings


def leet_folded(text: str) -> str:
    """Every leet character read as its usual letter (the first reading of `deleet`)."""
    return text.translate(_LEET)


def squeeze(word: str) -> str:
    """Collapse repeated letters: both chat and terms are compared squeezed, so `slooooot`,
    `connnnard` and `kill` (→ kil) meet their terms whatever the doubling."""
    return _RUNS.sub(_FIRST_OF_RUN, word)


def is_stretched(word: str) -> bool:
    """Three or more of the same letter in a row: an intentional stretch."""
    return _STRETCH.search(word) is not None


def normalize_term(term: str) -> str:
    """Rule terms go through the same character folding as chat text, with spaces collapsed."""
    return " ".join(normalize(term).text.split())


# A token of chat: letters and digits, plus the symbols leetspeak and masking use inside words.
TOKEN = re.compile(r"(?:[^\W_]|[@$€!|+*])+")


def word_key(word: str) -> str:
    """The form a word is compared in: leet read, repeats collapsed."""
    return squeeze(deleet(word)[0]) if LEET_CHARS.intersection(word) else squeeze(word)
