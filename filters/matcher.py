"""A compiled, immutable rule set: evasion-robust words, phrases, hashtags, fuzzy, regexes."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from itertools import chain

import regex
from rapidfuzz import process
from rapidfuzz.distance import OSA

from vigile.connectors.model import Match
from vigile.filters import lexicon
from vigile.filters.hits import Hits, Term, Token
from vigile.filters.literals import literal_hints
from vigile.filters.normalize import (
    LEET_CHARS,
    deleet,
    is_stretched,
    normalize,
    normalize_term,
    squeeze,
)
from vigile.filters.rules import Rule, RulePack, check_unique_ids

# A token: letters and digits, plus the symbols leetspeak and masking use inside words.
TOKEN = re.compile(r"(?:[^\W_]|[@$€!|+*])+")
HASHTAG = re.compile(r"#([^\s#]+)")
_LEAD = "@!|+*"  # stripped from the start of a token (@mention, !!!word)
_TRAIL = "@!|+*$"  # and from its end (word!!!, word$)
# Plural and feminine endings of French and English, with what the stem must end in for each:
# bitch-es, connard-s, conne (5 letters at least for -e), boyau-x. Not con-es.
_INFLECTIONS = (
    ("es", ("s", "x", "z", "ch", "sh")),
    ("s", ("",)),
    ("x", ("au", "eu")),
    ("e", ("",)),
)
_SHORTEST_FUZZY = 5  # shorter terms match exactly (after folding) or not at all
_SHORTEST_TWO_EDITS = 8
_SHORTEST_SQUASHED_PHRASE = 6  # "killyourself", "uglycow"; not "godie"
_SHORTEST_HASHTAG_PREFIX = 6  # #BoycottLumina2026 is #BoycottLumina; #Lu is not #Lumina
_REGEX_TIMEOUT_S = 0.005
_CACHE_LIMIT = 200_000

# (term, first token, last token, how, edit distance) and (rule, start, end, how, surface)
TokenHit = tuple[Term, int, int, tuple[str, ...], int]
CharHit = tuple[Rule, int, int, tuple[str, ...], str]


def word_key(word: str) -> str:
    """The form a word is compared in: leet read, repeats collapsed."""
    return squeeze(deleet(word)[0]) if LEET_CHARS.intersection(word) else squeeze(word)


def hashtag_keys(tag: str) -> list[str]:
    """`#Boycott_X`, `#boycottx`, `#b0yc0ttx` and `#b0ycott1umina` read as the same hashtag."""
    body = normalize(tag.lstrip("#")).text.replace("_", "")
    if not LEET_CHARS.intersection(body):
        return [squeeze(body)]
    return [squeeze(reading) for reading in deleet(body)]


@lru_cache(maxsize=50_000)
def _term_forms(
    raw_term: str, lang: str | None
) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], bool] | None:
    """Everything about a term that does not depend on its rule: cached, so that an edit to a
    5,000-term pack recompiles only the terms that changed."""
    term = normalize_term(raw_term)
    words = TOKEN.findall(term)
    if not words:
        return None
    surfaces = tuple(deleet(w)[0] if LEET_CHARS.intersection(w) else w for w in words)
    written = tuple(TOKEN.findall(unicodedata.normalize("NFC", raw_term).lower()))
    # A single word that is ordinary in another language needs the message not to read as
    # that language; a phrase is its own context.
    elsewhere = bool(lang) and len(words) == 1 and bool(lexicon.common_in(surfaces[0]) - {lang})
    keys = tuple(squeeze(s) for s in surfaces)
    return term, keys, surfaces, written if len(written) == len(words) else surfaces, elsewhere


@lru_cache(maxsize=50_000)
def _splits(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A term key's proper prefixes, and the key with one letter doubled at each cut (what two
    squeezed halves joined give: sal + lope → sallope)."""
    prefixes = tuple(key[:n] for n in range(1, len(key)))
    return prefixes, tuple(key[:n] + key[n - 1 :] for n in range(1, len(key)))


def auto_edits(key: str) -> int:
    return 0 if len(key) < _SHORTEST_FUZZY else 1 if len(key) < _SHORTEST_TWO_EDITS else 2


class _TokenCache(dict[str, Token | None]):
    """raw token → Token; a hit is a plain dict lookup at C speed, a miss resolves it."""

    def __init__(self, resolve: Callable[[str], Token | None]) -> None:
        super().__init__()
        self._resolve = resolve

    def __missing__(self, raw: str) -> Token | None:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        token = self[raw] = self._resolve(raw)
        return token


class CompiledRules:
    """Built once from packs, then only read: swapping in a new instance is atomic."""

    def __init__(self, packs: list[RulePack], version: int = 0) -> None:
        self.packs = tuple(packs)
        self.version = version
        self.rules: tuple[Rule, ...] = tuple(r for p in packs for r in p.rules)
        check_unique_ids(self.rules, ", ".join(p.origin for p in packs) or "<rules>")
        self.actions = {r.id: r.action for r in self.rules}
        single: dict[str, list[Term]] = defaultdict(list)
        phrases: dict[str, list[Term]] = defaultdict(list)
        hashtags: dict[str, list[tuple[Rule, str]]] = defaultdict(list)
        fuzzy_edits: dict[str, int] = {}
        self._allow: dict[str, frozenset[str]] = {}
        self._regexes: list[tuple[regex.Pattern[str], Rule, frozenset[str] | None]] = []
        for rule in self.rules:
            self._allow[rule.id] = frozenset(normalize_term(a) for a in rule.allow)
            for raw_term in rule.terms:
                term = self._compile_term(rule, raw_term)
                if term is None:
                    continue
                if len(term.keys) == 1:
                    single[term.keys[0]].append(term)
                else:
                    phrases[term.keys[0]].append(term)
                    squashed = squeeze("".join(term.keys))  # killyourself, uglycow
                    if len(squashed) >= _SHORTEST_SQUASHED_PHRASE:
                        single[squashed].append(term)
                for key, surface in zip(term.keys, term.surfaces, strict=True):
                    allowed = min(term.max_edits, auto_edits(surface))
                    fuzzy_edits[key] = max(fuzzy_edits.get(key, 0), allowed)
            for tag in rule.hashtags:
                key = hashtag_keys(tag)[0]
                if key:
                    hashtags[key].append((rule, f"#{key}"))
            if rule.regex:
                pattern = regex.compile(rule.regex, regex.IGNORECASE)
                self._regexes.append((pattern, rule, literal_hints(rule.regex)))
        self._single, self._phrases, self._hashtags = dict(single), dict(phrases), dict(hashtags)
        self._vocabulary = frozenset(fuzzy_edits) | frozenset(single)
        self._fuzzy_edits = fuzzy_edits
        # Fuzzy candidates grouped by first letter: comparing a token only with terms that share
        # its first letter and length ±2 keeps rapidfuzz's work tiny (and spares real words).
        index: dict[tuple[str, int], list[str]] = defaultdict(list)
        stretched: dict[tuple[str, int], list[str]] = defaultdict(list)
        for key, edits in fuzzy_edits.items():
            if edits:
                index[key[0], len(key)].append(key)
            elif len(key) == 4:  # four-letter terms: one edit, for stretched tokens only
                stretched[key[0], len(key)].append(key)
        self._fuzzy_index, self._stretched_index = dict(index), dict(stretched)
        self._spaced_lengths = sorted({len(k) for k in single if len(k) >= 4})
        # Proper beginnings of single-word terms: a token that is one may be half of a split word.
        splits = [_splits(k) for k in single]
        self._prefixes = frozenset(chain.from_iterable(p for p, _ in splits))
        self._joinable = frozenset(single).union(*(j for _, j in splits))
        self._starters = frozenset(single) | frozenset(phrases)
        self._tokens = _TokenCache(self._resolve)

    @staticmethod
    def _compile_term(rule: Rule, raw_term: str) -> Term | None:
        forms = _term_forms(raw_term, rule.lang)
        if forms is None:
            return None
        term, keys, surfaces, written, elsewhere = forms
        max_edits = 2 if rule.fuzzy is None else rule.fuzzy
        return Term(rule, term, keys, surfaces, written, max_edits, elsewhere)

    # -- resolving one token ------------------------------------------------------------------

    def _resolve(self, raw: str) -> Token | None:
        core = raw.lstrip(_LEAD)
        lead = len(raw) - len(core)
        stripped = core.rstrip(_TRAIL)
        trail = len(core) - len(stripped)
        core = stripped
        if not core:
            return None
        if core.isdigit():  # a number, or leet digits in a word taken apart (s 4 l o p e)
            return Token(core, lead, trail, word_key(core), None)
        token = self._read(core, lead, trail)
        if token.word is None and lead and raw[lead - 1] == "@":
            # @tt@@rdé: a leet "a" rather than a mention, when that reading is a term.
            with_at = self._read("@" + core, lead - 1, trail)
            if with_at.word is not None:
                return with_at
        return token

    def _read(self, core: str, lead: int, trail: int) -> Token:
        base, how = core, ()
        if "*" in core:  # c*o*n*n*a*r*d: stars between the letters
            base, how = core.replace("*", ""), ("separators",)
        readings = deleet(base) if LEET_CHARS.intersection(base) else [base]
        for reading in readings:
            key = squeeze(reading)
            found = (*how, *(("leet",) if reading != base else ()))
            found += ("repeat",) if is_stretched(reading) else ()
            real = lexicon.is_real_word(reading)
            if key in self._vocabulary:
                return Token(core, lead, trail, key, key, reading, real, found)
            for ending, after in _INFLECTIONS:
                stem_key = key[: -len(ending)]
                if (
                    key.endswith(ending)
                    and stem_key.endswith(after)
                    and len(stem_key) >= (3 if ending != "e" else 5)
                    and stem_key in self._single
                ):
                    stem = reading[: -len(ending)]
                    real = real or lexicon.is_real_word(stem)  # cones: the plural of cone
                    return Token(core, lead, trail, key, stem_key, stem, real,
                                 (*found, "inflection"))  # fmt: skip
        for reading in readings:
            near = self._fuzzy(reading)
            if near:
                word, distance = near
                found = (*how, *(("leet",) if reading != base else ()))
                found += (*(("repeat",) if is_stretched(reading) else ()), f"fuzzy:{distance}")
                return Token(core, lead, trail, squeeze(reading), word, reading, False, found,
                             distance)  # fmt: skip
        return Token(core, lead, trail, squeeze(readings[0]), None, readings[0])

    def _fuzzy(self, reading: str) -> tuple[str, int] | None:
        """The closest vocabulary word within its allowed edits, for a token that is not a real
        word. A stretched token (slooooot) may reach one edit even on a four-letter term."""
        stretched = is_stretched(reading)
        key = squeeze(reading)
        if len(reading) < _SHORTEST_FUZZY or len(key) < 4 or lexicon.is_real_word(reading):
            return None
        if lexicon.is_real_word(key) and not stretched:
            return None
        indexes = (self._fuzzy_index, self._stretched_index) if stretched else (self._fuzzy_index,)
        near = [
            word
            for index in indexes
            for size in range(len(key) - 2, len(key) + 3)
            for word in index.get((key[0], size), ())
        ]
        if not near:
            return None
        best = process.extract(key, near, scorer=OSA.distance, score_cutoff=2, limit=8)
        # Closest first; on a tie, a word that is a term on its own beats a word of a phrase.
        for word, distance, _ in sorted(best, key=lambda r: (r[1], r[0] not in self._single)):
            allowed = self._fuzzy_edits[word] or (1 if stretched and len(word) == 4 else 0)
            if distance == 2 and len(reading) < _SHORTEST_TWO_EDITS:
                continue
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
        cache = self._tokens  # a hit for most tokens: chat repeats itself
        resolved = [cache[raw] for raw in TOKEN.findall(body)]
        tokens = [t for t in resolved if t is not None]
        hits: list[TokenHit] = []
        self._words_and_phrases(tokens, hits)
        self._joined(tokens, hits)
        char_hits = self._hashtag_hits(body) if "#" in body else []
        if self._regexes:
            char_hits += self._regex_hits(body)
        if not hits and not char_hits:
            return ()
        spans = [
            (m.start() + t.lead, m.end() - t.trail)
            for t, m in zip(resolved, TOKEN.finditer(body), strict=True)
            if t is not None
        ]
        found = Hits(self._allow, norm, text, tokens, spans)
        for term, first, last, how, distance in hits:
            found.add_term(term, first, last, how, distance)
        for rule, start, end, how, surface in char_hits:
            found.add(rule, start, end, how, surface)
        return found.result()

    def _words_and_phrases(self, tokens: list[Token], hits: list[TokenHit]) -> None:
        single, phrases, starters = self._single, self._phrases, self._starters
        for index in [i for i, t in enumerate(tokens) if t.word in starters]:
            token = tokens[index]
            word = token.word
            for term in single.get(word, ()):
                # A real word that meets a term only once squeezed or inflected is itself:
                # "cone" is not "conne", "bite" is not "bitte". Inside a phrase it may be.
                if token.real and token.stem not in term.surfaces and len(term.keys) == 1:
                    continue
                hits.append((term, index, index, token.how, token.distance))
            for term in phrases.get(word, ()):
                last = index + len(term.keys) - 1
                if last >= len(tokens) or tokens[index + 1].word != term.keys[1]:
                    continue  # the usual case, decided on the second word
                tail = tokens[index : last + 1]
                if all(t.word == k for t, k in zip(tail, term.keys, strict=True)):
                    how = (*(h for t in tail for h in t.how), "phrase")
                    hits.append((term, index, last, how, max(t.distance for t in tail)))

    def _joined(self, tokens: list[Token], hits: list[TokenHit]) -> None:
        """Words taken apart: s l u t, w.h.o.r.e (letters one by one), sal ope (split)."""
        count = len(tokens)
        if count < 2:
            return
        sizes = [len(t.core) for t in tokens]
        if sizes.count(1) >= 3:
            run = 0  # single characters in a row
            for index, size in enumerate(sizes):
                run = run + 1 if size == 1 else 0
                if run >= 3 and (index + 1 == count or sizes[index + 1] != 1):
                    self._spaced(tokens, index - run + 1, index, hits)
        # Two neighbours joined (keys are squeezed: sal + lope gives "sallope", so the joinable
        # set holds every term also with one letter doubled). Checked for all pairs at once.
        keys = [t.key for t in tokens]
        pairs = list(map(str.__add__, keys, keys[1:]))
        if self._joinable.isdisjoint(pairs) and self._prefixes.isdisjoint(pairs):
            return
        single, prefixes = self._single, self._prefixes
        for index in range(count - 1):
            key = keys[index]
            if key not in prefixes:
                continue
            for end in (index + 1, index + 2):
                if key not in prefixes or end >= count:
                    break
                key = _joined_key(key, keys[end])
                pieces = tokens[index : end + 1]
                # Two ordinary words side by side are not a split insult: "il a pu te voir".
                if (
                    key in single
                    and not any(p.word in single for p in pieces)
                    and not all(lexicon.is_standalone(p.core) for p in pieces)
                ):
                    for term in single[key]:
                        hits.append((term, index, end, ("split",), 0))

    def _spaced(self, tokens: list[Token], first: int, last: int, hits: list[TokenHit]) -> None:
        letters = [t.key for t in tokens[first : last + 1]]
        starts: list[int] = []  # squeezed position → index in the run
        for position, letter in enumerate(letters):
            if not position or letter != letters[position - 1]:
                starts.append(position)
        squeezed = squeeze("".join(letters))
        # A short term must be the whole run (c o n); a longer one may sit inside it.
        found = [(0, squeezed)] if 3 <= len(squeezed) < 4 and squeezed in self._single else []
        for at in range(len(squeezed)):
            for size in self._spaced_lengths:
                key = squeezed[at : at + size]
                if len(key) == size and key in self._single:
                    found.append((at, key))
        for at, key in found:
            after = at + len(key)
            end = starts[after] - 1 if after < len(starts) else len(letters) - 1
            for term in self._single[key]:
                hits.append((term, first + starts[at], first + end, ("spacing",), 0))

    def _hashtag_hits(self, body: str) -> list[CharHit]:
        hits: list[CharHit] = []
        for m in HASHTAG.finditer(body):
            tag_body = m.group(1).rstrip(".,;:!?)]}'\"")
            end = m.start() + 1 + len(tag_body)
            for key in hashtag_keys(tag_body):
                how = ("hashtag", "leet") if LEET_CHARS.intersection(tag_body) else ("hashtag",)
                tagged = list(self._hashtags.get(key, ()))
                if not tagged:  # #BoycottLumina2026, #BoycottLuminaNow: still the campaign
                    tagged = [
                        hit
                        for tag, entries in self._hashtags.items()
                        if len(tag) >= _SHORTEST_HASHTAG_PREFIX and key.startswith(tag)
                        for hit in entries
                    ]
                hits += [(rule, m.start(), end, how, tag) for rule, tag in tagged]
                if tagged:
                    break
        return hits

    def _regex_hits(self, body: str) -> list[CharHit]:
        hits: list[CharHit] = []
        for pattern, rule, hints in self._regexes:
            if hints is not None and not any(hint in body for hint in hints):
                continue  # lacks every literal the pattern needs: cannot match
            try:
                for m in pattern.finditer(body, timeout=_REGEX_TIMEOUT_S):
                    if m.end() > m.start():
                        hits.append((rule, m.start(), m.end(), ("regex",), m.group()))
            except TimeoutError:
                continue  # a pathological message against a heavy pattern: skip, never stall
        return hits


def _joined_key(left: str, right: str) -> str:
    """Two squeezed keys joined and squeezed again (sal + lope → salope), without a regex."""
    return left + right[1:] if left and right and left[-1] == right[0] else left + right
