"""One batch of queued rows written and sealed in one transaction, on the database's thread."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from vigile.replay.chain import KIND_OF_TABLE, canonical_json, link_hash, row_digest
from vigile.replay.schema import CHAIN_INSERT, COLUMNS, INSERTS, MARK_DELETED

Batch = dict[str, list[tuple[Any, ...]]]
Link = tuple[int, str, int, str, str]  # link, kind, ref, digest, hash: a row of `chain`

# Rows per INSERT statement. sqlite3 lets go of the GIL around every statement it prepares and
# steps, and a writing thread that wants it back waits for the busy event loop's thread to yield
# it (up to 5 ms, the interpreter's switch interval): one row per step made a batch of 1,500
# rows take 400 ms. A statement of many rows is one step. The limit on a statement's
# parameters is read from the connection (32,766 since SQLite 3.32; 999 before).
ROWS_PER_STATEMENT = 512


@dataclass(slots=True)
class SealedBatch:
    """A batch with its seals, made where the rows were queued (the Python work, done before
    the database thread is asked for anything): rows to insert by table, their chain links,
    the chain's end after them, and the deletion marks, sealed on the database thread once
    they are applied (the seqs they mark are part of their seal)."""

    rows: Batch
    links: list[Link]
    end: tuple[int, str]
    marks: list[tuple[Any, ...]]


def seal(batch: Batch, link: int, chained: str) -> SealedBatch:
    """Seal every row of `batch` but its deletion marks, in the order they are written:
    tables in INSERTS order (marks last), rows in queue order."""
    rows: Batch = {}
    links: list[Link] = []
    for table, queued in batch.items():
        if not queued or table == "deletions":
            continue
        link, chained, hashes = _chained(KIND_OF_TABLE[table].name, queued, link, chained, links)
        if table == "messages":  # a message row carries its own link's hash too
            rows[table] = [(*row, h) for row, h in zip(queued, hashes, strict=True)]
        else:
            rows[table] = queued
    return SealedBatch(rows, links, (link, chained), batch.get("deletions", []))


def _chained(
    kind: str, rows: Sequence[tuple[Any, ...]], link: int, chained: str, links: list[Link]
) -> tuple[int, str, list[str]]:
    """Seal `rows` of one kind after link `link` (hash `chained`), their links appended to
    `links`: the chain's new end, and each row's hash."""
    hashes = []
    for row in rows:
        digest = row_digest(kind, row)
        link += 1
        chained = link_hash(chained, digest)
        links.append((link, kind, row[0], digest, chained))
        hashes.append(chained)
    return link, chained, hashes


def write_batch(db: sqlite3.Connection, sealed: SealedBatch) -> tuple[int, str]:
    """Write `sealed` in one BEGIN IMMEDIATE … COMMIT, rolled back on any failure; returns the
    chain's new end, which the caller keeps only on success."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for table, rows in sealed.rows.items():
            insert_many(db, table, rows)
        links, (link, chained) = sealed.links, sealed.end
        if sealed.marks:
            links = list(links)
            marks = [_mark(db, row) for row in sealed.marks]
            kind = KIND_OF_TABLE["deletions"].name
            link, chained, _ = _chained(kind, marks, link, chained, links)
            insert_many(db, "deletions", marks)
        insert_many(db, "chain", links)
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    return link, chained


def _mark(db: sqlite3.Connection, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Apply one deletion mark; the row to store, with the seqs it marked."""
    _, _, ts, platform, scope, target = row
    marked = sorted(r[0] for r in db.execute(MARK_DELETED[scope], (ts, platform, target)))
    return (*row, canonical_json(marked))


def insert_many(db: sqlite3.Connection, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT `rows` into `table` (its COLUMNS, in order), many rows per statement."""
    width = len(_CHAIN_COLUMNS) if table == "chain" else len(COLUMNS[table])
    limit = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(ROWS_PER_STATEMENT, limit // width))
    whole = len(rows) - len(rows) % per
    if whole:
        flat = [
            [value for row in rows[start : start + per] for value in row]
            for start in range(0, whole, per)
        ]
        db.executemany(_statement(table, per), flat)
    if whole < len(rows):
        db.execute(_statement(table, len(rows) - whole), [v for row in rows[whole:] for v in row])


_CHAIN_COLUMNS = ("link", "kind", "ref", "digest", "hash")


@cache
def _statement(table: str, rows: int) -> str:
    """`INSERT INTO table(columns) VALUES (?,…),(?,…)…` for `rows` rows."""
    single = CHAIN_INSERT if table == "chain" else INSERTS[table]
    head, _, values = single.partition(" VALUES ")
    return f"{head} VALUES {','.join([values] * rows)}"
