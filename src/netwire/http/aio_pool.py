"""The async connection pool: idle connections per key, per-host and total limits, fair waiting.

``try_acquire(key)`` is the hot path: an idle live connection, or None, with no await and no
allocation. ``acquire`` is the rest: reserve a slot and connect, or queue for one. Waiters are
served first come, first served: a released connection (or a freed slot) goes to the oldest
waiter that can use it, never to a newcomer, so no request starves under load.

``release(conn, reusable)`` takes a connection back: a reusable one goes straight to a waiter
for its key or to the idle list; anything else (a half-read body, an error, a cancelled
request) is closed. A connection is never handed out twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

from ..errors import PoolTimeout, TotalTimeout
from .aio_connection import AsyncConnection
from .models import Limits

__all__ = ["AsyncConnectionPool"]


class _Waiter:
    __slots__ = ("fut", "key")

    def __init__(self, key: Hashable, fut: asyncio.Future[AsyncConnection | None]) -> None:
        self.key = key
        self.fut = fut


def _expire(fut: asyncio.Future[AsyncConnection | None]) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


class AsyncConnectionPool:
    """Connections keyed by any hashable the client builds (origin, TLS settings, proxy)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits if limits is not None else Limits()
        self._idle: dict[Hashable, list[AsyncConnection]] = {}
        self._count: dict[Hashable, int] = {}
        self._total = 0
        self._waiters: deque[_Waiter] = deque()
        self._closed = False
        self.connections_opened = 0
        """How many connections this pool opened over its life."""
        self.requests_reused = 0
        """How many times an idle connection was handed out again."""
        limits = self.limits
        self._per_host = limits.max_connections_per_host
        self._max_total = limits.max_connections
        self._max_idle = limits.max_idle_per_host
        self._expiry = limits.keepalive_expiry

    # -- inspection -------------------------------------------------------------------------------

    def idle_count(self, key: Hashable | None = None) -> int:
        if key is not None:
            return len(self._idle.get(key, ()))
        return sum(len(v) for v in self._idle.values())

    def open_count(self) -> int:
        """Connections open now, idle or in use (or being opened)."""
        return self._total

    def waiting_count(self) -> int:
        return len(self._waiters)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- acquire ------------------------------------------------------------------------------------

    def try_acquire(self, key: Hashable) -> AsyncConnection | None:
        """An idle live connection for ``key`` right now, or None (no waiting, no connecting)."""
        idle = self._idle.get(key)
        if not idle:
            return None
        if self._waiters:
            # Earlier waiters come first; what they cannot use (another key's) is ours.
            self._serve_waiters()
            idle = self._idle.get(key)
            if not idle:
                return None
        expiry = self._expiry
        while idle:
            conn = idle.pop()
            if (
                conn.alive
                and (expiry is None or time.monotonic() - conn.idle_since <= expiry)
                and conn.peer_still_there()
            ):
                self.requests_reused += 1
                return conn
            self._drop(key, conn)
        return None

    async def acquire(
        self,
        key: Hashable,
        connect: Callable[[], Awaitable[AsyncConnection]],
        *,
        pool_timeout: float | None = None,
        deadline: float | None = None,
        fresh: bool = False,
    ) -> tuple[AsyncConnection, bool]:
        """A connection for ``key`` and whether it was reused; ``connect()`` opens a new one.

        ``fresh`` skips idle connections (a retry after a stale one). Waits in line for a slot
        up to ``pool_timeout`` (and the total ``deadline``); raises PoolTimeout / TotalTimeout.
        """
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        if not fresh:
            conn = self.try_acquire(key)
            if conn is not None:
                return conn, True
        if self._waiters:
            self._serve_waiters()
        if not self._reserve(key, fresh):
            got = await self._wait(key, pool_timeout, deadline)
            if got is not None:
                if not fresh:
                    self.requests_reused += 1
                    return got, True
                # A retry wants a new connection: give this one up, keep its slot.
                self._idle_remove(got)
                got.close()
        try:
            conn = await connect()
        except BaseException:
            self._forget(key)
            raise
        conn.pool_key = key
        self.connections_opened += 1
        if self._closed:
            self._forget(key)
            conn.close()
            raise RuntimeError("the connection pool is closed")
        return conn, False

    def _idle_remove(self, conn: AsyncConnection) -> None:
        idle = self._idle.get(conn.pool_key)
        if idle and conn in idle:
            idle.remove(conn)

    def _reserve(self, key: Hashable, fresh: bool = False) -> bool:
        """Count a new connection for ``key`` if the limits allow (evicting idle ones if need be)."""
        per_host = self._count.get(key, 0)
        if self._per_host is not None and per_host >= self._per_host:
            idle = self._idle.get(key)
            if fresh and idle:
                self._drop(key, idle.pop(0))
                per_host -= 1
            else:
                return False
        if self._max_total is not None and self._total >= self._max_total and not self._evict_idle(key):
            return False
        self._count[key] = per_host + 1
        self._total += 1
        return True

    async def _wait(
        self, key: Hashable, pool_timeout: float | None, deadline: float | None
    ) -> AsyncConnection | None:
        """Queue for ``key``: returns an idle connection handed over, or None for a reserved slot."""
        loop = asyncio.get_running_loop()
        timeout, total = pool_timeout, False
        if deadline is not None:
            left = deadline - time.monotonic()
            if timeout is None or left < timeout:
                timeout, total = max(left, 0.0), True
        fut: asyncio.Future[AsyncConnection | None] = loop.create_future()
        waiter = _Waiter(key, fut)
        self._waiters.append(waiter)
        handle = None if timeout is None else loop.call_later(timeout, _expire, fut)
        try:
            return await fut
        except TimeoutError:
            if total:
                raise TotalTimeout("total deadline passed waiting for a free connection in the pool") from None
            raise PoolTimeout(
                f"no connection to {key!r} became free within the pool timeout of {pool_timeout} s"
            ) from None
        except BaseException:
            # Cancelled: whatever was handed over in the meantime goes to the next in line.
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                got = fut.result()
                if got is not None:
                    self.release(got, got.alive)
                else:
                    self._forget(key)
            raise
        finally:
            if handle is not None:
                handle.cancel()
            try:
                self._waiters.remove(waiter)
            except ValueError:
                pass

    # -- release ----------------------------------------------------------------------------------

    def release(self, conn: AsyncConnection, reusable: bool) -> None:
        """Take ``conn`` back: reuse it if ``reusable`` (and alive), else close it."""
        key = conn.pool_key
        if reusable and conn.alive and not self._closed:
            if self._waiters:
                for waiter in self._waiters:
                    if waiter.key == key and not waiter.fut.done():
                        self._waiters.remove(waiter)
                        waiter.fut.set_result(conn)
                        return
            idle = self._idle.get(key)
            if idle is None:
                idle = self._idle[key] = []
            if len(idle) < self._max_idle:
                conn.idle_since = time.monotonic()
                idle.append(conn)
                if self._waiters:
                    # Someone waits for another key at the total limit: this idle one can go.
                    self._serve_waiters()
                return
        conn.close()
        self._forget(key)

    # -- internals --------------------------------------------------------------------------------

    def _forget(self, key: Hashable) -> None:
        n = self._count.get(key, 0) - 1
        if n > 0:
            self._count[key] = n
        else:
            self._count.pop(key, None)
            if not self._idle.get(key):
                self._idle.pop(key, None)
        self._total -= 1
        if self._waiters:
            self._serve_waiters()

    def _drop(self, key: Hashable, conn: AsyncConnection) -> None:
        conn.close()
        self._forget(key)

    def _serve_waiters(self) -> None:
        """Give freed slots to the oldest waiters that can use them."""
        for waiter in list(self._waiters):
            if waiter.fut.done():
                continue
            if self._closed:
                waiter.fut.set_exception(RuntimeError("the connection pool is closed"))
                continue
            idle = self._idle.get(waiter.key)
            if idle:
                conn = idle.pop()
                if conn.alive:
                    self._waiters.remove(waiter)
                    waiter.fut.set_result(conn)
                    continue
                conn.close()
                self._forget_quiet(waiter.key)
            if self._reserve(waiter.key):
                self._waiters.remove(waiter)
                waiter.fut.set_result(None)

    def _forget_quiet(self, key: Hashable) -> None:
        n = self._count.get(key, 0) - 1
        if n > 0:
            self._count[key] = n
        else:
            self._count.pop(key, None)
        self._total -= 1

    def _evict_idle(self, key: Hashable) -> bool:
        """At the total limit: close the longest-idle connection of another key to make room."""
        oldest: AsyncConnection | None = None
        oldest_key: Hashable = None
        for k, conns in self._idle.items():
            if k != key and conns and (oldest is None or conns[0].idle_since < oldest.idle_since):
                oldest, oldest_key = conns[0], k
        if oldest is None:
            return False
        self._idle[oldest_key].pop(0)
        oldest.close()
        self._forget_quiet(oldest_key)
        if not self._idle[oldest_key] and not self._count.get(oldest_key):
            self._idle.pop(oldest_key, None)
        return True

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every idle connection; connections in use are closed when they come back."""
        self._closed = True
        idle = [(k, c) for k, conns in self._idle.items() for c in conns]
        self._idle.clear()
        for key, conn in idle:
            conn.close()
            self._forget_quiet(key)
        for waiter in self._waiters:
            if not waiter.fut.done():
                waiter.fut.set_exception(RuntimeError("the connection pool is closed"))
