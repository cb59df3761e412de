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
AUTOMOD = "moderator:manage:automod"
SHIELD = "moderator:manage:shield_mode"
SUSPICIOUS = "moderator:read:suspicious_users"
UNBAN_REQUESTS = "moderator:manage:unban_requests"
MOD_TOOLS_SCOPES = (
    AUTOMOD,
    SHIELD,
    SUSPICIOUS,
    UNBAN_REQUESTS,
    "moderator:read:blocked_terms",
    "moderator:read:moderators",
    "moderator:read:vips",
)
# Twitch's authorization of each EventSub type: every group needs one of its scopes.
EVENTSUB_AUTH: dict[str, list[tuple[str, ...]]] = {
    "automod.message.hold": [(AUTOMOD,)],
    "automod.message.update": [(AUTOMOD,)],
    "channel.shield_mode.begin": [("moderator:read:shield_mode", SHIELD)],
    "channel.shield_mode.end": [("moderator:read:shield_mode", SHIELD)],
    "channel.suspicious_user.message": [(SUSPICIOUS,)],
    "channel.suspicious_user.update": [(SUSPICIOUS,)],
    "channel.moderate": [
        ("moderator:read:blocked_terms", "moderator:manage:blocked_terms"),
        ("moderator:read:chat_settings", CHAT_SETTINGS),
        ("moderator:read:unban_requests", UNBAN_REQUESTS),
        ("moderator:read:banned_users", BANS),
        ("moderator:read:chat_messages", CHAT_MESSAGES),
        ("moderator:read:warnings", WARNINGS),
        ("moderator:read:moderators",),
        ("moderator:read:vips",),
    ],
    "channel.unban_request.create": [("moderator:read:unban_requests", UNBAN_REQUESTS)],
    "channel.unban_request.resolve": [("moderator:read:unban_requests", UNBAN_REQUESTS)],
}


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
    eventsub: Any = None  # the FakeEventSub whose sessions subscriptions are made on
    held: dict[str, dict[str, Any]] = field(default_factory=dict)  # AutoMod: msg_id → event
    automod_decisions: list[dict[str, Any]] = field(default_factory=list)
    shield: dict[str, bool] = field(default_factory=dict)  # broadcaster → Shield Mode on
    unban_requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → request
    without_v2: set[str] = field(default_factory=set)  # EventSub types offered in v1 only

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
        app.router.add_post("/helix/eventsub/subscriptions", self._subscribe)
        app.router.add_post("/helix/moderation/automod/message", self._automod)
        app.router.add_put("/helix/moderation/shield_mode", self._shield_mode)
        app.router.add_patch("/helix/moderation/unban_requests", self._unban_request)
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

    # -- Twitch's own moderation tools --------------------------------------------------------

    async def _subscribe(self, request: web.Request) -> web.Response:
        account = self._account(request, None)
        body = await request.json()
        sub_type, version = body.get("type"), str(body.get("version"))
        condition, transport = body.get("condition") or {}, body.get("transport") or {}
        if sub_type not in EVENTSUB_AUTH:
            return _error(400, f"unsupported subscription type {sub_type}")
        offered = {"1", "2"} if sub_type in _HAVE_V2 and sub_type not in self.without_v2 else {"1"}
        if version not in offered:
            return _error(400, f"invalid version {version} for {sub_type}")
        if transport.get("method") != "websocket":
            return _error(400, "transport method must be websocket for user tokens")
        session = str(transport.get("session_id", ""))
        if self.eventsub is None or not self.eventsub.live_session(session):
            return _error(
                400, "websocket transport session does not exist or has already disconnected"
            )
        moderator = str(condition.get("moderator_user_id", ""))
        broadcaster = str(condition.get("broadcaster_user_id", ""))
        lacking = [g for g in EVENTSUB_AUTH[sub_type] if not set(g) & set(account.scopes)]
        not_a_mod = moderator != broadcaster and moderator not in self.moderators.get(
            broadcaster, set()
        )
        if lacking or moderator != account.user_id or not_a_mod:
            return _error(403, "subscription missing proper authorization")
        existing = self.eventsub.subscriptions.get(session, [])
        if any(s["type"] == sub_type and s["condition"] == condition for s in existing):
            return _error(409, "subscription already exists")
        subscription = {
            "id": secrets.token_hex(8),
            "status": "enabled",
            "type": sub_type,
            "version": version,
            "condition": condition,
            "created_at": _iso(time.time()),
            "transport": {
                "method": "websocket",
                "session_id": session,
                "connected_at": _iso(time.time()),
            },
            "cost": 0,
        }
        self.eventsub.subscribed(session, subscription)
        answer = {"data": [subscription], "total": 1, "total_cost": 0, "max_total_cost": 10}
        return web.json_response(answer, status=202)

    async def _automod(self, request: web.Request) -> web.Response:
        account = self._account(request, AUTOMOD)
        body = await request.json()
        if str(body.get("user_id")) != account.user_id:
            return _error(403, "The user in user_id must match the user ID in the access token.")
        if body.get("action") not in ("ALLOW", "DENY"):
            return _error(400, "The action field must be ALLOW or DENY.")
        held = self.held.pop(str(body.get("msg_id")), None)
        if held is None:
            return _error(404, "The message specified in the msg_id field was not found.")
        self.automod_decisions.append({"msg_id": body["msg_id"], "action": body["action"]})
        if self.eventsub is not None:
            status = "Approved" if body["action"] == "ALLOW" else "Denied"
            update = {
                **held,
                "moderator_user_id": account.user_id,
                "moderator_user_login": account.login,
                "moderator_user_name": account.login.title(),
                "status": status,
            }
            await self.eventsub.broadcast("automod.message.update", update)
        return web.Response(status=204)

    async def _shield_mode(self, request: web.Request) -> web.Response:
        account, broadcaster = self._moderating(request, SHIELD)
        active = bool((await request.json()).get("is_active"))
        was = self.shield.get(broadcaster, False)
        self.shield[broadcaster] = active
        status = {
            "is_active": active,
            "moderator_id": account.user_id,
            "moderator_login": account.login,
            "moderator_name": account.login.title(),
            "last_activated_at": _iso(time.time()),
        }
        if self.eventsub is not None and was != active:
            who = {
                "broadcaster_user_id": broadcaster,
                "broadcaster_user_login": self.users.get(broadcaster, ""),
                "broadcaster_user_name": self.users.get(broadcaster, "").title(),
                "moderator_user_id": account.user_id,
                "moderator_user_login": account.login,
                "moderator_user_name": account.login.title(),
            }
            if active:
                event = {**who, "started_at": _iso(time.time())}
                await self.eventsub.broadcast("channel.shield_mode.begin", event)
            else:
                await self.eventsub.broadcast(
                    "channel.shield_mode.end", {**who, "ended_at": _iso(time.time())}
                )
        return web.json_response({"data": [status]})

    async def _unban_request(self, request: web.Request) -> web.Response:
        account, broadcaster = self._moderating(request, UNBAN_REQUESTS)
        status = request.query.get("status")
        if status not in ("approved", "denied"):
            return _error(400, "The status field must be approved or denied.")
        wanted = self.unban_requests.get(request.query.get("unban_request_id", ""))
        if wanted is None or wanted.get("status", "pending") != "pending":
            return _error(400, "The unban request was not found or is already resolved.")
        wanted.update(
            status=status,
            moderator_id=account.user_id,
            moderator_login=account.login,
            moderator_name=account.login.title(),
            resolution_text=request.query.get("resolution_text", ""),
            resolved_at=_iso(time.time()),
        )
        if self.eventsub is not None:
            await self.eventsub.broadcast("channel.unban_request.resolve", dict(wanted))
        return web.json_response({"data": [wanted]})


_HAVE_V2 = frozenset({"automod.message.hold", "automod.message.update", "channel.moderate"})


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
