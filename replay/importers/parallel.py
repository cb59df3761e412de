"""A second process that reads and parses the archives while this one seals and writes the
session: the two halves of an import take about as long, so a large archive imports in about
half the time on two cores. The items are the readers' own, as the same parsers made them,
messages laid out as the store's rows; they come back in batches over a pipe, whose buffers
bound what waits in memory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import pickle
import struct
import sys
import traceback
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from vigile.replay.importers.archive import Archive
from vigile.replay.importers.items import ImportFailed, ImportOptions
from vigile.replay.importers.reading import Entry, batches, entries

_SIZE = struct.Struct("<Q")  # each batch goes as its length, then its pickle
_READ_AHEAD = 4 << 20  # bytes of batches this process may hold before the reader waits
_PIPE = 1 << 20  # the pipe's own buffer, where the system lets us set it


class ReadingProcess:
    """The archives read by a process of their own; batches come back in the archives' order.
    Its own interpreter (not a fork): it starts from nothing this process holds."""

    def __init__(self, paths: Sequence[Path], formats: Sequence[str], options: ImportOptions):
        self._job = pickle.dumps(([str(p) for p in paths], list(formats), options))
        self._process: asyncio.subprocess.Process | None = None
        self.position = 0  # bytes of the archives read so far

    async def __aiter__(self) -> AsyncIterator[list[Entry]]:
        self._process = process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=_READ_AHEAD // 2,  # the stream stops reading the pipe at twice its limit
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(self._job)
        process.stdin.close()
        while True:
            try:
                size = _SIZE.unpack(await process.stdout.readexactly(_SIZE.size))[0]
                kind, payload, position = pickle.loads(await process.stdout.readexactly(size))
            except asyncio.IncompleteReadError:
                code = await process.wait()
                raise ImportFailed(
                    f"the process reading the archives stopped (exit code {code})"
                ) from None
            if kind == "batch":
                self.position = position
                yield payload
            elif kind == "failed":
                raise ImportFailed(payload)
            elif kind == "crashed":
                raise RuntimeError(f"the process reading the archives failed:\n{payload}")
            else:  # "done"
                await process.wait()
                return

    async def aclose(self) -> None:
        """Stop the process if it still runs (an import failed or was interrupted)."""
        if self._process is None:
            return
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
        await self._process.wait()


def _send(out: BinaryIO, message: tuple[str, Any, int]) -> None:
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    out.write(_SIZE.pack(len(data)))
    out.write(data)


def main() -> None:
    """The reading process: the job from standard input, the batches to standard output, then
    "done" (or why it stopped)."""
    # It keeps nothing past a batch and makes no cycles: the collector would only walk the
    # batch being built, again and again (a tenth of this process's time).
    gc.disable()
    out = sys.stdout.buffer
    with contextlib.suppress(OSError, AttributeError):  # Linux only; a small pipe still works
        import fcntl

        fcntl.fcntl(out.fileno(), fcntl.F_SETPIPE_SZ, _PIPE)
    archives: list[Archive] = []
    try:
        paths, formats, options = pickle.loads(sys.stdin.buffer.read())
        archives = [Archive(Path(path)) for path in paths]
        for batch in batches(entries(archives, formats, options)):
            _send(out, ("batch", batch, sum(archive.position for archive in archives)))
        _send(out, ("done", None, 0))
    except ImportFailed as exc:
        _send(out, ("failed", str(exc), 0))
    except (KeyboardInterrupt, BrokenPipeError):
        pass  # Ctrl-C reaches both processes and the importer cleans up; or it is gone
    except BaseException:
        _send(out, ("crashed", traceback.format_exc(), 0))
    finally:
        for archive in archives:
            archive.close()
        with contextlib.suppress(OSError):
            out.flush()


if __name__ == "__main__":
    main()
