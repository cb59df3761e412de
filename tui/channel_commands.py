"""Channel-wide moderation from the command palette (Ctrl+P): clear the chat, slow mode,
followers-only, emote-only and subscribers-only on and off, and lifting a ban made from this
desk. They act on the channels the desk has seen messages from; in demo and replay they are
simulated and recorded as such, like every action."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from vigile.connectors.model import ActionKind

# (title, Helix settings): the modes a moderator flips during an event
CHAT_MODES: tuple[tuple[str, dict[str, bool | int]], ...] = (
    ("slow mode 30 s on", {"slow_mode": True, "slow_mode_wait_time": 30}),
    ("slow mode off", {"slow_mode": False}),
    ("followers-only (10 min) on", {"follower_mode": True, "follower_mode_duration": 10}),
    ("followers-only off", {"follower_mode": False}),
    ("emote-only on", {"emote_mode": True}),
    ("emote-only off", {"emote_mode": False}),
    ("subscribers-only on", {"subscriber_mode": True}),
    ("subscribers-only off", {"subscriber_mode": False}),
)


@dataclass(frozen=True, slots=True)
class ChannelCommand:
    title: str
    help: str
    platform: str
    channel: str
    kind: ActionKind
    settings: dict[str, bool | int] | None = None
    target_author_id: str | None = None
    target_name: str = ""


def channel_commands(
    channels: set[tuple[str, str]], banned: dict[tuple[str, str, str], str]
) -> Iterator[ChannelCommand]:
    """`channels`: (platform, channel) seen; `banned`: (platform, channel, author id) → name,
    for the bans and timeouts this desk made."""
    for platform, channel in sorted(channels):
        if platform != "twitch":
            continue  # YouTube has neither through its API: nothing to offer
        yield ChannelCommand(
            f"Clear the chat of #{channel}",
            "Twitch: deletes every message in the chat",
            platform,
            channel,
            ActionKind.CLEAR,
        )
        for title, settings in CHAT_MODES:
            yield ChannelCommand(
                f"#{channel}: {title}",
                "Twitch chat mode",
                platform,
                channel,
                ActionKind.CHAT_MODE,
                settings,
            )
    for (platform, channel, author_id), name in sorted(banned.items()):
        yield ChannelCommand(
            f"Unban {name} in {platform}:{channel}",
            "Lifts the ban or timeout made from this desk",
            platform,
            channel,
            ActionKind.UNBAN,
            target_author_id=author_id,
            target_name=name,
        )
