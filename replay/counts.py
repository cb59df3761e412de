"""Counts in words, in one place: "1 message", "2,656 messages", "message 100", "messages 3–7"."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun agreeing with it, thousands grouped: count(1, "action") == "1 action"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def noun(n: int, singular: str, plural: str | None = None) -> str:
    """The noun alone, agreeing with `n`."""
    return singular if n == 1 else plural or singular + "s"


def seq_range(first: int, last: int, singular: str, plural: str | None = None) -> str:
    """A run of numbered items: "message 100" for one, "messages 100–102" for several."""
    if first == last:
        return f"{singular} {first:,}"
    return f"{plural or singular + 's'} {first:,}–{last:,}"
