"""The team desk's wire format: JSON objects in WebSocket text frames, one per frame.

Every frame has a "type". What each type must carry is checked here, on both ends, before
anything acts on it: a frame that is not JSON, not an object, of an unknown type or with a
missing or mistyped field is a `FrameError`, and the hub closes the connection with its
reason (close code 1008, policy violation).

Desk → hub:  hello, rules, claim, release, handled, status, alert
Hub → desk:  welcome, rules, refused, claimed, released, handled, roster, alerts
"""

from __future__ import annotations

from typing import Any

import orjson

CLAIM_TTL_S = 120.0  # a claim nobody acts on goes back to the queue

MAX_FRAME = 1 << 20  # 1 MiB: a 5,000-term rule set is ~150 KB; larger frames close with 1009
MAX_NAME = 40
MAX_KEY = 300
# Close codes (RFC 6455): 1008 policy violation (bad frame, bad token), 1013 try again later.
POLICY = 1008


class FrameError(ValueError):
    """A frame this side refuses; the message is the reason sent with the close."""


_TEXT = (str,)
_NUMBER = (int, float)
# type → {field: (accepted types, required)}
_FIELDS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "hello": {
        "name": (_TEXT, True),
        "token": (_TEXT, True),
        "share": ((dict,), False),
    },
    "rules": {
        "packs": ((list,), True),
        "base": ((int,), False),  # desk → hub: the version the edit was made on
        "version": ((int,), False),  # hub → desk
        "author": (_TEXT, False),
        "ts": (_NUMBER, False),
    },
    "claim": {"key": (_TEXT, True)},
    "release": {"key": (_TEXT, True)},
    "handled": {
        "key": (_TEXT, True),
        "kind": (_TEXT, True),
        "by": (_TEXT, False),
        "ts": (_NUMBER, False),
    },
    "status": {
        "queue": ((int,), True),
        "handled": ((int,), True),
        "response_p50_s": ((int, float, type(None)), False),
    },
    "alert": {"key": (_TEXT, True), "state": (_TEXT, True), "summary": (_TEXT, False)},
    "welcome": {"you": (_TEXT, True), "role": (_TEXT, True)},
    "refused": {"what": (_TEXT, True), "reason": (_TEXT, True), "key": (_TEXT, False)},
    "claimed": {"key": (_TEXT, True), "by": (_TEXT, True), "until": (_NUMBER, True)},
    "released": {"key": (_TEXT, True), "by": (_TEXT, True), "why": (_TEXT, True)},
    "roster": {"members": ((list,), True)},
    "alerts": {"alerts": ((list,), True)},
}


def encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


def decode(raw: str | bytes) -> dict[str, Any]:
    """The frame as a dict, checked against its type; FrameError says what is wrong."""
    if isinstance(raw, bytes):
        raise FrameError("binary frames are not accepted: send JSON text")
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"malformed frame: not JSON ({exc})") from None
    if not isinstance(frame, dict):
        raise FrameError("malformed frame: a JSON object is expected")
    kind = frame.get("type")
    fields = _FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise FrameError(f"malformed frame: unknown type {str(kind)[:40]!r}")
    for name, (types, required) in fields.items():
        if name not in frame:
            if required:
                raise FrameError(f"malformed {kind} frame: {name!r} is missing")
            continue
        value = frame[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise FrameError(f"malformed {kind} frame: {name!r} has the wrong type")
    if kind in ("claim", "release", "handled", "alert") and len(frame["key"]) > MAX_KEY:
        raise FrameError(f"malformed {kind} frame: key longer than {MAX_KEY} characters")
    return frame


def check_name(name: str) -> str:
    """A desk's name as the others see it: short, printable, not blank."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise FrameError(f"a desk name is 1 to {MAX_NAME} printable characters")
    return name


def packs_payload(packs: list[Any]) -> list[dict[str, str]]:
    """Rule packs as they travel: name, origin and the TOML text (the text is the truth)."""
    return [{"name": p.name, "origin": p.origin, "text": p.text} for p in packs]
