"""Every figure of a bilan, read from one session file: plain data, no wording, no charts.

Times are UTC unix seconds. The chat's own clock (`sent_at`, alert times) places things on the
event's timeline; response times compare our clocks (`received_at`, an action's request time),
so a replay at any speed measures the team, not the recording.
"""

from __future__ import annotations

import bisect
import re
import sqlite3
import statistics
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vigile.replay import bilan_twitch, reads
from vigile.replay.loadtest import percentile
from vigile.replay.reads import ActionRow, SessionFile, SessionRow
from vigile.replay.scoring import score_run
from vigile.replay.verify import verify_session

FORMAT = "vigile-bilan/1"
DEFAULT_TARGET_S = 300  # a flagged message handled within 5 minutes (the desk's warning colour)
# Actions that take care of a flagged message; `approve` and `dismiss` do too (a human looked).
HANDLING = frozenset({"ban", "timeout", "delete", "warn", "dismiss", "approve", "escalate"})
ENFORCING = frozenset({"ban", "timeout", "delete", "warn"})  # what a false action would be
AUTHOR_WIDE = frozenset({"ban", "timeout"})
DONE = frozenset({"ok", "simulated"})
TOP = 10
_PACK_HEADER = re.compile(r"^# pack: .*$", re.MULTILINE)  # how a rules version joins its packs


class BilanError(Exception):
    """The file is not a session Vigile can report on."""


@dataclass(frozen=True, slots=True)
class Flagged:
    platform: str
    msg_id: str
    author_id: str
    author_name: str
    received_at: float
    deleted: bool
    categories: tuple[str, ...]
    severity: int
    rules_version: int
    rule_ids: frozenset[str]


def collect(path: Path, target_s: float = DEFAULT_TARGET_S, labels: Path | None = None) -> dict:
    """The bilan's figures as one JSON-ready dict. `labels`: the labelled scenario this session
    rehearsed, when the session does not name it (or it has moved)."""
    db, sessions = _open(path)
    try:
        flagged = _flagged(db)
        actions = db.all(reads.ACTIONS)
        outside, outside_counts = bilan_twitch.outside_actions(db, actions)
        # a flagged message answered on Twitch by another moderator was answered all the same
        answers = sorted([*actions, *outside], key=lambda a: a.ts)
        handled_at = _first_action(flagged, answers, HANDLING)
        figures = {
            "format": FORMAT,
            "source": path.name,
            "event": _event(db, sessions),
            "series": _series(db),
            "moderation": _moderation(flagged, actions, handled_at, target_s),
            "threats": _threats(db, flagged, actions),
            "filters": _filters(db, flagged),
            "evidence": _evidence(path, len(flagged)),
        }
        figures["moderation"]["outside_vigile"] = outside_counts
        figures["threats"]["lockdowns"] = bilan_twitch.lockdowns(db, figures["threats"]["alerts"])
        _answered(figures["threats"]["hijacked_hashtags"], figures["filters"]["versions"])
        source = _labelled_source(db, path, sessions, labels)
    finally:
        db.close()
    figures["rehearsal"] = _rehearsal(path, source, actions) if source else None
    return figures


# -- reading ------------------------------------------------------------------------------------


def _open(path: Path) -> tuple[SessionFile, list[SessionRow]]:
    """The session file and its sessions, or a BilanError that says the file is not one."""
    db = None
    try:
        db = SessionFile(path)
        return db, db.all(reads.SESSIONS)
    except sqlite3.Error as exc:
        if db is not None:
            db.close()
        raise BilanError(f"{path} is not a readable Vigile session: {exc}") from exc


def _flagged(db: SessionFile) -> list[Flagged]:
    out = []
    for row in db.each(reads.FLAGGED):
        matches = row.matches
        categories = tuple(sorted({m["category"] for m in matches})) or ("other",)
        out.append(
            Flagged(
                row.platform,
                row.msg_id,
                row.author_id,
                row.author_name,
                row.received_at,
                row.deleted_at is not None,
                categories,
                max((m["severity"] for m in matches), default=1),
                row.rules_version,
                frozenset(m["rule_id"] for m in matches),
            )
        )
    return out


class _Arrived(Protocol):
    """A message as `_first_action` places it: where, by whom, when it reached the desk."""

    @property
    def platform(self) -> str: ...
    @property
    def msg_id(self) -> str: ...
    @property
    def author_id(self) -> str: ...
    @property
    def received_at(self) -> float: ...


def _first_action(
    items: Iterable[_Arrived], actions: list[ActionRow], kinds: frozenset[str]
) -> dict[tuple[str, str], float]:
    """When each message was first taken care of from a desk: an action on it, or a ban or
    timeout of its author requested after it arrived."""
    on_message: dict[tuple[str, str], float] = {}
    on_author: dict[tuple[str, str], list[float]] = defaultdict(list)
    for a in actions:
        if a.kind not in kinds or a.result not in DONE:
            continue
        if a.target_message_id:
            on_message.setdefault((a.platform, a.target_message_id), a.ts)
        if a.kind in AUTHOR_WIDE and a.target_author_id:
            on_author[(a.platform, a.target_author_id)].append(a.ts)
    first = {}
    for item in items:
        key = (item.platform, item.msg_id)
        times = [on_message[key]] if key in on_message else []
        later = on_author.get((item.platform, item.author_id), [])
        if (i := bisect.bisect_left(later, item.received_at)) < len(later):
            times.append(later[i])
        if times:
            first[key] = min(times)
    return first


# -- sections -----------------------------------------------------------------------------------


def _event(db: SessionFile, sessions: list[SessionRow]) -> dict:
    totals = db.one(reads.TOTALS)
    assert totals is not None  # an aggregate always has its one row
    total, start, end = totals.messages, totals.first_sent, totals.last_sent
    by_platform = {c.key: c.count for c in db.each(reads.MESSAGES_BY_PLATFORM)}
    channels = [
        {"platform": c.platform, "channel": c.channel, "messages": c.messages}
        for c in db.each(reads.MESSAGES_BY_CHANNEL)
    ]
    authors = db.one(reads.AUTHORS)
    authors_by_platform = {c.key: c.count for c in db.each(reads.AUTHORS_BY_PLATFORM)}
    peak_minute = db.one(reads.PEAK_MINUTE)
    peak_second = db.one(reads.PEAK_SECOND)
    paid = defaultdict(float)
    for row in db.each(reads.PAID):
        paid[row.currency] = round(row.amount or 0, 2)
    return {
        "names": [s.name for s in sessions],
        "replayed": [_replayed(s) for s in sessions],  # the recording each one replayed, if any
        "kind": sessions[0].kind if sessions else None,
        "sources": sorted({src for s in sessions for src in s.source_names}),
        "channels": channels,
        "start": start,
        "end": end,
        "duration_s": round(end - start, 3) if total else 0,
        "messages": total,
        "messages_by_platform": by_platform,
        "unique_authors": authors.count if authors else 0,
        "unique_authors_by_platform": authors_by_platform,
        "peak_per_minute": {"messages": peak_minute.count, "minute": peak_minute.key}
        if peak_minute
        else None,
        "peak_per_second": {"messages": peak_second.count, "second": peak_second.key}
        if peak_second
        else None,
        "deleted_messages": totals.deleted,
        "paid_by_currency": dict(paid),
        "recorded_from": sessions[0].started_at if sessions else None,
        "recorded_to": sessions[-1].ended_at if sessions else None,
    }


def _series(db: SessionFile) -> dict:
    """Per minute of the chat's clock: messages by platform and flagged messages."""
    messages: dict[str, dict[int, int]] = defaultdict(dict)
    for row in db.each(reads.MESSAGES_PER_MINUTE):
        messages[row.platform][row.minute] = row.messages
    flagged = {c.key: c.count for c in db.each(reads.FLAGGED_PER_MINUTE)}
    minutes = sorted({m for counts in messages.values() for m in counts})
    if minutes:  # a quiet minute is a zero, not a gap
        minutes = list(range(minutes[0], minutes[-1] + 60, 60))
    return {
        "minutes": minutes,
        "messages_by_platform": {
            p: [counts.get(m, 0) for m in minutes] for p, counts in sorted(messages.items())
        },
        "flagged": [flagged.get(m, 0) for m in minutes],
    }


def _moderation(
    flagged: list[Flagged],
    actions: list[ActionRow],
    handled_at: dict[tuple[str, str], float],
    target_s: float,
) -> dict:
    by_category: Counter[str] = Counter(c for f in flagged for c in f.categories)
    by_severity = Counter(str(f.severity) for f in flagged)
    by_moderator: dict[str, Counter[str]] = defaultdict(Counter)
    for a in actions:
        by_moderator[a.moderator][a.kind] += 1
    waits = sorted(
        max(0.0, handled_at[(f.platform, f.msg_id)] - f.received_at)
        for f in flagged
        if (f.platform, f.msg_id) in handled_at
    )
    left = [f for f in flagged if (f.platform, f.msg_id) not in handled_at and not f.deleted]
    return {
        "flagged": len(flagged),
        "flagged_by_category": dict(by_category.most_common()),
        "flagged_by_severity": dict(sorted(by_severity.items(), reverse=True)),
        "actions": len(actions),
        "actions_by_kind": dict(Counter(a.kind for a in actions).most_common()),
        "actions_by_result": dict(Counter(a.result for a in actions).most_common()),
        "actions_by_moderator": {m: dict(c.most_common()) for m, c in sorted(by_moderator.items())},
        "response_times": response_times(waits, target_s),
        "handled": len(waits),
        "removed_by_platform": sum(
            1 for f in flagged if f.deleted and (f.platform, f.msg_id) not in handled_at
        ),
        "unhandled": len(left),
        "unhandled_by_category": dict(Counter(c for f in left for c in f.categories).most_common()),
    }


def response_times(waits: list[float], target_s: float) -> dict:
    return {
        "count": len(waits),
        "target_s": target_s,
        "median_s": round(statistics.median(waits), 1) if waits else None,
        "p90_s": round(percentile(waits, 0.9), 1) if waits else None,
        "within_target_share": round(sum(w <= target_s for w in waits) / len(waits), 3)
        if waits
        else None,
        "seconds": [round(w, 1) for w in waits],  # the distribution the chart draws
    }


def _replayed(session: reads.SessionRow) -> str | None:
    """The name (file stem) of the recording a session replayed: a replay, demo or load test."""
    source = session.details.get("replay_of")
    if not source:
        source = next(
            (s.removeprefix("replay:") for s in session.source_names if s.startswith("replay:")),
            None,
        )
    return Path(source).stem if source else None


def _threats(db: SessionFile, flagged: list[Flagged], actions: list[ActionRow]) -> dict:
    alerts: dict[tuple[str, str, float], dict] = {}
    for event in db.each(reads.ALERTS):
        ts, platform, channel, data = event.ts, event.platform, event.channel, event.data
        kind = event.kind.removeprefix("alert:")
        key = (kind, str(data.get("subject", "")), data.get("raised_at", ts))
        alert = alerts.setdefault(
            key,
            {
                "kind": kind,
                "subject": key[1],
                "platform": platform,
                "channel": channel,
                "raised_at": key[2],
                "escalated_at": None,
                "cleared_at": None,
                "severity": 0,
                "source": data.get("source", "chat"),
                "evidence": {},
            },
        )
        state = data.get("state")
        if state == "escalated" and alert["escalated_at"] is None:
            alert["escalated_at"] = ts
        elif state == "cleared":
            alert["cleared_at"] = ts
        alert["severity"] = max(alert["severity"], int(data.get("severity", 0)))
        alert["evidence"] = _alert_evidence(data) | {
            k: v for k, v in alert["evidence"].items() if k == "samples"
        }
    timeline = sorted(alerts.values(), key=lambda a: (a["raised_at"], a["kind"]))
    for alert in timeline:
        alert["about"] = _about(alert)
    return {
        "alerts": timeline,
        "alerts_by_kind": dict(Counter(a["kind"] for a in timeline).most_common()),
        "core_accounts": _core_accounts(db, flagged, actions),
        "relay_clusters": _clusters(timeline),
        "hijacked_hashtags": [
            {
                "hashtag": a["subject"],
                "raised_at": a["raised_at"],
                "authors": a["evidence"].get("authors"),
                "messages_60s": a["evidence"].get("messages_60s"),
            }
            for a in timeline
            if a["kind"] == "rising-hashtag"
        ],
    }


def _about(alert: dict) -> str:
    """What an alert was about, in the chat's terms: the raider, the hashtag or term, the line
    copied; the channel for what concerns it all. The signal's own subject (a cluster number,
    "channel") is an internal key, never shown."""
    e, kind = alert["evidence"], alert["kind"]
    if kind == "raid" and e.get("raider"):
        return str(e["raider"])
    if kind == "copypasta" and e.get("samples"):
        line = str(e["samples"][0])
        return line if len(line) <= 80 else line[:79] + "…"
    if kind in ("rising-hashtag", "rising-term") and alert["subject"]:
        return alert["subject"]
    if kind == "author-burst" and e.get("author_name"):
        return str(e["author_name"])
    return alert["channel"] or alert["subject"]


def _alert_evidence(data: dict) -> dict:
    """What an alert showed, without long author lists (those stay in the session file)."""
    out = {}
    for key, value in data.items():
        if key in ("state", "subject", "severity", "raised_at", "source", "suggested_rule"):
            continue
        if isinstance(value, list):
            out[key] = value[:3] if key == "samples" else len(value)
        elif isinstance(value, (int, float, str)):
            out[key] = value
    return out


def _core_accounts(db: SessionFile, flagged: list[Flagged], actions: list[ActionRow]) -> list:
    """The most active flagged accounts: who carried the abuse."""
    count = Counter((f.platform, f.author_id) for f in flagged)
    names = {(f.platform, f.author_id): f.author_name for f in flagged}
    categories: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for f in flagged:
        categories[(f.platform, f.author_id)].update(f.categories)
    sanctions: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in actions:
        if a.kind in AUTHOR_WIDE and a.result in DONE and a.target_author_id:
            sanctions[(a.platform, a.target_author_id)].append(a.kind)
    core = []
    for (platform, author), n in count.most_common(TOP):
        if n < 2:
            break
        span = db.one(reads.AUTHOR_SPAN, platform, author)
        assert span is not None  # an aggregate always has its one row
        core.append(
            {
                "platform": platform,
                "author_id": author,
                "author_name": names[(platform, author)],
                "flagged": n,
                "messages": span.messages,
                "first_seen": span.first_sent,
                "last_seen": span.last_sent,
                "categories": [c for c, _ in categories[(platform, author)].most_common(3)],
                "sanctions": sorted(set(sanctions[(platform, author)])),
            }
        )
    return core


def _clusters(timeline: list[dict]) -> list[dict]:
    """Copypasta clusters: one text relayed by many accounts."""
    clusters = [
        {
            "cluster": a["subject"],
            "raised_at": a["raised_at"],
            "messages": a["evidence"].get("messages", 0),
            "authors": a["evidence"].get("authors", 0),
            "samples": a["evidence"].get("samples", []),
        }
        for a in timeline
        if a["kind"] == "copypasta"
    ]
    return sorted(clusters, key=lambda c: (-c["authors"], -c["messages"]))[:TOP]


def _filters(db: SessionFile, flagged: list[Flagged]) -> dict:
    versions = []
    previous: dict[str, dict] | None = None
    for row in db.each(reads.RULE_VERSIONS):
        if versions and versions[-1]["version"] == row.version:
            continue  # one version, recorded by several sessions of one file
        rules = _rules_of(row.content)
        entry = {
            "version": row.version,
            "ts": row.ts,
            "author": row.author,
            "origin": row.origin,
            "digest": row.digest,
            "rules": len(rules),
        }
        if previous is not None:
            added = sorted(set(rules) - set(previous))
            removed = sorted(set(previous) - set(rules))
            changed = sorted(r for r in set(rules) & set(previous) if rules[r] != previous[r])
            touched = set(added) | set(changed)
            entry |= {
                "added": added,
                "removed": removed,
                "changed": {r: _rule_change(previous[r], rules[r]) for r in changed},
                "hashtags_added": sorted(
                    {h for r in touched for h in rules[r].get("hashtags", [])}
                    - {h for r in previous.values() for h in r.get("hashtags", [])}
                ),
                "caught_after": sum(
                    1 for f in flagged if f.rules_version >= row.version and f.rule_ids & touched
                ),
            }
        versions.append(entry)
        previous = rules
    return {"versions": versions, "changes": max(0, len(versions) - 1)}


def _rules_of(content: str) -> dict[str, dict]:
    """Rules by id from a recorded rules version (the packs' TOML, one after the other)."""
    rules: dict[str, dict] = {}
    for part in _PACK_HEADER.split(content):
        try:
            pack = tomllib.loads(part)
        except tomllib.TOMLDecodeError:
            continue  # a version is validated before it is recorded; never fail the report
        for rule in pack.get("rules", []):
            if isinstance(rule, dict) and "id" in rule:
                rules[str(rule["id"])] = rule
    return rules


def _rule_change(before: dict, after: dict) -> dict:
    change: dict[str, Any] = {}
    for key in ("terms", "hashtags", "allow", "regex"):
        old, new = set(before.get(key) or []), set(after.get(key) or [])
        if old != new:
            change[key] = {"added": sorted(new - old), "removed": sorted(old - new)}
    for key in ("category", "severity", "action"):
        if before.get(key) != after.get(key):
            change[key] = {"from": before.get(key), "to": after.get(key)}
    return change


def _answered(hashtags: list[dict], versions: list[dict]) -> None:
    """Mark each hijacked hashtag with the first rules version that started catching it."""
    for tag in hashtags:
        tag["rule_version"] = None
        for v in versions[1:]:
            if tag["hashtag"].lower() in (h.lower() for h in v["hashtags_added"]):
                tag["rule_version"], tag["rule_ts"] = v["version"], v["ts"]
                break


def _evidence(path: Path, flagged: int) -> dict:
    checked = verify_session(path)
    return {
        "messages_in_chain": checked.messages,
        "rows_in_chain": checked.rows,
        "intact": checked.intact,
        "problem": str(checked.problem) if checked.problem else None,
        "scheme": checked.scheme,  # 1: an earlier Vigile's file, 9 message fields sealed
        "interrupted": [
            {"id": s.id, "name": s.name, "rows": s.rows, "messages": s.messages}
            for s in checked.interrupted
        ],
        "export_holds": flagged,  # `vigile export-evidence` exports the flagged messages
        "chain_head": checked.head,
        "verify_with": f"vigile verify {path.name}",
    }


# -- rehearsal ----------------------------------------------------------------------------------


def _labelled_source(
    db: SessionFile, path: Path, sessions: list[SessionRow], labels: Path | None
) -> Path | None:
    candidates = [labels] if labels else []
    if db.one(reads.HAS_LABELS):
        candidates.append(path)
    for session in sessions:
        replayed = session.details.get("replay_of")
        if replayed:
            candidates += [Path(replayed), path.parent / Path(replayed).name]
    for candidate in candidates:
        if candidate.is_file() and _has_labels(candidate):
            return candidate
    if labels:
        raise BilanError(f"{labels} holds no scenario labels")
    return None


def _has_labels(path: Path) -> bool:
    try:
        with SessionFile(path) as other:
            return other.one(reads.HAS_LABELS) is not None
    except sqlite3.Error:
        return False


def _rehearsal(path: Path, source: Path, actions: list[ActionRow]) -> dict:
    """The team against the scenario's ground truth, beside the automatic triage alone."""
    with SessionFile(source) as src:
        truth = {(row.platform, row.msg_id): bool(row.should_flag) for row in src.each(reads.TRUTH)}
        total = src.one(reads.MESSAGE_COUNT)
    # messages of the source without a label (real chat under a scenario, the part of a real
    # session nobody labelled): nothing is scored on them, and the report says how many
    unlabelled = max(0, (total.value if total else 0) - len(truth))
    with SessionFile(path) as run:
        # the labelled messages this run received, matched by platform message id
        seen = [row for row in run.each(reads.ARRIVALS) if (row.platform, row.msg_id) in truth]
    should = [(r.platform, r.msg_id) for r in seen if truth[(r.platform, r.msg_id)]]
    abusive_authors = {(r.platform, r.author_id) for r in seen if truth[(r.platform, r.msg_id)]}
    labelled_authors = {(r.platform, r.author_id) for r in seen}
    acted = _first_action(seen, actions, ENFORCING)
    received = {(r.platform, r.msg_id): r.received_at for r in seen}
    caught = [key for key in should if key in acted]
    waits = sorted(max(0.0, acted[key] - received[key]) for key in caught)
    false_actions = []
    for a in actions:
        if a.kind not in ENFORCING or a.result not in DONE:
            continue
        target = (a.platform, a.target_message_id or "")
        author = (a.platform, a.target_author_id)
        if target in truth:
            wrong = not truth[target]
        elif unlabelled and author not in labelled_authors:
            continue  # on unlabelled chat: no ground truth to judge the action by
        else:  # an action on an author alone: wrong if they never said anything abusive
            wrong = author not in abusive_authors
        if wrong:
            false_actions.append(
                {
                    "kind": a.kind,
                    "moderator": a.moderator,
                    "ts": a.ts,
                    "message_id": a.target_message_id,
                    "author_id": a.target_author_id,
                }
            )
    # the team and the triage alone on the same set: the labelled messages this run received
    triage = score_run(source, path, received_only=True)
    time_to_act = response_times(waits, DEFAULT_TARGET_S)
    del time_to_act["seconds"]
    return {
        "scenario_file": source.name,
        "labelled": len(seen),
        "unlabelled": unlabelled,
        "should_act": len(should),
        "caught": len(caught),
        "missed": len(should) - len(caught),
        "team_recall": round(len(caught) / len(should), 3) if should else None,
        "time_to_act": time_to_act,
        "false_actions": len(false_actions),
        "false_action_samples": false_actions[:TOP],
        "triage": triage.as_dict() if triage else None,
    }
