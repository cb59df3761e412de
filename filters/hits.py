"""One message's matches: allow-lists, language scope, accents, dedup and their explanation."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from vigile.connectors.model import Match
from vigile.filters import lexicon
from vigile.filters.normalize import SYMBOL, Normalized, fold_char
from vigile.filters.rules import Rule


@dataclass(frozen=True, slots=True)
class Term:
    """One term of one rule, compiled."""

    rule: Rule
    term: str  # as normalised, for the explanation
    keys: tuple[str, ...]  # one per word: leet read, repeats collapsed
    surfaces: tuple[str, ...]  # one per word: leet read, repeats kept
    written: tuple[str, ...]  # one per word: as the rule writes it, accents kept
    max_edits: int
    ordinary_elsewhere: bool  # an ordinary word in another language (fr "retard", en "bite")


@dataclass(frozen=True, slots=True)
class Token:
    """What a chat token stands for. Cached per raw token: chat repeats itself."""

    core: str  # the token without decoration, folded
    lead: int  # characters stripped at the start of the raw token
    trail: int  # and at its end
    key: str  # comparison form (leet read, repeats collapsed)
    word: str | None  # the vocabulary key it resolves to, if any
    stem: str = ""  # its reading without an inflection ending, repeats kept
    real: bool = False  # an ordinary French or English word as it stands
    how: tuple[str, ...] = ()  # leet, repeat, separators, inflection, fuzzy:N
    distance: int = 0


class Hits:
    """Collects what one message matched, dropping what must not count."""

    def __init__(
        self,
        allow: dict[str, frozenset[str]],
        norm: Normalized,
        text: str,
        tokens: list[Token],
        spans: list[tuple[int, int]],
    ) -> None:
        self._allow, self._norm, self._text = allow, norm, text
        self._tokens, self._spans = tokens, spans
        self._matches: dict[tuple[str, int, int], Match] = {}
        self._language: str | None | bool = False  # False: not worked out yet

    def _message_language(self) -> str | None:
        if self._language is False:
            self._language = lexicon.guess_language([t.core for t in self._tokens])
        return self._language  # type: ignore[return-value]

    def add_term(
        self, term: Term, first: int, last: int, how: tuple[str, ...], distance: int
    ) -> None:
        if distance > term.max_edits:
            return
        rule = term.rule
        if term.ordinary_elsewhere:
            language = self._message_language()
            if language is not None and language != rule.lang:
                return  # "je suis en retard", "a bite to eat"
        if len(term.keys) == last - first + 1 and self._accents_change_the_word(term, first):
            return
        start, end = self._spans[first][0], self._spans[last][1]
        self.add(rule, start, end, how, term.term)

    def _accents_change_the_word(self, term: Term, first: int) -> bool:
        """French accents carry meaning: "retourné en cuisine" (he went back to the kitchen) is
        not "retourne en cuisine". A typed accent that makes another real word wins; a missing
        or decorative accent (sàlopé) does not."""
        for offset, written in enumerate(term.written):
            start, end = self._norm.original_span(*self._spans[first + offset])
            typed = unicodedata.normalize("NFC", self._text[start:end]).lower()
            if (
                typed != written
                and not typed.isascii()
                and lexicon.strip_accents(typed) == lexicon.strip_accents(written)
                and lexicon.is_written_word(typed)
            ):
                return True
        return False

    def add(self, rule: Rule, start: int, end: int, how: Iterable[str], term: str) -> None:
        allow = self._allow[rule.id]
        if allow and self._norm.text[start:end] in allow:
            return
        span = self._norm.original_span(start, end)
        key = (rule.id, *span)
        if key in self._matches:
            return
        kinds = set(how) | evasions_in(self._text[span[0] : span[1]])
        explanation = "+".join(sorted(kinds)) if kinds else "exact"
        self._matches[key] = Match(rule.id, rule.category, rule.severity, span, explanation, term)

    def result(self) -> tuple[Match, ...]:
        matches = self._matches.values()
        return drop_nested(matches) if len(self._matches) > 1 else tuple(matches)


def evasions_in(original: str) -> set[str]:
    """What the original span hid behind normalisation: look-alike letters, invisible
    characters, emoji inside the word."""
    if original.isascii():
        return set()
    kinds = set()
    for char in original:
        if char.isascii():
            continue
        folded = fold_char(char)
        if not folded:
            kinds.add("invisible")
        elif folded == SYMBOL:
            kinds.add("emoji")
        elif not (lexicon.strip_accents(char).isascii() or unicodedata.category(char) == "Mn"):
            kinds.add("homoglyph")
    return kinds


def drop_nested(matches: Iterable[Match]) -> tuple[Match, ...]:
    """Within one rule, a match inside a longer one says nothing more ("combien" inside
    "c'est combien"): keep the longest."""
    ordered = sorted(matches, key=lambda m: (m.span[0], -m.span[1]))
    kept: list[Match] = []
    for m in ordered:
        if any(
            k.rule_id == m.rule_id and k.span[0] <= m.span[0] and m.span[1] <= k.span[1]
            for k in kept
        ):
            continue
        kept.append(m)
    return tuple(kept)
