"""Twitch's own moderation in the bilan: the actions moderators took outside Vigile (as
channel.moderate told them), which count in the response times when they answer a flagged
message, and the raid lockdowns (Vigile's, or Shield Mode turned on by anyone) on the raid
timeline, with how long each raid went on once the channel was locked down."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from vigile.replay import reads
from vigile.replay.reads import ActionRow

# channel.moderate's actions that answer a message or its author, as Vigile's action kinds
_ANSWERS = {"ban": "ban", "timeout": "timeout", "delete": "delete", "warn": "warn"}
_SAME_ACT_S = 60.0  # Twitch tells of Vigile's own acts too: one this close is the same act
OUTSIDE = " (Twitch)"  # how an outside moderator is named among the desk's


def outside_actions(db: Any, actions: list[ActionRow]) -> tuple[list[ActionRow], dict]:
    """channel.moderate events as action rows (only those not done from a Vigile desk), and
    their counts by moderator and by action, every kind of action included."""
    ours: dict[tuple[str, str], list[float]] = defaultdict(list)
    for a in actions:
        if a.result == "ok":
            target = a.target_message_id if a.kind == "delete" else a.target_author_id
            ours[(a.kind, target or "")].append(a.ts)
    rows: list[ActionRow] = []
    by_moderator: dict[str, Counter[str]] = defaultdict(Counter)
    for event in db.each(reads.TWITCH_TOOLS):
        if event.kind != "moderate":
            continue
        value = event.data.get("value") or {}
        action = str(value.get("action", ""))
        kind = _ANSWERS.get(action.removeprefix("shared_chat_"), action)
        target = value.get("message_id") if kind == "delete" else value.get("target_id")
        if any(0 <= event.ts - ts <= _SAME_ACT_S for ts in ours.get((kind, str(target or "")), [])):
            continue  # our own act, told back by Twitch
        moderator = str(value.get("moderator_login") or "?")
        by_moderator[moderator][kind] += 1
        rows.append(
            ActionRow(
                id=0,
                session_id=0,
                ts=event.ts,
                platform=event.platform,
                channel=event.channel,
                kind=kind,
                moderator=moderator + OUTSIDE,
                target_author_id=str(value.get("target_id") or "") or None,
                target_message_id=str(value.get("message_id") or "") or None,
                duration_s=None,
                reason=str(value.get("reason") or ""),
                result="ok",
                detail="outside Vigile",
            )
        )
    summary = {
        "count": len(rows),
        "by_action": dict(Counter(r.kind for r in rows).most_common()),
        "by_moderator": {m: dict(c.most_common()) for m, c in sorted(by_moderator.items())},
    }
    return rows, summary


def lockdowns(db: Any, alerts: list[dict]) -> list[dict]:
    """Each lockdown: channel, start, end, who, what; and for the raids it met, how long each
    went on after the start (until its alert cleared). Shield Mode turned on outside Vigile
    counts as a lockdown of its own."""
    periods: list[dict] = []
    open_: dict[tuple[str, str], dict] = {}
    for event in db.each(reads.TWITCH_TOOLS):
        data = event.data
        if event.kind == "lockdown":
            key, on = ("lockdown", event.channel), data.get("state") == "start"
            who, what = str(data.get("moderator", "")), str(data.get("preset", ""))
        elif event.kind in ("shield_mode_begin", "shield_mode_end"):
            key, on = ("shield", event.channel), event.kind == "shield_mode_begin"
            who, what = str((data.get("value") or {}).get("moderator_login", "")), "Shield Mode"
        else:
            continue
        if on and key not in open_:
            open_[key] = {
                "channel": event.channel,
                "by": who,
                "what": what,
                "source": "vigile" if key[0] == "lockdown" else "twitch",
                "started_at": event.ts,
                "ended_at": None,
            }
            periods.append(open_[key])
        elif not on and key in open_:
            open_.pop(key)["ended_at"] = event.ts
    # Vigile's lockdown turns Shield Mode on itself: the Shield Mode period inside it is the same
    vigile = [p for p in periods if p["source"] == "vigile"]
    kept = [p for p in periods if p["source"] == "vigile" or not _within(p, vigile)]
    for period in kept:
        period["raids"] = [
            {
                "raised_at": a["raised_at"],
                "cleared_at": a["cleared_at"],
                "lasted_after_s": None
                if a["cleared_at"] is None
                else round(max(0.0, a["cleared_at"] - period["started_at"]), 1),
            }
            for a in alerts
            if a["kind"] == "raid"
            and a["channel"] == period["channel"]
            and a["raised_at"] <= (period["ended_at"] or float("inf"))
            and (a["cleared_at"] is None or a["cleared_at"] >= period["started_at"])
        ]
    return sorted(kept, key=lambda p: p["started_at"])


def _within(period: dict, others: list[dict]) -> bool:
    for other in others:
        if other["channel"] != period["channel"]:
            continue
        starts_in = other["started_at"] - 5 <= period["started_at"]
        ends_in = other["ended_at"] is None or (
            period["ended_at"] is not None and period["ended_at"] <= other["ended_at"] + 5
        )
        if starts_in and ends_in:
            return True
    return False
