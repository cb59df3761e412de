"""Readable tables of the archive's answers for a terminal: chat text made inert, times in UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from vigile.connectors.safe_text import inert


def when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _cell(value: Any, width: int) -> str:
    if value is None:
        text = ""
    elif isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value if v is not None)
    else:
        text = str(value)
    text = inert(" ".join(text.split()))  # one line, no terminal controls
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, int]]) -> str:
    """`columns`: (key, heading, maximum width). Times (keys ending in _at or ts) shown UTC."""
    cells = [
        [
            _cell(when(row.get(key)) if key.endswith("_at") or key == "ts" else row.get(key), w)
            for key, _, w in columns
        ]
        for row in rows
    ]
    widths = [
        max([len(heading), *(len(line[i]) for line in cells)])
        for i, (_, heading, _) in enumerate(columns)
    ]
    lines = ["  ".join(h.ljust(w) for (_, h, _), w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(line.rstrip() for line in lines)
