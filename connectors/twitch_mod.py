"""Acting as a Twitch moderator through Helix, with twitchio: ban, timeout, unban, delete, clear,
warn and chat settings. Every call ends as a ModAction that says what happened, in words a
moderator understands; nothing here raises for a refusal by Twitch."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from types import SimpleNamespace
from typing import Any

import aiohttp
import twitchio

from vigile.connectors.model import ActionKind, ActionResult, ChatMessage, ModAction
from vigile.connectors.twitch_auth import CredentialsError, TwitchCredentials, save_credentials

log = logging.getLogger(__name__)

BANS = "moderator:manage:banned_users"
CHAT_MESSAGES = "moderator:manage:chat_messages"
CHAT_SETTINGS = "moderator:manage:chat_settings"
WARNINGS = "moderator:manage:warnings"
NEEDED_SCOPE = {
    ActionKind.BAN: BANS,
    ActionKind.TIMEOUT: BANS,
    ActionKind.UNBAN: BANS,
    ActionKind.DELETE: CHAT_MESSAGES,
    ActionKind.CLEAR: CHAT_MESSAGES,
    ActionKind.WARN: WARNINGS,
    ActionKind.CHAT_MODE: CHAT_SETTINGS,
    ActionKind.AUTOMOD_ALLOW: "moderator:manage:automod",
    ActionKind.AUTOMOD_DENY: "moderator:manage:automod",
    ActionKind.SHIELD_MODE: "moderator:manage:shield_mode",
    ActionKind.UNBAN_APPROVE: "moderator:manage:unban_requests",
    ActionKind.UNBAN_DENY: "moderator:manage:unban_requests",
}
CHAT_SETTING_NAMES = frozenset(
    {
        "emote_mode",
        "follower_mode",
        "follower_mode_duration",
        "slow_mode",
        "slow_mode_wait_time",
        "subscriber_mode",
        "unique_chat_mode",
    }
)
_RATE_LIMIT_TRIES = 3


class _Client(twitchio.Client):
    """twitchio's client, saving a refreshed token pair where the old one came from."""

    def __init__(self, credentials: TwitchCredentials, save_to: Any, **options: Any) -> None:
        super().__init__(client_id=credentials.client_id, **options)
        self.credentials, self.save_to = credentials, save_to

    async def event_token_refreshed(self, payload: Any) -> None:
        self.credentials = dataclasses.replace(
            self.credentials, token=payload.token, refresh=payload.refresh_token
        )
        if self.save_to is not None:
            save_credentials(self.credentials, self.save_to)


class TwitchModerator:
    """One moderator's token, validated on `start()`. `unavailable(kind)` explains why an action
    cannot be carried out (no scope…); `perform()` carries one out and returns its record."""

    platform = "twitch"

    def __init__(
        self,
        credentials: TwitchCredentials,
        save_to: Any = None,
        max_rate_limit_wait_s: float = 30.0,
    ) -> None:
        self.credentials = credentials
        self.max_rate_limit_wait_s = max_rate_limit_wait_s
        self.login = credentials.login
        self.user_id = credentials.user_id
        self.scopes: frozenset[str] = frozenset()
        self._save_to = save_to
        self._rate_limit_reset: float | None = None  # from the last 429's Ratelimit-Reset
        self._broadcasters: dict[str, str] = {}
        self._session: aiohttp.ClientSession | None = None
        self._client: _Client | None = None
        # Set once start() has ended, well or not: EventSub waits for it before subscribing.
        self.started = asyncio.Event()
        self.start_error: str | None = None

    async def start(self) -> None:
        """Validate (refreshing if needed) the token. CredentialsError when Twitch refuses it."""
        try:
            await self._start()
        except Exception as exc:
            self.start_error = str(exc) or type(exc).__name__
            raise
        finally:
            self.started.set()

    @property
    def http(self) -> Any:
        """twitchio's HTTP client, for the calls twitch_tools makes with this token."""
        assert self._client is not None, "start() first"
        return self._client.http

    async def broadcaster_id(self, channel: str) -> str:
        return (await self._broadcaster(channel)).id

    async def _start(self) -> None:
        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(self._note_rate_limit)
        self._session = aiohttp.ClientSession(trace_configs=[trace])
        self._client = _Client(self.credentials, self._save_to, session=self._session)
        try:
            valid = await self._client.add_token(self.credentials.token, self.credentials.refresh)
        except twitchio.HTTPException as exc:
            await self.close()
            raise CredentialsError(
                f"Twitch refused the moderator token ({_message(exc) or exc.status}); "
                "run `vigile login twitch` again."
            ) from exc
        if not valid.user_id:
            await self.close()
            raise CredentialsError("That is an app token; moderation needs a user token.")
        self.login, self.user_id = valid.login or self.login, valid.user_id
        # twitchio picks a managed user token only once a default token is set: like its own
        # device-code set-up, the desk's single user token is also the default.
        current = self._client.tokens[valid.user_id]["token"]
        await self._client.login(token=current, load_tokens=False, save_tokens=False)
        self.scopes = frozenset(valid.scopes)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._session is not None:
            await self._session.close()

    def unavailable(self, kind: ActionKind) -> str | None:
        scope = NEEDED_SCOPE.get(kind)
        if scope is None or scope in self.scopes:
            return None
        return (
            f"the Twitch token of {self.login or 'this desk'} lacks the {scope} permission; "
            "run `vigile login twitch` to grant it"
        )

    # -- actions ----------------------------------------------------------------------------

    async def perform(self, action: ModAction, message: ChatMessage | None = None) -> ModAction:
        """Carry out a ban, timeout, unban, delete, clear or warn in `action.channel` (Twitch
        names messages by the id the chat gave them: `message` is not needed)."""
        problem = self.unavailable(action.kind)
        if problem:
            return _done(action, ActionResult.FAILED, f"Not sent: {problem}.")
        try:
            detail = await self.with_rate_limit(lambda: self._call(action))
        except twitchio.HTTPException as exc:
            return _done(action, ActionResult.FAILED, explain(exc, action.channel))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return _done(action, ActionResult.FAILED, f"Could not reach Twitch: {exc}.")
        except ValueError as exc:  # twitchio's own checks, e.g. a reason over 500 characters
            return _done(action, ActionResult.FAILED, f"Not sent: {exc}.")
        return _done(action, ActionResult.OK, detail)

    async def change_chat(self, action: ModAction, settings: dict[str, bool | int]) -> ModAction:
        """A chat mode change (slow, followers-only…) as a recorded action."""
        problem = self.unavailable(ActionKind.CHAT_MODE)
        if problem:
            return _done(action, ActionResult.FAILED, f"Not sent: {problem}.")
        try:
            now = await self.chat_settings(action.channel, **settings)
        except twitchio.HTTPException as exc:
            return _done(action, ActionResult.FAILED, explain(exc, action.channel))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return _done(action, ActionResult.FAILED, f"Could not reach Twitch: {exc}.")
        shown = ", ".join(f"{k}={v}" for k, v in now.items() if v not in (None, False))
        return _done(action, ActionResult.OK, f"#{action.channel} now: {shown or 'all modes off'}")

    async def chat_settings(self, channel: str, **settings: bool | int) -> dict[str, Any]:
        """Slow mode, followers-only, emote-only, subscribers-only…: returns the new settings,
        raises twitchio.HTTPException (see `explain`) when Twitch refuses."""
        unknown = set(settings) - CHAT_SETTING_NAMES
        if unknown:
            raise ValueError(f"unknown chat settings: {', '.join(sorted(unknown))}")
        broadcaster = await self._broadcaster(channel)
        result = await self.with_rate_limit(
            lambda: broadcaster.update_chat_settings(moderator=self.user_id, **settings)
        )
        return {name: getattr(result, name, None) for name in sorted(CHAT_SETTING_NAMES)}

    async def _call(self, action: ModAction) -> str:
        broadcaster = await self._broadcaster(action.channel)
        me, user, reason = self.user_id, action.target_author_id, action.reason or None
        match action.kind:
            case ActionKind.BAN:
                await broadcaster.ban_user(moderator=me, user=_required(user), reason=reason)
                return f"banned in #{action.channel}"
            case ActionKind.TIMEOUT:
                seconds = action.duration_s or 600
                await broadcaster.timeout_user(
                    moderator=me, user=_required(user), duration=seconds, reason=reason
                )
                return f"timed out for {seconds} s in #{action.channel}"
            case ActionKind.UNBAN:
                await broadcaster.unban_user(moderator=me, user_id=_required(user))
                return f"unbanned in #{action.channel}"
            case ActionKind.DELETE:
                await broadcaster.delete_chat_messages(
                    moderator=me, message_id=_required(action.target_message_id)
                )
                return "message deleted"
            case ActionKind.CLEAR:
                await broadcaster.delete_chat_messages(moderator=me, message_id=None)
                return f"chat of #{action.channel} cleared"
            case ActionKind.WARN:
                await broadcaster.warn_user(
                    moderator=me, user_id=_required(user), reason=action.reason or "Chat rules"
                )
                return "warned"
        raise ValueError(f"{action.kind} is not a Twitch action")

    async def _broadcaster(self, channel: str) -> twitchio.PartialUser:
        assert self._client is not None, "start() first"
        login = channel.lower().lstrip("#")
        if login not in self._broadcasters:
            users = await self.with_rate_limit(
                lambda: self._client.fetch_users(logins=[login], token_for=self.user_id)
            )
            if not users:
                raise ValueError(f"there is no Twitch channel named {login}")
            self._broadcasters[login] = users[0].id
        return self._client.create_partialuser(self._broadcasters[login], login)

    # -- rate limits --------------------------------------------------------------------------

    async def _note_rate_limit(self, session: Any, context: SimpleNamespace, params: Any) -> None:
        if params.response.status == 429:
            reset = params.response.headers.get("Ratelimit-Reset", "")
            self._rate_limit_reset = float(reset) if reset.isdigit() else None

    async def with_rate_limit(self, call: Any) -> Any:
        """On 429, wait until Twitch's Ratelimit-Reset (if it is soon enough) and try again."""
        for attempt in range(_RATE_LIMIT_TRIES):
            try:
                return await call()
            except twitchio.HTTPException as exc:
                if exc.status != 429 or attempt == _RATE_LIMIT_TRIES - 1:
                    raise
                reset = self._rate_limit_reset
                wait = max(0.0, reset - time.time()) + 0.1 if reset else 1.0 * 2**attempt
                if wait > self.max_rate_limit_wait_s:
                    raise
                log.info("Twitch rate limit reached; retrying in %.1f s", wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")


def explain(exc: twitchio.HTTPException, channel: str) -> str:
    """Twitch's refusal, for a moderator."""
    message = _message(exc)
    match exc.status:
        case 400:
            return f"Twitch refused: {message or 'bad request'}"
        case 401:
            return (
                f"Twitch did not accept the token ({message or 'expired or revoked'}); "
                "run `vigile login twitch` again."
            )
        case 403:
            return f"Not allowed in #{channel}: {message or 'you are not a moderator there'}"
        case 404:
            return f"Not found: {message or 'the message is gone (or older than six hours)'}"
        case 429:
            return "Twitch's rate limit is reached; wait a moment and try again."
        case status if status >= 500:
            return f"Twitch is having trouble (HTTP {status}); try again."
    return f"Twitch answered HTTP {exc.status}: {message}"


def _message(exc: twitchio.HTTPException) -> str:
    extra = exc.extra if isinstance(exc.extra, dict) else {}
    return str(extra.get("message", "")).strip().rstrip(".")


def _required(value: str | None) -> str:
    if not value:
        raise ValueError("the action has no target")
    return value


def _done(action: ModAction, result: ActionResult, detail: str) -> ModAction:
    return dataclasses.replace(action, result=result, detail=detail)
