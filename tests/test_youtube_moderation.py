"""Moderating YouTube through the Data API v3 (and signing in) against a local fake of Google."""

import asyncio
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.fakes import youtube as yt
from tests.fakes.youtube import End, FakeYouTube
from tests.fakes.youtube_api import ApiFailure
from vigile.connectors.model import ActionKind, ActionResult, ChatMessage, ModAction
from vigile.connectors.secrets import CredentialsError
from vigile.connectors.youtube import YouTubeSource
from vigile.connectors.youtube_auth import YouTubeCredentials, load_credentials
from vigile.connectors.youtube_mod import QuotaLedger, YouTubeModerator

ROOT = Path(__file__).resolve().parents[1]
TROLL = "UCtroll_________________"


@pytest.fixture
async def youtube():
    page = [
        yt.text_message("insulte", msg_id="inner-1", author="troll", channel=TROLL),
        yt.text_message("bonjour", msg_id="inner-2", author="nice"),
    ]
    async with FakeYouTube([page, End()]) as server:
        # read the chat once, as the desk does: the Data API then lists those messages
        messages = [
            i
            async for i in YouTubeSource(server.video_id, base_url=server.url).stream()
            if isinstance(i, ChatMessage)
        ]
        server.read = messages
        yield server


async def moderator(server: FakeYouTube, tmp_path: Path, **kwargs) -> YouTubeModerator:
    token, refresh = server.api.grant()
    credentials = YouTubeCredentials(server.api.client_id, server.api.client_secret, token, refresh)
    ledger = kwargs.pop("ledger", None) or QuotaLedger(tmp_path / "quota.json")
    mod = YouTubeModerator(credentials, base_url=server.url, ledger=ledger, **kwargs)
    await mod.start()
    return mod


def action(server: FakeYouTube, kind: ActionKind, **kwargs) -> ModAction:
    base = {
        "platform": "youtube",
        "channel": server.video_id,
        "moderator": "Modo",
        "target_author_id": TROLL,
        "target_message_id": "inner-1",
    }
    return ModAction(kind=kind, **{**base, **kwargs})


async def test_delete_ban_timeout_and_unban_through_the_data_api(youtube, tmp_path) -> None:
    mod = await moderator(youtube, tmp_path)
    try:
        assert mod.login == "Modo"
        troll_message = youtube.read[0]
        deleted = await mod.perform(action(youtube, ActionKind.DELETE), troll_message)
        assert deleted.result is ActionResult.OK, deleted.detail
        # found under the API's own id, by author and text
        assert youtube.api.deleted == ["LCC." + "inner-1"[::-1]]
        timeout = await mod.perform(action(youtube, ActionKind.TIMEOUT, duration_s=300))
        assert timeout.result is ActionResult.OK and "300 s" in timeout.detail
        (snippet,) = youtube.api.bans.values()
        assert snippet["type"] == "temporary" and snippet["banDurationSeconds"] == 300
        assert snippet["bannedUserDetails"] == {"channelId": TROLL}
        lifted = await mod.perform(action(youtube, ActionKind.UNBAN))
        assert lifted.result is ActionResult.OK and not youtube.api.bans
        banned = await mod.perform(action(youtube, ActionKind.BAN))
        assert banned.result is ActionResult.OK
        assert [b["type"] for b in youtube.api.bans.values()] == ["permanent"]
    finally:
        await mod.close()
    # channels 1 + videos 1 + list 5 + delete 50 + 3 bans × 50
    assert mod.ledger.used == 1 + 1 + 5 + 50 + 150
    assert "of 10,000 left today" in banned.detail and "50 quota units" in banned.detail
    saved = json.loads((tmp_path / "quota.json").read_text())
    assert saved["used"] == mod.ledger.used
    assert QuotaLedger(tmp_path / "quota.json").used == mod.ledger.used  # survives a restart


async def test_refusals_are_explained(youtube, tmp_path) -> None:
    mod = await moderator(youtube, tmp_path)
    try:
        assert mod.unavailable(ActionKind.WARN) == "YouTube's API has no warnings"
        youtube.api.is_moderator = False
        refused = await mod.perform(action(youtube, ActionKind.BAN))
        assert refused.result is ActionResult.FAILED
        assert refused.detail.startswith("Not allowed: The request is not properly authorized")
        youtube.api.is_moderator = True
        youtube.api.failures.append(ApiFailure("/liveChat/bans", 403, "quotaExceeded", "Quota"))
        spent = await mod.perform(action(youtube, ActionKind.BAN))
        assert "quota for today is spent" in spent.detail
        gone = await mod.perform(action(youtube, ActionKind.DELETE, target_author_id="UCnobody"))
        assert gone.detail.startswith("Not found: YouTube's API no longer lists that message")
        never = await mod.perform(action(youtube, ActionKind.UNBAN, target_author_id="UCother"))
        assert "only bans made from this desk" in never.detail
    finally:
        await mod.close()


async def test_a_spent_quota_stops_calls_before_they_are_made(youtube, tmp_path) -> None:
    ledger = QuotaLedger(tmp_path / "quota.json", daily=60)
    mod = await moderator(youtube, tmp_path, ledger=ledger)  # channels.list: 1 unit
    try:
        calls = len(youtube.api.calls)
        first = await mod.perform(action(youtube, ActionKind.BAN))  # videos 1 + ban 50 = 52
        assert first.result is ActionResult.OK
        second = await mod.perform(action(youtube, ActionKind.BAN, target_author_id="UCb"))
        assert second.result is ActionResult.FAILED and "quota" in second.detail
        assert len(youtube.api.calls) == calls + 2  # nothing sent for the second
        assert "quota" in mod.unavailable(ActionKind.TIMEOUT)
    finally:
        await mod.close()


async def test_an_expired_token_is_renewed_once_and_saved(youtube, tmp_path) -> None:
    path = tmp_path / "youtube-token.json"
    _, refresh = youtube.api.grant()
    old = YouTubeCredentials(youtube.api.client_id, youtube.api.client_secret, "expired", refresh)
    mod = YouTubeModerator(
        old, base_url=youtube.url, save_to=path, ledger=QuotaLedger(tmp_path / "q.json")
    )
    await mod.start()
    try:
        assert mod.login == "Modo"
        saved = load_credentials(path)
        assert saved.token != "expired" and saved.token in youtube.api.tokens
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    finally:
        await mod.close()
    revoked = YouTubeCredentials(youtube.api.client_id, youtube.api.client_secret, "x", "bad")
    with pytest.raises(CredentialsError, match="vigile login youtube"):
        await YouTubeModerator(revoked, base_url=youtube.url).start()


async def test_login_youtube_runs_the_device_flow_and_stores_the_token(tmp_path) -> None:
    token_file = tmp_path / "youtube-token.json"
    async with FakeYouTube([]) as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "vigile.tui.cli",
            "login",
            "youtube",
            "--client-id",
            server.api.client_id,
            "--client-secret",
            server.api.client_secret,
            "--youtube-base-url",
            server.url,
            "--token-file",
            str(token_file),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        first = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert first.startswith(b"Open https://www.google.com/device")
        server.api.approve_all()
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err
    saved = load_credentials(token_file)
    assert saved.token in server.api.tokens and saved.refresh in server.api.refresh_tokens
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert saved.token.encode() not in out + err
