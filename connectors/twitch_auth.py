"""A moderator's Twitch token: where it lives, how it is obtained (device code flow), and the
hook that points every Twitch HTTP call at a local server in tests.

The token file is JSON in the XDG config folder, readable by its owner only (see secrets.py).
Environment variables take precedence so a desk can run without any file. Tokens are never
logged, printed or stored in a session."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import twitchio
from twitchio.http import Route

from vigile.connectors.eventsub_catalogue import EVENTSUB_SCOPES
from vigile.connectors.secrets import CredentialsError, config_folder, read_private, write_private

# What a moderator's desk needs: act on chatters and messages, change chat settings, read chat,
# and Twitch's own moderation tools (AutoMod queue, Shield Mode, suspicious users, the mod log,
# unban requests: see eventsub_catalogue).
MODERATOR_SCOPES = tuple(
    dict.fromkeys(
        (
            "moderator:manage:banned_users",
            "moderator:manage:chat_messages",
            "moderator:manage:chat_settings",
            "moderator:manage:warnings",
            "chat:read",
            *EVENTSUB_SCOPES,
        )
    )
)
# twitchio warns on every client that its optional Starlette web adapter is missing; Vigile
# never runs a web adapter, and a stray line on stderr would scar the desk's screen.
logging.getLogger("twitchio.client").setLevel(logging.ERROR)

HELIX = "https://api.twitch.tv/helix/"
ID = "https://id.twitch.tv/"


@dataclass(frozen=True, slots=True)
class TwitchCredentials:
    client_id: str
    token: str
    refresh: str = ""
    login: str = ""
    user_id: str = ""

    def __repr__(self) -> str:  # never show a token, not even in a traceback
        return f"TwitchCredentials(client_id={self.client_id!r}, login={self.login!r})"


def token_path() -> Path:
    return config_folder() / "twitch-token.json"


def use_base_url(base: str | None) -> None:
    """Every Twitch HTTP call twitchio makes goes to `base` (tests: http://127.0.0.1:PORT)."""
    if base:
        base = base.rstrip("/") + "/"
        Route.BASE, Route.ID_BASE = base + "helix/", base
    else:
        Route.BASE, Route.ID_BASE = HELIX, ID


def load_credentials(path: Path | None = None) -> TwitchCredentials | None:
    """From VIGILE_TWITCH_TOKEN (+ VIGILE_TWITCH_CLIENT_ID, VIGILE_TWITCH_REFRESH), else from the
    token file; None when neither exists."""
    env = os.environ
    if env.get("VIGILE_TWITCH_TOKEN"):
        if not env.get("VIGILE_TWITCH_CLIENT_ID"):
            raise CredentialsError(
                "VIGILE_TWITCH_TOKEN is set but VIGILE_TWITCH_CLIENT_ID is not: Twitch needs the "
                "client id of the application the token was made for."
            )
        return TwitchCredentials(
            client_id=env["VIGILE_TWITCH_CLIENT_ID"],
            token=env["VIGILE_TWITCH_TOKEN"].removeprefix("oauth:"),
            refresh=env.get("VIGILE_TWITCH_REFRESH", ""),
            login=env.get("VIGILE_TWITCH_LOGIN", ""),
        )
    data = read_private(path or token_path(), "vigile login twitch")
    if data is None:
        return None
    try:
        return TwitchCredentials(**{k: str(v) for k, v in data.items() if k in _FIELDS})
    except TypeError as exc:  # a field missing
        raise CredentialsError(
            f"{path or token_path()}: {exc}; run `vigile login twitch`."
        ) from exc


_FIELDS = frozenset(TwitchCredentials.__dataclass_fields__)


def save_credentials(credentials: TwitchCredentials, path: Path | None = None) -> Path:
    return write_private(path or token_path(), asdict(credentials))


async def device_login(
    client_id: str,
    show: Callable[[str, str], None],
    timeout_s: float = 600,
) -> TwitchCredentials:
    """Twitch's device code flow: `show(url, code)` tells the person where to approve; returns
    once they have (or raises TimeoutError / twitchio.DeviceCodeFlowException)."""
    client = twitchio.Client(client_id=client_id, scopes=twitchio.Scopes(MODERATOR_SCOPES))
    try:
        flow = await client.http.device_code_flow()
        show(flow["verification_uri"], flow["user_code"])
        async with asyncio.timeout(min(timeout_s, float(flow["expires_in"]))):
            granted = await client.http.device_code_authorization(
                device_code=flow["device_code"], interval=int(flow.get("interval", 5))
            )
        valid = await client.http.validate_token(granted["access_token"])
        return TwitchCredentials(
            client_id=client_id,
            token=granted["access_token"],
            refresh=granted["refresh_token"],
            login=valid.login or "",
            user_id=valid.user_id or "",
        )
    finally:
        await client.close()
