"""Token files: created owner-only and atomically, whatever was lying in wait in the folder."""

from __future__ import annotations

import os
import stat

import pytest

from vigile.connectors.secrets import CredentialsError, read_private, write_private


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_planted_world_writable_temp_file_does_not_make_the_token_readable(tmp_path) -> None:
    target = tmp_path / "twitch.json"
    planted = tmp_path / f".{target.name}.{os.getpid()}.tmp"  # the name an older Vigile used
    planted.write_text("planted")
    planted.chmod(0o666)
    write_private(target, {"token": "s3cret"})
    assert mode(target) == 0o600
    assert planted.read_text() == "planted" and mode(planted) == 0o666  # not reused
    assert read_private(target, "vigile login twitch") == {"token": "s3cret"}
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in (target.name, planted.name)]
    assert leftovers == []  # the temporary file was renamed into place


def test_a_planted_link_at_the_temp_name_is_not_written_through(tmp_path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    target = tmp_path / "twitch.json"
    (tmp_path / f".{target.name}.{os.getpid()}.tmp").symlink_to(victim)
    write_private(target, {"token": "s3cret"})
    assert victim.read_text() == "untouched"
    assert mode(target) == 0o600 and not target.is_symlink()


def test_a_link_in_place_of_the_token_file_is_refused(tmp_path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    target = tmp_path / "twitch.json"
    target.symlink_to(victim)
    with pytest.raises(CredentialsError, match="symbolic link"):
        write_private(target, {"token": "s3cret"})
    assert victim.read_text() == "untouched" and target.is_symlink()
    victim.chmod(0o600)
    with pytest.raises(CredentialsError, match="symbolic link"):
        read_private(target, "vigile login twitch")


def test_owner_only_whatever_the_umask(tmp_path) -> None:
    old = os.umask(0)
    try:
        written = write_private(tmp_path / "new" / "youtube.json", {"day": "2026-01-01"})
    finally:
        os.umask(old)
    assert mode(written) == 0o600
    written.chmod(0o644)
    with pytest.raises(CredentialsError, match="other users"):
        read_private(written, "vigile login youtube")
