"""The filter benchmark's inputs: a 2,000-term pack and generated corpora, all deterministic.

    python bench/corpus.py            # writes bench/out/{pack-2000.toml,terms.json,...}

- pack-2000.toml: Vigile's starter packs (English and French), the event's hijacked hashtags,
  and rare profanity from the peers' own word lists (glin-profanity, better-profanity) up to
  2,000 terms. Words that are ordinary French or English (wordfreq Zipf >= 3) are left out of
  that padding: a pack full of ordinary words measures the pack, not the filter.
- evasions.jsonl: the starter packs' insults disguised by one family of evasion each, inside
  ordinary French or English sentences. Every line should be flagged.
- benign.jsonl: bench/benign.txt (adversarial look-alikes) plus ordinary chat. None should be.
- stream.jsonl: 100,000 chat lines for throughput, about 8 % hostile, mostly unique.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tomllib
from pathlib import Path

import wordfreq

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from vigile.filters.rules import load_starter_packs  # noqa: E402

PACK_SIZE = 2_000
HASHTAGS = ["#BoycottLumina", "#RendsLeVolant", "#GiveBackTheWheel"]
SAMPLES_PER_FAMILY = 80
STREAM_SIZE = 100_000
HOSTILE_SHARE = 0.08

CARRIERS = {
    "fr": [
        "t'es qu'une {}",
        "{} va",
        "regarde-moi ce {}",
        "encore un {} dans le chat",
        "{}",
        "mais quel {} celui-là",
        "{} !!!",
        "franchement, {}",
    ],
    "en": [
        "you're a {}",
        "what a {}",
        "{} lol",
        "look at this {}",
        "{}",
        "such a {} honestly",
        "{} !!!",
        "seriously, {}",
    ],
}
# Carriers that aim the word at someone, for the rules that only count when it is aimed.
AIMED = {
    "fr": ["t'es qu'une {}", "@kev {}", "t'es un {}", "espèce de {}", "ta gueule {}", "{}"],
    "en": ["you're a {}", "ur such a {}", "@kev {}", "shut up you {}", "{}", "u {}"],
}
LEET = dict(zip("aeiostlgb", ["4@", "3", "1!", "0", "5$", "7", "1|", "9", "8"], strict=True))
# Cyrillic, Greek and Armenian letters that look Latin.
HOMOGLYPHS = dict(
    zip(
        "aeopcxisyjhkntub",
        ["аα", "е", "оο", "р", "с", "х", "і", "ѕ", "у", "ј", "һ", "κ", "ո", "τ", "υ", "Ь"],
        strict=True,
    )
)
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad"]
EMOJI = ["🍑", "🤡", "💩", "😂", "🔥", "👀", "❤️"]
ACCENTS = {"a": "àâä", "e": "éèêë", "i": "îï", "o": "ôö", "u": "ùûü", "c": "ç"}
EMOTES = ["PogChamp", "LUL", "KEKW", "Kappa", "monkaS", "<3", "GG", "😂", "🔥", "👏"]


def real_word(word: str) -> bool:
    return max(wordfreq.zipf_frequency(word, "fr"), wordfreq.zipf_frequency(word, "en")) >= 3.0


# -- the pack -----------------------------------------------------------------------------------


def peer_words() -> list[str]:
    """Profanity from the peers' own lists, Latin script only (empty if they are absent)."""
    words: set[str] = set()
    try:
        import better_profanity
        import glin_profanity
    except ImportError:
        return []
    folder = Path(glin_profanity.__file__).parent / "data" / "dictionaries"
    for path in sorted(folder.glob("*.json")):
        if path.name == "globalWhitelist.json":
            continue
        data = json.loads(path.read_text("utf-8"))
        listed = data["words"] if isinstance(data, dict) else data
        words |= {w.lower() for w in listed if all(ord(c) < 0x250 for c in w)}
    wordlist = Path(better_profanity.__file__).parent / "profanity_wordlist.txt"
    words |= {w.strip().lower() for w in wordlist.read_text("utf-8").splitlines() if w.strip()}
    return sorted(words)


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i, ensure_ascii=False) for i in items) + "]"


def build_pack() -> tuple[str, list[str], list[str]]:
    packs = load_starter_packs()
    starter = [t for p in packs for r in p.rules for t in r.terms]
    allow = [a for p in packs for r in p.rules for a in r.allow]
    known = {t.lower() for t in starter}
    padding = [w for w in peer_words() if w not in known and not real_word(w)]
    random.Random(2000).shuffle(padding)
    padding = sorted(padding[: PACK_SIZE - len(starter) - len(HASHTAGS)])
    text = '[pack]\nname = "bench-2000"\nversion = 1\n\n' + "\n\n".join(
        "[[rules]]" + p.text.split("[[rules]]", 1)[1] for p in packs
    )
    text += (
        '\n\n[[rules]]\nid = "hijacked-hashtags"\ncategory = "brand"\nseverity = 3\n'
        f'action = "review"\nhashtags = {toml_list(HASHTAGS)}\n'
        '\n[[rules]]\nid = "profanity-multi"\ncategory = "profanity"\nseverity = 2\n'
        f'action = "review"\nterms = {toml_list(padding)}\n'
    )
    tomllib.loads(text)  # fails loudly here rather than in every tool
    terms = starter + HASHTAGS + padding
    return text, terms, allow


# -- evasions -----------------------------------------------------------------------------------


def targets() -> list[tuple[str, str, bool, bool]]:
    """(term, language, is_phrase, directed) for every insult of the starter packs worth
    disguising; a directed rule's terms only count aimed at someone, so their carriers aim."""
    found = []
    for pack in load_starter_packs():
        for rule in pack.rules:
            if rule.category in {"question", "link", "spam"}:
                continue
            for term in rule.terms:
                if len(term.replace(" ", "")) >= 4:
                    found.append((term, rule.lang or "en", " " in term, rule.directed))
    return found


def carrier(rng: random.Random, lang: str, directed: bool) -> str:
    return rng.choice((AIMED if directed else CARRIERS)[lang])


def _letters(rng: random.Random, word: str, table: dict[str, str], most: int) -> str:
    spots = [i for i, c in enumerate(word) if c.lower() in table]
    chosen = set(rng.sample(spots, min(len(spots), rng.randint(1, most))))
    return "".join(rng.choice(table[c.lower()]) if i in chosen else c for i, c in enumerate(word))


def _insert(rng: random.Random, word: str, things: list[str]) -> str:
    at = rng.randrange(1, len(word))
    return word[:at] + rng.choice(things) + word[at:]


def _repeat(rng: random.Random, word: str) -> str:
    at = rng.randrange(len(word))
    return word[: at + 1] + word[at] * rng.randint(2, 5) + word[at + 1 :]


def _misspell(rng: random.Random, word: str) -> str | None:
    if len(word) < 5 or " " in word:
        return None
    for _ in range(20):
        at = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(4)
        letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
        if kind == 0:
            out = word[:at] + letter + word[at + 1 :]
        elif kind == 1:
            out = word[:at] + word[at + 1 :]
        elif kind == 2:
            out = word[:at] + letter + word[at:]
        else:
            out = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        if out != word and not real_word(out):  # a real word is not a disguise
            return out
    return None


def _per_word(word: str, change) -> str:  # type: ignore[no-untyped-def]
    return " ".join(change(part) for part in word.split(" "))


FAMILIES = {
    "case": lambda r, w: "".join(c.upper() if r.random() < 0.5 else c for c in w),
    "leet": lambda r, w: _per_word(w, lambda p: _letters(r, p, LEET, 3)),
    "spaced": lambda r, w: _per_word(w, lambda p: " ".join(p)),
    "punctuated": lambda r, w: _per_word(w, lambda p: r.choice(".-_*").join(p)),
    "homoglyph": lambda r, w: _per_word(w, lambda p: _letters(r, p, HOMOGLYPHS, 3)),
    "fullwidth": lambda r, w: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w),
    "invisible": lambda r, w: _per_word(w, lambda p: _insert(r, p, INVISIBLE) if len(p) > 1 else p),
    "repeated": lambda r, w: _per_word(w, lambda p: _repeat(r, p)),
    "emoji-inside": lambda r, w: _per_word(w, lambda p: _insert(r, p, EMOJI) if len(p) > 3 else p),
    "accents": lambda r, w: _per_word(w, lambda p: _letters(r, p, ACCENTS, 2)),
    "misspelled": _misspell,
    "split": lambda r, w: _insert(r, w, [" "]) if " " not in w and len(w) > 4 else None,
    "leet+repeated": lambda r, w: _per_word(w, lambda p: _repeat(r, _letters(r, p, LEET, 2))),
    "homoglyph+invisible": lambda r, w: _per_word(
        w, lambda p: _insert(r, _letters(r, p, HOMOGLYPHS, 2), INVISIBLE) if len(p) > 1 else p
    ),
    # The families issue #18 found missing: look-alike capitals, transpositions in short words,
    # leet with spaces, stars in place of letters.
    "capital-I": lambda r, w: _capital_i(w),
    "transposed-short": lambda r, w: _transposed(r, w),
    "leet+spaced": lambda r, w: _per_word(w, lambda p: " ".join(_letters(r, p, LEET, 2))),
    "masked": lambda r, w: _masked(r, w),
}


def _capital_i(word: str) -> str | None:
    """kill → kiII: an l after a lower-case letter written as a capital I."""
    out = "".join(
        "I" if c == "l" and i and word[i - 1].islower() else c for i, c in enumerate(word)
    )
    return out if out != word else None


def _transposed(rng: random.Random, word: str) -> str | None:
    """pute → ptue: two letters side by side swapped in a short word, when that is no word."""
    if len(word) != 4 or " " in word:
        return None
    at = rng.randrange(1, 3)
    out = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return out if out != word and not real_word(out) else None


def _masked(rng: random.Random, word: str) -> str | None:
    """slut → sl*t, nigger → n***er: one to three inner letters hidden behind stars."""
    if len(word) < 4 or " " in word:
        return None
    at = rng.randrange(1, len(word) - 2)
    size = rng.randint(1, min(3, len(word) - 2 - at))
    return word[:at] + "*" * size + word[at + size :]


SECOND_PERSON = {"yourself": "urself", "your": "ur", "you": "u", "you're": "ur"}


def phrase_family(rng: random.Random, phrase: str, family: str) -> str | None:
    """The phrase families of issue #18: chat spellings, a split or join anywhere, one slip."""
    words = phrase.split(" ")
    if family == "chat-spelling":
        out = [SECOND_PERSON.get(w, w) for w in words]
        return " ".join(out) if out != words else None
    if family == "phrase-split":
        joined = "".join(words)
        at = rng.randrange(1, len(joined))
        if rng.random() < 0.5:  # split inside a word as well as between words
            inner = rng.randrange(len(words))
            word = words[inner]
            if len(word) < 4:
                return None
            cut = rng.randrange(1, len(word))
            return " ".join(words[:inner] + [word[:cut], word[cut:]] + words[inner + 1 :])
        return joined[:at] + " " + joined[at:]
    if family == "phrase-slip":
        long = [i for i, w in enumerate(words) if len(w) >= 5]
        if not long:
            return None
        i = rng.choice(long)
        slipped = (
            _misspell(rng, words[i]) if rng.random() < 0.5 else _letters(rng, words[i], ACCENTS, 1)
        )
        if not slipped or slipped == words[i]:
            return None
        return " ".join(words[:i] + [slipped] + words[i + 1 :])
    return None


PHRASE_FAMILIES = ("chat-spelling", "phrase-split", "phrase-slip")


def phrase_variant(rng: random.Random, phrase: str) -> str:
    words = phrase.split(" ")
    style = rng.randrange(4)
    if style == 0:
        return "  ".join(words).upper()
    if style == 1:
        return rng.choice(["-", ".", "_", "  "]).join(words)
    if style == 2:
        return "".join(words)
    return " ".join(_repeat(rng, w) if len(w) > 3 else w for w in words)


def hashtag_variant(rng: random.Random, tag: str) -> str:
    body = tag[1:]
    style = rng.randrange(5)
    if style == 0:
        body = body.lower()
    elif style == 1:
        body = "".join(("_" + c if c.isupper() and i else c) for i, c in enumerate(body))
    elif style == 2:
        body = _letters(rng, body.lower(), LEET, 3)
    elif style == 3:
        body = body + rng.choice(["2026", "Now", "_", "!!!", "Forever"])
    else:
        body = body.upper()
    return "#" + body


def evasions(rng: random.Random) -> list[dict[str, object]]:
    pool = targets()
    singles = [t for t in pool if not t[2]]
    phrases = [t for t in pool if t[2]]
    rows: list[dict[str, object]] = []
    for family, change in FAMILIES.items():
        made = 0
        while made < SAMPLES_PER_FAMILY:
            term, lang, _, directed = rng.choice(singles)
            disguised = change(rng, term)
            if not disguised or disguised == term and family != "case":
                continue
            template = carrier(rng, lang, directed)
            rows.append(_evasion(template, disguised, family, term))
            made += 1
    for _ in range(SAMPLES_PER_FAMILY):
        term, lang, _, directed = rng.choice(phrases)
        template = carrier(rng, lang, directed)
        rows.append(_evasion(template, phrase_variant(rng, term), "phrase-spacing", term))
    for family in PHRASE_FAMILIES:
        pool_here = [
            p
            for p in phrases
            if family != "chat-spelling" or set(p[0].split()) & set(SECOND_PERSON)
        ]
        made = 0
        while made < SAMPLES_PER_FAMILY:
            term, lang, _, directed = rng.choice(pool_here)
            disguised = phrase_family(rng, term, family)
            if not disguised:
                continue
            template = carrier(rng, lang, directed)
            rows.append(_evasion(template, disguised, family, term))
            made += 1
    for _ in range(SAMPLES_PER_FAMILY):
        tag = rng.choice(HASHTAGS)
        lang = rng.choice(["fr", "en"])
        template = rng.choice(CARRIERS[lang])
        rows.append(_evasion(template, hashtag_variant(rng, tag), "hashtag", tag))
    return rows


def _evasion(template: str, disguised: str, family: str, term: str) -> dict[str, object]:
    """A disguised line, and the same line with the term as written ("plain"): a tool that
    does not lift the plain line has no rule for it there, which no disguise can be blamed
    for."""
    return {
        "text": template.format(disguised),
        "plain": template.format(term),
        "family": family,
        "term": term,
        "flag": True,
    }


# -- benign and stream --------------------------------------------------------------------------


def ordinary_lines() -> list[str]:
    lines = tomllib.loads((ROOT / "scenarios" / "lines.toml").read_text("utf-8"))
    pool = lines["pools"]["ordinary"]
    return pool["fr"] + pool["en"]


def benign_lines() -> list[str]:
    text = (ROOT / "bench" / "benign.txt").read_text("utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def chatter(rng: random.Random, lines: list[str]) -> str:
    text = rng.choice(lines)
    if rng.random() < 0.3:
        text += " " + rng.choice(lines)
    if rng.random() < 0.3:
        text += " " + rng.choice(EMOTES)
    if rng.random() < 0.15:
        text = f"@viewer{rng.randint(1, 9999)} " + text
    if rng.random() < 0.1:
        text += f" {rng.randint(1, 500)}"
    return text


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(14_000)
    pack, terms, allow = build_pack()
    (OUT / "pack-2000.toml").write_text(pack, "utf-8")
    (OUT / "terms.json").write_text(json.dumps({"terms": terms, "allow": allow}), "utf-8")
    hostile = evasions(rng)
    write_jsonl(OUT / "evasions.jsonl", hostile)
    benign = [{"text": t, "family": "adversarial", "flag": False} for t in benign_lines()]
    ordinary = ordinary_lines()
    benign += [{"text": t, "family": "ordinary", "flag": False} for t in ordinary]
    write_jsonl(OUT / "benign.jsonl", benign)
    everyday = ordinary + benign_lines()
    stream = []
    for _ in range(STREAM_SIZE):
        planted = rng.random() < HOSTILE_SHARE  # a disguised term, else everyday chat
        text = rng.choice(hostile)["text"] if planted else chatter(rng, everyday)
        stream.append({"text": text, "planted": planted})
    write_jsonl(OUT / "stream.jsonl", stream)
    print(
        f"pack: {len(terms)} terms; evasions: {len(hostile)}; benign: {len(benign)}; "
        f"stream: {len(stream)} lines → {os.path.relpath(OUT)}"
    )


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


if __name__ == "__main__":
    main()
