"""The values every part of Vigile exchanges: chat messages, platform events, actions, verdicts."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Timestamps are UTC unix seconds (float) everywhere: cheap to create at 5,000 msg/s,
# unambiguous in SQLite, and turned into dates only for display and reports.


def utc_now() -> float:
    return time.time()


class Role(StrEnum):
    BROADCASTER = "broadcaster"
    MODERATOR = "moderator"
    VIP = "vip"
    SUBSCRIBER = "subscriber"  # Twitch subscriber, YouTube member
    VERIFIED = "verified"


class MessageKind(StrEnum):
    CHAT = "chat"
    ACTION = "action"  # Twitch /me
    PAID = "paid"  # bits, super chat, super sticker
    SYSTEM = "system"
    NOTICE = "notice"  # a platform notice with a user (resub, gift, raid, announcement)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    platform: str
    channel: str
    id: str  # the platform's message id
    author_id: str
    author_name: str
    text: str
    sent_at: float
    received_at: float = field(default_factory=utc_now)
    roles: frozenset[Role] = frozenset()
    kind: MessageKind = MessageKind.CHAT
    amount: float | None = None  # paid messages: in `currency` (bits count as "BITS")
    currency: str | None = None
    reply_to: str | None = None  # id of the parent message
    first_message: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        """The same message on every desk: platform message ids are unique per platform."""
        return f"{self.platform}:{self.id}"

    @property
    def shared_from(self) -> str | None:
        """Twitch shared chat: the room (channel id) the message was sent in, when it is not
        this channel's; None for a message sent here. Kept in `raw`, so a replay has it too."""
        origin = self.raw.get("shared_from")
        return str(origin) if origin else None

    @property
    def notice(self) -> str | None:
        """For a NOTICE message, the platform's kind of notice (`resub`, `raid`…)."""
        return str(self.raw.get("notice") or "") or None if self.kind == "notice" else None


@dataclass(frozen=True, slots=True)
class PlatformEvent:
    """Anything in a stream that is not a chat message: raids, deletions, bans, gaps, bad lines."""

    platform: str
    channel: str
    kind: str  # e.g. "raid", "clearmsg", "ban", "reconnect", "malformed", "alert:raid"
    ts: float = field(default_factory=utc_now)
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


class ActionKind(StrEnum):
    BAN = "ban"
    TIMEOUT = "timeout"
    DELETE = "delete"
    WARN = "warn"
    UNBAN = "unban"
    DISMISS = "dismiss"
    ESCALATE = "escalate"
    APPROVE = "approve"
    CLEAR = "clear"
    CHAT_MODE = "chat_mode"  # slow, followers-only, emote-only, subscribers-only
    AUTOMOD_ALLOW = "automod_allow"  # a message AutoMod held, let into chat
    AUTOMOD_DENY = "automod_deny"
    SHIELD_MODE = "shield_mode"  # Twitch's Shield Mode turned on or off (`detail` says which)
    UNBAN_APPROVE = "unban_approve"  # an unban request answered
    UNBAN_DENY = "unban_deny"


class ActionResult(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SIMULATED = "simulated"  # replay, demo and rehearsal never touch a platform


@dataclass(frozen=True, slots=True)
class ModAction:
    kind: ActionKind
    platform: str
    channel: str
    moderator: str
    target_author_id: str | None = None
    target_message_id: str | None = None
    duration_s: int | None = None  # timeouts
    reason: str = ""
    requested_at: float = field(default_factory=utc_now)
    result: ActionResult = ActionResult.SIMULATED
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    rule_id: str
    category: str
    severity: int  # 1..5
    span: tuple[int, int]  # [start, end) in the original text
    how: str  # "exact", "hashtag", "phrase", later "leet", "fuzzy:1"…
    term: str = ""  # the rule term that matched, normalised


class Mark(StrEnum):
    """What the stream signals saw in a message, beside what the rules matched."""

    RAID = "raid"  # sent during a raid, by one of its accounts
    COPYPASTA = "copypasta"  # one of a flood of near-duplicates (its `cluster`)
    NAME = "name"  # the author's name (or a name the notice shows) matched a `names` rule
    LONG = "long"  # longer than any chat allows: judged on its first JUDGED_LENGTH characters


# Twitch allows 500 characters and YouTube 200; a longer line is judged on this prefix, so that
# no line costs more than a bounded time (and a flood of huge lines cannot stall triage).
JUDGED_LENGTH = 2_000


_CLUSTER_TAG = "cluster:"


@dataclass(frozen=True, slots=True)
class Verdict:
    matches: tuple[Match, ...] = ()
    categories: frozenset[str] = frozenset()  # of the rules that matched
    priority: int = 0  # 0..100
    action: str = "none"  # review | hide | timeout:SECONDS | ban | reply | none
    rules_version: int = 0
    marks: frozenset[Mark] = frozenset()
    cluster: int | None = None  # the near-duplicate flood the message belongs to

    @property
    def flagged(self) -> bool:
        return bool(self.matches)

    @property
    def labels(self) -> list[str]:
        """Categories and marks, sorted: what a moderator reads on a row or in a reason."""
        return sorted({*self.categories, *(str(mark) for mark in self.marks)})

    @property
    def tags(self) -> list[str]:
        """The stored form, sorted: labels and `cluster:N` in one list (session files and
        `vigile check` carry it)."""
        if self.cluster is None:
            return self.labels
        return sorted([*self.labels, f"{_CLUSTER_TAG}{self.cluster}"])


CLEAN = Verdict()
