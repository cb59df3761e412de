"""`vigile verify DIR`: a dossier checked on its own, every file against its signed manifest
and its chain, each reason on one line."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

from vigile.replay.chain import GENESIS_HASH, SEALED_KINDS, link_hash, row_digest
from vigile.replay.dossier import (
    CHAIN_COLUMNS,
    CSV_COLUMNS,
    FILES,
    FORMAT,
    WHOLE_KINDS,
    Entry,
    csv_rows,
    json_text,
    render,
    session_rows,
)
from vigile.replay.signing import fingerprint, parse_public, signature_holds
from vigile.replay.verify import Problem, SessionTally, Verification

_HEX64 = re.compile(r"[0-9a-f]{64}")
# A dossier's cells can outgrow the csv module's default limit (128 KiB): a long rule-pack
# version, a long list of actions. Bounded still, so a forged file cannot take all memory.
csv.field_size_limit(16 << 20)


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _bad(detail: str, kind: str = "file") -> _Refused:
    return _Refused(Problem(kind, detail))


def verify_dossier(folder: Path, signed_by: str | None = None) -> Verification:
    """Check the manifest's signature (and its key, when `signed_by` names one), each file's
    digest, the chain from its first link to the signed head, each sealed row against its link,
    and messages.json and messages.csv against what the sealed rows say."""
    result = Verification(scheme=2)
    try:
        _Check(folder, result, signed_by).run()
    except _Refused as refused:
        result.problem = refused.problem
    return result


class _Check:
    def __init__(self, folder: Path, result: Verification, signed_by: str | None) -> None:
        self.folder, self.result, self.signed_by = folder, result, signed_by

    def run(self) -> None:
        manifest = self._manifest()
        self._files(manifest)
        chain = self._chain(manifest)
        entries = self._entries(chain)
        self._complete(manifest, chain, entries)
        self._renderings(manifest, chain, entries)
        names = {e.fields()["id"]: e.fields()["name"] for e in entries if e.kind == "session"}
        tally = SessionTally(self.result, lambda key: str(names.get(key, "")))
        for _, kind, ref, _, _ in chain:
            tally.add(kind, ref)
        self.result.messages = manifest["messages_exported"]
        self.result.head = manifest["chain_head"]

    def _read(self, name: str) -> bytes:
        try:
            return (self.folder / name).read_bytes()
        except FileNotFoundError:
            raise _bad(f"{name} is missing") from None
        except OSError as exc:
            raise _bad(f"{name} cannot be read: {exc.strerror}") from None

    def _manifest(self) -> dict[str, Any]:
        body = self._read("manifest.json")
        try:
            manifest = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise _bad(f"manifest.json is not JSON: {type(exc).__name__}") from None
        if not isinstance(manifest, dict):
            raise _bad("manifest.json is not a JSON object")
        if manifest.get("format") != FORMAT:
            if manifest.get("format") == "vigile-evidence/1":
                raise _bad(
                    "an earlier Vigile's dossier (unsigned, 9 message fields sealed): "
                    "export it again from the session file"
                )
            raise _bad(f"manifest.json is not a {FORMAT} manifest")
        try:
            public = parse_public(manifest.get("public_key"))
        except ValueError as exc:
            raise _bad(f"manifest.json: {exc}") from None
        try:
            signature = self._read("manifest.sig").decode("ascii")
        except UnicodeDecodeError:
            raise _bad("manifest.sig is not a signature") from None
        if not signature_holds(public, body, signature):
            raise _bad("manifest.json was changed after it was signed (its signature fails)")
        self.result.signer = manifest["public_key"]
        if self.signed_by is not None and not _names(self.signed_by, manifest["public_key"]):
            raise _bad(
                f"signed by {manifest['public_key']}, not by the expected {self.signed_by}",
                "signer",
            )
        files = manifest.get("files")
        if not isinstance(files, dict) or sorted(files) != sorted(FILES):
            raise _bad(f'manifest.json must list exactly {", ".join(FILES)} under "files"')
        head = manifest.get("chain_head")
        if not (
            isinstance(head, dict)
            and _is_int(head.get("link"))
            and isinstance(head.get("hash"), str)
        ):
            raise _bad('manifest.json has no "chain_head" with a link and a hash')
        if not _is_int(manifest.get("messages_exported")):
            raise _bad('manifest.json has no whole "messages_exported"')
        return manifest

    def _files(self, manifest: dict[str, Any]) -> None:
        for name in FILES:
            if hashlib.sha256(self._read(name)).hexdigest() != manifest["files"][name]:
                raise _bad(f"{name} was changed after export (its sha256 is not the manifest's)")

    def _chain(self, manifest: dict[str, Any]) -> list[tuple[int, str, int, str, str]]:
        """chain.csv, walked from the first link: every hash follows, it ends at the head."""
        rows = _csv(self._read("chain.csv"), "chain.csv")
        if not rows or tuple(rows[0]) != CHAIN_COLUMNS:
            raise _bad(f"chain.csv does not start with the header {','.join(CHAIN_COLUMNS)}")
        chain, previous = [], GENESIS_HASH
        for number, row in enumerate(rows[1:], start=1):
            where = f"chain.csv line {number + 1}"
            if len(row) != 5 or not row[0].isdigit() or not row[2].lstrip("-").isdigit():
                raise _bad(f"{where} is not link,kind,ref,digest,hash")
            link, kind, ref, digest, chained = int(row[0]), row[1], int(row[2]), row[3], row[4]
            if link != number:
                raise _bad(f"{where}: link {link} where {number} belongs", "missing")
            if kind not in SEALED_KINDS or not _HEX64.fullmatch(digest):
                raise _bad(f"{where} does not name a sealed row", "chain")
            if link_hash(previous, digest) != chained:
                raise _bad(
                    f"{where}: link {link}'s hash does not follow from the one before", "chain"
                )
            chain.append((link, kind, ref, digest, chained))
            previous = chained
        head = manifest["chain_head"]
        if not chain or (chain[-1][0], chain[-1][4]) != (head["link"], head["hash"]):
            raise _bad("chain.csv does not end at the signed chain head", "chain")
        return chain

    def _entries(self, chain: list[tuple[int, str, int, str, str]]) -> list[Entry]:
        entries, last = [], 0
        for number, line in enumerate(self._read("sealed.jsonl").splitlines(), start=1):
            where = f"sealed.jsonl line {number}"
            try:
                data = json.loads(line)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise _bad(f"{where} is not JSON") from None
            if not (
                isinstance(data, dict)
                and _is_int(data.get("link"))
                and data.get("kind") in SEALED_KINDS
                and isinstance(data.get("values"), list)
                and len(data["values"]) == len(SEALED_KINDS[data["kind"]].columns)
            ):
                raise _bad(f"{where} is not a sealed row (link, kind, values)")
            entry = Entry(data["link"], data["kind"], data["values"])
            if not last < entry.link <= len(chain):
                raise _bad(f"{where}: link {entry.link} is out of order or not in the chain")
            _, kind, ref, digest, _ = chain[entry.link - 1]
            key = entry.values[0]
            if kind != entry.kind or ref != key:
                detail = f"link {entry.link} seals {kind} {ref}, not this row"
                raise _Refused(Problem("reordered", detail, entry.kind, _int_or_none(key)))
            if row_digest(entry.kind, entry.values) != digest:
                msg_id = entry.fields().get("msg_id") if entry.kind == "message" else None
                detail = f"its values in sealed.jsonl do not match link {entry.link}'s digest"
                raise _Refused(Problem("altered", detail, entry.kind, ref, msg_id))
            entries.append(entry)
            last = entry.link
        return entries

    def _complete(
        self,
        manifest: dict[str, Any],
        chain: list[tuple[int, str, int, str, str]],
        entries: list[Entry],
    ) -> None:
        """Nothing the dossier promises is left out: every row of the kinds it holds whole,
        every selected message's verdict, and for a flagged selection every flagged message."""
        held = {e.link for e in entries}
        seqs = {e.values[0] for e in entries if e.kind == "message"}
        everything = manifest.get("selection") == "all messages"
        for link, kind, ref, _, _ in chain:
            needed = (
                kind in WHOLE_KINDS
                or (kind == "message" and everything)
                or (kind == "verdict" and not everything)
                or (kind in ("message", "verdict") and ref in seqs)
            )
            if needed and link not in held:
                raise _Refused(
                    Problem(
                        "missing", f"sealed at link {link}, it is not in the dossier", kind, ref
                    )
                )

    def _renderings(
        self,
        manifest: dict[str, Any],
        chain: list[tuple[int, str, int, str, str]],
        entries: list[Entry],
    ) -> None:
        """messages.json, messages.csv and the manifest's sessions are what the sealed rows
        say, to the last cell."""
        try:
            records = render(entries, {link: h for link, _, _, _, h in chain})
            sessions = session_rows(entries)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError) as exc:
            raise _bad(f"sealed.jsonl holds rows no dossier is made of: {exc!r}") from None
        if manifest["messages_exported"] != len(records):
            raise _bad(
                f"the manifest counts {manifest['messages_exported']} messages,"
                f" the sealed rows {len(records)}"
            )
        if manifest.get("sessions") != sessions:
            raise _bad("the manifest's sessions are not the sealed session rows")
        try:
            exported = json.loads(self._read("messages.json"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise _bad("messages.json is not JSON") from None
        if exported != json.loads(json_text(records)):
            raise _first_difference("messages.json", exported, records)
        written = _csv(self._read("messages.csv"), "messages.csv")
        expected = csv_rows(records)
        for number, (got, want) in enumerate(zip(written, expected, strict=False), start=1):
            if got != want:
                column = next(
                    (_column(i) for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
                    "its number of cells",
                )
                raise _bad(
                    f"messages.csv line {number}: {column} is not what the sealed rows say",
                    "altered",
                )
        if len(written) != len(expected):
            raise _bad(
                f"messages.csv has {len(written) - 1} records, the sealed rows {len(expected) - 1}",
                "altered",
            )


def _names(expected: str, public: str) -> bool:
    """`expected` is this key, or its fingerprint as `export-evidence` prints it."""
    wanted = expected.strip()
    return wanted == public or wanted.replace(" ", "") == fingerprint(public).replace(" ", "")


def _column(index: int) -> str:
    return CSV_COLUMNS[index] if index < len(CSV_COLUMNS) else f"cell {index + 1}"


def _first_difference(name: str, got: Any, records: list[dict[str, Any]]) -> _Refused:
    if not isinstance(got, list):
        return _bad(f"{name} is not a list of records", "altered")
    for index, want in enumerate(records):
        have = got[index] if index < len(got) else None
        if have != want:
            if isinstance(have, dict):
                keys = [*want, *(k for k in have if k not in want)]
                field = next(k for k in keys if have.get(k) != want.get(k))
            else:
                field = "the whole record"
            detail = f"{name} record {index + 1}: {field} is not what the sealed rows say"
            return _Refused(Problem("altered", detail, "message", want["seq"], want["msg_id"]))
    return _bad(f"{name} holds {len(got) - len(records)} records the sealed rows do not", "altered")


def _csv(data: bytes, name: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _bad(f"{name} cannot be read as CSV: {exc}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_or_none(value: Any) -> int | None:
    return value if _is_int(value) else None
