"""One message's matches: allow-lists, language scope, accents, dedup and their explanation."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from vigile.connectors.model import Match
from vigile.filters import lexicon
from vigile.filters.normalize import SYMBOL, Normalized, fold_char, squeeze
from vigile.filters.patterns import SECOND_PERSON
from vigile.filters.rules import Rule

DIRECTED_WINDOW = 3  # words either side of a match where "you" or the streamer's name aims it
_SHORT_LINE = 10  # words (of three letters or more) in a line short enough to be one remark
_OTHER_WORDS = 1  # a line that is the remark and at most this many words is said to someone
_SPELT_OUT = 3  # single letters in a row: a word spelt out


def _keys(words: str) -> frozenset[str]:
    """Words as tokens are compared: folded, repeated letters collapsed ("elle" → "ele")."""
    return frozenset(map(squeeze, words.split()))


# Words that do not make a line about something else: "what a loser", "so dumb omg".
FILLERS = _keys(
    "so what such really very omg lol lmao lmfao tbh ngl bro bruh quel quelle mdr ptdr xd wow"
)
FIRST_PERSON = _keys("i im me my myself je j moi ma mon mes on we us our")
# English words before "n't": don't, can't… (their t is not French "t'").
NT_STEMS = _keys(
    "don can won isn aren wasn weren doesn didn hasn haven hadn couldn wouldn shouldn"
    " mustn ain needn"
)
# What a one-word remark is about when it names it: "beautiful play", "hot take", "ugly map".
THINGS = _keys(
    "play plays shot goal save pass setup map game clutch combo dish recipe take song skin build"
    " move round match patch jeu action but tir recette plat carte"
)
# Words that name the person on screen in a remark about them ("worst streamer ever", "she is
# so bad"): on a streamer's channel, "she" is nearly always the streamer; and the others on
# screen or running the chat: a caster, a host, a journalist, the moderators.
STREAMER_WORDS = _keys(
    "streamer streameuse streamers streameuses she her shes herself elle"
    " caster casters host mod mods modo modos moderator moderators"
    " journaliste presentatrice animatrice chroniqueuse"
)
# "this woman is clueless", "cette meuf est nulle": pointed at, she is the one on screen; "a
# beautiful woman" in a book is no one in particular.
POINTED_PERSONS = _keys("woman girl chick lady meuf nana gonzesse fille invitee")
POINTERS = _keys("this that cette")
# A sentence that opens with one of these asks, "?" or not: "is it cotton", "how long is the
# drop open", "combien le sweat"; so does French "c'est quoi / où / quand…", "est-ce que", and a
# line ending on its question word ("les soldes finissent quand").
QUESTION_OPENERS = _keys(
    "is are was were does do did can could will would should has have r any anyone anybody"
    " when where how what whats wheres hows which who why"
    " combien cmb quand comment quel quelle quels quelles pourquoi qui hw"
)
AFTER_CEST = _keys("quoi ou quand combien comment qui")
QUESTION_ENDERS = _keys("quand combien comment pourquoi")
# What comes before the question itself: "@lea hey, is it cotton", "ok et sinon c'est quoi…"
PREAMBLE = _keys(
    "hey hi hello yo ok okay btw also and so but et mais sinon salut bonjour coucou slt"
)


class Context(NamedTuple):
    """What is known of a message beyond its text: who wrote it, to whom, in what chat. A
    tuple: it keys the per-message memories, and a tuple hashes at C speed."""

    roles: frozenset[str] = frozenset()  # the author's roles, "bot" for the channel's bots
    reply: bool = False  # a reply to another message: aimed at its author
    protected: frozenset[str] = frozenset()  # keys of the names of whom the desk protects
    language: str | None = None  # the language the chat has been written in so far


NO_CONTEXT = Context()


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
    canon: str = ""  # key with chat spellings read (u → you, ur → your)
    other: str = ""  # the key of a second leet reading (k1ll: kil as well as kii)
    anchors: frozenset[int] = frozenset()  # the patterns whose rarest fixed word this is
    segment: str = ""  # "|form|form| ": every word the token stands for, for pattern regexes
    flags: int = 0  # what it can start: a term, a pattern, a split word, a joined phrase
    forms: frozenset[str] = frozenset()  # every word it stands for, slips included


class Hits:
    """Collects what one message matched, dropping what must not count."""

    def __init__(
        self,
        allow: dict[str, frozenset[str]],
        norm: Normalized,
        text: str,
        tokens: list[Token],
        spans: list[tuple[int, int]],
        context: Context | None = None,
    ) -> None:
        self._allow, self._norm, self._text = allow, norm, text
        self._tokens, self._spans = tokens, spans
        self._context = context or NO_CONTEXT
        self._matches: dict[tuple[str, int, int], Match] = {}
        self._languages: dict[tuple[int, int], str | None] = {}  # by the match's tokens

    def _message_language(self, first: int, last: int) -> str | None:
        """The message's language when its own words leave no doubt, else the chat's so far.
        The letters of a word spelt out ("h y p o c r i t e") are not words of the message."""
        spelt = (first, last) if last - first + 1 >= _SPELT_OUT else (0, -1)
        if spelt not in self._languages:
            own = lexicon.confident_language(_cue_words(self._tokens, *spelt))
            self._languages[spelt] = own or self._context.language
        return self._languages[spelt]

    def add_term(
        self, term: Term, first: int, last: int, how: tuple[str, ...], distance: int
    ) -> None:
        if distance > term.max_edits:
            return
        rule = term.rule
        if term.ordinary_elsewhere and (
            self._message_language(first, last) != rule.lang
            or self._said_in_another(first, last, rule.lang)
        ):
            return  # "je suis en retard", "a bite to eat"; and "bite" alone, in no known chat
        if len(term.keys) == last - first + 1 and self._accents_change_the_word(term, first):
            return
        start, end = self._spans[first][0], self._spans[last][1]
        if ("inflection" in how or any(h.startswith("fuzzy") for h in how)) and self._is_name(
            start, end
        ):
            return  # "Retorted Smith", "Conners": a name is not a misspelt slur
        severity = rule.severity
        if rule.directed and not self._directed(first, last):
            severity = rule.undirected_severity
            if not severity or self._about_oneself(first, last):
                return  # "what an idiot i am", "quand je désinstalle"
            how = (*how, "undirected")
        self.add(rule, start, end, how, term.term, severity)

    def _said_in_another(self, first: int, last: int, lang: str | None) -> bool:
        """Its neighbours are the other language's small words: "désolé du retard" inside an
        English line is French, whatever the rest says."""
        near = self._tokens[max(0, first - 2) : first] + self._tokens[last + 1 : last + 2]
        return any(
            t.core in cues for other, cues in lexicon.CUES.items() if other != lang for t in near
        )

    def _directed(self, first: int, last: int) -> bool:
        """Aimed at someone: a reply, an @mention, or "you"/"tu", the streamer's name or "the
        streamer" within a few words of the match."""
        context = self._context
        if context.reply or "@" in self._norm.text:
            return True
        tokens = self._tokens
        around = tokens[:first] + tokens[last + 1 :]
        others = [t for t in around if len(t.core) > 1 and t.key not in FILLERS]
        if (
            len(others) <= _OTHER_WORDS
            and not any(t.key in FIRST_PERSON for t in around)
            and not any(t.key in THINGS for t in others)
        ):
            return True  # "idiot", "crève", "what a loser": a line that is only the remark
        for at in self._window(first, last):
            token = tokens[at]
            if token.key in STREAMER_WORDS or token.key in context.protected:
                return True
            if token.key in POINTED_PERSONS and at and tokens[at - 1].key in POINTERS:
                return True
            if token.canon in SECOND_PERSON and not (
                token.key == "t" and at and tokens[at - 1].key in NT_STEMS
            ):  # don't, can't: the t of n't is not French "t'" (but "ptn t'es lourde" is)
                return True
        # A short line that names her (or the one on screen) anywhere is about her: "elle parle
        # pour rien dire, une vraie pie".
        words = sum(len(t.core) > 2 for t in tokens)
        return words <= _SHORT_LINE and any(
            t.key in STREAMER_WORDS or t.key in context.protected for t in tokens
        )

    def _about_oneself(self, first: int, last: int) -> bool:
        return any(self._tokens[at].key in FIRST_PERSON for at in self._window(first, last))

    def _window(self, first: int, last: int) -> list[int]:
        """The tokens within DIRECTED_WINDOW words of a match, the match included. Letters and
        two-letter pieces do not count as words: "t'es qu'une potiche" is four tokens, two words."""
        tokens, window = self._tokens, list(range(first, last + 1))
        for step, edge in ((-1, first - 1), (1, last + 1)):
            words, at = 0, edge
            while 0 <= at < len(tokens) and words < DIRECTED_WINDOW:
                window.append(at)
                words += len(tokens[at].core) > 2
                at += step
        return window

    def _is_name(self, start: int, end: int) -> bool:
        """A capitalised word inside a sentence of lower-case words: a name, not a term."""
        original = self._text[slice(*self._norm.original_span(start, end))]
        if not (original[:1].isupper() and original[1:].islower()):
            return False
        before = self._text[: self._norm.original_span(start, end)[0]].rstrip()
        if not before or before[-1] in '.!?:"«(':
            return False  # the first word of a sentence is capitalised anyway
        return any(c.islower() for c in self._text)

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

    def add(
        self,
        rule: Rule,
        start: int,
        end: int,
        how: Iterable[str],
        term: str,
        severity: int | None = None,
    ) -> None:
        if rule.exempt and rule.exempt & self._context.roles:
            return  # the channel's own people and bots posting links and promotions
        if rule.asked and not self._asks(start):
            return  # "sold out in 3 minutes lol", "merci pour la livraison rapide"
        allow = self._allow[rule.id]
        if allow and self._allowed(allow, start, end):
            return
        span = self._norm.original_span(start, end)
        key = (rule.id, *span)
        if key in self._matches:
            return
        kinds = set(how) | evasions_in(self._text[span[0] : span[1]])
        explanation = "+".join(sorted(kinds)) if kinds else "exact"
        weight = rule.severity if severity is None else severity
        self._matches[key] = Match(rule.id, rule.category, weight, span, explanation, term)

    def _asks(self, start: int) -> bool:
        """The sentence holding the match asks something: a "?" after it, or a question's
        opening words (after any greeting or @mention), or a French question word to end it."""
        text = self._norm.text
        if "?" in text[start:]:
            return True
        opening = max(text.rfind(mark, 0, start) for mark in ".!?") + 1
        words = [
            token.key
            for token, (at, _) in zip(self._tokens, self._spans, strict=True)
            if at >= opening and "@" not in text[at - token.lead : at]
        ]
        while words and words[0] in PREAMBLE:
            del words[0]
        if not words:
            return False
        first, second = words[0], words[1] if len(words) > 1 else ""
        if first in QUESTION_OPENERS:
            # "can't wait for the drop", "what a deal": exclamations, not questions
            return second != "t" and not (first == "what" and second == "a")
        if first == "est" and second == "ce" or first == "qu" and second == "est":
            return True
        if first == "c" and second == "est" and len(words) > 2:
            return words[2] in AFTER_CEST
        return words[-1] in QUESTION_ENDERS

    def _allowed(self, allow: frozenset[str], start: int, end: int) -> bool:
        """The match is an allowed word ("trashcan"), or lies inside an allowed phrase written
        around it ("shut up and take my money", "the witch costume")."""
        text = self._norm.text
        if text[start:end] in allow:
            return True
        for phrase in allow:
            at = text.find(phrase, max(0, end - len(phrase)))
            while 0 <= at <= start:
                if at + len(phrase) >= end:
                    return True
                at = text.find(phrase, at + 1)
        return False

    def result(self) -> tuple[Match, ...]:
        matches = self._matches.values()
        return drop_nested(matches) if len(self._matches) > 1 else tuple(matches)


def _cue_words(tokens: list[Token], first: int, last: int) -> list[str]:
    """The words that tell a message's language, but for the single letters of a word spelt
    out from `first` to `last`: its "y" and "c" are not French, its "i" not English."""
    return [t.core for at, t in enumerate(tokens) if not (first <= at <= last and len(t.core) == 1)]


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
