"""What the WebSocket fakes share: a server on 127.0.0.1 (a free port), open for an `async with`."""

from __future__ import annotations

from typing import Self

from websockets.asyncio.server import Server, ServerConnection, serve


class LocalWebSocketServer:
    """Hands each connection to `_handle`; `address` is where clients connect."""

    _server: Server | None = None

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"ws://{host}:{port}"

    async def __aenter__(self) -> Self:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        raise NotImplementedError
