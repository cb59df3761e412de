"""Literal hints for regex rules: text that lacks all of a pattern's hints cannot match it.

Running every rule's regex on every message costs microseconds each; a substring test costs a
fraction of that. `https?://\\S+|www\\.\\S+` needs "http" or "www." in the text: most chat has
neither, and the regex is skipped. Patterns we cannot read this way always run.
"""

from __future__ import annotations

import re
from typing import Any

try:  # the standard library's regex parser: private, so used defensively
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - a Python without it: no hints, every regex runs
    sre_parse = None

_LITERAL = "LITERAL"
_BRANCH = "BRANCH"
_SUBPATTERN = "SUBPATTERN"
_AT = "AT"  # \b, ^, $: they consume nothing
# Nodes a literal after them is still required behind: anchors, classes, repeats of a class.
_SKIPPABLE = frozenset({_AT, "IN", "ANY", "CATEGORY", "NOT_LITERAL", "MAX_REPEAT", "MIN_REPEAT"})


def literal_hints(pattern: str) -> frozenset[str] | None:
    """Lower-case substrings of which every match contains at least one, or None if unknown."""
    if sre_parse is None:
        return None
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
    except (re.error, RecursionError, TypeError):
        return None
    hints = _sequence(list(parsed))
    if not hints or any(not h for h in hints):
        return None
    return frozenset(h.lower() for h in hints)


def _sequence(items: list[Any]) -> set[str] | None:
    """Hints of a sequence of nodes: its first literal run, or its first group's. What comes
    before it (\\b, a class, a repeat: `[\\w-]+\\.com`) is skipped: the literal is still in
    every match."""
    prefix = ""
    for op, value in items:
        name = str(op)
        if name == _LITERAL:
            prefix += chr(value)
            continue
        if name in _SKIPPABLE and not prefix:
            continue
        if prefix:
            return {prefix}
        if name == _BRANCH:
            return _alternatives(value[1])
        if name == _SUBPATTERN:
            return _sequence(list(value[-1]))
        return None  # a class, a repeat, an anchor…: no safe literal at the start
    return {prefix} if prefix else None


def _alternatives(branches: list[Any]) -> set[str] | None:
    hints: set[str] = set()
    for branch in branches:
        found = _sequence(list(branch))
        if not found:
            return None
        hints |= found
    return hints
