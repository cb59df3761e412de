"""Twitch EventSub over WebSocket, sans I/O: one text frame in, one typed frame out.

Twitch sends JSON objects with `metadata` (message_id, message_type, message_timestamp and,
for notifications and revocations, subscription_type / subscription_version) and `payload`.
Anything else is a `Malformed` value carrying the reason, never an exception."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_EXCERPT = 300  # of a bad frame, kept in its event: enough to see what it was


@dataclass(frozen=True, slots=True)
class Welcome:
    """A session is open: subscribe with its id (a first welcome), or carry on (after a move)."""

    session_id: str
    keepalive_s: float


@dataclass(frozen=True, slots=True)
class Keepalive:
    """Nothing to say, the connection is alive."""


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Twitch is moving the session: connect to `url`, the old connection still delivers."""

    url: str


@dataclass(frozen=True, slots=True)
class Notification:
    message_id: str
    subscription_type: str
    version: str
    sent_at: str  # Twitch's message_timestamp (RFC 3339, nanoseconds)
    event: dict[str, Any] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Revocation:
    """Twitch ended a subscription: `status` says why (authorization_revoked, user_removed,
    moderator_removed, version_removed)."""

    message_id: str
    subscription_type: str
    version: str
    status: str


@dataclass(frozen=True, slots=True)
class Malformed:
    reason: str
    excerpt: str


Frame = Welcome | Keepalive | Reconnect | Notification | Revocation | Malformed


def read_frame(text: str | bytes) -> Frame:
    """One WebSocket message from Twitch's EventSub server, typed."""
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError:
            return Malformed("a binary frame that is not UTF-8", repr(text[:_EXCERPT]))
    try:
        message = json.loads(text)
    except ValueError as exc:
        return Malformed(f"not JSON ({exc})", text[:_EXCERPT])
    try:
        return _typed(message)
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        return Malformed(f"not an EventSub message: {reason}", text[:_EXCERPT])


def _typed(message: Any) -> Frame:
    if not isinstance(message, dict):
        raise TypeError("the frame is not a JSON object")
    metadata, payload = message["metadata"], message["payload"]
    kind = metadata["message_type"]
    if kind == "session_keepalive":
        return Keepalive()
    if kind == "session_welcome":
        session = payload["session"]
        keepalive = session.get("keepalive_timeout_seconds") or 10
        return Welcome(_text(session["id"]), float(keepalive))
    if kind == "session_reconnect":
        return Reconnect(_text(payload["session"]["reconnect_url"]))
    if kind == "notification":
        event = payload["event"]
        if not isinstance(event, dict):
            raise TypeError("the notification's event is not an object")
        return Notification(
            _text(metadata["message_id"]),
            _text(metadata["subscription_type"]),
            str(metadata.get("subscription_version", "")),
            str(metadata.get("message_timestamp", "")),
            event,
        )
    if kind == "revocation":
        subscription = payload["subscription"]
        return Revocation(
            _text(metadata["message_id"]),
            _text(subscription["type"]),
            str(subscription.get("version", "")),
            _text(subscription["status"]),
        )
    raise ValueError(f"unknown message_type {kind!r}")


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value
