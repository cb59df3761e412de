"""`vigile export-evidence`: a signed dossier of sealed rows, for lawyers and clients."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vigile.replay.chain import ALGORITHM, SEALED_KINDS
from vigile.replay.dossier import (
    CHAIN_COLUMNS,
    FILES,
    FORMAT,
    WHOLE_KINDS,
    Entry,
    csv_rows,
    entry_line,
    iso,
    json_text,
    render,
    session_rows,
)
from vigile.replay.reads import CHAIN, FLAGGED_SEQS, SEALED_ROWS, SessionFile
from vigile.replay.signing import key_path, load_or_create, public_text, sign
from vigile.replay.verify import verify_session


@dataclass(frozen=True, slots=True)
class Exported:
    manifest: dict[str, Any]
    public_key: str
    key_file: Path
    key_created: bool


def export_dossier(
    path: Path, out: Path, everything: bool = False, key_file: str | None = None
) -> Exported:
    """Write messages.csv, messages.json, sealed.jsonl, chain.csv, manifest.json and its
    signature manifest.sig into `out`. Refuses a session whose chain is broken or that was
    recorded before every row was sealed (ValueError); EvidenceKeyError when the key is unfit."""
    checked = verify_session(path)
    if checked.scheme < 2:
        raise ValueError(
            f"{path.name} was recorded by an earlier Vigile (schema 1), which sealed 9 fields "
            "of each message only: no dossier can prove its actions, verdicts or deletions "
            "(`vigile verify` still checks its messages)"
        )
    if checked.problem:
        raise ValueError(f"the session's chain is broken, nothing exported: {checked.problem}")
    where = key_path(key_file)
    key, created = load_or_create(where)
    out.mkdir(parents=True, exist_ok=True)
    with SessionFile(path) as session:
        selected = None if everything else {r.value for r in session.each(FLAGGED_SEQS)}
        links: dict[tuple[str, int], tuple[int, str]] = {}
        with (out / "chain.csv").open("w", newline="", encoding="ascii") as handle:
            writer = csv.writer(handle)
            writer.writerow(CHAIN_COLUMNS)
            for link in session.each(CHAIN):
                writer.writerow(link)
                if link.kind in WHOLE_KINDS or selected is None or link.ref in selected:
                    links[(link.kind, link.ref)] = (link.link, link.hash)
        entries = [
            Entry(links[(kind, row[0])][0], kind, list(row[: len(SEALED_KINDS[kind].columns)]))
            for kind, read in SEALED_ROWS.items()
            for row in session.each(read)
            if (kind, row[0]) in links
        ]
    entries.sort(key=lambda e: e.link)
    with (out / "sealed.jsonl").open("w", encoding="ascii") as handle:
        handle.writelines(entry_line(e) + "\n" for e in entries)
    hashes = {link: h for (kind, _), (link, h) in links.items() if kind == "message"}
    records = render(entries, hashes)
    (out / "messages.json").write_text(json_text(records) + "\n", "ascii")
    with (out / "messages.csv").open("w", newline="", encoding="utf-8") as handle:
        # one line per record, ended by \n: no control character in the file but line ends
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerows(csv_rows(records))
    public = public_text(key)
    manifest = {
        "format": FORMAT,
        "generated_at_utc": iso(datetime.now(UTC).timestamp()),
        "source": path.name,
        "sessions": session_rows(entries),
        "interrupted_sessions": [s.id for s in checked.interrupted],
        "selection": "all messages" if everything else "flagged messages",
        "messages_exported": len(records),
        "messages_in_chain": checked.messages,
        "rows_in_chain": checked.rows,
        "chain_head": checked.head,
        "hash_algorithm": ALGORITHM,
        "files": {name: _sha256(out / name) for name in FILES},
        "public_key": public,
    }
    body = (json_text(manifest) + "\n").encode("ascii")
    (out / "manifest.json").write_bytes(body)
    (out / "manifest.sig").write_text(sign(key, body) + "\n", "ascii")
    return Exported(manifest, public, where, created)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
