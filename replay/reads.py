"""The session file's named reads: every query Vigile asks of a recording, typed by column name."""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from vigile.replay.chain import LEGACY_SEALED, SEALED_KINDS, SealedKind
from vigile.replay.files import QUERY_ONLY, SESSION, reader_uri, require

R = TypeVar("R", bound=tuple[Any, ...])


class Read(Generic[R]):
    """One named query and the row type it returns. The query's column names must be the
    type's field names, in order: checked on every run, so a row is never read by position
    against a layout it does not have. Columns stored as JSON come back parsed."""

    def __init__(self, row: type[R], sql: str, json_columns: tuple[str, ...] = ()) -> None:
        self.row, self.sql = row, sql
        fields: tuple[str, ...] = row._fields  # type: ignore[attr-defined]
        self._json = tuple(fields.index(column) for column in json_columns)

    def check(self, description: Sequence[Sequence[Any]]) -> None:
        names = tuple(column[0] for column in description)
        if names != self.row._fields:  # type: ignore[attr-defined]
            raise TypeError(f"{self.row.__name__} read columns {names}")

    def build(self, values: Sequence[Any]) -> R:
        if self._json:
            values = list(values)
            for index in self._json:
                if values[index] is not None:
                    values[index] = json.loads(values[index])
        return self.row._make(values)  # type: ignore[attr-defined, no-any-return]


class SessionFile:
    """A session file opened read-only: a report or an export never writes to what it reads."""

    def __init__(self, path: Path, labelled_source: Path | None = None) -> None:
        """`labelled_source`: the scenario a run was made from, attached as `src` for the reads
        that compare the two (SOURCE_LABELS, OUTCOMES, RAID_PHASES). StoreError for a file
        that is not a session."""
        require(path, SESSION)
        if labelled_source is not None:
            require(labelled_source, SESSION)
        self._db = sqlite3.connect(reader_uri(path), uri=True)
        self._db.execute(QUERY_ONLY)
        if labelled_source is not None:
            try:
                self._db.execute("ATTACH DATABASE ? AS src", (reader_uri(labelled_source),))
            except sqlite3.Error:
                self._db.close()
                raise

    def each(self, read: Read[R], *params: Any) -> Iterator[R]:
        cursor = self._db.execute(read.sql, params)
        read.check(cursor.description)
        for values in cursor:
            yield read.build(values)

    def all(self, read: Read[R], *params: Any) -> list[R]:
        return list(self.each(read, *params))

    def one(self, read: Read[R], *params: Any) -> R | None:
        return next(self.each(read, *params), None)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SessionFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- rows ---------------------------------------------------------------------------------------


class SessionRow(NamedTuple):
    id: int
    name: str
    kind: str
    started_at: float
    ended_at: float | None
    sources: str  # JSON as stored: a dossier quotes it verbatim
    info: str  # JSON as stored

    @property
    def source_names(self) -> list[str]:
        return list(json.loads(self.sources))

    @property
    def details(self) -> dict[str, Any]:
        return dict(json.loads(self.info or "{}"))


class ActionRow(NamedTuple):
    id: int
    session_id: int
    ts: float
    platform: str
    channel: str
    kind: str
    moderator: str
    target_author_id: str | None
    target_message_id: str | None
    duration_s: int | None
    reason: str
    result: str
    detail: str


class RuleVersionRow(NamedTuple):
    id: int
    session_id: int
    ts: float
    version: int
    author: str
    origin: str
    digest: str
    content: str


class AlertRow(NamedTuple):
    ts: float
    kind: str  # "alert:KIND"
    platform: str
    channel: str
    data: dict[str, Any]


class FlaggedRow(NamedTuple):
    """A flagged message as the bilan counts it."""

    platform: str
    msg_id: str
    author_id: str
    author_name: str
    received_at: float
    deleted_at: float | None
    rules_version: int
    matches: list[dict[str, Any]]


class ExportRow(NamedTuple):
    """A message as a dossier holds it, with its verdict when it was flagged."""

    seq: int
    platform: str
    channel: str
    msg_id: str
    author_id: str
    author_name: str
    kind: str
    text: str
    sent_at: float
    received_at: float
    raw: dict[str, Any]
    deleted_at: float | None
    hash: str
    priority: int | None
    matches: list[dict[str, Any]] | None


class SaidRow(NamedTuple):
    """One message of an author, for their card."""

    text: str
    sent_at: float
    deleted_at: float | None
    matches: list[dict[str, Any]] | None  # None: not flagged


class LegacyRow(NamedTuple):
    """A message of a schema-1 file as `verify` walks its chain: place, hash, sealed fields."""

    seq: int
    hash: str
    platform: str
    channel: str
    msg_id: str
    author_id: str
    author_name: str
    kind: str
    text: str
    sent_at: float
    received_at: float

    @property
    def sealed(self) -> tuple[Any, ...]:
        return tuple(getattr(self, column) for column in LEGACY_SEALED)


class ChainLink(NamedTuple):
    """One link of the chain: the row it seals (kind and key), its digest, its hash."""

    link: int
    kind: str
    ref: int
    digest: str
    hash: str


class Version(NamedTuple):
    value: str | None


class Totals(NamedTuple):
    messages: int
    first_sent: float | None
    last_sent: float | None
    deleted: int


class AuthorSpan(NamedTuple):
    messages: int
    first_sent: float | None
    last_sent: float | None


class Count(NamedTuple):
    key: Any
    count: int


class ChannelCount(NamedTuple):
    platform: str
    channel: str
    messages: int


class MinuteCount(NamedTuple):
    minute: int
    platform: str
    messages: int


class Paid(NamedTuple):
    currency: str
    amount: float | None


class Arrival(NamedTuple):
    platform: str
    msg_id: str
    author_id: str
    received_at: float


class Truth(NamedTuple):
    platform: str
    msg_id: str
    should_flag: int


class Outcome(NamedTuple):
    """A labelled message of the source beside what the run made of it."""

    should_flag: int
    raid_member: int
    flagged: int
    tags: list[str] | None  # None: no verdict in the run


class LabelRow(NamedTuple):
    """A message as a labelling sheet lists it, with its label if it has one."""

    seq: int
    platform: str
    msg_id: str
    author_name: str
    text: str
    should_flag: int | None
    category: str | None


class Seq(NamedTuple):
    seq: int


class Phase(NamedTuple):
    ts: float
    data: dict[str, Any]


class Value(NamedTuple):
    """The one value of a one-value read (NULL when the file holds nothing to measure)."""

    value: Any


# -- reads --------------------------------------------------------------------------------------

SESSIONS = Read(
    SessionRow,
    "SELECT id, name, kind, started_at, ended_at, sources, info FROM sessions ORDER BY id",
)
_ACTION = (
    "SELECT id, session_id, ts, platform, channel, kind, moderator, target_author_id,"
    " target_message_id, duration_s, reason, result, detail FROM actions"
)
ACTIONS = Read(ActionRow, _ACTION + " ORDER BY ts, id")
ACTIONS_ON_MESSAGES = Read(ActionRow, _ACTION + " WHERE target_message_id IS NOT NULL")
ACTIONS_ON_AUTHOR = Read(
    ActionRow, _ACTION + " WHERE platform = ? AND target_author_id = ? ORDER BY ts"
)
RULE_VERSIONS = Read(
    RuleVersionRow,
    "SELECT id, session_id, ts, version, author, origin, digest,"
    " content FROM rule_versions ORDER BY version, id",
)
ALERTS = Read(
    AlertRow,
    "SELECT ts, kind, platform, channel, data FROM events"
    " WHERE kind LIKE 'alert:%' ORDER BY ts, id",
    ("data",),
)
# Twitch's own moderation tools in the session: other moderators' actions, lockdowns, Shield Mode
TWITCH_TOOLS = Read(
    AlertRow,
    "SELECT ts, kind, platform, channel, data FROM events WHERE kind IN"
    " ('moderate', 'lockdown', 'shield_mode_begin', 'shield_mode_end') ORDER BY ts, id",
    ("data",),
)

FLAGGED = Read(
    FlaggedRow,
    "SELECT m.platform, m.msg_id, m.author_id, m.author_name,"
    " m.received_at, m.deleted_at, v.rules_version, v.matches"
    " FROM verdicts v JOIN messages m ON m.seq = v.message_seq ORDER BY m.seq",
    ("matches",),
)
_EXPORT = (
    "SELECT m.seq, m.platform, m.channel, m.msg_id, m.author_id, m.author_name, m.kind,"
    " m.text, m.sent_at, m.received_at, m.raw, m.deleted_at, m.hash, v.priority,"
    " v.matches FROM messages m LEFT JOIN verdicts v ON v.message_seq = m.seq "
)
EXPORT_FLAGGED = Read(
    ExportRow, _EXPORT + "WHERE v.message_seq IS NOT NULL ORDER BY m.seq", ("raw", "matches")
)
EXPORT_ALL = Read(ExportRow, _EXPORT + "ORDER BY m.seq", ("raw", "matches"))
SAID_BY_AUTHOR = Read(
    SaidRow,
    "SELECT m.text, m.sent_at, m.deleted_at, v.matches"
    " FROM messages m LEFT JOIN verdicts v ON v.message_seq = m.seq"
    " WHERE m.platform = ? AND m.author_id = ? ORDER BY m.seq",
    ("matches",),
)

SCHEMA_VERSION_READ = Read(Version, "SELECT value FROM meta WHERE key = 'schema_version'")
LEGACY_CHAIN = Read(
    LegacyRow, f"SELECT seq, hash, {', '.join(LEGACY_SEALED)} FROM messages ORDER BY seq"
)
CHAIN = Read(ChainLink, "SELECT link, kind, ref, digest, hash FROM chain ORDER BY link")
FLAGGED_SEQS = Read(Value, "SELECT message_seq AS value FROM verdicts")
CHAIN_AFTER = Read(
    ChainLink, "SELECT link, kind, ref, digest, hash FROM chain WHERE link > ? ORDER BY link"
)
LINK_AT = Read(ChainLink, "SELECT link, kind, ref, digest, hash FROM chain WHERE link = ?")
LINKS_OF_KIND = Read(
    ChainLink, "SELECT link, kind, ref, digest, hash FROM chain WHERE kind = ? ORDER BY link"
)
MESSAGES_PER_SESSION = Read(
    Count, "SELECT session_id AS key, count(*) AS count FROM messages GROUP BY session_id"
)


def _sealed_read(kind: SealedKind, after: bool = False) -> Read[Any]:
    """Every stored row of one sealed kind in key order: its sealed columns first (in hashing
    order), then for a message its link hash and deletion time (checked, not hashed).
    `after`: only the rows whose key is past the one given."""
    extra = ("hash", "deleted_at") if kind.name == "message" else ()
    conditions = ["ended_at IS NOT NULL"] if kind.name == "session_end" else []
    conditions += [f"{kind.key} > ?"] if after else []
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    columns = (*kind.columns, *extra)
    row = namedtuple(f"Sealed_{kind.name}", columns)  # type: ignore[misc]  # noqa: PYI024
    return Read(row, f"SELECT {', '.join(columns)} FROM {kind.table}{where} ORDER BY {kind.key}")


# What `verify` walks beside the chain, one read per sealed kind; the `_AFTER` reads resume a
# walk past the rows an earlier walk proved.
SEALED_ROWS = {name: _sealed_read(kind) for name, kind in SEALED_KINDS.items()}
SEALED_ROWS_AFTER = {name: _sealed_read(kind, after=True) for name, kind in SEALED_KINDS.items()}

MESSAGE_COUNT = Read(Value, "SELECT count(*) AS value FROM messages")
FIRST_SENT = Read(Value, "SELECT min(sent_at) AS value FROM messages")
TOTALS = Read(
    Totals,
    "SELECT count(*) AS messages, min(sent_at) AS first_sent,"
    " max(sent_at) AS last_sent, count(deleted_at) AS deleted FROM messages",
)
MESSAGES_BY_PLATFORM = Read(
    Count,
    "SELECT platform AS key, count(*) AS count FROM messages GROUP BY platform ORDER BY 2 DESC",
)
MESSAGES_BY_CHANNEL = Read(
    ChannelCount,
    "SELECT platform, channel, count(*) AS messages FROM messages GROUP BY 1, 2 ORDER BY 3 DESC",
)
AUTHORS = Read(
    Count,
    "SELECT NULL AS key, count(*) AS count"
    " FROM (SELECT DISTINCT platform, author_id FROM messages)",
)
AUTHORS_BY_PLATFORM = Read(
    Count,
    "SELECT platform AS key, count(DISTINCT author_id) AS count FROM messages GROUP BY platform",
)
PEAK_MINUTE = Read(
    Count,
    "SELECT CAST(sent_at / 60 AS INTEGER) * 60 AS key, count(*) AS count"
    " FROM messages GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
)
PEAK_SECOND = Read(
    Count,
    "SELECT CAST(sent_at AS INTEGER) AS key, count(*) AS count"
    " FROM messages GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
)
PAID = Read(
    Paid,
    "SELECT coalesce(currency, '?') AS currency, sum(amount) AS amount"
    " FROM messages WHERE kind = 'paid' GROUP BY 1",
)
MESSAGES_PER_MINUTE = Read(
    MinuteCount,
    "SELECT CAST(sent_at / 60 AS INTEGER) * 60 AS minute,"
    " platform, count(*) AS messages FROM messages GROUP BY 1, 2",
)
FLAGGED_PER_MINUTE = Read(
    Count,
    "SELECT CAST(m.sent_at / 60 AS INTEGER) * 60 AS key,"
    " count(*) AS count FROM verdicts v"
    " JOIN messages m ON m.seq = v.message_seq GROUP BY 1",
)
AUTHOR_SPAN = Read(
    AuthorSpan,
    "SELECT count(*) AS messages, min(sent_at) AS first_sent,"
    " max(sent_at) AS last_sent FROM messages"
    " WHERE platform = ? AND author_id = ?",
)


def _current_labels(schema: str = "main") -> str:
    """Each labelled message's label: its latest row (a hand label given later is a new row,
    the one before stays sealed). rowid is the label's key in every schema."""
    return (
        "(SELECT message_seq, should_flag, category, raid_member, question, phase,"
        f" max(rowid) AS latest FROM {schema}.labels GROUP BY message_seq)"
    )


CURRENT_LABELS = _current_labels()
HAS_LABELS = Read(Value, "SELECT 1 AS value FROM labels LIMIT 1")
LABEL_SHEET = Read(
    LabelRow,
    "SELECT m.seq, m.platform, m.msg_id, m.author_name, m.text, l.should_flag, l.category"
    f" FROM messages m LEFT JOIN {CURRENT_LABELS} l ON l.message_seq = m.seq ORDER BY m.seq",
)
SEQ_OF = Read(Seq, "SELECT seq FROM messages WHERE seq = ?")
SEQ_BY_ID = Read(Seq, "SELECT seq FROM messages WHERE platform = ? AND msg_id = ? ORDER BY seq")
PLATFORMS = Read(Value, "SELECT DISTINCT platform AS value FROM messages")
TRUTH = Read(
    Truth,
    f"SELECT m.platform, m.msg_id, l.should_flag FROM {CURRENT_LABELS} l"
    " JOIN messages m ON m.seq = l.message_seq",
)
ARRIVALS = Read(Arrival, "SELECT platform, msg_id, author_id, received_at FROM messages")

# Reads across a run and its labelled source (a SessionFile opened with `labelled_source`).
SOURCE_LABELS = Read(Value, "SELECT count(DISTINCT message_seq) AS value FROM src.labels")
SOURCE_MESSAGES = Read(Value, "SELECT count(*) AS value FROM src.messages")
OUTCOMES = Read(
    Outcome,
    "SELECT l.should_flag, l.raid_member, v.message_seq IS NOT NULL AS flagged, v.tags"
    f" FROM {_current_labels('src')} l JOIN src.messages s ON s.seq = l.message_seq"
    " LEFT JOIN messages m ON m.platform = s.platform AND m.msg_id = s.msg_id"
    " LEFT JOIN verdicts v ON v.message_seq = m.seq",
    ("tags",),
)
# the same, for the labelled messages the run received only (a replay that skipped ahead)
OUTCOMES_RECEIVED = Read(
    Outcome,
    "SELECT l.should_flag, l.raid_member, v.message_seq IS NOT NULL AS flagged, v.tags"
    " FROM src.labels l JOIN src.messages s ON s.seq = l.message_seq"
    " JOIN messages m ON m.platform = s.platform AND m.msg_id = s.msg_id"
    " LEFT JOIN verdicts v ON v.message_seq = m.seq",
    ("tags",),
)
RAID_PHASES = Read(
    Phase, "SELECT ts, data FROM src.events WHERE kind = 'scenario:phase' ORDER BY ts", ("data",)
)
# by time alone, as the score has always counted them (ALERTS breaks ties by row for the bilan)
ALERTS_BY_TIME = Read(
    AlertRow,
    "SELECT ts, kind, platform, channel, data FROM events WHERE kind LIKE 'alert:%' ORDER BY ts",
    ("data",),
)
