"""The parts of the YouTube Data API v3 and Google OAuth that Vigile calls, answering like Google:
the moderator's channel, a video's live chat id, the chat's messages (under the API's own ids),
deleting one, bans and timeouts, lifting a ban; the device flow and token refresh. Mounted on
the same local server as the live-chat fake, as `--youtube-base-url` sends everything there."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

LIVE_CHAT_ID = "KicKGFVDdmlnaWxlVGVzdENoYW5uZWwwMDAwMRILZFF3NHc5V2dYY1E"


@dataclass
class ApiFailure:
    """The next call whose path ends with `path` gets this error instead."""

    path: str
    status: int
    reason: str
    message: str = ""


@dataclass
class FakeDataApi:
    client_id: str = "vigile-test.apps.googleusercontent.com"
    client_secret: str = "test-secret"
    moderator: tuple[str, str] = ("UCmodo__________________", "Modo")
    is_moderator: bool = True
    tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)  # as liveChatMessages.list
    bans: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    failures: list[ApiFailure] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    pending_devices: dict[str, bool] = field(default_factory=dict)  # device code → approved

    def grant(self) -> tuple[str, str]:
        token, refresh = "ya29." + secrets.token_hex(12), "1//" + secrets.token_hex(12)
        self.tokens.add(token)
        self.refresh_tokens.add(refresh)
        return token, refresh

    def approve_all(self) -> None:
        for code in self.pending_devices:
            self.pending_devices[code] = True

    def mount(self, app: web.Application) -> None:
        app.middlewares.append(google_errors)
        app.router.add_post("/device/code", self._device_code)
        app.router.add_post("/token", self._token)
        api = "/youtube/v3"
        app.router.add_get(f"{api}/channels", self._channels)
        app.router.add_get(f"{api}/videos", self._videos)
        app.router.add_get(f"{api}/liveChat/messages", self._list_messages)
        app.router.add_delete(f"{api}/liveChat/messages", self._delete_message)
        app.router.add_post(f"{api}/liveChat/bans", self._ban)
        app.router.add_delete(f"{api}/liveChat/bans", self._unban)

    def said(self, renderer: dict[str, Any]) -> None:
        """A text message served on a live-chat page, as the Data API lists it."""
        if not {"id", "timestampUsec", "authorExternalChannelId"} <= set(renderer):
            return  # a broken item the tests serve on purpose: nothing the API would list
        sent = int(renderer["timestampUsec"]) / 1e6
        published = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sent))
        text = "".join(run.get("text", "") for run in renderer.get("message", {}).get("runs", ()))
        self.messages.append(
            {
                "kind": "youtube#liveChatMessage",
                "id": "LCC." + renderer["id"][::-1],
                "snippet": {
                    "type": "textMessageEvent",
                    "liveChatId": LIVE_CHAT_ID,
                    "authorChannelId": renderer["authorExternalChannelId"],
                    "publishedAt": published + ".000000Z",
                    "displayMessage": text,
                },
            }
        )

    # -- OAuth ------------------------------------------------------------------------------

    async def _device_code(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != self.client_id:
            return web.json_response({"error": "invalid_client"}, status=401)
        code = secrets.token_hex(8)
        self.pending_devices[code] = False
        return web.json_response(
            {
                "device_code": code,
                "user_code": "GQVQ-JKEC",
                "verification_url": "https://www.google.com/device",
                "expires_in": 1800,
                "interval": 0.1,
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                why = "Token has been expired or revoked."
                return web.json_response(
                    {"error": "invalid_grant", "error_description": why}, status=400
                )
            token = "ya29." + secrets.token_hex(12)
            self.tokens.add(token)
            return web.json_response(
                {
                    "access_token": token,
                    "expires_in": 3599,
                    "scope": "https://www.googleapis.com/auth/youtube",
                    "token_type": "Bearer",
                }
            )
        approved = self.pending_devices.get(str(form.get("device_code")))
        if approved is None:
            return web.json_response({"error": "invalid_grant"}, status=400)
        if not approved:
            pending = {
                "error": "authorization_pending",
                "error_description": "Precondition Required",
            }
            return web.json_response(pending, status=428)
        token, refresh = self.grant()
        return web.json_response(
            {
                "access_token": token,
                "refresh_token": refresh,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/youtube",
            }
        )

    # -- Data API ---------------------------------------------------------------------------

    def _check(self, request: web.Request, moderating: bool = True) -> None:
        self.calls.append(f"{request.method} {request.path}")
        for failure in self.failures:
            if request.path.endswith(failure.path):
                self.failures.remove(failure)
                raise _error(failure.status, failure.reason, failure.message)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            raise _error(401, "authError", "Request had invalid authentication credentials.")
        if moderating and not self.is_moderator:
            raise _error(403, "forbidden", "The request is not properly authorized.")

    async def _channels(self, request: web.Request) -> web.Response:
        self._check(request, moderating=False)
        channel, title = self.moderator
        return web.json_response({"items": [{"id": channel, "snippet": {"title": title}}]})

    async def _videos(self, request: web.Request) -> web.Response:
        self._check(request, moderating=False)
        details = {"activeLiveChatId": LIVE_CHAT_ID, "actualStartTime": "2026-11-21T20:00:00Z"}
        return web.json_response(
            {"items": [{"id": request.query["id"], "liveStreamingDetails": details}]}
        )

    async def _list_messages(self, request: web.Request) -> web.Response:
        self._check(request)
        return web.json_response(
            {
                "kind": "youtube#liveChatMessageListResponse",
                "pollingIntervalMillis": 2000,
                "items": self.messages,
            }
        )

    async def _delete_message(self, request: web.Request) -> web.Response:
        self._check(request)
        target = request.query["id"]
        if not any(m["id"] == target for m in self.messages) or target in self.deleted:
            raise _error(
                404, "liveChatMessageNotFound", "The specified live chat message can not be found."
            )
        self.deleted.append(target)
        return web.Response(status=204)

    async def _ban(self, request: web.Request) -> web.Response:
        self._check(request)
        snippet = (await request.json())["snippet"]
        if snippet.get("liveChatId") != LIVE_CHAT_ID:
            raise _error(404, "liveChatNotFound", "The live chat can not be found.")
        ban_id = "ban-" + secrets.token_hex(4)
        self.bans[ban_id] = snippet
        return web.json_response({"kind": "youtube#liveChatBan", "id": ban_id, "snippet": snippet})

    async def _unban(self, request: web.Request) -> web.Response:
        self._check(request)
        if self.bans.pop(request.query["id"], None) is None:
            raise _error(404, "liveChatBanNotFound", "The specified ban can not be found.")
        return web.Response(status=204)


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def _error(status: int, reason: str, message: str) -> _Refused:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "youtube.liveChat", "reason": reason}],
        }
    }
    return _Refused(web.json_response(body, status=status))


@web.middleware
async def google_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except _Refused as refused:
        return refused.response
