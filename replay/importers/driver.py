"""`vigile import`: archives → one session, through the store's own write path (hash chain,
events, deletions marked as a live desk marks them), streamed with bounded memory."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from vigile.connectors.connection import SeenIds
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.replay.importers import chatdownloader, csvlog, irclog, textlog, twitchdownloader, ytdlp
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.detect import FORMATS, detect
from vigile.replay.importers.items import ImportFailed, ImportOptions, Item, Skipped, item_time
from vigile.replay.importers.report import SAMPLES, ImportReport
from vigile.replay.pipeline import DELETION_KINDS, purged_author
from vigile.replay.reads import AUTHORS, SessionFile
from vigile.replay.store import SessionStore, StoreError

READERS: dict[str, Callable[[Archive, ImportOptions], Iterator[Item]]] = {
    "ytdlp": ytdlp.read,
    "twitchdownloader": twitchdownloader.read,
    "twitchdownloader-text": textlog.read_twitchdownloader,
    "chat-downloader": chatdownloader.read,
    "irc": irclog.read,
    "text": textlog.read,
    "csv": csvlog.read,
}
assert set(READERS) == set(FORMATS)

_BATCH = 10_000
_BACKLOG = 40_000  # rows the writer may hold unwritten before reading waits for the disk
_PROGRESS_EVERY = 5_000

Progress = Callable[[int], None]  # bytes of the archives read so far


async def import_archives(
    paths: Sequence[Path],
    db: Path,
    options: ImportOptions,
    fmt: str = "auto",
    on_progress: Progress | None = None,
    replace: bool = False,
) -> ImportReport:
    """Read every archive into one new session at `db`, merged in time order. ImportFailed,
    and no file left behind, when an archive cannot be imported at all. `replace`: an existing
    `db` is replaced, once the new session is whole (a failed import leaves it as it was)."""
    _refuse_existing(db, replace)
    partial = db.with_name(f".{db.name}.importing")  # the session's name only once it is whole
    remove_session(partial)  # what a killed import left
    archives = []
    try:
        for path in paths:
            archives.append(Archive(path))
        report = ImportReport()
        streams = []
        for archive in archives:
            name = fmt if fmt != "auto" else detect(archive)
            report.files[archive.path.name] = name
            streams.append(_timed(archive, READERS[name](archive, options), len(archives) > 1))
        merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_by_time)
        try:
            await _write(merged, archives, partial, options, report, on_progress)
            _rename(partial, db)
        except (StoreError, OSError) as exc:  # a folder that is not there, a full disk…
            reason = str(exc).replace(str(partial), str(db))
            raise ImportFailed(f"cannot write the session: {reason}") from None
    except BaseException:
        remove_session(partial)  # a half import is no session: nothing is kept
        raise
    finally:
        for archive in archives:
            archive.close()
    with SessionFile(db) as session:
        authors = session.one(AUTHORS)
    report.authors = authors.count if authors else 0
    return report


def _by_time(entry: tuple[float, str, Item]) -> float:
    return entry[0]


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


def _timed(
    archive: Archive, items: Iterator[Item], merged: bool
) -> Iterator[tuple[float, str, Item]]:
    """(time, file, item): what the merge orders by; a skipped line keeps the time before.
    A single archive is not merged: its items need no time of their own here."""
    now, name = float("-inf"), archive.path.name
    if merged:
        for item in items:
            ts = item_time(item)
            if ts is not None:
                now = ts
            yield now, name, item
    else:
        for item in items:
            yield 0.0, name, item
    if archive.broken:  # a compressed file cut short: what came before is kept
        data = {"line": 0, "error": archive.broken}
        yield now, archive.path.name, PlatformEvent("vigile", "", "malformed", max(now, 0.0), data)


async def _write(
    merged: Iterator[tuple[float, str, Item]],
    archives: list[Archive],
    db: Path,
    options: ImportOptions,
    report: ImportReport,
    on_progress: Progress | None,
) -> None:
    ahead = []  # up to the first item with a time: the session starts then
    started = None
    for entry in merged:
        ahead.append(entry)
        started = item_time(entry[2])
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
        count = 0
        for _, file, item in itertools.chain(ahead, merged):
            _add(store, item, file, report, seen)
            count += 1
            if store.pending >= _BACKLOG:
                await store.caught_up(_BACKLOG // 2)
            elif count % 1_000 == 0:
                await asyncio.sleep(0)  # the writer commits while the next lines are read
            if on_progress and count % _PROGRESS_EVERY == 0:
                on_progress(sum(a.position for a in archives))
        if report.last is not None:
            store.add_event(PlatformEvent("vigile", "", "import", report.last, report.as_dict()))
    finally:
        await store.close()
    if on_progress:
        on_progress(sum(a.size for a in archives))


def _add(store: SessionStore, item: Item, file: str, report: ImportReport, seen: SeenIds) -> None:
    if isinstance(item, Skipped):
        report.skipped[item.reason] += 1
    elif isinstance(item, ChatMessage):
        if seen.repeated(item.key):
            report.duplicates += 1
            return
        store.add_message(item)
        report.messages += 1
        report.saw(item.sent_at)
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
