"""The hash chain that seals recorded messages: which columns it seals and how it hashes them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

import orjson

from vigile.replay.schema import MESSAGE_COLUMNS

GENESIS_HASH = "0" * 64

# The columns of `messages` a hash seals, in hashing order. The writer, `vigile verify` and a
# dossier's verification all read this one tuple: a column sealed by one and not by the others
# would make every recording fail verification.
SEALED = (
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

ALGORITHM = "sha256(previous hash + canonical JSON of " + ", ".join(SEALED) + ")"

# The sealed values in a row laid out as MESSAGE_COLUMNS (what the writer queues).
_SEALED_IN_ROW = itemgetter(*(MESSAGE_COLUMNS.index(column) for column in SEALED))


def canonical_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, UTF-8): stored columns and the hash chain."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=_plain).decode()


def _plain(value: Any) -> Any:
    """What orjson does not take as it is: other mappings as dicts, anything else as text."""
    return dict(value) if isinstance(value, Mapping) else str(value)


def chain_hash(previous: str, fields: tuple[Any, ...]) -> str:
    """Hash of one message row, chained to the one before: any edit, deletion or reordering of
    stored messages changes every hash after it."""
    return hashlib.sha256((previous + canonical_json(fields)).encode()).hexdigest()


def sealed(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The sealed values of a stored row or an exported record, by column name."""
    return tuple(record[column] for column in SEALED)


def seal_row(previous: str, row: tuple[Any, ...]) -> str:
    """The hash of a message row laid out as MESSAGE_COLUMNS (its hash column not yet filled).
    Its times must be floats and its kind text, as SQLite gives them back to a verifier."""
    return chain_hash(previous, _SEALED_IN_ROW(row))
