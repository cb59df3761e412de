"""Evidence for lawyers: verify a session's hash chain, export a sealed dossier, verify that."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vigile.replay.chain import ALGORITHM, GENESIS_HASH, chain_hash, sealed
from vigile.replay.reads import (
    ACTIONS_ON_MESSAGES,
    CHAIN,
    CHAIN_ROWS,
    EXPORT_ALL,
    EXPORT_FLAGGED,
    SESSIONS,
    SealedRow,
    SessionFile,
)

CSV_COLUMNS = (
    "seq",
    "sent_at_utc",
    "received_at_utc",
    "platform",
    "channel",
    "stream_url",
    "author_id",
    "author_name",
    "msg_id",
    "kind",
    "text",
    "deleted_at_utc",
    "rules",
    "categories",
    "priority",
    "actions",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int | None
    message_id: str | None
    kind: str  # altered | missing | reordered | file
    detail: str

    def __str__(self) -> str:
        where = f"message seq {self.seq} (id {self.message_id})" if self.seq else "dossier"
        return f"{self.kind}: {where}: {self.detail}"


def iso(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def verify_session(path: Path) -> tuple[int, Problem | None]:
    """Walk the chain of every stored message: (messages checked, first problem or None)."""
    with SessionFile(path) as session:
        rows = session.all(CHAIN_ROWS)
    return verify_rows(rows)


def verify_rows(
    rows: Sequence[SealedRow], previous_seq: int = 0, previous_hash: str = GENESIS_HASH
) -> tuple[int, Problem | None]:
    """Walk a chain read in seq order, from a session file or from the agency archive; from
    its start, or from a link already proven (`previous_seq`, `previous_hash`)."""
    for index, row in enumerate(rows):
        if row.seq != previous_seq + 1:
            gone = f"messages {previous_seq + 1}–{row.seq - 1} are gone"
            return index, Problem(row.seq, row.msg_id, "missing", gone)
        if chain_hash(previous_hash, row.sealed) != row.hash:
            # Is the message that belongs here further down? Then rows were moved.
            for later in rows[index + 1 :]:
                if chain_hash(previous_hash, later.sealed) == later.hash:
                    return index, Problem(
                        row.seq,
                        row.msg_id,
                        "reordered",
                        f"message {later.msg_id} (seq {later.seq}) belongs at this place",
                    )
            return index, Problem(
                row.seq, row.msg_id, "altered", "its stored fields do not match its hash"
            )
        previous_hash, previous_seq = row.hash, row.seq
    return len(rows), None


def _stream_url(platform: str, channel: str, raw: dict[str, Any]) -> str:
    if platform == "twitch":
        return f"https://www.twitch.tv/{channel}"
    if platform == "youtube":
        video = raw.get("video_id")
        return (
            f"https://www.youtube.com/watch?v={video}"
            if video
            else f"https://www.youtube.com/@{channel}"
        )
    return ""


def export_dossier(path: Path, out: Path, everything: bool = False) -> dict[str, Any]:
    """Write messages.csv, messages.json, chain.csv and manifest.json into `out`."""
    checked, problem = verify_session(path)
    if problem:
        raise ValueError(f"the session's chain is broken, nothing exported: {problem}")
    out.mkdir(parents=True, exist_ok=True)
    with SessionFile(path) as session:
        chain = session.all(CHAIN)
        rows = session.all(EXPORT_ALL if everything else EXPORT_FLAGGED)
        actions: dict[str, list[dict[str, Any]]] = {}
        for a in session.each(ACTIONS_ON_MESSAGES):
            actions.setdefault(f"{a.platform}:{a.target_message_id}", []).append(
                {
                    "kind": a.kind,
                    "by": a.moderator,
                    "at_utc": iso(a.ts),
                    "result": a.result,
                    "duration_s": a.duration_s,
                    "reason": a.reason,
                }
            )
        sessions = [s._asdict() for s in session.all(SESSIONS)]
    previous = {c.seq + 1: c.hash for c in chain}  # seq → the hash before it
    records = []
    for row in rows:
        matches = row.matches or []
        records.append(
            {
                "seq": row.seq,
                "sent_at_utc": iso(row.sent_at),
                "received_at_utc": iso(row.received_at),
                "sent_at": row.sent_at,
                "received_at": row.received_at,
                "platform": row.platform,
                "channel": row.channel,
                "stream_url": _stream_url(row.platform, row.channel, row.raw),
                "author_id": row.author_id,
                "author_name": row.author_name,
                "msg_id": row.msg_id,
                "kind": row.kind,
                "text": row.text,
                "deleted_at_utc": iso(row.deleted_at),
                "rules": sorted({m["rule_id"] for m in matches}),
                "categories": sorted({m["category"] for m in matches}),
                "matches": matches,
                "priority": row.priority,
                "actions": actions.get(f"{row.platform}:{row.msg_id}", []),
                "prev_hash": previous.get(row.seq, GENESIS_HASH),
                "hash": row.hash,
            }
        )
    (out / "messages.json").write_text(json.dumps(records, ensure_ascii=False, indent=1), "utf-8")
    with (out / "messages.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for r in records:
            flat = {
                **r,
                "rules": " ".join(r["rules"]),
                "categories": " ".join(r["categories"]),
                "actions": "; ".join(
                    f"{a['kind']} by {a['by']} at {a['at_utc']}" for a in r["actions"]
                ),
            }
            writer.writerow([flat[c] if flat[c] is not None else "" for c in CSV_COLUMNS])
    with (out / "chain.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("seq", "hash"))
        writer.writerows((c.seq, c.hash) for c in chain)
    manifest = {
        "format": "vigile-evidence/1",
        "generated_at_utc": iso(datetime.now(UTC).timestamp()),
        "source": str(path),
        "sessions": sessions,
        "selection": "all messages" if everything else "flagged messages",
        "messages_exported": len(records),
        "messages_in_chain": checked,
        "chain_head": chain[-1]._asdict() if chain else None,
        "hash_algorithm": ALGORITHM,
        "files": {
            name: _sha256(out / name) for name in ("messages.csv", "messages.json", "chain.csv")
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    return manifest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_dossier(folder: Path) -> tuple[int, Problem | None]:
    """Check a dossier: file hashes against the manifest, the chain list, each message."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return 0, Problem(None, None, "file", f"manifest.json unreadable: {exc}")
    for name, digest in manifest.get("files", {}).items():
        if not (folder / name).exists():
            return 0, Problem(None, None, "file", f"{name} is missing")
        if _sha256(folder / name) != digest:
            return 0, Problem(None, None, "file", f"{name} was changed after export")
    with (folder / "chain.csv").open(encoding="utf-8") as handle:
        chain = [(int(seq), digest) for seq, digest in list(csv.reader(handle))[1:]]
    for (seq, _), expected in zip(chain, range(1, len(chain) + 1), strict=False):
        if seq != expected:
            return 0, Problem(seq, None, "missing", f"the chain skips from {expected - 1}")
    head = manifest.get("chain_head")
    if head and chain and (chain[-1][0], chain[-1][1]) != (head["seq"], head["hash"]):
        return 0, Problem(None, None, "file", "chain.csv does not end at the sealed head")
    hashes = dict(chain)
    records = json.loads((folder / "messages.json").read_text("utf-8"))
    for count, record in enumerate(records):
        previous = hashes.get(record["seq"] - 1, GENESIS_HASH)
        if hashes.get(record["seq"]) != record["hash"]:
            return count, Problem(
                record["seq"], record["msg_id"], "reordered", "not at the place the chain gives it"
            )
        if chain_hash(previous, sealed(record)) != record["hash"]:
            return count, Problem(
                record["seq"], record["msg_id"], "altered", "its fields do not match its hash"
            )
    return len(records), None
