"""Turn a message into a Verdict with the current rules; swap rules atomically between messages."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from vigile.connectors.model import (
    CLEAN,
    JUDGED_LENGTH,
    ChatMessage,
    Mark,
    Match,
    Verdict,
    utc_now,
)
from vigile.filters import lexicon
from vigile.filters.context import ChatLanguage, context_for, name_keys, shared_context
from vigile.filters.hits import Context
from vigile.filters.matcher import CompiledRules, compile_rules
from vigile.filters.names import NameChecks
from vigile.filters.rules import RulePack

# Severity sets the base priority; each further match adds a little, so a message that is a
# slur *and* a threat climbs above a message that is only one of them.
_PRIORITY_PER_SEVERITY = 18
_PRIORITY_PER_EXTRA_MATCH = 5
NAME_MATCH = "name:"  # a match's `how` begins so when it is in a name, not in the text
_ACTION_RANK = {"none": 0, "reply": 1, "review": 2, "hide": 3, "timeout": 4, "ban": 5}


@dataclass(frozen=True, slots=True)
class RulesVersion:
    version: int
    author: str
    origin: str  # "file", "starter", "editor", "hub"…
    ts: float
    packs: tuple[RulePack, ...]

    @property
    def text(self) -> str:
        return "\n".join(f"# pack: {p.name} ({p.origin})\n{p.text}" for p in self.packs)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@lru_cache(maxsize=16)
def _clean(version: int) -> Verdict:
    """Clean verdicts are all alike: one per rules version, not one per message."""
    return Verdict(rules_version=version) if version else CLEAN


def _action_rank(action: str) -> int:
    return _ACTION_RANK.get(action.partition(":")[0], 0)


def verdict_for(matches: tuple[Match, ...], actions: dict[str, str], version: int) -> Verdict:
    if not matches:
        return _clean(version)
    top = max(m.severity for m in matches)
    priority = min(
        100, top * _PRIORITY_PER_SEVERITY + _PRIORITY_PER_EXTRA_MATCH * (len(matches) - 1)
    )
    # An insult aimed at no one is only worth a look, whatever its rule does when aimed.
    action = max(
        ("review" if "undirected" in m.how else actions[m.rule_id] for m in matches),
        key=_action_rank,
    )
    named = any(m.how.startswith(NAME_MATCH) for m in matches)
    return Verdict(
        matches=matches,
        categories=frozenset(m.category for m in matches),
        priority=priority,
        action=action,
        rules_version=version,
        marks=frozenset({Mark.NAME}) if named else frozenset(),
    )


class Triage:
    """Holds the live rule set. `swap` replaces it in one assignment, so a message is always
    judged by one complete rule set: the old one or the new one, never a half-built one."""

    def __init__(
        self, packs: list[RulePack], author: str = "system", origin: str = "start"
    ) -> None:
        lexicon.warm_up()  # word lists loaded now, not on the first message of a live stream
        self.history: list[RulesVersion] = []
        self._protected: frozenset[str] = frozenset()
        self._languages = ChatLanguage()
        self._names = NameChecks()
        self.listeners: list[Callable[[RulesVersion], None]] = []
        self._rules: CompiledRules
        self.swap(packs, author, origin, from_cache=True)

    @property
    def rules(self) -> CompiledRules:
        return self._rules

    @property
    def version(self) -> int:
        return self._rules.version

    def swap(
        self, packs: list[RulePack], author: str, origin: str, from_cache: bool = False
    ) -> RulesVersion:
        """Compile first (raising RulePackError on a bad set, keeping the old one), then swap.
        At start-up the compiled set may come from the disk cache; an edit is compiled (only
        its new terms, the rest being cached in memory) and not written to disk."""
        version = len(self.history) + 1
        # Compiling allocates tens of thousands of objects, enough to set off a full garbage
        # collection (~40 ms) in the middle; it is put off until the new rules are live.
        collecting = gc.isenabled()
        gc.disable()
        try:
            compiled = (
                compile_rules(packs, version) if from_cache else CompiledRules(packs, version)
            )
        finally:
            if collecting:
                gc.enable()
        self._rules = compiled  # one reference assignment: atomic for every reader
        self._names = NameChecks(compiled, from_cache)
        entry = RulesVersion(version, author, origin, utc_now(), tuple(packs))
        self.history.append(entry)
        for listener in self.listeners:
            listener(entry)
        return entry

    def protect(self, name: str) -> None:
        """A person the desk protects (the streamer): remarks naming them are aimed at them.
        The channel's own name always is."""
        self._protected |= name_keys(name)

    def text_context(self, text: str) -> Context:
        """The context of a line known by its text alone: the language the chat reads as so
        far, this line counted."""
        language = self._languages.observe("", text[:JUDGED_LENGTH])
        return shared_context(frozenset(), False, self._protected, language)

    def judge_text(self, text: str, context: Context | None = None) -> Verdict:
        rules = self._rules
        judged = text[:JUDGED_LENGTH]
        if context is None:
            context = self.text_context(judged)
        verdict = verdict_for(rules.match(judged, context), rules.actions, rules.version)
        return _marked_long(verdict) if len(text) > JUDGED_LENGTH else verdict

    def judge_name(self, name: str) -> Verdict:
        """A display name or login alone, by the `names` rules (the packs' own examples, the
        names bench); unlike `judge`, it never remembers having seen it."""
        rules = self._rules
        return verdict_for(self._names.judge(name), rules.actions, rules.version)

    def judge(self, message: ChatMessage) -> Verdict:
        rules = self._rules
        judged = message.text[:JUDGED_LENGTH]
        language = self._languages.observe(message.channel, judged)
        context = context_for(message, self._protected, language)
        matches = rules.match(judged, context)
        named = self._names.check(message)
        if named:
            matches = (*matches, *named)
        verdict = verdict_for(matches, rules.actions, rules.version)
        return _marked_long(verdict) if len(message.text) > JUDGED_LENGTH else verdict


def _marked_long(verdict: Verdict) -> Verdict:
    return replace(verdict, marks=verdict.marks | {Mark.LONG})
