"""Known offenders on sight: accounts sanctioned in earlier events, as a desk looks them up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

from vigile.archive import queries

FORMAT = "vigile-watchlist/1"


@dataclass(frozen=True, slots=True)
class KnownOffender:
    platform: str
    author_id: str
    bans: int
    timeouts: int
    events: int
    last_at: float

    @property
    def note(self) -> str:
        """What the card and the priority pane say: "banned 2× in 3 events, last on 2026-11-02"."""
        parts = []
        if self.bans:
            parts.append(f"banned {self.bans}×")
        if self.timeouts:
            parts.append(f"timed out {self.timeouts}×")
        day = datetime.fromtimestamp(self.last_at, UTC).strftime("%Y-%m-%d")
        events = f"{self.events} event" + ("s" if self.events != 1 else "")
        return f"{', '.join(parts)} in {events}, last on {day}"


class Watchlist:
    """Accounts by (platform, author id). Loaded from the archive or from an exported file."""

    def __init__(self, offenders: list[KnownOffender], loaded_at: float | None = None) -> None:
        self._by_account = {(o.platform, o.author_id): o for o in offenders}
        self.loaded_at = loaded_at or datetime.now(UTC).timestamp()

    def __len__(self) -> int:
        return len(self._by_account)

    def get(self, platform: str, author_id: str) -> KnownOffender | None:
        return self._by_account.get((platform, author_id))

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "platform": o.platform,
                "author_id": o.author_id,
                "bans": o.bans,
                "timeouts": o.timeouts,
                "events": o.events,
                "last_at": o.last_at,
                "note": o.note,
            }
            for o in self._by_account.values()
        ]

    @classmethod
    def load(cls, conn: psycopg.Connection, since: float | None = None) -> Watchlist:
        rows = queries.watchlist(conn, since)
        return cls([_offender(row) for row in rows])

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "loaded_at": self.loaded_at, "accounts": self.rows}

    def save(self, path: Path) -> None:
        path.write_bytes(orjson.dumps(self.as_json(), option=orjson.OPT_INDENT_2))

    @classmethod
    def read(cls, path: Path) -> Watchlist:
        """An exported watchlist (ValueError naming the file when it is not one)."""
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a readable watchlist: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a Vigile watchlist (format {FORMAT})")
        try:
            return cls([_offender(row) for row in data["accounts"]], data.get("loaded_at"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: a watchlist entry is malformed: {exc}") from exc


def _offender(row: dict[str, Any]) -> KnownOffender:
    return KnownOffender(
        platform=str(row["platform"]),
        author_id=str(row["author_id"]),
        bans=int(row["bans"]),
        timeouts=int(row["timeouts"]),
        events=int(row["events"]),
        last_at=float(row["last_at"]),
    )
