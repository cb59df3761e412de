"""An alert as the desk reads it: an alert event's evidence as typed fields, and its phrase."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vigile.connectors.model import PlatformEvent
from vigile.connectors.safe_text import inert

ALERT_PREFIX = "alert:"


def _int(value: object) -> int | None:
    """A count, as the evidence holds it (an int, or digits from a platform's notice)."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class AlertNotice:
    """The evidence stays a mapping in the recording (each kind has its own); the desk reads
    these fields of it, and nothing else."""

    kind: str  # raid | flood | copypasta | rising-hashtag | rising-term | author-burst
    platform: str
    channel: str
    subject: str
    state: str  # raised | escalated | up | cleared
    severity: int = 1
    source: str | None = None  # raids: "notice" (Twitch said so) or "behaviour" (we saw it)
    raider: str | None = None
    viewers: int | None = None
    flagged_authors: int | None = None
    messages: int | None = None  # copypasta, author bursts
    authors: int | None = None
    messages_10s: int | None = None  # floods
    hashtag: str | None = None  # rising hashtags, with their #
    term: str | None = None  # rising terms
    author: str | None = None  # author bursts: the display name
    suggested_rule: Mapping[str, Any] | None = None  # rising hashtags and terms: a rule, ready

    @classmethod
    def from_event(cls, event: PlatformEvent) -> AlertNotice:
        """From an `alert:KIND` event, as the signals raise it or a recording keeps it."""
        d = event.data
        rule = d.get("suggested_rule")
        return cls(
            kind=event.kind.removeprefix(ALERT_PREFIX),
            platform=event.platform,
            channel=event.channel,
            subject=str(d.get("subject")),
            state=str(d.get("state", "up")),
            severity=_int(d.get("severity")) or 1,
            source=_str(d.get("source")),
            raider=_str(d.get("raider")),
            viewers=_int(d.get("viewers")),
            flagged_authors=_int(d.get("flagged_authors")),
            messages=_int(d.get("messages")),
            authors=_int(d.get("authors")),
            messages_10s=_int(d.get("messages_10s")),
            hashtag=_str(d.get("hashtag")),
            term=_str(d.get("term")),
            author=_str(d.get("author")),
            suggested_rule=rule if isinstance(rule, Mapping) else None,
        )

    @property
    def team_key(self) -> str:
        """The same alert on every desk of a team."""
        return f"{ALERT_PREFIX}{self.kind}:{self.platform}:{self.channel}:{self.subject}"

    def describe(self) -> str:
        """One short phrase, for the header and the team (chat text in it made inert)."""
        kind = self.kind
        where = f"{self.platform[:2]}:{self.channel}"
        if kind == "raid":
            size = self.flagged_authors or self.viewers or "?"
            who = f" from {self.raider}" if self.raider else ""
            detail = f"{size} accounts" if self.source == "behaviour" else f"{size} viewers"
            return inert(f"RAID{who} {where} · {detail}")
        if kind == "copypasta":
            return inert(f"COPYPASTA {where} ×{self.messages} by {self.authors}")
        if kind == "flood":
            return f"FLOOD {inert(where)} {self.messages_10s} msg/10 s"
        if kind in ("rising-hashtag", "rising-term"):
            return inert(f"RISING {self.hashtag or self.term} {where}")
        if kind == "author-burst":
            return inert(f"BURST {self.author} ×{self.messages} {where}")
        return inert(f"{kind.upper()} {where}")


def is_alert(event: PlatformEvent) -> bool:
    return event.kind.startswith(ALERT_PREFIX)
