"""Hand labels on a recorded or imported session (`vigile label`): a sheet out (TSV, one row per
message) and the filled sheet back in, so a real chat, labelled once, scores every later rule
change the way a generated scenario does."""

from __future__ import annotations

import asyncio
import csv
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from vigile.connectors.safe_text import inert
from vigile.replay import reads
from vigile.replay.reads import SessionFile
from vigile.replay.store import Label, SessionStore, StoreError

SHEET_COLUMNS = ("seq", "platform", "id", "author", "text", "should_flag", "category")
HAND_PHASE = "hand"  # the phase a hand label carries, beside a scenario's phase names
_YES = frozenset({"1", "yes", "y", "true", "t", "x", "flag", "oui", "o"})
_NO = frozenset({"0", "no", "n", "false", "f", "ok", "non"})
_FORMULA = re.compile(r"^[=+\-@\t\r]")  # what a spreadsheet would run as a formula
PROBLEMS_QUOTED = 10


class LabelError(ValueError):
    """A sheet or a session that cannot be used at all, in one line."""


@dataclass(slots=True)
class LabelReport:
    labelled: int = 0
    should_flag: int = 0
    left_blank: int = 0  # rows without a should_flag: left as they were
    problems: list[str] = field(default_factory=list)  # "line N: why", the first ones
    problem_count: int = 0

    def problem(self, line: int, why: str) -> None:
        self.problem_count += 1
        if len(self.problems) < PROBLEMS_QUOTED:
            self.problems.append(f"line {line}: {why}")


def write_sheet(session: Path, out: Path) -> int:
    """Every message of `session` as a TSV row, with its label if it has one; returns the rows.
    Chat text is made inert and never starts a formula: the sheet opens in a spreadsheet."""
    _must_exist(session)
    try:
        return _write_sheet(session, out)
    except sqlite3.Error as exc:
        raise LabelError(f"{session} is not a readable Vigile session: {exc}") from None


def _write_sheet(session: Path, out: Path) -> int:
    count = 0
    with SessionFile(session) as db, out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, dialect="excel-tab")
        writer.writerow(SHEET_COLUMNS)
        for row in db.each(reads.LABEL_SHEET):
            flag = "" if row.should_flag is None else str(row.should_flag)
            writer.writerow(
                [
                    row.seq,
                    row.platform,
                    row.msg_id,
                    _cell(row.author_name),
                    _cell(row.text),
                    flag,
                    row.category or "",
                ]
            )
            count += 1
    return count


def _cell(text: str) -> str:
    text = inert(text)
    return "'" + text if _FORMULA.match(text) else text


def read_sheet(session: Path, sheet: Path) -> LabelReport:
    """Label `session`'s messages from a TSV with a header: `seq` or `id` (a platform message
    id, or `platform:id`; a `platform` column may say it), `should_flag` (1/0, yes/no…, blank
    leaves the row unlabelled) and optionally `category`. A bad row is reported, never fatal."""
    _must_exist(session)
    try:
        with sheet.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle, dialect="excel-tab"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelError(f"cannot read {sheet}: {exc}") from None
    if not rows:
        raise LabelError(f"{sheet} is empty")
    header = [name.strip().lower() for name in rows[0]]
    column = {name: header.index(name) for name in header}
    for alias, name in (("msg_id", "id"), ("platform_id", "id"), ("flag", "should_flag")):
        if alias in column and name not in column:
            column[name] = column[alias]
    if "should_flag" not in column or not ({"seq", "id"} & set(column)):
        raise LabelError(
            f"{sheet}: the header needs a seq or id column and a should_flag column "
            f"(found: {', '.join(header)[:100]})"
        )
    try:
        return _label(session, rows, column)
    except sqlite3.Error as exc:
        raise LabelError(f"{session} is not a writable Vigile session: {exc}") from None


def _label(session: Path, rows: list[list[str]], column: dict[str, int]) -> LabelReport:
    report = LabelReport()
    labels: list[tuple[int, Label]] = []
    with SessionFile(session) as db:
        platforms = [row.value for row in db.each(reads.PLATFORMS)]
        for number, row in enumerate(rows[1:], 2):
            if not any(cell.strip() for cell in row):
                continue
            found = _one_row(db, row, column, platforms)
            if isinstance(found, str):
                report.problem(number, found)
                continue
            if found is None:
                report.left_blank += 1
                continue
            labels.append(found)
    try:
        asyncio.run(_store(session, labels))
    except StoreError as exc:  # a file of an earlier Vigile, or one that cannot be written
        raise LabelError(str(exc)) from None
    report.labelled = len(labels)
    report.should_flag = sum(label.should_flag for _, label in labels)
    return report


def _one_row(
    db: SessionFile, row: list[str], column: dict[str, int], platforms: list[str]
) -> tuple[int, Label] | str | None:
    """(seq, label); None for a row left blank; a string saying what is wrong."""

    def cell(name: str) -> str:
        index = column.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    flag = cell("should_flag").lower()
    if not flag:
        return None
    if flag not in _YES | _NO:
        return f"should_flag {flag[:20]!r} is neither yes (1) nor no (0)"
    seq = _seq(db, cell("seq"), cell("id"), cell("platform"), platforms)
    if isinstance(seq, str):
        return seq
    category = cell("category") or None
    return seq, Label(flag in _YES, category, phase=HAND_PHASE)


def _seq(db: SessionFile, seq: str, msg_id: str, platform: str, platforms: list[str]) -> int | str:
    if seq:
        if not seq.isdigit():
            return f"seq {seq[:20]!r} is not a number"
        found = db.one(reads.SEQ_OF, int(seq))
        return found.seq if found else f"no message with seq {seq} in the session"
    if not msg_id:
        return "neither a seq nor an id"
    if not platform and ":" in msg_id and msg_id.split(":", 1)[0] in platforms:
        platform, msg_id = msg_id.split(":", 1)
    matches = [
        hit.seq
        for p in ([platform] if platform else platforms)
        for hit in db.each(reads.SEQ_BY_ID, p, msg_id)
    ]
    if not matches:
        return f"no message with id {msg_id[:60]!r} in the session"
    if len(matches) > 1:
        return f"id {msg_id[:60]!r} is on several platforms: add a platform column"
    return matches[0]


async def _store(session: Path, labels: list[tuple[int, Label]]) -> None:
    store = await SessionStore.open(session, batch_rows=5_000)
    try:
        for seq, label in labels:
            store.set_label(seq, label)
            if store.pending >= 5_000:
                await store.flush()
    finally:
        await store.close()


def _must_exist(session: Path) -> None:
    if not session.is_file():
        raise LabelError(f"no session file at {session}")
