"""Literal hints for regex rules: text that lacks all of a pattern's hints cannot match it.

Running every rule's regex on every message costs microseconds each; a substring test costs a
fraction of that. `https?://\\S+|www\\.\\S+` needs "http" or "www." in the text: most chat has
neither, and the regex is skipped. Patterns we cannot read this way always run.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

try:  # the standard library's regex parser: private, so used defensively
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - a Python without it: no hints, every regex runs
    sre_parse = None

_LITERAL = "LITERAL"
_BRANCH = "BRANCH"
_SUBPATTERN = "SUBPATTERN"
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT")


@lru_cache(maxsize=1024)  # asked twice per regex rule at each compile
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
    """Hints of a sequence of nodes: of the literal runs and groups every match goes through,
    the one whose shortest hint is longest (`(?:^|[^0-9])(?:1488|14 88)` needs "14" though its
    first group needs nothing). Classes, anchors and optional parts guarantee nothing."""
    best: set[str] | None = None
    run = ""

    def consider(found: set[str] | None) -> None:
        nonlocal best
        if found and all(found) and (best is None or min(map(len, found)) > min(map(len, best))):
            best = found

    for op, value in items:
        name = str(op)
        if name == _LITERAL:
            run += chr(value)
            continue
        consider({run} if run else None)
        run = ""
        if name == _BRANCH:
            consider(_alternatives(value[1]))
        elif name == _SUBPATTERN:
            consider(_sequence(list(value[-1])))
        elif name in _REPEATS and value[0] >= 1:  # there at least once: what it needs, too
            consider(_sequence(list(value[2])))
    consider({run} if run else None)
    return best


def _alternatives(branches: list[Any]) -> set[str] | None:
    hints: set[str] = set()
    for branch in branches:
        found = _sequence(list(branch))
        if not found:
            return None
        hints |= found
    return hints
