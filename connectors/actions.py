"""Where a desk's actions go: to the platform's moderator connection on a live session, nowhere
in replay and demo (recorded as simulated), and nowhere with a clear reason when a platform
cannot be acted on (no token, a missing permission). Local decisions never leave the desk."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from typing import Protocol

from vigile.connectors.model import ActionKind, ActionResult, ChatMessage, ModAction

LOCAL = frozenset({ActionKind.DISMISS, ActionKind.ESCALATE, ActionKind.APPROVE})
# On a message of Twitch shared chat sent in another channel, a moderator of this channel acts
# on its author here (ban, timeout, warn: in this channel only) but cannot touch the message.
_ON_THE_AUTHOR_HERE = frozenset({ActionKind.BAN, ActionKind.TIMEOUT, ActionKind.WARN})


def out_of_reach(message: ChatMessage, kind: ActionKind) -> str | None:
    """Why a moderator of this channel cannot do `kind` on this message; None if they can."""
    if message.shared_from is None or kind in LOCAL or kind in _ON_THE_AUTHOR_HERE:
        return None
    return (
        f"it was sent in another channel of the shared chat (room {message.shared_from}), "
        "whose own moderators alone can delete it; ban, time out or warn its author here"
    )


def reach(message: ChatMessage) -> str:
    """What the action keys do on this message, in a line (the explanation card shows it)."""
    if message.shared_from is None:
        return ""
    return (
        f"Shared chat: sent in another channel (room {message.shared_from}). Ban, timeout and "
        "warn act in this channel only; delete is not possible from here."
    )


class Moderator(Protocol):
    platform: str
    login: str

    def unavailable(self, kind: ActionKind) -> str | None: ...

    async def start(self) -> None: ...

    async def perform(self, action: ModAction, message: ChatMessage | None = None) -> ModAction: ...

    async def change_chat(
        self, action: ModAction, settings: dict[str, bool | int]
    ) -> ModAction: ...

    async def close(self) -> None: ...


class Moderation:
    def __init__(
        self,
        simulated: bool = False,
        moderators: Mapping[str, Moderator] | None = None,
        missing: Mapping[str, str] | None = None,
    ) -> None:
        """`simulated`: replay, demo, rehearsal. `missing`: platform → why it cannot be acted on."""
        self.simulated = simulated
        self.moderators: dict[str, Moderator] = dict(moderators or {})
        self.missing: dict[str, str] = dict(missing or {})
        self._ready: set[str] = set()  # platforms whose moderator has started

    async def start(self) -> list[str]:
        """Connect every moderator; one that cannot start is set aside with the reason (the
        desk keeps reading and says why acting is off). Returns those reasons."""
        problems = []
        for platform, moderator in list(self.moderators.items()):
            try:
                await moderator.start()
            except Exception as exc:  # a bad token, no network: acting is off, reading is not
                with contextlib.suppress(Exception):
                    await moderator.close()
                del self.moderators[platform]
                self.missing[platform] = str(exc) or type(exc).__name__
                problems.append(f"Actions on {platform} are off: {self.missing[platform]}")
            else:
                self._ready.add(platform)
        return problems

    def unavailable(self, platform: str, kind: ActionKind) -> str | None:
        """None when the action can be carried out (or simulated); else the reason, in words."""
        if kind in LOCAL or self.simulated:
            return None
        moderator = self.moderators.get(platform)
        if moderator is None:
            return self.missing.get(platform, f"no moderator connection for {platform}")
        if platform not in self._ready:
            return f"still signing in to {platform}; try again in a moment"
        return moderator.unavailable(kind)

    def moderator_name(self, platform: str, default: str) -> str:
        moderator = self.moderators.get(platform)
        return moderator.login if moderator is not None and moderator.login else default

    async def perform(self, action: ModAction, message: ChatMessage | None = None) -> ModAction:
        """`message`: the message acted on, for platforms that must look it up again."""
        if action.kind in LOCAL:
            return dataclasses.replace(action, result=ActionResult.OK)
        if self.simulated:
            return dataclasses.replace(action, result=ActionResult.SIMULATED, detail="simulated")
        problem = self.unavailable(action.platform, action.kind)
        if problem:
            return dataclasses.replace(
                action, result=ActionResult.FAILED, detail=f"Not sent: {problem}."
            )
        return await self.moderators[action.platform].perform(action, message)

    async def change_chat(self, action: ModAction, settings: dict[str, bool | int]) -> ModAction:
        """Slow mode, followers-only…: `settings` as Helix names them."""
        if self.simulated:
            return dataclasses.replace(action, result=ActionResult.SIMULATED, detail="simulated")
        problem = self.unavailable(action.platform, action.kind)
        if problem:
            failed = ActionResult.FAILED
            return dataclasses.replace(action, result=failed, detail=f"Not sent: {problem}.")
        return await self.moderators[action.platform].change_chat(action, settings)

    async def close(self) -> None:
        for moderator in self.moderators.values():
            await moderator.close()
