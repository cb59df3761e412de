"""Times as archives write them: unix numbers, ISO 8601, `YYYY-MM-DD HH:MM:SS [UTC]`, times of
day (with a date from elsewhere), offsets from the stream's start."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CLOCK = re.compile(r"^(\d{1,3}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")
_FRACTION = re.compile(r"(\.\d{6})\d+")  # .NET writes 7 digits; Python reads 6


def date_in_name(path: Path) -> date | None:
    """`channel-2024-07-20.log` → 2024-07-20 (Chatterino names its daily logs so)."""
    found = _DATE_IN_NAME.search(path.name)
    if not found:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def clock_seconds(text: str) -> float | None:
    """`12:33:03` or `1:02:03.5` → seconds; None if it is not one."""
    found = _CLOCK.match(text)
    if not found:
        return None
    hours, minutes, seconds = int(found[1]), int(found[2]), int(found[3])
    if minutes > 59 or seconds > 59:
        return None
    fraction = float(f"0.{found[4]}") if found[4] else 0.0
    return hours * 3600 + minutes * 60 + seconds + fraction


def parse_datetime(text: str, tz: tzinfo) -> float:
    """An absolute time (ISO 8601, `YYYY-MM-DD HH:MM:SS[.fff] [UTC]`, unix seconds, ms or µs)
    in UTC seconds; a time without a zone is in `tz`. ValueError if it is none of these."""
    text = text.strip()
    if not text:
        raise ValueError("no time")
    if text.replace(".", "", 1).isdigit():
        number = float(text)
        if number > 1e14:  # microseconds
            return number / 1e6
        return number / 1e3 if number > 1e11 else number  # milliseconds, or seconds
    zone: tzinfo | None = None
    if text.endswith((" UTC", " GMT")):
        text, zone = text[:-4], UTC
    moment = datetime.fromisoformat(_FRACTION.sub(r"\1", text))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or tz)
    return moment.timestamp()


class DayClock:
    """Times of day on a given date, in a time zone, across midnight: a time more than six
    hours before the previous one is on the next day (a log that runs past midnight)."""

    def __init__(self, day: date, tz: tzinfo) -> None:
        self.day, self.tz = day, tz
        self._previous = -1.0
        self._hours: dict[tuple[date, int], float] = {}  # start of each hour, DST-correct

    def at(self, seconds: float) -> float:
        if seconds + 6 * 3600 < self._previous:
            self.day += timedelta(days=1)
        self._previous = seconds
        day, hour = self.day + timedelta(days=int(seconds // 86400)), int(seconds % 86400) // 3600
        start = self._hours.get((day, hour))
        if start is None:
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=self.tz)
            start = self._hours[(day, hour)] = moment.timestamp()
        return start + seconds % 3600
