"""The archive's schema on PostgreSQL: versioned migrations, tables partitioned by month."""

from __future__ import annotations

from datetime import date

import psycopg

from vigile.replay.chain import SEALED_KINDS
from vigile.replay.schema import COLUMNS

SCHEMA_VERSION = 1

# A row's session in its file (sealed with the row) is `file_session_id` here: `session_id` is
# the archive's own, one per recording pushed.
FILE_SESSION = "file_session_id"

# The session file's columns as the archive types them. Every column the chain seals must be
# here with the type that gives back, to a verifier, the very value SQLite gave the writer: JSON
# stays text (jsonb would reorder its keys), times stay float seconds.
MESSAGE_TYPES = {
    "seq": "bigint NOT NULL",
    FILE_SESSION: "bigint NOT NULL",
    "platform": "text NOT NULL",
    "channel": "text NOT NULL",
    "msg_id": "text NOT NULL",
    "author_id": "text NOT NULL",
    "author_name": "text NOT NULL",
    "roles": "text NOT NULL",
    "kind": "text NOT NULL",
    "text": "text NOT NULL",
    "amount": "double precision",
    "currency": "text",
    "reply_to": "text",
    "first_message": "integer NOT NULL",
    "sent_at": "double precision NOT NULL",
    "received_at": "double precision NOT NULL",
    "raw": "text NOT NULL",
    "deleted_at": "double precision",
    "hash": "text NOT NULL",
}


def archived(column: str) -> str:
    """A file's column under its name in the archive."""
    return FILE_SESSION if column == "session_id" else column


def message_columns() -> tuple[str, ...]:
    """The message columns the archive copies (archive names), in the file's order, then
    `deleted_at`. A column the file or the chain gained that the archive does not type stops a
    push with its name instead of archiving a session that could not be verified."""
    wanted = [archived(c) for c in COLUMNS["messages"]] + ["deleted_at"]
    unknown = [c for c in wanted if c not in MESSAGE_TYPES]
    for table, types in (("messages", MESSAGE_TYPES), *TABLES.items()):
        unknown += [f"{table}.{c}" for c in COLUMNS.get(table, ()) if archived(c) not in types]
    for kind in SEALED_KINDS.values():
        types = MESSAGE_TYPES if kind.table == "messages" else TABLES[kind.table]
        unknown += [f"{kind.table}.{c}" for c in kind.columns if archived(c) not in types]
    if unknown:
        raise ValueError(f"the archive has no column for {', '.join(unknown)}: update Vigile")
    return tuple(wanted)


# The other tables: their columns as the archive types them, in the file's order (the file's
# `session_id` as FILE_SESSION). A row's key in the file (KEYS) is kept, so a grown session sends
# only what is new. `sessions` are the file's own session rows; `chain` its links.
TABLES: dict[str, dict[str, str]] = {
    "sessions": {
        "id": "bigint NOT NULL",
        "name": "text NOT NULL",
        "kind": "text NOT NULL",
        "started_at": "double precision NOT NULL",
        "ended_at": "double precision",
        "sources": "text NOT NULL",
        "info": "text NOT NULL",
    },
    "verdicts": {
        "message_seq": "bigint NOT NULL",
        "rules_version": "integer NOT NULL",
        "priority": "integer NOT NULL",
        "action": "text NOT NULL",
        "tags": "text NOT NULL",
        "matches": "text NOT NULL",
    },
    "labels": {
        "id": "bigint NOT NULL",
        "message_seq": "bigint NOT NULL",
        "should_flag": "integer NOT NULL",
        "category": "text",
        "raid_member": "integer NOT NULL",
        "question": "integer NOT NULL",
        "phase": "text",
    },
    "actions": {
        "id": "bigint NOT NULL",
        FILE_SESSION: "bigint NOT NULL",
        "ts": "double precision NOT NULL",
        "platform": "text NOT NULL",
        "channel": "text NOT NULL",
        "kind": "text NOT NULL",
        "moderator": "text NOT NULL",
        "target_author_id": "text",
        "target_message_id": "text",
        "duration_s": "integer",
        "reason": "text NOT NULL",
        "result": "text NOT NULL",
        "detail": "text NOT NULL",
    },
    "rule_versions": {
        "id": "bigint NOT NULL",
        FILE_SESSION: "bigint NOT NULL",
        "ts": "double precision NOT NULL",
        "version": "integer NOT NULL",
        "author": "text NOT NULL",
        "origin": "text NOT NULL",
        "digest": "text NOT NULL",
        "content": "text NOT NULL",
    },
    "events": {
        "id": "bigint NOT NULL",
        FILE_SESSION: "bigint NOT NULL",
        "ts": "double precision NOT NULL",
        "platform": "text NOT NULL",
        "channel": "text NOT NULL",
        "kind": "text NOT NULL",
        "data": "text NOT NULL",
    },
    "deletions": {
        "id": "bigint NOT NULL",
        FILE_SESSION: "bigint NOT NULL",
        "ts": "double precision NOT NULL",
        "platform": "text NOT NULL",
        "scope": "text NOT NULL",
        "target": "text NOT NULL",
        "marked": "text NOT NULL",
    },
    "chain": {
        "link": "bigint NOT NULL",
        "kind": "text NOT NULL",
        "ref": "bigint NOT NULL",
        "digest": "text NOT NULL",
        "hash": "text NOT NULL",
    },
}
KEYS = {"verdicts": "message_seq", "chain": "link"}  # the others: their file id
# The archive's table of a file's sessions (`sessions` is the archive's, one per recording).
ARCHIVED_NAME = {"sessions": "file_sessions"}
PARTITIONED = ("messages", *(ARCHIVED_NAME.get(t, t) for t in TABLES))

# English and French stems side by side: a search finds "mangeaient" from "manger" and
# "running" from "run" whichever language the message was in.
SEARCH_VECTOR = "(to_tsvector('english', text) || to_tsvector('french', text))"


def _table(name: str, types: dict[str, str], key: str) -> str:
    columns = ",\n    ".join(f"{column} {kind}" for column, kind in types.items())
    return (
        f"CREATE TABLE {name} (\n    month date NOT NULL,\n    session_id bigint NOT NULL,\n"
        f"    {columns},\n    PRIMARY KEY (month, session_id, {key})\n) PARTITION BY RANGE (month);"
    )


def _version_1() -> str:
    tables = [_table("messages", MESSAGE_TYPES, "seq")]
    tables += [
        _table(ARCHIVED_NAME.get(name, name), types, KEYS.get(name, "id"))
        for name, types in TABLES.items()
    ]
    return "\n".join(
        [
            """
CREATE TABLE sessions (
    id bigserial PRIMARY KEY,
    uid text NOT NULL UNIQUE,          -- the recording's identity: pushing it again finds it
    month date NOT NULL,               -- the partition its rows live in (its start's month)
    name text NOT NULL,
    kind text NOT NULL,
    started_at double precision NOT NULL,
    ended_at double precision,
    sources text NOT NULL,
    info text NOT NULL,
    client text,
    event text,
    messages bigint NOT NULL DEFAULT 0,
    head_seq bigint NOT NULL DEFAULT 0, -- the last message archived, and its hash
    head_hash text,
    head_link bigint NOT NULL DEFAULT 0, -- the last link of the file's chain archived
    link_hash text,
    pushed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_by_client ON sessions (client, started_at);
CREATE TABLE archive_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL,
    detail jsonb NOT NULL
);
""",
            *tables,
            "CREATE INDEX messages_by_author ON messages (author_id);",
            "CREATE INDEX messages_by_name ON messages (lower(author_name));",
            f"CREATE INDEX messages_search ON messages USING gin ({SEARCH_VECTOR});",
            "CREATE INDEX actions_by_target ON actions (target_author_id);",
            "CREATE INDEX actions_by_time ON actions (ts);",
        ]
    )


MIGRATIONS = {1: _version_1}


class SchemaError(RuntimeError):
    """An archive this Vigile cannot use, with the reason."""


def current_version(conn: psycopg.Connection) -> int:
    """The archive's schema version, 0 for a database Vigile has not set up; reads only."""
    with conn.transaction():
        exists = conn.execute("SELECT to_regclass('archive_meta')").fetchone()
        if not exists or exists[0] is None:
            return 0
        row = conn.execute("SELECT value FROM archive_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection) -> int:
    """Create or bring the archive's schema up to SCHEMA_VERSION; returns the version found.
    One transaction under an advisory lock: two desks starting at once migrate once. An archive
    already current is only read, so the questions can be asked of a read-only replica."""
    found = current_version(conn)
    if found == SCHEMA_VERSION:
        return found
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('vigile-archive-schema'))")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS archive_meta (key text PRIMARY KEY, value text NOT NULL)"
        )
        row = conn.execute("SELECT value FROM archive_meta WHERE key = 'schema_version'").fetchone()
        found = int(row[0]) if row else 0
        if found > SCHEMA_VERSION:
            raise SchemaError(
                f"the archive was made by a newer Vigile (schema {found}, "
                f"this one knows up to {SCHEMA_VERSION})"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            conn.execute(MIGRATIONS[version]().encode())
            conn.execute(
                "INSERT INTO archive_log(kind, detail) VALUES ('migrate', %s::jsonb)",
                (f'{{"to": {version}}}',),
            )
        conn.execute(
            "INSERT INTO archive_meta VALUES ('schema_version', %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
    return found


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month:%Y_%m}"


def ensure_month(conn: psycopg.Connection, month: date) -> None:
    """Every partitioned table's partition for `month` (inside the caller's transaction)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('vigile-archive-partitions'))")
    for table in PARTITIONED:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {partition_name(table, month)} PARTITION OF {table}"
            f" FOR VALUES FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"
        )
