"""`vigile archive prune --older-than 13mo`: whole months dropped, never half a session."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import psycopg

from vigile.archive.schema import PARTITIONED, next_month, partition_name
from vigile.archive.spans import month_floor


def archived_months(conn: psycopg.Connection) -> list[date]:
    rows = conn.execute("SELECT DISTINCT month FROM sessions ORDER BY month").fetchall()
    return [row[0] for row in rows]


def prune(conn: psycopg.Connection, cutoff: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Drop every month that ended before `cutoff`: its partitions (a session's rows all live
    in its start month, so a chain is kept or dropped whole) and its sessions. Recorded in the
    archive's log with what went."""
    last_kept = month_floor(cutoff)
    gone = [m for m in archived_months(conn) if next_month(m) <= last_kept]
    report: dict[str, Any] = {"cutoff": cutoff.isoformat(), "months": [], "dry_run": dry_run}
    for month in gone:
        sessions, messages = conn.execute(
            "SELECT count(*), coalesce(sum(messages), 0) FROM sessions WHERE month = %s", (month,)
        ).fetchone()  # type: ignore[misc]
        report["months"].append(
            {"month": month.isoformat()[:7], "sessions": sessions, "messages": int(messages)}
        )
        if dry_run:
            continue
        with conn.transaction():
            for table in PARTITIONED:
                conn.execute(f"DROP TABLE IF EXISTS {partition_name(table, month)}".encode())
            conn.execute("DELETE FROM sessions WHERE month = %s", (month,))
            conn.execute(
                "INSERT INTO archive_log(kind, detail) VALUES ('prune', %s::jsonb)",
                (json.dumps({**report["months"][-1], "cutoff": report["cutoff"]}),),
            )
    return report
