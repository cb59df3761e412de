"""One desk's outbound frames: a queue bounded in bytes, written by its own task.

The hub never writes to a socket itself: it puts a frame in each desk's outbox and goes on.
A desk that reads slowly delays only its own queue; one whose queue passes its limit is
dropped (`put` returns False) before it costs the hub memory. Frames that only say "the
latest is" (the roster, the alerts) replace their waiting predecessor instead of piling up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed


class Outbox:
    def __init__(self, connection: ServerConnection, limit_bytes: int) -> None:
        self.connection, self.limit = connection, limit_bytes
        self.waiting = 0  # bytes queued, not yet handed to the socket
        self._frames: deque[bytes] = deque()
        self._latest: dict[str, bytes] = {}
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._write(), name="hub-outbox")

    def put(self, data: bytes, latest: str | None = None) -> bool:
        """Queue a frame; with `latest`, it replaces the one of that name still waiting.
        False when what was already waiting passes the limit: the desk is that far behind
        (a desk that keeps up has nothing waiting, whatever the size of this frame)."""
        behind = self.waiting
        if latest is not None:
            self.waiting -= len(self._latest.get(latest, b""))
            self._latest[latest] = data
        else:
            self._frames.append(data)
        self.waiting += len(data)
        self._ready.set()
        return behind <= self.limit

    async def _write(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            turn = False  # frames in order and latest values take turns: neither starves
            while True:
                await self._ready.wait()
                if self._latest and (turn or not self._frames):
                    data = self._latest.pop(next(iter(self._latest)))
                elif self._frames:
                    data = self._frames.popleft()
                else:
                    self._ready.clear()
                    continue
                turn = not turn
                self.waiting -= len(data)
                await self.connection.send(data, text=True)  # waits while the socket is full

    async def close(self) -> None:
        """Stop writing; what was queued is dropped."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._frames.clear()
        self._latest.clear()
        self.waiting = 0
