"""`vigile login twitch` (device code flow) and how `vigile watch` finds the moderator token."""

import asyncio
import os
import stat
import sys
from pathlib import Path

from tests.fakes.helix import Account, FakeHelix
from vigile.connectors.twitch_auth import TwitchCredentials, load_credentials, save_credentials
from vigile.connectors.twitch_mod import TwitchModerator
from vigile.tui.accounts import live_moderation

ROOT = Path(__file__).resolve().parents[1]
VIGILE = [sys.executable, "-m", "vigile.tui.cli"]


async def test_login_shows_a_code_waits_for_approval_and_saves_the_token(tmp_path) -> None:
    token_file = tmp_path / "twitch-token.json"
    async with FakeHelix() as helix:
        proc = await asyncio.create_subprocess_exec(
            *VIGILE,
            "login",
            "twitch",
            "--client-id",
            helix.client_id,
            "--helix-url",
            helix.url,
            "--token-file",
            str(token_file),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        first = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert first.startswith(b"Open https://www.twitch.tv/activate")
        helix.approve(Account("2", "modo"))
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err
    assert b"Signed in as modo" in out
    saved = load_credentials(token_file)
    assert saved.login == "modo" and saved.token in helix.tokens
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert saved.token.encode() not in out + err  # never on screen


async def test_login_without_a_client_id_says_how_to_get_one(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VIGILE_TWITCH_CLIENT_ID", raising=False)
    proc = await asyncio.create_subprocess_exec(
        *VIGILE, "login", "twitch", cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert b"dev.twitch.tv/console" in err and b"--client-id" in err


def test_watch_acts_with_the_stored_token_or_says_why_it_cannot(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in ("VIGILE_TWITCH_TOKEN", "VIGILE_TWITCH_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    moderation = live_moderation(["twitch:lumina", "youtube:abc"], None)
    assert "vigile login twitch" in moderation.unavailable("twitch", "ban")
    assert "vigile login youtube" in moderation.unavailable("youtube", "ban")
    assert moderation.unavailable("twitch", "dismiss") is None  # local decisions always work

    path = save_credentials(
        TwitchCredentials("cid", "tok", "ref", "modo", "2"),
        tmp_path / "vigile" / "twitch-token.json",
    )
    moderation = live_moderation(["twitch:lumina"], None)
    assert isinstance(moderation.moderators["twitch"], TwitchModerator)
    os.chmod(path, 0o640)
    moderation = live_moderation(["twitch:lumina"], None)
    assert "chmod 600" in moderation.unavailable("twitch", "ban")
