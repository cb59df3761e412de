"""Regexes that supervisors write in rules, run on RE2: time linear in the message, always.

A backtracking engine (Python's re, the regex module) can take exponential time on patterns
such as `(z|zz)+$`, and no test of a pattern at load time finds every such case; a time-out
then silently stops the rule from matching. RE2 (Google's engine, through its maintained
binding) has no such patterns: it refuses at compile time what it cannot run in linear time
(back-references, look-arounds), and we refuse the rule with that reason.

In RE2, as written here, `\\w`, `\\d` and `\\b` are ASCII; `\\pL` is any letter.
"""

from __future__ import annotations

import re2

_MAX_MEMORY = 8 << 20  # bytes for one compiled program: a bounded rule, refused beyond


class RuleRegexError(ValueError):
    """A rule's regex that cannot be used, with the reason in the supervisor's words."""


# RE2's refusals of what only a backtracking engine does, in words a supervisor knows.
_BACKTRACKING_ONLY = (
    ("invalid perl operator: (?<", "look-behind"),
    ("invalid perl operator: (?=", "look-ahead"),
    ("invalid perl operator: (?!", "look-ahead"),
    ("invalid perl operator: (?>", "atomic groups"),
)
_BACK_REFERENCE = "invalid escape sequence: \\"


def compile_rule_regex(pattern: str) -> re2._Regexp:
    """The pattern, case-insensitive, or RuleRegexError saying why not."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = _MAX_MEMORY
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
    features = [f for start, f in _BACKTRACKING_ONLY if reason.startswith(start)]
    if reason.startswith(_BACK_REFERENCE) and reason[len(_BACK_REFERENCE) :][:1].isdigit():
        features.append("back-references")
    if features:
        raise RuleRegexError(
            f"regex uses {features[0]}, which cannot run in time linear in the message; write it"
            f" without ({reason})"
        )
    raise RuleRegexError(f"regex does not compile: {reason}")
