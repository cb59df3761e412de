"""Small JSON files only their owner can read: moderator tokens, the YouTube quota ledger.

Written owner-only from the first byte (never chmod-ed after the fact) and renamed into place,
so a crash never leaves half a token; a file that others can read is refused, not used."""

from __future__ import annotations

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
    makes a good one (`vigile login twitch`)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(
            f"{path} can be read by other users of this machine, so Vigile will not use it. "
            f"Run `chmod 600 {path}` (then consider revoking the token), or `{fix}`."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CredentialsError(
            f"{path} is not a Vigile file ({type(exc).__name__}); run `{fix}`."
        ) from exc
    if not isinstance(data, dict):
        raise CredentialsError(f"{path} is not a Vigile file; run `{fix}`.")
    return data


def write_private(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return path
