"""Twitch IRC messages → ChatMessage and PlatformEvent values. Pure code, no sockets."""

from __future__ import annotations

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
_ACTION = ("\x01ACTION ", "\x01")


def roles_from(tags: dict[str, str]) -> frozenset[Role]:
    roles = {
        _BADGE_ROLES[badge.split("/", 1)[0]]
        for badge in tags.get("badges", "").split(",")
        if badge.split("/", 1)[0] in _BADGE_ROLES
    }
    if tags.get("mod") == "1":
        roles.add(Role.MODERATOR)
    return frozenset(roles)


def _sent_at(tags: dict[str, str]) -> float:
    try:
        return int(tags["tmi-sent-ts"]) / 1000
    except (KeyError, ValueError):
        return utc_now()


def _channel(message: IrcMessage) -> str:
    return message.params[0].lstrip("#") if message.params else ""


def chat_message(message: IrcMessage) -> ChatMessage:
    tags, text = message.tags, message.trailing
    kind = MessageKind.CHAT
    if text.startswith(_ACTION[0]):  # /me: the wrapper is protocol, not chat
        text, kind = text[len(_ACTION[0]) :].removesuffix(_ACTION[1]), MessageKind.ACTION
    amount = None
    if tags.get("bits", "").isdigit():
        amount, kind = float(tags["bits"]), MessageKind.PAID
    return ChatMessage(
        platform="twitch",
        channel=_channel(message),
        id=tags.get("id") or f"{message.nick}:{tags.get('tmi-sent-ts', '')}",
        author_id=tags.get("user-id", message.nick),
        author_name=tags.get("display-name") or message.nick,
        text=text,
        sent_at=_sent_at(tags),
        roles=roles_from(tags),
        kind=kind,
        amount=amount,
        currency="BITS" if amount is not None else None,
        reply_to=tags.get("reply-parent-msg-id") or None,
        first_message=tags.get("first-msg") == "1",
        raw={
            "tags": tags,
            "login": message.nick,
            "emotes": tags.get("emotes", ""),
            "reply_parent_text": tags.get("reply-parent-msg-body", ""),
        },
    )


def platform_event(message: IrcMessage) -> PlatformEvent | None:
    """The stream events a desk records; None for protocol chatter (welcome, JOIN, CAP…)."""
    tags, channel, command = message.tags, _channel(message), message.command
    ts = _sent_at(tags) if "tmi-sent-ts" in tags else utc_now()
    if command == "CLEARCHAT":
        if not message.trailing or len(message.params) < 2:
            return PlatformEvent("twitch", channel, "clearchat", ts, {"scope": "chat"})
        data: dict[str, object] = {
            "user": message.trailing,
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
            "text": message.trailing,
        }
        return PlatformEvent("twitch", channel, "clearmsg", ts, data)
    if command == "USERNOTICE":
        kind = tags.get("msg-id", "usernotice")
        data = {
            "user": tags.get("login", ""),
            "user_id": tags.get("user-id", ""),
            "system_message": tags.get("system-msg", ""),
            "text": message.trailing,
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
        data = {"msg_id": tags.get("msg-id", ""), "text": message.trailing}
        return PlatformEvent("twitch", channel, "notice", ts, data)
    if command == "USERSTATE":
        roles = roles_from(tags)
        moderator = Role.MODERATOR in roles or Role.BROADCASTER in roles
        data = {"moderator": moderator, "badges": tags.get("badges", "")}
        return PlatformEvent("twitch", channel, "userstate", ts, data)
    return None
