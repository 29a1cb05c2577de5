"""The connection pool: hands out connections per origin, takes them back, bounds their number.

A connection comes back only through ``release(conn, reusable)``, which the response body calls
once it was read to the end (``reusable`` True and the server agreed to keep it alive) or when it
was closed early or failed (``reusable`` False: the connection is closed, never reused dirty).
Idle connections are reused newest first (the one most likely still open), checked for liveness
before reuse, and expire after ``Limits.keepalive_expiry`` seconds. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

from .connection import Connection
from .errors import PoolTimeout, TotalTimeout
from .models import Limits

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """Connections keyed by (origin, TLS settings, proxy): any hashable key the client builds."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits if limits is not None else Limits()
        # Hot paths take the plain lock (a C-level context manager); only waiting for a free
        # slot goes through the Condition, and notify() only runs when someone waits.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._waiting = 0
        self._idle: dict[Hashable, list[Connection]] = {}
        self._count: dict[Hashable, int] = {}  # open connections (idle + in use) per key
        self._total = 0
        self._closed = False
        self.connections_opened = 0
        """How many connections this pool opened over its life (for tests, the demo, the CLI)."""
        self.requests_reused = 0
        """How many times an idle connection was handed out again."""

    # -- inspection -------------------------------------------------------------------------------

    def idle_count(self, key: Hashable | None = None) -> int:
        with self._lock:
            if key is not None:
                return len(self._idle.get(key, ()))
            return sum(len(v) for v in self._idle.values())

    def open_count(self) -> int:
        """Connections open now, idle or in use."""
        with self._lock:
            return self._total

    # -- acquire / release ------------------------------------------------------------------------

    def acquire(
        self,
        key: Hashable,
        connect: Callable[[], Connection],
        *,
        pool_timeout: float | None = None,
        deadline: float | None = None,
        fresh: bool = False,
    ) -> tuple[Connection, bool]:
        """A connection for ``key`` and whether it was reused; ``connect()`` opens a new one.

        ``fresh`` skips idle connections (used to retry on a new connection after a stale one).
        Waits for a free slot up to ``pool_timeout`` (and the total ``deadline``).
        """
        limits = self.limits
        wait_until = None if pool_timeout is None else time.monotonic() + pool_timeout
        total_binds = False
        if deadline is not None and (wait_until is None or deadline < wait_until):
            wait_until, total_binds = deadline, True
        cond = self._cond
        lock = self._lock
        while True:
            candidate: Connection | None = None
            with lock:
                if self._closed:
                    raise RuntimeError("the connection pool is closed")
                idle = self._idle.get(key)
                if idle and not fresh:
                    candidate = idle.pop()
                else:
                    per_host = self._count.get(key, 0)
                    if (limits.max_connections_per_host is None or per_host < limits.max_connections_per_host) and (
                        limits.max_connections is None
                        or self._total < limits.max_connections
                        or self._evict_other_idle(key)
                    ):
                        self._count[key] = per_host + 1
                        self._total += 1
                        break
                    if fresh and idle:
                        # A retry needs a new connection but the host is at its limit: give up an idle one.
                        self._drop(key, idle.pop())
                        continue
                    remaining = None if wait_until is None else wait_until - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        if total_binds:
                            raise TotalTimeout("total deadline passed waiting for a free connection in the pool")
                        raise PoolTimeout(
                            f"no connection to {key!r} became free within the pool timeout of {pool_timeout} s"
                        )
                    self._waiting += 1
                    try:
                        cond.wait(remaining)
                    finally:
                        self._waiting -= 1
                    continue
            # Outside the lock: the liveness check is a syscall.
            expiry = limits.keepalive_expiry
            if (expiry is None or time.monotonic() - candidate.idle_since <= expiry) and candidate.is_alive():
                self.requests_reused += 1
                return candidate, True
            with lock:
                self._drop(key, candidate)
        try:
            conn = connect()
        except BaseException:
            with lock:
                self._forget(key)
            raise
        conn.pool_key = key
        with lock:
            self.connections_opened += 1
        return conn, False

    def release(self, conn: Connection, reusable: bool) -> None:
        """Take back ``conn``: keep it idle if ``reusable``, else close it."""
        key = conn.pool_key
        with self._lock:
            idle = self._idle.get(key)
            if idle is None:
                idle = self._idle[key] = []
            if reusable and not self._closed and len(idle) < self.limits.max_idle_per_host:
                conn.idle_since = time.monotonic()
                idle.append(conn)
                if self._waiting:
                    self._cond.notify()
                return
            self._forget(key)
        conn.close()

    # -- internals (called with the lock held) -----------------------------------------------------

    def _forget(self, key: Hashable) -> None:
        n = self._count.get(key, 0) - 1
        if n > 0:
            self._count[key] = n
        else:
            self._count.pop(key, None)
            if not self._idle.get(key):
                self._idle.pop(key, None)
        self._total -= 1
        if self._waiting:
            self._cond.notify()

    def _drop(self, key: Hashable, conn: Connection) -> None:
        self._forget(key)
        conn.close()

    def _evict_other_idle(self, key: Hashable) -> bool:
        """At the total limit: close the longest-idle connection of another origin to make room."""
        oldest: tuple[float, Hashable] | None = None
        for k, conns in self._idle.items():
            if k != key and conns and (oldest is None or conns[0].idle_since < oldest[0]):
                oldest = (conns[0].idle_since, k)
        if oldest is None:
            return False
        k = oldest[1]
        self._drop(k, self._idle[k].pop(0))
        return True

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every idle connection; connections in use are closed when they come back."""
        with self._lock:
            self._closed = True
            idle = [c for conns in self._idle.values() for c in conns]
            for conns in self._idle.values():
                for _ in conns:
                    self._total -= 1
            for key in list(self._idle):
                n = self._count.get(key, 0) - len(self._idle[key])
                if n > 0:
                    self._count[key] = n
                else:
                    self._count.pop(key, None)
            self._idle.clear()
            self._cond.notify_all()
        for conn in idle:
            conn.close()
