"""A bilan over many events from the archive: a client's month in figures, HTML (with the
single bilan's charts), Markdown and JSON.

The figures a single event's bilan gives per session (messages, flagged, actions, response
times, chain intact) are given per event and in total; the words, numbers and dates are the
single bilan's own (`Wording`), so both read alike."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg

from vigile.archive import queries
from vigile.archive.bilan_page import period_page
from vigile.archive.verify import verify_archived
from vigile.connectors.safe_text import inert
from vigile.replay.bilan import BilanFiles
from vigile.replay.bilan_figures import DEFAULT_TARGET_S, HANDLING, BilanError, response_times
from vigile.replay.bilan_words import Wording

FORMAT = "vigile-bilan-archive/1"
_HANDLING = sorted(HANDLING)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _all(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return conn.execute(sql.encode(), params).fetchall()


def collect_archive(
    conn: psycopg.Connection,
    client: str,
    start: float,
    end: float,
    target_s: float = DEFAULT_TARGET_S,
) -> dict[str, Any]:
    """Every figure for `client`'s sessions that started in [start, end)."""
    p = {"client": client, "start": start, "end": end, "handling": _HANDLING}
    in_scope = "s.client = %(client)s AND s.started_at >= %(start)s AND s.started_at < %(end)s"
    sessions = _all(
        conn,
        "SELECT s.id, coalesce(s.event, s.name), s.name, s.started_at, s.ended_at,"
        " (SELECT count(*) FROM messages m WHERE m.month = s.month AND m.session_id = s.id),"
        " (SELECT count(DISTINCT (m.platform, m.author_id)) FROM messages m"
        "   WHERE m.month = s.month AND m.session_id = s.id),"
        " (SELECT count(*) FROM verdicts v WHERE v.month = s.month AND v.session_id = s.id),"
        " (SELECT count(*) FROM actions a WHERE a.month = s.month AND a.session_id = s.id),"
        " (SELECT count(*) FROM messages m WHERE m.month = s.month AND m.session_id = s.id"
        "   AND m.deleted_at IS NOT NULL)"
        f" FROM sessions s WHERE {in_scope} ORDER BY s.started_at",
        p,
    )
    if not sessions:
        raise BilanError(f"no archived session for client {client!r} in that period")
    events = []
    for (
        sid,
        event,
        name,
        started,
        ended,
        msgs,
        authors,
        flagged,
        actions,
        deleted,
    ) in sessions:
        checked = verify_archived(conn, sid)
        problem = checked.problem
        events.append(
            {
                "session": sid,
                "event": event,
                "name": name,
                "started_at": started,
                "ended_at": ended,
                "messages": msgs,
                "unique_authors": authors,
                "flagged": flagged,
                "actions": actions,
                "deleted_messages": deleted,
                "chain": {
                    "intact": problem is None,
                    "rows_checked": checked.rows,  # every sealed row, as `vigile verify`
                    "messages_checked": checked.messages,
                    "head": checked.head,  # the chain's last link, as the file's
                    "problem": str(problem) if problem else None,
                },
            }
        )
    joined = "FROM sessions s JOIN {t} x ON x.month = s.month AND x.session_id = s.id"
    categories = Counter(
        dict(
            _all(
                conn,
                "SELECT c->>'category', count(DISTINCT (x.session_id, x.message_seq))"
                f" {joined.format(t='verdicts')}, jsonb_array_elements(x.matches::jsonb) c"
                f" WHERE {in_scope} GROUP BY 1",
                p,
            )
        )
    )
    kinds = dict(
        _all(
            conn,
            f"SELECT x.kind, count(*) {joined.format(t='actions')}"
            f" WHERE {in_scope} GROUP BY 1 ORDER BY 2 DESC",
            p,
        )
    )
    moderators: dict[str, dict[str, int]] = {}
    for moderator, kind, count in _all(
        conn,
        f"SELECT x.moderator, x.kind, count(*) {joined.format(t='actions')}"
        f" WHERE {in_scope} GROUP BY 1, 2 ORDER BY 1, 3 DESC",
        p,
    ):
        moderators.setdefault(moderator, {})[kind] = count
    # A flagged message is handled by the first action on it, or on its author once it arrived.
    waits = sorted(
        max(0.0, row[0])
        for row in _all(
            conn,
            "SELECT (SELECT min(a.ts) FROM actions a WHERE a.month = m.month"
            "  AND a.session_id = m.session_id AND a.kind = ANY(%(handling)s)"
            "  AND (a.target_message_id = m.msg_id OR (a.target_author_id = m.author_id"
            "       AND a.ts >= m.received_at))) - m.received_at"
            " FROM sessions s JOIN verdicts v ON v.session_id = s.id AND v.month = s.month"
            " JOIN messages m ON m.month = v.month AND m.session_id = v.session_id"
            "  AND m.seq = v.message_seq"
            f" WHERE {in_scope}",
            p,
        )
        if row[0] is not None
    )
    days = _all(
        conn,
        "SELECT to_char(to_timestamp(m.sent_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*),"
        " count(v.message_seq) FROM sessions s JOIN messages m ON m.month = s.month"
        "  AND m.session_id = s.id LEFT JOIN verdicts v ON v.month = m.month"
        "  AND v.session_id = m.session_id AND v.message_seq = m.seq"
        f" WHERE {in_scope} GROUP BY 1 ORDER BY 1",
        p,
    )
    repeat = [
        o
        for o in queries.offenders(conn, start, client)
        if o["last_at"] < end  # acted on within the period, in two events or more
    ]
    total_flagged = sum(e["flagged"] for e in events)
    return {
        "format": FORMAT,
        "client": client,
        "from": start,
        "to": end,
        "events": events,
        "totals": {
            "events": len(events),
            "messages": sum(e["messages"] for e in events),
            "unique_authors": _scalar(
                conn,
                "SELECT count(DISTINCT (m.platform, m.author_id)) FROM sessions s JOIN messages m"
                f" ON m.month = s.month AND m.session_id = s.id WHERE {in_scope}",
                p,
            ),
            "flagged": total_flagged,
            "actions": sum(e["actions"] for e in events),
            "deleted_messages": sum(e["deleted_messages"] for e in events),
        },
        "flagged_by_category": dict(categories.most_common()),
        "actions_by_kind": kinds,
        "actions_by_moderator": moderators,
        "response_times": _response_times(waits, target_s),
        "handled": len(waits),
        "unhandled": total_flagged - len(waits),
        "by_day": [{"day": d, "messages": n, "flagged": f} for d, n, f in days],
        "repeat_offenders": repeat,
        "evidence": {"intact": all(e["chain"]["intact"] for e in events)},
    }


def _response_times(waits: list[float], target_s: float) -> dict:
    """The single bilan's response-time figures, with the distribution its chart draws (the
    page draws it; the JSON leaves it out)."""
    times = response_times(waits, target_s)
    times["within_target"] = times.pop("within_target_share")
    return times


def _scalar(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> int:
    row = conn.execute(sql.encode(), params).fetchone()
    return int(row[0]) if row else 0


def _md(text: Any) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", inert(" ".join(str(text).split())))


def markdown(f: dict[str, Any], w: Wording) -> str:
    fr = w.lang == "fr"
    t = f["totals"]
    rt = f["response_times"]
    title = "Bilan de la période" if fr else "Report for the period"
    lines = [
        f"# {title} — {_md(f['client'])}",
        "",
        f"{w.datetime(f['from'])} → {w.datetime(f['to'])}",
        "",
        "| événements | messages | auteurs | signalés | actions |"
        if fr
        else "| events | messages | authors | flagged | actions |",
        "|---:|---:|---:|---:|---:|",
        f"| {w.number(t['events'])} | {w.number(t['messages'])} | {w.number(t['unique_authors'])}"
        f" | {w.number(t['flagged'])} | {w.number(t['actions'])} |",
        "",
        ("Délai de traitement médian" if fr else "Median response time")
        + f": {w.duration(rt['median_s'])}; p90 {w.duration(rt['p90_s'])}"
        + f"; {w.percent(rt['within_target'])} "
        + ("dans l'objectif" if fr else "within target"),
        "",
        "## " + ("Événements" if fr else "Events"),
        "",
        "| "
        + (
            "événement | début | messages | signalés | actions | chaîne"
            if fr
            else "event | start | messages | flagged | actions | chain"
        )
        + " |",
        "|---|---|---:|---:|---:|---|",
    ]
    for e in f["events"]:
        chain = ("intacte" if fr else "intact") if e["chain"]["intact"] else e["chain"]["problem"]
        lines.append(
            f"| {_md(e['event'])} | {w.datetime(e['started_at'])} | {w.number(e['messages'])}"
            f" | {w.number(e['flagged'])} | {w.number(e['actions'])} | {_md(chain)} |"
        )
    lines += ["", "## " + ("Signalements par catégorie" if fr else "Flagged by category"), ""]
    for name, count in f["flagged_by_category"].items():
        lines.append(f"- {_md(w.category(name))}: {w.number(count)}")
    lines += ["", "## " + ("Actions" if fr else "Actions"), ""]
    for name, count in f["actions_by_kind"].items():
        lines.append(f"- {_md(w.kind(name))}: {w.number(count)}")
    lines += ["", "## " + ("Récidivistes" if fr else "Repeat offenders"), ""]
    if not f["repeat_offenders"]:
        lines.append("—")
    for o in f["repeat_offenders"]:
        lines.append(
            f"- {_md(o['name'] or o['author_id'])} ({_md(o['platform'])}): "
            f"{w.number(o['events'])} " + ("événements" if fr else "events")
        )
    return "\n".join(lines) + "\n"


def write_archive_bilan(
    conn: psycopg.Connection,
    client: str,
    start: float,
    end: float,
    out: Path,
    lang: str = "fr",
    tz: str = "UTC",
    target_s: float = DEFAULT_TARGET_S,
) -> BilanFiles:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BilanError(f"unknown time zone {tz!r} (try Europe/Paris or UTC)") from exc
    if end <= start:
        raise BilanError("--to must come after --from")
    figures = collect_archive(conn, client, start, end, target_s)
    seconds = figures["response_times"].pop("seconds")
    figures["generated_at"] = datetime.now(UTC).timestamp()
    words = Wording(lang, zone)
    out.mkdir(parents=True, exist_ok=True)
    files = BilanFiles(out / "bilan.html", out / "bilan.md", out / "bilan.json", figures)
    files.html.write_text(period_page(figures, seconds, words, tz, _version()), "utf-8")
    files.markdown.write_text(markdown(figures, words), "utf-8")
    files.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1, default=str), "utf-8")
    return files


def _version() -> str:
    try:
        return version("vigile")
    except PackageNotFoundError:
        return "dev"
