"""Word patterns: phrases with gaps, choices and optional words, matched over a message's tokens.

A pattern is written as words separated by spaces:

    you look * (hot|sexy|cute)         `*` any one word
    show [us] (your|ur) (feet|body)    `[…]` optional, `(a|b)` one of several (each may be words)
    (shut|shutup) ** (up|mouth)        `**` a gap of up to three words
    fuck* (you|u)                      `word*` any word that begins so (three letters at least)

Words go through the same folding as chat (case, accents, look-alikes, leet, repeated letters)
and chat spellings are read as the word they stand for (u → you, ur → your, urself →
yourself), so a pattern written once covers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

GAP_ANY = 3  # `**`: at most this many words
_SHORTEST_PREFIX = 3
_TOKEN = re.compile(r"(?:[^\W_]|[@$€!|+*])+")

# Chat spellings of the words that aim a remark at someone, read as the word they stand for.
# Keys are compared squeezed (repeated letters collapsed), as every token is.
SPELLINGS = {
    "u": "you",
    "ya": "you",
    "yu": "you",
    "ur": "your",
    "yur": "your",
    "yor": "your",
    "urself": "yourself",
    "yourslf": "yourself",
    "urslf": "yourself",
    "youre": "your",  # "you're" and "your" are one word in chat
    "r": "are",
    "pls": "please",
    "plz": "please",
}

# Words that aim a remark at the person it is said to: second person, in English and French.
SECOND_PERSON = frozenset(
    {"you", "your", "yours", "yourself", "yourselves", "yal"}  # yall, squeezed
    | {"tu", "toi", "ton", "ta", "tes", "te", "t"}  # not "vous": manuals address their reader
    | {"espece"}  # "espèce de …" is said to someone's face
)


@dataclass(frozen=True, slots=True)
class Word:
    key: str  # compared form: folded, leet read, squeezed, chat spelling resolved
    prefix: bool = False
    surface: str = ""  # folded, as written: how common the word is tells which to look for


@dataclass(frozen=True, slots=True)
class Gap:
    least: int
    most: int


# An element is a gap, or a choice between word sequences (an empty one: the element is optional).
Choice = tuple[tuple[Word, ...], ...]
Element = Gap | Choice


Fold = Callable[[str], tuple[tuple[str, str], ...]]  # written word → (key, surface) per token


class PatternError(ValueError):
    pass


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([":
            if depth:
                raise PatternError("groups cannot be nested")
            depth += 1
        elif char in ")]":
            if not depth:
                raise PatternError(f"'{char}' closes nothing")
            depth -= 1
        if char.isspace() and not depth:
            if current:
                parts.append("".join(current))
                current = []
            continue
        current.append(char)
    if depth:
        raise PatternError("a group is not closed")
    if current:
        parts.append("".join(current))
    return parts


@lru_cache(maxsize=50_000)
def parse(text: str, fold: Fold) -> tuple[Element, ...]:
    """The pattern's elements. `fold` turns one written word into its compared keys (a written
    word may be several tokens: "you're" is you + re)."""
    elements: list[Element] = []
    for part in _split_top_level(text):
        if part == "*":
            elements.append(Gap(1, 1))
        elif part == "**":
            elements.append(Gap(0, GAP_ANY))
        elif part[0] in "([":
            closing = ")" if part[0] == "(" else "]"
            if not part.endswith(closing) or len(part) < 3:
                raise PatternError(f"group {part!r}: write (a|b) or [a|b], nothing glued to it")
            choices = tuple(_words(alt, fold) for alt in part[1:-1].split("|"))
            if any(not c for c in choices) and part[0] == "(":
                raise PatternError(f"{part!r} has an empty choice: write [a|b] for optional words")
            if part[0] == "[":
                choices += ((),)
            elements.append(choices)
        else:
            if set(part) & set("()[]|"):
                raise PatternError(f"{part!r}: a group must stand apart, between spaces")
            words = _words(part, fold)
            if not words:
                raise PatternError(f"{part!r} has no letters")
            elements.append((words,))
    if not elements:
        raise PatternError("the pattern is empty")
    if isinstance(elements[0], Gap) or isinstance(elements[-1], Gap):
        raise PatternError("a pattern cannot begin or end with a gap")
    if not any(required(e) for e in elements):
        raise PatternError("it needs at least one word that is always there")
    return tuple(elements)


def _words(text: str, fold: Fold) -> tuple[Word, ...]:
    words: list[Word] = []
    for written in text.split():
        prefix = written.endswith("*") and len(written) > 1
        keys = fold(written.rstrip("*") if prefix else written)
        if prefix and (len(keys) != 1 or len(keys[0][0]) < _SHORTEST_PREFIX):
            raise PatternError(f"{written!r}: a prefix needs {_SHORTEST_PREFIX} letters at least")
        words += [Word(key, prefix, surface) for key, surface in keys]
    return tuple(words)


def required(element: Element) -> bool:
    """A choice that is always there (no empty alternative)."""
    return not isinstance(element, Gap) and all(element)


def extent(element: Element) -> tuple[int, int]:
    """Fewest and most tokens the element spans."""
    if isinstance(element, Gap):
        return element.least, element.most
    sizes = [len(alt) for alt in element]
    return min(sizes), max(sizes)


def plain_fold(written: str) -> tuple[tuple[str, str], ...]:
    """Folding for validation only: the real one (filters/matcher.py) also reads leet."""
    return tuple((w, w) for w in _TOKEN.findall(written.lower()))


def pattern_problem(text: str) -> str | None:
    """Why a written pattern cannot be used, or None."""
    try:
        parse(text, plain_fold)
    except PatternError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=50_000)
def to_regex(elements: tuple[Element, ...]) -> str:
    """The pattern over a message written as token segments: each token is "|form|form| "
    (every word it can stand for), so one regex search matches choices, gaps and slips."""
    parts = []
    for element in elements:
        if isinstance(element, Gap):
            parts.append(f"(?:[^ ]+ ){{{element.least},{element.most}}}")
            continue
        choices = ["".join(map(_word_regex, choice)) for choice in element if choice]
        parts.append(f"(?:{'|'.join(choices)}){'' if all(element) else '?'}")
    return "(?<![^ ])" + "".join(parts)


@lru_cache(maxsize=50_000)
def compiled_regex(source: str) -> re.Pattern[str]:
    """Compiled once per process, on first use: loading a pack or editing a rule compiles
    nothing, and a message compiles only the patterns its words could start."""
    return re.compile(source)


SLIP = "~"  # marks a form a token only reaches by a slip ("|creve|~crever|")


def _word_regex(word: Word) -> str:
    """The word inside a token's segment; its group holds the slip mark when a slip was used."""
    tail = "[^| ]*" if word.prefix else ""
    return rf"[^ ]*\|({SLIP}?){re.escape(word.key)}{tail}\|[^ ]* "
