"""Reading one chat token: leet, stars, stretches, inflections, fuzzy and transposed spellings,
chat spellings, and what the token can start in a message (flags). Cached per raw token."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from rapidfuzz import process
from rapidfuzz.distance import OSA

from vigile.filters import lexicon
from vigile.filters.hits import Token
from vigile.filters.normalize import (
    LEET_CHARS,
    TOKEN,
    Normalized,
    deleet,
    is_stretched,
    squeeze,
    word_key,
)
from vigile.filters.patterns import SLIP, SPELLINGS
from vigile.filters.phrases import doubled

LEAD = "@!|+*"  # stripped from the start of a token (@mention, !!!word)
TRAIL = "@!|+*$"  # and from its end (word!!!, word$)
# Plural and feminine endings of French and English, with what the stem must end in for each:
# bitch-es, connard-s, conne (5 letters at least for -e), boyau-x. Not con-es.
_INFLECTIONS = (
    ("es", ("s", "x", "z", "ch", "sh")),
    ("s", ("",)),
    ("x", ("au", "eu")),
    ("e", ("",)),
)
SHORTEST_FUZZY = 5  # shorter terms match exactly (after folding), or by one transposition
SHORTEST_TWO_EDITS = 9  # a real-looking 8-letter word is too often 2 edits from a slur
SHORTEST_TOLERANT = 5  # in a phrase, words this long may carry a slip (va crevé, gross vache)
_STARS = re.compile(r"(\*+)")
_LETTERS = re.compile(r"[^\W\d_]+")
_TYPED_LIMIT = 20_000  # tokens typed with accents, read again (most French chat is words)
# What a token can start (Token.flags); a message runs only the stages its tokens can start.
WORD = 1  # resolves to a single-word term
ANCHOR = 2  # the rarest fixed word of a phrase or pattern
SPLIT = 4  # a piece of a term that is no word of its own (sal, ope)
SQUASH = 8  # may begin a phrase written joined or split
LETTER = 16  # a letter alone: a word may be spelt out


class TokenReader:
    """The token-reading half of a compiled rule set (filters/matcher.py): it reads the indexes
    the rule set builds (_vocabulary, _single, _fuzzy_index, _four_letters, _surfaces, _anchors,
    _slip_neighbours…) and never changes them; it remembers what it read (_tokens,
    _typed_tokens, _written_surfaces)."""

    def _resolve(self, raw: str) -> Token | None:
        token = self._resolve_word(raw)
        if token is None:
            return None
        canon = SPELLINGS.get(token.key, token.key)
        # A split word or a phrase written apart has a piece that is no word of its own (sal
        # ope, k i l l), or splits a phrase's word where it could be two ("your self").
        loose = not lexicon.is_standalone(token.core)
        flags = (
            (WORD if token.word in self._starters else 0)
            | (SPLIT if loose and token.key in self._pieces else 0)
            | (LETTER if len(token.core) == 1 else 0)
            | (
                SQUASH
                if (loose or canon in self._phrase_pieces) and canon in self._squashed_prefixes
                else 0
            )
            # or cuts a phrase's word into a piece that is no word ("replacem ent", "adr esse")
            | (SQUASH if loose and canon in self._phrase_pieces else 0)
        )
        reading = token.stem or token.core
        forms = {f for f in (canon, token.key, token.word, token.other, doubled(reading)) if f}
        if LEET_CHARS.intersection(token.core):  # ki11: kill as well as kiii
            forms.update(doubled(r) for r in deleet(token.core.replace("*", "")))
        slips = self._slips(canon, reading) - forms
        anchors = frozenset().union(
            *(self._anchors.get(f, ()) for f in forms | slips),
            *(self._prefix_anchors.get(canon[:n], ()) for n in self._prefix_sizes),
        )
        every = sorted(forms) + [SLIP + s for s in sorted(slips)]
        known = frozenset(forms | slips)
        segment = "|" + "|".join(every) + "| "
        flags |= ANCHOR if anchors else 0
        # Built field by field: dataclasses.replace looks the fields up on every call.
        return Token(
            token.core,
            token.lead,
            token.trail,
            token.key,
            token.word,
            token.stem,
            token.real,
            token.how,
            token.distance,
            canon,
            token.other,
            anchors,
            segment,
            flags,
            known,
        )

    def _slips(self, key: str, reading: str) -> set[str]:
        """Long words of the patterns one slip away. A token that is no word at all may carry
        any slip ("yourslef"); a real word only a French ending: an e or an s added or dropped
        ("gross" for grosse), or é for -er ("crevé" for crever). "cases" never stands for
        "cakes", nor "espace" for "espèce", nor "stripe" for "strip"."""
        if len(key) < SHORTEST_TOLERANT - 1:
            return set()
        if lexicon.is_word(reading) or lexicon.is_word(key):
            dropped = key[:-1] if key[-1] in "es" else ""  # grosse → gros; not boulet → boule
            endings = (key + "e", key + "s", dropped, key + "r" if key.endswith("e") else "")
            return {
                word
                for word in endings
                if word in self._french_slips and (word[-1] in "esr" or key[-1] in "es")
            }
        neighbours = self._slip_neighbours
        near = set(neighbours.get(key, ()))
        for at in range(len(key)):
            near.update(neighbours.get(key[:at] + key[at + 1 :], ()))
        return {word for word in near if OSA.distance(key, word) == 1}

    def _resolve_word(self, raw: str) -> Token | None:
        core = raw.lstrip(LEAD)
        lead = len(raw) - len(core)
        stripped = core.rstrip(TRAIL)
        trail = len(core) - len(stripped)
        core = stripped
        if not core:
            if len(raw) == 1 and raw in LEET_CHARS:  # a letter spelt out as a symbol: ! d i o 7
                return Token(raw, 0, 0, deleet(raw)[0], None, deleet(raw)[0])
            return None
        if core.isdigit():  # a number, or leet digits in a word taken apart (s 4 l o p e)
            number = core if core in self._vocabulary else None  # a term's number: "1488"
            return Token(core, lead, trail, word_key(core), number, core if number else "")
        token = self._read(core, lead, trail)
        if token.word is None and trail and raw[lead + len(core)] == "$":
            # 8oo8a$: a leet "s" ending the word rather than a decoration, when that reading is
            # a term.
            with_s = self._read(raw[lead : lead + len(core) + 1], lead, trail - 1)
            if with_s.word is not None:
                return with_s
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
            masked = self._masked_letter(core, base, lead, trail)
            if masked is not None:
                return masked
        readings = deleet(base) if LEET_CHARS.intersection(base) else [base]
        for reading in readings:
            key = squeeze(reading)
            found = (*how, *(("leet",) if reading != base else ()))
            found += ("repeat",) if is_stretched(reading) else ()
            real = lexicon.is_real_word(reading)
            if key in self._vocabulary:
                swapped = self._swapped_short(reading, key)
                if swapped is not None:  # bbae: babe with two letters swapped, not "bae"
                    return Token(
                        core, lead, trail, key, swapped, reading, False, (*found, "fuzzy:1"), 1
                    )
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
                    # cones: the plural of cone; a word of its own however rare: itself
                    real = real or lexicon.is_real_word(stem) or lexicon.is_word(reading)
                    found = (*found, "inflection")
                    return Token(core, lead, trail, key, stem_key, stem, real, found)
        if "*" in core and (masked := self._masked(core)):
            word, reading = masked
            return Token(core, lead, trail, word, word, reading, False, ("masked",))
        # deb11u3, 1user, v2020: a version, a count or a code, not a disguised word
        numbered = core[0].isdigit() or (not core.isalpha() and sum(c.isdigit() for c in core) >= 3)
        for reading in () if numbered else readings:
            near = self._fuzzy(reading)
            if near:
                word, distance = near
                found = (*how, *(("leet",) if reading != base else ()))
                found += (*(("repeat",) if is_stretched(reading) else ()), f"fuzzy:{distance}")
                key = squeeze(reading)
                return Token(core, lead, trail, key, word, reading, False, found, distance)
        first = readings[0]
        found = (
            *how,
            *(("leet",) if first != base else ()),
            *(("repeat",) if is_stretched(first) else ()),
        )
        other = squeeze(readings[1]) if len(readings) > 1 else ""
        return Token(core, lead, trail, squeeze(first), None, first, how=found, other=other)

    def _typed_accents(
        self, text: str, norm: Normalized, body: str, resolved: list[Token | None]
    ) -> None:
        """pééd, bêet, attaréd: letters that spell a word only once their typed accents are
        dropped (peed, beet, attar + ed) are no word as typed: such a token may be a slip of a
        term. Most accented words are words as typed: one look-up each, remembered."""
        slips = {
            word: slip
            for piece in text.split()
            if not piece.isascii()  # most words of most lines are: a test at C speed
            for word in _LETTERS.findall(piece)
            if not word.isascii() and (slip := self._slip_as_typed(word)) is not None
        }
        if not slips:
            return
        if norm.offsets is None:  # accents only: the text's tokens are the body's, as typed
            typed_tokens = TOKEN.findall(text)
        else:
            spans = [norm.original_span(*m.span()) for m in TOKEN.finditer(body)]
            typed_tokens = [text[start:end] for start, end in spans]
        if len(typed_tokens) != len(resolved):
            return
        for at, typed in enumerate(typed_tokens):
            token, slip = resolved[at], slips.get(typed.lstrip(LEAD).rstrip(TRAIL))
            if token is None or token.word is not None or slip is None:
                continue
            word, distance = slip
            how = (*token.how, f"fuzzy:{distance}")
            read = replace(token, word=word, real=False, how=how, distance=distance)
            resolved[at] = replace(read, flags=read.flags | WORD)

    def _slip_as_typed(self, typed: str) -> tuple[str, int] | None:
        """The term a word typed with accents is a slip of, when it is no word as typed
        (remembered: chat repeats its words)."""
        cache = self._typed_tokens
        if typed not in cache:
            if len(cache) >= _TYPED_LIMIT:
                cache.clear()
            folded = lexicon.strip_accents(unicodedata.normalize("NFC", typed).lower())
            slip = None
            if (
                len(folded) >= 4
                and folded.isascii()
                and not lexicon.is_word_as_typed(folded, typed)
            ):
                slip = self._fuzzy(folded, typed=True)
            cache[typed] = slip
        return cache[typed]

    def _masked_letter(self, core: str, base: str, lead: int, trail: int) -> Token | None:
        """b*obs, fa*ty: a star standing for a letter, when that spells a term exactly and the
        letters without the star spell one only once squeezed (bobs, faty)."""
        masked = self._masked(core)
        if masked is None:
            return None
        starless = deleet(base)[0] if LEET_CHARS.intersection(base) else base
        if any(surface == starless for surface, _ in self._surfaces.get(starless[:1], ())):
            return None
        word, reading = masked
        return Token(core, lead, trail, word, word, reading, False, ("masked",))

    def _swapped_short(self, reading: str, key: str) -> str | None:
        """A four-letter token that is no word, squeezed into a shorter term ("bbae" → bae),
        that is a four-letter term with two letters swapped (babe): the swap is what was typed."""
        if len(reading) != 4 or len(key) > 3 or lexicon.is_word(reading):
            return None
        swapped = self._swapped(reading)
        return swapped[0] if swapped else None

    def _masked(self, core: str) -> tuple[str, str] | None:
        """sl*t, n***er, p*te: stars standing for letters. The term must fit the visible
        letters exactly, with about as many letters as stars."""
        visible = core.replace("*", "")
        if len(visible) < 2 or len(core) < 4 or not core[0].isalnum():
            return None
        parts = _STARS.split(deleet(core)[0])  # letters, star run, letters, star run…
        shape = "".join(
            re.escape(part) if n % 2 == 0 else f"[a-z]{{{max(1, len(part) - 1)},{len(part) + 1}}}"
            for n, part in enumerate(parts)
        )
        fits = re.compile(shape).fullmatch
        for surface, key in self._surfaces.get(visible[0], ()):
            if fits(surface):
                return key, surface
        return None

    def _fuzzy(self, reading: str, typed: bool = False) -> tuple[str, int] | None:
        """The closest vocabulary word within its allowed edits, for a token that is no word of
        either language at all (`typed`: known to be none as typed, whatever its letters spell).
        Four-letter terms: one transposition (ptue, sult), or one edit for a stretched token
        (slooooot)."""
        is_word = _no_word if typed else lexicon.is_word
        stretched = is_stretched(reading)
        key = squeeze(reading)
        if len(reading) == 4 and not is_word(reading):
            swapped = self._swapped(reading)  # dxox, zzii: a swap that squeezing would hide
            if swapped:
                return swapped
        if len(key) < 4 or is_word(reading) or (is_word(key) and not stretched):
            return None
        if len(key) == 4:
            four = self._four_letter(key, stretched)
            if four or stretched:
                return four
            if len(reading) == 4:
                return self._dropped_letter(reading)
            # gauée squeezes to four letters: a longer term with a letter dropped (gaulée),
            # not a four-letter one with a letter changed (spiss is no "spics")
            return self._fuzzy_near(reading, key, stretched, longer=True)
        if len(reading) < SHORTEST_FUZZY:
            return None
        return self._fuzzy_near(reading, key, stretched)

    def _fuzzy_near(
        self, reading: str, key: str, stretched: bool, longer: bool = False
    ) -> tuple[str, int] | None:
        near = [
            word
            for size in range(len(key) + 1 if longer else len(key) - 2, len(key) + 3)
            for word in self._fuzzy_index.get((key[0], size), ())
        ]
        if not near:
            return None
        best = process.extract(key, near, scorer=OSA.distance, score_cutoff=2, limit=8)
        # Closest first; on a tie, a word that is a term on its own beats a word of a phrase.
        for word, distance, _ in sorted(best, key=lambda r: (r[1], r[0] not in self._single)):
            allowed = self._fuzzy_edits[word] or (1 if stretched and len(word) == 4 else 0)
            compared = word
            if longer and not any(
                len(s) == len(reading) + 1 and OSA.distance(reading, s) == 1
                for s in self._written(word)
            ):
                continue  # as typed too, a letter dropped: not spiss for "spics"
            if distance == 2 and len(word) < SHORTEST_TWO_EDITS:
                # pusksy: one letter typed inside the double s of pussy is two edits once
                # squeezed, one as typed
                typed = [s for s in self._written(word) if OSA.distance(reading, s) == 1]
                if stretched or not typed:
                    continue
                distance, compared = 1, typed[0]
            if not stretched and len(reading) - len(compared) > allowed:
                continue  # "puttest" is not "putes": squeezing hid two of its letters
            if 0 < distance <= allowed:
                return word, int(distance)
        return None

    def _written(self, key: str) -> tuple[str, ...]:
        """A fuzzy key's terms as written, double letters kept: a slip is also counted on them.
        Worked out on first need (remembered), not for every term at each compile."""
        found = self._written_surfaces.get(key)
        if found is None:
            terms = self._single.get(key, ()) if key in self._fuzzy_edits else ()
            found = tuple(sorted({t.surfaces[0] for t in terms if len(t.keys) == 1}))
            self._written_surfaces[key] = found
        return found

    def _dropped_letter(self, reading: str) -> tuple[str, int] | None:
        """whre → whore, whiy → whiny: a four-letter token that is no word, one letter short of
        a five-letter term allowed one edit (the first letter kept, the others in order)."""
        for size in (4, 5):  # pussy squeezes to pusy
            for word in self._fuzzy_index.get((reading[0], size), ()):
                if self._fuzzy_edits[word] and any(
                    len(s) == 5 and OSA.distance(reading, s) == 1 for s in self._written(word)
                ):
                    return word, 1
        return None

    def _swapped(self, reading: str) -> tuple[str, int] | None:
        """doxx → dxox, kike → kkie: two letters side by side swapped in a four-letter term
        that has or makes a double letter, compared as written, before squeezing."""
        for surface, key in self._four_surfaces.get("".join(sorted(reading)), ()):
            if OSA.distance(reading, surface) == 1:
                return key, 1
        return None

    def _four_letter(self, key: str, stretched: bool) -> tuple[str, int] | None:
        """ptue → pute, sult → slut: the same letters, two side by side swapped. A stretched
        token may also change one letter (slooooot → slut)."""
        same_letters = self._four_letters.get("".join(sorted(key)), [])
        candidates = [*same_letters, *(self._four_by_first.get(key[0], ()) if stretched else ())]
        for word in candidates:
            if OSA.distance(key, word) == 1:
                return word, 1
        return None


def _no_word(word: str) -> bool:
    return False
