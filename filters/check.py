"""`vigile check`: judge a stream of lines, one JSON verdict out per line in, in order."""

from __future__ import annotations

import gc
import json
import os
import re
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from vigile.connectors.model import JUDGED_LENGTH, ChatMessage, Role, Verdict
from vigile.filters.read_ahead import FEWEST, ReadAhead
from vigile.filters.triage import Triage

if TYPE_CHECKING:
    from vigile.filters.hits import Context
    from vigile.filters.rules import RulePack
    from vigile.filters.watch import PackWatcher

_CHUNK = 1 << 16


def lasting_triage(packs: list[RulePack], author: str, origin: str) -> Triage:
    """A Triage for a process that keeps it to the end, as `check` does. What its start loads
    (word tables, a cached rule set: a few hundred thousand objects) is frozen before the
    garbage collector first runs, so that it is never walked (that first pass took 20-40 ms of
    a one-line check); an edit swapped in later unfreezes it, so the replaced rules can go."""
    gc.disable()
    try:
        triage = Triage(packs, author=author, origin=origin)
    finally:
        gc.freeze()
        gc.enable()
    triage.listeners.append(lambda _: gc.unfreeze())
    return triage


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "flagged": verdict.flagged,
        "priority": verdict.priority,
        "action": verdict.action,
        "tags": verdict.tags,
        "matches": [
            {
                "rule": m.rule_id,
                "category": m.category,
                "severity": m.severity,
                "span": list(m.span),
                "how": m.how,
                "term": m.term,
            }
            for m in verdict.matches
        ],
    }


_CLEAN = orjson.dumps(verdict_json(Verdict()))


# orjson escapes C0 controls only: DEL, C1 controls (U+009B is a CSI to many terminals) and
# bidi overrides would reach the terminal raw. Escaped as \uXXXX, a value reads back the same.
_RAW_CONTROLS = re.compile(
    rb"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]"
)


def _escaped(match: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(match.group().decode())


def answer(triage: Triage, line: str) -> bytes:
    """One input line → its JSON answer, serialised."""
    return serialised(check_line(triage, line))


def serialised(result: dict[str, Any] | None) -> bytes:
    """An answer as written out. Most chat is clean: that answer is made once, not per line."""
    if result is None:
        return _CLEAN
    if isinstance(result.get("id"), int) and not _INT64 <= result["id"] < _UINT64:
        text = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
    else:
        text = orjson.dumps(result)
    return _RAW_CONTROLS.sub(_escaped, text)


_INT64, _UINT64 = -(1 << 63), 1 << 64  # what orjson writes; a larger integer id goes by json


def echoed_id(data: dict[str, Any], line: str) -> str | int | None:
    """The line's id exactly as given: a string, or an integer of any size (orjson reads one
    past 64 bits as a float, so such a line is read again by the json module). Anything else
    is refused with ValueError: an id is not a place for structures."""
    ident = data.get("id")
    if isinstance(ident, float):
        ident = json.loads(line).get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int | None):
        raise ValueError('"id" must be a string or an integer')
    return ident


def check_line(triage: Triage, line: str) -> dict[str, Any] | None:
    """One input line (plain text, or a JSON object with a "text" key) → one output object, or
    None for a clean verdict with nothing to echo back."""
    if not line.lstrip().startswith("{"):
        return _found(triage.judge_text(line))
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return {"error": f"malformed JSON: {exc.msg} at column {exc.colno}"}
    return check_object(triage, line, data)


def check_object(
    triage: Triage, line: str, data: Any, context: Context | None = None
) -> dict[str, Any] | None:
    """A JSON line read: `check_line` from there on. A line of text alone (no author, channel,
    role or reply) is judged in `context` when given."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return {"error": 'a JSON line must be an object with a string "text"'}
    try:
        ident = echoed_id(data, line)
        message = chat_message(data)
    except ValueError as exc:
        return {"error": str(exc)}
    verdict = triage.judge(message) if message else triage.judge_text(data["text"], context)
    if "id" not in data:
        return _found(verdict)
    return {**verdict_json(verdict), "id": ident}


def _found(verdict: Verdict) -> dict[str, Any] | None:
    return verdict_json(verdict) if verdict.flagged or verdict.marks else None


_ROLES = {r.value: r for r in Role}
_CONTEXT_KEYS = {"role", "roles", "author", "channel", "reply_to"}


def chat_message(data: dict[str, Any]) -> ChatMessage | None:
    """A JSON line that says who wrote it, where or to whom, as a chat message; None for text
    alone. Roles: broadcaster, moderator, vip, subscriber, verified, or bot."""
    if not _CONTEXT_KEYS & data.keys():
        return None
    roles = data.get("roles", [data["role"]] if "role" in data else [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ValueError('"roles" must be a list of role names')
    unknown = [r for r in roles if r not in _ROLES and r != "bot"]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r} (use {', '.join(_ROLES)} or bot)")
    author, channel = str(data.get("author", "")), str(data.get("channel", ""))
    reply_to = data.get("reply_to")
    return ChatMessage(
        platform="check",
        channel=channel,
        id=str(data.get("id", "")),
        author_id=author,
        author_name=author,
        text=data["text"],
        sent_at=0.0,
        roles=frozenset(_ROLES[r] for r in roles if r in _ROLES),
        reply_to=str(reply_to) if reply_to is not None else None,
        raw={"bot": "bot" in roles},
    )


class Answers:
    """`answer`, remembering the answers to lines of text alone: chat repeats whole lines
    ("gg", emotes, copypasta), and such a line's answer depends only on the rules and on the
    language the chat reads as so far, which is still followed line by line. Lines that say
    who wrote them are judged every time (a name is judged on its first sight)."""

    _LIMIT = 50_000

    def __init__(self, triage: Triage, second_process: bool = False) -> None:
        self._triage = triage
        self._version = triage.version
        self._second_process = second_process
        self._ahead: ReadAhead | None = None
        # a raw line of text alone → the line decoded, and the JSON object it holds (or None)
        self._lines: dict[bytes, tuple[str, dict[str, Any] | None]] = {}
        self._known: dict[tuple[bytes, Context], bytes] = {}

    def __call__(self, raw: bytes) -> bytes:
        if self._triage.version != self._version:  # the packs were edited: answers change
            self._lines.clear()
            self._known.clear()
            self._version = self._triage.version
        read = self._lines.get(raw) or self._read(raw)
        if read is None:
            return answer(self._triage, _decoded(raw))
        line, data = read
        context = self._triage.text_context(data["text"] if data else line)
        found = self._known.get((raw, context))
        if found is None:  # a line not seen yet, or the chat's language has changed since
            found = self._known[raw, context] = serialised(
                check_object(self._triage, line, data, context)
                if data
                else _found(self._triage.judge_text(line, context))
            )
        return found

    def read_ahead(self, raws: list[bytes]) -> None:
        """With a second process, the new texts among these lines are read on both cores
        before they are answered here, in order."""
        if not self._second_process:
            return
        triage = self._triage
        texts: dict[str, None] = {}  # in order, once each
        for raw in raws:
            read = self._lines.get(raw) or self._read(raw)
            if read is None:
                continue
            line, data = read
            judged = (data["text"] if data else line)[:JUDGED_LENGTH]
            if not triage.rules.has_read(judged):
                texts[judged] = None
        if len(texts) < FEWEST:
            return
        if self._ahead is not None and self._ahead.rules is not triage.rules:
            self.close()  # the packs were edited: a copy holding the new rules
        if self._ahead is None:
            self._ahead = ReadAhead(triage.rules)
        self._ahead.read(list(texts))
        if self._ahead.gone:  # read here all along from now on
            self.close()
            self._second_process = False

    def _read(self, raw: bytes) -> tuple[str, dict[str, Any] | None] | None:
        """A line not read before: remembered when it holds text alone."""
        read = _text_alone(_decoded(raw))
        if read is not None:
            if len(self._lines) >= self._LIMIT:
                self._lines.clear()
                self._known.clear()
            self._lines[raw] = read
        return read

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None


def _decoded(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")


def _text_alone(line: str) -> tuple[str, dict[str, Any] | None] | None:
    """A line that holds text alone, as (line, its JSON object or None for plain text); None
    for any other line: malformed, or saying who wrote it, where or to whom."""
    if not line.lstrip().startswith("{"):
        return line, None
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return None
    return None if _CONTEXT_KEYS & data.keys() else (line, data)


def check_stream(
    triage: Triage,
    fd: int,
    out: BinaryIO,
    watcher: PackWatcher | None = None,
    second_process: bool = False,
) -> int:
    """Reads whatever input is available, answers every complete line in it, flushes once per
    read: streaming for a live pipe, and batched for a file. Returns the number of lines.
    With a watcher, pack files edited meanwhile apply from the next read on. With a second
    process, batches with many new texts are read on two cores (filters/read_ahead.py)."""
    pending = b""
    count = 0
    answered = Answers(triage, second_process)
    try:
        while True:
            chunk = os.read(fd, _CHUNK)
            if watcher is not None:
                watcher.check()
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop() if chunk else b""
            if not chunk and lines and lines[-1] == b"":
                lines.pop()  # the input ended with a newline: no extra empty line
            answered.read_ahead(lines)
            answers = list(map(answered, lines))
            if answers:
                out.write(b"\n".join(answers) + b"\n")
                out.flush()
                count += len(answers)
            if not chunk:
                return count
    finally:
        answered.close()
