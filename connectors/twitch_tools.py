"""Twitch's own moderation tools through Helix, with the desk's moderator token: EventSub
subscriptions for the WebSocket session, AutoMod's held messages allowed or denied, Shield Mode
on and off, unban requests answered. Like twitch_mod, every act ends as a ModAction saying
what happened; nothing here raises for a refusal by Twitch."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import twitchio
from twitchio.http import Route

from vigile.connectors.model import ActionKind, ActionResult, ModAction
from vigile.connectors.twitch_mod import TwitchModerator, explain


class SubscriptionRefused(RuntimeError):
    """Twitch would not create a subscription: `status` is its HTTP answer (0: unreachable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class TwitchTools:
    """The calls beyond chat moderation, made with a started TwitchModerator's token."""

    def __init__(self, moderator: TwitchModerator) -> None:
        self.moderator = moderator

    @property
    def scopes(self) -> frozenset[str]:
        return self.moderator.scopes

    @property
    def login(self) -> str:
        return self.moderator.login

    async def ready(self) -> str | None:
        """Wait for the token to be checked: None once it is good, else why it is not."""
        await self.moderator.started.wait()
        return self.moderator.start_error

    async def condition(self, channel: str) -> dict[str, str]:
        """The condition every moderator subscription of the desk takes."""
        broadcaster = await self.moderator.broadcaster_id(channel)
        return {"broadcaster_user_id": broadcaster, "moderator_user_id": self.moderator.user_id}

    async def subscribe(
        self, session_id: str, sub_type: str, version: str, condition: dict[str, str]
    ) -> str:
        """One EventSub subscription on the WebSocket session; its id, or SubscriptionRefused."""
        body = {
            "type": sub_type,
            "version": version,
            "condition": condition,
            "transport": {"method": "websocket", "session_id": session_id},
        }
        route = Route("POST", "eventsub/subscriptions", json=body, token_for=self.moderator.user_id)
        try:
            answer = await self.moderator.with_rate_limit(
                lambda: self.moderator.http.request_json(route)
            )
        except twitchio.HTTPException as exc:
            extra = exc.extra if isinstance(exc.extra, dict) else {}
            raise SubscriptionRefused(exc.status, str(extra.get("message") or exc)) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SubscriptionRefused(0, f"could not reach Twitch: {exc}") from exc
        return str((answer.get("data") or [{}])[0].get("id", ""))

    # -- acts --------------------------------------------------------------------------------

    async def resolve_automod(self, action: ModAction, user_id: str, message_id: str) -> ModAction:
        """AUTOMOD_ALLOW or AUTOMOD_DENY of a held message."""
        allow = action.kind is ActionKind.AUTOMOD_ALLOW
        http, me = self.moderator.http, self.moderator.user_id
        return await self._act(
            action,
            lambda: http.post_manage_automod_messages(
                user_id=me, msg_id=message_id, action="ALLOW" if allow else "DENY", token_for=me
            ),
            "allowed into chat" if allow else "denied",
        )

    async def shield_mode(self, action: ModAction, active: bool) -> ModAction:
        broadcaster = await self._id(action)
        if isinstance(broadcaster, ModAction):
            return broadcaster
        http, me = self.moderator.http, self.moderator.user_id
        return await self._act(
            action,
            lambda: http.put_shield_mode_status(
                broadcaster_id=broadcaster, moderator_id=me, token_for=me, active=active
            ),
            f"Shield Mode {'on' if active else 'off'} in #{action.channel}",
        )

    async def resolve_unban_request(
        self, action: ModAction, request_id: str, text: str = ""
    ) -> ModAction:
        """UNBAN_APPROVE or UNBAN_DENY of an unban request, with an optional word to the user."""
        broadcaster = await self._id(action)
        if isinstance(broadcaster, ModAction):
            return broadcaster
        status = "approved" if action.kind is ActionKind.UNBAN_APPROVE else "denied"
        http, me = self.moderator.http, self.moderator.user_id
        return await self._act(
            action,
            lambda: http.patch_unban_requests(
                broadcaster_id=broadcaster,
                moderator_id=me,
                token_for=me,
                status=status,
                unban_request_id=request_id,
                resolution_text=text or None,
            ),
            f"unban request {status}",
        )

    async def _id(self, action: ModAction) -> str | ModAction:
        try:
            return await self.moderator.broadcaster_id(action.channel)
        except twitchio.HTTPException as exc:
            return _done(action, ActionResult.FAILED, explain(exc, action.channel))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return _done(action, ActionResult.FAILED, f"Could not reach Twitch: {exc}.")
        except ValueError as exc:
            return _done(action, ActionResult.FAILED, f"Not sent: {exc}.")

    async def _act(self, action: ModAction, call: Any, said: str) -> ModAction:
        problem = self.moderator.unavailable(action.kind)
        if problem:
            return _done(action, ActionResult.FAILED, f"Not sent: {problem}.")
        try:
            await self.moderator.with_rate_limit(call)
        except twitchio.HTTPException as exc:
            return _done(action, ActionResult.FAILED, explain(exc, action.channel))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return _done(action, ActionResult.FAILED, f"Could not reach Twitch: {exc}.")
        return _done(action, ActionResult.OK, said)


def _done(action: ModAction, result: ActionResult, detail: str) -> ModAction:
    return dataclasses.replace(action, result=result, detail=detail)
