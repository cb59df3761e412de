"""Small JSON files only their owner can read: moderator tokens, the YouTube quota ledger.

Written owner-only from the first byte, in a temporary file only Vigile could have created,
renamed into place, so a crash never leaves half a token; a file that others can read, or a
link in place of the file, is refused, not used."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any


class CredentialsError(RuntimeError):
    """The stored token cannot be used as it is; the message says what to do."""


def config_folder() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "vigile"


def read_private(path: Path, fix: str) -> dict[str, Any] | None:
    """The file's JSON object, or None when there is no file. `fix` names the command that
    makes a good one (`vigile login twitch`). A link is refused, not followed, and the
    permissions checked are those of the file actually opened."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if path.is_symlink():
            raise CredentialsError(
                f"{path} is a symbolic link: Vigile reads secrets from a plain file only; "
                f"remove the link and run `{fix}`."
            ) from None
        raise CredentialsError(f"{path} cannot be read ({exc.strerror}); run `{fix}`.") from None
    with os.fdopen(fd, encoding="utf-8") as file:
        mode = os.fstat(file.fileno()).st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CredentialsError(
                f"{path} can be read by other users of this machine, so Vigile will not use "
                f"it. Run `chmod 600 {path}` (then consider revoking the token), or `{fix}`."
            )
        try:
            data = json.loads(file.read())
        except (OSError, ValueError) as exc:
            raise CredentialsError(
                f"{path} is not a Vigile file ({type(exc).__name__}); run `{fix}`."
            ) from exc
    if not isinstance(data, dict):
        raise CredentialsError(f"{path} is not a Vigile file; run `{fix}`.")
    return data


def write_private(path: Path, data: dict[str, Any]) -> Path:
    """Write the file owner-only from its first byte: a fresh temporary file that nobody else
    could have made or linked (mkstemp: O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600), renamed
    over the old one. A link in place of the file is refused, never written through."""
    import tempfile  # a sign-in writes; the command line's every start need not load it

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.is_symlink():
        raise CredentialsError(
            f"{path} is a symbolic link: Vigile writes secrets to a plain file only; "
            "remove the link and try again."
        )
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path
