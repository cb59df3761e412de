"""A local HTTP server that answers like YouTube's live chat, for tests.

It serves the embed page (where the video's channel id is found) and pages of
`youtubei/v1/live_chat/get_live_chat` in YouTube's JSON shapes. Page n carries the continuation
`c{n+1}`; a request's continuation says which page it wants (the first one, built by pytchat
from the video and channel, asks for page 0), so a client that resumes from its last good
continuation gets the page it missed. Steps can also be an HTTP error, a stall or broken JSON
(each happens once: asked again, the page is served), YouTube's "no such chat" error, or the
end of the chat."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.local_http import LocalHttpServer
from tests.fakes.youtube_api import FakeDataApi

CHANNEL_ID = "UCvigileTestChannel00001"  # 24 characters, like YouTube's


@dataclass
class Stall:
    """Answer nothing for this long (the client's timeout should fire first)."""

    seconds: float


@dataclass
class HttpError:
    status: int


@dataclass
class BadVideo:
    """YouTube's answer for a private, deleted or wrong video."""


@dataclass
class End:
    """The chat is over: a page without continuation contents."""


Step = list[dict[str, Any]] | str | Stall | HttpError | BadVideo | End  # actions, or raw text


@dataclass
class FakeYouTube(LocalHttpServer):
    steps: list[Step]
    video_id: str = "dQw4w9WgXcQ"
    timeout_ms: int = 50
    served: list[str] = field(default_factory=list)  # continuation asked for, per request
    api: FakeDataApi = field(default_factory=FakeDataApi)  # the Data API, for actions
    _failed_once: set[int] = field(default_factory=set)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/embed/{video}", self._embed)
        app.router.add_get("/watch", self._mobile_watch)
        app.router.add_post("/youtubei/v1/live_chat/get_live_chat", self._live_chat)
        self.api.mount(app)

    async def _embed(self, request: web.Request) -> web.Response:
        if request.match_info["video"] != self.video_id:
            return web.Response(text="<html>Video unavailable</html>", content_type="text/html")
        # the embed page holds its configuration as escaped JSON inside a script
        script = f'ytcfg.set({{"PLAYER_VARS": "{{\\"channelId\\":\\"{CHANNEL_ID}\\"}}"}});'
        return web.Response(
            text=f"<html><script>{script}</script></html>", content_type="text/html"
        )

    async def _mobile_watch(self, request: web.Request) -> web.Response:
        return web.Response(text="<html>Video unavailable</html>", content_type="text/html")

    async def _live_chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        continuation = body["continuation"]
        self.served.append(continuation)
        index = int(continuation[1:]) if continuation.startswith("c") else 0
        if index >= len(self.steps):  # nothing more to say: an empty page, same continuation
            return web.json_response(_page([], continuation, self.timeout_ms))
        step = self.steps[index]
        if isinstance(step, Stall | HttpError | str) and index in self._failed_once:
            step = []  # a fault happens once; asked again, the page is there
        if isinstance(step, Stall):
            self._failed_once.add(index)
            await asyncio.sleep(step.seconds)
            return web.json_response(_page([], f"c{index + 1}", self.timeout_ms))
        if isinstance(step, HttpError):
            self._failed_once.add(index)
            return web.Response(
                status=step.status, text="<html>Oops</html>", content_type="text/html"
            )
        if isinstance(step, BadVideo):
            return web.json_response(
                {
                    "responseContext": {
                        "errors": {
                            "error": [
                                {
                                    "domain": "gdata.CoreErrorDomain",
                                    "code": "invalid",
                                    "debugInfo": "video",
                                }
                            ]
                        }
                    }
                }
            )
        if isinstance(step, End):
            return web.json_response({"responseContext": {"visitorData": "Cgt2aXNpdG9y"}})
        if isinstance(step, str):
            self._failed_once.add(index)
            return web.Response(text=step, content_type="application/json")
        for action in step:  # what the Data API will list, under its own ids
            item = action.get("addChatItemAction", {}).get("item", {})
            if "liveChatTextMessageRenderer" in item:
                self.api.said(item["liveChatTextMessageRenderer"])
        return web.json_response(_page(step, f"c{index + 1}", self.timeout_ms))


def _page(actions: list[dict[str, Any]], continuation: str, timeout_ms: int) -> dict[str, Any]:
    return {
        "responseContext": {"visitorData": "Cgt2aXNpdG9y"},
        "continuationContents": {
            "liveChatContinuation": {
                "continuations": [
                    {
                        "invalidationContinuationData": {
                            "invalidationId": {"objectSource": 1056, "topic": "chat~fake"},
                            "timeoutMs": timeout_ms,
                            "continuation": continuation,
                        }
                    }
                ],
                "actions": actions,
            }
        },
    }


# -- YouTube's shapes ---------------------------------------------------------------------------

_ids = itertools.count(1)
BADGES = {
    "owner": {"liveChatAuthorBadgeRenderer": {"icon": {"iconType": "OWNER"}, "tooltip": "Owner"}},
    "moderator": {
        "liveChatAuthorBadgeRenderer": {"icon": {"iconType": "MODERATOR"}, "tooltip": "Moderator"}
    },
    "verified": {
        "liveChatAuthorBadgeRenderer": {"icon": {"iconType": "VERIFIED"}, "tooltip": "Verified"}
    },
    "member": {
        "liveChatAuthorBadgeRenderer": {
            "customThumbnail": {"thumbnails": [{"url": "https://yt3.ggpht.com/member=s16"}]},
            "tooltip": "Member (2 months)",
        }
    },
}


def _author(name: str, channel: str | None, badges: tuple[str, ...]) -> dict[str, Any]:
    return {
        "authorName": {"simpleText": name},
        "authorPhoto": {"thumbnails": [{"url": "https://yt4.ggpht.com/p=s32", "width": 32}]},
        "authorExternalChannelId": channel or f"UC{name.lower():_<22}"[:24],
        "authorBadges": [BADGES[b] for b in badges],
    }


def _add(renderer: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "clickTrackingParams": "CAEQl98BIhMI",
        "addChatItemAction": {"item": {renderer: body}, "clientId": "CPXs7"},
    }


def text_message(
    text: str | list[dict[str, Any]],
    author: str = "viewer",
    msg_id: str = "",
    badges: tuple[str, ...] = (),
    channel: str | None = None,
    usec: int = 1_767_225_600_000_000,
) -> dict[str, Any]:
    runs = [{"text": text}] if isinstance(text, str) else text
    return _add(
        "liveChatTextMessageRenderer",
        {
            "id": msg_id or f"ChwKGkNJ{next(_ids):08d}",
            "timestampUsec": str(usec),
            "message": {"runs": runs},
            **_author(author, channel, badges),
        },
    )


def emoji(char: str = "😀", shortcut: str = ":grinning_face:") -> dict[str, Any]:
    return {
        "emoji": {
            "emojiId": char,
            "shortcuts": [shortcut],
            "searchTerms": ["grin"],
            "image": {"thumbnails": [{"url": "https://fonts.gstatic.com/e.png"}]},
        }
    }


def custom_emoji(shortcut: str = ":yt:") -> dict[str, Any]:
    return {
        "emoji": {
            "emojiId": "UCkszU2WH9gy1mb0dV-11UJg/CIW60IPp_dYCFf",
            "isCustomEmoji": True,
            "shortcuts": [shortcut],
            "image": {"thumbnails": [{"url": "https://yt3.ggpht.com/e"}]},
        }
    }


def super_chat(amount: str, text: str = "", author: str = "donor", msg_id: str = "") -> dict:
    body: dict[str, Any] = {
        "id": msg_id or f"ChwKGkNJ{next(_ids):08d}",
        "timestampUsec": "1767225600000000",
        "purchaseAmountText": {"simpleText": amount},
        "headerBackgroundColor": 4278239141,
        **_author(author, None, ()),
    }
    if text:
        body["message"] = {"runs": [{"text": text}]}
    return _add("liveChatPaidMessageRenderer", body)


def super_sticker(amount: str, label: str = "Happy cat", author: str = "donor") -> dict:
    return _add(
        "liveChatPaidStickerRenderer",
        {
            "id": f"ChwKGkNJ{next(_ids):08d}",
            "timestampUsec": "1767225600000000",
            "purchaseAmountText": {"simpleText": amount},
            "sticker": {"accessibility": {"accessibilityData": {"label": label}}},
            **_author(author, None, ()),
        },
    )


def membership(author: str = "newmember", milestone: str = "", text: str = "") -> dict:
    body: dict[str, Any] = {
        "id": f"ChwKGkNJ{next(_ids):08d}",
        "timestampUsec": "1767225600000000",
        **_author(author, None, ("member",)),
    }
    if milestone:
        body["headerPrimaryText"] = {"runs": [{"text": milestone}]}
        body["message"] = {"runs": [{"text": text}]}
    else:
        body["headerSubtext"] = {
            "runs": [{"text": "Welcome to "}, {"text": "Lumina"}, {"text": "!"}]
        }
    return _add("liveChatMembershipItemRenderer", body)


def deleted(target: str) -> dict[str, Any]:
    return {
        "markChatItemAsDeletedAction": {
            "deletedStateMessage": {"runs": [{"text": "[message retracted]"}]},
            "targetItemId": target,
        }
    }


def removed(target: str) -> dict[str, Any]:
    return {"removeChatItemAction": {"targetItemId": target}}


def deleted_by_author(channel: str) -> dict[str, Any]:
    return {
        "markChatItemsByAuthorAsDeletedAction": {
            "deletedStateMessage": {"runs": [{"text": "[message deleted]"}]},
            "externalChannelId": channel,
        }
    }


def ticker(amount: str) -> dict[str, Any]:
    return {
        "addLiveChatTickerItemAction": {
            "item": {"liveChatTickerPaidMessageItemRenderer": {"amount": {"simpleText": amount}}},
            "durationSec": "60",
        }
    }
