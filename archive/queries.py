"""The archive's cross-event questions: who, offenders, search, the watchlist. Plain values out."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from vigile.archive.schema import SEARCH_VECTOR

# What counts as acting on an account: a moderator's real action that went through. Simulated
# ones (replays, rehearsals, demos) and failed ones never make an offender.
ACTED = "a.kind IN ('ban', 'timeout', 'delete', 'warn') AND a.result = 'ok'"
SANCTIONED = "a.kind IN ('ban', 'timeout') AND a.result = 'ok'"


def _all(conn: psycopg.Connection, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.encode(), params)
        return list(cur)


def _account(account: str) -> tuple[str | None, str]:
    """ "twitch:name" names the platform too; a bare name or id matches on every platform."""
    platform, sep, name = account.partition(":")
    if sep and platform in {"twitch", "youtube"} and name:
        return platform, name
    return None, account


def who(conn: psycopg.Connection, account: str, limit: int = 50) -> dict[str, Any]:
    """Every event, channel and platform where an account appeared, its newest messages with
    their flags, and the actions taken on it, newest first. The account is an author id or a
    display name (any case)."""
    platform, name = _account(account)
    ids = _all(
        conn,
        "SELECT DISTINCT platform, author_id FROM ("
        " SELECT platform, author_id FROM messages WHERE author_id = %(n)s"
        " UNION ALL SELECT platform, author_id FROM messages"
        "  WHERE lower(author_name) = lower(%(n)s)"
        " UNION ALL SELECT platform, target_author_id FROM actions"
        "  WHERE target_author_id = %(n)s) found"
        " WHERE %(p)s::text IS NULL OR platform = %(p)s::text",
        {"n": name, "p": platform},
    )
    result: dict[str, Any] = {"account": account, "identities": ids}
    if not ids:
        return {**result, "appearances": [], "messages": [], "actions": [], "names": []}
    authors = [i["author_id"] for i in ids]
    platforms = [i["platform"] for i in ids]
    mine = "(m.platform, m.author_id) IN (SELECT * FROM unnest(%(pl)s::text[], %(au)s::text[]))"
    params = {"pl": platforms, "au": authors, "limit": limit}
    result["appearances"] = _all(
        conn,
        "SELECT s.id AS session, s.client, s.event, s.name, m.platform, m.channel,"
        " count(*) AS messages, count(v.message_seq) AS flagged,"
        " count(m.deleted_at) AS deleted, min(m.sent_at) AS first_at, max(m.sent_at) AS last_at"
        f" FROM messages m JOIN sessions s ON s.id = m.session_id"
        " LEFT JOIN verdicts v ON v.month = m.month AND v.session_id = m.session_id"
        "  AND v.message_seq = m.seq"
        f" WHERE {mine} GROUP BY s.id, m.platform, m.channel ORDER BY last_at DESC",
        params,
    )
    result["names"] = _all(
        conn,
        "SELECT m.author_name AS name, count(*) AS messages, max(m.sent_at) AS last_at"
        f" FROM messages m WHERE {mine} GROUP BY m.author_name ORDER BY last_at DESC",
        params,
    )
    result["messages"] = _all(
        conn,
        "SELECT m.sent_at, s.id AS session, s.client, s.event, m.platform, m.channel,"
        " m.author_name, m.text, m.deleted_at, v.priority,"
        " (SELECT array_agg(DISTINCT x->>'category') FROM jsonb_array_elements(v.matches::jsonb) x)"
        " AS categories"
        " FROM messages m JOIN sessions s ON s.id = m.session_id"
        " LEFT JOIN verdicts v ON v.month = m.month AND v.session_id = m.session_id"
        "  AND v.message_seq = m.seq"
        f" WHERE {mine} ORDER BY m.sent_at DESC LIMIT %(limit)s",
        params,
    )
    result["actions"] = _all(
        conn,
        "SELECT a.ts, s.id AS session, s.client, s.event, a.platform, a.channel, a.kind,"
        " a.moderator, a.duration_s, a.reason, a.result"
        " FROM actions a JOIN sessions s ON s.id = a.session_id"
        " WHERE (a.platform, a.target_author_id) IN"
        "  (SELECT * FROM unnest(%(pl)s::text[], %(au)s::text[]))"
        " ORDER BY a.ts DESC",
        params,
    )
    return result


def offenders(
    conn: psycopg.Connection,
    since: float,
    client: str | None = None,
    minimum: int = 2,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Accounts acted on in `minimum` events or more since `since`, most events first (the
    first `limit` of them). An event is the session's event name, or the session itself when
    it has none."""
    # Two hashed aggregations (per account and event, then per account) instead of distinct
    # counts and ordered aggregates, which sort every action. `latest` is the latest action's
    # [time, session]: the name shown is the one used in that session, one index probe in one
    # partition per offender.
    rows = _all(
        conn,
        "WITH per_event AS ("
        " SELECT a.platform, a.target_author_id AS author_id, coalesce(s.event, s.uid) AS event,"
        "  count(*) FILTER (WHERE a.kind = 'ban') AS bans,"
        "  count(*) FILTER (WHERE a.kind = 'timeout') AS timeouts,"
        "  count(*) FILTER (WHERE a.kind = 'delete') AS deletions,"
        "  count(*) FILTER (WHERE a.kind = 'warn') AS warnings,"
        "  max(s.client) AS client, max(ARRAY[a.ts, a.session_id::float8]) AS latest"
        " FROM actions a JOIN sessions s ON s.id = a.session_id"
        f" WHERE {ACTED} AND a.target_author_id IS NOT NULL AND a.ts >= %(since)s"
        " AND (%(client)s::text IS NULL OR s.client = %(client)s::text)"
        " GROUP BY 1, 2, 3),"
        " acted AS ("
        " SELECT platform, author_id, count(*) AS events, sum(bans)::int AS bans,"
        "  sum(timeouts)::int AS timeouts, sum(deletions)::int AS deletions,"
        "  sum(warnings)::int AS warnings,"
        "  array_agg(client) FILTER (WHERE client IS NOT NULL) AS clients,"
        "  max(latest) AS latest"
        " FROM per_event GROUP BY 1, 2 HAVING count(*) >= %(minimum)s),"
        " top AS (SELECT * FROM acted ORDER BY events DESC, latest DESC LIMIT %(limit)s)"
        " SELECT platform, author_id,"
        " (SELECT m.author_name FROM sessions s JOIN messages m ON m.month = s.month"
        "   AND m.session_id = s.id WHERE s.id = acted.latest[2]::bigint"
        "   AND m.author_id = acted.author_id AND m.platform = acted.platform"
        "   ORDER BY m.seq DESC LIMIT 1) AS name,"
        " events, bans, timeouts, deletions, warnings, clients, latest[1] AS last_at"
        " FROM top acted ORDER BY events DESC, last_at DESC",
        {"since": since, "client": client, "minimum": minimum, "limit": limit},
    )
    for row in rows:
        row["clients"] = sorted(set(row["clients"] or []))
    return rows


def search(
    conn: psycopg.Connection,
    text: str,
    limit: int = 50,
    client: str | None = None,
    since: float | None = None,
) -> list[dict[str, Any]]:
    """Messages matching `text` (web-search syntax: words, "a phrase", -not, or), stemmed as
    English and as French, newest first."""
    return _all(
        conn,
        "SELECT m.sent_at, s.id AS session, s.client, s.event, m.platform, m.channel,"
        " m.author_id, m.author_name, m.text, m.deleted_at"
        " FROM messages m JOIN sessions s ON s.id = m.session_id"
        f" WHERE {SEARCH_VECTOR.replace('text', 'm.text')} @@"
        " (websearch_to_tsquery('english', %(q)s) || websearch_to_tsquery('french', %(q)s))"
        " AND (%(client)s::text IS NULL OR s.client = %(client)s::text)"
        " AND (%(since)s::float8 IS NULL OR m.sent_at >= %(since)s::float8)"
        " ORDER BY m.sent_at DESC LIMIT %(limit)s",
        {"q": text, "client": client, "since": since, "limit": limit},
    )


def watchlist(conn: psycopg.Connection, since: float | None = None) -> list[dict[str, Any]]:
    """Every account banned or timed out in an archived event (since `since`): what a desk
    marks on sight. Grows with the sanctions in the archive, not with its messages."""
    return _all(
        conn,
        "WITH per_event AS ("
        " SELECT a.platform, a.target_author_id AS author_id, coalesce(s.event, s.uid) AS event,"
        "  count(*) FILTER (WHERE a.kind = 'ban') AS bans,"
        "  count(*) FILTER (WHERE a.kind = 'timeout') AS timeouts, max(a.ts) AS last_at"
        " FROM actions a JOIN sessions s ON s.id = a.session_id"
        f" WHERE {SANCTIONED} AND a.target_author_id IS NOT NULL"
        " AND (%(since)s::float8 IS NULL OR a.ts >= %(since)s::float8)"
        " GROUP BY 1, 2, 3)"
        " SELECT platform, author_id, sum(bans)::int AS bans, sum(timeouts)::int AS timeouts,"
        " count(*) AS events, max(last_at) AS last_at"
        " FROM per_event GROUP BY 1, 2 ORDER BY last_at DESC",
        {"since": since},
    )
