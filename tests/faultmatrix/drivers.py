"""One interface over the sync Client and the AsyncClient, so each fault runs against both.

A driver owns its client (and, for async, a private event loop): ``request`` sends and reads
a whole response, ``hold`` opens a streamed response and keeps it unread (to occupy a pool
slot), ``pool_open`` / ``pool_idle`` read the pool's counters.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import netwire

__all__ = ["DRIVERS", "AsyncDriver", "Driver", "SyncDriver"]

HAS_AIO = importlib.util.find_spec("netwire.aio") is not None
DRIVERS = ["sync", "async"] if HAS_AIO else ["sync"]


class Driver:
    """The common face of both drivers."""

    kind = ""

    def request(self, method: str, url: str, **kwargs: Any) -> tuple[int, bytes]:
        raise NotImplementedError

    def hold(self, url: str) -> None:
        """Start a GET and keep its response open and unread until ``close``."""
        raise NotImplementedError

    def pool_open(self) -> int:
        raise NotImplementedError

    def pool_idle(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SyncDriver(Driver):
    kind = "sync"

    def __init__(self, **options: Any) -> None:
        self.client = netwire.Client(**options)
        self._held: list[Any] = []

    def request(self, method: str, url: str, **kwargs: Any) -> tuple[int, bytes]:
        r = self.client.request(method, url, **kwargs)
        return r.status, r.content

    def hold(self, url: str) -> None:
        cm = self.client.stream("GET", url)
        cm.__enter__()
        self._held.append(cm)

    def pool_open(self) -> int:
        return self.client.pool.open_count()

    def pool_idle(self) -> int:
        return self.client.pool.idle_count()

    def close(self) -> None:
        for cm in self._held:
            cm.__exit__(None, None, None)
        self.client.close()


class AsyncDriver(Driver):
    kind = "async"

    def __init__(self, **options: Any) -> None:
        from netwire.aio import AsyncClient

        self.loop = asyncio.new_event_loop()

        async def make() -> Any:
            return AsyncClient(**options)

        self.client = self.loop.run_until_complete(make())
        self._held: list[Any] = []

    def request(self, method: str, url: str, **kwargs: Any) -> tuple[int, bytes]:
        async def go() -> tuple[int, bytes]:
            r = await self.client.request(method, url, **kwargs)
            return r.status, r.content

        return self.loop.run_until_complete(go())

    def hold(self, url: str) -> None:
        async def go() -> None:
            cm = self.client.stream("GET", url)
            await cm.__aenter__()
            self._held.append(cm)

        self.loop.run_until_complete(go())

    def pool_open(self) -> int:
        return int(self.client.pool.open_count())

    def pool_idle(self) -> int:
        return int(self.client.pool.idle_count())

    def close(self) -> None:
        async def go() -> None:
            for cm in self._held:
                await cm.__aexit__(None, None, None)
            await self.client.aclose()

        try:
            self.loop.run_until_complete(go())
            # Let transports finish closing (their sockets close on the next loop turns).
            self.loop.run_until_complete(asyncio.sleep(0.01))
        finally:
            self.loop.close()


def make_driver(kind: str, **options: Any) -> Driver:
    return SyncDriver(**options) if kind == "sync" else AsyncDriver(**options)
