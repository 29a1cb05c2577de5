"""The pool's bounds as the Client user sees them: waiting for a slot, expiry, idle limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

import netwire
from netwire.errors import PoolTimeout, TimeoutException, TotalTimeout
from tests.servers.faults import FaultServer, Serve, response

pytestmark = pytest.mark.timeout(15)

Start = Callable[..., FaultServer]
BIG = response(b"b" * 200_000)


def test_pool_timeout_when_the_only_connection_is_busy(fault_server: Start) -> None:
    srv = fault_server(Serve(BIG))
    limits = netwire.Limits(max_connections_per_host=1)
    with netwire.Client(timeout=netwire.Timeout(3.0, pool=0.2), limits=limits) as c:
        with c.stream("GET", srv.url("/held")) as held:
            assert held.read(10) == b"b" * 10
            started = time.monotonic()
            with pytest.raises(PoolTimeout) as info:
                c.get(srv.url("/waits"))
            assert 0.15 <= time.monotonic() - started < 1.0
            assert isinstance(info.value, TimeoutException)
            held.read()  # read to the end: the connection goes back
        assert c.get(srv.url("/now")).status == 200
        assert srv.connections == 1


def test_waiter_gets_the_connection_when_it_is_released(fault_server: Start) -> None:
    srv = fault_server(Serve(BIG))
    limits = netwire.Limits(max_connections_per_host=1)
    with netwire.Client(timeout=netwire.Timeout(3.0, pool=2.0), limits=limits) as c:
        results: list[int] = []
        with c.stream("GET", srv.url("/held")) as held:
            t = threading.Thread(target=lambda: results.append(len(c.get(srv.url("/waiter")).content)))
            t.start()
            time.sleep(0.2)
            assert results == []  # still waiting for the slot
            held.read()
        t.join(5)
        assert results == [200_000]
        assert srv.connections == 1


def test_max_connections_across_origins(fault_server: Start) -> None:
    a, b = fault_server(Serve(BIG)), fault_server(Serve(BIG))
    limits = netwire.Limits(max_connections=1)
    with netwire.Client(timeout=netwire.Timeout(3.0, pool=0.2), limits=limits) as c:
        with c.stream("GET", a.url("/")) as held:
            held.read(1)
            with pytest.raises(PoolTimeout):
                c.get(b.url("/"))
        # The idle connection to a is given up to make room for b.
        assert c.get(b.url("/")).status == 200
        assert c.pool.open_count() == 1


def test_idle_connections_expire(fault_server: Start) -> None:
    srv = fault_server(Serve(response(b"ok")))
    with netwire.Client(timeout=3, limits=netwire.Limits(keepalive_expiry=0.1)) as c:
        c.get(srv.url("/"))
        c.get(srv.url("/"))
        assert srv.connections == 1
        time.sleep(0.25)
        c.get(srv.url("/"))
        assert srv.connections == 2
        assert c.pool.open_count() == 1


def test_max_idle_per_host(fault_server: Start) -> None:
    srv = fault_server(Serve(BIG))  # big enough that a stream holds its connection until read
    with netwire.Client(timeout=3, limits=netwire.Limits(max_idle_per_host=1)) as c:
        with c.stream("GET", srv.url("/1")) as r1, c.stream("GET", srv.url("/2")) as r2:
            r1.read()
            r2.read()
        assert srv.connections == 2
        assert c.pool.idle_count() == 1 and c.pool.open_count() == 1


def test_closing_the_client_closes_idle_connections(fault_server: Start) -> None:
    srv = fault_server(Serve(response(b"ok")))
    c = netwire.Client(timeout=3)
    c.get(srv.url("/"))
    assert c.pool.idle_count() == 1
    c.close()
    assert c.pool.idle_count() == 0 and c.pool.open_count() == 0
    assert srv.wait_idle(2)  # the server saw the close and finished its script
    with pytest.raises(RuntimeError):
        c.get(srv.url("/"))


def test_ipv6_loopback(fault_server: Start) -> None:
    try:
        srv = FaultServer(Serve(response(b"six")), host="::1")
    except OSError:
        pytest.fail("IPv6 loopback (::1) is not available on this machine")
    try:
        with netwire.Client(timeout=3) as c:
            assert c.get(srv.url("/")).content == b"six"
            assert c.get(srv.url("/")).content == b"six"
        assert srv.connections == 1
        assert srv.requests[0].header("host") == f"[::1]:{srv.port}"
    finally:
        srv.stop()


def test_total_deadline_binds_while_waiting_for_the_pool(fault_server: Start) -> None:
    srv = fault_server(Serve(BIG))
    limits = netwire.Limits(max_connections_per_host=1)
    timeout = netwire.Timeout(3.0, pool=5.0, total=0.3)
    with (
        netwire.Client(timeout=timeout, limits=limits) as c,
        c.stream("GET", srv.url("/held"), timeout=3.0) as held,
    ):
        held.read(1)
        started = time.monotonic()
        with pytest.raises(TotalTimeout):
            c.get(srv.url("/waits"))
        assert time.monotonic() - started < 1.5


def test_stale_connection_retry_also_for_streams(fault_server: Start) -> None:
    from tests.servers.faults import Close, ReadRequest, Send

    srv = fault_server(
        [[ReadRequest(), Send(response(b"first")), ReadRequest(), Close()], [Serve(response(b"second"))]]
    )
    with netwire.Client(timeout=3) as c:
        c.get(srv.url("/1"))
        with c.stream("GET", srv.url("/2")) as r:
            assert r.read() == b"second"
        assert srv.connections == 2
