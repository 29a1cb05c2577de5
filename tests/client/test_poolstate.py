"""http/_poolstate.py: the slot/idle/expiry/eviction bookkeeping both pools drive (pure, no I/O)."""

from __future__ import annotations

import time
from typing import Any

import pytest

import netwire
from netwire.http._poolstate import PoolState
from netwire.http.aio_pool import AsyncConnectionPool
from netwire.http.connection import within
from netwire.http.pool import ConnectionPool


class Conn:
    def __init__(self, name: str) -> None:
        self.name = name
        self.idle_since = 0.0
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_per_host_and_total_limits_with_eviction_of_the_longest_idle_other_key() -> None:
    state: PoolState[Conn] = PoolState(netwire.Limits(max_connections=2, max_connections_per_host=2))
    assert state.reserve("a") and state.reserve("b")
    assert not state.reserve("a")  # the total is full and nothing is idle to evict
    a, b = Conn("a"), Conn("b")
    assert state.put_idle("b", b, now=5.0) and state.put_idle("a", a, now=1.0)
    # At the total limit, "c" takes the slot of the longest-idle connection of another key: a.
    assert state.reserve("c")
    assert a.closed and not b.closed
    assert state.count == {"b": 1, "c": 1} and state.total == 2 and "a" not in state.idle
    # "b" is at no per-host limit, but the total is full and b's own idle one is not evicted for it.
    assert not state.reserve("b")


def test_idle_reuse_newest_first_expiry_and_max_idle() -> None:
    state: PoolState[Conn] = PoolState(netwire.Limits(max_idle_per_host=2, keepalive_expiry=10.0))
    for _ in range(3):
        state.reserve("k")
    old, new, extra = Conn("old"), Conn("new"), Conn("extra")
    assert state.put_idle("k", old, now=1.0) and state.put_idle("k", new, now=2.0)
    assert not state.put_idle("k", extra, now=3.0)  # max_idle_per_host
    assert state.take_idle("k") is new
    assert state.fresh(old, now=11.0) and not state.fresh(old, now=11.5)
    assert state.drop_oldest_idle("k") and old.closed
    assert state.idle_count() == 0 and state.total == 2


def test_clear_idle_frees_the_slots_of_idle_connections_only() -> None:
    state: PoolState[Conn] = PoolState(netwire.Limits())
    state.reserve("k")
    state.reserve("k")
    state.put_idle("k", Conn("x"), now=0.0)
    assert [c.name for c in state.clear_idle()] == ["x"]
    assert state.count == {"k": 1} and state.total == 1  # the one in use stays counted


def test_both_pools_drive_the_one_state() -> None:
    limits = netwire.Limits(max_connections=7)
    for pool in (ConnectionPool(limits), AsyncConnectionPool(limits)):
        state = pool._state
        assert isinstance(state, PoolState) and state.max_total == 7
        assert pool._idle is state.idle


def test_within_takes_the_sooner_of_the_timeout_and_the_total_deadline() -> None:
    # http/connection.py: within, the one clamp both connections and the async pool use.
    assert within(5.0, None) == (5.0, False)
    assert within(None, None) == (None, False)
    now = time.monotonic()
    timeout, binds = within(None, now + 100.0)
    assert binds and 99.0 < timeout <= 100.0  # type: ignore[operator]
    assert within(1.0, now + 100.0) == (1.0, False)
    timeout, binds = within(50.0, now + 2.0)
    assert binds and 0.0 < timeout <= 2.0  # type: ignore[operator]
    assert within(5.0, now - 1.0) == (0.0, True)  # past: never negative


def test_a_failed_connect_gives_its_slot_back() -> None:
    # http/_poolstate.py: WaitingLine._opening, shared by both pools.
    pool = ConnectionPool(netwire.Limits(max_connections=1))

    def refuse() -> Any:
        raise OSError("refused")

    with pytest.raises(OSError):
        pool.acquire("k", refuse)
    assert pool.open_count() == 0  # the slot came back
