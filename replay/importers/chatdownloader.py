"""chat-downloader's JSON output (`--output chat.json`): one array of chat items, Twitch or
YouTube, each with `message_type`, `timestamp` (µs), `time_in_seconds`, `author{…}`; read as a
stream. Moderation items (bans, deletions) and notices (subs, raids) become the events a live
desk records for the same thing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import ijson

from vigile.connectors.model import ChatMessage, MessageKind, PlatformEvent, Role
from vigile.connectors.twitch_events import roles_from
from vigile.connectors.youtube_items import parse_amount
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.items import ImportOptions, Item, Timeline, malformed
from vigile.replay.importers.jsonstream import broken_json

_MESSAGES = {
    "text_message": MessageKind.CHAT,
    "paid_message": MessageKind.PAID,
    "paid_sticker": MessageKind.PAID,
    "membership_item": MessageKind.NOTICE,  # as the live reader records a membership
    "highlighted_message": MessageKind.CHAT,
    "send_message_in_subscriber_only_mode": MessageKind.CHAT,
}
# chat-downloader's names for Twitch notices → the IRC msg-id the live reader records
_NOTICES = {
    "subscription": "sub",
    "resubscription": "resub",
    "subscription_gift": "subgift",
    "mystery_subscription_gift": "submysterygift",
    "anonymous_subscription_gift": "anonsubgift",
    "raid": "raid",
    "clear_chat": "clearchat",
}
_YOUTUBE_BADGES = {
    "owner": Role.BROADCASTER,
    "moderator": Role.MODERATOR,
    "verified": Role.VERIFIED,
}


def read(archive: Archive, options: ImportOptions) -> Iterator[Item]:
    channel = options.channel or archive.path.name.split(".")[0]
    timeline = Timeline(options.origin())
    platform = options.platform
    base: float | None = None  # wall time of the video's second 0
    index = 0
    try:
        for index, item in enumerate(ijson.items(archive.stream, "item", use_float=True), 1):
            try:
                platform = platform or _platform(item)
                ts = _time(item, base)
                if base is None and "timestamp" in item and "time_in_seconds" in item:
                    base = ts - float(item["time_in_seconds"])
                converted = _convert(item, platform, channel, ts)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                error = f"item #{index} unreadable: {type(exc).__name__}: {exc}"
                bad = malformed(platform or "twitch", channel, index, error, repr(item), 0.0)
                yield from timeline.untimed(bad)
                continue
            if ts is None:
                yield from timeline.untimed(converted)
            else:
                yield from timeline.timed(converted, ts)
    except ijson.JSONError as exc:
        yield from timeline.untimed(broken_json(platform or "twitch", channel, archive, exc))
    yield from timeline.end()


def _platform(item: Mapping[str, Any]) -> str | None:
    """YouTube channel ids are `UC` and 22 characters; Twitch user ids are numbers."""
    author_id = str((item.get("author") or {}).get("id") or "")
    if not author_id:
        return None
    return "youtube" if author_id.startswith("UC") and len(author_id) == 24 else "twitch"


def _time(item: Mapping[str, Any], base: float | None) -> float | None:
    if "timestamp" in item:
        return float(item["timestamp"]) / 1_000_000
    if base is not None and "time_in_seconds" in item:
        return base + float(item["time_in_seconds"])
    return None


def _convert(item: Mapping[str, Any], platform: str | None, channel: str, ts: float | None) -> Item:
    platform = platform or "twitch"
    kind = str(item.get("message_type") or "text_message")
    at = ts or 0.0
    if kind in _MESSAGES:
        return _message(item, platform, channel, at, _MESSAGES[kind])
    if kind == "ban_user":
        data: dict[str, Any] = {
            "user": item.get("banned_user") or (item.get("author") or {}).get("name", ""),
            "user_id": str(item.get("target_author_id") or ""),
        }
        if item.get("ban_duration") is not None:
            data["duration_s"] = int(item["ban_duration"])
            return PlatformEvent(platform, channel, "timeout", at, data)
        return PlatformEvent(platform, channel, "ban", at, data)
    if kind in ("delete_message", "remove_chat_item", "mark_chat_item_as_deleted"):
        deleted = "clearmsg" if platform == "twitch" else "delete"
        data = {"message_id": str(item["target_message_id"]), "text": item.get("message", "")}
        return PlatformEvent(platform, channel, deleted, at, data)
    if kind in ("remove_chat_item_by_author", "mark_chat_items_by_author_as_deleted"):
        author = item.get("external_channel_id") or (item.get("author") or {}).get("id")
        return PlatformEvent(platform, channel, "delete_by_author", at, {"author_id": author})
    data = {
        "user": (item.get("author") or {}).get("name", ""),
        "user_id": str((item.get("author") or {}).get("id") or ""),
        "system_message": item.get("system_message") or item.get("message") or "",
        "text": item.get("message") or "",
    }
    if kind == "raid":
        data["raider"] = (item.get("author") or {}).get("display_name") or data["user"]
        data["viewers"] = int(item.get("number_of_raiders") or item.get("viewer_count") or 0)
    return PlatformEvent(platform, channel, _NOTICES.get(kind, kind), at, data)


def _message(
    item: Mapping[str, Any], platform: str, channel: str, ts: float, kind: MessageKind
) -> ChatMessage:
    author = item["author"]
    amount = currency = None
    money = item.get("money") or {}
    if money.get("amount") is not None:
        amount, currency = float(money["amount"]), money.get("currency")
    elif item.get("amount"):
        amount, currency = parse_amount(str(item["amount"]))
    elif item.get("bits"):
        amount, currency, kind = float(item["bits"]), "BITS", MessageKind.PAID
    if amount is not None and kind is MessageKind.CHAT:
        kind = MessageKind.PAID
    return ChatMessage(
        platform=platform,
        channel=channel,
        id=str(item["message_id"]),
        author_id=str(author["id"]),
        author_name=str(author.get("display_name") or author.get("name") or ""),
        text=str(item.get("message") or ""),
        sent_at=ts,
        received_at=ts,
        roles=_roles(author, platform),
        kind=kind,
        amount=amount,
        currency=currency,
        reply_to=item.get("in_reply_to_message_id"),
        first_message=bool(item.get("is_first_message")),
        raw={
            "message_type": item.get("message_type"),
            "time_in_seconds": item.get("time_in_seconds"),
            **({"notice": "membership"} if kind == MessageKind.NOTICE else {}),
        },
    )


def _roles(author: Mapping[str, Any], platform: str) -> frozenset[Role]:
    badges = author.get("badges") or ()
    if platform == "twitch":
        spec = ",".join(f"{b.get('name', '')}/{b.get('version', '')}" for b in badges)
        roles = set(roles_from({"badges": spec}))
    else:
        roles = set()
        for badge in badges:
            title = str(badge.get("title") or "").lower()
            if title in _YOUTUBE_BADGES:
                roles.add(_YOUTUBE_BADGES[title])
            elif "member" in title:
                roles.add(Role.SUBSCRIBER)
    if author.get("is_moderator"):
        roles.add(Role.MODERATOR)
    return frozenset(roles)
