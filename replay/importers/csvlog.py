"""A CSV of chat lines whose header names the columns (or `--columns ts,user,text` when it has
none): a time, an author and the text at least; an id, an author id, a channel and a platform
when the file has them."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator, Sequence
from datetime import date

from vigile.connectors.model import ChatMessage
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.clock import DayClock, clock_seconds, date_in_name, parse_datetime
from vigile.replay.importers.items import (
    ImportFailed,
    ImportOptions,
    Item,
    Skipped,
    Timeline,
    malformed,
)

# Each field Vigile reads, and the header names that mean it (compared in lower case).
SYNONYMS = {
    "ts": ("ts", "time", "timestamp", "date", "datetime", "created_at", "sent_at", "sent"),
    "user": ("user", "author", "username", "user_name", "name", "display_name", "login", "nick"),
    "text": ("text", "message", "msg", "body", "content", "comment"),
    "id": ("id", "message_id", "msg_id"),
    "user_id": ("user_id", "author_id", "userid"),
    "channel": ("channel", "room"),
    "platform": ("platform", "site"),
}
REQUIRED = ("ts", "user", "text")


def fields_of(header: Sequence[str]) -> dict[str, int]:
    """Which column holds each field Vigile knows, by the header's names."""
    names = [name.strip().lower().lstrip("\ufeff") for name in header]
    found: dict[str, int] = {}
    for field, synonyms in SYNONYMS.items():
        for synonym in synonyms:
            if synonym in names:
                found[field] = names.index(synonym)
                break
    return found


def read(archive: Archive, options: ImportOptions) -> Iterator[Item]:
    platform = options.platform or "twitch"
    channel = options.channel or archive.path.stem
    lines = (text + "\n" for _, text in archive.lines())
    sample = archive.head(8_192).decode("utf-8", "replace")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(lines, dialect)
    columns, rows_after = _columns(rows, options, archive)
    timeline = Timeline(options.origin())
    day: date | None = options.day(date_in_name(archive.path))
    days: DayClock | None = None
    width = max(columns.values()) + 1
    try:
        for row in rows_after:
            number = rows.line_num
            if not any(cell.strip() for cell in row):
                yield Skipped("blank line")
                continue
            if len(row) < width:
                error = f"{len(row)} columns, {width} expected"
                bad = malformed(platform, channel, number, error, ",".join(row), 0.0)
                yield from timeline.untimed(bad)
                continue
            stamp = row[columns["ts"]].strip()
            try:
                seconds = clock_seconds(stamp)
                if seconds is None:
                    ts = parse_datetime(stamp, options.tz)
                else:
                    if day is None:
                        raise ImportFailed(
                            f"{archive.path.name} has times of day but no date: "
                            "give --date YYYY-MM-DD"
                        )
                    days = days or DayClock(day, options.tz)
                    ts = days.at(seconds)
            except ImportFailed:
                raise
            except ValueError as exc:
                error = f"unreadable time {stamp!r}: {exc}"
                bad = malformed(platform, channel, number, error, ",".join(row), 0.0)
                yield from timeline.untimed(bad)
                continue
            yield from timeline.timed(_message(row, columns, platform, channel, ts, number), ts)
    except csv.Error as exc:
        bad = malformed(platform, channel, rows.line_num, f"CSV breaks off: {exc}", "", 0.0)
        yield from timeline.untimed(bad)
    yield from timeline.end()


def _columns(
    rows: Iterator[list[str]], options: ImportOptions, archive: Archive
) -> tuple[dict[str, int], Iterator[list[str]]]:
    """The column of each field, and the rows after any header. `--columns ts,user,text` names
    the columns of a file without a header, in order (a first row equal to it is skipped);
    `--columns ts=created,user=nick,text=msg` picks them by the header's names."""
    first = next(rows, None)
    if first is None:
        raise ImportFailed(f"{archive.path.name} is empty")
    header = [name.strip().lower().lstrip("\ufeff") for name in first]
    specs = options.columns
    if specs and any("=" in spec for spec in specs):
        columns = {}
        for spec in specs:
            field, _, name = (part.strip().lower() for part in spec.partition("="))
            if field not in SYNONYMS:
                raise ImportFailed(f"--columns: no field {field!r} (known: {', '.join(SYNONYMS)})")
            if name not in header:
                raise ImportFailed(f"--columns: no column {name!r} in {archive.path.name}'s header")
            columns[field] = header.index(name)
    elif specs:
        columns = fields_of(specs)
        if header != [spec.strip().lower() for spec in specs]:
            rows = itertools.chain([first], rows)  # no header: the first row is chat
    else:
        columns = fields_of(first)
    missing = [field for field in REQUIRED if field not in columns]
    if missing:
        where = (
            "--columns"
            if specs
            else f"the header of {archive.path.name} ({', '.join(first)[:100]})"
        )
        raise ImportFailed(
            f"no {', '.join(missing)} column in {where}; name them with --columns ts,user,text"
        )
    return columns, rows


def _message(
    row: list[str], columns: dict[str, int], platform: str, channel: str, ts: float, number: int
) -> ChatMessage:
    def cell(field: str) -> str:
        return row[columns[field]].strip() if field in columns else ""

    user = cell("user")
    return ChatMessage(
        platform=cell("platform").lower() or platform,
        channel=cell("channel") or channel,
        id=cell("id") or f"{channel}:{number}",
        author_id=cell("user_id") or user.lower(),
        author_name=user,
        text=row[columns["text"]],
        sent_at=ts,
        received_at=ts,
        raw={"line": number},
    )
