"""The session file's schema: tables, version, and the statements a batch writes."""

# 2: every recorded row is sealed in one chain (`chain` table, replay/chain.py); deletion marks
# and labels are rows of their own, keyed by the store. Files of schema 1 seal 9 fields of each
# message only.
SCHEMA_VERSION = 2

# Verdicts are stored for flagged messages only: a clean verdict carries nothing a report or a
# replay needs, and skipping it halves the rows written during a normal stream.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,              -- live | replay | scenario | demo | rehearsal
    started_at REAL NOT NULL,
    ended_at REAL,
    sources TEXT NOT NULL DEFAULT '[]',
    info TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    amount REAL,
    currency TEXT,
    reply_to TEXT,
    first_message INTEGER NOT NULL,
    sent_at REAL NOT NULL,
    received_at REAL NOT NULL,
    raw TEXT NOT NULL,
    deleted_at REAL,
    hash TEXT NOT NULL               -- sha256(previous hash + canonical fields)
);
CREATE INDEX IF NOT EXISTS messages_by_platform_id ON messages(platform, msg_id);
CREATE INDEX IF NOT EXISTS messages_by_author ON messages(platform, author_id);
CREATE TABLE IF NOT EXISTS verdicts (
    message_seq INTEGER PRIMARY KEY REFERENCES messages(seq),
    rules_version INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    action TEXT NOT NULL,
    tags TEXT NOT NULL,
    matches TEXT NOT NULL
);
-- A message's label is its latest row here (highest id): a hand label given later is a new
-- sealed row, never an edit of a sealed one (replay/reads.py's CURRENT_LABELS reads them).
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY,
    message_seq INTEGER NOT NULL REFERENCES messages(seq),
    should_flag INTEGER NOT NULL,
    category TEXT,
    raid_member INTEGER NOT NULL,
    question INTEGER NOT NULL,
    phase TEXT
);
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    ts REAL NOT NULL,
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    moderator TEXT NOT NULL,
    target_author_id TEXT,
    target_message_id TEXT,
    duration_s INTEGER,
    reason TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rule_versions (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    ts REAL NOT NULL,
    version INTEGER NOT NULL,
    author TEXT NOT NULL,
    origin TEXT NOT NULL,
    digest TEXT NOT NULL,
    content TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    ts REAL NOT NULL,                -- UTC unix seconds
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS labels_by_message ON labels(message_seq, id);
CREATE INDEX IF NOT EXISTS events_by_kind ON events(kind, ts);
CREATE TABLE IF NOT EXISTS deletions (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    ts REAL NOT NULL,
    platform TEXT NOT NULL,
    scope TEXT NOT NULL,             -- message | author
    target TEXT NOT NULL,            -- a message id or an author id
    marked TEXT NOT NULL             -- JSON list of the seqs this mark set deleted_at on
);
CREATE TABLE IF NOT EXISTS chain (
    link INTEGER PRIMARY KEY,        -- commit order, from 1
    kind TEXT NOT NULL,              -- a kind of replay/chain.py's SEALED_KINDS
    ref INTEGER NOT NULL,            -- the row's key in its table
    digest TEXT NOT NULL,            -- sha256 of the row's sealed values
    hash TEXT NOT NULL               -- sha256(previous link's hash + digest)
);
"""

# A bulk load (an import into a new file) builds these once at the end, in one sorted pass:
# kept up row by row, random message ids make every insert a random write.
DROP_MESSAGE_INDEXES = """
DROP INDEX IF EXISTS messages_by_platform_id;
DROP INDEX IF EXISTS messages_by_author;
"""

# The columns a queued message row fills, in this order (`deleted_at` comes later, by UPDATE).
MESSAGE_COLUMNS = (
    "seq",
    "session_id",
    "platform",
    "channel",
    "msg_id",
    "author_id",
    "author_name",
    "roles",
    "kind",
    "text",
    "amount",
    "currency",
    "reply_to",
    "first_message",
    "sent_at",
    "received_at",
    "raw",
    "hash",
)

# The columns each batched table's rows fill, in this order. Keys are given by the store (not
# left to SQLite) so that a row's seal can name it before it is written.
COLUMNS = {
    "messages": MESSAGE_COLUMNS,
    "verdicts": ("message_seq", "rules_version", "priority", "action", "tags", "matches"),
    "labels": ("id", "message_seq", "should_flag", "category", "raid_member", "question", "phase"),
    "events": ("id", "session_id", "ts", "platform", "channel", "kind", "data"),
    "actions": (
        "id",
        "session_id",
        "ts",
        "platform",
        "channel",
        "kind",
        "moderator",
        "target_author_id",
        "target_message_id",
        "duration_s",
        "reason",
        "result",
        "detail",
    ),
    "rule_versions": ("id", "session_id", "ts", "version", "author", "origin", "digest", "content"),
    "deletions": ("id", "session_id", "ts", "platform", "scope", "target", "marked"),
}

# One INSERT per table, in the order a batch is written (messages before what refers to them,
# deletion marks last: they mark the messages of their own batch too).
INSERTS = {
    table: f"INSERT INTO {table}({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})"
    for table, columns in COLUMNS.items()
}

# What a deletion mark does to the messages it names, by scope: the seqs it marks come back.
MARK_DELETED = {
    "message": "UPDATE messages SET deleted_at = ?1 WHERE platform = ?2 AND msg_id = ?3"
    " AND deleted_at IS NULL RETURNING seq",
    # a ban, a timeout, YouTube's "all of this author's messages": what they had said so far
    "author": "UPDATE messages SET deleted_at = ?1 WHERE platform = ?2"
    " AND author_id = ?3 AND deleted_at IS NULL AND received_at <= ?1 RETURNING seq",
}

CHAIN_INSERT = "INSERT INTO chain(link, kind, ref, digest, hash) VALUES (?,?,?,?,?)"
