"""Moderator accounts on the command line: `vigile login twitch|youtube`, and the moderator
connections a live desk opens with the stored tokens. Headless: never imports Textual."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vigile.connectors.secrets import CredentialsError

if TYPE_CHECKING:  # loaded by the commands that act, not for `vigile --help`
    from vigile.connectors.actions import Moderation, Moderator
    from vigile.connectors.sources import Source

Show = Callable[[str, str], None]  # where to approve, and the code to type there
NO_TWITCH_TOKEN = "no Twitch moderator token; run `vigile login twitch` (see the README)"
NO_YOUTUBE_TOKEN = "no YouTube moderator token; run `vigile login youtube` (see the README)"


def live_moderation(
    specs: list[str], helix_url: str | None, youtube_base_url: str | None = None
) -> Moderation:
    """The desk's moderator connections, from stored or given tokens. A platform without one
    has its actions off, with the reason; reading works all the same."""
    from vigile.connectors.actions import Moderation

    moderation = Moderation()
    platforms = {spec.partition(":")[0] for spec in specs}
    if "twitch" in platforms:
        try:
            moderation.moderators["twitch"] = _twitch_moderator(helix_url)
        except CredentialsError as exc:
            moderation.missing["twitch"] = str(exc)
    if "youtube" in platforms:
        try:
            moderation.moderators["youtube"] = _youtube_moderator(youtube_base_url)
        except CredentialsError as exc:
            moderation.missing["youtube"] = str(exc)
    return moderation


def eventsub_sources(
    moderation: Moderation, specs: list[str], eventsub_url: str | None = None
) -> list[Source]:
    """Twitch's own moderation events (EventSub) for each Twitch channel, when the desk has a
    Twitch moderator token; none without one (the desk says what each feature needs)."""
    from vigile.connectors.twitch_eventsub import TWITCH_EVENTSUB, EventSubSource
    from vigile.connectors.twitch_tools import TwitchTools

    moderator = moderation.moderators.get("twitch")
    if moderator is None:
        return []
    channels = [t for p, _, t in (s.partition(":") for s in specs) if p == "twitch" and t]
    tools = TwitchTools(moderator)  # type: ignore[arg-type]
    url = eventsub_url or TWITCH_EVENTSUB
    return [EventSubSource(channel, tools, url=url) for channel in dict.fromkeys(channels)]


def _twitch_moderator(helix_url: str | None) -> Moderator:
    from vigile.connectors.twitch_auth import load_credentials, token_path, use_base_url
    from vigile.connectors.twitch_mod import TwitchModerator

    use_base_url(helix_url)
    credentials = load_credentials()
    if credentials is None:
        raise CredentialsError(NO_TWITCH_TOKEN)
    saved = None if os.environ.get("VIGILE_TWITCH_TOKEN") else token_path()
    return TwitchModerator(credentials, save_to=saved)


def _youtube_moderator(base_url: str | None) -> Moderator:
    from vigile.connectors.youtube_auth import load_credentials, token_path
    from vigile.connectors.youtube_mod import QuotaLedger, YouTubeModerator, ledger_path

    credentials = load_credentials()
    if credentials is None:
        raise CredentialsError(NO_YOUTUBE_TOKEN)
    saved = None if os.environ.get("VIGILE_YOUTUBE_TOKEN") else token_path()
    ledger = QuotaLedger(ledger_path(), daily=int(os.environ.get("VIGILE_YOUTUBE_QUOTA", 10_000)))
    return YouTubeModerator(credentials, base_url=base_url, save_to=saved, ledger=ledger)


def cmd_login(args: argparse.Namespace) -> int:
    def show(url: str, code: str) -> None:
        print(f"Open {url}\nand approve Vigile with the code {code} (waiting…)", flush=True)

    token_file = Path(args.token_file) if args.token_file else None
    try:
        if args.platform == "twitch":
            return _login_twitch(args, show, token_file)
        return _login_youtube(args, show, token_file)
    except TimeoutError:
        return _fail("nobody approved the code in time; run the command again.", 1)
    except OSError as exc:
        return _fail(f"could not reach {args.platform.title()}: {exc}", 1)


def _login_twitch(args: argparse.Namespace, show: Show, token_file: Path | None) -> int:
    import asyncio

    import twitchio

    from vigile.connectors.twitch_auth import device_login, save_credentials, use_base_url

    client_id = args.client_id or os.environ.get("VIGILE_TWITCH_CLIENT_ID")
    if not client_id:
        return _fail(
            "Twitch needs the client id of your desk's application: register one (Client Type: "
            "Public) at https://dev.twitch.tv/console/apps, then pass --client-id ID or set "
            "VIGILE_TWITCH_CLIENT_ID. See the README, 'Moderating on Twitch'."
        )
    use_base_url(args.helix_url)
    try:
        credentials = asyncio.run(device_login(client_id, show, args.timeout))
    except twitchio.HTTPException as exc:
        return _fail(f"Twitch refused the sign-in: {exc.extra.get('message') or exc}", 1)
    path = save_credentials(credentials, token_file)
    print(f"Signed in as {credentials.login}. Token saved to {path} (readable only by you).")
    return 0


def _login_youtube(args: argparse.Namespace, show: Show, token_file: Path | None) -> int:
    import asyncio

    from vigile.connectors.youtube_auth import SignInFailed, device_login, save_credentials

    client_id = args.client_id or os.environ.get("VIGILE_YOUTUBE_CLIENT_ID")
    secret = args.client_secret or os.environ.get("VIGILE_YOUTUBE_CLIENT_SECRET")
    if not (client_id and secret):
        return _fail(
            "Google needs your desk's OAuth client: create one of type 'TV and Limited Input "
            "devices' in a Google Cloud project with the YouTube Data API v3 enabled, then pass "
            "--client-id and --client-secret (or set VIGILE_YOUTUBE_CLIENT_ID and "
            "VIGILE_YOUTUBE_CLIENT_SECRET). See the README, 'Moderating on YouTube'."
        )
    try:
        credentials = asyncio.run(
            device_login(client_id, secret, show, args.youtube_base_url, args.timeout)
        )
    except SignInFailed as exc:
        return _fail(str(exc), 1)
    path = save_credentials(credentials, token_file)
    print(f"Signed in to YouTube. Token saved to {path} (readable only by you).")
    return 0


def add_login_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="sign a moderator in and store the token (owner-only)")
    p.add_argument("platform", choices=("twitch", "youtube"))
    p.add_argument("--client-id", help="your Twitch application's or Google OAuth client's id")
    p.add_argument("--client-secret", help="YouTube only: the Google OAuth client's secret")
    p.add_argument("--timeout", type=float, default=600, help="seconds to wait for approval")
    p.add_argument("--token-file", help=argparse.SUPPRESS)  # tests
    p.add_argument("--helix-url", help="Twitch API base (tests: http://127.0.0.1:PORT)")
    p.add_argument("--youtube-base-url", help="Google base URL (tests: http://127.0.0.1:PORT)")
    p.set_defaults(func=cmd_login)


def _fail(message: str, code: int = 2) -> int:
    print(f"vigile login: {message}", file=sys.stderr)
    return code
