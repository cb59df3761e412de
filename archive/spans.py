"""Durations and dates as the archive's commands take them: 30d, 2w, 13mo, 1y, 2026-11-01."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*(h|d|w|mo|y)\s*$", re.IGNORECASE)


def months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, 28)  # every month has a 28th: no overflow into the next
    return moment.replace(year=year, month=month + 1, day=day)


def before_now(span: str, now: datetime | None = None) -> datetime:
    """The moment `span` ago: 12h, 30d, 2w, 13mo, 1y (ValueError with the accepted forms)."""
    found = _DURATION.match(span)
    if not found:
        raise ValueError(f"{span!r} is not a duration: say 12h, 30d, 2w, 13mo or 1y")
    amount, unit = int(found.group(1)), found.group(2).lower()
    now = now or datetime.now(UTC)
    if unit == "mo":
        return months_before(now, amount)
    if unit == "y":
        return months_before(now, 12 * amount)
    hours = {"h": 1, "d": 24, "w": 24 * 7}[unit] * amount
    return now - timedelta(hours=hours)


def day_start(text: str, *, end: bool = False) -> float:
    """A date (2026-11-01) or an ISO time as UTC seconds; `end` takes a bare date's end."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date: say 2026-11-01 or 2026-11-01T20:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if end and len(text.strip()) == 10:
        parsed += timedelta(days=1)
    return parsed.timestamp()


def month_floor(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)
