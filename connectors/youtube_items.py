"""YouTube live-chat actions (the JSON of `get_live_chat` pages) → ChatMessage and PlatformEvent.

Pure code, no I/O. Our own processor instead of pytchat's default one: it keeps what a desk
needs (roles, paid amounts, memberships) and the moderation actions the default drops
(deletions of one message and of all of an author's messages). An action of a shape we do not
know, or a known one that is malformed, becomes an `unknown` or `malformed` event."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from vigile.connectors.model import ChatMessage, MessageKind, PlatformEvent, Role, utc_now

_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_URL_FORMS = re.compile(
    r"(?:[?&]v=|youtu\.be/|/live/|/shorts/|/embed/|/v/)(?P<id>[A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])"
)
_AMOUNT = re.compile(r"(?P<number>\d[\d\s.,\u00a0\u202f]*)")
_BADGE_ROLES = {"OWNER": Role.BROADCASTER, "MODERATOR": Role.MODERATOR, "VERIFIED": Role.VERIFIED}
_MESSAGE_RENDERERS = {
    "liveChatTextMessageRenderer": MessageKind.CHAT,
    "liveChatPaidMessageRenderer": MessageKind.PAID,
    "liveChatPaidStickerRenderer": MessageKind.PAID,
    "liveChatMembershipItemRenderer": MessageKind.NOTICE,
    "liveChatLegacyPaidMessageRenderer": MessageKind.NOTICE,  # the old form of a new member
}
# Known items that carry nothing a moderator acts on (placeholders, the ticker that repeats
# paid messages, engagement banners YouTube shows everyone).
_QUIET_ITEMS = frozenset(
    {
        "liveChatPlaceholderItemRenderer",
        "liveChatViewerEngagementMessageRenderer",
        "liveChatModeChangeMessageRenderer",
        "liveChatAutoModMessageRenderer",
    }
)
_QUIET_ACTIONS = frozenset(
    {
        "addLiveChatTickerItemAction",
        "showLiveChatTooltipCommand",
        "updateLiveChatPollAction",
        "showLiveChatActionPanelAction",
        "closeLiveChatActionPanelAction",
        "removeBannerForLiveChatCommand",
        "liveChatReportModerationStateCommand",
        "clickTrackingParams",
    }
)


@cache
def _currencies() -> dict[str, str]:
    """pytchat's table of the symbols YouTube shows, keyed as typed (`CHF\xa0`, fullwidth `￥`…).
    Read on the first paid message: importing pytchat costs a good part of a second, which an
    import of a Twitch archive should not pay."""
    from pytchat.processors.default.renderer.currency import symbols

    return {
        unicodedata.normalize("NFKC", shown).strip(): n["fxtext"] for shown, n in symbols.items()
    }


class InvalidVideo(ValueError):
    pass


def video_id(spec: str) -> str:
    """A video id from an id or any URL form: watch?v=, youtu.be/, /live/, /shorts/, /embed/."""
    spec = spec.strip()
    if _VIDEO_ID.match(spec):
        return spec
    found = _URL_FORMS.search(spec)
    if found is None:
        raise InvalidVideo(f"{spec!r} is neither a YouTube video id nor a video URL")
    return found["id"]


def items_from(action: Mapping[str, Any], video: str) -> Iterator[ChatMessage | PlatformEvent]:
    """What one live-chat action means for the desk (often nothing)."""
    try:
        yield from _items(action, video)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        yield _event(video, "malformed", action=_clip(action), error=error)


def _event(video: str, kind: str, /, **data: Any) -> PlatformEvent:
    return PlatformEvent("youtube", video, kind, data=data)


_ONE_DELETED = ("markChatItemAsDeletedAction", "removeChatItemAction")
_AUTHOR_DELETED = ("markChatItemsByAuthorAsDeletedAction", "removeChatItemByAuthorAction")


def _items(action: Mapping[str, Any], video: str) -> Iterator[ChatMessage | PlatformEvent]:
    deleted = next((action[k] for k in _ONE_DELETED if k in action), None)
    purged = next((action[k] for k in _AUTHOR_DELETED if k in action), None)
    if "addChatItemAction" in action:
        yield from _chat_item(action["addChatItemAction"]["item"], video)
    elif "replaceChatItemAction" in action:  # a placeholder becomes the real message
        yield from _chat_item(action["replaceChatItemAction"]["replacementItem"], video)
    elif deleted is not None:
        notice = _runs_text(deleted.get("deletedStateMessage"))
        yield _event(video, "delete", message_id=deleted["targetItemId"], notice=notice)
    elif purged is not None:
        notice = _runs_text(purged.get("deletedStateMessage"))
        yield _event(
            video, "delete_by_author", author_id=purged["externalChannelId"], notice=notice
        )
    elif "addBannerToLiveChatCommand" in action:
        yield _event(video, "banner", banner=_clip(action))
    elif not (set(action) <= _QUIET_ACTIONS):
        kind = next((k for k in action if k != "clickTrackingParams"), "")
        yield _event(video, "unknown", kind=kind, action=_clip(action))


def _chat_item(item: Mapping[str, Any], video: str) -> Iterator[ChatMessage | PlatformEvent]:
    ((renderer_name, body),) = item.items()
    if renderer_name in _QUIET_ITEMS:
        return
    if "SponsorshipsGift" in renderer_name:  # gifted memberships: bought or received
        author = body.get("authorExternalChannelId", "")
        yield _event(video, "membership_gift", author_id=author, renderer=renderer_name)
        return
    kind = _MESSAGE_RENDERERS.get(renderer_name)
    if kind is None:
        yield _event(video, "unknown", kind=renderer_name, action=_clip(item))
        return
    text = _runs_text(body.get("message"))
    amount = currency = None
    raw: dict[str, Any] = {"renderer": renderer_name}
    if renderer_name == "liveChatPaidMessageRenderer":
        amount, currency = parse_amount(body["purchaseAmountText"]["simpleText"])
    elif renderer_name == "liveChatPaidStickerRenderer":
        amount, currency = parse_amount(body["purchaseAmountText"]["simpleText"])
        label = body.get("sticker", {}).get("accessibility", {}).get("accessibilityData", {})
        text = text or f"[sticker: {label.get('label', 'super sticker')}]"
    elif kind is MessageKind.NOTICE:  # YouTube's words beside the member's own (judged alone)
        raw |= _membership(renderer_name, body)
    usec = body.get("timestampUsec")
    message = ChatMessage(
        platform="youtube",
        channel=video,
        id=body["id"],
        author_id=body["authorExternalChannelId"],
        author_name=body.get("authorName", {}).get("simpleText", ""),
        text=text,
        sent_at=int(usec) / 1_000_000 if usec else utc_now(),
        roles=_roles(body.get("authorBadges", ())),
        kind=kind,
        amount=amount,
        currency=currency,
        raw=raw
        | {
            "amount_text": body.get("purchaseAmountText", {}).get("simpleText", ""),
            "author_photo": _first_thumbnail(body.get("authorPhoto")),
        },
    )
    yield message
    if kind is MessageKind.NOTICE:  # and the stream event it is, like Twitch's sub notices
        yield PlatformEvent(
            "youtube",
            video,
            str(raw["notice"]),
            message.sent_at,
            {
                "message_id": message.id,
                "author_id": message.author_id,
                "user": message.author_name,
                "system_message": raw["system_message"],
                "text": text,
            },
        )


def _membership(renderer_name: str, body: Mapping[str, Any]) -> dict[str, str]:
    """A new member (`membership`) or a milestone (`membership_milestone`), with YouTube's own
    words (`Welcome to …!`, `Member for 6 months`, `新規メンバー / ようこそ…`)."""
    if renderer_name == "liveChatLegacyPaidMessageRenderer":
        shown = " / ".join(
            part
            for part in (_runs_text(body.get("eventText")), _runs_text(body.get("detailText")))
            if part
        )
        return {"notice": "membership", "system_message": shown}
    primary = _runs_text(body.get("headerPrimaryText"))
    notice = "membership_milestone" if primary else "membership"
    return {"notice": notice, "system_message": primary or _runs_text(body.get("headerSubtext"))}


def _roles(badges: Any) -> frozenset[Role]:
    roles = set()
    for badge in badges:
        renderer = badge["liveChatAuthorBadgeRenderer"]
        icon = renderer.get("icon", {}).get("iconType", "")
        if icon in _BADGE_ROLES:
            roles.add(_BADGE_ROLES[icon])
        if renderer.get("customThumbnail"):  # the channel's member badge
            roles.add(Role.SUBSCRIBER)
    return frozenset(roles)


def _runs_text(message: Mapping[str, Any] | None) -> str:
    """Text runs joined; emoji runs become the emoji itself, or `:shortcut:` for custom ones."""
    if not message:
        return ""
    if "simpleText" in message:
        return str(message["simpleText"])
    parts = []
    for run in message.get("runs", ()):
        if "text" in run:
            parts.append(str(run["text"]))
        elif "emoji" in run:
            emoji = run["emoji"]
            shortcuts = emoji.get("shortcuts") or [""]
            custom = emoji.get("isCustomEmoji") or "/" in str(emoji.get("emojiId", ""))
            parts.append(shortcuts[0] if custom else str(emoji.get("emojiId") or shortcuts[0]))
    return "".join(parts)


def parse_amount(shown: str) -> tuple[float, str]:
    """`€10,50` → (10.5, "EUR"); `CA$5.00` → (5.0, "CAD"); `1 234,56 €` → (1234.56, "EUR")."""
    found = _AMOUNT.search(shown)
    if found is None:
        raise ValueError(f"no amount in {shown!r}")
    symbol = unicodedata.normalize("NFKC", shown[: found.start()] + shown[found.end() :]).strip()
    number = re.sub(r"[\s\u00a0\u202f]", "", found["number"]).rstrip(".,")
    last = max(number.rfind(","), number.rfind("."))
    if last != -1 and len(number) - last - 1 in (1, 2):  # a decimal separator
        number = re.sub(r"[.,]", "", number[:last]) + "." + number[last + 1 :]
    else:
        number = re.sub(r"[.,]", "", number)
    return float(number), _currencies().get(symbol, symbol)


def _first_thumbnail(photo: Any) -> str:
    thumbnails = (photo or {}).get("thumbnails") or [{}]
    return str(thumbnails[0].get("url", ""))


def _clip(value: Any, limit: int = 2_000) -> str:
    return repr(value)[:limit]
