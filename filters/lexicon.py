"""What real French and English look like: common words (wordfreq) and language cues."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path

from vigile.filters import disk_cache

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
        # and chat's spellings of you, your, yourself ("ya" is French chat's "il y a" too)
        + "u ur urself".split()
    ),
}


def strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _centibels(zipf: float) -> int:
    return round(zipf * 100)


_REAL_WORD = _centibels(REAL_WORD_ZIPF)
_OTHER_LANGUAGE = _centibels(OTHER_LANGUAGE_ZIPF)
_ANY_WORD = _centibels(ANY_WORD_ZIPF)
_ENDINGS = ("s", "es", "ed", "d", "ing", "ly", "er")


@dataclass(frozen=True, slots=True)
class WordTables:
    # language → every word at or above the floor, accents stripped (the form normalised chat is
    # compared in) → its frequency in centibels (zipf × 100; several words may strip to one)
    zipf: dict[str, dict[str, int]]
    written: frozenset[str]  # common words (zipf 3 and up) of either language, accents kept
    # words of either language, down to the floor, that are written with accents, as folded:
    # "bêet" typed with its accent is no "beet"
    accented: frozenset[str] = frozenset()


@cache
def tables() -> WordTables:
    """The word tables, read from the cache (tens of milliseconds), or built from wordfreq's
    lists (a second or more) and cached for the next start."""
    key = data_digest()
    stored = disk_cache.load("lexicon", key)
    if stored is None:
        stored = _build_tables()
        disk_cache.store("lexicon", key, stored)
    zipf, written, accented = stored
    return WordTables(zipf, frozenset(written), frozenset(accented))


def data_digest() -> str:
    """What the tables are built from: this module's floors and wordfreq's data files (a
    compiled rule set, which ranks words by frequency, depends on it too)."""
    return disk_cache.digest(
        "lexicon", 2, ANY_WORD_ZIPF, REAL_WORD_ZIPF, *map(_data_stamp, LANGUAGES)
    )


def _data_stamp(language: str) -> str:
    """Which wordfreq data the tables come from, without importing wordfreq (slow to import)."""
    spec = find_spec("wordfreq")
    folder = Path(spec.origin).parent / "data" if spec and spec.origin else Path()
    found = folder / f"large_{language}.msgpack.gz"
    stat = found.stat() if found.exists() else None
    return f"{found.name}:{stat.st_size}:{stat.st_mtime_ns}" if stat else "missing"


def _build_tables() -> tuple[dict[str, dict[str, int]], list[str], list[str]]:
    import wordfreq

    zipf: dict[str, dict[str, int]] = {}
    written: set[str] = set()
    accented: set[str] = set()
    for language in LANGUAGES:
        # wordfreq's list as stored: bucket n holds the words of zipf 9 - n/100.
        buckets = wordfreq.get_frequency_list(language, "large")
        levels: dict[str, int] = {}
        for number, bucket in enumerate(buckets[: 900 - _ANY_WORD + 1]):
            level = 900 - number
            for word in bucket:
                if level >= _REAL_WORD:
                    written.add(word)
                folded = word if word.isascii() else strip_accents(word)
                levels[folded] = max(levels.get(folded, 0), level)
                if folded != word:
                    accented.add(folded)
        zipf[language] = levels
    return zipf, sorted(written), sorted(accented)


def _most_common(word: str) -> int:
    zipf = tables().zipf
    return max(zipf["fr"].get(word, 0), zipf["en"].get(word, 0))


def _any_word(word: str) -> bool:
    zipf = tables().zipf
    return word.isalpha() and (word in zipf["fr"] or word in zipf["en"])


@lru_cache(maxsize=1 << 16)  # asked again and again of the same words as tokens are read
def is_real_word(word: str) -> bool:
    """`word` as normalised chat has it (no accents)."""
    return _most_common(word) >= _REAL_WORD


@lru_cache(maxsize=1 << 16)
def is_word(word: str) -> bool:
    """A word of either language at all, however rare (no accents), or one with a plural, past
    or -ing ending ("bamboozles"): never a fuzzy match."""
    return (
        _any_word(word)
        or any(
            word.endswith(e)
            and len(word) - len(e) >= 4
            and (e != "d" or word[-2] == "e")  # baked, not "batad"
            and _any_word(word[: -len(e)])
            for e in _ENDINGS
        )
    )


def is_word_as_typed(word: str, typed: str) -> bool:
    """`is_word`, for a token typed with accents: only a word that is itself written with
    accents ("pééd" is not "peed", "attaréd" not attar + ed; "crevé" is crever's)."""
    if typed.isascii():
        return is_word(word)
    return word in tables().accented


def is_written_word(word: str) -> bool:
    """`word` with its accents, as typed (retourné, député)."""
    return word in tables().written


def is_standalone(piece: str) -> bool:
    """Could this piece of a split word be a word on its own? Single letters are not (but a, y,
    and the French elisions l' d' j' m' n' s' t' c': "l'aide" is not "laide"), two letters only
    if very common (pu, te, sa, le; not bi, ch, bo)."""
    if len(piece) == 1:
        return piece in "aiyoldjmnstc"
    if len(piece) == 2:
        return _most_common(piece) >= _centibels(5.0)
    return is_real_word(piece)


_LEVELS = (2.0, 3.0, 3.5, 4.0, 4.5, 5.0, 5.25, 5.5, 5.75, 6.0, 6.5)


@lru_cache(maxsize=100_000)
def frequency(word: str) -> float:
    """A rough frequency of the word in either language (zipf steps of half a unit): ranks a
    pattern's words to pick the rarest as the one a match is looked for from."""
    level = _most_common(word)
    reached = [zipf for zipf in _LEVELS if level >= _centibels(zipf)]
    return 10 ** reached[-1] if reached else 1.0


def common_in(word: str) -> set[str]:
    """The languages in which `word` (no accents) is an ordinary word."""
    zipf = tables().zipf
    return {lang for lang in LANGUAGES if zipf[lang].get(word, 0) >= _OTHER_LANGUAGE}


def confident_language(words: list[str]) -> str | None:
    """The language a message reads as, only when its cue words leave no doubt: two cues more
    than the other language, or at least one cue and none of the other."""
    scores = {lang: sum(w in cues for w in words) for lang, cues in CUES.items()}
    (best, first), (_, second) = sorted(scores.items(), key=lambda s: -s[1])
    return best if first and (first - second >= 2 or not second) else None


def warm_up() -> None:
    """Load the word tables now rather than on the first message of a live stream."""
    tables()
