"""Each desk's credentials on the hub: `vigile hub --add-desk NAME --role ROLE`,
`--revoke-desk NAME`, `--list-desks`. A token is shown once and stored as its digest; a
running hub reads the same file, so a revoked desk is cut off within seconds."""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from vigile.replay.files import HUB_STATE, KIND_KEY, StoreError, require_writable
from vigile.team.protocol import ROLES, FrameError, check_name
from vigile.team.state import LOCK_WAIT_S, SCHEMA, HubStateError, digest


class DeskError(ValueError):
    """A desk cannot be added or revoked as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class DeskEntry:
    name: str
    role: str
    created: float


def _open(path: Path) -> sqlite3.Connection:
    try:  # a session file (or anything else) is refused before a table is added to it
        require_writable(path, HUB_STATE)
    except StoreError as exc:
        raise HubStateError(str(exc)) from exc
    try:
        db = sqlite3.connect(path, timeout=LOCK_WAIT_S * 10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (KIND_KEY, HUB_STATE))
    except sqlite3.Error as exc:
        raise HubStateError(f"{path} cannot be used as the hub's file: {exc}") from exc
    return db


def add_desk(path: Path, name: str, role: str) -> str:
    """A new desk and its token, returned once."""
    if role not in ROLES:
        raise DeskError(f"a role is {' or '.join(ROLES)}, not {role!r}")
    try:
        name = check_name(name)
    except FrameError as exc:
        raise DeskError(str(exc)) from None
    token = secrets.token_urlsafe(24)
    db = _open(path)
    try:
        db.execute(
            "INSERT INTO desks VALUES (?, ?, ?, ?)", (name, role, digest(token), time.time())
        )
    except sqlite3.IntegrityError:
        raise DeskError(
            f"the desk {name!r} exists already: --revoke-desk {name} first to give it a new token"
        ) from None
    except sqlite3.Error as exc:
        raise HubStateError(f"{path}: {exc}") from exc
    finally:
        db.close()
    return token


def revoke_desk(path: Path, name: str) -> None:
    db = _open(path)
    try:
        gone = db.execute("DELETE FROM desks WHERE name = ?", (name,)).rowcount
    except sqlite3.Error as exc:
        raise HubStateError(f"{path}: {exc}") from exc
    finally:
        db.close()
    if not gone:
        raise DeskError(f"no desk is called {name!r} (--list-desks shows them)")


def list_desks(path: Path) -> list[DeskEntry]:
    db = _open(path)
    try:
        rows = db.execute("SELECT name, role, created FROM desks ORDER BY name").fetchall()
    except sqlite3.Error as exc:
        raise HubStateError(f"{path}: {exc}") from exc
    finally:
        db.close()
    return [DeskEntry(*row) for row in rows]
