"""People's names judged by the rules of the `names` scope: once per name and rules version."""

from __future__ import annotations

import re
from dataclasses import replace

from vigile.connectors.model import ChatMessage, Match
from vigile.filters.matcher import CompiledRules, compile_rules

# Where a name breaks into words: separators, a lower-case letter before a capital
# (KillYourself), and a run of two or more digits at either end of a word (kys_123, 88hate).
# A single digit stays: h4te, n1gg3r are letters in disguise, which the folding reads.
_SEPARATORS = re.compile(r"[_\-.\s|~]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=\d)(?=[A-Z][a-z])")
_DIGIT_EDGES = re.compile(r"(?<=[^\W\d_])(?=\d{2,}\b)|(?<=\b\d{2})(?=[^\W\d_])")


def spelled_out(name: str) -> str:
    """A name as the words it is made of: `kill_yourself_123` → `kill yourself 123`,
    `KillYourself` → `Kill Yourself`, `@h4te-squad` → `h4te squad`."""
    words = _SEPARATORS.sub(" ", name.strip().lstrip("@"))
    words = _CAMEL.sub(" ", words)
    return _DIGIT_EDGES.sub(" ", words).strip()


def names_of(message: ChatMessage) -> list[tuple[str, str]]:
    """Every (person, name) a message shows: its author's display name and login, and the
    people a notice names beside its sender (a gift's recipient)."""
    shown = [(message.author_id, message.author_name)]
    login = str(message.raw.get("login") or "")
    if login and login.casefold() != message.author_name.casefold():
        shown.append((message.author_id, login))
    for other in message.raw.get("others_named") or ():
        person = str(other.get("id") or other.get("login") or other.get("name") or "")
        for name in (other.get("name"), other.get("login")):
            if name and (person, str(name)) not in shown:
                shown.append((person, str(name)))
    return shown


class NameChecks:
    """Rules with the `names` scope. Each name is judged on first sight (per person and
    spelling, so a renamed account is judged again), never on every message."""

    _LIMIT = 100_000

    def __init__(self, compiled: CompiledRules | None = None, from_cache: bool = False) -> None:
        has_names = compiled is not None and any(r.scope == "names" for r in compiled.rules)
        build = compile_rules if from_cache else CompiledRules  # the disk cache at start-up
        self._rules = build(list(compiled.packs), scope="names") if has_names else None
        self._seen: set[tuple[str, str, str]] = set()
        # per author, the names their last message showed: most messages show the same again,
        # and are let through on one dictionary look-up
        self._shown: dict[tuple[str, str], tuple[str, object]] = {}
        self._judged: dict[str, tuple[Match, ...]] = {}  # a name → its matches, whoever bears it

    def check(self, message: ChatMessage) -> tuple[Match, ...]:
        if self._rules is None:
            return ()
        raw = message.raw
        author, shown = (
            (message.platform, message.author_id),
            (message.author_name, raw.get("login")),
        )
        if self._shown.get(author) == shown and "others_named" not in raw:
            return ()
        if len(self._shown) >= self._LIMIT:
            self._shown.clear()
        self._shown[author] = shown
        found: list[Match] = []
        for person, name in names_of(message):
            key = (message.platform, person, name)
            if key in self._seen:
                continue
            if len(self._seen) >= self._LIMIT:
                self._seen.clear()
            self._seen.add(key)
            judged = self._judged.get(name)
            if judged is None:
                if len(self._judged) >= self._LIMIT:
                    self._judged.clear()
                judged = self._judged[name] = self.judge(name)
            found += judged
        return tuple(found)

    def judge(self, name: str) -> tuple[Match, ...]:
        """A name's matches: no span in the message (the name is not in it); `term` is the
        name, and `how` says it is one (`name:exact`, `name:phrase`…)."""
        if self._rules is None:
            return ()
        matches = self._rules.match(spelled_out(name))
        seen: set[str] = set()
        kept = []
        for m in matches:
            if m.rule_id not in seen:  # one match per rule and name: a name is one thing
                seen.add(m.rule_id)
                kept.append(replace(m, span=(0, 0), how=f"name:{m.how}", term=name))
        return tuple(kept)
