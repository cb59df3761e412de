"""What the HTTP fakes share: an aiohttp app served on 127.0.0.1 on a free port, as an async
context manager. A fake says which routes it answers in `routes(app)`."""

from __future__ import annotations

from typing import Self

from aiohttp import web


class LocalHttpServer:
    _runner: web.AppRunner | None = None
    _url: str = ""

    @property
    def url(self) -> str:
        return self._url

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
