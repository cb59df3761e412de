"""`vigile check` remembers the answers to lines of text alone: a remembered answer must be the
one the line would get judged afresh, as the chat's language and the rules change."""

import orjson

from vigile.filters.check import Answers, answer
from vigile.filters.rules import load_starter_packs, parse_pack
from vigile.filters.triage import Triage

FRENCH = "je suis pas d'accord avec toi mais c'est vraiment bien joué quand même"
ENGLISH = "i think that you are right and this is a really good play by them"


def both_ways(lines: list[str]) -> tuple[list[bytes], list[bytes]]:
    """The answers of a remembering reader, and of a fresh judgement of every line, each with
    its own rules, fed the same lines in the same order."""
    remembering = Answers(Triage(load_starter_packs()))
    fresh = Triage(load_starter_packs())
    return [remembering(line.encode()) for line in lines], [answer(fresh, line) for line in lines]


def test_a_repeated_line_is_answered_as_in_the_chat_it_now_is_in() -> None:
    # "con" alone is an insult in French chat, and English's "con" (a con artist) elsewhere.
    lines = ["con", *[FRENCH] * 30, "con", *[ENGLISH] * 200, "con"]
    remembered, fresh = both_ways(lines)
    assert remembered == fresh
    answers = [orjson.loads(remembered[n]) for n in (0, 31, 232)]
    assert [a["flagged"] for a in answers] == [False, True, False]


def test_remembered_answers_match_fresh_ones_for_every_kind_of_line() -> None:
    lines = [
        "t'es qu'une salope",
        '{"text": "kill yourself", "id": 7}',
        '{"text": "kill yourself", "id": 8}',
        '{"text": "kill yourself", "author": "someone"}',
        "{broken",
        '{"txt": "no text key"}',
        "",
        "c'est combien ?",
    ]
    remembered, fresh = both_ways(lines * 3)
    assert remembered == fresh
    assert orjson.loads(remembered[2])["id"] == 8


def test_an_edit_to_the_rules_is_not_answered_from_memory() -> None:
    triage = Triage(
        [parse_pack('[[rules]]\nid = "a"\ncategory = "spam"\nterms = ["alpha"]\n', "a")]
    )
    remembering = Answers(triage)
    assert orjson.loads(remembering(b"buy bravo now"))["flagged"] is False
    triage.swap(
        [parse_pack('[[rules]]\nid = "b"\ncategory = "spam"\nterms = ["bravo"]\n', "b")], "x", "t"
    )
    assert orjson.loads(remembering(b"buy bravo now"))["matches"][0]["rule"] == "b"
