"""YouTube live chat's poll, sans I/O: pages in; items and the next poll out (pytchat's pieces)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pytchat import exceptions as pytchat_errors
from pytchat import util as pytchat_util
from pytchat.paramgen import liveparam
from pytchat.parser.live import Parser

from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.youtube_items import items_from

_NO_CHAT = (pytchat_errors.ResponseContextError, pytchat_errors.InvalidVideoIdException)
# A page YouTube sent but that makes no sense: recorded, then the poll restarts.
_MALFORMED = (
    json.JSONDecodeError,
    pytchat_errors.ChatParseException,
    KeyError,
    TypeError,
    IndexError,
)
_ENDED = (pytchat_errors.NoContents, pytchat_errors.ChatDataFinished, pytchat_errors.NoContinuation)


@dataclass(frozen=True, slots=True)
class Page:
    """A good page: its items, and how long to wait before the next poll (None: the chat has
    ended with this page)."""

    items: list[ChatMessage | PlatformEvent] = field(default_factory=list)
    wait_s: float | None = None


@dataclass(frozen=True, slots=True)
class Ended:
    """YouTube says the live chat is over."""


@dataclass(frozen=True, slots=True)
class NoChat:
    """Fatal: the video has no live chat to read (wrong id, private, deleted)."""

    reason: str


@dataclass(frozen=True, slots=True)
class BadPage:
    """A page that makes no sense: recorded, and the poll restarts from the last good one."""

    reason: str


Outcome = Page | Ended | NoChat | BadPage


def fault(exc: Exception) -> Ended | NoChat | BadPage | None:
    """What an error of pytchat's pieces (or of the JSON) means for the poll; None if none."""
    if isinstance(exc, _ENDED):
        return Ended()
    if isinstance(exc, _NO_CHAT):
        return NoChat(str(exc))
    if isinstance(exc, _MALFORMED):
        return BadPage(f"{type(exc).__name__}: {exc}"[:300])
    return None


class LiveChatSession:
    """One video's chat. The continuation is the last good one, so that a poll restarted after
    an error or a stall goes on from where it was, never from the start."""

    def __init__(self, video: str, longest_wait_s: float = 5.0) -> None:
        self.video = video
        self.longest_wait_s = longest_wait_s
        self.continuation: str | None = None
        self._visitor = ""
        self._parser = Parser(is_replay=False)

    @property
    def started(self) -> bool:
        return self.continuation is not None

    def start(self, channel_id: str) -> None:
        """The first continuation, built from the video and its channel."""
        self.continuation = liveparam.getparam(self.video, channel_id, past_sec=3)

    def request(self) -> dict[str, Any]:
        """The body of the next poll."""
        return pytchat_util.get_param(self.continuation, dat=self._visitor)

    def receive(self, body: bytes | str) -> Outcome:
        """One answer of the live-chat endpoint, as sent."""
        try:
            return self._page(json.loads(body))
        except Exception as exc:
            outcome = fault(exc)
            if outcome is None:
                raise
            return outcome

    def _page(self, page: Any) -> Page:
        if not isinstance(page, dict):
            raise pytchat_errors.ChatParseException(f"a page that is not an object: {page!r:.80}")
        contents = self._parser.get_contents(page)
        self._visitor = contents[1] or self._visitor
        metadata, actions = self._parser.parse(contents[0])
        items = [item for action in actions or () for item in items_from(action, self.video)]
        if not metadata.get("continuation"):
            return Page(items, None)
        self.continuation = metadata["continuation"]
        wait = float(metadata.get("timeoutMs", 5000)) / 1000
        return Page(items, min(wait, self.longest_wait_s))
