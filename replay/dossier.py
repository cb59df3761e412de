"""An evidence dossier's contents, made from sealed rows only: what the export writes and what
`verify` recomputes to check every file of a dossier against the chain."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from vigile.replay.chain import SEALED_KINDS

FORMAT = "vigile-evidence/2"
FILES = ("messages.csv", "messages.json", "sealed.jsonl", "chain.csv")
CHAIN_COLUMNS = ("link", "kind", "ref", "digest", "hash")
# Kinds a dossier always holds in full; messages and verdicts as selected. Labels are whole: a
# label's key is its own (a message may hold several, the latest counts), not its message's.
WHOLE_KINDS = ("session", "session_end", "label", "event", "action", "rule_version", "deletion")

CSV_COLUMNS = (
    "seq",
    "link",
    "sent_at_utc",
    "received_at_utc",
    "platform",
    "channel",
    "stream_url",
    "author_id",
    "author_name",
    "roles",
    "msg_id",
    "kind",
    "text",
    "amount",
    "currency",
    "reply_to",
    "deleted_at_utc",
    "rules",
    "categories",
    "priority",
    "actions",
    "hash",
)


class Entry(NamedTuple):
    """One sealed row as a dossier holds it (a line of sealed.jsonl)."""

    link: int
    kind: str
    values: list[Any]

    def fields(self) -> dict[str, Any]:
        return dict(zip(SEALED_KINDS[self.kind].columns, self.values, strict=True))


def iso(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def json_text(value: Any) -> str:
    """JSON with every non-ASCII character escaped: no control or bidi character is ever raw in
    a dossier file, and the values read back exactly."""
    return json.dumps(value, ensure_ascii=True, indent=1)


def entry_line(entry: Entry) -> str:
    return json.dumps(entry._asdict(), ensure_ascii=True, separators=(",", ":"))


# -- CSV ----------------------------------------------------------------------------------------

# Controls (C0, DEL, C1) and bidi embeddings, overrides and isolates: shown as escapes.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def csv_cell(value: Any) -> str:
    """A value as a spreadsheet may show it: controls escaped, and a cell a spreadsheet would
    run as a formula prefixed with an apostrophe, as OWASP recommends."""
    text = "" if value is None else str(value)
    shown = _CONTROLS.sub(_escape, text)
    return "'" + shown if text.startswith(_FORMULA_START) else shown


# -- records ------------------------------------------------------------------------------------


def _stream_url(platform: str, channel: str, raw: Any) -> str:
    if platform == "twitch":
        return f"https://www.twitch.tv/{channel}"
    if platform == "youtube":
        video = raw.get("video_id") if isinstance(raw, dict) else None
        if video:
            return f"https://www.youtube.com/watch?v={video}"
        return f"https://www.youtube.com/@{channel}"
    return ""


def render(entries: Iterable[Entry], hashes: dict[int, str]) -> list[dict[str, Any]]:
    """messages.json's records: each message with its verdict, the actions on it and its
    deletion, all from sealed rows (`hashes`: link → link hash)."""
    messages, verdicts, actions, deleted = [], {}, {}, {}
    for entry in entries:
        row = entry.fields()
        if entry.kind == "message":
            messages.append((entry.link, row))
        elif entry.kind == "verdict":
            verdicts[row["message_seq"]] = row
        elif entry.kind == "action" and row["target_message_id"] is not None:
            key = (row["platform"], row["target_message_id"])
            actions.setdefault(key, []).append(row)
        elif entry.kind == "deletion":
            for seq in json.loads(row["marked"]):
                deleted.setdefault(seq, row["ts"])
    records = []
    for link, m in sorted(messages, key=lambda item: item[0]):
        verdict = verdicts.get(m["seq"])
        matches = json.loads(verdict["matches"]) if verdict else []
        done = sorted(
            actions.get((m["platform"], m["msg_id"]), []), key=lambda a: (a["ts"], a["id"])
        )
        records.append(
            {
                "seq": m["seq"],
                "link": link,
                "session_id": m["session_id"],
                "sent_at_utc": iso(m["sent_at"]),
                "received_at_utc": iso(m["received_at"]),
                "sent_at": m["sent_at"],
                "received_at": m["received_at"],
                "platform": m["platform"],
                "channel": m["channel"],
                "stream_url": _stream_url(m["platform"], m["channel"], json.loads(m["raw"])),
                "author_id": m["author_id"],
                "author_name": m["author_name"],
                "roles": json.loads(m["roles"]),
                "msg_id": m["msg_id"],
                "kind": m["kind"],
                "text": m["text"],
                "amount": m["amount"],
                "currency": m["currency"],
                "reply_to": m["reply_to"],
                "first_message": bool(m["first_message"]),
                "deleted_at_utc": iso(deleted.get(m["seq"])),
                "rules_version": verdict["rules_version"] if verdict else None,
                "rules": sorted({x["rule_id"] for x in matches}),
                "categories": sorted({x["category"] for x in matches}),
                "matches": matches,
                "priority": verdict["priority"] if verdict else None,
                "suggested_action": verdict["action"] if verdict else None,
                "actions": [
                    {
                        "kind": a["kind"],
                        "by": a["moderator"],
                        "at_utc": iso(a["ts"]),
                        "result": a["result"],
                        "duration_s": a["duration_s"],
                        "reason": a["reason"],
                    }
                    for a in done
                ],
                "hash": hashes[link],
            }
        )
    return records


def csv_rows(records: list[dict[str, Any]]) -> list[list[str]]:
    """messages.csv, header first, every cell through csv_cell."""
    rows = [list(CSV_COLUMNS)]
    for r in records:
        flat = {
            **r,
            "roles": " ".join(r["roles"]),
            "rules": " ".join(r["rules"]),
            "categories": " ".join(r["categories"]),
            "actions": "; ".join(
                f"{a['kind']} by {a['by']} at {a['at_utc']} ({a['result']})" for a in r["actions"]
            ),
        }
        rows.append([csv_cell(flat[c]) for c in CSV_COLUMNS])
    return rows


def session_rows(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """The manifest's sessions, from their sealed start and end."""
    sessions: dict[int, dict[str, Any]] = {}
    for entry in entries:
        if entry.kind == "session":
            row = entry.fields()
            sessions[row["id"]] = {
                "id": row["id"],
                "name": row["name"],
                "kind": row["kind"],
                "started_at_utc": iso(row["started_at"]),
                "ended_at_utc": "",
                "sources": json.loads(row["sources"]),
            }
        elif entry.kind == "session_end":
            row = entry.fields()
            if row["id"] in sessions:
                sessions[row["id"]]["ended_at_utc"] = iso(row["ended_at"])
    return [sessions[key] for key in sorted(sessions)]
