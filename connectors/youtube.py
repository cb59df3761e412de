"""YouTube live chat read directly from YouTube's own live-chat endpoint, with pytchat's pieces.

pytchat supplies the protocol: the first continuation (built from the video and its channel,
found on the embed page), the request body, the page parser and the endpoint. The poll loop is
ours, so that it can be what a desk needs and pytchat's LiveChat objects are not: asyncio
without threads or signal handlers (pytchat's Ctrl-C handler would steal Textual's), a fresh
httpx client per connection (an async client cannot be reopened), a timeout on every request
(pytchat's poll is reported to die silently after about an hour), and a restart from the last
good continuation with backoff when YouTube errors or stalls, every gap recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from pytchat import config as pytchat_config
from pytchat import util as pytchat_util

from vigile.connectors.connection import LIVE, Backoff, ConnectionLoop, Fatal, Live, Retry
from vigile.connectors.google_http import google_http, google_http_blocking
from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.sources import SourceState, StatusChange
from vigile.connectors.youtube_items import video_id
from vigile.connectors.youtube_session import BadPage, Ended, LiveChatSession, NoChat, fault

LIVE_CHAT_URL = pytchat_config._sml  # youtubei/v1/live_chat/get_live_chat?key=…
CHAT_ENDED = "the live chat has ended"


class VideoUnavailable(RuntimeError):
    """Fatal: the video has no live chat we can read (wrong id, private, deleted)."""


class MalformedPage(RuntimeError):
    """A page that makes no sense: the poll restarts from the last good continuation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class YouTubeSource:
    """One video's live chat. Yields ChatMessage and PlatformEvent values, and StatusChange
    values the hub shows as the source's state."""

    def __init__(
        self,
        spec: str,
        base_url: str | None = None,
        request_timeout_s: float = 20.0,
        longest_wait_s: float = 5.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.video = video_id(spec)
        self.name = f"youtube:{self.video}"
        self.base_url = base_url
        self.request_timeout_s = request_timeout_s
        self.longest_wait_s = longest_wait_s
        self.backoff = backoff or Backoff()
        self.session = LiveChatSession(self.video, longest_wait_s)
        self.loop = ConnectionLoop(
            platform="youtube",
            channel=self.video,
            name=self.name,
            where=self.name,
            classify=self._classify,
            backoff=self.backoff,
        )

    def stream(self) -> AsyncIterator[ChatMessage | PlatformEvent | StatusChange]:
        return self.loop.run(self._connection)

    def _classify(self, exc: Exception) -> Retry | Fatal | None:
        """No chat is fatal; an HTTP error, a timeout or a page that makes no sense is retried."""
        if isinstance(exc, VideoUnavailable):
            return Fatal(exc)
        if isinstance(exc, MalformedPage):
            event = PlatformEvent("youtube", self.video, "malformed", data={"error": exc.reason})
            return Retry(exc.reason, event)
        if isinstance(exc, httpx.HTTPError):
            return Retry(_reason(exc))
        return None

    # -- the poll -------------------------------------------------------------------------------

    async def _connection(self) -> AsyncIterator[ChatMessage | PlatformEvent | StatusChange | Live]:
        """Polls on one fresh client (an async client cannot be reopened) until the chat ends;
        an HTTP error, a timeout or a page that makes no sense raises, and the loop restarts."""
        async with self._client() as client:
            if not self.session.started:
                self.session.start(await self._channel_id())
            first_page = True
            while True:
                response = await client.post(LIVE_CHAT_URL, json=self.session.request())
                response.raise_for_status()
                page = self.session.receive(response.content)
                if isinstance(page, Ended):
                    yield StatusChange(SourceState.ENDED, CHAT_ENDED)
                    return
                if isinstance(page, NoChat | BadPage):
                    raise self._failure(page)
                if first_page:
                    yield LIVE
                    first_page = False
                for item in page.items:
                    yield item
                if page.wait_s is None:
                    yield StatusChange(SourceState.ENDED, CHAT_ENDED)
                    return
                await asyncio.sleep(page.wait_s)

    def _client(self) -> httpx.AsyncClient:
        return google_http(self.base_url, self.request_timeout_s, headers=pytchat_config.headers)

    async def _channel_id(self) -> str:
        """The video's channel, from its embed page (pytchat's own lookup, blocking)."""

        def lookup() -> str:
            with google_http_blocking(self.base_url, self.request_timeout_s) as client:
                return pytchat_util.get_channelid(client, self.video)

        try:
            return await asyncio.to_thread(lookup)
        except Exception as exc:
            outcome = fault(exc)
            if isinstance(outcome, NoChat | BadPage):
                raise self._failure(outcome) from exc
            raise

    def _failure(self, outcome: NoChat | BadPage) -> Exception:
        if isinstance(outcome, NoChat):
            return VideoUnavailable(f"{self.video}: no live chat to read ({outcome.reason})")
        return MalformedPage(outcome.reason)


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"YouTube answered HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TimeoutException):
        return "YouTube did not answer in time"
    return f"{type(exc).__name__}: {exc}"[:300]
