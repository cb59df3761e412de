"""TwitchDownloader's chat JSON: `streamer`, `video`, then `comments[]` (each with
`content_offset_seconds`, `commenter`, `message.body`, `fragments`, `user_badges`), read as a
stream: the file can be gigabytes, most of it embedded emote images after the comments."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC
from typing import Any

import ijson

from vigile.connectors.model import ChatMessage, MessageKind, Role
from vigile.connectors.twitch_events import roles_from
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.clock import parse_datetime
from vigile.replay.importers.items import ImportOptions, Item, Timeline, malformed
from vigile.replay.importers.jsonstream import broken_json

# Notices TwitchDownloader keeps among the comments (`user_notice_params.msg_id`).
_SYSTEM_NOTICES = frozenset({"sub", "resub", "subgift", "submysterygift", "raid", "announcement"})


def read(archive: Archive, options: ImportOptions) -> Iterator[Item]:
    events = ijson.parse(archive.stream, use_float=True)
    head: dict[str, Any] = {}
    channel = options.channel or ""
    timeline = Timeline(options.origin())
    try:
        for prefix, event, value in events:  # the header, up to the comments
            if prefix == "comments" and event == "start_array":
                break
            if event in ("string", "number") and prefix in _HEAD:
                head[prefix] = value
        channel = options.channel or str(head.get("streamer.name") or archive.path.stem)
        start = _start(head, options)
        for index, comment in enumerate(ijson.items(events, "comments.item"), 1):
            try:
                message = _message(comment, channel, start)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                error = f"comment #{index} unreadable: {type(exc).__name__}: {exc}"
                yield from timeline.untimed(
                    malformed("twitch", channel, index, error, repr(comment), 0.0)
                )
                continue
            yield from timeline.timed(message, message.sent_at)
    except ijson.JSONError as exc:
        yield from timeline.untimed(broken_json("twitch", channel, archive, exc))
    yield from timeline.end()


_HEAD = frozenset({"streamer.name", "streamer.id", "video.id", "video.created_at", "video.start"})


def _start(head: Mapping[str, Any], options: ImportOptions) -> float | None:
    """The wall time of offset 0 (for comments without their own `created_at`)."""
    if "video.created_at" in head:
        try:
            return parse_datetime(str(head["video.created_at"]), options.tz) + float(
                head.get("video.start") or 0
            )
        except ValueError:
            pass
    return options.origin()


def _message(comment: Mapping[str, Any], channel: str, start: float | None) -> ChatMessage:
    commenter, body = comment["commenter"], comment["message"]
    if comment.get("created_at"):
        sent = parse_datetime(str(comment["created_at"]), UTC)
    elif start is not None:
        sent = start + float(comment["content_offset_seconds"])
    else:
        raise ValueError("neither created_at nor a video start to place the offset")
    badges = body.get("user_badges") or ()
    roles = roles_from({"badges": ",".join(f"{b['_id']}/{b.get('version', '')}" for b in badges)})
    if commenter.get("_id") == comment.get("channel_id"):
        roles = roles | {Role.BROADCASTER}
    kind, amount = MessageKind.CHAT, None
    notice = (body.get("user_notice_params") or {}).get("msg_id")
    if body.get("is_action"):
        kind = MessageKind.ACTION
    if body.get("bits_spent"):
        kind, amount = MessageKind.PAID, float(body["bits_spent"])
    elif notice in _SYSTEM_NOTICES:
        kind = MessageKind.NOTICE  # as the live reader records a notice with a user's words
    emotes = [
        f["emoticon"]["emoticon_id"] for f in body.get("fragments") or () if f.get("emoticon")
    ]
    return ChatMessage(
        platform="twitch",
        channel=channel,
        id=str(comment["_id"]),
        author_id=str(commenter["_id"]),
        author_name=str(commenter.get("display_name") or commenter.get("name") or ""),
        text=str(body["body"]),
        sent_at=sent,
        received_at=sent,
        roles=roles,
        kind=kind,
        amount=amount,
        currency="BITS" if amount is not None else None,
        raw={
            "login": commenter.get("name", ""),
            "offset_s": comment.get("content_offset_seconds"),
            "color": body.get("user_color"),
            "emotes": emotes,
            "notice": notice,
        },
    )
