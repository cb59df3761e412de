"""What an import read: counts a user checks before rehearsing on the session."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from vigile.connectors.safe_text import inert
from vigile.replay.importers.items import utc

SAMPLES = 5  # malformed lines quoted in the report; all are counted and kept as events


@dataclass(slots=True)
class ImportReport:
    files: dict[str, str] = field(default_factory=dict)  # file name → format
    messages: int = 0
    events: Counter[str] = field(default_factory=Counter)  # by kind, malformed ones aside
    malformed: int = 0
    malformed_samples: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # by reason
    duplicates: int = 0  # messages whose id came before (overlapping archives)
    authors: int = 0
    first: float | None = None
    last: float | None = None

    def saw(self, ts: float) -> None:
        if self.first is None or ts < self.first:
            self.first = ts
        if self.last is None or ts > self.last:
            self.last = ts

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "messages": self.messages,
            "events": dict(self.events),
            "malformed": self.malformed,
            "malformed_samples": self.malformed_samples,
            "skipped": dict(self.skipped),
            "duplicates": self.duplicates,
            "authors": self.authors,
            "first": self.first,
            "last": self.last,
        }

    def lines(self) -> list[str]:
        """The report as a user reads it after `vigile import`."""
        span = "no messages"
        if self.first is not None and self.last is not None:
            span = f"{utc(self.first)} → {utc(self.last)} ({_duration(self.last - self.first)})"
        events = ", ".join(f"{kind} {n:,}" for kind, n in self.events.most_common()) or "none"
        out = [
            f"{self.messages:,} messages from {self.authors:,} authors, {span}",
            f"events: {events}",
        ]
        skipped = sum(self.skipped.values())
        if skipped:
            why = ", ".join(f"{reason} {n:,}" for reason, n in self.skipped.most_common())
            out.append(f"skipped {skipped:,} line{'s' if skipped > 1 else ''}: {why}")
        if self.duplicates:
            out.append(f"left out {self.duplicates:,} messages already imported (same id)")
        if self.malformed:
            out.append(f"unreadable: {self.malformed:,} (kept as `malformed` events), first ones:")
            out += [  # an error quotes the archive, and the archive is hostile: made inert
                inert(f"  {sample['file']} line {sample['line']}: {sample['error']}")
                for sample in self.malformed_samples
            ]
        return out


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return (
        f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"
    )
