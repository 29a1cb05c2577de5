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
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

from ..errors import PoolTimeout, TotalTimeout
from ._poolstate import PoolState, Waiter, WaitingLine
from .aio_connection import AsyncConnection
from .connection import within
from .models import Limits

__all__ = ["AsyncConnectionPool"]


class _TaskWaiter(Waiter):
    """A task queued for a connection: ``fut`` gets an idle one, or None for a slot to open one."""

    __slots__ = ("fut",)

    def __init__(self, key: Hashable, fut: asyncio.Future[AsyncConnection | None]) -> None:
        super().__init__(key)
        self.fut = fut


def _expire(fut: asyncio.Future[AsyncConnection | None]) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


class AsyncConnectionPool(WaitingLine[AsyncConnection, _TaskWaiter]):
    """Connections keyed by any hashable the client builds (origin, TLS settings, proxy)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits if limits is not None else Limits()
        # Slots, idle lists, expiry, eviction: shared with the sync pool (http/_poolstate.py).
        self._state: PoolState[AsyncConnection] = PoolState(self.limits)
        self._idle = self._state.idle  # the same dict, for the hot path
        self._waiters: deque[_TaskWaiter] = deque()
        self._closed = False
        self.connections_opened = 0
        """How many connections this pool opened over its life."""
        self.requests_reused = 0
        """How many times an idle connection was handed out again."""

    # -- inspection -------------------------------------------------------------------------------

    def idle_count(self, key: Hashable | None = None) -> int:
        return self._state.idle_count(key)

    def open_count(self) -> int:
        """Connections open now, idle or in use (or being opened)."""
        return self._state.total

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
        expiry = self._state.expiry  # PoolState.fresh, inline: this runs on every request
        while idle:
            conn = idle.pop()
            # conn.peer_still_there(), its poll(0) inline once the connection has its poll object.
            poller = conn.poller
            if (
                conn.alive
                and (expiry is None or time.monotonic() - conn.idle_since <= expiry)
                and (conn.peer_still_there() if poller is None else not poller.poll(0))
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
        with self._opening(key):
            conn = await connect()
        self._opened(conn, key)
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
        state = self._state
        if fresh and state.per_host is not None and state.count.get(key, 0) >= state.per_host:
            # A retry needs a new connection but the host is at its limit: give up an idle one.
            idle = self._idle.get(key)
            if not idle:
                return False
            self._drop(key, idle.pop(0))
        return state.reserve(key)

    async def _wait(
        self, key: Hashable, pool_timeout: float | None, deadline: float | None
    ) -> AsyncConnection | None:
        """Queue for ``key``: returns an idle connection handed over, or None for a reserved slot."""
        loop = asyncio.get_running_loop()
        timeout, total = within(pool_timeout, deadline)
        fut: asyncio.Future[AsyncConnection | None] = loop.create_future()
        waiter = _TaskWaiter(key, fut)
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
            self._unqueue(waiter)

    # -- release ----------------------------------------------------------------------------------

    def release(self, conn: AsyncConnection, reusable: bool) -> None:
        """Take ``conn`` back: reuse it if ``reusable`` (and alive), else close it."""
        key = conn.pool_key
        if reusable and conn.alive and not self._closed:
            if not self._waiters:
                # The usual return (nobody waiting): PoolState.put_idle, inline (as the sync pool's).
                idle = self._idle.get(key)
                if idle is None:
                    idle = self._idle[key] = []
                if len(idle) < self._state.max_idle:
                    conn.idle_since = time.monotonic()
                    idle.append(conn)
                    return
            else:
                for waiter in self._waiters:
                    if waiter.key == key and not waiter.fut.done():
                        self._waiters.remove(waiter)
                        waiter.fut.set_result(conn)
                        return
                if self._state.put_idle(key, conn, time.monotonic()):
                    # Someone waits for another key at the total limit: this idle one can go.
                    self._serve_waiters()
                    return
        conn.close()  # not reusable, or max_idle_per_host reached
        self._forget(key)

    def discard(self, conn: AsyncConnection) -> None:
        """Give up ``conn`` mid-exchange (a failure, a cancellation): never reused."""
        conn.finish()
        self.release(conn, False)

    # -- internals --------------------------------------------------------------------------------

    def _exclusion(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()  # one event loop: nothing runs between two awaits

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
                self._state.forget(waiter.key)
            if self._reserve(waiter.key):
                self._waiters.remove(waiter)
                waiter.fut.set_result(None)

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every idle connection; connections in use are closed when they come back."""
        self._closed = True
        for conn in self._state.clear_idle():
            conn.close()
        for waiter in self._waiters:
            if not waiter.fut.done():
                waiter.fut.set_exception(RuntimeError("the connection pool is closed"))
