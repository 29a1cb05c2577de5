"""What only the async client has: cancellation in every phase, the async pool, back-pressure,
no leaks over 10,000 requests, ``map`` and ``fetch_all``. Each runs on asyncio and on uvloop."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

import netwire
from netwire.errors import ConnectTimeout, PoolTimeout, TLSError
from netwire.http.aio import AsyncClient
from netwire.http.aio_connection import HIGH_WATER
from netwire.http.fetch import fetch_all
from tests.servers.faults import ReadRequest, Send, Serve, Sleep, response

pytestmark = pytest.mark.timeout(60)

T = TypeVar("T")


def sockets_to(port: int) -> int:
    """How many of this process's file descriptors are TCP sockets connected to ``port``.

    The fault servers run in this process too: counting all descriptors would count their
    side of each connection. /proc/net/tcp maps socket inodes to addresses.
    """
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if int(fields[2].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except FileNotFoundError:
            pass
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            n += 1
    return n


def run_on(loop_kind: str, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh loop of ``loop_kind``."""
    if loop_kind == "uvloop":
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts TCP (in the backlog) and never says a word: TLS hangs there."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


async def _settle(port: int) -> None:
    """Wait (briefly) for closed transports to release their sockets: uvloop does it a few passes later."""
    for _ in range(50):
        if sockets_to(port) == 0:
            return
        await asyncio.sleep(0.01)
    assert sockets_to(port) == 0


def _assert_clean(client: AsyncClient) -> None:
    assert client.pool.open_count() == 0
    assert client.pool.idle_count() == 0
    assert client.pool.waiting_count() == 0


# -- cancellation in every phase ----------------------------------------------------------------------------


def test_cancel_while_connecting(loop_kind: str, silent_listener: int) -> None:
    async def main() -> None:
        async with AsyncClient(verify=False) as client:
            task = asyncio.ensure_future(client.get(f"https://127.0.0.1:{silent_listener}/"))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            _assert_clean(client)
        await _settle(silent_listener)

    run_on(loop_kind, main())


def test_connect_timeout_covers_tls(loop_kind: str, silent_listener: int) -> None:
    async def main() -> None:
        async with AsyncClient(verify=False, timeout=netwire.Timeout(5.0, connect=0.3)) as client:
            with pytest.raises(ConnectTimeout):
                await client.get(f"https://127.0.0.1:{silent_listener}/")
            _assert_clean(client)

    run_on(loop_kind, main())


def test_cancel_while_waiting_for_the_head(loop_kind: str, fault_server: Any) -> None:
    srv = fault_server([ReadRequest(), Sleep(3)])

    async def main() -> None:
        async with AsyncClient() as client:
            task = asyncio.ensure_future(client.get(srv.url("/")))
            await asyncio.sleep(0.3)
            assert client.pool.open_count() == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            _assert_clean(client)
        await _settle(srv.port)

    run_on(loop_kind, main())


def test_cancel_while_reading_the_body(loop_kind: str, fault_server: Any) -> None:
    full = response(b"b" * 10_000)
    srv = fault_server([ReadRequest(), Send(full[:-5000]), Sleep(3)])

    async def main() -> None:
        async with AsyncClient() as client:
            got: list[bytes] = []

            async def reader() -> None:
                async with client.stream("GET", srv.url("/")) as r:
                    async for chunk in r.aiter_bytes():
                        got.append(chunk)

            task = asyncio.ensure_future(reader())
            await asyncio.sleep(0.3)
            assert got and client.pool.open_count() == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            _assert_clean(client)
            # A cancelled non-streamed request mid-body: the same.
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await client.get(srv.url("/again"))
            _assert_clean(client)
        await _settle(srv.port)

    run_on(loop_kind, main())


def test_cancel_while_waiting_for_the_pool(loop_kind: str, fault_server: Any) -> None:
    srv = fault_server([Serve(response(b"x" * 100))])

    async def main() -> None:
        limits = netwire.Limits(max_connections=1)
        async with AsyncClient(limits=limits) as client:
            async with client.stream("GET", srv.url("/a")) as held:
                waiter = asyncio.ensure_future(client.get(srv.url("/b")))
                await asyncio.sleep(0.1)
                assert client.pool.waiting_count() == 1
                waiter.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await waiter
                assert client.pool.waiting_count() == 0
                await held.aread()
            r = await client.get(srv.url("/c"))
            assert r.content == b"x" * 100 and r.extensions["connection_reused"]
            assert client.pool.connections_opened == 1

    run_on(loop_kind, main())


# -- the pool -----------------------------------------------------------------------------------------------


def test_pool_timeout(loop_kind: str, fault_server: Any) -> None:
    srv = fault_server([Serve(response(b"y"))])

    async def main() -> None:
        async with AsyncClient(limits=netwire.Limits(max_connections=1), timeout=netwire.Timeout(5.0, pool=0.2)) as client:
            async with client.stream("GET", srv.url("/")):
                started = time.monotonic()
                with pytest.raises(PoolTimeout):
                    await client.get(srv.url("/"))
                assert 0.15 < time.monotonic() - started < 2
            assert (await client.get(srv.url("/"))).content == b"y"

    run_on(loop_kind, main())


def test_waiters_are_served_first_come_first_served(loop_kind: str, fault_server: Any) -> None:
    srv = fault_server([Serve(response(b"z"))])

    async def main() -> None:
        order: list[int] = []
        async with AsyncClient(limits=netwire.Limits(max_connections=1)) as client:

            async def one(i: int) -> None:
                await client.get(srv.url(f"/{i}"))
                order.append(i)

            async with client.stream("GET", srv.url("/hold")) as held:
                tasks = []
                for i in range(12):
                    tasks.append(asyncio.ensure_future(one(i)))
                    await asyncio.sleep(0)  # each queues before the next starts
                await asyncio.sleep(0.05)
                assert client.pool.waiting_count() == 12
                await held.aread()
            await asyncio.gather(*tasks)
        assert order == list(range(12))
        assert [r.target for r in srv.requests] == ["/hold"] + [f"/{i}" for i in range(12)]

    run_on(loop_kind, main())


def test_per_host_limit(loop_kind: str, fault_server: Any) -> None:
    srv = fault_server([Serve(response(b"p" * 1000))])

    async def main() -> None:
        peak = 0
        async with AsyncClient(limits=netwire.Limits(max_connections_per_host=3)) as client:

            async def watch() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, client.pool.open_count())
                    await asyncio.sleep(0)

            watcher = asyncio.ensure_future(watch())
            results = await asyncio.gather(*(client.get(srv.url(f"/{i}")) for i in range(40)))
            watcher.cancel()
        assert all(r.content == b"p" * 1000 for r in results)
        assert peak <= 3 and srv.connections <= 3

    run_on(loop_kind, main())


# -- back-pressure ------------------------------------------------------------------------------------------


def test_slow_consumer_pauses_reading(loop_kind: str, aio_nginx: Any) -> None:
    async def main() -> None:
        async with AsyncClient() as client, client.stream("GET", aio_nginx.url("/large")) as r:
            whole = (await client.get(aio_nginx.url("/large"))).content
            assert len(whole) == 2 * 1024 * 1024
            conn = r._abody._conn
            assert conn is not None
            peak = 0
            parts = []
            async for chunk in r.aiter_raw():
                parts.append(chunk)
                await asyncio.sleep(0.005)
                peak = max(peak, conn.buffered)
            assert b"".join(parts) == whole
            # At most one read past the mark: reading paused instead of buffering 2 MiB.
            assert peak <= HIGH_WATER + 256 * 1024

    run_on(loop_kind, main())


# -- no leaks ----------------------------------------------------------------------------------------------


def test_ten_thousand_requests_over_fifty_connections(loop_kind: str, aio_nginx: Any) -> None:
    url = aio_nginx.url("/small")

    async def main() -> None:
        tasks_before = len(asyncio.all_tasks())
        async with AsyncClient(limits=netwire.Limits(max_connections_per_host=50, max_idle_per_host=50)) as client:

            async def worker() -> int:
                n = 0
                for _ in range(200):
                    r = await client.get(url)
                    n += len(r.content)
                return n

            sizes = await asyncio.gather(*(worker() for _ in range(50)))
            assert sum(sizes) == 10_000 * 128
            assert client.pool.connections_opened == 50
            assert client.pool.open_count() == 50
        await _settle(aio_nginx.port)
        assert len(asyncio.all_tasks()) == tasks_before

    run_on(loop_kind, main())


# -- TLS -------------------------------------------------------------------------------------------------------


def test_tls_verification(loop_kind: str, tls_echo: Any) -> None:
    async def main() -> None:
        async with AsyncClient(verify=tls_echo.client_context()) as client:
            r = await client.get(tls_echo.url.replace("127.0.0.1", "localhost") + "/tls")
            assert r.status == 200 and b"/tls" in r.content
        async with AsyncClient() as client:
            with pytest.raises(TLSError):
                await client.get(tls_echo.url + "/tls")
            _assert_clean(client)

    run_on(loop_kind, main())


# -- map and fetch_all -----------------------------------------------------------------------------------------


def test_map_results_as_they_complete_errors_as_values(loop_kind: str, fault_server: Any, aio_nginx: Any) -> None:
    slow = fault_server([ReadRequest(), Sleep(0.3), Send(response(b"slow"))])

    async def urls() -> AsyncIterator[str]:
        yield slow.url("/slow")
        for _ in range(5):
            yield aio_nginx.url("/small")
        yield "http://127.0.0.1:1/refused"
        yield "not a url"

    async def main() -> None:
        async with AsyncClient() as client:
            outcomes = [o async for o in client.map(urls(), concurrency=4)]
        assert sorted(o.index for o in outcomes) == list(range(8))
        assert outcomes[-1].index == 0 and outcomes[-1].response is not None
        assert outcomes[-1].response.content == b"slow"
        by_index = {o.index: o for o in outcomes}
        assert all(by_index[i].ok and by_index[i].response.content == b"s" * 128 for i in range(1, 6))  # type: ignore[union-attr]
        assert isinstance(by_index[6].error, netwire.ConnectError)
        assert isinstance(by_index[7].error, netwire.InvalidURL)

    run_on(loop_kind, main())


def test_fetch_all_bounds_per_host(fault_server: Any) -> None:
    srv = fault_server([ReadRequest(), Sleep(0.1), Send(response(b"ok", headers=[("Connection", "close")]))])
    urls = [srv.url(f"/{i}") for i in range(12)]
    started = time.monotonic()
    outcomes = list(fetch_all(urls, concurrency=10, per_host=2))
    elapsed = time.monotonic() - started
    assert sorted(o.index for o in outcomes) == list(range(12)) and all(o.ok for o in outcomes)
    # Each answer takes 0.1 s: two at a time need >= 0.6 s (three at a time would take 0.4 s).
    assert elapsed >= 0.58 and srv.connections == 12


def test_fetch_all_stops_early(aio_nginx: Any) -> None:
    gen = fetch_all([aio_nginx.url("/small")] * 10_000, concurrency=8)
    first = [next(gen) for _ in range(3)]
    gen.close()
    assert all(o.ok for o in first)


def test_robots_fetched_once_for_concurrent_requests(loop_kind: str, fault_server: Any) -> None:
    # Every path answers with the same body: a robots.txt disallowing /no.
    srv = fault_server([Serve(response(b"User-agent: *\nDisallow: /no\n", headers=[("Content-Type", "text/plain")]))])

    async def main() -> None:
        async with AsyncClient(respect_robots=True) as client:
            results = await asyncio.gather(
                *(client.get(srv.url(f"/{'no' if i % 4 == 0 else 'yes'}/{i}")) for i in range(20)),
                return_exceptions=True,
            )
        refused = [i for i, r in enumerate(results) if isinstance(r, netwire.RobotsDisallowed)]
        assert refused == list(range(0, 20, 4))
        assert all(getattr(r, "status", None) == 200 for i, r in enumerate(results) if i % 4)
        assert [r.target for r in srv.requests].count("/robots.txt") == 1

    run_on(loop_kind, main())


def test_waiters_for_one_host_do_not_hold_up_another(loop_kind: str, fault_server: Any) -> None:
    busy = fault_server([Serve(response(b"busy"))])
    free = fault_server([Serve(response(b"free"))])

    async def main() -> None:
        async with AsyncClient(limits=netwire.Limits(max_connections_per_host=1)) as client:
            async with client.stream("GET", busy.url("/hold")) as held:
                queued = asyncio.ensure_future(client.get(busy.url("/queued")))
                await asyncio.sleep(0.05)
                assert client.pool.waiting_count() == 1
                async with asyncio.timeout(2):
                    assert (await client.get(free.url("/"))).content == b"free"
                assert not queued.done()
                await held.aread()
            assert (await queued).content == b"busy"

    run_on(loop_kind, main())


def test_random_cancellations_leave_the_pool_consistent(loop_kind: str, aio_nginx: Any) -> None:
    import random

    rng = random.Random(8)

    async def main() -> None:
        async with AsyncClient(limits=netwire.Limits(max_connections_per_host=5)) as client:

            async def one(i: int) -> None:
                if i % 3 == 0:
                    async with client.stream("GET", aio_nginx.url("/large")) as r:
                        async for _ in r.aiter_raw():
                            await asyncio.sleep(0)
                else:
                    await client.get(aio_nginx.url("/small"))

            tasks = [asyncio.ensure_future(one(i)) for i in range(150)]
            for _ in range(60):
                await asyncio.sleep(rng.random() * 0.01)
                rng.choice(tasks).cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert any(isinstance(r, asyncio.CancelledError) for r in results)
            assert all(r is None or isinstance(r, asyncio.CancelledError) for r in results)
            pool = client.pool
            assert pool.waiting_count() == 0
            assert pool.open_count() == pool.idle_count() <= 5
            assert (await client.get(aio_nginx.url("/small"))).content == b"s" * 128
            idle = pool.idle_count()
            for _ in range(50):
                if sockets_to(aio_nginx.port) == idle:
                    break
                await asyncio.sleep(0.01)
            assert sockets_to(aio_nginx.port) == idle
        await _settle(aio_nginx.port)

    run_on(loop_kind, main())


def test_progress_bar_only_on_a_terminal(aio_nginx: Any) -> None:
    import io

    from netwire.http.fetch import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    urls = [aio_nginx.url("/small")] * 6 + [aio_nginx.url("/missing")]
    tty, pipe = Terminal(), io.StringIO()
    bars = [Progress(len(urls), tty, interval=0.0), Progress(len(urls), pipe, interval=0.0)]
    for outcome in fetch_all(urls, concurrency=3):
        for bar in bars:
            bar.update(outcome)
    for bar in bars:
        bar.close()
    assert pipe.getvalue() == ""
    last = tty.getvalue().split("\r")[-1]
    assert last.startswith("[" + "=" * 30 + "] 7/7, 1 failed") and last.endswith("/s\n")


def test_final_response_in_the_same_segment_as_100_continue(loop_kind: str, fault_server: Any) -> None:
    # The server says 100 and, in the same write, its final answer (then closes): the client
    # must take the final answer, not send the body into a closing connection.
    both = b"HTTP/1.1 100 Continue\r\n\r\n" + response(b"refused", status=403, reason="Forbidden")
    srv = fault_server([ReadRequest(read_body=False, send_continue=False), Send(both), Sleep(0.3)])

    async def main() -> None:
        async with AsyncClient(expect_continue=10, timeout=netwire.Timeout(5.0, total=3.0)) as client:
            r = await client.put(srv.url("/"), content=b"u" * 1000)
            assert r.status == 403 and r.content == b"refused"
            _assert_clean(client)

    run_on(loop_kind, main())


def test_a_client_stays_on_its_first_loop(aio_nginx: Any) -> None:
    client = AsyncClient()

    async def get() -> bytes:
        return (await client.get(aio_nginx.url("/small"))).content

    assert asyncio.run(get()) == b"s" * 128
    with pytest.raises(RuntimeError, match="event loop"):
        asyncio.run(get())
    # Closing after its loop ended still releases the socket.
    assert sockets_to(aio_nginx.port) == 1
    client.pool.close()
    assert sockets_to(aio_nginx.port) == 0
