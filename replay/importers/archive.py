"""An archive file opened for reading: plain or gzip, line by line or as a byte stream, with
how far the reading has gone (for the progress bar)."""

from __future__ import annotations

import contextlib
import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from vigile.replay.importers.items import ImportFailed

_GZIP_MAGIC = b"\x1f\x8b"
# Large reads: a read from the disk lets the store's writer thread take the interpreter, and
# getting it back can wait a whole switch interval (5 ms). Every 8 KiB, that was a third of
# an import's time.
_BUFFER = 4 << 20


class Archive:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.size = path.stat().st_size
            self._raw: BinaryIO = open(path, "rb", buffering=_BUFFER)  # noqa: SIM115 - see close()
        except OSError as exc:
            raise ImportFailed(f"cannot read {path}: {exc.strerror or exc}") from None
        self.compressed = self._raw.read(2) == _GZIP_MAGIC
        self._raw.seek(0)
        stream: BinaryIO = gzip.GzipFile(fileobj=self._raw) if self.compressed else self._raw
        self.stream = io.BufferedReader(stream, _BUFFER) if self.compressed else stream  # type: ignore[arg-type]
        self.broken: str | None = None  # why reading stopped before the end, if it did

    @property
    def position(self) -> int:
        """Bytes of the file read so far (of the compressed file, for a .gz)."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.size

    def head(self, size: int = 65_536) -> bytes:
        """The first bytes (decompressed), for detection; reading starts again from the top."""
        with gzip.open(self.path, "rb") if self.compressed else open(self.path, "rb") as f:
            try:
                return f.read(size)
            except (OSError, EOFError) as exc:
                raise ImportFailed(f"cannot read {self.path}: {exc}") from None

    def byte_lines(self) -> Iterator[tuple[int, bytes]]:
        """(line number, line without its end-of-line), from line 1."""
        for number, raw in enumerate(self._guarded(), 1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            yield number, raw.rstrip(b"\r\n")

    def lines(self) -> Iterator[tuple[int, str]]:
        """Lines as text, without their end of line; bytes that are not UTF-8 become U+FFFD,
        never an error. (Decoded by the text layer in large blocks, not line by line.)"""
        text = io.TextIOWrapper(self.stream, encoding="utf-8-sig", errors="replace", newline="")
        try:
            for number, line in enumerate(text, 1):
                yield number, line.rstrip("\r\n")
        except (OSError, EOFError) as exc:  # a truncated .gz: keep what came before
            self.broken = f"the file ends early: {exc}"
        finally:
            with contextlib.suppress(ValueError):  # already closed with the archive
                text.detach()  # else the text layer would close the archive's stream

    def _guarded(self) -> Iterator[bytes]:
        try:
            yield from self.stream
        except (OSError, EOFError) as exc:  # a truncated .gz: keep what came before
            self.broken = f"the file ends early: {exc}"

    def close(self) -> None:
        self.stream.close()
        self._raw.close()
