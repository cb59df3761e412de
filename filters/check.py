"""`vigile check`: judge a stream of lines, one JSON verdict out per line in, in order."""

from __future__ import annotations

import json
import os
import re
from collections import deque
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from vigile.connectors.model import ChatMessage, Role, Verdict
from vigile.filters.triage import Triage

if TYPE_CHECKING:
    from vigile.filters.watch import PackWatcher

_CHUNK = 1 << 16
# Lines this process judges before it shares the input: the processes it forks then start with
# its memories of chat's tokens and lines instead of each building them again.
_WARM_LINES = 20_000


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
    """One input line → its JSON answer, serialised. Most chat is clean: that answer is made
    once, not per line."""
    result = check_line(triage, line)
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
        verdict = triage.judge_text(line)
        return verdict_json(verdict) if verdict.flagged or verdict.marks else None
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return {"error": f"malformed JSON: {exc.msg} at column {exc.colno}"}
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return {"error": 'a JSON line must be an object with a string "text"'}
    try:
        ident = echoed_id(data, line)
        message = chat_message(data)
    except ValueError as exc:
        return {"error": str(exc)}
    verdict = triage.judge(message) if message else triage.judge_text(data["text"])
    if "id" not in data:
        return verdict_json(verdict) if verdict.flagged or verdict.marks else None
    return {**verdict_json(verdict), "id": ident}


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


def answer_block(triage: Triage, block: bytes) -> bytes:
    """Complete input lines (newline-separated, no trailing newline) → their answers, one
    line each, newline-terminated."""
    answers = [
        answer(triage, raw.decode("utf-8", errors="replace").rstrip("\r"))
        for raw in block.split(b"\n")
    ]
    return b"\n".join(answers) + b"\n"


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_stream(
    triage: Triage,
    fd: int,
    out: BinaryIO,
    watcher: PackWatcher | None = None,
    jobs: int | None = None,
) -> int:
    """Reads whatever input is available, answers every complete line in it, flushes once per
    read: streaming for a live pipe, and batched for a file. Returns the number of lines.
    With a watcher, pack files edited meanwhile apply from the next read on.

    When input arrives faster than one core judges it (reads come back full), the work is
    shared among `jobs` worker processes (default: the usable cores), forked from this one so
    they start with its rules at no cost; answers are written in input order all the same."""
    jobs = usable_cpus() if jobs is None else jobs
    workers = _Workers(triage, jobs) if jobs > 1 and _can_fork() else None
    pending = b""
    count = 0
    try:
        while True:
            chunk = os.read(fd, _CHUNK)
            if watcher is not None and watcher.check() is not None and workers is not None:
                workers.restart(out)  # later lines are judged by the new rules, in order
            block = pending + chunk
            if chunk:
                cut = block.rfind(b"\n")
                block, pending = (block[:cut], block[cut + 1 :]) if cut >= 0 else (b"", block)
            elif block.endswith(b"\n"):
                block = block[:-1]  # the input ended with a newline: no extra empty line
            if block or (not chunk and pending):
                lines = block.count(b"\n") + 1
                busy = len(chunk) == _CHUNK or (workers is not None and workers.in_flight)
                busy = busy and count >= _WARM_LINES  # forked warm: token and line memories
                if workers is not None and busy:
                    workers.submit(block, out)
                else:
                    if workers is not None:
                        workers.drain(out)
                    out.write(answer_block(triage, block))
                    out.flush()
                count += lines
            if not chunk:
                if workers is not None:
                    workers.drain(out)
                return count
    finally:
        if workers is not None:
            workers.close()


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


_worker_triage: Triage | None = None  # set in the parent just before forking: inherited


def _worker_answer(block: bytes) -> bytes:
    assert _worker_triage is not None
    return answer_block(_worker_triage, block)


class _Workers:
    """A pool of forked processes judging blocks of lines, their answers written in order.
    A rules change ends the pool; the next busy read forks a new one from the new rules."""

    _AHEAD = 4  # blocks in flight per worker: enough to keep them busy, little memory

    def __init__(self, triage: Triage, jobs: int) -> None:
        self._triage, self._jobs = triage, jobs
        self._pool: Any = None
        self._results: deque[Any] = deque()

    @property
    def in_flight(self) -> bool:
        return bool(self._results)

    def submit(self, block: bytes, out: BinaryIO) -> None:
        if self._pool is None:
            import multiprocessing

            global _worker_triage
            _worker_triage = self._triage
            self._pool = multiprocessing.get_context("fork").Pool(self._jobs)
        self._results.append(self._pool.apply_async(_worker_answer, (block,)))
        while len(self._results) > self._AHEAD * self._jobs or (
            self._results and self._results[0].ready()
        ):
            self._write_next(out)

    def _write_next(self, out: BinaryIO) -> None:
        out.write(self._results.popleft().get())
        out.flush()

    def drain(self, out: BinaryIO) -> None:
        while self._results:
            self._write_next(out)

    def restart(self, out: BinaryIO) -> None:
        self.drain(out)
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
