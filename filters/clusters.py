"""Near-duplicate clusters: the same line posted again and again, however it is disguised.

A message's skeleton is its text folded the way the filters fold it (look-alike letters,
accents, leetspeak, invisible characters), with everything but letters and digits removed and
repeated letters squeezed: most copypasta mutations (case, stretched letters, spaced letters,
zero-width characters, trailing emoji or punctuation) give the same skeleton, found in one
dictionary lookup. What is left (a word changed, a typo) is compared with rapidfuzz, only
against the few recent clusters that start the same way, so the cost stays flat under a flood."""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from vigile.filters.normalize import leet_folded, normalize, squeeze

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# leet characters in a word: s4lope, k1tchen, $lut, salop3 (a lone 2, a final !!! are not)
_LEET_IN_WORD = re.compile(r"[4@3€1!05$7+89|]+(?=[a-z])|(?<=[a-z])[4@3€105$7+89]+(?![a-z0-9])")
SIMILAR = 88  # rapidfuzz ratio at which two skeletons are the same line
FUZZY_FROM = 12  # shorter skeletons must match exactly ("gooal" is not "goal")
_PREFIX = 5
_PER_PREFIX = 24  # candidates compared per message, at most
RECENT_COPIES = 64


@lru_cache(maxsize=16_384)  # chat repeats itself: "gg", emotes, copypasta
def skeleton(text: str) -> str:
    """Letters and digits only, folded; leet read as letters inside words only (`k1tchen` is
    `kitchen`, but `!!!` after a word is punctuation, not `iii`)."""
    folded = normalize(text).text
    if _LEET_IN_WORD.search(folded):
        folded = _LEET_IN_WORD.sub(_read_leet, folded)
    return squeeze(_NOT_ALNUM.sub("", folded))


def _read_leet(found: re.Match[str]) -> str:
    return leet_folded(found.group())


@dataclass(slots=True)
class Cluster:
    id: int
    skeleton: str
    first_seen: float
    last_seen: float
    count: int = 0
    flagged: int = 0
    words: int = 0  # distinct words of the first message: copypasta is sentences, not "GOOOAL"
    authors: set[str] = field(default_factory=set)
    fresh_authors: int = 0  # accounts new to the session: bots and raiders, seldom regulars
    samples: list[str] = field(default_factory=list)
    message_keys: list[str] = field(default_factory=list)  # for acting on the whole group
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_COPIES))

    def copies_since(self, copies: int, since: float) -> bool:
        """At least `copies` copies posted at or after `since` (RECENT_COPIES at most)."""
        copies = min(copies, RECENT_COPIES)
        return len(self.recent) >= copies and self.recent[-copies] >= since

    def add(self, key: str, author: str, text: str, flagged: bool, fresh: bool, now: float) -> None:
        self.count += 1
        self.flagged += flagged
        self.last_seen = now
        self.recent.append(now)
        if len(self.authors) < 1_000 and author not in self.authors:
            self.authors.add(author)
            self.fresh_authors += fresh
        if len(self.samples) < 3 and text not in self.samples:
            self.samples.append(text[:200])
        if len(self.message_keys) < 500:
            self.message_keys.append(key)


class Clusters:
    """Clusters of one scope (a channel, or every channel), forgotten `idle_s` after their
    last message."""

    def __init__(self, idle_s: float = 120.0, most: int = 20_000) -> None:
        self.idle_s, self.most = idle_s, most
        self._by_skeleton: OrderedDict[str, Cluster] = OrderedDict()  # oldest activity first
        self._by_prefix: dict[str, list[str]] = {}
        self._ids = itertools.count(1)
        self._next_forget = 0.0

    def add(
        self, key: str, author: str, text: str, flagged: bool, now: float, fresh: bool = False
    ) -> Cluster:
        shape = skeleton(text)
        cluster = self._by_skeleton.get(shape)
        if cluster is None and len(shape) >= FUZZY_FROM:
            cluster = self._similar(shape)
        if cluster is None:
            words = len(set(text.lower().split()))
            cluster = Cluster(next(self._ids), shape, now, now, words=words)
            self._by_skeleton[shape] = cluster
            self._by_prefix.setdefault(shape[:_PREFIX], []).append(shape)
        else:
            self._by_skeleton.move_to_end(cluster.skeleton)
        cluster.add(key, author, text, flagged, fresh, now)
        if now >= self._next_forget:  # once a second is plenty
            self._next_forget = now + 1.0
            self._forget(now)
        return cluster

    def _similar(self, shape: str) -> Cluster | None:
        candidates = self._by_prefix.get(shape[:_PREFIX])
        if not candidates:
            return None
        found = process.extractOne(
            shape, candidates[-_PER_PREFIX:], scorer=fuzz.ratio, score_cutoff=SIMILAR
        )
        return self._by_skeleton.get(found[0]) if found else None

    def _forget(self, now: float) -> None:
        while self._by_skeleton:
            shape, oldest = next(iter(self._by_skeleton.items()))
            if oldest.last_seen >= now - self.idle_s and len(self._by_skeleton) <= self.most:
                return
            del self._by_skeleton[shape]
            siblings = self._by_prefix.get(shape[:_PREFIX], [])
            if shape in siblings:
                siblings.remove(shape)
            if not siblings:
                self._by_prefix.pop(shape[:_PREFIX], None)

    def __len__(self) -> int:
        return len(self._by_skeleton)
