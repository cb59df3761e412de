from pathlib import Path

import pytest

from vigile.filters.rules import RulePackError, load_pack, load_starter_packs, parse_pack

VALID = """
[pack]
name = "starter-fr"
version = 1

[[rules]]
id = "sexism-fr"
category = "sexism"          # free text
severity = 4                 # 1..5
action = "hide"              # review | hide | timeout:SECONDS | ban | reply
terms = ["salope", "grosse vache"]
hashtags = ["#boycottlumina"]
allow = ["salopette"]

[[rules]]
id = "spam"
category = "spam"
severity = 2
action = "timeout:600"
regex = "free\\\\s+vbucks"
fuzzy = true
"""


def test_the_documented_keys_are_accepted_exactly_as_written() -> None:
    pack = parse_pack(VALID, "fr.toml")
    assert (pack.name, pack.version) == ("starter-fr", 1)
    sexism, spam = pack.rules
    assert sexism.terms == ("salope", "grosse vache")
    assert sexism.hashtags == ("#boycottlumina",) and sexism.allow == ("salopette",)
    assert (sexism.category, sexism.severity, sexism.action) == ("sexism", 4, "hide")
    assert spam.action == "timeout:600" and spam.fuzzy is None and spam.regex == r"free\s+vbucks"


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (('action = "hide"', 'action = "obliterate"'), 10, "unknown action 'obliterate'"),
        (("severity = 4", "severity = 9"), 9, "severity must be a whole number from 1 to 5"),
        (('id = "spam"', 'id = "sexism-fr"'), 16, "duplicate rule id 'sexism-fr'"),
        (('regex = "free', 'regex = "(free'), 20, "regex does not compile"),
        (('terms = ["salope", "grosse vache"]', 'terms = "'), 11, "TOML syntax"),
        (
            ('allow = ["salopette"]', 'allow = ["salopette"]\ncolour = "red"'),
            14,
            "unknown key(s): colour",
        ),
        (
            ('terms = ["salope", "grosse vache"]', 'terms = ["salope", 3]'),
            11,
            "terms must be a list",
        ),
        (("fuzzy = true", "fuzzy = 7"), 21, "fuzzy must be"),
        (('[[rules]]\nid = "spam"', '[[rule]]\nid = "spam"'), 15, "unknown table or key 'rule'"),
    ],
)
def test_invalid_packs_are_refused_with_file_line_and_reason(change, line, reason) -> None:
    text = VALID.replace(*change)
    with pytest.raises(RulePackError) as error:
        parse_pack(text, "packs/fr.toml")
    assert error.value.file == "packs/fr.toml"
    assert error.value.line == line
    assert reason in error.value.reason
    assert str(error.value).startswith(f"packs/fr.toml:{line}: ")


def test_a_rule_needs_something_to_match() -> None:
    with pytest.raises(RulePackError, match="needs at least one of terms, patterns, hashtags"):
        parse_pack('[[rules]]\nid = "x"\ncategory = "spam"\n')


def test_an_unreadable_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="cannot read"):
        load_pack(tmp_path / "missing.toml")
    (tmp_path / "latin1.toml").write_bytes("terms = ['caf\xe9']".encode("latin-1"))
    with pytest.raises(RulePackError, match="cannot read"):
        load_pack(tmp_path / "latin1.toml")


def test_starter_packs_cover_english_and_french() -> None:
    packs = load_starter_packs()
    names = [p.name for p in packs]
    assert {n.rsplit("-", 1)[1] for n in names} == {"en", "fr"} and len(names) == 12
    assert "profanity-en" not in names  # optional: for family-friendly channels only
    categories = {r.category for p in packs for r in p.rules}
    assert {
        "racism",
        "sexism",
        "lgbtphobia",
        "ableism",
        "threat",
        "harassment",
        "spam",
        "link",
        "question",
    } <= categories
    assert {r.lang for p in packs for r in p.rules} >= {"en", "fr"}
