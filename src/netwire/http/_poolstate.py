"""The bookkeeping both connection pools share: slots, idle lists, expiry, eviction.

:class:`PoolState` knows, per key (origin, TLS settings, proxy), how many connections are open
(idle or in use) and which idle ones wait for reuse, and applies the :class:`~netwire.models.Limits`:
``max_connections_per_host``, ``max_connections`` (at the total limit the longest-idle
connection of *another* key is evicted to make room), ``max_idle_per_host`` and
``keepalive_expiry``. It neither waits nor reads: the pools (``pool.py`` with threads and one
lock, ``aio_pool.py`` with futures on one event loop) keep their own waiter queues and call it
under their own exclusion. Its only effect on a connection is ``close()`` when it evicts or
drops one (a plain call in both worlds: a socket close, a transport close).

Both pools drive it, so the limits cannot drift apart between the sync and async clients.
:class:`WaitingLine` is the rest they share: the line of waiters (a thread or a task each, a
:class:`Waiter`), and giving a slot back (to the next in line) when it is freed or when opening
a connection in it failed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Generic, Protocol, TypeVar

from .models import Limits

__all__ = ["PoolState", "Waiter", "WaitingLine"]


class _Pooled(Protocol):
    idle_since: float
    pool_key: Hashable

    def close(self) -> None: ...


C = TypeVar("C", bound=_Pooled)


class PoolState(Generic[C]):
    """Open counts and idle connections per key, within the limits (see the module docstring)."""

    __slots__ = ("count", "expiry", "idle", "max_idle", "max_total", "per_host", "total")

    def __init__(self, limits: Limits) -> None:
        self.idle: dict[Hashable, list[C]] = {}
        """Idle connections per key, oldest first (reuse takes the newest: the likeliest open)."""
        self.count: dict[Hashable, int] = {}
        """Open connections (idle + in use + being opened) per key."""
        self.total = 0
        self.per_host = limits.max_connections_per_host
        self.max_total = limits.max_connections
        self.max_idle = limits.max_idle_per_host
        self.expiry = limits.keepalive_expiry

    def idle_count(self, key: Hashable | None = None) -> int:
        if key is not None:
            return len(self.idle.get(key, ()))
        return sum(len(v) for v in self.idle.values())

    def take_idle(self, key: Hashable) -> C | None:
        """The newest idle connection of ``key`` (taken off the idle list), or None."""
        idle = self.idle.get(key)
        return idle.pop() if idle else None

    def fresh(self, conn: C, now: float) -> bool:
        """Whether an idle ``conn`` is within ``keepalive_expiry`` (its liveness is the pool's check)."""
        return self.expiry is None or now - conn.idle_since <= self.expiry

    def reserve(self, key: Hashable) -> bool:
        """Count a new connection for ``key`` if the limits allow (evicting another key's idle one)."""
        per_host = self.count.get(key, 0)
        if self.per_host is not None and per_host >= self.per_host:
            return False
        if self.max_total is not None and self.total >= self.max_total and not self.evict_other_idle(key):
            return False
        self.count[key] = per_host + 1
        self.total += 1
        return True

    def forget(self, key: Hashable) -> None:
        """One connection of ``key`` is gone (closed, or never opened): free its slot."""
        n = self.count.get(key, 0) - 1
        if n > 0:
            self.count[key] = n
        else:
            self.count.pop(key, None)
            if not self.idle.get(key):
                self.idle.pop(key, None)
        self.total -= 1

    def drop(self, key: Hashable, conn: C) -> None:
        """Close ``conn`` (not on an idle list) and free its slot."""
        self.forget(key)
        conn.close()

    def put_idle(self, key: Hashable, conn: C, now: float) -> bool:
        """Keep a reusable ``conn`` idle; False if ``key`` has ``max_idle_per_host`` already."""
        idle = self.idle.get(key)
        if idle is None:
            idle = self.idle[key] = []
        if len(idle) >= self.max_idle:
            return False
        conn.idle_since = now
        idle.append(conn)
        return True

    def evict_other_idle(self, key: Hashable) -> bool:
        """At the total limit: close the longest-idle connection of another key to make room."""
        oldest: C | None = None
        oldest_key: Hashable = None
        for k, conns in self.idle.items():
            if k != key and conns and (oldest is None or conns[0].idle_since < oldest.idle_since):
                oldest, oldest_key = conns[0], k
        if oldest is None:
            return False
        self.idle[oldest_key].pop(0)
        self.forget(oldest_key)
        oldest.close()
        return True

    def drop_oldest_idle(self, key: Hashable) -> bool:
        """Close the longest-idle connection of ``key`` itself (a retry needs a new connection
        while the key is at its limit); False if it has none."""
        idle = self.idle.get(key)
        if not idle:
            return False
        self.drop(key, idle.pop(0))
        return True

    def clear_idle(self) -> list[C]:
        """Take every idle connection off the books (closing the pool); the caller closes them."""
        taken = []
        for key, conns in list(self.idle.items()):
            for conn in conns:
                taken.append(conn)
                self.count[key] = self.count.get(key, 0) - 1
                self.total -= 1
            if self.count.get(key, 0) <= 0:
                self.count.pop(key, None)
        self.idle.clear()
        return taken


class Waiter:
    """One caller waiting in a pool's line for a connection to ``key`` (or a slot to open one)."""

    __slots__ = ("key",)

    def __init__(self, key: Hashable) -> None:
        self.key = key


W = TypeVar("W", bound=Waiter)


class WaitingLine(Generic[C, W]):
    """Mixed into both pools: their :class:`PoolState` and line of waiters, served first come,
    first served by the pool's own ``_serve_waiters``."""

    _state: PoolState[C]
    _waiters: deque[W]
    connections_opened: int

    def _opened(self, conn: C, key: Hashable) -> None:
        """``conn`` was opened in a slot for ``key`` (guarded by the caller): it is the pool's now."""
        conn.pool_key = key
        self.connections_opened += 1

    def _serve_waiters(self) -> None:
        raise NotImplementedError

    def _exclusion(self) -> AbstractContextManager[object]:
        """What guards the state (the sync pool's lock; nothing on one event loop)."""
        raise NotImplementedError

    def _forget(self, key: Hashable) -> None:
        """A connection to ``key`` is gone (guarded by the caller): its slot goes to the next in line."""
        self._state.forget(key)
        if self._waiters:
            self._serve_waiters()

    def _unqueue(self, waiter: W) -> None:
        """``waiter`` leaves the line (if whoever served it has not taken it off already)."""
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    @contextmanager
    def _opening(self, key: Hashable) -> Iterator[None]:
        """Around opening a connection in a slot reserved for ``key``: if it fails (or is
        cancelled), the slot is given back."""
        try:
            yield
        except BaseException:
            with self._exclusion():
                self._forget(key)
            raise
