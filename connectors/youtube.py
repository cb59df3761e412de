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
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pytchat import config as pytchat_config
from pytchat import exceptions as pytchat_errors
from pytchat import util as pytchat_util
from pytchat.paramgen import liveparam
from pytchat.parser.live import Parser

from vigile.connectors.model import ChatMessage, PlatformEvent, utc_now
from vigile.connectors.sources import SourceState, StatusChange
from vigile.connectors.twitch import Backoff
from vigile.connectors.youtube_items import items_from, video_id

log = logging.getLogger(__name__)

LIVE_CHAT_URL = pytchat_config._sml  # youtubei/v1/live_chat/get_live_chat?key=…
_SEEN_IDS = 5_000  # ids remembered to drop the repeats of a restarted poll
_NO_CHAT = (pytchat_errors.ResponseContextError, pytchat_errors.InvalidVideoIdException)
# A page YouTube sent but that makes no sense: recorded, then the poll restarts.
_MALFORMED = (json.JSONDecodeError, pytchat_errors.ChatParseException, KeyError, TypeError,
              IndexError)  # fmt: skip
_ENDED = (pytchat_errors.NoContents, pytchat_errors.ChatDataFinished, pytchat_errors.NoContinuation)


class VideoUnavailable(RuntimeError):
    """Fatal: the video has no live chat we can read (wrong id, private, deleted)."""


class _Redirect:
    """An httpx transport that sends every request to `base` instead (tests: a local fake)."""

    def __init__(self, base: str, inner: Any) -> None:
        self.base, self.inner = httpx.URL(base), inner

    def _moved(self, request: httpx.Request) -> httpx.Request:
        request.url = request.url.copy_with(
            scheme=self.base.scheme, host=self.base.host, port=self.base.port
        )
        request.headers["Host"] = request.url.netloc.decode()
        return request


class _AsyncRedirect(_Redirect, httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(self._moved(request))

    async def aclose(self) -> None:
        await self.inner.aclose()


class _SyncRedirect(_Redirect, httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(self._moved(request))

    def close(self) -> None:
        self.inner.close()


def google_http(base_url: str | None, timeout_s: float, **options: Any) -> httpx.AsyncClient:
    """A fresh client for YouTube and Google's APIs; with `base_url`, every request goes there."""
    transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport()
    if base_url:
        transport = _AsyncRedirect(base_url, transport)
    return httpx.AsyncClient(transport=transport, timeout=timeout_s, **options)


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
        self.continuation: str | None = None  # the last good one: a restart goes on from here
        self._visitor = ""
        self._seen: OrderedDict[str, None] = OrderedDict()

    # -- clients ------------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        return google_http(self.base_url, self.request_timeout_s, headers=pytchat_config.headers)

    def _channel_id(self) -> str:
        """The video's channel, from its embed page (pytchat's own lookup; blocking)."""
        transport: httpx.BaseTransport = httpx.HTTPTransport()
        if self.base_url:
            transport = _SyncRedirect(self.base_url, transport)
        with httpx.Client(transport=transport, timeout=self.request_timeout_s) as client:
            return pytchat_util.get_channelid(client, self.video)

    # -- the poll -------------------------------------------------------------------------------

    async def stream(self) -> AsyncIterator[ChatMessage | PlatformEvent | StatusChange]:
        gap_started: float | None = None
        parser = Parser(is_replay=False)
        while True:
            yield StatusChange(
                SourceState.RECONNECTING if gap_started else SourceState.CONNECTING, self.name
            )
            try:
                async with self._client() as client:
                    if self.continuation is None:
                        channel = await asyncio.to_thread(self._channel_id)
                        self.continuation = liveparam.getparam(self.video, channel, past_sec=3)
                    first_page = True
                    while True:
                        contents = parser.get_contents(await self._page(client))
                        self._visitor = contents[1] or self._visitor
                        metadata, actions = parser.parse(contents[0])
                        if first_page:
                            if gap_started is not None:
                                yield self._reconnected(gap_started)
                                gap_started = None
                            yield StatusChange(SourceState.LIVE, "")
                            self.backoff.reset()
                            first_page = False
                        for action in actions or ():
                            for item in items_from(action, self.video):
                                if isinstance(item, ChatMessage) and self._repeated(item.id):
                                    continue
                                yield item
                        if not metadata.get("continuation"):
                            raise pytchat_errors.NoContinuation("no continuation")
                        self.continuation = metadata["continuation"]
                        wait = float(metadata.get("timeoutMs", 5000)) / 1000
                        await asyncio.sleep(min(wait, self.longest_wait_s))
            except _ENDED:
                yield StatusChange(SourceState.ENDED, "the live chat has ended")
                return
            except (
                pytchat_errors.ResponseContextError,
                pytchat_errors.InvalidVideoIdException,
            ) as exc:
                message = f"{self.video}: no live chat to read ({exc})"
                yield StatusChange(SourceState.FAILED, message)
                raise VideoUnavailable(message) from exc
            except (httpx.HTTPError, *_MALFORMED) as exc:
                gap_started = gap_started or utc_now()
                delay = self.backoff.next()
                reason = _reason(exc)
                if isinstance(exc, _MALFORMED):
                    yield PlatformEvent("youtube", self.video, "malformed", data={"error": reason})
                log.warning("%s: %s, retrying in %.1f s", self.name, reason, delay)
                yield StatusChange(SourceState.RECONNECTING, reason)
                await asyncio.sleep(delay)

    async def _page(self, client: httpx.AsyncClient) -> dict[str, Any]:
        body = pytchat_util.get_param(self.continuation, dat=self._visitor)
        response = await client.post(LIVE_CHAT_URL, json=body)
        response.raise_for_status()
        page = response.json()
        if not isinstance(page, dict):
            raise pytchat_errors.ChatParseException(f"a page that is not an object: {page!r:.80}")
        return page

    def _repeated(self, message_id: str) -> bool:
        if message_id in self._seen:
            return True
        self._seen[message_id] = None
        if len(self._seen) > _SEEN_IDS:
            self._seen.popitem(last=False)
        return False

    def _reconnected(self, since: float) -> PlatformEvent:
        return PlatformEvent("youtube", self.video, "reconnect",
                             data={"gap_s": round(utc_now() - since, 3)})  # fmt: skip


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"YouTube answered HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TimeoutException):
        return "YouTube did not answer in time"
    return f"{type(exc).__name__}: {exc}"[:300]
