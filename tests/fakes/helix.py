"""A local HTTP server that answers like Twitch's Helix API and its OAuth endpoints, for tests.

Covers what Vigile calls: token validation and refresh, the device code flow, user lookup, and
the moderation endpoints (bans and timeouts, unban, delete one message or the whole chat, warn,
chat settings), with Twitch's checks and error bodies: a token's scopes, the moderator id
matching the token, the moderator actually moderating the channel, rate limits."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.local_http import LocalHttpServer

BANS = "moderator:manage:banned_users"
CHAT_MESSAGES = "moderator:manage:chat_messages"
CHAT_SETTINGS = "moderator:manage:chat_settings"
WARNINGS = "moderator:manage:warnings"
ALL_SCOPES = (BANS, CHAT_MESSAGES, CHAT_SETTINGS, WARNINGS, "chat:read")


@dataclass
class Account:
    user_id: str
    login: str
    scopes: tuple[str, ...] = ALL_SCOPES
    expires_in: int = 14_400


@dataclass
class Failure:
    """The next request whose path ends with `path` gets this answer instead."""

    path: str
    status: int
    message: str = ""
    reset_in_s: float | None = None  # 429: when the bucket refills


@dataclass
class FakeHelix(LocalHttpServer):
    client_id: str = "vigile-test-client"
    users: dict[str, str] = field(default_factory=lambda: {"1": "lumina", "2": "modo"})
    moderators: dict[str, set[str]] = field(default_factory=lambda: {"1": {"2"}})
    tokens: dict[str, Account] = field(default_factory=dict)
    refresh_tokens: dict[str, Account] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    bans: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    device_approvals: dict[str, Account | None] = field(default_factory=dict)  # None: pending

    def grant(self, account: Account, token: str = "", refresh: str = "") -> tuple[str, str]:
        token, refresh = token or secrets.token_hex(15), refresh or secrets.token_hex(25)
        self.tokens[token], self.refresh_tokens[refresh] = account, account
        return token, refresh

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/oauth2/validate", self._validate)
        app.router.add_post("/oauth2/device", self._device)
        app.router.add_post("/oauth2/token", self._token)
        app.router.add_get("/helix/users", self._users)
        app.router.add_post("/helix/moderation/bans", self._ban)
        app.router.add_delete("/helix/moderation/bans", self._unban)
        app.router.add_delete("/helix/moderation/chat", self._delete)
        app.router.add_post("/helix/moderation/warnings", self._warn)
        app.router.add_patch("/helix/chat/settings", self._chat_settings)
        app.middlewares.append(self._recorded)

    # -- plumbing ---------------------------------------------------------------------------

    @web.middleware
    async def _recorded(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.json() if request.can_read_body and _is_json(request) else None
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "json": body,
                "auth": request.headers.get("Authorization", ""),
                "client_id": request.headers.get("Client-Id", ""),
            }
        )
        for failure in self.failures:
            if request.path.endswith(failure.path):
                self.failures.remove(failure)
                headers = {"Ratelimit-Limit": "800", "Ratelimit-Remaining": "0"}
                if failure.reset_in_s is not None:
                    headers["Ratelimit-Reset"] = str(int(time.time() + failure.reset_in_s))
                return _error(failure.status, failure.message, headers)
        try:
            return await handler(request)
        except _Refused as refused:
            return refused.response

    def _account(self, request: web.Request, scope: str | None) -> Account:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        account = self.tokens.get(token)
        if request.headers.get("Client-Id") != self.client_id:
            raise _Refused(401, "Client ID and OAuth token do not match")
        if account is None:
            raise _Refused(401, "Invalid OAuth token")
        if scope and scope not in account.scopes:
            raise _Refused(401, f"Missing scope: {scope}")
        return account

    def _moderating(self, request: web.Request, scope: str) -> tuple[Account, str]:
        account = self._account(request, scope)
        broadcaster, moderator = request.query["broadcaster_id"], request.query["moderator_id"]
        if moderator != account.user_id:
            raise _Refused(
                401,
                "The ID in moderator_id must match the user ID found in the request's OAuth token.",
            )
        if moderator != broadcaster and moderator not in self.moderators.get(broadcaster, set()):
            raise _Refused(
                403, "The user in moderator_id is not one of the broadcaster's moderators."
            )
        return account, broadcaster

    # -- OAuth (id.twitch.tv) ---------------------------------------------------------------

    async def _validate(self, request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        account = self.tokens.get(token) if scheme in ("OAuth", "Bearer") else None
        if account is None:
            return _error(401, "invalid access token")
        return web.json_response(
            {
                "client_id": self.client_id,
                "login": account.login,
                "scopes": list(account.scopes),
                "user_id": account.user_id,
                "expires_in": account.expires_in,
            }
        )

    async def _device(self, request: web.Request) -> web.Response:
        if request.query.get("client_id") != self.client_id:
            return _error(400, "invalid client")
        code = secrets.token_hex(8)
        self.device_approvals[code] = None
        user_code = code[:8].upper()
        return web.json_response(
            {
                "device_code": code,
                "expires_in": 1800,
                "interval": 1,
                "user_code": user_code,
                "verification_uri": "https://www.twitch.tv/activate?public=true"
                f"&device-code={user_code}",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        grant = request.query.get("grant_type", "")
        if grant.endswith("device_code"):
            code = request.query.get("device_code", "")
            if code not in self.device_approvals:
                return _error(400, "invalid device code")
            account = self.device_approvals[code]
            if account is None:
                return _error(400, "authorization_pending")
            del self.device_approvals[code]
        elif grant == "refresh_token":
            account = self.refresh_tokens.pop(request.query.get("refresh_token", ""), None)
            if account is None:
                return _error(400, "Invalid refresh token")
        else:
            return _error(400, "unsupported grant type")
        token, refresh = self.grant(account)
        return web.json_response(
            {
                "access_token": token,
                "refresh_token": refresh,
                "expires_in": account.expires_in,
                "scope": list(account.scopes),
                "token_type": "bearer",
            }
        )

    def approve(self, account: Account) -> None:
        """The person at the browser typed the code and said yes."""
        for code, approved in self.device_approvals.items():
            if approved is None:
                self.device_approvals[code] = account

    # -- Helix ------------------------------------------------------------------------------

    async def _users(self, request: web.Request) -> web.Response:
        self._account(request, None)
        logins, ids = request.query.getall("login", []), request.query.getall("id", [])
        found = [
            {
                "id": uid,
                "login": login,
                "display_name": login.title(),
                "type": "",
                "broadcaster_type": "",
                "description": "",
                "profile_image_url": "",
                "offline_image_url": "",
                "view_count": 0,
                "created_at": "2020-01-01T00:00:00Z",
            }
            for uid, login in self.users.items()
            if login in logins or uid in ids
        ]
        return web.json_response({"data": found})

    async def _ban(self, request: web.Request) -> web.Response:
        account, broadcaster = self._moderating(request, BANS)
        data = (await request.json())["data"]
        user, duration = str(data["user_id"]), data.get("duration")
        if (broadcaster, user) in self.bans and self.bans[(broadcaster, user)]["end_time"] is None:
            return _error(400, "The user specified in the user_id field is already banned.")
        now = time.time()
        ban = {
            "broadcaster_id": broadcaster,
            "moderator_id": account.user_id,
            "user_id": user,
            "created_at": _iso(now),
            "end_time": _iso(now + duration) if duration else None,
            "reason": data.get("reason", ""),
        }
        self.bans[(broadcaster, user)] = ban
        return web.json_response({"data": [ban]})

    async def _unban(self, request: web.Request) -> web.Response:
        _, broadcaster = self._moderating(request, BANS)
        if self.bans.pop((broadcaster, request.query["user_id"]), None) is None:
            return _error(400, "The user specified in the user_id field is not banned.")
        return web.Response(status=204)

    async def _delete(self, request: web.Request) -> web.Response:
        _, broadcaster = self._moderating(request, CHAT_MESSAGES)
        message = request.query.get("message_id")
        if message is None:
            self.cleared.append(broadcaster)
        elif message.startswith("gone"):
            return _error(404, "The ID in message_id was not found.")
        else:
            self.deleted.append(message)
        return web.Response(status=204)

    async def _warn(self, request: web.Request) -> web.Response:
        account, broadcaster = self._moderating(request, WARNINGS)
        data = (await request.json())["data"]
        warning = {
            "broadcaster_id": broadcaster,
            "moderator_id": account.user_id,
            "user_id": str(data["user_id"]),
            "reason": data["reason"],
        }
        self.warnings.append(warning)
        return web.json_response({"data": [warning]})

    async def _chat_settings(self, request: web.Request) -> web.Response:
        account, broadcaster = self._moderating(request, CHAT_SETTINGS)
        settings = self.settings.setdefault(
            broadcaster,
            {
                "broadcaster_id": broadcaster,
                "moderator_id": account.user_id,
                "emote_mode": False,
                "follower_mode": False,
                "follower_mode_duration": None,
                "slow_mode": False,
                "slow_mode_wait_time": None,
                "subscriber_mode": False,
                "unique_chat_mode": False,
                "non_moderator_chat_delay": False,
                "non_moderator_chat_delay_duration": None,
            },
        )
        settings.update(await request.json())
        return web.json_response({"data": [settings]})


def _is_json(request: web.Request) -> bool:
    return request.content_type == "application/json"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    reason = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        429: "Too Many Requests",
    }.get(status, "Error")
    body = {"error": reason, "status": status, "message": message}
    return web.json_response(body, status=status, headers=headers)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.response = _error(status, message)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
