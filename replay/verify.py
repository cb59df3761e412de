"""`vigile verify` on a session file: walk the chain, and every sealed row beside it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigile.connectors.safe_text import inert
from vigile.replay.chain import GENESIS_HASH, SEALED_KINDS, legacy_hash, link_hash, row_digest
from vigile.replay.counts import count
from vigile.replay.reads import (
    CHAIN,
    CHAIN_AFTER,
    LEGACY_CHAIN,
    LINK_AT,
    LINKS_OF_KIND,
    MESSAGES_PER_SESSION,
    SCHEMA_VERSION_READ,
    SEALED_ROWS,
    SEALED_ROWS_AFTER,
    SESSIONS,
    SessionFile,
)
from vigile.replay.signing import fingerprint, local_public_key


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing found wrong: what (altered, missing, unsealed, reordered, chain, file),
    which row, and why."""

    kind: str
    detail: str
    row_kind: str | None = None  # a kind of SEALED_KINDS; None for a file of a dossier
    ref: int | None = None  # the row's key (a message's seq)
    message_id: str | None = None

    @property
    def seq(self) -> int | None:
        return self.ref if self.row_kind == "message" else None

    def __str__(self) -> str:
        """One line, safe for a terminal: stored ids never reach it raw."""
        if self.row_kind is None:
            return inert(f"{self.kind}: {self.detail}")
        if self.row_kind == "message":
            shown = "" if self.message_id is None else f" (id {inert(str(self.message_id))})"
            where = f"message seq {self.ref}{shown}"
        else:
            where = f"{self.row_kind.replace('_', ' ')} {self.ref}"
        return inert(f"{self.kind}: {where}: {self.detail}")


@dataclass(slots=True)
class SessionSummary:
    """One recorded session as the chain holds it; `ended` False: it never closed cleanly."""

    id: int
    name: str
    rows: int = 0
    messages: int = 0
    ended: bool = False


@dataclass(slots=True)
class Verification:
    """What `verify` found: scheme 1 sealed 9 message fields only (files of an earlier Vigile);
    scheme 2 seals every row."""

    scheme: int
    rows: int = 0  # sealed rows checked good
    messages: int = 0
    head: dict[str, Any] | None = None  # the last link: {"link", "hash"}
    sessions: list[SessionSummary] = field(default_factory=list)
    problem: Problem | None = None
    signer: str | None = None  # a dossier's public key
    resumed_after: int = 0  # the link a resumed walk started after (0: from the first)

    @property
    def intact(self) -> bool:
        return self.problem is None

    @property
    def interrupted(self) -> list[SessionSummary]:
        """Sessions with no clean end; known only once the whole chain was walked."""
        return [] if self.problem else [s for s in self.sessions if not s.ended]


class SessionTally:
    """Counts sealed rows by session as links go by: a session's rows are the links from its
    start to the next session's start."""

    def __init__(self, result: Verification, name_of: Callable[[int], str]) -> None:
        self.result, self.name_of = result, name_of
        self.current: SessionSummary | None = None

    def add(self, kind: str, ref: int) -> None:
        result = self.result
        if kind == "session":
            self.current = SessionSummary(ref, self.name_of(ref))
            result.sessions.append(self.current)
        elif kind == "session_end":
            for s in result.sessions:
                s.ended = s.ended or s.id == ref
        if self.current is not None:
            self.current.rows += 1
            self.current.messages += kind == "message"
        result.rows += 1
        result.messages += kind == "message"


LEGACY_NOTE = (
    "this file was recorded by an earlier Vigile (schema 1): its chain seals 9 fields of each "
    "message only; actions, verdicts, rule versions, events, deletions, roles, amounts and the "
    "session rows are not proven"
)


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a walk can resume: a link proven earlier (its number and hash) and, for each sealed
    kind, the last key sealed up to that link (a kind absent: none yet). Keys that are not the
    file's make the walk fail (rows show as unsealed or missing), never pass."""

    link: int
    hash: str
    last_keys: Mapping[str, int]


def verify_session(path: Path, resume: Resume | None = None) -> Verification:
    """Walk every link of the session file's chain beside the rows it seals; stop at the first
    problem. With `resume`, only the links after `resume.link` and the rows they seal: the
    file's link there must carry `resume.hash`, and what came before is taken as proven (the
    archive proves a grown session this way). A file of schema 1 is always walked whole."""
    with SessionFile(path) as session:
        version = session.one(SCHEMA_VERSION_READ)
        if version is None or int(version.value or 0) < 2:
            return _verify_legacy(session)
        return _Walk(session, resume).run()


class _Walk:
    """One pass over the chain in link order, with one cursor per sealed kind in key order:
    the rows of each kind are sealed in key order, so a row missing from the chain or a link
    whose row is gone shows as a gap in the merge."""

    def __init__(self, session: SessionFile, resume: Resume | None = None) -> None:
        self.session, self.resume = session, resume
        self.result = Verification(scheme=2)
        self.cursors: dict[str, Iterator[Any]] = {
            name: (
                session.each(read)
                if resume is None
                else session.each(SEALED_ROWS_AFTER[name], resume.last_keys.get(name, 0))
            )
            for name, read in SEALED_ROWS.items()
        }
        self.heads = {name: next(cursor, None) for name, cursor in self.cursors.items()}
        self.marked = _deletion_times(session)
        self.deletion: Problem | None = None  # the first deletion time the marks do not give

    def run(self) -> Verification:
        result, previous, expected = self.result, GENESIS_HASH, 1
        tally = SessionTally(result, self._session_name)
        links = self.session.each(CHAIN)
        if self.resume is not None:
            resume = self.resume
            start = self.session.one(LINK_AT, resume.link)
            if start is None or start.hash != resume.hash:
                what = f"link {resume.link} is not the link this walk resumes from"
                return self._stop(Problem("chain", what))
            result.head = {"link": resume.link, "hash": resume.hash}
            result.resumed_after = resume.link
            previous, expected = resume.hash, resume.link + 1
            links = self.session.each(CHAIN_AFTER, resume.link)
        for link in links:
            if link.link != expected:
                gone = f"links {expected}–{link.link - 1} of the chain are gone"
                return self._stop(Problem("missing", gone))
            well_formed = (
                link.kind in SEALED_KINDS
                and isinstance(link.ref, int)
                and isinstance(link.digest, str)
                and isinstance(link.hash, str)
            )
            if not well_formed or link_hash(previous, link.digest) != link.hash:
                what = f"link {link.link}'s hash does not follow from the link before"
                return self._stop(Problem("chain", what, None))
            problem = self._check(link)
            if problem:
                return self._stop(problem)
            tally.add(link.kind, link.ref)
            result.head = {"link": link.link, "hash": link.hash}
            previous, expected = link.hash, expected + 1
        for name, row in self.heads.items():
            if row is not None:
                return self._stop(_unsealed(name, row))
        if self.deletion is not None:
            return self._stop(self.deletion)
        return result

    def _stop(self, problem: Problem) -> Verification:
        self.result.problem = problem
        return self.result

    def _session_name(self, key: int) -> str:
        return next((s.name for s in self.session.each(SESSIONS) if s.id == key), "")

    def _check(self, link: Any) -> Problem | None:
        kind = SEALED_KINDS[link.kind]
        row = self.heads[link.kind]
        if row is not None and (not isinstance(row[0], int) or row[0] < link.ref):
            return _unsealed(link.kind, row)
        if row is None or row[0] > link.ref:
            return Problem(
                "missing", f"sealed at link {link.link}, it is gone", link.kind, link.ref
            )
        msg_id = getattr(row, "msg_id", None) if link.kind == "message" else None
        values = tuple(row[: len(kind.columns)])
        if row_digest(kind.name, values) != link.digest:
            moved = self._sealed_elsewhere(kind.name, values)
            if moved is not None:
                detail = f"its content was sealed as {kind.name.replace('_', ' ')} {moved}"
                return Problem("reordered", detail, link.kind, link.ref, msg_id)
            detail = "its stored fields do not match its seal"
            return Problem("altered", detail, link.kind, link.ref, msg_id)
        if link.kind == "message":
            if row.hash != link.hash:
                return Problem(
                    "altered", "its stored hash is not its link's", "message", row[0], msg_id
                )
            if row.deleted_at != self.marked.get(row[0]) and self.deletion is None:
                # told once the marks' own seals are checked: a mark altered is named first
                detail = "its deletion time is not what the sealed deletion marks say"
                self.deletion = Problem("altered", detail, "message", row[0], msg_id)
        self.heads[link.kind] = next(self.cursors[link.kind], None)
        return None

    def _sealed_elsewhere(self, kind: str, values: tuple[Any, ...]) -> int | None:
        """The key another link of this kind sealed these values under (rows moved or
        swapped), or None. Only asked once a row fails, so its cost is paid on failure."""
        for link in self.session.each(LINKS_OF_KIND, kind):
            if row_digest(kind, (link.ref, *values[1:])) == link.digest:
                return int(link.ref)
        return None


def _unsealed(kind: str, row: Any) -> Problem:
    msg_id = getattr(row, "msg_id", None) if kind == "message" else None
    what = "its end" if kind == "session_end" else "it"
    detail = f"{what} is in the file but not in the chain (added after recording)"
    return Problem("unsealed", detail, kind, row[0], msg_id)


def _deletion_times(session: SessionFile) -> dict[int, float]:
    """What the deletion marks say each marked message's `deleted_at` is (their own seals are
    checked in the walk)."""
    times: dict[int, float] = {}
    for mark in session.each(SEALED_ROWS["deletion"]):
        try:
            seqs = json.loads(mark.marked)
        except (TypeError, ValueError):
            continue  # an altered mark: its seal says so when the walk reaches it
        for seq in seqs if isinstance(seqs, list) else ():
            if isinstance(seq, int):
                times.setdefault(seq, mark.ts)
    return times


def _verify_legacy(session: SessionFile) -> Verification:
    """Schema 1: a chain over 9 fields of each message, nothing else."""
    result = Verification(scheme=1)
    counts = {c.key: c.count for c in session.each(MESSAGES_PER_SESSION)}
    result.sessions = [
        SessionSummary(
            s.id, s.name, counts.get(s.id, 0), counts.get(s.id, 0), s.ended_at is not None
        )
        for s in session.each(SESSIONS)
    ]
    rows = session.all(LEGACY_CHAIN)
    previous_hash, previous_seq = GENESIS_HASH, 0
    for index, row in enumerate(rows):
        if row.seq != previous_seq + 1:
            gone = f"messages {previous_seq + 1}–{row.seq - 1} are gone"
            result.problem = Problem("missing", gone, "message", row.seq, row.msg_id)
            return result
        if legacy_hash(previous_hash, row.sealed) != row.hash:
            for later in rows[index + 1 :]:  # the message that belongs here is further down
                if legacy_hash(previous_hash, later.sealed) == later.hash:
                    detail = f"message seq {later.seq} belongs at this place"
                    result.problem = Problem("reordered", detail, "message", row.seq, row.msg_id)
                    return result
            detail = "its stored fields do not match its hash"
            result.problem = Problem("altered", detail, "message", row.seq, row.msg_id)
            return result
        previous_hash, previous_seq = row.hash, row.seq
        result.rows = result.messages = index + 1
        result.head = {"link": row.seq, "hash": row.hash}
    return result


def report(result: Verification, what: str = "session") -> list[str]:
    """What `verify` prints: the verdict, then interrupted sessions, then the scheme's limits.
    Every stored value in it is made inert for the terminal."""
    if result.problem and what == "dossier":
        lines = [f"NOT INTACT: {result.problem}"]
    elif result.problem:
        lines = [f"NOT INTACT after {result.rows:,} good rows: {result.problem}"]
    elif what == "dossier":
        head = result.head or {}
        lines = [
            f"intact: {count(result.messages, 'message')} exported; every file matches the sealed "
            f"rows of a chain of {result.rows:,} checked from its first link to the signed head "
            f"(link {head.get('link')} sha256 {head.get('hash')})"
        ]
    else:
        head = result.head or {}
        lines = [
            f"intact: {count(result.rows, 'sealed row')} ({count(result.messages, 'message')}) "
            f"in this {what}, "
            f"every one matches its seal; chain head link {head.get('link')} "
            f"sha256 {head.get('hash')}"
        ]
        if result.resumed_after:
            after = result.resumed_after
            lines[0] += f" (the links after link {after}; those before: proven earlier)"
    for s in result.interrupted:
        lines.append(
            inert(
                f"interrupted: session {s.id} ({s.name}) has no clean end; "
                f"it holds {count(s.rows, 'sealed row')} ({count(s.messages, 'message')})"
            )
        )
    if result.signer and not result.problem:
        mine = local_public_key() == result.signer
        lines.append(
            f"signed by {inert(result.signer)} (fingerprint {fingerprint(result.signer)}): "
            + (
                "this desk's own key"
                if mine
                else "compare it with the key the agency gave you (--signed-by KEY checks it)"
            )
        )
    if result.scheme == 1:
        lines.append(f"note: {LEGACY_NOTE}")
    return lines
