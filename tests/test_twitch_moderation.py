"""Moderating through Helix (twitchio) against a local server that answers like Twitch."""

import asyncio
import json
import os
import stat
import time

import pytest

from tests.fakes.helix import BANS, WARNINGS, Account, Failure, FakeHelix
from vigile.connectors.model import ActionKind, ActionResult, ModAction
from vigile.connectors.twitch_auth import (
    CredentialsError,
    TwitchCredentials,
    device_login,
    load_credentials,
    save_credentials,
)
from vigile.connectors.twitch_mod import TwitchModerator

MODO = Account(user_id="2", login="modo")


async def moderator(helix: FakeHelix, account: Account = MODO, **kwargs) -> TwitchModerator:
    token, refresh = helix.grant(account)
    mod = TwitchModerator(TwitchCredentials(helix.client_id, token, refresh), **kwargs)
    await mod.start()
    return mod


def action(kind: ActionKind, **kwargs) -> ModAction:
    base = {
        "platform": "twitch",
        "channel": "lumina",
        "moderator": "modo",
        "target_author_id": "666",
        "target_message_id": "m-1",
    }
    return ModAction(kind=kind, **{**base, **kwargs})


async def test_ban_timeout_unban_delete_warn_and_clear_reach_twitch(helix) -> None:
    mod = await moderator(helix)
    try:
        assert mod.login == "modo" and mod.user_id == "2"
        ban = await mod.perform(action(ActionKind.BAN, reason="slur"))
        assert ban.result is ActionResult.OK, ban.detail
        assert helix.bans[("1", "666")]["reason"] == "slur"
        assert helix.bans[("1", "666")]["end_time"] is None
        unban = await mod.perform(action(ActionKind.UNBAN))
        assert unban.result is ActionResult.OK and ("1", "666") not in helix.bans
        timeout = await mod.perform(action(ActionKind.TIMEOUT, duration_s=300))
        assert timeout.result is ActionResult.OK and "300 s" in timeout.detail
        assert helix.bans[("1", "666")]["end_time"] is not None
        delete = await mod.perform(action(ActionKind.DELETE, target_message_id="abc-123"))
        assert delete.result is ActionResult.OK and helix.deleted == ["abc-123"]
        warn = await mod.perform(action(ActionKind.WARN, reason="first warning"))
        assert warn.result is ActionResult.OK and helix.warnings[0]["reason"] == "first warning"
        clear = await mod.perform(action(ActionKind.CLEAR, target_message_id=None))
        assert clear.result is ActionResult.OK and helix.cleared == ["1"]
    finally:
        await mod.close()
    calls = [r for r in helix.requests if r["path"].startswith("/helix/moderation")]
    assert all(r["query"]["moderator_id"] == "2" for r in calls)
    assert all(r["client_id"] == helix.client_id for r in calls)
    # the channel's id was looked up once, then remembered
    assert sum(r["path"] == "/helix/users" for r in helix.requests) == 1


async def test_chat_settings_change_slow_followers_emote_and_subscribers_modes(helix) -> None:
    mod = await moderator(helix)
    try:
        settings = await mod.chat_settings("lumina", slow_mode=True, slow_mode_wait_time=30)
        assert settings["slow_mode"] and settings["slow_mode_wait_time"] == 30
        settings = await mod.chat_settings(
            "lumina", follower_mode=True, emote_mode=True, subscriber_mode=True
        )
        assert settings["follower_mode"] and settings["emote_mode"]
        assert settings["subscriber_mode"] and settings["slow_mode"]
        with pytest.raises(ValueError, match="unknown chat settings: party_mode"):
            await mod.chat_settings("lumina", party_mode=True)
    finally:
        await mod.close()


async def test_refusals_become_sentences_a_moderator_understands(helix) -> None:
    helix.moderators["1"] = set()  # modo is no longer a moderator of lumina
    mod = await moderator(helix)
    try:
        refused = await mod.perform(action(ActionKind.BAN))
        assert refused.result is ActionResult.FAILED
        assert refused.detail.startswith("Not allowed in #lumina: The user in moderator_id is not")
        helix.moderators["1"] = {"2"}
        await mod.perform(action(ActionKind.BAN))
        again = await mod.perform(action(ActionKind.BAN))
        assert (
            again.detail == "Twitch refused: The user specified in the user_id field is "
            "already banned"
        )
        gone = await mod.perform(action(ActionKind.DELETE, target_message_id="gone-1"))
        assert gone.detail.startswith("Not found: The ID in message_id was not found")
        helix.failures.append(Failure("/moderation/bans", 500, "boom"))
        broken = await mod.perform(action(ActionKind.TIMEOUT, target_author_id="7"))
        assert broken.detail == "Twitch is having trouble (HTTP 500); try again."
        helix.failures.append(Failure("/moderation/bans", 401, "Missing scope: x"))
        unauthorised = await mod.perform(action(ActionKind.TIMEOUT, target_author_id="8"))
        assert unauthorised.detail == (
            "Twitch did not accept the token (Missing scope: x); run `vigile login twitch` again."
        )
    finally:
        await mod.close()


async def test_a_429_waits_for_the_reset_header_then_goes_through(helix) -> None:
    mod = await moderator(helix)
    try:
        await mod.perform(action(ActionKind.WARN, target_author_id="5"))  # channel id known
        helix.failures.append(Failure("/moderation/warnings", 429, reset_in_s=1))
        started = time.monotonic()
        warned = await mod.perform(action(ActionKind.WARN, target_author_id="9"))
        waited = time.monotonic() - started
        assert warned.result is ActionResult.OK, warned.detail
        assert 0.05 < waited < 3.5  # until the bucket refilled, not a blind retry loop
        assert [w["user_id"] for w in helix.warnings] == ["5", "9"]
        # a reset too far away is not waited for: the moderator is told at once
        helix.failures.append(Failure("/moderation/warnings", 429, reset_in_s=3600))
        started = time.monotonic()
        late = await mod.perform(action(ActionKind.WARN, target_author_id="10"))
        assert time.monotonic() - started < 2
        assert late.result is ActionResult.FAILED and "rate limit" in late.detail
    finally:
        await mod.close()


async def test_missing_scopes_disable_the_actions_they_govern(helix) -> None:
    mod = await moderator(helix, Account("2", "modo", scopes=(WARNINGS,)))
    try:
        assert mod.unavailable(ActionKind.WARN) is None
        reason = mod.unavailable(ActionKind.BAN)
        assert reason and BANS in reason and "vigile login twitch" in reason
        refused = await mod.perform(action(ActionKind.BAN))
        assert refused.result is ActionResult.FAILED and refused.detail.startswith("Not sent")
        assert not any(r["path"] == "/helix/moderation/bans" for r in helix.requests)
    finally:
        await mod.close()


async def test_an_expired_token_is_refreshed_and_saved_owner_only(helix, tmp_path) -> None:
    path = tmp_path / "twitch-token.json"
    _, refresh = helix.grant(MODO)
    old = TwitchCredentials(helix.client_id, "expired-token", refresh, "modo", "2")
    save_credentials(old, path)
    mod = TwitchModerator(old, save_to=path)
    await mod.start()
    try:
        assert (await mod.perform(action(ActionKind.BAN))).result is ActionResult.OK
        for _ in range(50):  # twitchio hands the new pair over in a task of its own
            if load_credentials(path).token != "expired-token":
                break
            await asyncio.sleep(0.02)
        saved = load_credentials(path)
        assert saved.token in helix.tokens and saved.refresh != refresh
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    finally:
        await mod.close()


async def test_a_revoked_token_is_refused_with_what_to_do(helix) -> None:
    mod = TwitchModerator(TwitchCredentials(helix.client_id, "revoked", "no-such-refresh"))
    with pytest.raises(CredentialsError, match="vigile login twitch"):
        await mod.start()


async def test_device_login_shows_the_code_and_returns_the_granted_token(helix) -> None:
    shown: list[tuple[str, str]] = []

    def show(url: str, code: str) -> None:
        shown.append((url, code))
        asyncio.get_running_loop().call_later(0.3, helix.approve, MODO)

    credentials = await device_login(helix.client_id, show, timeout_s=20)
    ((url, code),) = shown
    assert "twitch.tv/activate" in url and len(code) == 8
    assert credentials.login == "modo" and credentials.user_id == "2"
    assert helix.tokens[credentials.token] == MODO
    assert "moderator:manage:banned_users" in repr(helix.requests[0]["query"])
    assert credentials.token not in repr(credentials)


def test_token_files_are_written_owner_only_and_refused_when_others_can_read(tmp_path) -> None:
    path = tmp_path / "cfg" / "twitch-token.json"
    save_credentials(TwitchCredentials("cid", "secret-token", "r", "modo", "2"), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_credentials(path).token == "secret-token"
    os.chmod(path, 0o644)
    with pytest.raises(CredentialsError, match="chmod 600"):
        load_credentials(path)
    os.chmod(path, 0o600)
    path.write_text("{not json")
    with pytest.raises(CredentialsError, match="not a Vigile file"):
        load_credentials(path)
    assert load_credentials(tmp_path / "absent.json") is None
    assert json.loads(json.dumps({"ok": 1}))  # the module needs no more than the stdlib to load
