"""The evasion families of issue #3, table by table, and the look-alikes that must stay clean.

Each row gives a disguised message, the original-text span that must be reported, and a word
the explanation must contain."""

import time

import pytest

from vigile.filters.literals import literal_hints
from vigile.filters.rules import load_starter_packs, parse_pack
from vigile.filters.triage import Triage


@pytest.fixture(scope="module")
def triage() -> Triage:
    hashtags = parse_pack(
        '[[rules]]\nid = "hijack"\ncategory = "brand"\nhashtags = ["#BoycottLumina"]\n', "tags"
    )
    return Triage([*load_starter_packs(), hashtags])


EVASIONS = [
    # (family, message, matched text, explanation contains, category)
    ("exact", "t'es qu'une salope", "salope", "exact", "sexism"),
    ("case", "SaLoPe va", "SaLoPe", "exact", "sexism"),
    ("leet", "t'es qu'une s4l0pe", "s4l0pe", "leet", "sexism"),
    ("leet", "$lut", "$lut", "leet", "sexism"),
    ("leet", "k1ll y0urself", "k1ll y0urself", "leet", "threat"),
    ("leet@", "@tt@@rdé", "@tt@@rdé", "leet", "ableism"),
    ("homoglyph", "ѕаlоре", "ѕаlоре", "homoglyph", "sexism"),  # Cyrillic
    ("homoglyph", "what a τһoτ", "τһoτ", "homoglyph", "sexism"),  # Greek and Cyrillic
    ("fullwidth", "ｓａｌｏｐｅ", "ｓａｌｏｐｅ", "homoglyph", "sexism"),
    ("zero-width", "sal\u200bope", "sal\u200bope", "invisible", "sexism"),
    ("soft hyphen", "con\u00adnard", "con\u00adnard", "invisible", "harassment"),
    ("emoji inside", "sa🍑lope", "sa🍑lope", "emoji", "sexism"),
    ("emoji + selector", "pét❤️asse", "pét❤️asse", "emoji", "sexism"),
    ("repeated", "slooooot", "slooooot", "repeat", "sexism"),
    ("repeated", "connnnnard", "connnnnard", "repeat", "harassment"),
    ("spaced", "s l u t", "s l u t", "spacing", "sexism"),
    ("dotted", "w.h.o.r.e", "w.h.o.r.e", "spacing", "sexism"),
    ("underscored", "g_o_o_k", "g_o_o_k", "spacing", "racism"),
    ("starred", "c*o*n*n*a*r*d", "c*o*n*n*a*r*d", "separators", "harassment"),
    ("accents added", "sàlopé", "sàlopé", "exact", "sexism"),
    ("misspelled", "salopz", "salopz", "fuzzy:1", "sexism"),
    ("transposed", "ngiga", "ngiga", "fuzzy:1", "racism"),
    ("plural", "bande de garces", "garces", "inflection", "sexism"),
    ("split", "sal ope", "sal ope", "split", "sexism"),
    ("split", "lose r", "lose r", "split", "harassment"),
    ("phrase spacing", "retourne  a la  cuisine", "retourne  a la  cuisine", "phrase", "sexism"),
    ("phrase joined", "killyourself", "killyourself", "exact", "threat"),
    ("hashtag", "#BoycottLumina", "#BoycottLumina", "hashtag", "brand"),
    ("hashtag", "#boycott_lumina", "#boycott_lumina", "hashtag", "brand"),
    ("hashtag leet", "#b0yc0tt1umina", "#b0yc0tt1umina", "leet", "brand"),
    ("hashtag suffix", "#BOYCOTTLUMINA2026", "#BOYCOTTLUMINA2026", "hashtag", "brand"),
]


@pytest.mark.parametrize(("family", "text", "matched", "how", "category"), EVASIONS)
def test_evasion_is_caught_and_explained(triage, family, text, matched, how, category) -> None:
    verdict = triage.judge_text(text)
    found = [m for m in verdict.matches if m.category == category]
    assert found, f"{family}: {text!r} not flagged ({verdict.matches})"
    match = found[0]
    assert text[match.span[0] : match.span[1]] == matched
    assert how in match.how, f"{family}: explained as {match.how!r}"


LOOK_ALIKES = [
    "les salopettes de l'équipe sont stylées",
    "le député a parlé",
    "quelle dispute au stand",
    "on dirait un canard",
    "trop bavard le commentateur",
    "je suis en retard",  # fr "retard" = late; en slur
    "le train a du retard",
    "pros and cons of the new tyres",  # en "con"; fr insult
    "grab a bite to eat",  # en "bite"; fr vulgar
    "les cônes du parking",  # not "connes"
    "il a pu te voir",  # "pu te" is not a split "pute"
    "le chef est retourné en cuisine",  # the accent changes the phrase
    "my computer is slow",
    "count me in",
    "skill yourself up",
    "who're they racing next?",
    "the witch costume",
    "shut up and take my money",
    "scunthorpe united",
    "classic assassin move",
    "cocktail party",
    "#LuminaFans",
    "#Boycott",
    "j'ai 3 chiens et 2 chats",
    "1v1 me 420",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alike_is_not_flagged(triage, text) -> None:
    assert not triage.judge_text(text).flagged, triage.judge_text(text).matches


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("you retard", True),
        ("je suis en retard", False),
        ("suce ma bite", True),
        ("a bite to eat", False),
        ("sale con", True),
        ("pros and cons", False),
    ],
)
def test_words_ordinary_in_the_other_language_need_their_own(triage, text, flagged) -> None:
    assert triage.judge_text(text).flagged is flagged


def test_regex_literal_hints_skip_only_what_cannot_match() -> None:
    assert literal_hints(r"(?:https?://|www\.)\S+|\.(?:com|fr)/") == {"http", "www.", "com", "fr"}
    # of what every match holds, the longest: "vbucks" is rarer in chat than "free"
    assert literal_hints(r"\bfree\s+vbucks") == {"vbucks"}
    # what comes before a literal is skipped: the literal is in every match
    assert literal_hints(r"\b[\w-]+\.xyz") == {".xyz"}
    assert literal_hints(r"a*b") == {"b"}
    assert literal_hints(r"[a-z]+\d*") is None  # no literal anywhere: always run
    assert literal_hints(r"(?:a|\d+)") is None  # one branch has no literal of its own
    assert literal_hints(r"(?:a|\d+)x") == {"x"}  # but what follows is needed either way
    assert literal_hints(r"(?:^|[^0-9])(?:1488|14 88)(?:[^0-9]|$)|\bheil\s*88") == {"14", "heil"}
    assert literal_hints(r"k+i+l+\s*(?:ur|you)") == {"ur", "you"}
    assert literal_hints(r"(?!xyz)ab?c") == {"a"}  # what must not be there is no hint
    pack = parse_pack('[[rules]]\nid = "l"\ncategory = "link"\nregex = "https?://\\\\S+"\n')
    triage = Triage([pack])
    assert triage.judge_text("see HTTPS://scam.example").flagged
    assert not triage.judge_text("see scam.example").flagged


@pytest.mark.parametrize(
    "pattern", [r"(z|zz)+$", r"(x|xx)+y", r"(.*?,){15}P", r"(b|bb|bbb)+$", r"(a|aa)+$"]
)
def test_a_backtracking_bomb_costs_no_more_than_a_plain_rule(pattern: str) -> None:
    """Patterns that take exponential time on a backtracking engine load, keep matching, and
    judge crafted lines at the cost of an ordinary rule (RE2: linear time)."""
    plain = parse_pack('[[rules]]\nid = "r"\ncategory = "spam"\nregex = "free vbucks"\n')
    bomb = parse_pack(f"[[rules]]\nid = 'r'\ncategory = 'spam'\nregex = '{pattern}'\n")
    crafted = [c * 3000 + "!" for c in "zxb"] + [",".join(["a"] * 300) + "Q"] * 3

    def cost(triage: Triage) -> float:
        started = time.perf_counter()
        for line in crafted * 20:
            triage.judge_text(line)
        return time.perf_counter() - started

    plain_triage, bomb_triage = Triage([plain]), Triage([bomb])
    cost(plain_triage), cost(bomb_triage)  # warm: token caches filled, lines remembered
    plain_triage, bomb_triage = Triage([plain]), Triage([bomb])
    assert cost(bomb_triage) < 5 * cost(plain_triage) + 0.05
    assert bomb_triage.judge_text("zzzz").flagged == (pattern == r"(z|zz)+$")


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        (r"(a)\1", "back-references"),
        (r"(?<=free )vbucks", "look-behind"),
        (r"x(?!y)", "look-ahead"),
    ],
)
def test_a_regex_that_needs_backtracking_is_refused_with_its_reason(pattern, feature) -> None:
    from vigile.filters.rules import RulePackError

    with pytest.raises(RulePackError, match=f"bad.toml:4: rule 'r': regex uses {feature}"):
        parse_pack(f"[[rules]]\nid = 'r'\ncategory = 'spam'\nregex = '{pattern}'\n", "bad.toml")


# Families of issue #18 that the evasion bench found still missed, each with the reading it
# relies on (filters/reading.py, filters/matcher.py): (family, message, matched text, category).
READINGS = [
    ("split, a piece is a term", "@kev con nasse", "con nasse", "sexism"),
    ("split, a piece is a slip of a term", "such a honke rs honestly", "honke rs", "sexual"),
    ("phrase cut between other letters", "such a yours nap honestly", "yours nap", "sexual"),
    (
        "phrase word cut into a non-word",
        "what a great replacem ent",
        "great replacem ent",
        "racism",
    ),
    (
        "phrase word cut into a non-word",
        "quelqu'unasonadr esse",
        "quelqu'unasonadr esse",
        "threat",
    ),
    ("slip inside a double letter", "pusksy", "pusksy", "sexual"),
    ("four letters, one dropped", "whre !!!", "whre", "sexism"),
    ("squeezed to four, one dropped", "@kev gauée", "gauée", "sexual"),
    ("a star for one letter", "b*obs !!!", "b*obs", "sexual"),
    ("a star for one letter", "ur such a fa*ty", "fa*ty", "harassment"),
    ("leet s ending the word", "seriously, 8oo8a$", "8oo8a$", "sexual"),
    ("two letters swapped, squeezed", "@kev bbae", "bbae", "sexual"),
    ("accents no word has", "pééd va", "pééd", "lgbtphobia"),
    ("accents no word has", "@kev bêet", "bêet", "harassment"),
    ("accents no word has", "t'es qu'une attaréd", "attaréd", "ableism"),
    ("-d only after e", "espèce de bâtad", "bâtad", "harassment"),
    ("spelt out, letters no cues", "you're a h y p o c r i t e", "h y p o c r i t e", "harassment"),
    ("spelt out, letters no cues", "ur such a d o u c h 3", "d o u c h 3", "harassment"),
    (
        "slip in a long phrase word",
        "shleep with one eye open",
        "shleep with one eye open",
        "threat",
    ),
]


@pytest.mark.parametrize(("family", "text", "matched", "category"), READINGS)
def test_reading_families_are_caught(triage, family, text, matched, category) -> None:
    found = [m for m in triage.judge_text(text).matches if m.category == category]
    assert found, f"{family}: {text!r} not flagged"
    assert text[found[0].span[0] : found[0].span[1]] == matched


# The same readings must not turn ordinary words into terms.
ORDINARY = [
    "la nasse du pêcheur",  # a piece alone is nothing
    "so proud of yourself",  # its own words: not "off yourself" cut elsewhere
    "such a pushy seller",  # a real word is never a slip
    "where is the whey",
    "this spiss and copious treatise",  # a rare word: no letter dropped as typed
    "that's a b*ld move",  # a star that spells no term
    "it costs 20$",
    "the beet salad",  # typed without accents, beet is beet
    "i peed myself laughing",
    "je suis crevé ce soir",  # typed accents that a word has
    "the bamboozled crowd",
    "a b c d e",
    "sheep with one eye open",  # a real word carries no slip
    "à pattes courtes",  # "à 4 pattes" joined is not "à pattes"
]


@pytest.mark.parametrize("text", ORDINARY)
def test_readings_leave_ordinary_words_alone(triage, text) -> None:
    assert not triage.judge_text(text).flagged, triage.judge_text(text).matches


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("u hypocrite", True),  # "u" is English chat's "you": the line reads as English
        ("ur such a hypocrite", True),
        ("ya du retard sur le stream", False),  # "ya" is French chat's "il y a" too
        ("ya une douche", False),
    ],
)
def test_chat_spellings_tell_the_language(triage, text, flagged) -> None:
    from vigile.filters.hits import Context

    assert triage.judge_text(text, Context(language="fr")).flagged is flagged
