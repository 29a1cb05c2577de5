"""One driver over the sync Client and the AsyncClient (on asyncio or uvloop), so one scenario
suite checks every client: no copied tests.

A driver owns its client (and, for async, an event loop of its own in a helper thread) and
offers the sync client's calling convention:

* ``request`` / ``get``: send and read a whole response (a ``netwire.Response``);
  ``fetch``: the same, as ``(status, body)``;
* ``stream_chunks``: a streamed response and the chunks it yielded;
* ``hold``: open a streamed GET and keep it unread until ``close`` (occupies a pool slot);
* ``open_count`` / ``pool_open`` / ``pool_idle``: the pool's counters;
* ``run`` (async only): run a coroutine on the driver's loop.

:func:`make_driver` builds one; the ``face`` fixture (root conftest) parametrises tests over
``KINDS``, the fault matrix over ``sync`` and ``async``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import netwire

__all__ = ["KINDS", "AsyncDriver", "Driver", "SyncDriver", "make_driver"]

T = TypeVar("T")

KINDS = ["sync", "async", "uvloop"]
"""``sync``: netwire.Client; ``async``: AsyncClient on asyncio; ``uvloop``: AsyncClient on uvloop."""


class SyncDriver:
    """netwire.Client behind the driver's calling convention."""

    kind = "sync"

    def __init__(self, **options: Any) -> None:
        self.client = netwire.Client(**options)
        self._held: list[Any] = []

    def request(self, method: str, url: str, **kwargs: Any) -> netwire.Response:
        return self.client.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> netwire.Response:
        return self.request("GET", url, **kwargs)

    def fetch(self, method: str, url: str, **kwargs: Any) -> tuple[int, bytes]:
        r = self.request(method, url, **kwargs)
        return r.status, r.content

    def stream_chunks(
        self, method: str, url: str, chunk_size: int | None = None, **kwargs: Any
    ) -> tuple[Any, list[bytes]]:
        with self.client.stream(method, url, **kwargs) as r:
            return r, list(r.iter_bytes(chunk_size))

    def hold(self, url: str) -> None:
        cm = self.client.stream("GET", url)
        cm.__enter__()
        self._held.append(cm)

    def open_count(self) -> int:
        return self.client.pool.open_count()

    pool_open = open_count

    def pool_idle(self) -> int:
        return self.client.pool.idle_count()

    def close(self) -> None:
        for cm in self._held:
            cm.__exit__(None, None, None)
        self.client.close()


class AsyncDriver:
    """AsyncClient on an event loop of its own (asyncio or uvloop) in a helper thread."""

    def __init__(self, kind: str = "async", **options: Any) -> None:
        from netwire.http.aio import AsyncClient

        self.kind = kind
        if kind == "uvloop":
            import uvloop

            self.loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        else:
            self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = AsyncClient(**options)
        self._held: list[Any] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def request(self, method: str, url: str, **kwargs: Any) -> netwire.Response:
        return self.run(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> netwire.Response:
        return self.request("GET", url, **kwargs)

    def fetch(self, method: str, url: str, **kwargs: Any) -> tuple[int, bytes]:
        r = self.request(method, url, **kwargs)
        return r.status, r.content

    def stream_chunks(
        self, method: str, url: str, chunk_size: int | None = None, **kwargs: Any
    ) -> tuple[Any, list[bytes]]:
        async def go() -> tuple[Any, list[bytes]]:
            async with self.client.stream(method, url, **kwargs) as r:
                return r, [c async for c in r.aiter_bytes(chunk_size)]

        return self.run(go())

    def hold(self, url: str) -> None:
        async def go() -> None:
            cm = self.client.stream("GET", url)
            await cm.__aenter__()
            self._held.append(cm)

        self.run(go())

    def open_count(self) -> int:
        async def count() -> int:
            return int(self.client.pool.open_count())

        return self.run(count())

    pool_open = open_count

    def pool_idle(self) -> int:
        async def count() -> int:
            return int(self.client.pool.idle_count())

        return self.run(count())

    def close(self) -> None:
        async def go() -> None:
            for cm in self._held:
                await cm.__aexit__(None, None, None)
            await self.client.aclose()
            # Let transports finish closing (their sockets close on the next loop turns).
            await asyncio.sleep(0.01)

        try:
            self.run(go())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


Driver = SyncDriver | AsyncDriver


def make_driver(kind: str, **options: Any) -> Driver:
    """A driver of ``kind`` (one of :data:`KINDS`) with these client options."""
    return SyncDriver(**options) if kind == "sync" else AsyncDriver(kind, **options)
