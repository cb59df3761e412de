"""A compiled, immutable rule set: evasion-robust words, phrases, hashtags, fuzzy, regexes."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import lru_cache, reduce
from itertools import accumulate, chain
from operator import attrgetter, or_
from typing import Any

from vigile.connectors.model import Match
from vigile.filters import disk_cache, lexicon
from vigile.filters.hits import Context, Hits, Term, Token
from vigile.filters.literals import literal_hints
from vigile.filters.normalize import (
    LEET_CHARS,
    TOKEN,
    Normalized,
    deleet,
    is_stretched,
    normalize,
    normalize_term,
    squeeze,
    word_key,
)
from vigile.filters.patterns import SLIP, SPELLINGS, Gap, PatternError, Word, parse
from vigile.filters.phrases import Pattern, anchors_of, compile_pattern, fold_word, shared_words
from vigile.filters.reading import (
    ANCHOR,
    LETTER,
    SHORTEST_FUZZY,
    SHORTEST_TOLERANT,
    SHORTEST_TWO_EDITS,
    SPLIT,
    SQUASH,
    WORD,
    TokenReader,
)
from vigile.filters.rule_regex import compile_rule_regex
from vigile.filters.rules import Rule, RulePack, RulePackError, check_unique_ids

HASHTAG = re.compile(r"#([^\s#]+)")
_SHORTEST_SQUASHED_PHRASE = 6  # "killyourself", "uglycow"; not "godie"
_SHORTEST_HASHTAG_PREFIX = 6  # #BoycottLumina2026 is #BoycottLumina; #Lu is not #Lumina
_MOST_PIECES = 6  # a split word: two or three pieces, then single letters
_FLAGS = attrgetter("flags")
_FORMS = attrgetter("forms")
_SEGMENT = attrgetter("segment")
_CACHE_LIMIT = 200_000
_MEMO_LIMIT = 50_000  # whole messages remembered: chat repeats its lines (emotes, "gg", spam)

# (term, first token, last token, how, edit distance) and (rule, start, end, how, surface)
TokenHit = tuple[Term, int, int, tuple[str, ...], int]
CharHit = tuple[Rule, int, int, tuple[str, ...], str]
# A text's normalised form, tokens, their spans, and what they and its characters meet
_Candidates = tuple[Normalized, list[Token], list[tuple[int, int]], list[TokenHit], list[CharHit]]
_UNSEEN = object()
_STRING_SET_SEPARATOR = "\0"


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
    # A word written in digits is a number ("1488", "0 iq", "à -90%"), not leet for letters.
    surfaces = tuple(
        deleet(w)[0] if LEET_CHARS.intersection(w) and not w.isdigit() else w for w in words
    )
    written = tuple(TOKEN.findall(unicodedata.normalize("NFC", raw_term).lower()))
    # A single word that is ordinary in another language needs the message not to read as
    # that language; a phrase is its own context.
    elsewhere = bool(lang) and len(words) == 1 and bool(lexicon.common_in(surfaces[0]) - {lang})
    keys = tuple(s if s.isdigit() else squeeze(s) for s in surfaces)
    return term, keys, surfaces, written if len(written) == len(words) else surfaces, elsewhere


@lru_cache(maxsize=50_000)
def _suffixes(key: str) -> tuple[str, ...]:
    """A term key's proper ends: the last piece of a split word is one (ope of sal ope)."""
    return tuple(key[n:] for n in range(1, len(key)))


@lru_cache(maxsize=50_000)
def _splits(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A term key's proper prefixes, and the key with one letter doubled at each cut (what two
    squeezed halves joined give: sal + lope → sallope)."""
    prefixes = tuple(key[:n] for n in range(1, len(key)))
    return prefixes, tuple(key[:n] + key[n - 1 :] for n in range(1, len(key)))


def auto_edits(key: str) -> int:
    return 0 if len(key) < SHORTEST_FUZZY else 1 if len(key) < SHORTEST_TWO_EDITS else 2


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


class CompiledRules(TokenReader):
    """Built once from packs, then only read: swapping in a new instance is atomic."""

    def __init__(self, packs: list[RulePack], version: int = 0, scope: str = "text") -> None:
        self.packs = tuple(packs)
        self.version = version
        self.rules: tuple[Rule, ...] = tuple(r for p in packs for r in p.rules)
        check_unique_ids(self.rules, ", ".join(p.origin for p in packs) or "<rules>")
        self.actions = {r.id: r.action for r in self.rules}
        single: dict[str, list[Term]] = defaultdict(list)
        squashed_phrases: dict[str, list[Pattern]] = defaultdict(list)
        hashtags: dict[str, list[tuple[Rule, str]]] = defaultdict(list)
        fuzzy_edits: dict[str, int] = {}
        self._allow: dict[str, frozenset[str]] = {}
        # each regex rule's RE2 program, and a search for the literals it needs (None: unknown)
        self._regexes: list[tuple[Any, Rule, Callable[[str], Any] | None]] = []
        self._patterns: list[Pattern] = []
        for rule in self.rules:
            self._allow[rule.id] = frozenset(normalize_term(a) for a in rule.allow)
            if rule.scope != scope:
                continue
            for raw_term in rule.terms:
                term = self._compile_term(rule, raw_term)
                if term is None:
                    continue
                if (
                    len(term.keys) > 1
                    and max(map(len, term.keys)) <= 2
                    and "".join(term.keys).isalpha()
                ):
                    single["".join(term.keys)].append(term)  # a.g., l.a.n: letters, one word
                    continue
                if len(term.keys) > 1:  # a phrase: a pattern of its words, and joined up
                    words = fold_word(raw_term)
                    phrase = compile_pattern(term, tuple(((Word(k, False, w),),) for k, w in words))
                    self._patterns.append(phrase)
                    # Joined up as chat spells it and as the term is written: "got ur
                    # address" is both gotyouraddress and goturaddress.
                    joined = {
                        squeeze("".join(SPELLINGS.get(k, k) for k in term.keys)),
                        squeeze("".join(term.keys)),
                    }
                    if not _number_lost(term):  # follow4follow: its number read as a letter
                        joined.add(squeeze("".join(_leet_keys(term))))
                    for squashed in joined:
                        if len(squashed) >= _SHORTEST_SQUASHED_PHRASE:
                            squashed_phrases[squashed].append(phrase)
                            single[squashed].append(term)  # killyourself, uglycow
                    continue
                single[term.keys[0]].append(term)
                allowed = min(term.max_edits, auto_edits(term.surfaces[0]))
                fuzzy_edits[term.keys[0]] = max(fuzzy_edits.get(term.keys[0], 0), allowed)
            for written in rule.patterns:
                term = Term(rule, normalize_term(written), (), (), (), 1, False)
                try:
                    elements = parse(written, fold_word)
                except PatternError as exc:  # what validation's plainer folding could not see
                    where = ", ".join(p.origin for p in packs) or "<rules>"
                    reason = f"rule {rule.id!r}: pattern {written!r}: {exc}"
                    raise RulePackError(where, None, reason) from exc
                self._patterns.append(compile_pattern(term, elements))
            for tag in rule.hashtags:
                key = hashtag_keys(tag)[0]
                if key:
                    hashtags[key].append((rule, f"#{key}"))
            if rule.regex:
                self._regexes.append(_rule_regex(rule))
        # A word written in both languages' packs means the same in both ("sexy", "onlyfans"):
        # it needs no language check; "bite" or "con", in one language's pack only, does.
        checked = {
            t.surfaces[0] for terms in single.values() for t in terms if t.ordinary_elsewhere
        }
        languages: dict[str, set[str]] = defaultdict(set)
        for terms in single.values():
            for term in terms:
                if term.rule.lang and term.surfaces[0] in checked:
                    languages[term.surfaces[0]].add(term.rule.lang)
        both = {surface for surface, found in languages.items() if len(found) > 1}
        for key, terms in single.items():
            if any(t.surfaces[0] in both for t in terms):
                single[key] = [
                    replace(t, ordinary_elsewhere=False) if t.surfaces[0] in both else t
                    for t in terms
                ]
        self._single, self._hashtags = dict(single), dict(hashtags)
        # Single words by first letter, for masked words (sl*t); by their letters, the
        # four-letter ones, for swaps that squeezing would hide (dxox).
        self._surfaces: dict[str, list[tuple[str, str]]] = defaultdict(list)
        four_surfaces: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for key, terms in self._single.items():
            for term in terms:
                if len(term.keys) == 1:
                    surface = term.surfaces[0]
                    self._surfaces[surface[0]].append((surface, key))
                    if len(surface) == 4:
                        four_surfaces["".join(sorted(surface))].append((surface, key))
        self._four_surfaces = dict(four_surfaces)
        self._vocabulary = frozenset(fuzzy_edits) | frozenset(single)
        self._fuzzy_edits = fuzzy_edits
        # Fuzzy candidates grouped by first letter: comparing a token only with terms that share
        # its first letter and length ±2 keeps rapidfuzz's work tiny (and spares real words).
        index: dict[tuple[str, int], list[str]] = defaultdict(list)
        short: dict[str, list[str]] = defaultdict(list)
        for key, edits in fuzzy_edits.items():
            if edits:
                index[key[0], len(key)].append(key)
            if len(key) == 4:  # four-letter terms: a stretched token, or one transposition
                short["".join(sorted(key))].append(key)
        self._fuzzy_index, self._four_letters = dict(index), dict(short)
        self._four_by_first: dict[str, list[str]] = defaultdict(list)
        for words in short.values():
            for word in words:
                self._four_by_first[word[0]].append(word)
        self._spaced_lengths = sorted({len(k) for k in single if len(k) >= 4})
        # Proper beginnings of single-word terms: a token that is one may be half of a split word.
        splits = [_splits(k) for k in single]
        self._prefixes = frozenset(chain.from_iterable(p for p, _ in splits))
        self._joinable = frozenset(single).union(*(j for _, j in splits))
        # Phrases written joined or split anywhere ("kill your self", "k i l l yourself"): the
        # proper beginnings of each phrase's letters, walked token by token.
        self._squashed = dict(squashed_phrases)
        self._squashed_prefixes = frozenset(k[:n] for k in self._squashed for n in range(1, len(k)))
        # A pattern is looked for in a message only when one of its rarest fixed words is there.
        anchors: dict[str, set[int]] = defaultdict(set)
        prefix_anchors: dict[str, set[int]] = defaultdict(set)
        slip_words: set[str] = set()  # the long words of patterns
        french: set[str] = set()
        for number, compiled in enumerate(self._patterns):
            for word in anchors_of(compiled):
                (prefix_anchors if word.prefix else anchors)[word.key].add(number)
            for element in compiled.elements:
                for choice in () if isinstance(element, Gap) else element:
                    for word in choice:
                        # long as written: "sleep" may carry a slip, though squeezed to "slep"
                        if not word.prefix and len(word.surface or word.key) >= SHORTEST_TOLERANT:
                            slip_words.add(word.key)
                            if compiled.term.rule.lang == "fr":
                                french.add(word.key)
        self._anchors = {k: frozenset(v) for k, v in anchors.items()}
        self._prefix_anchors = {k: frozenset(v) for k, v in prefix_anchors.items()}
        self._slip_neighbours = _one_deletion_index(slip_words)
        self._french_slips = frozenset(french)
        self._prefix_sizes = sorted({len(k) for k in prefix_anchors})
        self._starters = frozenset(single)
        # What a split can leave: the proper beginnings and ends of single-word terms (sal, ope),
        # and of the words of phrases ("self" of "yourself").
        self._pieces = self._prefixes | frozenset(chain.from_iterable(map(_suffixes, single)))
        words = {
            word.key
            for compiled in self._patterns
            for element in compiled.elements
            for choice in (() if isinstance(element, Gap) else element)
            for word in choice
        }
        pieces = {
            piece
            for word in words
            for n in range(2, len(word))
            for piece in (word[:n], word[len(word) - n :])
        }
        self._phrase_pieces = frozenset(pieces - words)  # "self" of yourself; not "your"
        # One search for every regex rule's literals at once: most chat has none of them.
        hints = [literal_hints(rule.regex) for _, rule, _ in self._regexes]
        self._regex_hints = (
            re.compile("|".join(re.escape(h) for h in sorted(set().union(*hints))))
            if hints and None not in hints
            else None
        )
        self._tokens = _TokenCache(self._resolve)
        self._typed_tokens: dict[str, tuple[str, int] | None] = {}
        self._written_surfaces: dict[str, tuple[str, ...]] = {}
        self._memo: dict[tuple[str, Context | None], tuple[Match, ...]] = {}
        self._candidates: dict[str, _Candidates | None] = {}

    def __getstate__(self) -> dict[str, object]:
        """What the disk cache keeps: the indexes, not the memories of messages read, nor the
        RE2 programs (compiled again on load, from their rules)."""
        memories = ("_tokens", "_typed_tokens", "_written_surfaces", "_memo", "_candidates")
        state = {k: v for k, v in self.__dict__.items() if k not in memories}
        state["_regexes"] = [rule for _, rule, _ in self._regexes]
        state["_patterns"], state["_squashed"] = shared_words(self._patterns, self._squashed)
        # Sets of strings (tens of thousands of word pieces) as one string each: split and
        # hashed at C speed on load rather than unpickled string by string.
        state["_string_sets"] = {
            name: _STRING_SET_SEPARATOR.join(found)
            for name, found in state.items()
            if type(found) is frozenset
            and found
            and all(type(s) is str and _STRING_SET_SEPARATOR not in s for s in found)
        }
        for name in state["_string_sets"]:
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        joined = state.pop("_string_sets", {})
        self.__dict__.update(state)
        for name, strings in joined.items():
            setattr(self, name, frozenset(strings.split(_STRING_SET_SEPARATOR)))
        self._regexes = [_rule_regex(rule) for rule in state["_regexes"]]
        self._tokens = _TokenCache(self._resolve)
        self._typed_tokens, self._written_surfaces = {}, {}
        self._memo, self._candidates = {}, {}

    @staticmethod
    def _compile_term(rule: Rule, raw_term: str) -> Term | None:
        forms = _term_forms(raw_term, rule.lang)
        if forms is None:
            return None
        term, keys, surfaces, written, elsewhere = forms
        max_edits = 2 if rule.fuzzy is None else rule.fuzzy
        return Term(rule, term, keys, surfaces, written, max_edits, elsewhere)

    # -- resolving one token ------------------------------------------------------------------

    # -- matching a message -------------------------------------------------------------------
    #
    # Matching works on the list of resolved tokens; spans in the original text are worked out
    # only for a message that has something to report (most chat has nothing).

    def match(self, text: str, context: Context | None = None) -> tuple[Match, ...]:
        """The message's matches. What the text holds is worked out once per text (most chat
        holds nothing, whoever writes it); what that means in a context (who wrote it, to
        whom) once per text and context. The rules are immutable: a memory cannot go stale."""
        found = self._memo.get((text, context))
        if found is not None:
            return found
        candidates = self._candidates_of(text)
        found = () if candidates is None else self._judge(text, candidates, context)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[text, context] = found
        return found

    def read_once(self, text: str) -> bool:
        """Reads `text` now, unless read before, as `match` would; whether it holds anything
        for the rules to judge (filters/read_ahead.py reads texts ahead on a second core)."""
        return self._candidates_of(text) is not None

    def has_read(self, text: str) -> bool:
        return text in self._candidates

    def remember_empty(self, texts: Iterable[str]) -> None:
        """Texts read elsewhere with these very rules, and found to hold nothing."""
        for text in texts:
            if len(self._candidates) >= _MEMO_LIMIT:
                self._candidates.clear()
            self._candidates[text] = None

    def _candidates_of(self, text: str) -> _Candidates | None:
        candidates = self._candidates.get(text, _UNSEEN)
        if candidates is _UNSEEN:
            if len(self._candidates) >= _MEMO_LIMIT:
                self._candidates.clear()
            candidates = self._candidates[text] = self._read_text(text)
        return candidates  # type: ignore[return-value]

    def _read_text(self, text: str) -> _Candidates | None:
        """What the text's tokens and characters meet, before any context; None: nothing."""
        norm = normalize(text)
        body = norm.text
        cache = self._tokens  # a hit for most tokens: chat repeats itself
        resolved = list(map(cache.__getitem__, TOKEN.findall(body)))
        if not text.isascii():
            self._typed_accents(text, norm, body, resolved)
        tokens = list(filter(None, resolved))  # a Token is always true; None is no token
        hits: list[TokenHit] = []
        # What the message's tokens can start, in one pass at C speed: most chat starts nothing.
        flags = reduce(or_, map(_FLAGS, tokens), 0)
        if flags & WORD:
            self._words(tokens, hits)
        if flags & ANCHOR:
            self._phrases(tokens, hits)
        if flags & SQUASH and self._squashed:
            self._joined_phrases(tokens, hits)
        if flags & LETTER:
            self._letters_apart(tokens, hits)
        if flags & SPLIT:
            self._joined(tokens, hits)
        char_hits = self._hashtag_hits(body) if "#" in body else []
        if self._regexes:
            char_hits += self._regex_hits(body)
        if not hits and not char_hits:
            return None
        spans = [
            (m.start() + t.lead, m.end() - t.trail)
            for t, m in zip(resolved, TOKEN.finditer(body), strict=True)
            if t is not None
        ]
        return norm, tokens, spans, hits, char_hits

    def _judge(
        self, text: str, candidates: _Candidates, context: Context | None
    ) -> tuple[Match, ...]:
        norm, tokens, spans, hits, char_hits = candidates
        found = Hits(self._allow, norm, text, tokens, spans, context)
        for term, first, last, how, distance in hits:
            found.add_term(term, first, last, how, distance)
        for rule, start, end, how, surface in char_hits:
            found.add(rule, start, end, how, surface)
        return found.result()

    def _words(self, tokens: list[Token], hits: list[TokenHit]) -> None:
        single, starters = self._single, self._starters
        for index in [i for i, t in enumerate(tokens) if t.word in starters]:
            token = tokens[index]
            for term in single[token.word]:
                # A real word that meets a term only once squeezed or inflected is itself:
                # "cone" is not "conne", "bite" is not "bitte". Inside a phrase it may be.
                if token.real and token.stem not in term.surfaces and len(term.keys) == 1:
                    continue
                if (
                    "inflection" not in token.how
                    and token.stem not in term.surfaces
                    and not is_stretched(token.stem)
                    and not token.distance  # a slip read as typed (pééd) is no "peed"
                    and lexicon.is_word(token.stem)
                ):
                    continue  # "fagot" (a bundle of sticks) is a word, not "faggot" squeezed
                # A short term squeezed out of a doubled letter is an acronym or another word
                # ("PPD" is not "pd", "conn" is not "con"); a stretch (pdddd) is still it.
                if (
                    len(token.word) <= 3
                    and token.stem not in term.surfaces
                    and not is_stretched(token.stem)
                    and "inflection" not in token.how
                    and not token.distance  # dxox: doxx with two letters swapped
                ):
                    continue
                hits.append((term, index, index, token.how, token.distance))

    def _phrases(self, tokens: list[Token], hits: list[TokenHit]) -> None:
        """Phrases and patterns: each one whose rarest fixed word is in the message is searched
        for in the message written as token segments (filters/patterns.py)."""
        candidates = [t.anchors for t in tokens if t.anchors]
        if not candidates:
            return
        lacks = frozenset().union(*map(_FORMS, tokens)).isdisjoint
        patterns = self._patterns
        kept = [
            patterns[n]
            for n in sorted(frozenset().union(*candidates))  # the packs' order, every run
            if True not in map(lacks, patterns[n].needs)  # a word it cannot do without
        ]
        if not kept:
            return
        text = "".join(map(_SEGMENT, tokens))
        ends = list(accumulate(len(t.segment) for t in tokens))
        for pattern in kept:
            for found in pattern.regex.finditer(text):
                if found.groups().count(SLIP) > 1:
                    continue  # one slip in a phrase is a typo; two make another phrase
                first = bisect_right(ends, found.start())
                last = bisect_right(ends, found.end() - 1)
                how = (*(h for t in tokens[first : last + 1] for h in t.how), "phrase")
                how += ("fuzzy:1",) if SLIP in found.groups() else ()
                hits.append((pattern.term, first, last, how, 0))

    def _joined_phrases(self, tokens: list[Token], hits: list[TokenHit]) -> None:
        """A phrase written joined or split anywhere: "kill your self", "k i l l yourself"."""
        prefixes, squashed = self._squashed_prefixes, self._squashed
        count = len(tokens)
        for first in range(count):
            key = tokens[first].canon
            last = first
            while key in prefixes and last + 1 < count:
                last += 1
                key = _joined_key(key, tokens[last].canon)
                for pattern in squashed.get(key, ()):
                    # One token per word is the phrase as written: the pattern has judged it
                    # (and knows "of yourself" from "off yourself").
                    if last - first + 1 != len(pattern.elements) or _cut_elsewhere(
                        tokens[first : last + 1], pattern.term.keys
                    ):
                        hits.append((pattern.term, first, last, ("split", "phrase"), 0))

    def _letters_apart(self, tokens: list[Token], hits: list[TokenHit]) -> None:
        """Words spelt out letter by letter: s l u t, w.h.o.r.e, m y m."""
        sizes = [len(t.core) for t in tokens]
        if sizes.count(1) < 3:
            return
        count, run = len(tokens), 0  # single characters in a row
        for index, size in enumerate(sizes):
            run = run + 1 if size == 1 else 0
            if run >= 3 and (index + 1 == count or sizes[index + 1] != 1):
                self._spaced(tokens, index - run + 1, index, hits)

    def _joined(self, tokens: list[Token], hits: list[TokenHit]) -> None:
        """Words split in pieces: sal ope, con na rd, you p i n."""
        count = len(tokens)
        if count < 2:
            return
        # Two neighbours joined (keys are squeezed: sal + lope gives "sallope", so the joinable
        # set holds every term also with one letter doubled). Checked for all pairs at once.
        keys = [t.key if not t.core.isdigit() else "0" for t in tokens]  # 7.9 is not "tg"
        pairs = list(map(str.__add__, keys, keys[1:]))
        if self._joinable.isdisjoint(pairs) and self._prefixes.isdisjoint(pairs):
            return
        single, prefixes = self._single, self._prefixes
        for index in range(count - 1):
            key = keys[index]
            if key not in prefixes:
                continue
            # Two or three pieces (sal ope, con na rd), or more when the rest are single letters
            # (you p i n).
            for end in range(index + 1, min(count, index + _MOST_PIECES)):
                if key not in prefixes or (end > index + 2 and len(tokens[end].core) > 1):
                    break
                key = _joined_key(key, keys[end])
                pieces = tokens[index : end + 1]
                if len(pieces) == 2 and len(pieces[0].core) == len(pieces[1].core) == 1:
                    continue  # "P, -D" is not "pd": two letters alone are initials
                # Two ordinary words side by side are not a split insult: "il a pu te voir".
                # A piece that is a term itself may still be half of a longer one ("con
                # nasse", "honke rs"): the piece is judged on its own too.
                if key in single and not all(lexicon.is_standalone(p.core) for p in pieces):
                    for term in single[key]:
                        hits.append((term, index, end, ("split",), 0))

    def _spaced(self, tokens: list[Token], first: int, last: int, hits: list[TokenHit]) -> None:
        run = tokens[first : last + 1]
        if all(t.core.isdigit() for t in run):
            return  # 1 2 3 4: numbers, not letters taken apart
        self._spaced_letters([t.key for t in run], first, hits)
        # 5 1 u t: a leet digit read the other way (1 as l, | as i)
        other = [deleet(t.core)[-1] if LEET_CHARS.intersection(t.core) else t.key for t in run]
        if other != [t.key for t in run]:
            self._spaced_letters(other, first, hits)

    def _spaced_letters(self, letters: list[str], first: int, hits: list[TokenHit]) -> None:
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
        if self._regex_hints is not None and not self._regex_hints.search(body):
            return hits  # none of the literals every rule regex needs: none can match
        for pattern, rule, needed in self._regexes:
            if needed is not None and needed(body) is None:
                continue  # lacks every literal the pattern needs: cannot match
            for m in pattern.finditer(body):
                if m.end() > m.start():
                    hits.append((rule, m.start(), m.end(), ("regex",), m.group()))
        return hits


def compile_rules(packs: list[RulePack], version: int = 0, scope: str = "text") -> CompiledRules:
    """`CompiledRules(packs, version, scope)`, read from the disk cache when these very packs
    were compiled before by this very code (a pack's text and origin, the engine's source and
    the word lists name the file); a set that does not compile raises RulePackError as always."""
    texts = ((p.name, p.version, p.origin, p.text) for p in packs)
    # anchors and "ordinary elsewhere" come from the word lists: their data names the file too
    key = disk_cache.digest("rules", scope, disk_cache.code_digest(), lexicon.data_digest(), *texts)
    compiled = disk_cache.load("rules", key)
    if not isinstance(compiled, CompiledRules):
        compiled = CompiledRules(packs, 0, scope)
        disk_cache.store("rules", key, compiled, keep=8)
    compiled.version = version
    return compiled


def _one_deletion_index(words: set[str]) -> dict[str, tuple[str, ...]]:
    """Each word, and each word with one letter deleted → the words it comes from. Two words
    one slip apart (a letter changed, added, dropped, or two side by side swapped) share an
    entry: a token's slips are found by a handful of look-ups, not by comparing every word."""
    index: dict[str, set[str]] = defaultdict(set)
    for word in words:
        index[word].add(word)
        for at in range(len(word)):
            index[word[:at] + word[at + 1 :]].add(word)
    return {key: tuple(sorted(found)) for key, found in index.items()}


def _rule_regex(rule: Rule) -> tuple[Any, Rule, Callable[[str], Any] | None]:
    """A regex rule's RE2 program (linear time: no time-out needed), with one search for the
    literals it cannot match without (filters/literals.py), or None when there are none."""
    hints = literal_hints(rule.regex)
    needed = re.compile("|".join(map(re.escape, sorted(hints)))).search if hints else None
    return compile_rule_regex(rule.regex), rule, needed


def _joined_key(left: str, right: str) -> str:
    """Two squeezed keys joined and squeezed again (sal + lope → salope), without a regex."""
    return left + right[1:] if left and right and left[-1] == right[0] else left + right


def _cut_elsewhere(tokens: list[Token], keys: tuple[str, ...]) -> bool:
    """As many tokens as the phrase has words, but cut between other letters: "yours nap" is
    "your snap", "fu cku" is "fuck u"; "of yourself" is its own words (not "off yourself")."""
    return any(
        t.key != k and t.canon != SPELLINGS.get(k, k) for t, k in zip(tokens, keys, strict=True)
    )


def _leet_keys(term: Term) -> tuple[str, ...]:
    """The term's keys with its numbers read as letters, as chat joins them into a word."""
    return tuple(
        word_key(s) if s.isdigit() else k for s, k in zip(term.surfaces, term.keys, strict=True)
    )


def _number_lost(term: Term) -> bool:
    """A number read as a letter that joining would swallow: "à 4 pattes" joined is "apattes",
    which "à pattes" is too."""
    keys = _leet_keys(term)
    return any(
        written.isdigit()
        and len(key) == 1
        and key in (keys[n - 1][-1:] if n else "", keys[n + 1][:1] if n + 1 < len(keys) else "")
        for n, (key, written) in enumerate(zip(keys, term.written, strict=False))
    )
