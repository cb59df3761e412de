"""The hash chain that seals a session file: which rows and columns it seals, and how.

Every row a report or a dossier relies on is one link of a single chain, in the order the rows
were committed. A link holds the row's kind and key, the digest of its sealed values and the
hash chained to the link before it. The writer (store.py), `vigile verify` and a dossier's
verification all read the definitions below: a column sealed by one and not by the others
would make every recording fail verification."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson

from vigile.replay.schema import COLUMNS, MESSAGE_COLUMNS

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class SealedKind:
    """One kind of sealed row: the table it lives in, its key, the columns its seal covers (in
    hashing order) and how each is stored, so the writer hashes what SQLite will give back."""

    name: str
    table: str
    key: str
    columns: tuple[str, ...]
    floats: frozenset[str] = frozenset()  # REAL columns: 0 and 0.0 serialise differently

    def stored(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """The row as SQLite gives it back: REAL columns as floats, booleans as integers."""
        return tuple(
            (float(v) if v is not None else None)
            if name in self.floats
            else (int(v) if isinstance(v, bool) else v)
            for name, v in zip(self.columns, row, strict=True)
        )


def _kind(name: str, table: str, key: str, floats: tuple[str, ...] = ()) -> SealedKind:
    columns = tuple(c for c in COLUMNS[table] if c != "hash")  # the hash is the seal itself
    return SealedKind(name, table, key, columns, frozenset(floats))


# Every kind of row the chain seals. A message's `deleted_at` is not sealed with it (it comes
# later): the deletion mark that set it is, with the seqs it marked, and `verify` checks that
# every `deleted_at` is exactly what the sealed marks say. A session is sealed when it starts,
# and its end is a link of its own: a session without one was interrupted.
# A label is keyed by its own id: a hand label given later is a new row (the latest counts).
SEALED_KINDS = {
    k.name: k
    for k in (
        SealedKind(
            "session",
            "sessions",
            "id",
            ("id", "name", "kind", "started_at", "sources", "info"),
            frozenset({"started_at"}),
        ),
        SealedKind("session_end", "sessions", "id", ("id", "ended_at"), frozenset({"ended_at"})),
        _kind("message", "messages", "seq", ("amount", "sent_at", "received_at")),
        _kind("verdict", "verdicts", "message_seq"),
        _kind("label", "labels", "id"),
        _kind("event", "events", "id", ("ts",)),
        _kind("action", "actions", "id", ("ts",)),
        _kind("rule_version", "rule_versions", "id", ("ts",)),
        _kind("deletion", "deletions", "id", ("ts",)),
    )
}
# The kind that seals each batched table's rows.
KIND_OF_TABLE = {
    k.table: k for k in SEALED_KINDS.values() if k.name not in ("session", "session_end")
}

ALGORITHM = (
    "link hash = sha256(previous link hash + row digest), from 64 zeros; row digest = "
    "sha256(canonical JSON [kind, sealed values...]); canonical JSON: sorted keys, no spaces, "
    "UTF-8. Sealed: "
    + "; ".join(f"{k.name} ({', '.join(k.columns)})" for k in SEALED_KINDS.values())
)


def canonical_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, UTF-8): stored columns and the hash chain."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=_plain).decode()


def _plain(value: Any) -> Any:
    """What orjson does not take as it is: other mappings as dicts, anything else as text."""
    return dict(value) if isinstance(value, Mapping) else str(value)


def row_digest(kind: str, values: tuple[Any, ...] | list[Any]) -> str:
    """The digest of one sealed row: its kind and its sealed values, in the kind's order."""
    body = orjson.dumps([kind, *values], option=orjson.OPT_SORT_KEYS, default=_plain)
    return hashlib.sha256(body).hexdigest()


def link_hash(previous: str, digest: str) -> str:
    """One link, chained to the one before: any edit, insertion, deletion or reordering of
    sealed rows changes every hash after it."""
    return hashlib.sha256((previous + digest).encode()).hexdigest()


# -- schema 1 -----------------------------------------------------------------------------------
# Files written before everything was sealed: a chain over 9 fields of each message, nothing
# else. `vigile verify` still checks them this way, and says that this is all it proves.

LEGACY_SEALED = (
    "platform",
    "channel",
    "msg_id",
    "author_id",
    "author_name",
    "kind",
    "text",
    "sent_at",
    "received_at",
)
_LEGACY_IN_ROW: Callable[[tuple[Any, ...]], tuple[Any, ...]] = itemgetter(
    *(MESSAGE_COLUMNS.index(column) for column in LEGACY_SEALED)
)


def legacy_hash(previous: str, fields: tuple[Any, ...]) -> str:
    """Schema 1's hash of one message: its 9 sealed fields chained to the message before."""
    return hashlib.sha256((previous + canonical_json(fields)).encode()).hexdigest()


def legacy_seal_row(previous: str, row: tuple[Any, ...]) -> str:
    """Schema 1's hash of a message row laid out as MESSAGE_COLUMNS."""
    return legacy_hash(previous, _LEGACY_IN_ROW(row))
