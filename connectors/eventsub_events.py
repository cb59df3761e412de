"""Twitch's own moderation, as Vigile's values: each EventSub notification becomes one
PlatformEvent (what the session records and seals), and each recorded event reads back as a
typed value (`AutoModHold`, `ModeratorAction`…) for the desk and the bilan.

The event's data is the typed value's fields plus `event`, Twitch's payload as it came (kept
for the archive, like a chat message's raw tags)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from vigile.connectors.eventsub_frames import Notification
from vigile.connectors.model import PlatformEvent

PLATFORM = "twitch"


@dataclass(frozen=True, slots=True)
class AutoModHold:
    """A message Twitch's AutoMod held: it is not in chat unless a moderator allows it."""

    message_id: str
    user_id: str
    user_login: str
    user_name: str
    text: str
    reason: str  # "automod" (a category at a level) or "blocked_term"
    category: str = ""
    level: int = 0
    terms: tuple[str, ...] = ()  # the blocked terms found, as written in the message

    @property
    def why(self) -> str:
        """AutoMod's reason, in words."""
        if self.reason == "blocked_term":
            found = ", ".join(self.terms) or "a blocked term"
            return f"blocked term: {found}"
        return f"{self.category or 'AutoMod'} (level {self.level})"


@dataclass(frozen=True, slots=True)
class AutoModUpdate:
    """A held message settled, here or elsewhere: approved, denied or expired."""

    message_id: str
    user_id: str
    user_name: str
    status: str
    moderator_login: str = ""


@dataclass(frozen=True, slots=True)
class ShieldChange:
    active: bool
    moderator_login: str
    at: str


@dataclass(frozen=True, slots=True)
class SuspiciousUser:
    """Twitch's low-trust treatment of a chatter: `status` is active_monitoring, restricted
    or none; `types` says why (manually_added, ban_evader_detector, shared_channel_ban)."""

    user_id: str
    user_login: str
    user_name: str
    status: str
    types: tuple[str, ...] = ()
    ban_evasion: str = ""  # likely, possible, unknown
    shared_ban_channels: int = 0
    message_id: str = ""  # of the flagged message (channel.suspicious_user.message)
    text: str = ""
    moderator_login: str = ""  # who changed the treatment (channel.suspicious_user.update)

    @property
    def marked(self) -> bool:
        return self.status in ("active_monitoring", "restricted")

    @property
    def why(self) -> str:
        said = {
            "active_monitoring": "monitored",
            "restricted": "restricted",
            "none": "no longer marked",
        }.get(self.status, self.status)
        reasons = [t.replace("_", " ") for t in self.types]
        if self.ban_evasion in ("likely", "possible"):
            reasons.append(f"{self.ban_evasion} ban evader")
        if self.shared_ban_channels:
            reasons.append(f"banned in {self.shared_ban_channels} other channel(s)")
        return said + (f" ({', '.join(reasons)})" if reasons else "")


@dataclass(frozen=True, slots=True)
class ModeratorAction:
    """Anything any moderator (or bot) of the channel did, as channel.moderate tells it."""

    action: str  # ban, timeout, unban, untimeout, delete, warn, clear, slow, followers…
    moderator_id: str
    moderator_login: str
    target_id: str = ""
    target_login: str = ""
    reason: str = ""
    message_id: str = ""  # delete: the message removed
    detail: str = ""  # what else Twitch said (a duration, a wait time…)

    @property
    def line(self) -> str:
        target = f" {self.target_login}" if self.target_login else ""
        extra = f" ({self.detail})" if self.detail else ""
        reason = f": {self.reason}" if self.reason else ""
        return f"{self.moderator_login or 'someone'} {self.action}{target}{extra}{reason}"


@dataclass(frozen=True, slots=True)
class UnbanRequest:
    request_id: str
    user_id: str
    user_login: str
    user_name: str
    text: str = ""
    status: str = "pending"  # pending, approved, denied, canceled
    moderator_login: str = ""
    resolution_text: str = ""


Value = AutoModHold | AutoModUpdate | ShieldChange | SuspiciousUser | ModeratorAction | UnbanRequest
V = TypeVar("V", bound=Value)


def _s(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    return "" if value is None else str(value)


def _hold(event: Mapping[str, Any]) -> AutoModHold:
    message = event.get("message") or {}
    text = _s(message, "text") if isinstance(message, dict) else str(message)
    automod = event.get("automod") or {}  # v2; v1 has category and level at the top
    blocked = event.get("blocked_term") or {}
    terms = []
    for found in blocked.get("terms_found") or ():
        boundary = found.get("boundary") or {}
        start, end = boundary.get("start_pos"), boundary.get("end_pos")
        if isinstance(start, int) and isinstance(end, int):
            terms.append(text[start : end + 1])  # Twitch's end position is inclusive
    return AutoModHold(
        message_id=_s(event, "message_id"),
        user_id=_s(event, "user_id"),
        user_login=_s(event, "user_login"),
        user_name=_s(event, "user_name") or _s(event, "user_login"),
        text=text,
        reason=_s(event, "reason") or ("blocked_term" if terms else "automod"),
        category=_s(automod, "category") or _s(event, "category"),
        level=int(automod.get("level") or event.get("level") or 0),
        terms=tuple(terms),
    )


def _update(event: Mapping[str, Any]) -> AutoModUpdate:
    return AutoModUpdate(
        message_id=_s(event, "message_id"),
        user_id=_s(event, "user_id"),
        user_name=_s(event, "user_name") or _s(event, "user_login"),
        status=_s(event, "status").lower(),
        moderator_login=_s(event, "moderator_user_login"),
    )


def _suspicious(event: Mapping[str, Any]) -> SuspiciousUser:
    message = event.get("message") or {}
    return SuspiciousUser(
        user_id=_s(event, "user_id"),
        user_login=_s(event, "user_login"),
        user_name=_s(event, "user_name") or _s(event, "user_login"),
        status=_s(event, "low_trust_status"),
        types=tuple(str(t) for t in event.get("types") or ()),
        ban_evasion=_s(event, "ban_evasion_evaluation"),
        shared_ban_channels=len(event.get("shared_ban_channel_ids") or ()),
        message_id=_s(message, "message_id") if isinstance(message, dict) else "",
        text=_s(message, "text") if isinstance(message, dict) else "",
        moderator_login=_s(event, "moderator_user_login"),
    )


# What each channel.moderate action's own object says beyond its target, in a few words.
_DETAIL: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "timeout": lambda o: f"until {o.get('expires_at')}" if o.get("expires_at") else "",
    "slow": lambda o: f"{o.get('wait_time_seconds')} s" if o.get("wait_time_seconds") else "",
    "followers": lambda o: f"{o.get('follow_duration_minutes', 0)} min",
    "raid": lambda o: f"{o.get('viewer_count', 0)} viewers",
    "unban_request": lambda o: "approved" if o.get("is_approved") else "denied",
}


def _moderate(event: Mapping[str, Any]) -> ModeratorAction:
    action = _s(event, "action")
    own = event.get(action)
    own = own if isinstance(own, dict) else {}
    detail = _DETAIL.get(action.removeprefix("shared_chat_"), lambda o: "")(own)
    return ModeratorAction(
        action=action,
        moderator_id=_s(event, "moderator_user_id"),
        moderator_login=_s(event, "moderator_user_login"),
        target_id=_s(own, "user_id") or _s(own, "broadcaster_user_id"),
        target_login=_s(own, "user_login") or _s(own, "broadcaster_user_login"),
        reason=_s(own, "reason") or _s(own, "moderator_message"),
        message_id=_s(own, "message_id"),
        detail=detail,
    )


def _unban(event: Mapping[str, Any]) -> UnbanRequest:
    return UnbanRequest(
        request_id=_s(event, "id"),
        user_id=_s(event, "user_id"),
        user_login=_s(event, "user_login"),
        user_name=_s(event, "user_name") or _s(event, "user_login"),
        text=_s(event, "text"),
        status=_s(event, "status") or "pending",
        moderator_login=_s(event, "moderator_user_login") or _s(event, "moderator_login"),
        resolution_text=_s(event, "resolution_text"),
    )


# subscription type → (event kind recorded, reader of Twitch's payload)
_KINDS: dict[str, tuple[str, Callable[[Mapping[str, Any]], Value]]] = {
    "automod.message.hold": ("automod_hold", _hold),
    "automod.message.update": ("automod_update", _update),
    "channel.shield_mode.begin": (
        "shield_mode_begin",
        lambda e: ShieldChange(True, _s(e, "moderator_user_login"), _s(e, "started_at")),
    ),
    "channel.shield_mode.end": (
        "shield_mode_end",
        lambda e: ShieldChange(False, _s(e, "moderator_user_login"), _s(e, "ended_at")),
    ),
    "channel.suspicious_user.message": ("suspicious_message", _suspicious),
    "channel.suspicious_user.update": ("suspicious_update", _suspicious),
    "channel.moderate": ("moderate", _moderate),
    "channel.unban_request.create": ("unban_request", _unban),
    "channel.unban_request.resolve": ("unban_resolved", _unban),
}
_TYPES: dict[str, type[Value]] = {
    "automod_hold": AutoModHold,
    "automod_update": AutoModUpdate,
    "shield_mode_begin": ShieldChange,
    "shield_mode_end": ShieldChange,
    "suspicious_message": SuspiciousUser,
    "suspicious_update": SuspiciousUser,
    "moderate": ModeratorAction,
    "unban_request": UnbanRequest,
    "unban_resolved": UnbanRequest,
}
KINDS = frozenset(_TYPES)


def to_event(notification: Notification, channel: str) -> PlatformEvent:
    """The notification as the event the session records: a known type as its typed value's
    fields, any other as `eventsub_other` (kept, never dropped)."""
    common = {
        "message_id": notification.message_id,
        "subscription": notification.subscription_type,
        "version": notification.version,
        "sent_at": notification.sent_at,
        "event": notification.event,
    }
    known = _KINDS.get(notification.subscription_type)
    if known is None:
        return PlatformEvent(PLATFORM, channel, "eventsub_other", data=common)
    kind, read = known
    try:
        value = read(notification.event)
    except (AttributeError, TypeError, ValueError) as exc:
        reason = f"{notification.subscription_type} with an unexpected shape: {exc}"
        return PlatformEvent(
            PLATFORM, channel, "eventsub_malformed", data={**common, "reason": reason}
        )
    fields = dataclasses.asdict(value)
    return PlatformEvent(PLATFORM, channel, kind, data={**common, "value": fields})


def read_event(event: PlatformEvent, as_type: type[V]) -> V | None:
    """A recorded event as its typed value; None if it is not one of that type."""
    if _TYPES.get(event.kind) is not as_type:
        return None
    fields = dict(event.data.get("value") or {})
    for name, value in fields.items():
        if isinstance(value, list):
            fields[name] = tuple(value)  # JSON has no tuples
    try:
        return as_type(**fields)
    except TypeError:
        return None
