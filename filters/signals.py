"""Stream-level signals: what no single message shows. Rate bursts against a rolling baseline,
near-duplicate floods (copypasta), raids (fresh and look-alike accounts arriving together with
hostile messages, or Twitch's raid notice), single authors posting in bursts, and hashtags or
terms rising with flagged messages, offered as a ready-made rule.

Signals run on the stream's own clock (each message's sent time), so a replay at any speed
raises the same alerts at the same moments as the live event did. Every alert is a
PlatformEvent of kind `alert:KIND` with `state` raised (or escalated), then cleared once the
burst has been quiet for CLEAR_AFTER_S. Costs stay flat: per message a few dictionary updates
and a cluster lookup; the window sums run once per stream second."""

from __future__ import annotations

import math
import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rbloom import Bloom

from vigile.connectors.model import ChatMessage, Mark, Match, PlatformEvent, Verdict
from vigile.filters import lexicon
from vigile.filters.clusters import Cluster, Clusters
from vigile.filters.normalize import normalize

CLEAR_AFTER_S = 30.0
BENIGN_CATEGORIES = frozenset({"question"})  # flagged to be answered, not to be stopped
WARM_UP_S = 60.0  # before this, every author is new to the session: nobody counts as fresh
FRESH_FOR_S = 300.0  # an author first seen after warm-up counts as fresh for this long
# "seen before" is a pair of Bloom filters of this many authors each (1.7 MiB apiece), so it
# stays the same size however many accounts an event brings (see _Authors)
SEEN_BEFORE_EACH = 1_000_000
SEEN_BEFORE_ERROR = 0.001  # one fresh account in a thousand taken for a known one
# raid: fresh accounts with flagged messages, in the last RAID_WINDOW_S
RAID_WINDOW_S = 30.0
RAID_AUTHORS = 8  # fresh authors with flagged messages in the window
RAID_FLAGGED_SHARE = 0.35  # share of the window's fresh authors' messages that are flagged
LOOKALIKE_GROUP = 6  # fresh accounts whose names share a stem (h8_squad1, h8_squad2…)
RAIDER_IDLE_S = FRESH_FOR_S  # a raid's account silent this long is no longer one of it
# flood: a burst against the baseline, with hostile content in it
BURST_WINDOW_S = 10
BURST_MIN = 50  # messages in the window, at least
BURST_RATIO = 3.0  # against the baseline's rate
FLOOD_FLAGGED_SHARE = 0.25
BASELINE_S = 300
# copypasta: a sentence (not "GOOOAL", not an emote repeated) posted by several authors
COPY_COUNT = 6  # copies
COPY_AUTHORS = 4  # by this many authors
COPY_DISTINCT_WORDS = 4  # a sentence, not one word repeated
COPY_MIN_CHARS = 20
COPY_BURST_S = 30.0
COPY_SHARE = 0.05  # a harmless line must be a twentieth of all chat to be a flood
# one author posting in bursts
AUTHOR_WINDOW_S = 30.0
AUTHOR_BURST = 15  # messages in the window
# rising hashtags and terms, over the last minute against the minutes before
RISE_WINDOW_S = 60.0
RISE_HISTORY_S = 600.0
RISE_COUNT = 8  # uses in the last minute
RISE_AUTHORS = 5  # by this many authors
RISE_RATIO = 4.0  # against the minutes before
RISE_FLAGGED_SHARE = 0.3  # hashtags: share of the last minute that came with abuse

_HASHTAG = re.compile(r"#(\w{2,60})")
_WORD = re.compile(r"[a-z0-9]{5,}")
_STEM = re.compile(r"^(?P<stem>.*?[a-z].*?)[\d_.\-]*\d{2,}[\d_.\-]*$")


@dataclass(slots=True)
class Alert:
    kind: str  # raid | flood | copypasta | rising-hashtag | rising-term | author-burst
    platform: str
    channel: str
    subject: str
    severity: int
    raised_at: float
    last_seen: float
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.platform, self.channel, self.subject)

    def event(self, state: str, ts: float) -> PlatformEvent:
        data = {
            "state": state,
            "severity": self.severity,
            "subject": self.subject,
            "raised_at": self.raised_at,
            **self.evidence,
        }
        if state == "cleared":
            data["duration_s"] = round(self.last_seen - self.raised_at, 1)
        return PlatformEvent(self.platform, self.channel, f"alert:{self.kind}", ts, data)


class _Authors:
    """What the signals remember of authors, by age, so memory follows the last minutes' chat
    and not the whole event's audience: when each author was first seen, for the authors first
    seen in the last FRESH_FOR_S (they may be fresh); the burst window of those who posted in
    the last AUTHOR_WINDOW_S; for the older ones only that they were seen before.

    "Seen before" lives in two Bloom filters of fixed size: the current one takes authors until
    it holds SEEN_BEFORE_EACH, then becomes the previous one (the one before is dropped) and a
    fresh filter starts. Memory stays flat for the whole event; an author forgotten that way had
    one to two million newer accounts after them. A false "seen before" (0.1 % per filter) only
    means one new account is not counted as fresh. Both tables are in time order, so forgetting pops
    from the front."""

    def __init__(self) -> None:
        self._first_seen: OrderedDict[str, float] = OrderedDict()
        self._seen_before = Bloom(SEEN_BEFORE_EACH, SEEN_BEFORE_ERROR)
        self._seen_earlier: Bloom | None = None  # the previous filter, once the first is full
        self._in_seen_before = 0
        self._windows: OrderedDict[str, list[float]] = OrderedDict()  # key → [start, count]

    def see(self, key: str, now: float) -> tuple[float, int]:
        """When the author was first seen (-inf: long ago), and their messages in the current
        burst window, this one included."""
        first = self._first_seen.get(key)
        if first is None:
            if self.seen_before(key):
                first = -math.inf
            else:
                first = self._first_seen[key] = now
        window = self._windows.get(key)
        if window is None or now - window[0] > AUTHOR_WINDOW_S:
            self._windows.pop(key, None)
            window = self._windows[key] = [now, 0]
        window[1] += 1
        return first, int(window[1])

    def seen_before(self, key: str) -> bool:
        earlier = self._seen_earlier
        return key in self._seen_before or (earlier is not None and key in earlier)

    def _remember(self, key: str) -> None:
        if self._in_seen_before >= SEEN_BEFORE_EACH:
            self._seen_earlier = self._seen_before
            self._seen_before = Bloom(SEEN_BEFORE_EACH, SEEN_BEFORE_ERROR)
            self._in_seen_before = 0
        self._seen_before.add(key)
        self._in_seen_before += 1

    def forget(self, now: float) -> None:
        first_seen, windows = self._first_seen, self._windows
        while first_seen:
            key, first = next(iter(first_seen.items()))
            if now - first < FRESH_FOR_S:
                break
            del first_seen[key]
            self._remember(key)
        while windows:
            key, (start, _) = next(iter(windows.items()))
            if now - start <= AUTHOR_WINDOW_S:
                break
            del windows[key]

    def __len__(self) -> int:
        """Authors remembered, about (a filter knows only how many it was given)."""
        earlier = SEEN_BEFORE_EACH if self._seen_earlier is not None else 0
        return len(self._first_seen) + self._in_seen_before + earlier


class _Window:
    """The messages of the last `span_s`, with their counts kept as they come and go (so the
    per-second checks never rescan them)."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self.items: deque[tuple[float, str, bool]] = deque()
        self.flagged = 0
        self.by_author: dict[str, int] = {}  # flagged messages per author
        self.samples: deque[str] = deque(maxlen=5)  # the latest flagged texts

    def add(self, t: float, author: str, flagged: bool, text: str = "") -> None:
        self.items.append((t, author, flagged))
        if flagged:
            self.flagged += 1
            self.by_author[author] = self.by_author.get(author, 0) + 1
            if text:
                self.samples.append(text[:200])

    def trim(self, now: float) -> None:
        items = self.items
        while items and items[0][0] < now - self.span_s:
            _, author, flagged = items.popleft()
            if flagged:
                self.flagged -= 1
                left = self.by_author[author] - 1
                if left:
                    self.by_author[author] = left
                else:
                    del self.by_author[author]

    @property
    def share(self) -> float:
        return self.flagged / len(self.items) if self.items else 0.0


class _Scope:
    """One channel's recent history."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.seconds: deque[list[int]] = deque()  # [second, messages, flagged]
        self.fresh = _Window(RAID_WINDOW_S)  # accounts new to the session
        self.established = _Window(RAID_WINDOW_S)  # the regulars
        self.touched_stems: set[str] = set()
        self.touched_tags: set[str] = set()
        self.touched_terms: set[str] = set()
        self.stems_swept_at = self.words_swept_at = start
        self.lookalikes: dict[str, dict[str, float]] = {}  # stem → author → last seen
        self.tags: dict[str, deque[tuple[float, str, bool]]] = {}
        self.terms: dict[str, deque[tuple[float, str, bool]]] = {}
        # a raid's accounts, by when each last posted as one of it (oldest first)
        self.raiders: OrderedDict[str, float] = OrderedDict()
        self.hostile_stems: set[str | None] = set()  # look-alike groups that abuse
        self.raid_notice: dict[str, Any] | None = None
        self.checked_second = 0
        self.clusters = Clusters()
        self.chat_recently = 0  # messages in the last COPY_BURST_S, as of the last check

    def count(self, second: int, flagged: bool) -> None:
        if self.seconds and self.seconds[-1][0] == second:
            self.seconds[-1][1] += 1
            self.seconds[-1][2] += flagged
        else:
            self.seconds.append([second, 1, int(flagged)])
            while self.seconds and self.seconds[0][0] <= second - BASELINE_S - BURST_WINDOW_S:
                self.seconds.popleft()

    def mark_raider(self, author: str, now: float) -> None:
        self.raiders[author] = now
        self.raiders.move_to_end(author)

    def forget_raiders(self, now: float) -> None:
        """A long raid keeps its alert up for hours: its accounts gone quiet are let go."""
        raiders = self.raiders
        while raiders:
            author, last = next(iter(raiders.items()))
            if now - last < RAIDER_IDLE_S:
                break
            del raiders[author]


class Signals:
    """Stream-level alerts over every channel of a session, fed one message at a time.

    `observe` takes each message with its verdict and returns the verdict (raised when the
    message is part of a raid or a copypasta flood) with the alert events it set off;
    `observe_event` takes platform notices (Twitch raids); `tick` lets alerts clear while the
    stream is quiet and `end` clears what is still up. `alerts` holds the alerts up now, keyed
    by (kind, platform, channel, subject). Time is the stream's (messages' sent times), never
    the wall clock, so a replay raises the same alerts at any speed.
    """

    def __init__(self) -> None:
        self.alerts: dict[tuple[str, str, str, str], Alert] = {}
        self._scopes: dict[tuple[str, str], _Scope] = {}
        self._authors = _Authors()
        self._clock = 0.0

    # -- per message ----------------------------------------------------------------------------

    def observe(self, m: ChatMessage, verdict: Verdict) -> tuple[Verdict, list[PlatformEvent]]:
        """The message's verdict, raised when it belongs to a raid or a copypasta flood, and
        the alert events it set off."""
        now = self._clock = max(self._clock, m.sent_at)
        events: list[PlatformEvent] = []
        scope = self._scopes.get((m.platform, m.channel))
        if scope is None:
            scope = self._scopes[(m.platform, m.channel)] = _Scope(now)
        abusive = hostile(verdict)
        author_key = f"{m.platform}:{m.author_id}"
        first_seen, burst = self._authors.see(author_key, now)
        fresh = m.first_message or (
            first_seen >= scope.start + WARM_UP_S and now - first_seen < FRESH_FOR_S
        )
        # Only sentences can be copypasta ("gg", "LUL" and emotes, most of chat, skip the work),
        # and only new accounts' or abusive ones are worth a moderator's time: a meme the
        # regulars repeat is theirs.
        cluster = None
        copypasta = False
        if (
            (fresh or abusive)
            and len(m.text) >= COPY_MIN_CHARS
            and m.text.count(" ") >= COPY_DISTINCT_WORDS - 1
        ):
            cluster = scope.clusters.add(m.key, author_key, m.text, abusive, now, fresh)
            if cluster.count >= COPY_COUNT:
                copypasta = self._copypasta(m, scope, cluster, now, events)
        flagged = abusive or copypasta  # a flood line counts as hostile from here on
        scope.count(int(now), flagged)
        if fresh:
            scope.fresh.add(now, author_key, flagged, m.text)
            stem = _stem(m.author_name)
            if stem:
                scope.lookalikes.setdefault(stem, {})[author_key] = now
                scope.touched_stems.add(stem)
        else:
            scope.established.add(now, author_key, flagged)
        if abusive or "#" in m.text:
            self._hashtags_and_terms(scope, m, verdict, abusive, author_key, now)
        if burst >= AUTHOR_BURST:
            events += self._author_burst(m, burst, flagged, now)
        if int(now) != scope.checked_second:  # window sums once per stream second
            scope.checked_second = second = int(now)
            scope.chat_recently = sum(c for t, c, _ in scope.seconds if t > second - COPY_BURST_S)
            events += self._flood(m, scope, now)
            events += self._raid(m, scope, now)
            events += self._rising(m, scope, now)
            events += self.tick_to(now)
            self._authors.forget(now)
        raid = self._raid_member(m.platform, m.channel, scope, author_key, fresh, flagged, m)
        if raid or copypasta:
            verdict = _marked(m, verdict, raid, copypasta, cluster)
        return verdict, events

    def observe_event(self, event: PlatformEvent) -> list[PlatformEvent]:
        """Twitch's raid notice: an alert at once (mild until the raiders misbehave)."""
        if event.kind != "raid":
            return []
        # a replayed event carries its first time apart: the stream's clock is that one
        now = self._clock = max(self._clock, float(event.data.get("original_ts", event.ts)))
        scope = self._scopes.setdefault((event.platform, event.channel), _Scope(now))
        scope.raid_notice = {
            "raider": event.data.get("raider", ""),
            "viewers": event.data.get("viewers", 0),
            "at": now,
        }
        viewers = int(event.data.get("viewers", 0) or 0)
        evidence = {"source": "notice", **scope.raid_notice}
        return self._raise(
            "raid",
            event.platform,
            event.channel,
            "channel",
            3 if viewers >= 1_000 else 2,
            evidence,
            now,
        )

    def tick(self, quiet_s: float) -> list[PlatformEvent]:
        """No message for `quiet_s` (wall time) since the last one: alerts can clear."""
        return self.tick_to(self._clock + quiet_s)

    def end(self) -> list[PlatformEvent]:
        """The stream is over: every alert still up is cleared, at the stream's last moment."""
        return self.tick_to(self._clock + CLEAR_AFTER_S, at=self._clock)

    def tick_to(self, now: float, at: float | None = None) -> list[PlatformEvent]:
        events = []
        for key, alert in list(self.alerts.items()):
            if now - alert.last_seen >= CLEAR_AFTER_S:
                del self.alerts[key]
                events.append(alert.event("cleared", now if at is None else at))
                scope = self._scopes.get((alert.platform, alert.channel))
                if alert.kind == "raid" and scope is not None:
                    scope.raiders.clear()  # the raid is over: a new one names its own
        return events

    # -- the signals ---------------------------------------------------------------------------

    def _author_burst(
        self, m: ChatMessage, count: int, flagged: bool, now: float
    ) -> list[PlatformEvent]:
        scope = self._scopes[(m.platform, m.channel)]
        if f"{m.platform}:{m.author_id}" in scope.raiders:
            return []  # one of a raid: the raid alert says it already
        evidence = {
            "author": m.author_name,
            "author_id": m.author_id,
            "messages": count,
            "window_s": AUTHOR_WINDOW_S,
            "sample": m.text[:200],
        }
        return self._raise(
            "author-burst", m.platform, m.channel, m.author_id, 3 if flagged else 2, evidence, now
        )

    def _copypasta(
        self,
        m: ChatMessage,
        scope: _Scope,
        cluster: Cluster,
        now: float,
        events: list[PlatformEvent],
    ) -> bool:
        if not (
            cluster.count >= COPY_COUNT
            and len(cluster.authors) >= COPY_AUTHORS
            and cluster.words >= COPY_DISTINCT_WORDS
            and len(cluster.skeleton) >= COPY_MIN_CHARS
        ):
            return False
        key = ("copypasta", m.platform, m.channel, str(cluster.id))
        alert = self.alerts.get(key)
        if alert is not None:  # the flood goes on: keep it up, refresh its figures now and then
            alert.last_seen = now
            if now - alert.evidence.get("updated", 0) >= 1:
                alert.evidence |= {
                    "messages": cluster.count,
                    "authors": len(cluster.authors),
                    "flagged": cluster.flagged,
                    "updated": now,
                }
            return True
        hostile = cluster.flagged / cluster.count >= 0.5
        since = now - COPY_BURST_S
        if not cluster.copies_since(COPY_COUNT, since):
            return False
        if not hostile:
            # A harmless line is a flood when it is new and suddenly everywhere (bots, the
            # relays of a campaign); lines the chat has been repeating all along stay chat.
            new = (
                cluster.first_seen >= scope.start + WARM_UP_S
                and now - cluster.first_seen <= 2 * COPY_BURST_S
            )
            wanted = max(3 * COPY_COUNT, math.ceil(COPY_SHARE * scope.chat_recently))
            if not (new and cluster.copies_since(wanted, since)):
                return False
        evidence = {
            "cluster": cluster.id,
            "messages": cluster.count,
            "authors": len(cluster.authors),
            "samples": cluster.samples,
            "first_seen": cluster.first_seen,
            "flagged": cluster.flagged,
            "fresh_authors": cluster.fresh_authors,
        }
        events += self._raise(
            "copypasta", m.platform, m.channel, str(cluster.id), 4 if hostile else 2, evidence, now
        )
        return True

    def _flood(self, m: ChatMessage, scope: _Scope, now: float) -> list[PlatformEvent]:
        second = int(now)
        recent = [s for s in scope.seconds if second - BURST_WINDOW_S < s[0] <= second]
        older = [s for s in scope.seconds if s[0] <= second - BURST_WINDOW_S]
        if not older or second - older[0][0] < 60:
            return []  # no baseline yet
        messages, flagged = sum(s[1] for s in recent), sum(s[2] for s in recent)
        span = max(1, second - BURST_WINDOW_S - older[0][0] + 1)
        baseline = sum(s[1] for s in older) / span * BURST_WINDOW_S
        if messages < max(BURST_MIN, BURST_RATIO * baseline):
            return []
        share = flagged / messages
        if share < FLOOD_FLAGGED_SHARE:
            return []  # a crowd celebrating is a burst, not a flood
        evidence = {
            "messages_10s": messages,
            "baseline_10s": round(baseline, 1),
            "flagged_share": round(share, 2),
        }
        return self._raise(
            "flood", m.platform, m.channel, "channel", 4 if share >= 0.5 else 3, evidence, now
        )

    def _raid(self, m: ChatMessage, scope: _Scope, now: float) -> list[PlatformEvent]:
        scope.fresh.trim(now)
        scope.established.trim(now)
        flagged_authors, share = scope.fresh.by_author, scope.fresh.share
        # An angry crowd is angry all through; a raid is newcomers behaving unlike the regulars.
        regulars_share = scope.established.share
        unlike_regulars = share >= 2 * regulars_share + 0.05
        groups = self._hostile_lookalikes(scope, now)
        if not (
            (
                len(flagged_authors) >= RAID_AUTHORS
                and share >= RAID_FLAGGED_SHARE
                and unlike_regulars
            )
            or groups
        ):
            return []
        for author in flagged_authors:
            scope.mark_raider(author, now)
        for members in groups.values():
            for author in members:
                scope.mark_raider(author, now)
        scope.forget_raiders(now)
        evidence = {
            "source": "behaviour",
            "fresh_authors": len({a for _, a, _ in scope.fresh.items}),
            "flagged_authors": len(flagged_authors),
            "flagged_share": round(share, 2),
            "regulars_flagged_share": round(regulars_share, 2),
            "authors": sorted(flagged_authors)[:20],
            "samples": list(scope.fresh.samples),
            "lookalike_stems": {s: len(g) for s, g in groups.items()},
        }
        if scope.raid_notice:
            evidence["notice"] = scope.raid_notice
        severity = 5 if len(flagged_authors) >= 30 else 4
        return self._raise("raid", m.platform, m.channel, "channel", severity, evidence, now)

    def _hostile_lookalikes(self, scope: _Scope, now: float) -> dict[str, dict[str, float]]:
        """Accounts made in a batch (kitchen_4821, kitchen_4822…) that abuse together. Plenty
        of honest accounts share a stem (alex1234): a group counts once three of it abuse.
        Only the stems seen since the last check are looked at, and a sweep a minute forgets
        the stale ones."""
        sweep = now - scope.stems_swept_at >= 60
        stems = list(scope.lookalikes) if sweep else scope.touched_stems
        scope.touched_stems = set()
        if sweep:
            scope.stems_swept_at = now
        for stem in stems:
            members = scope.lookalikes.get(stem)
            if members is None:
                continue
            for author in [a for a, seen in members.items() if seen < now - 120]:
                del members[author]
            flagged = sum(1 for a in members if a in scope.fresh.by_author)
            if len(members) >= LOOKALIKE_GROUP and flagged >= 3:
                scope.hostile_stems.add(stem)
            else:
                scope.hostile_stems.discard(stem)
            if not members:
                del scope.lookalikes[stem]
        return {
            stem: scope.lookalikes[stem] for stem in scope.hostile_stems if stem in scope.lookalikes
        }

    def _raid_member(
        self,
        platform: str,
        channel: str,
        scope: _Scope,
        author: str,
        fresh: bool,
        flagged: bool,
        m: ChatMessage,
    ) -> bool:
        if author in scope.raiders:
            scope.mark_raider(author, self._clock)
            return True
        raid = self.alerts.get(("raid", platform, channel, "channel"))
        if raid is None or raid.evidence.get("source") != "behaviour" or not fresh:
            return False
        if flagged or _stem(m.author_name) in scope.hostile_stems:
            scope.mark_raider(author, self._clock)
            return True
        return False

    def _hashtags_and_terms(
        self,
        scope: _Scope,
        m: ChatMessage,
        verdict: Verdict,
        abusive: bool,
        author: str,
        now: float,
    ) -> None:
        if "#" in m.text:
            for tag in {t.lower() for t in _HASHTAG.findall(m.text)}:
                scope.tags.setdefault(tag, deque(maxlen=5_000)).append((now, author, abusive))
                scope.touched_tags.add(tag)
        if abusive:  # terms are only worth a rule when they come with abuse
            for word in _new_words(m.text, tuple(x.span for x in verdict.matches)):
                scope.terms.setdefault(word, deque(maxlen=5_000)).append((now, author, True))
                scope.touched_terms.add(word)

    def _rising(self, m: ChatMessage, scope: _Scope, now: float) -> list[PlatformEvent]:
        """Hashtags and terms seen since the last check, against their own past; a sweep a
        minute forgets the ones gone quiet."""
        events = []
        sweep = now - scope.words_swept_at >= 60
        if sweep:
            scope.words_swept_at = now
        tables = (
            (scope.tags, scope.touched_tags, "rising-hashtag"),
            (scope.terms, scope.touched_terms, "rising-term"),
        )
        for table, touched, kind in tables:
            for name in list(table) if sweep else touched:
                hits = table.get(name)
                if hits is None:
                    continue
                while hits and hits[0][0] < now - RISE_HISTORY_S:
                    hits.popleft()
                if not hits:
                    del table[name]
                    continue
                recent = _since(hits, now - RISE_WINDOW_S)
                authors = {a for _, a, _ in recent}
                if not _rising_now(len(recent), len(hits) - len(recent), len(authors)):
                    continue
                share = sum(f for _, _, f in recent) / len(recent)
                if share < RISE_FLAGGED_SHARE:
                    continue
                evidence = _rise_evidence(kind, name, recent, authors, share)
                severity = 3 if kind == "rising-hashtag" else 2
                events += self._raise(
                    kind, m.platform, m.channel, _shown(kind, name), severity, evidence, now
                )
            touched.clear()
        return events

    # -- alert lifecycle --------------------------------------------------------------------------

    def _raise(
        self,
        kind: str,
        platform: str,
        channel: str,
        subject: str,
        severity: int,
        evidence: dict[str, Any],
        now: float,
    ) -> list[PlatformEvent]:
        key = (kind, platform, channel, subject)
        alert = self.alerts.get(key)
        if alert is None:
            alert = Alert(kind, platform, channel, subject, severity, now, now, evidence)
            self.alerts[key] = alert
            return [alert.event("raised", now)]
        alert.last_seen = now
        alert.evidence = {**alert.evidence, **evidence}
        if severity > alert.severity:
            alert.severity = severity
            return [alert.event("escalated", now)]
        return []


def _since(hits: deque[tuple[float, str, bool]], start: float) -> list[tuple[float, str, bool]]:
    """The hits at or after `start`, read from the newest end."""
    recent = []
    for hit in reversed(hits):
        if hit[0] < start:
            break
        recent.append(hit)
    return recent


def _shown(kind: str, name: str) -> str:
    return f"#{name}" if kind == "rising-hashtag" else name


def _rise_evidence(
    kind: str, name: str, recent: list, authors: set[str], share: float
) -> dict[str, Any]:
    if kind == "rising-hashtag":
        rule = {
            "id": f"hijacked-{name}",
            "hashtags": [f"#{name}"],
            "category": "harassment",
            "severity": 3,
            "action": "review",
        }
        return {
            "hashtag": f"#{name}",
            "messages_60s": len(recent),
            "authors": len(authors),
            "flagged_share": round(share, 2),
            "suggested_rule": rule,
        }
    rule = {
        "id": f"rising-{name}",
        "terms": [name],
        "category": "harassment",
        "severity": 3,
        "action": "review",
    }
    return {
        "term": name,
        "flagged_messages_60s": len(recent),
        "authors": len(authors),
        "suggested_rule": rule,
    }


@lru_cache(maxsize=8_192)  # raid lines come back again and again
def _new_words(text: str, matched_spans: tuple[tuple[int, int], ...]) -> frozenset[str]:
    """Words of an abusive message that no rule matched and no dictionary knows."""
    matched = {normalize(text[s:e]).text for s, e in matched_spans}
    words = set(_WORD.findall(normalize(_HASHTAG.sub(" ", text)).text)) - matched
    return frozenset(w for w in words if not lexicon.is_real_word(w))


def hostile(verdict: Verdict) -> bool:
    """Flagged for abuse or spam: a question a crowd keeps asking is not an attack. (Triage's
    categories are those of its matches.)"""
    return bool(verdict.matches) and not verdict.categories <= BENIGN_CATEGORIES


def _rising_now(recent: int, before: int, authors: int) -> bool:
    """`recent` hits in the last minute against `before` in the nine before it."""
    minutes_before = (RISE_HISTORY_S - RISE_WINDOW_S) / RISE_WINDOW_S
    baseline = before / minutes_before
    return (
        recent >= RISE_COUNT and authors >= RISE_AUTHORS and recent >= RISE_RATIO * (baseline + 1)
    )


@lru_cache(maxsize=65_536)
def _stem(name: str) -> str | None:
    """`kitchen_4821` → `kitchen`: the shared part of accounts made in a batch."""
    found = _STEM.match(name.lower())
    if found is None:
        return None
    stem = found["stem"].rstrip("_.-")
    return stem if len(stem) >= 3 else None


_SIGNAL_MATCH = "signal:copypasta"


def _marked(
    m: ChatMessage, verdict: Verdict, raid: bool, copypasta: bool, cluster: Cluster | None
) -> Verdict:
    categories, marks, cluster_id = verdict.categories, set(verdict.marks), verdict.cluster
    matches = verdict.matches
    priority = verdict.priority
    if raid:
        marks.add(Mark.RAID)
        priority += 15
    if copypasta and cluster is not None:
        marks.add(Mark.COPYPASTA)
        cluster_id = cluster.id
        if not matches:  # the flood itself is what a moderator must see
            matches = (Match(_SIGNAL_MATCH, "spam", 2, (0, len(m.text)), "near-duplicate"),)
            categories = categories | {"spam"}
            priority = max(priority, 25)
        priority += 5
    action = verdict.action if verdict.action != "none" else "review"
    return Verdict(
        matches,
        categories=categories,
        marks=frozenset(marks),
        cluster=cluster_id,
        priority=min(100, priority),
        action=action,
        rules_version=verdict.rules_version,
    )
