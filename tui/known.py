"""Known offenders on sight: the archive's watchlist applied to the messages a desk receives."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from vigile.connectors.model import ChatMessage, Verdict
from vigile.tui.flagged import PriorityItem

if TYPE_CHECKING:
    from vigile.archive.watchlist import Watchlist

TAG = "known offender"
BOOST = 20  # a known offender's flagged message outranks the same message from a stranger
FIRST_SIGHT_PRIORITY = 40  # their first message, flagged or not: above review-only noise


class KnownOffenders:
    """Marks an account sanctioned in earlier events on its first message here, and ranks
    its flagged messages higher. The watchlist is swapped whole when the archive refreshes."""

    def __init__(self, watchlist: Watchlist | None = None) -> None:
        self.watchlist = watchlist
        self._sighted: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self.watchlist) if self.watchlist is not None else 0

    def note(self, message: ChatMessage) -> str | None:
        """ "banned 2× in 3 events, last on 2026-11-02", or None for an account not on the list."""
        if self.watchlist is None:
            return None
        known = self.watchlist.get(message.platform, message.author_id)
        return known.note if known is not None else None

    def queue_item(
        self, message: ChatMessage, verdict: Verdict, seq: int | None, now: float
    ) -> PriorityItem | None:
        """The row a message puts on the priority queue, if any: a flagged message, or a
        known offender's first message here (flagged or not)."""
        note = self.note(message)
        if note is None:
            return PriorityItem(message, verdict, seq, now) if verdict.flagged else None
        account = (message.platform, message.author_id)
        first = account not in self._sighted
        self._sighted.add(account)
        if verdict.flagged:  # its own categories stay in view; the ⚑ and the note say the rest
            ranked = replace(verdict, priority=min(100, verdict.priority + BOOST))
            return PriorityItem(message, ranked, seq, now, known=note)
        if not first:
            return None
        marked = Verdict(
            categories=frozenset({TAG}),
            priority=FIRST_SIGHT_PRIORITY,
            action="review",
            rules_version=verdict.rules_version,
        )
        return PriorityItem(message, marked, seq, now, known=note)
