import threading

import pytest

from vigile.filters.rules import load_starter_packs, parse_pack
from vigile.filters.triage import Triage

PACK = parse_pack(
    """
[[rules]]
id = "sexism-fr"
category = "sexism"
severity = 4
action = "hide"
terms = ["salope", "grosse vache", "pédé"]
hashtags = ["#BoycottLumina"]
allow = ["salopette"]

[[rules]]
id = "threat-en"
category = "threat"
severity = 5
action = "ban"
terms = ["kill yourself"]

[[rules]]
id = "q"
category = "question"
severity = 1
action = "reply"
terms = ["combien", "c'est combien"]

[[rules]]
id = "link"
category = "link"
severity = 2
action = "review"
regex = 'https?://\\S+'
""",
    "test.toml",
)


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage([PACK])


@pytest.mark.parametrize(
    ("text", "rule", "matched"),
    [
        ("t'es qu'une salope", "sexism-fr", "salope"),
        ("SALOPE", "sexism-fr", "SALOPE"),
        ("ｓａｌｏｐｅ va", "sexism-fr", "ｓａｌｏｐｅ"),  # fullwidth
        ("sal\u200bope", "sexism-fr", "sal\u200bope"),  # zero-width space inside
        ("sal\u00adope", "sexism-fr", "sal\u00adope"),  # soft hyphen
        ("sale pede", "sexism-fr", "pede"),  # accents folded both ways
        ("PÉDÉ", "sexism-fr", "PÉDÉ"),
        ("quelle grosse   vache", "sexism-fr", "grosse   vache"),  # phrase, any spacing
        ("#BoycottLumina", "sexism-fr", "#BoycottLumina"),
        ("#boycott_lumina", "sexism-fr", "#boycott_lumina"),
        ("#BOYCOTTLUMINA!!", "sexism-fr", "#BOYCOTTLUMINA"),
        ("just kill yourself lol", "threat-en", "kill yourself"),
        ("go see https://scam.example/x now", "link", "https://scam.example/x"),
    ],
)
def test_matches_and_their_span_in_the_original_text(triage, text, rule, matched) -> None:
    verdict = triage.judge_text(text)
    (match,) = [m for m in verdict.matches if m.rule_id == rule]
    start, end = match.span
    assert text[start:end] == matched
    assert verdict.flagged and verdict.priority > 0


@pytest.mark.parametrize(
    "text",
    [
        "les salopettes de l'équipe",  # a longer word, not the term
        "une salopette bleue",  # allow-listed
        "the computer is fine",
        "skill yourself up",  # not "kill yourself"
        "#LuminaFans",  # a different hashtag
        "#Boycott",  # a shorter one
        "grosse\nbêtise de vache",
        "",
    ],
)
def test_look_alikes_are_not_flagged(triage, text) -> None:
    assert not triage.judge_text(text).flagged


def test_a_match_nested_in_a_longer_one_of_the_same_rule_is_dropped(triage) -> None:
    verdict = triage.judge_text("c'est combien ?")
    assert [(m.rule_id, m.term) for m in verdict.matches] == [("q", "c'est combien")]


def test_priority_and_action_follow_the_most_severe_match(triage) -> None:
    one = triage.judge_text("salope")
    two = triage.judge_text("salope, kill yourself")
    assert two.priority > one.priority
    assert (one.action, two.action) == ("hide", "ban")
    assert two.categories == {"sexism", "threat"}
    question = triage.judge_text("combien ?")
    assert question.action == "reply" and question.priority < one.priority


def test_starter_packs_flag_french_and_english_and_spare_ordinary_chat() -> None:
    triage = Triage(load_starter_packs())
    for text in [
        "retourne à la cuisine",
        "go back to the kitchen",
        "je sais où tu habites",
        "kill yourself",
        "c'est combien le maillot ?",
        "is it still in stock?",
    ]:
        assert triage.judge_text(text).flagged, text
    for text in [
        "les salopettes sont belles",
        "le député parle",
        "my computer",
        "gg wp",
        "shut up and take my money",
        "who're they racing next?",
    ]:
        assert not triage.judge_text(text).flagged, text


def test_swap_is_atomic_under_concurrent_triage() -> None:
    """Judging in a thread while rules are swapped: every verdict comes from one whole set."""
    old = parse_pack('[[rules]]\nid = "old"\ncategory = "a"\nterms = ["alpha", "beta"]\n')
    new = parse_pack('[[rules]]\nid = "new"\ncategory = "b"\nterms = ["alpha", "beta"]\n')
    triage = Triage([old])
    results: list[tuple[int, set[str]]] = []
    stop = threading.Event()

    def judge() -> None:
        while not stop.is_set():
            verdict = triage.judge_text("alpha beta")
            results.append((verdict.rules_version, {m.rule_id for m in verdict.matches}))

    worker = threading.Thread(target=judge)
    worker.start()
    for n in range(200):
        triage.swap([new if n % 2 == 0 else old], "sup", "editor")
    stop.set()
    worker.join()
    assert results
    for version, rules in results:
        assert rules == ({"old"} if version % 2 == 1 else {"new"}), (version, rules)
    assert len(triage.history) == 201


def test_a_bad_swap_keeps_the_running_rules() -> None:
    triage = Triage([PACK])
    dup = parse_pack('[[rules]]\nid = "link"\ncategory = "x"\nterms = ["y"]\n', "dup.toml")
    with pytest.raises(ValueError, match="duplicate rule id 'link'"):
        triage.swap([PACK, dup], "sup", "editor")
    assert triage.version == 1 and triage.judge_text("salope").flagged
