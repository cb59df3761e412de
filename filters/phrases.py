"""Phrases and patterns of a rule set, compiled: their words folded as chat is, their regex
over token segments, and the rarest of their words to look for them from."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from vigile.filters import lexicon
from vigile.filters.hits import Term
from vigile.filters.normalize import TOKEN, normalize_term, word_key
from vigile.filters.patterns import (
    SPELLINGS,
    Element,
    Word,
    compiled_regex,
    required,
    to_regex,
)

_LONG_RUNS = re.compile(r"(.)\1\1+")


@lru_cache(maxsize=100_000)
def fold_word(written: str) -> tuple[tuple[str, str], ...]:
    """A word of a pattern or phrase → the key each of its tokens is compared in, and the token
    as written (folded). A word that squeezing would turn into another ordinary word ("ass"
    into "as", "off" into "of", "butt" into "but") keeps its double letter."""
    folded = []
    for token in TOKEN.findall(normalize_term(written)):
        if token.isdigit():  # "0 iq", "à -90%": a number, not leet for "o" or "go"
            folded.append((token, token))
            continue
        key = SPELLINGS.get(word_key(token), word_key(token))
        if key != token and doubled(token) != key and lexicon.is_real_word(key):
            key = doubled(token)
        folded.append((key, token))
    return tuple(folded)


def doubled(word: str) -> str:
    """Runs of three or more letters cut to two: "asss" and "ass" meet, "as" stays apart."""
    return _LONG_RUNS.sub(_two_of_run, word)


def _two_of_run(run: re.Match[str]) -> str:  # a function: re expands a template on every call
    return run.group(1) * 2


@dataclass(frozen=True, slots=True)
class Pattern:
    """A phrase or a pattern of one rule, compiled to a regex over token segments."""

    term: Term
    elements: tuple[Element, ...]
    source: str  # the regex, compiled on first use: most patterns never meet their anchor
    # for each element that is always there, the words one of which a message must hold: most
    # candidates are turned down by a set test before their regex runs
    needs: tuple[frozenset[str], ...] = ()

    @property
    def regex(self) -> re.Pattern[str]:
        return compiled_regex(self.source)

    def anchors(self) -> list[Word]:
        """Where a match is looked for from: in the element that is always there and whose
        words are rarest, the rarest word of each choice ("terrorists" rather than "are")."""
        chosen = [min(choice, key=_frequency) for choice in min(self._required(), key=_cost)]
        return chosen

    def _required(self) -> list[tuple[tuple[Word, ...], ...]]:
        return [e for e in self.elements if required(e)]  # type: ignore[misc]


@lru_cache(maxsize=50_000)
def anchors_of(pattern: Pattern) -> list[Word]:
    """A pattern's anchors, worked out once per process: an edit rebuilds only new patterns."""
    return pattern.anchors()


def _frequency(word: Word) -> float:
    """How often the word shows up, roughly; a prefix stands for many words, and a letter
    alone (the d of i'd, the s of that's) shows up everywhere."""
    if len(word.key) == 1:
        return 1e8
    found = max(lexicon.frequency(word.surface), lexicon.frequency(word.key))
    found -= len(word.key)  # on a tie, the longer word is the rarer
    return found * 20 if word.prefix else found


def _cost(element: tuple[tuple[Word, ...], ...]) -> float:
    return sum(min(map(_frequency, choice)) for choice in element)


@lru_cache(maxsize=50_000)
def compile_pattern(term: Term, elements: tuple[Element, ...]) -> Pattern:
    needs = tuple(
        frozenset(choice[0].key for choice in element)  # type: ignore[union-attr]
        for element in elements
        if required(element) and not any(choice[0].prefix for choice in element)  # type: ignore[union-attr]
    )
    return Pattern(term, elements, to_regex(elements), needs)


def shared_words(
    patterns: list[Pattern], squashed: dict[str, list[Pattern]]
) -> tuple[list[Pattern], dict[str, list[Pattern]]]:
    """The patterns with each distinct word, choice and needed set held once (a few thousand
    words stand for over ten thousand): fewer objects for the disk cache to store and load.
    A pattern listed under its joined-up spelling stays the same object as in the list."""
    equal: dict[object, object] = {}

    def one(value: Any) -> Any:
        if type(value) is tuple:
            value = tuple(map(one, value))
        return equal.setdefault(value, value)

    again: dict[int, Pattern] = {}

    def rebuilt(pattern: Pattern) -> Pattern:
        if id(pattern) not in again:
            again[id(pattern)] = replace(
                pattern, elements=one(pattern.elements), needs=one(pattern.needs)
            )
        return again[id(pattern)]

    shared = [rebuilt(p) for p in patterns]
    return shared, {key: [rebuilt(p) for p in found] for key, found in squashed.items()}
