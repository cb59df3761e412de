"""Every starter-pack rule does what its own documentation says: flags its examples, spares its
counter-examples. A rule without both is not documented."""

import pytest

from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage

PACKS = load_starter_packs() + load_starter_packs(optional=True)
RULES = [(pack.name, rule) for pack in PACKS for rule in pack.rules]


@pytest.fixture(scope="module")
def triage() -> Triage:
    triage = Triage(PACKS)
    triage.protect("Maya")
    return triage


@pytest.mark.parametrize(("pack", "rule"), RULES, ids=[r.id for _, r in RULES])
def test_a_rule_flags_its_examples_and_spares_its_counter_examples(triage, pack, rule) -> None:
    assert rule.description and rule.examples and rule.spares, f"{rule.id} is not documented"
    judge = triage.judge_name if rule.scope == "names" else triage.judge_text
    for example in rule.examples:
        found = {m.rule_id for m in judge(example).matches}
        assert rule.id in found, f"{pack}: {rule.id} misses its example {example!r} ({found})"
    for spared in rule.spares:
        found = {m.rule_id for m in judge(spared).matches}
        assert rule.id not in found, f"{pack}: {rule.id} flags its counter-example {spared!r}"


def test_the_probe_can_fail() -> None:
    """An example the rule does not flag is caught by the check above."""
    triage = Triage(PACKS)
    assert "threat-violence-en" not in {m.rule_id for m in triage.judge_text("gg wp").matches}
