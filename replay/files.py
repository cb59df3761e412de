"""What a file on disk is (a Vigile session, a team hub's state, or neither), checked before use.

Every command that reads or writes a session or a hub's state asks here first, so a text file,
an empty file, a folder or the other kind of Vigile file is refused with its name and the
reason, before anything is opened, created or shown.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

SESSION = "session"
HUB_STATE = "hub-state"
KIND_KEY = "file_kind"  # in the `meta` table of both kinds of file

_WHAT = {SESSION: "a Vigile session", HUB_STATE: "a team hub's state file"}


class StoreError(RuntimeError):
    """A file that cannot be used, with a reason a user can act on and the file it concerns."""

    def __init__(self, reason: str, path: str | Path | None = None, usage: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = Path(path) if path is not None else None
        self.usage = usage  # the file given is not what the command takes (not a failure)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path is not None else self.reason


def kind_of(path: Path) -> str:
    """SESSION or HUB_STATE; StoreError (naming the file) for anything else."""
    if path.is_dir():
        raise StoreError("is a folder, not a file", path, usage=True)
    if not path.exists():
        raise StoreError("no such file", path, usage=True)
    if path.stat().st_size == 0:
        raise StoreError("is empty, not a Vigile file", path, usage=True)
    # read-write where allowed (nothing is written): the last reader then tidies the WAL's
    # side files away, where a read-only one would leave them beside the session
    mode = "rw" if os.access(path, os.W_OK) else "ro"
    try:
        db = sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot be opened: {exc}", path, usage=True) from exc
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        recorded = None
        if "meta" in tables:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (KIND_KEY,)).fetchone()
            recorded = row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise StoreError(_unreadable(exc), path, usage=True) from exc
    finally:
        db.close()
    if recorded in _WHAT:
        return str(recorded)
    # files written before the kind was recorded: known by their tables
    if {"meta", "messages", "sessions"} <= tables:
        return SESSION
    if {"tokens", "claims"} <= tables:
        return HUB_STATE
    raise StoreError("is a SQLite database, but not one Vigile wrote", path, usage=True)


def _unreadable(exc: sqlite3.DatabaseError) -> str:
    if "not a database" in str(exc):
        return "is not a Vigile file (not a SQLite database)"
    return f"cannot be read: {exc}"


def require(path: Path, kind: str = SESSION) -> None:
    """Refuse anything but an existing file of `kind`."""
    found = kind_of(path)
    if found != kind:
        raise StoreError(f"is {_WHAT[found]}, not {_WHAT[kind]}", path, usage=True)


def require_writable(path: Path, kind: str = SESSION) -> bool:
    """Refuse a place where a file of `kind` cannot be written: a missing or read-only folder,
    a folder in the file's place, a file of another sort. True if `path` already holds one
    (what is written is then added to it)."""
    folder = path.parent
    if path.is_dir():
        raise StoreError("is a folder; give a file name inside it", path, usage=True)
    if not folder.is_dir():
        raise StoreError(f"the folder {folder} does not exist", path, usage=True)
    if path.exists() and path.stat().st_size > 0:
        require(path, kind)
        if not os.access(path, os.W_OK):
            raise StoreError("is read-only", path, usage=True)
        return True
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"the folder {folder} is not writable", path, usage=True)
    return False


def reader_uri(path: Path) -> str:
    """How a reader opens a file it must never change. Read-write where the folder allows it,
    with `PRAGMA query_only` set by the reader: the last connection to close then removes the
    WAL's side files, which a `mode=ro` connection would leave beside the session."""
    return f"file:{path}?mode={'rw' if os.access(path, os.W_OK) else 'ro'}"


QUERY_ONLY = "PRAGMA query_only = ON"


def session_count(path: Path) -> int:
    """How many sessions a session file already holds (0 for a new or empty file)."""
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    mode = "rw" if os.access(path, os.W_OK) else "ro"
    db = sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])
    finally:
        db.close()
