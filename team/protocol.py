"""The team desk's wire format: JSON objects in WebSocket text frames, one per frame.

Every frame has a "type". What each type must carry is checked here, on both ends, before
anything acts on it: a frame that is not JSON, not an object, of an unknown type, with a
missing or mistyped field, or with a field over its length limit is a `FrameError`, and the
hub closes the connection with its reason (close code 1008, policy violation).

Desk → hub:  hello, rules, claim, release, handled, status, alert
Hub → desk:  welcome, state (pages of claims and handled items after the welcome), rules,
             refused, claimed, released, handled, roster, alerts

Sizes are bounded by design, so every frame the hub sends fits under MAX_FRAME whatever it
holds: rules are at most MAX_RULES_BYTES, keys and texts have length limits, and the claims and
handled items a joining desk needs come in pages of at most PAGE_BYTES.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

CLAIM_TTL_S = 120.0  # a claim nobody acts on goes back to the queue
ROLES = ("moderator", "supervisor")  # what a desk can be
MAX_FRAME = 1 << 20  # 1 MiB: larger frames close with 1009
MAX_RULES_BYTES = 640 << 10  # a 5,000-term rule set is ~150 KB; the welcome carries it whole
PAGE_BYTES = 128 << 10  # one page of claims or handled items for a joining desk
MAX_NAME = 40
MAX_KEY = 256  # twitch:<uuid> is 43 characters, YouTube's ids under 100
MAX_SUMMARY = 200
# Close codes (RFC 6455): 1008 policy violation (bad frame, bad token), 1013 try again later.
POLICY = 1008
TRY_LATER = 1013
# Close reasons after which retrying cannot help: the desk stops and says so.
UNKNOWN_DESK = "unknown desk or token"
REVOKED = "this desk's token was revoked"
FINAL_REASONS = (UNKNOWN_DESK, REVOKED)

# An item's key (`twitch:<id>`): printable ASCII without spaces, quotes or backslashes, so its
# JSON size is its length. An alert's key may hold a hashtag or a term: printable text.
_ITEM_KEY = re.compile(rf"[!#-\[\]-~]{{1,{MAX_KEY}}}")
_KIND = re.compile(r"[a-z][a-z_-]{0,23}")


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
    "state": {"claims": ((list,), True), "handled": ((list,), True)},
    "refused": {"what": (_TEXT, True), "reason": (_TEXT, True), "key": (_TEXT, False)},
    "claimed": {"key": (_TEXT, True), "by": (_TEXT, True), "until": (_NUMBER, True)},
    "released": {"key": (_TEXT, True), "by": (_TEXT, True), "why": (_TEXT, True)},
    "roster": {"members": ((list,), True)},
    "alerts": {"alerts": ((list,), True)},
}
# Text fields a desk sends, with their longest accepted length (the token is checked by digest).
_LONGEST = {"name": MAX_NAME, "token": 200, "kind": 24, "state": 20, "summary": MAX_SUMMARY}
_BIG = 1 << 53  # counts and times beyond this are not a desk's


def encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


def to_wire(frame: dict[str, Any]) -> bytes:
    """UTF-8 JSON, sent as a text frame (`send(data, text=True)`): its length is its size, and
    one encoding serves every desk."""
    return orjson.dumps(frame)


def decode(raw: str | bytes) -> dict[str, Any]:
    """The frame as a dict, checked against its type; FrameError says what is wrong."""
    if isinstance(raw, bytes):
        raise FrameError("binary frames are not accepted: send JSON text")
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # includes nesting past orjson's depth limit
        raise FrameError(f"malformed frame: not JSON ({str(exc)[:80]})") from None
    if not isinstance(frame, dict):
        raise FrameError("malformed frame: a JSON object is expected")
    kind = frame.get("type")
    fields = _FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise FrameError(f"malformed frame: unknown type {ascii(str(kind)[:40])}")
    for name, (types, required) in fields.items():
        if name not in frame:
            if required:
                raise FrameError(f"malformed {kind} frame: {name!r} is missing")
            continue
        value = frame[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise FrameError(f"malformed {kind} frame: {name!r} has the wrong type")
        if isinstance(value, str) and len(value) > _LONGEST.get(name, MAX_FRAME):
            raise FrameError(
                f"malformed {kind} frame: {name!r} is longer than {_LONGEST[name]} characters"
            )
        if isinstance(value, int | float) and not -_BIG < value < _BIG:
            raise FrameError(f"malformed {kind} frame: {name!r} is out of range")
    if kind in ("claim", "release", "handled"):
        check_item_key(kind, frame["key"])
    elif kind == "alert" and not (0 < len(key := frame["key"]) <= MAX_KEY and key.isprintable()):
        raise FrameError(f"malformed {kind} frame: a key is 1 to {MAX_KEY} printable characters")
    if kind == "handled" and not _KIND.fullmatch(frame["kind"]):
        raise FrameError("malformed handled frame: 'kind' is an action name (ban, delete…)")
    return frame


def check_item_key(kind: str, key: str) -> None:
    if not _ITEM_KEY.fullmatch(key):
        raise FrameError(
            f"malformed {kind} frame: a key is 1 to {MAX_KEY} printable ASCII characters "
            "without spaces, quotes or backslashes"
        )


def check_name(name: str) -> str:
    """A desk's name as the others see it: short, printable, not blank."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise FrameError(f"a desk name is 1 to {MAX_NAME} printable characters")
    return name


def packs_payload(packs: list[Any]) -> list[dict[str, str]]:
    """Rule packs as they travel: name, origin and the TOML text (the text is the truth)."""
    return [{"name": p.name, "origin": p.origin, "text": p.text} for p in packs]


def rules_size(packs: list[dict[str, str]]) -> int:
    """The packs' size on the wire, to hold against MAX_RULES_BYTES."""
    return len(orjson.dumps(packs))
