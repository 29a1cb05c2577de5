"""The connection pool: hands out connections per origin, takes them back, bounds their number.

A connection comes back only through ``release(conn, reusable)``, which the response body calls
once it was read to the end (``reusable`` True and the server agreed to keep it alive) or when it
was closed early or failed (``reusable`` False: the connection is closed, never reused dirty).
Idle connections are reused newest first (the one most likely still open), checked for liveness
before reuse, and expire after ``Limits.keepalive_expiry`` seconds. Threads waiting for a
connection are served first come, first served. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

from ..errors import PoolTimeout, TotalTimeout
from ._poolstate import PoolState, Waiter, WaitingLine
from .connection import HTTP11Connection as Connection
from .models import Limits

__all__ = ["ConnectionPool"]


class _ThreadWaiter(Waiter):
    """A thread queued for a connection: it is handed an idle one (``conn``) or a slot to open one."""

    __slots__ = ("cond", "conn", "fresh", "slot")

    def __init__(self, key: Hashable, fresh: bool, cond: threading.Condition) -> None:
        super().__init__(key)
        self.fresh = fresh
        self.cond = cond  # on the pool's lock: only this waiter is woken
        self.conn: Connection | None = None
        self.slot = False


class ConnectionPool(WaitingLine[Connection, _ThreadWaiter]):
    """Connections keyed by (origin, TLS settings, proxy): any hashable key the client builds.

    Waiting is first come, first served (as :class:`~netwire.aio_pool.AsyncConnectionPool`):
    a released connection, or a freed slot, goes straight to the oldest waiting thread that can
    use it, never to a thread that arrives later, so no request starves under load.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits if limits is not None else Limits()
        # Hot paths take the plain lock (a C-level context manager); only a thread waiting for
        # a free slot makes a Condition (its own, on this lock).
        self._lock = threading.Lock()
        self._waiters: deque[_ThreadWaiter] = deque()
        # Slots, idle lists, expiry, eviction: shared with the async pool (http/_poolstate.py).
        self._state: PoolState[Connection] = PoolState(self.limits)
        self._idle = self._state.idle  # the same dict, for the hot path
        self._closed = False
        self.connections_opened = 0
        """How many connections this pool opened over its life (for tests, the demo, the CLI)."""
        self.requests_reused = 0
        """How many times an idle connection was handed out again."""

    # -- inspection -------------------------------------------------------------------------------

    def idle_count(self, key: Hashable | None = None) -> int:
        with self._lock:
            return self._state.idle_count(key)

    def open_count(self) -> int:
        """Connections open now, idle or in use."""
        with self._lock:
            return self._state.total

    def waiting_count(self) -> int:
        """Threads waiting in line for a connection now."""
        with self._lock:
            return len(self._waiters)

    # -- acquire / release ------------------------------------------------------------------------

    def acquire(
        self,
        key: Hashable,
        connect: Callable[[], Connection],
        pool_timeout: float | None = None,
        deadline: float | None = None,
        fresh: bool = False,
    ) -> tuple[Connection, bool]:
        """A connection for ``key`` and whether it was reused; ``connect()`` opens a new one.

        ``fresh`` skips idle connections (used to retry on a new connection after a stale one).
        Waits in line for a free slot up to ``pool_timeout`` (and the total ``deadline``).
        """
        state = self._state
        lock = self._lock
        timed = False  # wait_until worked out (once, on the first wait: most acquires never wait)
        wait_until: float | None = None
        total_binds = False
        while True:
            candidate: Connection | None = None
            with lock:
                if self._closed:
                    raise RuntimeError("the connection pool is closed")
                if self._waiters:
                    # Earlier waiters come first; what they cannot use (another key's) is ours.
                    self._serve_waiters()
                idle = self._idle.get(key)
                if idle and not fresh:
                    candidate = idle.pop()
                elif state.reserve(key):
                    break
                elif fresh and idle:
                    # A retry needs a new connection but the host is at its limit: give up an idle one.
                    self._drop(key, idle.pop(0))
                    continue
                else:
                    if not timed:
                        timed = True
                        wait_until = None if pool_timeout is None else time.monotonic() + pool_timeout
                        if deadline is not None and (wait_until is None or deadline < wait_until):
                            wait_until, total_binds = deadline, True
                    granted = self._wait(key, fresh, wait_until, total_binds, pool_timeout)
                    if granted is None:
                        break  # a slot was reserved for this thread
                    candidate = granted
            # Outside the lock: the liveness check is a syscall. (PoolState.fresh, inline: one
            # call less on every reuse.)
            expiry = state.expiry
            if (expiry is None or time.monotonic() - candidate.idle_since <= expiry) and candidate.is_alive():
                self.requests_reused += 1
                return candidate, True
            with lock:
                self._drop(key, candidate)
        with self._opening(key):
            conn = connect()
        with lock:
            self._opened(conn, key)
        return conn, False

    def _wait(
        self, key: Hashable, fresh: bool, wait_until: float | None, total_binds: bool, pool_timeout: float | None
    ) -> Connection | None:
        """Queue for ``key`` (lock held): a connection handed over, or None for a reserved slot."""
        waiter = _ThreadWaiter(key, fresh, threading.Condition(self._lock))
        self._waiters.append(waiter)
        try:
            while waiter.conn is None and not waiter.slot:
                if self._closed:
                    raise RuntimeError("the connection pool is closed")
                remaining = None if wait_until is None else wait_until - time.monotonic()
                if remaining is not None and remaining <= 0:
                    if total_binds:
                        raise TotalTimeout("total deadline passed waiting for a free connection in the pool")
                    raise PoolTimeout(f"no connection to {key!r} became free within the pool timeout of {pool_timeout} s")
                waiter.cond.wait(remaining)
        except BaseException:
            # Interrupted (or closed) after something was handed over: it goes to the next in line.
            if waiter.conn is not None:
                if not self._give_back(waiter.conn):
                    self._drop(key, waiter.conn)
            elif waiter.slot:
                self._forget(key)
            raise
        finally:
            self._unqueue(waiter)
        return waiter.conn

    def release(self, conn: Connection, reusable: bool) -> None:
        """Take back ``conn``: hand it to the oldest thread waiting for it, or keep it idle if
        ``reusable``; else close it."""
        with self._lock:
            if reusable and not self._closed:
                if not self._waiters:
                    # The usual return (nobody waiting): PoolState.put_idle, inline.
                    key = conn.pool_key
                    idle = self._idle.get(key)
                    if idle is None:
                        idle = self._idle[key] = []
                    if len(idle) < self._state.max_idle:
                        conn.idle_since = time.monotonic()
                        idle.append(conn)
                        return
                elif self._give_back(conn):
                    return
            self._forget(conn.pool_key)
        conn.close()

    # -- internals (called with the lock held) -----------------------------------------------------

    def _give_back(self, conn: Connection) -> bool:
        """A reusable ``conn`` to the oldest waiter for its key, or to the idle list; False if neither."""
        key = conn.pool_key
        conn.idle_since = time.monotonic()
        if self._waiters:
            for waiter in self._waiters:
                if waiter.key == key and not waiter.fresh and waiter.conn is None and not waiter.slot:
                    self._waiters.remove(waiter)
                    waiter.conn = conn
                    waiter.cond.notify()
                    return True
        if not self._state.put_idle(key, conn, conn.idle_since):
            return False
        if self._waiters:
            self._serve_waiters()  # one waiting for another key at the total limit may evict it
        return True

    def _serve_waiters(self) -> None:
        """Give idle connections and free slots to the oldest waiters that can use them."""
        for waiter in list(self._waiters):
            if waiter.conn is not None or waiter.slot:
                continue
            if self._closed:
                waiter.cond.notify()
                continue
            idle = self._idle.get(waiter.key)
            if idle and not waiter.fresh:
                waiter.conn = idle.pop()
            elif self._state.reserve(waiter.key):
                waiter.slot = True
            else:
                continue
            self._waiters.remove(waiter)
            waiter.cond.notify()

    def _exclusion(self) -> threading.Lock:
        return self._lock

    def _drop(self, key: Hashable, conn: Connection) -> None:
        self._forget(key)
        conn.close()

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every idle connection; connections in use are closed when they come back."""
        with self._lock:
            self._closed = True
            idle = self._state.clear_idle()
            for waiter in self._waiters:
                waiter.cond.notify()
        for conn in idle:
            conn.close()
