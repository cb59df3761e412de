"""A compiled, immutable rule set: evasion-robust words, phrases, hashtags, fuzzy, regexes."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import regex
from rapidfuzz import process
from rapidfuzz.distance import OSA

from connectors.model import Match
from filters import lexicon
from filters.normalize import (
    LEET_CHARS,
    Normalized,
    deleet,
    fold_char,
    is_stretched,
    normalize,
    normalize_term,
    squeeze,
)
from filters.rules import Rule, RulePack, check_unique_ids

# A token: letters and digits, plus the symbols leetspeak uses inside words.
TOKEN = re.compile(r"(?:[^\W_]|[@$€!|+*])+")
HASHTAG = re.compile(r"#([^\s#]+)")
_LEAD = "@!|+*"  # stripped from the start of a token (@mention, !!!word)
_TRAIL = "@!|+*$"  # and from its end (word!!!, word$)
_INFLECTIONS = ("es", "s", "x", "e")  # plural and feminine endings of French and English
_SHORTEST_FUZZY = 5  # shorter terms match exactly (after folding) or not at all
_SHORTEST_HASHTAG_PREFIX = 6  # #BoycottLumina2026 is #BoycottLumina; #Lu is not #Lumina
_REGEX_TIMEOUT_S = 0.005
_CACHE_LIMIT = 200_000


def word_key(word: str) -> str:
    """The form a word is compared in: leet read, repeats collapsed."""
    return squeeze(deleet(word)[0]) if LEET_CHARS.intersection(word) else squeeze(word)


def auto_edits(key: str) -> int:
    return 0 if len(key) < _SHORTEST_FUZZY else 1 if len(key) < 8 else 2


@dataclass(frozen=True, slots=True)
class _Term:
    rule: Rule
    term: str  # the term as normalised, for the explanation
    keys: tuple[str, ...]  # one per word
    max_edits: int  # per word, for fuzzy matches
    ordinary_elsewhere: bool  # an ordinary word in another language: needs the rule's language


@dataclass(frozen=True, slots=True)
class _Resolved:
    """What a chat token stands for. Cached per raw token: chat repeats itself."""

    core: str  # the token without decoration, folded
    lead: int  # characters stripped at the start of the raw token
    trail: int  # and at its end
    key: str  # its comparison form (leet read, repeats collapsed)
    word: str | None  # the vocabulary word it resolves to, if any
    how: tuple[str, ...]  # leet, repeat, inflection, fuzzy:N
    distance: int = 0


@dataclass(slots=True)
class _Unit:
    resolved: _Resolved
    start: int
    end: int


class CompiledRules:
    """Built once from packs, then only read: swapping in a new instance is atomic."""

    def __init__(self, packs: list[RulePack], version: int = 0) -> None:
        self.packs = tuple(packs)
        self.version = version
        self.rules: tuple[Rule, ...] = tuple(r for p in packs for r in p.rules)
        check_unique_ids(self.rules, ", ".join(p.origin for p in packs) or "<rules>")
        self.actions = {r.id: r.action for r in self.rules}
        single: dict[str, list[_Term]] = defaultdict(list)
        phrases: dict[str, list[_Term]] = defaultdict(list)
        hashtags: dict[str, list[tuple[Rule, str]]] = defaultdict(list)
        fuzzy_edits: dict[str, int] = {}
        self._allow: dict[str, frozenset[str]] = {}
        self._regexes: list[tuple[regex.Pattern[str], Rule]] = []
        for rule in self.rules:
            self._allow[rule.id] = frozenset(
                a for entry in rule.allow for a in (normalize_term(entry), word_key(entry))
            )
            for raw_term in rule.terms:
                term = normalize_term(raw_term)
                keys = tuple(word_key(w) for w in TOKEN.findall(term))
                if not keys:
                    continue
                edits = 2 if rule.fuzzy is None else rule.fuzzy
                # A single word that is ordinary in another language (fr "retard", en "bite")
                # needs the message to read as the rule's language; a phrase is its own context.
                elsewhere = (
                    bool(rule.lang)
                    and len(keys) == 1
                    and bool(lexicon.common_in(term) - {rule.lang})
                )
                entry = _Term(rule, term, keys, edits, elsewhere)
                if len(keys) == 1:
                    single[keys[0]].append(entry)
                else:
                    phrases[keys[0]].append(entry)
                    squashed = "".join(keys)  # killyourself, #retourneàlacuisine
                    if len(squashed) >= 8:
                        single[squashed].append(entry)
                for key in keys:
                    allowed = min(edits, auto_edits(key))
                    fuzzy_edits[key] = max(fuzzy_edits.get(key, 0), allowed)
            for tag in rule.hashtags:
                key = hashtag_key(tag)
                if key:
                    hashtags[key].append((rule, f"#{key}"))
            if rule.regex:
                self._regexes.append((regex.compile(rule.regex, regex.IGNORECASE), rule))
        self._single = dict(single)
        self._phrases = dict(phrases)
        self._hashtags = dict(hashtags)
        self._vocabulary = frozenset(fuzzy_edits)
        self._fuzzy_edits = fuzzy_edits
        # Fuzzy candidates grouped by first letter: comparing a token only with terms that share
        # its first letter and length ±2 keeps rapidfuzz's work tiny (and spares real words).
        index: dict[str, list[str]] = defaultdict(list)
        for key, edits in fuzzy_edits.items():
            if edits or len(key) == 4:  # four-letter terms: only for stretched tokens
                index[key[0]].append(key)
        self._fuzzy_index = {k: sorted(v, key=len) for k, v in index.items()}
        self._spaced_keys = sorted((k for k in self._single if len(k) >= 4), key=len, reverse=True)
        self._cache: dict[str, _Resolved | None] = {}

    @property
    def term_count(self) -> int:
        return sum(len(r.terms) + len(r.hashtags) for r in self.rules)

    # -- resolving one token ------------------------------------------------------------------

    def _resolve(self, raw: str) -> _Resolved | None:
        resolved = self._cache.get(raw, _UNSEEN)
        if resolved is _UNSEEN:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            resolved = self._cache[raw] = self._resolve_uncached(raw)
        return resolved  # type: ignore[return-value]

    def _resolve_uncached(self, raw: str) -> _Resolved | None:
        core = raw.lstrip(_LEAD)
        lead = len(raw) - len(core)
        stripped = core.rstrip(_TRAIL)
        trail = len(core) - len(stripped)
        core = stripped
        if not core:
            return None
        if core.isdigit():  # a number, or one leet digit in a spaced-out word (s 4 l o p e)
            return _Resolved(core, lead, trail, core, None, ())
        has_leet = bool(LEET_CHARS.intersection(core))
        readings = deleet(core) if has_leet else [core]
        first_key = squeeze(readings[0])
        for reading in readings:
            how = ["leet"] if reading != core else []
            if is_stretched(reading):
                how.append("repeat")
            key = squeeze(reading)
            if key in self._vocabulary or key in self._single:
                return _Resolved(core, lead, trail, key, key, tuple(how))
            for ending in _INFLECTIONS:
                base = key[: -len(ending)]
                if key.endswith(ending) and len(base) >= (3 if ending != "e" else 5):
                    if base in self._single:
                        return _Resolved(core, lead, trail, key, base, (*how, "inflection"))
        for reading in readings:
            found = self._fuzzy(reading)
            if found:
                word, distance = found
                how = ["leet"] if reading != core else []
                return _Resolved(core, lead, trail, squeeze(reading), word,
                                 (*how, f"fuzzy:{distance}"), distance)  # fmt: skip
        return _Resolved(core, lead, trail, first_key, None, ())

    def _fuzzy(self, reading: str) -> tuple[str, int] | None:
        """The closest vocabulary word within its allowed edits, for a token that is not a real
        word. A stretched token (slooooot) may reach one edit even on a four-letter term."""
        stretched = is_stretched(reading)
        key = squeeze(reading)
        if len(key) < (4 if stretched else _SHORTEST_FUZZY) or lexicon.is_real_word(reading):
            return None
        if lexicon.is_real_word(key) and not stretched:
            return None
        candidates = self._fuzzy_index.get(key[0])
        if not candidates:
            return None
        near = [c for c in candidates if abs(len(c) - len(key)) <= 2]
        best = process.extract(key, near, scorer=OSA.distance, score_cutoff=2, limit=4)
        for word, distance, _ in sorted(best, key=lambda r: r[1]):
            allowed = self._fuzzy_edits[word] or (1 if stretched and len(word) == 4 else 0)
            if 0 < distance <= allowed:
                return word, int(distance)
        return None

    # -- matching a message -------------------------------------------------------------------

    def match(self, text: str) -> tuple[Match, ...]:
        norm = normalize(text)
        units = []
        for m in TOKEN.finditer(norm.text):
            resolved = self._resolve(m.group())
            if resolved is not None:
                units.append(_Unit(resolved, m.start() + resolved.lead, m.end() - resolved.trail))
        found = _Found(self, norm, text, units)
        for index, unit in enumerate(units):
            word = unit.resolved.word
            if word is None:
                continue
            for term in self._single.get(word, ()):
                found.add(term, unit.start, unit.end, unit.resolved.how, unit.resolved.distance)
            for term in self._phrases.get(word, ()):
                tail = units[index : index + len(term.keys)]
                if tuple(u.resolved.word for u in tail) == term.keys:
                    how = tuple(h for u in tail for h in u.resolved.how)
                    distance = max(u.resolved.distance for u in tail)
                    found.add(term, unit.start, tail[-1].end, (*how, "phrase"), distance)
        self._joined(units, found)
        if "#" in norm.text:
            self._hashtag_matches(norm, found)
        for pattern, rule in self._regexes:
            try:
                for m in pattern.finditer(norm.text, timeout=_REGEX_TIMEOUT_S):
                    if m.end() > m.start():
                        found.add_rule(rule, m.start(), m.end(), ("regex",), m.group())
            except TimeoutError:
                continue  # a pathological message against a heavy pattern: skip, never stall
        return found.result()

    def _joined(self, units: list[_Unit], found: _Found) -> None:
        """Words taken apart: s l u t, w.h.o.r.e (letters one by one), sal ope, bi te (split)."""
        count = len(units)
        index = 0
        while index < count:
            unit = units[index]
            if len(unit.resolved.core) == 1:
                end = index
                while end + 1 < count and len(units[end + 1].resolved.core) == 1:
                    end += 1
                if end - index >= 2:
                    self._spaced(units[index : end + 1], found)
                    index = end + 1
                    continue
            index += 1
        for index in range(count - 1):
            for size in (2, 3):
                pieces = units[index : index + size]
                if len(pieces) < size or any(p.resolved.word in self._single for p in pieces):
                    continue
                key = word_key("".join(p.resolved.core for p in pieces))
                if key in self._single and not all(
                    lexicon.is_real_word(p.resolved.core) for p in pieces
                ):
                    for term in self._single[key]:
                        found.add(term, pieces[0].start, pieces[-1].end, ("split",), 0)

    def _spaced(self, run: list[_Unit], found: _Found) -> None:
        letters = [word_key(u.resolved.core) for u in run]
        joined = "".join(letters)
        squeezed_at: list[int] = []  # joined index → unit index, after squeezing
        previous = ""
        for position, letter in enumerate(letters):
            if letter != previous:
                squeezed_at.append(position)
            previous = letter
        squeezed = squeeze(joined)
        for key in self._spaced_keys:
            start = squeezed.find(key)
            if start < 0:
                continue
            after = start + len(key)
            first = squeezed_at[start]
            last = squeezed_at[after] - 1 if after < len(squeezed_at) else len(letters) - 1
            for term in self._single[key]:
                found.add(term, run[first].start, run[last].end, ("spacing",), 0)

    def _hashtag_matches(self, norm: Normalized, found: _Found) -> None:
        for m in HASHTAG.finditer(norm.text):
            body = m.group(1).rstrip(".,;:!?)]}'\"")
            key = hashtag_key(body)
            how = ("hashtag", "leet") if key != hashtag_key(body, leet=False) else ("hashtag",)
            end = m.start() + 1 + len(body)
            hits = list(self._hashtags.get(key, ()))
            if not hits:
                hits = [
                    hit
                    for tag, tagged in self._hashtags.items()
                    if len(tag) >= _SHORTEST_HASHTAG_PREFIX and key.startswith(tag)
                    for hit in tagged
                ]
            for rule, tag in hits:
                found.add_rule(rule, m.start(), end, how, tag)


_UNSEEN = object()


def hashtag_key(tag: str, leet: bool = True) -> str:
    """`#Boycott_X`, `#boycottx` and `#b0yc0ttx` are the same hashtag."""
    body = normalize(tag.lstrip("#")).text.replace("_", "")
    return word_key(body) if leet else squeeze(body)


class _Found:
    """Collects one message's matches: allow-lists, language scope, dedup, explanations."""

    def __init__(self, rules: CompiledRules, norm: Normalized, text: str, units: list[_Unit]):
        self._rules, self._norm, self._text, self._units = rules, norm, text, units
        self._matches: dict[tuple[str, int, int], Match] = {}
        self._language: str | None | bool = False  # False: not computed yet

    def _language_of_message(self) -> str | None:
        if self._language is False:
            self._language = lexicon.guess_language([u.resolved.core for u in self._units])
        return self._language  # type: ignore[return-value]

    def add(self, term: _Term, start: int, end: int, how: tuple[str, ...], distance: int) -> None:
        if distance > term.max_edits:
            return
        if term.ordinary_elsewhere and self._language_of_message() != term.rule.lang:
            return
        self.add_rule(term.rule, start, end, how, term.term)

    def add_rule(self, rule: Rule, start: int, end: int, how: Iterable[str], term: str) -> None:
        allow = self._rules._allow[rule.id]
        surface = self._norm.text[start:end]
        if allow and (surface in allow or word_key(surface) in allow):
            return
        span = self._norm.original_span(start, end)
        key = (rule.id, *span)
        if key in self._matches:
            return
        kinds = set(how) | _evasions_in(self._text[span[0] : span[1]])
        explanation = "+".join(sorted(kinds)) if kinds else "exact"
        self._matches[key] = Match(rule.id, rule.category, rule.severity, span, explanation, term)

    def result(self) -> tuple[Match, ...]:
        matches = self._matches.values()
        return _drop_nested(matches) if len(self._matches) > 1 else tuple(matches)


def _evasions_in(original: str) -> set[str]:
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
        elif folded == "\ue000":
            kinds.add("emoji")
        elif not _accent_only(char):
            kinds.add("homoglyph")
    return kinds


def _accent_only(char: str) -> bool:
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return base.isascii() or unicodedata.category(char) == "Mn"


def _drop_nested(matches: Iterable[Match]) -> tuple[Match, ...]:
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
