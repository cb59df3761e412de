"""What the desk subscribes to on Twitch's EventSub, grouped by the desk feature each serves,
with the permissions (scopes) Twitch asks of the moderator's token for each."""

from __future__ import annotations

from dataclasses import dataclass

AUTOMOD = "moderator:manage:automod"
SHIELD = "moderator:manage:shield_mode"
SUSPICIOUS = "moderator:read:suspicious_users"
UNBAN_REQUESTS = "moderator:manage:unban_requests"
CHAT_SETTINGS = "moderator:manage:chat_settings"
# channel.moderate v2 tells every kind of action, so Twitch asks for a scope per kind.
MOD_LOG = (
    "moderator:manage:banned_users",
    "moderator:manage:chat_messages",
    "moderator:manage:chat_settings",
    "moderator:manage:warnings",
    "moderator:manage:unban_requests",
    "moderator:read:blocked_terms",
    "moderator:read:moderators",
    "moderator:read:vips",
)
# Twitch takes either the read or the manage form of a scope for a subscription.
_EITHER = {
    "moderator:read:shield_mode": SHIELD,
    "moderator:read:unban_requests": UNBAN_REQUESTS,
    "moderator:read:banned_users": "moderator:manage:banned_users",
    "moderator:read:chat_messages": "moderator:manage:chat_messages",
    "moderator:read:chat_settings": CHAT_SETTINGS,
    "moderator:read:warnings": "moderator:manage:warnings",
    "moderator:read:blocked_terms": "moderator:manage:blocked_terms",
}
EVENTSUB_SCOPES = (AUTOMOD, SHIELD, SUSPICIOUS, UNBAN_REQUESTS, *MOD_LOG)


@dataclass(frozen=True, slots=True)
class Feature:
    name: str  # what the moderator reads: "AutoMod queue"
    key: str  # short, stable: "automod"
    subscriptions: tuple[tuple[str, str], ...]  # (type, version)
    scopes: tuple[str, ...]  # all needed (each satisfied by its read or manage form)


FEATURES = (
    Feature(
        "AutoMod queue",
        "automod",
        (("automod.message.hold", "2"), ("automod.message.update", "2")),
        (AUTOMOD,),
    ),
    Feature(
        "Shield Mode",
        "shield",
        (("channel.shield_mode.begin", "1"), ("channel.shield_mode.end", "1")),
        ("moderator:read:shield_mode",),
    ),
    Feature(
        "suspicious users",
        "suspicious",
        (("channel.suspicious_user.message", "1"), ("channel.suspicious_user.update", "1")),
        (SUSPICIOUS,),
    ),
    Feature("mod log", "modlog", (("channel.moderate", "2"),), MOD_LOG),
    Feature(
        "unban requests",
        "unban",
        (("channel.unban_request.create", "1"), ("channel.unban_request.resolve", "1")),
        ("moderator:read:unban_requests",),
    ),
)
FEATURE_OF = {sub_type: f for f in FEATURES for sub_type, _ in f.subscriptions}
# Where Twitch does not offer a version (400), the one before it: AutoMod's v1 has the category
# and level but not the blocked term; channel.moderate v1 lacks warnings and shared chat.
OLDER = {
    ("automod.message.hold", "2"): "1",
    ("automod.message.update", "2"): "1",
    ("channel.moderate", "2"): "1",
}


def has_scope(scopes: frozenset[str], scope: str) -> bool:
    return scope in scopes or _EITHER.get(scope) in scopes


def missing_scopes(scopes: frozenset[str], needed: tuple[str, ...]) -> list[str]:
    return [scope for scope in needed if not has_scope(scopes, scope)]


def needs(scopes: list[str]) -> str:
    """What a feature without its permission says: the scopes, and how to get them."""
    return f"needs {', '.join(scopes)}; run vigile login twitch"
