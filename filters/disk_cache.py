"""What start-up would otherwise rebuild every time (word tables, compiled packs), kept on disk.

One file per kind of thing, named by a digest of everything it was built from: a changed input
is a new name, never a stale answer. The cache is a convenience: a folder that cannot be read or
written, or a file that is damaged, means building again, never an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import struct
import sys
import zlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

_FORMAT = 2  # bumped when what is stored changes shape


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


def _path(kind: str, key: str, suffix: str = ".pickle") -> Path:
    return folder() / f"{kind}-{key}{suffix}"


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


def load_blobs(kind: str, key: str) -> list[bytes] | None:
    """The byte strings stored under this kind and key by `store_blobs`, or None (absent,
    unreadable, damaged, or not private to this user)."""
    path = _path(kind, key, _BLOBS)
    if not _private(path):
        return None
    try:
        data = path.read_bytes()
        magic, checksum, count = _HEADER.unpack_from(data)
        sizes = struct.unpack_from(f"<{count}Q", data, _HEADER.size)
        start = _HEADER.size + 8 * count
        if magic != _MAGIC or start + sum(sizes) != len(data):
            return None
        if zlib.crc32(memoryview(data)[_HEADER.size :]) != checksum:
            return None
    except (OSError, struct.error):
        return None
    blobs = []
    for size in sizes:
        blobs.append(data[start : start + size])
        start += size
    return blobs


def store(kind: str, key: str, value: Any, keep: int = 2) -> None:
    """Written to a private temporary file and renamed, so a reader never sees half a file.
    Only the `keep` newest files of a kind stay (the others were built from older inputs); two
    at least, so that two Vigiles of different versions (an upgrade tried and rolled back, a
    second install) started in turn do not rebuild each other's."""

    def write(out: Any) -> None:
        _Pickler(out, pickle.HIGHEST_PROTOCOL).dump(value)

    _write(kind, key, ".pickle", write, keep)


def store_blobs(kind: str, key: str, blobs: list[bytes], keep: int = 2) -> None:
    """Byte strings kept as they are, for data read back without unpickling (a memory-mapped
    word trie, arrays of numbers): counted, sized and checksummed, so that a damaged file is
    seen as such."""
    sizes = struct.pack(f"<{len(blobs)}Q", *map(len, blobs))
    checksum = zlib.crc32(b"".join(blobs), zlib.crc32(sizes))
    header = _HEADER.pack(_MAGIC, checksum, len(blobs))

    def write(out: Any) -> None:
        out.write(header + sizes)
        for blob in blobs:
            out.write(blob)

    _write(kind, key, _BLOBS, write, keep)


# A blob file: magic, CRC-32 of all that follows the header (damage, not tampering: only the
# user's own files are read), the number of blobs, each one's size, then the blobs.
_MAGIC = b"VGLB"
_HEADER = struct.Struct("<4sIQ")
_BLOBS = ".bin"


def _write(kind: str, key: str, suffix: str, write: Callable[[Any], None], keep: int) -> None:
    import tempfile  # only a start that builds something writes: most read

    where = folder()
    temporary = None
    try:
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=where, prefix=f".{kind}-")
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(temporary, _path(kind, key, suffix))
        temporary = None
        # every format of the kind: a file of an older format is one built from older inputs
        kept = sorted(where.glob(f"{kind}-*.*"), key=lambda p: p.stat().st_mtime_ns)
        for old in kept[:-keep]:
            old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - a disk that refuses, an object that will not pickle…
        pass  # no cache this time: the next start builds again
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


class _Pickler(pickle.Pickler):
    """Frozen slotted dataclasses (rules, terms, pattern words: tens of thousands in a large
    pack) are stored as their class and field values, so that loading calls the class, in a
    fraction of the time of the generic path, which looks up the fields of every instance.
    Equal strings and tuples of strings in their fields (a term's key, surface and spelling
    are often the same word) are stored once: fewer objects to make on loading."""

    def __init__(self, out: Any, protocol: int) -> None:
        super().__init__(out, protocol)
        self._shared: dict[str | tuple[str, ...], str | tuple[str, ...]] = {}

    def reducer_override(self, obj: Any) -> Any:
        names = _init_fields(type(obj))
        if names is None:
            return NotImplemented
        return type(obj), tuple([self._one(getattr(obj, name)) for name in names])

    def _one(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or (kind is tuple and all(type(v) is str for v in value)):
            return self._shared.setdefault(value, value)
        return value


@lru_cache(maxsize=256)
def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The fields a dataclass's constructor takes, in order, when that is all of its state."""
    if "__dataclass_fields__" not in cls.__dict__ or "__slots__" not in cls.__dict__:
        return None  # not a slotted dataclass itself (a subclass may hold more)
    fields = dataclasses.fields(cls)
    if not all(f.init for f in fields) or hasattr(cls, "__post_init__"):
        return None
    return tuple(f.name for f in fields)
