"""A flagged message on the desk's queue, or a flood of near-duplicates as one row."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from vigile.connectors.model import ChatMessage, Verdict

KEEP_MEMBERS = 1_000  # a flood row acts on its newest messages and on every author once
KEEP_AUTHORS = 5_000  # …its latest authors: a campaign lasting hours must not grow one row


class ItemState(StrEnum):
    NEW = "new"
    SENDING = "sending"  # an action is on its way to the platform (or the team hub)
    CLAIMED = "claimed"  # a team desk holds it
    ESCALATED = "escalated"  # handed to the supervisor: stays, marked
    HANDLED = "handled"  # the last three leave the queue
    DISMISSED = "dismissed"
    APPROVED = "approved"


LEAVING = frozenset({ItemState.HANDLED, ItemState.DISMISSED, ItemState.APPROVED})


@dataclass(slots=True)
class PriorityItem:
    message: ChatMessage
    verdict: Verdict
    seq: int | None
    flagged_at: float
    state: ItemState = ItemState.NEW
    claimed_by: str | None = None  # the team desk that holds it (team hub)
    known: str | None = None  # sanctioned in earlier events: what the archive says of them
    # Twitch's own judgement: AutoMod's reason for holding the message (the row is a held
    # message, not a posted one), with Vigile's verdict on its text; a suspicious user's mark.
    held: str | None = None
    ours: Verdict | None = None
    suspect: str | None = None
    # A near-duplicate flood is one row: its newest messages (the first one included), how
    # many there were in all, and the latest message of each of its most recent authors
    # (oldest first), so acting on it stays bounded however long the flood lasts.
    members: deque[PriorityItem] = field(default_factory=lambda: deque(maxlen=KEEP_MEMBERS))
    member_keys: set[str] = field(default_factory=set)  # of the members kept
    count: int = 0
    by_author: dict[str, PriorityItem] = field(default_factory=dict)
    authors_let_go: int = 0  # authors who left `by_author` to keep it to KEEP_AUTHORS

    @property
    def key(self) -> str:
        """The row: the message, or the cluster it belongs to."""
        m, cluster = self.message, self.verdict.cluster
        return m.key if cluster is None else f"{m.platform}:{m.channel}:cluster:{cluster}"

    @property
    def group(self) -> list[PriorityItem]:
        return list(self.members) or [self]

    def absorb(self, item: PriorityItem) -> bool:
        """Add a message of the same flood to this row; False if it is already in it."""
        if item.message.key in self.member_keys or item.message.key == self.message.key:
            return False
        if not self.members:
            self._keep(self)
        self._keep(item)
        return True

    def _keep(self, item: PriorityItem) -> None:
        if len(self.members) == self.members.maxlen:
            self.member_keys.discard(self.members[0].message.key)
        self.members.append(item)
        self.member_keys.add(item.message.key)
        by_author, author = self.by_author, item.message.author_id
        if by_author.pop(author, None) is None and len(by_author) >= KEEP_AUTHORS:
            del by_author[next(iter(by_author))]  # the author quiet for longest
            self.authors_let_go += 1
        by_author[author] = item
        self.count += 1

    @property
    def order(self) -> tuple[int, float]:
        return (-self.verdict.priority, self.flagged_at)
