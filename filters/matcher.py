"""A compiled, immutable rule set: exact words, phrases, hashtags and regexes on normalised text."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from connectors.model import Match
from filters.normalize import normalize, normalize_term
from filters.rules import Rule, RulePack, check_unique_ids

WORD = re.compile(r"[^\W_]+")
HASHTAG = re.compile(r"#(\w+)")


def hashtag_key(tag: str) -> str:
    """`#Boycott_X` and `#boycottx` are the same hashtag."""
    return normalize(tag.lstrip("#")).text.replace("_", "")


@dataclass(frozen=True, slots=True)
class _Phrase:
    words: tuple[str, ...]
    rule: Rule
    term: str


class CompiledRules:
    """Built once from packs, then only read: swapping in a new instance is atomic."""

    def __init__(self, packs: list[RulePack], version: int = 0) -> None:
        self.packs = tuple(packs)
        self.version = version
        self.rules: tuple[Rule, ...] = tuple(r for p in packs for r in p.rules)
        check_unique_ids(self.rules, ", ".join(p.origin for p in packs) or "<rules>")
        self.actions = {r.id: r.action for r in self.rules}
        self._words: dict[str, list[tuple[Rule, str]]] = defaultdict(list)
        self._phrases: dict[str, list[_Phrase]] = defaultdict(list)
        self._hashtags: dict[str, list[tuple[Rule, str]]] = defaultdict(list)
        self._allow: dict[str, frozenset[str]] = {}
        self._regexes: list[tuple[re.Pattern[str], Rule]] = []
        for rule in self.rules:
            self._allow[rule.id] = frozenset(normalize_term(a) for a in rule.allow)
            for term in rule.terms:
                words = tuple(WORD.findall(normalize_term(term)))
                if not words:
                    continue
                if len(words) == 1:
                    self._words[words[0]].append((rule, words[0]))
                else:
                    self._phrases[words[0]].append(_Phrase(words, rule, " ".join(words)))
            for tag in rule.hashtags:
                key = hashtag_key(tag)
                if key:
                    self._hashtags[key].append((rule, f"#{key}"))
            if rule.regex:
                self._regexes.append((re.compile(rule.regex, re.IGNORECASE), rule))
        # Plain dicts from here on: lookups of missing keys must not insert them.
        self._words = dict(self._words)
        self._phrases = dict(self._phrases)
        self._hashtags = dict(self._hashtags)

    @property
    def term_count(self) -> int:
        return sum(len(r.terms) + len(r.hashtags) for r in self.rules)

    def match(self, text: str) -> tuple[Match, ...]:
        norm = normalize(text)
        body = norm.text
        found: dict[tuple[str, int, int], Match] = {}

        def add(rule: Rule, start: int, end: int, how: str, term: str) -> None:
            if term in self._allow[rule.id]:
                return
            span = norm.original_span(start, end)
            key = (rule.id, *span)
            if key not in found:
                found[key] = Match(rule.id, rule.category, rule.severity, span, how, term)

        words = [(m.group(), m.start(), m.end()) for m in WORD.finditer(body)]
        for index, (word, start, end) in enumerate(words):
            for rule, term in self._words.get(word, ()):
                add(rule, start, end, "exact", term)
            for phrase in self._phrases.get(word, ()):
                tail = words[index : index + len(phrase.words)]
                if tuple(w for w, _, _ in tail) == phrase.words:
                    add(phrase.rule, start, tail[-1][2], "phrase", phrase.term)
        if "#" in body:
            for m in HASHTAG.finditer(body):
                for rule, term in self._hashtags.get(m.group(1).replace("_", ""), ()):
                    add(rule, m.start(), m.end(), "hashtag", term)
        for pattern, rule in self._regexes:
            for m in pattern.finditer(body):
                if m.end() > m.start():
                    add(rule, m.start(), m.end(), "regex", m.group())
        if len(found) > 1:
            return _drop_nested(found.values())
        return tuple(found.values())


def _drop_nested(matches: object) -> tuple[Match, ...]:
    """Within one rule, a match inside a longer one says nothing more ("combien" inside
    "c'est combien"): keep the longest."""
    ordered = sorted(matches, key=lambda m: (m.span[0], -m.span[1]))  # type: ignore[call-overload]
    kept: list[Match] = []
    for m in ordered:
        if any(
            k.rule_id == m.rule_id and k.span[0] <= m.span[0] and m.span[1] <= k.span[1]
            for k in kept
        ):
            continue
        kept.append(m)
    return tuple(kept)
