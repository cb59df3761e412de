"""What real French and English look like: common words (wordfreq) and language cues."""

from __future__ import annotations

import unicodedata
from array import array
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path

import marisa_trie

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
    """Read straight from the bytes of the cache file (a few milliseconds), not unpickled word
    by word: a short `vigile check` would otherwise spend most of its start-up here."""

    # every word of either language at or above the floor, accents stripped (the form
    # normalised chat is compared in); its id in the trie indexes the arrays below
    words: marisa_trie.Trie
    # language → each word's frequency in centibels (zipf × 100; several words may strip to
    # one), 0 where the language lacks it; "" → the higher of the two languages
    levels: dict[str, array]
    written: marisa_trie.Trie  # common words (zipf 3 and up) of either language, accents kept
    # words of either language, down to the floor, that are written with accents, as folded:
    # "bêet" typed with its accent is no "beet"
    accented: marisa_trie.Trie


@cache
def tables() -> WordTables:
    """The word tables, read from the cache, or built from wordfreq's lists (a second or more)
    and cached for the next start."""
    key = data_digest()
    stored = disk_cache.load_blobs("lexicon", key)
    found = _read_tables(stored) if stored is not None else None
    if found is None:
        stored = _table_blobs(*_build_tables())
        disk_cache.store_blobs("lexicon", key, stored)
        found = _read_tables(stored)
        assert found is not None  # what was just built reads back
    return found


def data_digest() -> str:
    """What the tables are built from: this module's floors and wordfreq's data files (a
    compiled rule set, which ranks words by frequency, depends on it too)."""
    return disk_cache.digest(
        "lexicon", 3, ANY_WORD_ZIPF, REAL_WORD_ZIPF, *map(_data_stamp, LANGUAGES)
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


_ARRAY = "H"  # centibels run from 190 to 900: two bytes each


def _table_blobs(
    zipf: dict[str, dict[str, int]], written: list[str], accented: list[str]
) -> list[bytes]:
    """The tables as the cache keeps them: the word trie, one array of levels per language
    (and their maximum) in the trie's order, and the tries of written and accented words."""
    words = marisa_trie.Trie(set().union(*zipf.values()))
    by_language = {lang: array(_ARRAY, bytes(2 * len(words))) for lang in LANGUAGES}
    for lang, levels in zipf.items():
        for word, level in levels.items():
            by_language[lang][words[word]] = level
    most = array(_ARRAY, map(max, *by_language.values()))
    arrays = [by_language[lang].tobytes() for lang in LANGUAGES]
    tries = [marisa_trie.Trie(written).tobytes(), marisa_trie.Trie(accented).tobytes()]
    return [words.tobytes(), *arrays, most.tobytes(), *tries]


def _read_tables(blobs: list[bytes]) -> WordTables | None:
    """The tables from the cache's blobs; None if they are not what `_table_blobs` writes."""
    if len(blobs) != len(LANGUAGES) + 4:
        return None
    words_blob, *level_blobs, written_blob, accented_blob = blobs
    try:
        words = marisa_trie.Trie().frombytes(words_blob)
        written = marisa_trie.Trie().frombytes(written_blob)
        accented = marisa_trie.Trie().frombytes(accented_blob)
    except RuntimeError:  # marisa's own check of what it reads
        return None
    levels = {}
    for name, blob in zip((*LANGUAGES, ""), level_blobs, strict=True):
        levels[name] = array(_ARRAY)
        levels[name].frombytes(blob)
        if len(levels[name]) != len(words):
            return None
    return WordTables(words, levels, written, accented)


def _word_id(words: marisa_trie.Trie, word: str) -> int | None:
    try:
        return words.get(word)
    except UnicodeEncodeError:  # a lone surrogate: no word at all
        return None


def _most_common(word: str) -> int:
    found = tables()
    at = _word_id(found.words, word)
    return 0 if at is None else found.levels[""][at]


def _any_word(word: str) -> bool:
    return word.isalpha() and _word_id(tables().words, word) is not None


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
    return _word_id(tables().accented, word) is not None


def is_written_word(word: str) -> bool:
    """`word` with its accents, as typed (retourné, député)."""
    return _word_id(tables().written, word) is not None


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
    found = tables()
    at = _word_id(found.words, word)
    if at is None:
        return set()
    return {lang for lang in LANGUAGES if found.levels[lang][at] >= _OTHER_LANGUAGE}


def confident_language(words: list[str]) -> str | None:
    """The language a message reads as, only when its cue words leave no doubt: two cues more
    than the other language, or at least one cue and none of the other."""
    scores = {lang: sum(w in cues for w in words) for lang, cues in CUES.items()}
    (best, first), (_, second) = sorted(scores.items(), key=lambda s: -s[1])
    return best if first and (first - second >= 2 or not second) else None


def warm_up() -> None:
    """Load the word tables now rather than on the first message of a live stream."""
    tables()
