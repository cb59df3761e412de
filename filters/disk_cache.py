"""What start-up would otherwise rebuild every time (word tables, compiled packs), kept on disk.

One file per kind of thing, named by a digest of everything it was built from: a changed input
is a new name, never a stale answer. The cache is a convenience: a folder that cannot be read or
written, or a file that is damaged, means building again, never an error.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

_FORMAT = 1  # bumped when what is stored changes shape


def folder() -> Path:
    """$VIGILE_CACHE_DIR, else the platform's cache folder ($XDG_CACHE_HOME, ~/.cache)."""
    chosen = os.environ.get("VIGILE_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vigile"


def digest(*parts: object) -> str:
    text = "\0".join(map(repr, (_FORMAT, sys.version_info[:2], *parts)))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The filter engine's own source: what a cached pack or rule set was built by."""
    filters = Path(__file__).parent
    sources = sorted(filters.glob("*.py")) + [filters.parent / "connectors" / "model.py"]
    return hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()


def _path(kind: str, key: str) -> Path:
    return folder() / f"{kind}-{key}.pickle"


def _private(path: Path) -> bool:
    """Only the user's own files are read back: a cached object is code to Python's pickle, so
    one that someone else could have written is never loaded."""
    try:
        for checked in (path.parent, path):
            info = checked.lstat()
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                return False
    except OSError:
        return False
    return True


def load(kind: str, key: str) -> Any | None:
    """The object stored under this kind and key, or None (absent, unreadable, damaged, or not
    private to this user)."""
    path = _path(kind, key)
    if not _private(path):
        return None
    try:
        with path.open("rb") as stored:
            return pickle.load(stored)
    except Exception:  # noqa: BLE001 - any damage at all means "build it again"
        return None


def store(kind: str, key: str, value: Any, keep: int = 1) -> None:
    """Written to a private temporary file and renamed, so a reader never sees half a file.
    Only the `keep` newest files of a kind stay (the others were built from older inputs)."""
    where = folder()
    temporary = None
    try:
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=where, prefix=f".{kind}-")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, _path(kind, key))
        temporary = None
        kept = sorted(where.glob(f"{kind}-*.pickle"), key=lambda p: p.stat().st_mtime_ns)
        for old in kept[:-keep]:
            old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - a disk that refuses, an object that will not pickle…
        pass  # no cache this time: the next start builds again
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
