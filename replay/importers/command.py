"""The work behind `vigile import`: options from the command line, the progress bar, the
report's lines. Errors are ImportFailed, one line each."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tqdm import tqdm

from vigile.replay.importers.driver import import_archives
from vigile.replay.importers.items import ImportFailed, ImportOptions
from vigile.replay.importers.report import ImportReport


def options(channel: str | None, tz: str, date: str | None, columns: str | None) -> ImportOptions:
    """`--channel [PLATFORM:]NAME`, `--tz ZONE`, `--date YYYY-MM-DD[THH:MM]`, `--columns a,b,c`."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFailed(f"--tz {tz!r}: unknown time zone (try UTC or Europe/Paris)") from None
    start = None
    if date:
        try:
            start = datetime.fromisoformat(date)
        except ValueError:
            raise ImportFailed(
                f"--date {date!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM"
            ) from None
    platform = None
    if channel and ":" in channel:
        platform, channel = channel.split(":", 1)
        if platform not in ("twitch", "youtube"):
            raise ImportFailed(f"--channel {platform}:{channel}: the platform is twitch or youtube")
    names = tuple(c.strip() for c in columns.split(",") if c.strip()) if columns else None
    return ImportOptions(channel or None, platform, zone, start, names)


def import_files(
    files: Sequence[str], db: str, fmt: str, opts: ImportOptions, force: bool = False
) -> ImportReport:
    """Import, with a progress bar when standard error is a terminal."""
    paths = [Path(f) for f in files]
    for path in paths:
        if not path.is_file():
            raise ImportFailed(f"no file at {path}")
    target = Path(db)
    total = sum(path.stat().st_size for path in paths)
    bar = tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        desc="importing",
        disable=not sys.stderr.isatty(),  # a log file or a pipe gets the report only
        leave=False,
    )
    with bar:

        def progress(done: int) -> None:
            bar.update(max(0, done - bar.n))

        return asyncio.run(import_archives(paths, target, opts, fmt, progress, replace=force))


def report_lines(report: ImportReport, db: str) -> list[str]:
    formats = ", ".join(f"{name} ({fmt})" for name, fmt in report.files.items())
    return [f"imported {formats} → {db}", *report.lines()]
