"""A compiled, immutable rule set: evasion-robust words, phrases, hashtags, fuzzy, regexes."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
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
    # A real word that meets a vocabulary word only once squeezed (kil → kill): not enough on
    # its own, enough inside a phrase ("kil yourself").
    loose: str | None = None

    @property
    def phrase_word(self) -> str | None:
        return self.word or self.loose


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
        surfaces: dict[str, set[str]] = defaultdict(set)  # key → the term words it stands for
        self._allow: dict[str, frozenset[str]] = {}
        self._regexes: list[tuple[regex.Pattern[str], Rule]] = []
        for rule in self.rules:
            self._allow[rule.id] = frozenset(
                a for entry in rule.allow for a in (normalize_term(entry), word_key(entry))
            )
            for raw_term in rule.terms:
                term = normalize_term(raw_term)
                words = [
                    deleet(w)[0] if LEET_CHARS.intersection(w) else w for w in TOKEN.findall(term)
                ]
                keys = tuple(squeeze(w) for w in words)
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
                for word, key in zip(words, keys, strict=True):
                    surfaces[key].add(word)
                surfaces["".join(keys)].add("".join(words))
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
        self._surfaces = dict(surfaces)
        self._fuzzy_edits = fuzzy_edits
        # Fuzzy candidates grouped by first letter: comparing a token only with terms that share
        # its first letter and length ±2 keeps rapidfuzz's work tiny (and spares real words).
        index: dict[str, list[str]] = defaultdict(list)
        for key, edits in fuzzy_edits.items():
            if edits or len(key) == 4:  # four-letter terms: only for stretched tokens
                index[key[0]].append(key)
        self._fuzzy_index = {k: sorted(v, key=len) for k, v in index.items()}
        self._spaced_keys = sorted((k for k in self._single if len(k) >= 4), key=len, reverse=True)
        # Proper beginnings of single-word terms: a token that is one may be half of a split word.
        self._prefixes = frozenset(k[:n] for k in self._single for n in range(1, len(k)))
        self._resolved = _ResolutionCache(self._resolve_uncached)

    @property
    def term_count(self) -> int:
        return sum(len(r.terms) + len(r.hashtags) for r in self.rules)

    # -- resolving one token ------------------------------------------------------------------

    def _resolve_uncached(self, raw: str) -> _Resolved | None:
        core = raw.lstrip(_LEAD)
        lead = len(raw) - len(core)
        stripped = core.rstrip(_TRAIL)
        trail = len(core) - len(stripped)
        core = stripped
        if not core:
            return None
        if core.isdigit():  # a number, or leet digits in a word taken apart (s 4 l o p e)
            return _Resolved(core, lead, trail, word_key(core), None, ())
        has_leet = bool(LEET_CHARS.intersection(core))
        readings = deleet(core) if has_leet else [core]
        first_key = squeeze(readings[0])
        for reading in readings:
            how = ["leet"] if reading != core else []
            if is_stretched(reading):
                how.append("repeat")
            key = squeeze(reading)
            if key in self._surfaces:
                if not self._collides(reading, reading, key):
                    return _Resolved(core, lead, trail, key, key, tuple(how))
                return _Resolved(core, lead, trail, key, None, (*how, "repeat"), loose=key)
            for ending in _INFLECTIONS:
                base = key[: -len(ending)]
                if (
                    key.endswith(ending)
                    and len(base) >= (3 if ending != "e" else 5)
                    and base in self._single
                    and not self._collides(reading, reading[: -len(ending)], base)
                ):
                    return _Resolved(core, lead, trail, key, base, (*how, "inflection"))
        for reading in readings:
            found = self._fuzzy(reading)
            if found:
                word, distance = found
                how = ["leet"] if reading != core else []
                return _Resolved(core, lead, trail, squeeze(reading), word,
                                 (*how, f"fuzzy:{distance}"), distance)  # fmt: skip
        return _Resolved(core, lead, trail, first_key, None, ())

    def _collides(self, reading: str, stem: str, key: str) -> bool:
        """A real word that meets a term only once squeezed or inflected is itself, not the
        term: cone is not conne, cones not connes."""
        return stem not in self._surfaces[key] and lexicon.is_real_word(reading)

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
    #
    # Matching works on the list of resolved tokens; spans in the original text are worked out
    # only for a message that has something to report (most chat has nothing).

    def match(self, text: str) -> tuple[Match, ...]:
        norm = normalize(text)
        body = norm.text
        cache = self._resolved  # a hit for most tokens: chat repeats itself
        resolved = [cache[token] for token in TOKEN.findall(body)]
        tokens = [r for r in resolved if r is not None]
        hits: list[_TokenHit] = []
        self._words_and_phrases(tokens, hits)
        self._joined(tokens, hits)
        char_hits = self._hashtag_hits(body) if "#" in body else []
        if self._regexes:
            char_hits += self._regex_hits(body)
        if not hits and not char_hits:
            return ()
        spans = [
            (m.start() + r.lead, m.end() - r.trail)
            for r, m in zip(resolved, TOKEN.finditer(body), strict=True)
            if r is not None
        ]
        found = _Found(self, norm, text, tokens)
        for term, first, last, how, distance in hits:
            found.add(term, spans[first][0], spans[last][1], how, distance)
        for rule, start, end, how, surface in char_hits:
            found.add_rule(rule, start, end, how, surface)
        return found.result()

    def _words_and_phrases(self, tokens: list[_Resolved], hits: list[_TokenHit]) -> None:
        single, phrases = self._single, self._phrases
        for index, token in enumerate(tokens):
            word = token.phrase_word
            if word is None:
                continue
            if token.word:
                for term in single.get(word, ()):
                    hits.append((term, index, index, token.how, token.distance))
            for term in phrases.get(word, ()):
                last = index + len(term.keys) - 1
                tail = tokens[index : last + 1]
                if tuple(t.phrase_word for t in tail) == term.keys:
                    how = (*(h for t in tail for h in t.how), "phrase")
                    hits.append((term, index, last, how, max(t.distance for t in tail)))

    def _joined(self, tokens: list[_Resolved], hits: list[_TokenHit]) -> None:
        """Words taken apart: s l u t, w.h.o.r.e (letters one by one), sal ope, bi te (split)."""
        count = len(tokens)
        run = 0  # single characters in a row
        for index, token in enumerate(tokens):
            run = run + 1 if len(token.core) == 1 else 0
            if run and (index + 1 == count or len(tokens[index + 1].core) != 1) and run >= 3:
                self._spaced(tokens, index - run + 1, index, hits)
        single, prefixes = self._single, self._prefixes
        for index in range(count - 1):
            key = tokens[index].key
            for end in (index + 1, index + 2):
                if key not in prefixes or end >= count:
                    break
                key = _joined_key(key, tokens[end].key)
                pieces = tokens[index : end + 1]
                if (
                    key in single
                    and not any(p.word in single for p in pieces)
                    and not all(lexicon.is_real_word(p.core) for p in pieces)
                ):
                    for term in single[key]:
                        hits.append((term, index, end, ("split",), 0))

    def _spaced(
        self, tokens: list[_Resolved], first: int, last: int, hits: list[_TokenHit]
    ) -> None:
        letters = [word_key(t.core) for t in tokens[first : last + 1]]
        starts: list[int] = []  # squeezed position → index in the run
        for position, letter in enumerate(letters):
            if not position or letter != letters[position - 1]:
                starts.append(position)
        squeezed = squeeze("".join(letters))
        for key in self._spaced_keys:
            at = squeezed.find(key)
            if at < 0:
                continue
            after = at + len(key)
            end = starts[after] - 1 if after < len(starts) else len(letters) - 1
            for term in self._single[key]:
                hits.append((term, first + starts[at], first + end, ("spacing",), 0))

    def _hashtag_hits(self, body: str) -> list[_CharHit]:
        hits: list[_CharHit] = []
        for m in HASHTAG.finditer(body):
            tag_body = m.group(1).rstrip(".,;:!?)]}'\"")
            key = hashtag_key(tag_body)
            how = ("hashtag", "leet") if key != hashtag_key(tag_body, leet=False) else ("hashtag",)
            end = m.start() + 1 + len(tag_body)
            tagged = list(self._hashtags.get(key, ()))
            if not tagged:  # #BoycottLumina2026, #BoycottLuminaNow: the campaign still
                tagged = [
                    hit
                    for tag, entries in self._hashtags.items()
                    if len(tag) >= _SHORTEST_HASHTAG_PREFIX and key.startswith(tag)
                    for hit in entries
                ]
            hits += [(rule, m.start(), end, how, tag) for rule, tag in tagged]
        return hits

    def _regex_hits(self, body: str) -> list[_CharHit]:
        hits: list[_CharHit] = []
        for pattern, rule in self._regexes:
            try:
                for m in pattern.finditer(body, timeout=_REGEX_TIMEOUT_S):
                    if m.end() > m.start():
                        hits.append((rule, m.start(), m.end(), ("regex",), m.group()))
            except TimeoutError:
                continue  # a pathological message against a heavy pattern: skip, never stall
        return hits


# (term, first token, last token, how, edit distance) and (rule, start, end, how, surface)
_TokenHit = tuple[_Term, int, int, tuple[str, ...], int]
_CharHit = tuple[Rule, int, int, tuple[str, ...], str]


def _joined_key(left: str, right: str) -> str:
    """Two squeezed keys joined and squeezed again (sal + lope → salope), without a regex."""
    return left + right[1:] if left and right and left[-1] == right[0] else left + right


class _ResolutionCache(dict[str, "_Resolved | None"]):
    """token → resolution; a hit is a plain dict lookup at C speed, a miss resolves it."""

    def __init__(self, resolve: Callable[[str], _Resolved | None]) -> None:
        super().__init__()
        self._resolve = resolve

    def __missing__(self, token: str) -> _Resolved | None:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        resolved = self[token] = self._resolve(token)
        return resolved


def hashtag_key(tag: str, leet: bool = True) -> str:
    """`#Boycott_X`, `#boycottx` and `#b0yc0ttx` are the same hashtag."""
    body = normalize(tag.lstrip("#")).text.replace("_", "")
    return word_key(body) if leet else squeeze(body)


class _Found:
    """Collects one message's matches: allow-lists, language scope, dedup, explanations."""

    def __init__(
        self, rules: CompiledRules, norm: Normalized, text: str, tokens: list[_Resolved]
    ) -> None:
        self._rules, self._norm, self._text, self._tokens = rules, norm, text, tokens
        self._matches: dict[tuple[str, int, int], Match] = {}
        self._language: str | None | bool = False  # False: not computed yet

    def _language_of_message(self) -> str | None:
        if self._language is False:
            self._language = lexicon.guess_language([t.core for t in self._tokens])
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
