"""Twitch IRC messages → ChatMessage and PlatformEvent values. Pure code, no sockets."""

from __future__ import annotations

from functools import lru_cache
from uuid import uuid4

from vigile.connectors.irc import IrcMessage
from vigile.connectors.model import ChatMessage, MessageKind, PlatformEvent, Role, utc_now

_BADGE_ROLES = {
    "broadcaster": Role.BROADCASTER,
    "moderator": Role.MODERATOR,
    "vip": Role.VIP,
    "subscriber": Role.SUBSCRIBER,
    "founder": Role.SUBSCRIBER,
    "partner": Role.VERIFIED,
}
_ACTION = "\x01ACTION"
# Notices that name a second person beside their sender: (user id, display name, login) tags.
_OTHERS_NAMED = (
    ("msg-param-recipient-id", "msg-param-recipient-display-name", "msg-param-recipient-user-name"),
    ("", "msg-param-sender-name", "msg-param-sender-login"),
)


def roles_from(tags: dict[str, str]) -> frozenset[Role]:
    return _roles(tags.get("badges", ""), tags.get("mod") == "1")


@lru_cache(maxsize=4096)  # a chat shows few badge sets: most lines repeat one already read
def _roles(badges: str, mod: bool) -> frozenset[Role]:
    roles = {
        _BADGE_ROLES[name]
        for badge in badges.split(",")
        if (name := badge.partition("/")[0]) in _BADGE_ROLES
    }
    if mod:
        roles.add(Role.MODERATOR)
    return frozenset(roles)


def unwrap_action(text: str) -> tuple[str, bool]:
    """`\x01ACTION waves\x01` (a /me) → ("waves", True); the wrapper is protocol, not chat.
    An empty /me (`\x01ACTION\x01`) is an action with no text; a missing closing byte is
    forgiven; anything else is plain text."""
    if not text.startswith(_ACTION):
        return text, False
    body = text[len(_ACTION) :]
    if body and body[0] not in " \x01":  # "\x01ACTIONS…" is not a /me
        return text, False
    return body.removesuffix("\x01").removeprefix(" "), True


def _sent_at(tags: dict[str, str]) -> float:
    try:
        return int(tags["tmi-sent-ts"]) / 1000
    except (KeyError, ValueError):
        return utc_now()


def _channel(message: IrcMessage) -> str:
    return message.params[0].lstrip("#") if message.params else ""


def _message_id(tags: dict[str, str]) -> str:
    """Twitch's id; a line without one gets an id of its own, never shared with another line
    (a shared one would make the reader drop every later line as a repeat)."""
    return tags.get("id") or f"local-{uuid4().hex}"


def _shared_from(tags: dict[str, str]) -> str | None:
    """Shared chat: a message sent in another channel of the session carries that channel's
    room as `source-room-id`; one sent here carries our own room (or no such tag)."""
    source = tags.get("source-room-id", "")
    return source if source and source != tags.get("room-id", "") else None


def chat_message(message: IrcMessage, archived: bool = False) -> ChatMessage:
    """A PRIVMSG as a chat message, received now; `archived`: read from an archive, where it was
    received when it was sent (its original timing is all there is)."""
    tags = message.tags
    sent_at = _sent_at(tags)
    login = message.nick
    text, action = unwrap_action(message.text)
    kind = MessageKind.ACTION if action else MessageKind.CHAT
    amount = None
    if "bits" in tags and tags["bits"].isdigit():
        amount, kind = float(tags["bits"]), MessageKind.PAID
    raw: dict[str, object] = {
        "tags": tags,
        "login": login,
        "emotes": tags.get("emotes", ""),
        "reply_parent_text": tags.get("reply-parent-msg-body", ""),
    }
    if tags.get("msg-id"):  # highlighted-message, gigantified-emote-message…
        raw["msg_id"] = tags["msg-id"]
    if "source-room-id" in tags and (shared := _shared_from(tags)):
        raw["shared_from"] = shared
    return ChatMessage(
        platform="twitch",
        channel=_channel(message),
        id=_message_id(tags),
        author_id=tags.get("user-id", login),
        author_name=tags.get("display-name") or login,
        text=text,
        sent_at=sent_at,
        received_at=sent_at if archived else utc_now(),
        roles=roles_from(tags),
        kind=kind,
        amount=amount,
        currency="BITS" if amount is not None else None,
        reply_to=tags.get("reply-parent-msg-id") or None,
        first_message=tags.get("first-msg") == "1",
        raw=raw,
    )


def notice_message(message: IrcMessage) -> ChatMessage | None:
    """A USERNOTICE as its sender's message (kind NOTICE), so that what they wrote (a resub or
    gift message, an announcement) and their names are judged like chat; the text is empty when
    they wrote nothing. None for a notice with no sender."""
    tags = message.tags
    login = tags.get("login", "")
    if not login:
        return None
    text, _ = unwrap_action(message.text)
    others = [
        {"id": tags.get(i, "") if i else "", "name": tags.get(n, ""), "login": tags.get(lg, "")}
        for i, n, lg in _OTHERS_NAMED
        if tags.get(n) or tags.get(lg)
    ]
    raw: dict[str, object] = {
        "tags": tags,
        "login": login,
        "notice": tags.get("msg-id", "usernotice"),
        "system_message": tags.get("system-msg", ""),
        "emotes": tags.get("emotes", ""),
    }
    if others:
        raw["others_named"] = others
    if shared := _shared_from(tags):
        raw["shared_from"] = shared
    return ChatMessage(
        platform="twitch",
        channel=_channel(message),
        id=_message_id(tags),
        author_id=tags.get("user-id", login),
        author_name=tags.get("display-name") or login,
        text=text,
        sent_at=_sent_at(tags),
        roles=roles_from(tags),
        kind=MessageKind.NOTICE,
        raw=raw,
    )


def platform_event(message: IrcMessage) -> PlatformEvent | None:
    """The stream events a desk records; None for protocol chatter (welcome, JOIN, CAP…)."""
    tags, channel, command = message.tags, _channel(message), message.command
    ts = _sent_at(tags) if "tmi-sent-ts" in tags else utc_now()
    if command == "CLEARCHAT":
        if not message.text:
            return PlatformEvent("twitch", channel, "clearchat", ts, {"scope": "chat"})
        data: dict[str, object] = {
            "user": message.text,
            "user_id": tags.get("target-user-id", ""),
        }
        if "ban-duration" in tags:
            data["duration_s"] = int(tags["ban-duration"] or 0)
            return PlatformEvent("twitch", channel, "timeout", ts, data)
        return PlatformEvent("twitch", channel, "ban", ts, data)
    if command == "CLEARMSG":
        data = {
            "message_id": tags.get("target-msg-id", ""),
            "user": tags.get("login", ""),
            "text": unwrap_action(message.text)[0],
        }
        return PlatformEvent("twitch", channel, "clearmsg", ts, data)
    if command == "USERNOTICE":
        kind = tags.get("msg-id", "usernotice")
        data = {
            "user": tags.get("login", ""),
            "user_id": tags.get("user-id", ""),
            "system_message": tags.get("system-msg", ""),
            "text": unwrap_action(message.text)[0],
            **{
                k.removeprefix("msg-param-"): v
                for k, v in tags.items()
                if k.startswith("msg-param-")
            },
        }
        if kind == "raid":
            data["raider"] = tags.get("msg-param-displayName", tags.get("login", ""))
            data["viewers"] = int(tags.get("msg-param-viewerCount", "0") or 0)
        return PlatformEvent("twitch", channel, kind, ts, data)
    if command == "NOTICE":
        data = {"msg_id": tags.get("msg-id", ""), "text": message.text}
        return PlatformEvent("twitch", channel, "notice", ts, data)
    if command == "USERSTATE":
        roles = roles_from(tags)
        moderator = Role.MODERATOR in roles or Role.BROADCASTER in roles
        data = {"moderator": moderator, "badges": tags.get("badges", "")}
        return PlatformEvent("twitch", channel, "userstate", ts, data)
    return None
