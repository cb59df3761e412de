"""What real French and English look like: common words (wordfreq) and language cues."""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

import wordfreq

LANGUAGES = ("fr", "en")
# Zipf 3 is about once per million words: "canard", "bavard", "count", "computer" are above it,
# typos and evasions are below. A real word is never fuzzily turned into an insult.
REAL_WORD_ZIPF = 3.0
# A term this common in another language (fr "retard" = late, en "bite", "con") does not match
# a message that reads as that other language.
OTHER_LANGUAGE_ZIPF = 3.3
# "Is it a word at all?" reads the full lists down to this floor: "retorted" (2.7), "tyrannies"
# (1.9) are words and never fuzzily become a slur; chat misspellings of slurs ("niga" 1.4,
# "fagget" 1.2) sit below it. The floor was set on the dev set and Debian prose (bench/quality.py).
ANY_WORD_ZIPF = 1.9

# Frequent short words that tell the two languages apart (none is common in both).
CUES = {
    "fr": frozenset(
        """le la les des du une un et est je tu il elle ils elles nous vous on pas
        que qui quoi pour avec dans sur mais ou ce cet cette ces mon ma mes ton ta tes son sa ses
        leur suis es sont fait va vas vais ca trop tres bien rien tout tous toute comme alors
        encore jamais toujours aussi ici moi toi lui sale espece gros grosse petit petite mdr
        ptdr jsp wsh putain merde j c qu n l y au aux avoir etre quel quelle ai as avez peux
        veux sais dit faut non oui voila franchement regarde""".split()
    ),
    "en": frozenset(
        """the is are you your yours i and to of in it that this my for with he she
        was be not what so just like lol get got can don dont im its have has do does all at
        they we me him her go no yes will would should could there their them when who how why
        if or an by from up out about really very much too some any been were am did yourself
        seriously such look honestly""".split()
    ),
}


def strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


@cache
def _buckets(language: str) -> list[list[str]]:
    """wordfreq's list as it is stored: bucket n holds the words of frequency -n centibels
    (zipf 9 - n/100). Read in a few tens of milliseconds, unlike the frequency dictionary."""
    return wordfreq.get_frequency_list(language, "large")


def _at_least(language: str, min_zipf: float) -> list[str]:
    last = round((9 - min_zipf) * 100)
    return [word for bucket in _buckets(language)[: last + 1] for word in bucket]


@cache
def _frequent(language: str, min_zipf: float) -> tuple[frozenset[str], frozenset[str]]:
    """Words of `language` at or above `min_zipf`: as written, and without accents (the form
    normalised chat is compared in). Compact sets, not the whole dictionary."""
    written = frozenset(_at_least(language, min_zipf))
    return written, frozenset(strip_accents(w) if not w.isascii() else w for w in written)


def is_real_word(word: str) -> bool:
    """`word` as normalised chat has it (no accents)."""
    return any(word in _frequent(lang, REAL_WORD_ZIPF)[1] for lang in LANGUAGES)


@cache
def _any_words() -> frozenset[str]:
    """Every word of either language at or above the floor, accents stripped."""
    return frozenset(
        word if word.isascii() else strip_accents(word)
        for lang in LANGUAGES
        for word in _at_least(lang, ANY_WORD_ZIPF)
        if word.isalpha()
    )


_ENDINGS = ("s", "es", "ed", "d", "ing", "ly", "er")


def is_word(word: str) -> bool:
    """A word of either language at all, however rare (no accents), or one with a plural, past
    or -ing ending ("bamboozles"): never a fuzzy match."""
    words = _any_words()
    return word in words or any(
        word.endswith(e) and len(word) - len(e) >= 4 and word[: -len(e)] in words for e in _ENDINGS
    )


def is_written_word(word: str) -> bool:
    """`word` with its accents, as typed (retourné, député)."""
    return any(word in _frequent(lang, REAL_WORD_ZIPF)[0] for lang in LANGUAGES)


def is_standalone(piece: str) -> bool:
    """Could this piece of a split word be a word on its own? Single letters are not (but a, y,
    and the French elisions l' d' j' m' n' s' t' c': "l'aide" is not "laide"), two letters only
    if very common (pu, te, sa, le; not bi, ch, bo)."""
    if len(piece) == 1:
        return piece in "aiyoldjmnstc"
    if len(piece) == 2:
        return any(piece in _frequent(lang, 5.0)[1] for lang in LANGUAGES)
    return is_real_word(piece)


_LEVELS = (2.0, 3.0, 3.5, 4.0, 4.5, 5.0, 5.25, 5.5, 5.75, 6.0, 6.5)


@lru_cache(maxsize=100_000)
def frequency(word: str) -> float:
    """A rough frequency of the word in either language (zipf steps of half a unit): ranks a
    pattern's words to pick the rarest as the one a match is looked for from."""
    found = 1.0
    for zipf in _LEVELS:
        if any(word in _frequent(lang, zipf)[1] for lang in LANGUAGES):
            found = 10**zipf
    return found


def common_in(word: str) -> set[str]:
    """The languages in which `word` (no accents) is an ordinary word."""
    return {lang for lang in LANGUAGES if word in _frequent(lang, OTHER_LANGUAGE_ZIPF)[1]}


def confident_language(words: list[str]) -> str | None:
    """The language a message reads as, only when its cue words leave no doubt: two cues more
    than the other language, or at least one cue and none of the other."""
    scores = {lang: sum(w in cues for w in words) for lang, cues in CUES.items()}
    (best, first), (_, second) = sorted(scores.items(), key=lambda s: -s[1])
    return best if first and (first - second >= 2 or not second) else None


@cache
def warm_up() -> None:
    """Build the compact word sets now rather than on the first message, then let wordfreq drop
    its full frequency tables: they cost memory, and every full garbage collection walks them.
    Runs once (cached)."""
    for lang in LANGUAGES:
        for zipf in (REAL_WORD_ZIPF, OTHER_LANGUAGE_ZIPF, *_LEVELS):
            _frequent(lang, zipf)
    _any_words()
    for cached in (wordfreq.get_frequency_dict, wordfreq.get_frequency_list, wordfreq.top_n_list):
        cached.cache_clear()
    _buckets.cache_clear()
