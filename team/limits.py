"""What one desk may cost the hub: the limits (HubLimits) and the token buckets that apply
them. A desk over a rate is slowed (the hub stops reading it) or refused, never let through."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HubLimits:
    """The defaults hold a team of 200 desks; tests scale them down to reach them quickly."""

    desks: int = 200  # connected at once (the roster frame stays under the frame limit)
    pending_hellos: int = 64  # connections not yet through their hello
    frames_per_s: float = 500.0  # per desk, sustained; past it the hub reads that desk slower
    frames_burst: int = 2_000  # an offline desk's backlog comes through at once
    claims_per_desk: int = 20  # live claims one desk holds
    unclaimed_per_s: float = 5.0  # items marked handled without a claim, per desk
    unclaimed_burst: int = 1_000
    alerts_per_desk: int = 16  # alerts up, reported by one desk
    alerts: int = 64  # alerts up on the team
    rules_per_s: float = 0.5  # a supervisor's rule changes (each one is compiled)
    rules_burst: int = 5
    joins_per_s: float = 0.5  # one desk's connections (a reconnect replaces the last)
    joins_burst: int = 5
    failed_hellos_per_s: float = 1.0  # per address: wrong names or tokens
    failed_hellos_burst: int = 10
    outbox_bytes: int = 4 << 20  # frames waiting for one desk; past it the desk is dropped
    keep_handled: int = 20_000  # handled items kept (memory and file), newest first
    recent_handled: int = 5_000  # of which a joining desk is told


class TokenBucket:
    """`rate` a second, up to `burst` at once."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.at = float(burst), clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def available(self) -> bool:
        """One is there (not taken)."""
        self._refill()
        return self.tokens >= 1

    def allow(self) -> bool:
        """Take one if there is one."""
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def delay(self) -> float:
        """Take one, in debt if need be: the seconds to wait before acting on it."""
        self._refill()
        self.tokens -= 1
        return max(0.0, -self.tokens / self.rate)

    def wait(self) -> float:
        """Seconds until one is available again."""
        self._refill()
        return max(0.0, (1 - self.tokens) / self.rate)


class BucketsByKey:
    """One bucket per key (an address, a desk name), the least recently used forgotten first,
    so a stream of new keys cannot grow it."""

    def __init__(self, rate: float, burst: int, most: int = 10_000) -> None:
        self.rate, self.burst, self.most = rate, burst, most
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __getitem__(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
            if len(self._buckets) > self.most:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(key)
        return bucket
