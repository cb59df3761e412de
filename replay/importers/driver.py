"""`vigile import`: archives → one session, through the store's own write path (hash chain,
events, deletions marked as a live desk marks them), streamed with bounded memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from vigile.connectors.connection import SeenIds
from vigile.connectors.model import PlatformEvent
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.detect import detect
from vigile.replay.importers.items import ImportFailed, ImportOptions, Skipped
from vigile.replay.importers.parallel import ReadingProcess
from vigile.replay.importers.reading import FIELD, Entry, InProcess, ReadItem
from vigile.replay.importers.report import SAMPLES, ImportReport
from vigile.replay.pipeline import DELETION_KINDS, purged_author
from vigile.replay.reads import AUTHORS, SessionFile
from vigile.replay.store import SessionStore, StoreError

_BATCH = 10_000
_PLATFORM, _ID, _SENT_AT = FIELD["platform"], FIELD["msg_id"], FIELD["sent_at"]
_BACKLOG = 40_000  # rows the writer may hold unwritten before reading waits for the disk
# From this size on, a second process may read the archives (starting it costs about half a
# second, which a smaller archive would not win back).
PARALLEL_FROM = 8 << 20

Progress = Callable[[int], None]  # bytes of the archives read so far


async def import_archives(
    paths: Sequence[Path],
    db: Path,
    options: ImportOptions,
    fmt: str = "auto",
    on_progress: Progress | None = None,
    replace: bool = False,
    parallel: bool | None = None,
) -> ImportReport:
    """Read every archive into one new session at `db`, merged in time order. ImportFailed,
    and no file left behind, when an archive cannot be imported at all. `replace`: an existing
    `db` is replaced, once the new session is whole (a failed import leaves it as it was).
    `parallel`: read the archives in a second process (None: when they are large and the
    machine is idle enough); the session is the same either way."""
    _refuse_existing(db, replace)
    partial = db.with_name(f".{db.name}.importing")  # the session's name only once it is whole
    remove_session(partial)  # what a killed import left
    archives: list[Archive] = []
    source: InProcess | ReadingProcess | None = None
    try:
        for path in paths:
            archives.append(Archive(path))
        report = ImportReport()
        formats = []
        for archive in archives:
            name = fmt if fmt != "auto" else detect(archive)
            report.files[archive.path.name] = name
            formats.append(name)
        if parallel if parallel is not None else _worth_a_process(archives):
            source = ReadingProcess([a.path for a in archives], formats, options)
        else:
            source = InProcess(archives, formats, options)
        try:
            await _write(source, partial, options, report, on_progress)
            _rename(partial, db)
        except (StoreError, OSError) as exc:  # a folder that is not there, a full disk…
            reason = str(exc).replace(str(partial), str(db))
            raise ImportFailed(f"cannot write the session: {reason}") from None
        if on_progress:
            on_progress(sum(a.size for a in archives))
    except BaseException:
        remove_session(partial)  # a half import is no session: nothing is kept
        raise
    finally:
        if source is not None:
            await source.aclose()
        for archive in archives:
            archive.close()
    with SessionFile(db) as session:
        authors = session.one(AUTHORS)
    report.authors = authors.count if authors else 0
    return report


def _worth_a_process(archives: Sequence[Archive]) -> bool:
    """A large archive, and more than a core left idle by everything else. When other work
    keeps the cores busy, the two processes end up sharing what one would get, and handing the
    batches over is pure cost: about a tenth more CPU time, and slower (bench/README.md)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2 or sum(a.size for a in archives) < PARALLEL_FROM:
        return False
    if not hasattr(os, "getloadavg"):  # not on Windows: no way to tell, one process is safe
        return False
    return os.getloadavg()[0] + 1.5 <= (cores or 1)


def _refuse_existing(db: Path, replace: bool) -> None:
    if db.exists() and not replace:
        raise ImportFailed(f"{db} already exists (use --force to replace it)")
    if not db.parent.is_dir():
        raise ImportFailed(f"cannot write the session {db}: no folder {db.parent}")


def _rename(partial: Path, db: Path) -> None:
    remove_session(db)  # the session it replaces, with its WAL companions
    partial.replace(db)


def remove_session(db: Path) -> None:
    """A session file and its WAL companions."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


async def _write(
    source: InProcess | ReadingProcess,
    db: Path,
    options: ImportOptions,
    report: ImportReport,
    on_progress: Progress | None,
) -> None:
    async with contextlib.aclosing(aiter(source)) as stream:
        ahead: list[Entry] = []  # up to the first item with a time: the session starts then
        started = None
        async for batch in stream:
            ahead += batch
            started = next((t for _, i in batch if (t := _time(i)) is not None), None)
            if started is not None or len(ahead) >= 10_000:
                break
        store = await SessionStore.open(db, batch_rows=_BATCH, bulk=True)
        try:
            names = list(report.files)
            await store.start_session(
                f"import of {', '.join(names)}"[:200],
                "import",
                [f"{fmt}:{name}" for name, fmt in report.files.items()],
                {"imported": report.files, "time_zone": str(options.tz)},
                started_at=started,
            )
            seen = SeenIds(200_000)
            await _store(ahead, store, report, seen)
            async for batch in stream:
                await _store(batch, store, report, seen)
                if on_progress:
                    on_progress(source.position)
            if report.last is not None:
                event = PlatformEvent("vigile", "", "import", report.last, report.as_dict())
                store.add_event(event)
        finally:
            await store.close()


async def _store(
    batch: list[Entry], store: SessionStore, report: ImportReport, seen: SeenIds
) -> None:
    for file, item in batch:
        _add(store, item, file, report, seen)
    if store.pending >= _BACKLOG:
        await store.caught_up(_BACKLOG // 2)
    else:
        await asyncio.sleep(0)  # the writer commits while the next lines are read


def _time(item: ReadItem) -> float | None:
    if type(item) is tuple:
        return float(item[_SENT_AT])
    return item.ts if isinstance(item, PlatformEvent) else None


def _add(
    store: SessionStore, item: ReadItem, file: str, report: ImportReport, seen: SeenIds
) -> None:
    if type(item) is tuple:  # a message, as its row's fields
        if seen.repeated(f"{item[_PLATFORM]}:{item[_ID]}"):  # its key, as ChatMessage.key
            report.duplicates += 1
            return
        store.add_message_fields(item)
        report.messages += 1
        report.saw(item[_SENT_AT])
    elif isinstance(item, Skipped):
        report.skipped[item.reason] += 1
    else:
        store.add_event(item)
        if item.kind == "malformed":
            report.malformed += 1
            if len(report.malformed_samples) < SAMPLES:
                sample = {
                    "file": file,
                    "line": item.data.get("line"),
                    "error": item.data.get("error"),
                }
                report.malformed_samples.append(sample)
            return
        report.events[item.kind] += 1
        # deletions mark what they remove, as the live pipeline does
        if item.kind in DELETION_KINDS and "message_id" in item.data:
            store.mark_deleted(item.platform, str(item.data["message_id"]), item.ts)
        elif author := purged_author(item):
            store.mark_author_deleted(item.platform, author, item.ts)
