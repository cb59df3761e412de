"""Editing one rule of a running rule set: its TOML block out of its pack, the pack rebuilt with
the block changed, added or removed, and the comparison a supervisor sees before applying.

Packs stay TOML text from end to end (the file, the editor, the recorded version), so a rule
edited on the desk reads exactly like one edited in a text editor. Nothing here touches the
live rules: `Triage.swap` does, with what these functions built and validated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from vigile.filters.matcher import CompiledRules
from vigile.filters.rules import RulePack, RulePackError, parse_pack

_RULE_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*rules[ \t]*\]\]", re.MULTILINE)
_TABLE_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)

NEW_RULE = """[[rules]]
id = "new-rule"
category = "harassment"   # racism, sexism, lgbtphobia, threat, harassment, spam, link, brand…
severity = 3              # 1 to 5
action = "review"         # review, hide, timeout:SECONDS, ban, reply
terms = ["a term", "another phrase"]
hashtags = []
allow = []                # words this rule must never match
"""


def _blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each [[rules]] block: its header up to the next table."""
    starts = [m.start() for m in _RULE_HEADER.finditer(text)]
    blocks = []
    for start in starts:
        after = text.find("\n", start) + 1 or len(text)
        following = _TABLE_HEADER.search(text, after)
        blocks.append((start, following.start() if following else len(text)))
    return blocks


def rule_block(pack: RulePack, rule_id: str) -> str:
    """The rule's TOML as it stands in its pack (comments and layout kept)."""
    for (start, end), rule in zip(_blocks(pack.text), pack.rules, strict=False):
        if rule.id == rule_id:
            return pack.text[start:end].rstrip() + "\n"
    raise KeyError(rule_id)


def edited_pack(pack: RulePack, rule_id: str | None, block: str | None) -> RulePack:
    """`pack` with rule `rule_id` replaced by `block`; added when `rule_id` is None; removed
    when `block` is None. RulePackError (lines counted in the block) if the block is not one
    valid rule."""
    if block is not None:
        rules = parse_pack(block, "the edited rule").rules
        if len(rules) != 1:
            found = f"write exactly one [[rules]] table (found {len(rules)})"
            raise RulePackError("the edited rule", None, found)
    text = pack.text
    if rule_id is None:
        text = text.rstrip() + "\n\n" + (block or "").strip() + "\n"
    else:
        spans = dict(zip((r.id for r in pack.rules), _blocks(text), strict=False))
        if rule_id not in spans:
            raise RulePackError(pack.origin, None, f"rule {rule_id!r} is no longer in this pack")
        start, end = spans[rule_id]
        replacement = "" if block is None else block.strip() + "\n\n"
        text = text[:start] + replacement + text[end:].lstrip("\n")
    return parse_pack(text, pack.origin)


@dataclass(frozen=True, slots=True)
class EditDryRun:
    looked_at: int
    newly_flagged: int  # flagged by the new rules and not by the running ones
    no_longer_flagged: int
    still_flagged: int
    new_examples: tuple[str, ...]
    gone_examples: tuple[str, ...]

    def summary(self) -> str:
        return (
            f"of the last {self.looked_at:,} messages, the change would also flag "
            f"{self.newly_flagged:,} and stop flagging {self.no_longer_flagged:,} "
            f"({self.still_flagged:,} stay flagged)"
        )


def compare(
    running: CompiledRules, packs: list[RulePack], recent: Iterable[str], keep: int = 5
) -> EditDryRun:
    """What `packs` would flag differently from the running rules among `recent` texts
    (RulePackError if the packs together are not a valid rule set, e.g. a duplicate id)."""
    proposed = CompiledRules(packs)
    looked = new = gone = still = 0
    new_examples: list[str] = []
    gone_examples: list[str] = []
    for text in recent:
        looked += 1
        before, after = bool(running.match(text)), bool(proposed.match(text))
        if after and not before:
            new += 1
            if len(new_examples) < keep:
                new_examples.append(text)
        elif before and not after:
            gone += 1
            if len(gone_examples) < keep:
                gone_examples.append(text)
        elif before:
            still += 1
    return EditDryRun(looked, new, gone, still, tuple(new_examples), tuple(gone_examples))
