"""HTTP clients for YouTube and Google's APIs, which tests point at a local fake instead."""

from __future__ import annotations

from typing import Any

import httpx


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


def google_http_blocking(base_url: str | None, timeout_s: float) -> httpx.Client:
    """The same, blocking, for pytchat's own lookups (run in a thread)."""
    transport: httpx.BaseTransport = httpx.HTTPTransport()
    if base_url:
        transport = _SyncRedirect(base_url, transport)
    return httpx.Client(transport=transport, timeout=timeout_s)
