"""The sync pool serves waiting threads first come, first served (as the async pool does)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

import netwire
from tests.servers.faults import FaultServer, Serve, response

pytestmark = pytest.mark.timeout(20)

Start = Callable[..., FaultServer]


def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def _queued(pool: netwire.pool.ConnectionPool, n: int) -> Callable[[], bool]:
    return lambda: pool.waiting_count() == n


def test_a_released_connection_goes_to_the_oldest_waiter_not_a_newcomer(fault_server: Start) -> None:
    srv = fault_server(Serve(response(b"x" * 200_000)))
    limits = netwire.Limits(max_connections=1)
    with netwire.Client(timeout=netwire.Timeout(5.0), limits=limits) as c:
        with c.stream("GET", srv.url("/held")) as held:
            held.read(10)
            waiters = []
            for count, name in enumerate(("first", "second"), 1):
                t = threading.Thread(target=c.get, args=(srv.url("/" + name),))
                waiters.append(t)
                t.start()
                _until(_queued(c.pool, count))
            held.read()  # the connection comes back: it is the first waiter's now
        # A newcomer arriving right after the release queues behind both waiters.
        c.get(srv.url("/newcomer"))
        for t in waiters:
            t.join(5)
    assert [r.target for r in srv.requests] == ["/held", "/first", "/second", "/newcomer"]
    assert srv.connections == 1


def test_a_freed_slot_goes_to_the_oldest_waiter(fault_server: Start) -> None:
    # Not reusable (Connection: close): the slot, not the connection, is handed over.
    srv = fault_server(Serve(response(b"y" * 200_000, headers=[("Connection", "close")])))
    limits = netwire.Limits(max_connections=1)
    with netwire.Client(timeout=netwire.Timeout(5.0), limits=limits) as c:
        with c.stream("GET", srv.url("/held")) as held:
            held.read(10)
            t = threading.Thread(target=lambda: c.get(srv.url("/waiter")))
            t.start()
            _until(lambda: c.pool.waiting_count() == 1)
            held.read()
        c.get(srv.url("/newcomer"))
        t.join(5)
    assert [r.target for r in srv.requests] == ["/held", "/waiter", "/newcomer"]
