"""A moderator's YouTube (Google OAuth) token: where it lives and how it is obtained.

Google's device flow ("TV and Limited Input devices" OAuth clients) signs a moderator in from a
terminal. It grants the `youtube` scope (Google does not offer `youtube.force-ssl` to device
clients); that scope covers what the desk does: delete messages, ban and time out. The token is
stored owner-only like Twitch's, refreshed when Google says it has expired, never logged."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from vigile.connectors.google_http import google_http
from vigile.connectors.secrets import CredentialsError, config_folder, read_private, write_private

SCOPE = "https://www.googleapis.com/auth/youtube"
DEVICE_CODE_URL = "https://oauth2.googleapis.com/device/code"
TOKEN_URL = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True, slots=True)
class YouTubeCredentials:
    client_id: str
    client_secret: str
    token: str
    refresh: str = ""

    def __repr__(self) -> str:  # never show a token, not even in a traceback
        return f"YouTubeCredentials(client_id={self.client_id!r})"


def token_path() -> Path:
    return config_folder() / "youtube-token.json"


def load_credentials(path: Path | None = None) -> YouTubeCredentials | None:
    """From VIGILE_YOUTUBE_TOKEN (+ VIGILE_YOUTUBE_CLIENT_ID/_SECRET/_REFRESH), else the file."""
    env = os.environ
    if env.get("VIGILE_YOUTUBE_TOKEN"):
        return YouTubeCredentials(
            client_id=env.get("VIGILE_YOUTUBE_CLIENT_ID", ""),
            client_secret=env.get("VIGILE_YOUTUBE_CLIENT_SECRET", ""),
            token=env["VIGILE_YOUTUBE_TOKEN"],
            refresh=env.get("VIGILE_YOUTUBE_REFRESH", ""),
        )
    path = path or token_path()
    data = read_private(path, "vigile login youtube")
    if data is None:
        return None
    try:
        return YouTubeCredentials(**{k: str(v) for k, v in data.items() if k in _FIELDS})
    except TypeError as exc:
        raise CredentialsError(f"{path}: {exc}; run `vigile login youtube`.") from exc


_FIELDS = frozenset(YouTubeCredentials.__dataclass_fields__)


def save_credentials(credentials: YouTubeCredentials, path: Path | None = None) -> Path:
    return write_private(path or token_path(), dataclasses.asdict(credentials))


class SignInFailed(RuntimeError):
    pass


async def device_login(
    client_id: str,
    client_secret: str,
    show: Callable[[str, str], None],
    base_url: str | None = None,
    timeout_s: float = 600,
) -> YouTubeCredentials:
    """Google's device flow: `show(url, code)`, then wait for the person to approve."""
    async with google_http(base_url, 20) as http:
        answer = await http.post(DEVICE_CODE_URL, data={"client_id": client_id, "scope": SCOPE})
        flow = _json(answer)
        if answer.status_code != 200:
            raise SignInFailed(f"Google refused the sign-in: {_oauth_error(flow)}")
        show(flow["verification_url"], flow["user_code"])
        interval = float(flow.get("interval", 5))
        deadline = time.monotonic() + min(timeout_s, float(flow.get("expires_in", 1800)))
        grant = {
            "client_id": client_id,
            "client_secret": client_secret,
            "device_code": flow["device_code"],
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        }
        while time.monotonic() < deadline:
            await asyncio.sleep(interval)
            answer = await http.post(TOKEN_URL, data=grant)
            body = _json(answer)
            if answer.status_code == 200:
                return YouTubeCredentials(
                    client_id, client_secret, body["access_token"], body.get("refresh_token", "")
                )
            error = body.get("error", "")
            if error == "slow_down":
                interval += 5
            elif error != "authorization_pending":
                raise SignInFailed(f"Google refused the sign-in: {_oauth_error(body)}")
    raise TimeoutError("nobody approved the code in time")


async def refreshed(credentials: YouTubeCredentials, http: httpx.AsyncClient) -> YouTubeCredentials:
    """A new access token from the refresh token (Google's answer to an expired one)."""
    if not credentials.refresh:
        raise CredentialsError(
            "the YouTube token has expired and there is no refresh token; "
            "run `vigile login youtube`."
        )
    answer = await http.post(
        TOKEN_URL,
        data={
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "refresh_token": credentials.refresh,
            "grant_type": "refresh_token",
        },
    )
    body = _json(answer)
    if answer.status_code != 200:
        raise CredentialsError(
            f"Google would not renew the YouTube token ({_oauth_error(body)}); "
            "run `vigile login youtube`."
        )
    return dataclasses.replace(credentials, token=body["access_token"])


def _json(answer: httpx.Response) -> dict:
    try:
        body = answer.json()
    except ValueError:
        return {"error": f"HTTP {answer.status_code}"}
    return body if isinstance(body, dict) else {"error": f"HTTP {answer.status_code}"}


def _oauth_error(body: dict) -> str:
    return str(body.get("error_description") or body.get("error") or "no reason given")
