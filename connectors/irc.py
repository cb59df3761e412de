"""Twitch IRC lines, parsed: IRCv3 tags, prefix, command, parameters. Pure code, no sockets."""

from __future__ import annotations

from dataclasses import dataclass, field

_ESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


class MalformedLine(ValueError):
    """A line that is not IRC; the reader records it and goes on."""


@dataclass(frozen=True, slots=True)
class IrcMessage:
    command: str
    params: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    prefix: str = ""

    @property
    def nick(self) -> str:
        return self.prefix.split("!", 1)[0]

    @property
    def last_param(self) -> str:
        """The last parameter, whatever it is (PING's token)."""
        return self.params[-1] if self.params else ""

    @property
    def text(self) -> str:
        """What follows the target (`#channel` or `*`): a message, a notice, a login. Empty when
        the line has nothing after its target, as a sub notice without a user message: the
        target itself is never the text."""
        return self.params[1] if len(self.params) > 1 else ""


def unescape_tag(value: str) -> str:
    """IRCv3 tag value escapes: \\s space, \\: semicolon, \\\\ backslash, \\r, \\n; any other
    escaped character stands for itself, and a lone trailing backslash is dropped."""
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars, None)
        if escaped is not None:
            out.append(_ESCAPES.get(escaped, escaped))
    return "".join(out)


def parse_tags(raw: str) -> dict[str, str]:
    if "\\" not in raw:
        try:  # Twitch's usual tags (every one with "=", none escaped): split in C, in one go
            return dict([item.split("=", 1) for item in raw.split(";")])
        except ValueError:  # an empty item or a tag without "=": item by item below
            pass
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        tags[key] = unescape_tag(value)
    return tags


def parse_line(line: str) -> IrcMessage:
    """`@tags :prefix COMMAND param param :trailing` → IrcMessage; MalformedLine if not IRC."""
    rest = line.rstrip("\r\n")
    if not rest.strip():
        raise MalformedLine("empty line")
    tags: dict[str, str] = {}
    if rest[0] == "@":
        raw_tags, _, rest = rest.partition(" ")
        tags = parse_tags(raw_tags[1:])  # (the tags alone copied, not the whole line)
    rest = rest.lstrip(" ")
    prefix = ""
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    if not rest:
        raise MalformedLine(f"no command in {line[:80]!r}")
    middle, has_trailing, trailing = rest.partition(" :")
    parts = middle.split()
    if not has_trailing and middle.startswith(":"):  # the whole rest is a trailing parameter
        parts, trailing, has_trailing = [], middle[1:], True
    if not parts:  # only white space other than blanks before the trailing part
        raise MalformedLine(f"no command in {line[:80]!r}")
    command, params = parts[0], parts[1:]
    if not (command.isalpha() or (command.isdigit() and len(command) == 3)):
        raise MalformedLine(f"not an IRC command: {command[:40]!r}")
    if has_trailing:
        params.append(trailing)
    return IrcMessage(command.upper(), tuple(params), tags, prefix)


def split_frame(frame: str) -> list[str]:
    """One WebSocket frame may carry several CRLF-separated lines."""
    return [line for line in frame.split("\r\n") if line]
