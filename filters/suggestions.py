"""Rules the stream signals suggest (a hijacked hashtag, a rising insult), as a pack of their
own once a supervisor accepts them, and the dry run that shows what a rule would catch before
it goes live."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vigile.filters.matcher import CompiledRules
from vigile.filters.rules import RulePack, parse_pack

PACK_NAME = "accepted-suggestions"


def suggestion_pack(rules: Iterable[Mapping[str, Any]]) -> RulePack:
    """A pack holding the accepted rules, written as TOML so its versions read like any
    pack's (RulePackError when a rule is not valid)."""
    blocks = [f'[pack]\nname = "{PACK_NAME}"\nversion = 1\n']
    blocks += [rule_toml(rule) for rule in rules]
    return parse_pack("\n".join(blocks), PACK_NAME)


def rule_toml(rule: Mapping[str, Any]) -> str:
    """One rule as the `[[rules]]` block the rule editor shows and the pack file holds."""
    lines = ["[[rules]]", *(f"{key} = {_toml(value)}" for key, value in rule.items())]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    """Strings, numbers and lists of strings: JSON's forms are TOML's too."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json.dumps(str(v), ensure_ascii=False) for v in value) + "]"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class DryRun:
    looked_at: int
    would_flag: int
    already_flagged: int  # of those, how many the running rules flag already
    examples: tuple[str, ...]


def dry_run(pack: RulePack, recent: Iterable[tuple[str, bool]], keep: int = 5) -> DryRun:
    """What `pack` would flag among `recent` (text, flagged now) messages."""
    compiled = CompiledRules([pack])
    looked_at = would_flag = already = 0
    examples: list[str] = []
    for text, flagged in recent:
        looked_at += 1
        if compiled.match(text):
            would_flag += 1
            already += flagged
            if len(examples) < keep:
                examples.append(text)
    return DryRun(looked_at, would_flag, already, tuple(examples))
