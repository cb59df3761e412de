"""Chat text made inert for display (screen, report): no terminal controls, no bidi tricks,
no zalgo towers. Markup is the renderer's job: Rich Text and escaped HTML never parse it."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls and DEL would reach the terminal as escape sequences; bidi embeddings, overrides
# and isolates would reorder the rest of the row. Each becomes one visible replacement character.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MAX_COMBINING = 2  # keeps accents (and Vietnamese stacks); cuts zalgo towers


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␛, ␀…: the Unicode "control pictures"
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def inert(text: str) -> str:
    text = _UNSAFE.sub(_visible, text)
    if not any(unicodedata.combining(c) for c in text):
        return text
    out, run = [], 0
    for char in text:
        run = run + 1 if unicodedata.combining(char) else 0
        if run <= _MAX_COMBINING:
            out.append(char)
    return "".join(out)
