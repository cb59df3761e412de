"""What real French and English look like: common words (wordfreq) and language cues."""

from __future__ import annotations

from functools import cache

import wordfreq

LANGUAGES = ("fr", "en")
# Zipf 3 is about once per million words: "canard", "bavard", "count", "computer" are above it,
# typos and evasions are below. A real word is never fuzzily turned into an insult.
REAL_WORD_ZIPF = 3.0
# A term that is this common in another language (fr "retard" = late, en "bite", fr/en "con")
# only matches when the message reads as the rule's own language.
OTHER_LANGUAGE_ZIPF = 3.3
_VOCABULARY_SIZE = 120_000  # how far down each frequency list to look

# Frequent short words that tell the two languages apart (none is common in both).
CUES = {
    "fr": frozenset("""le la les des du une un et est je tu il elle ils elles nous vous on pas
        que qui quoi pour avec dans sur mais ou ce cet cette ces mon ma mes ton ta tes son sa ses
        leur suis es sont fait va vas vais ça ca trop très tres bien rien tout tous toute
        comme alors encore jamais toujours aussi ici moi toi lui sale espèce espece gros grosse
        petit petite mdr ptdr jsp wsh putain merde j c qu n l y au aux avoir être etre
        quel quelle ai as avez peux veux sais dit faut non oui voilà voila""".split()),
    "en": frozenset("""the is are you your yours i and to of in it that this my for with he she
        was be not what so just like lol get got can don dont im i'm its have has do does all at
        they we me him her go no yes will would should could there their them when who how why
        if or an by from up out about really very much too some any been were am did your
        yourself""".split()),
}  # fmt: skip


@cache
def _frequent(language: str, min_zipf: float) -> frozenset[str]:
    """Words of `language` at or above `min_zipf`, as a compact set (not the whole dictionary)."""
    words = wordfreq.top_n_list(language, _VOCABULARY_SIZE)
    # top_n_list is ordered by frequency: cut it at the first word below the threshold.
    low, high = 0, len(words)
    while low < high:
        middle = (low + high) // 2
        if wordfreq.zipf_frequency(words[middle], language) >= min_zipf:
            low = middle + 1
        else:
            high = middle
    return frozenset(words[:low])


def is_real_word(word: str) -> bool:
    return any(word in _frequent(lang, REAL_WORD_ZIPF) for lang in LANGUAGES)


def common_in(word: str) -> set[str]:
    """The languages in which `word` is an ordinary word."""
    return {lang for lang in LANGUAGES if word in _frequent(lang, OTHER_LANGUAGE_ZIPF)}


def guess_language(words: list[str]) -> str | None:
    """The language the cue words point to, or None when they do not tell."""
    scores = {lang: sum(w in cues for w in words) for lang, cues in CUES.items()}
    best = max(scores, key=scores.__getitem__)
    others = [s for lang, s in scores.items() if lang != best]
    return best if scores[best] > max(others) else None


def warm_up() -> None:
    """Load the word lists now rather than on the first message."""
    for lang in LANGUAGES:
        _frequent(lang, REAL_WORD_ZIPF)
        _frequent(lang, OTHER_LANGUAGE_ZIPF)
