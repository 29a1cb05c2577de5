"""The AsyncClient's per-request path stays lean (issue 19): a plain GET on a pooled connection
wakes its task once, with the whole response, and makes no ``get_running_loop`` call (a getpid()
system call each); the cheaper loop check still refuses a client used on another loop."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import pytest

import netwire
from netwire.http import aio_connection
from netwire.http.aio import AsyncClient
from tests.servers.faults import ReadRequest, Sleep

pytestmark = pytest.mark.timeout(60)

CONCURRENT = 10


def test_a_pooled_get_wakes_its_task_once_and_asks_no_loop(aio_nginx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.new_event_loop()
    futures = [0]
    create_future = loop.create_future

    def counted_future() -> asyncio.Future[Any]:
        futures[0] += 1
        return create_future()

    loop.create_future = counted_future  # type: ignore[method-assign]
    # On asyncio's own loop a connection makes its futures itself (aio_connection._Future): count those too.
    made = aio_connection._Future

    def counted_made(*, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any]:
        futures[0] += 1
        return made(loop=loop)

    monkeypatch.setattr(aio_connection, "_Future", counted_made)
    asked = [0]
    running_loop = asyncio.get_running_loop

    def counted_running_loop() -> asyncio.AbstractEventLoop:
        asked[0] += 1
        return running_loop()

    url = aio_nginx.url("/small")
    limits = netwire.Limits(max_connections=CONCURRENT, max_connections_per_host=CONCURRENT)

    async def main() -> None:
        async with AsyncClient(limits=limits) as client:
            # Warm up: the connections are opened (that asks for the loop, and awaits more).
            await asyncio.gather(*(client.get(url) for _ in range(CONCURRENT)))
            opened = client.pool.connections_opened
            futures[0] = 0
            with monkeypatch.context() as patch:
                patch.setattr(asyncio, "get_running_loop", counted_running_loop)
                for _ in range(3):
                    responses = await asyncio.gather(*(client.get(url) for _ in range(CONCURRENT)))
                    assert all(r.content == b"s" * 128 for r in responses)
            assert client.pool.connections_opened == opened  # all on pooled connections
        assert asked[0] == 0
        assert futures[0] == 3 * CONCURRENT  # one future, one wake-up, per response

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


@pytest.mark.skipif(netwire.__compiled__, reason="compiled functions make no profile events")
def test_a_pooled_get_calls_no_python_helper_it_can_do_inline(aio_nginx: Any) -> None:
    """On asyncio's own loop, the per-request path of a pooled GET calls none of these Python
    functions (each a frame per request): the loop's ``create_future`` and ``time`` (the C
    ``Future`` and ``time.monotonic`` instead), the connection's liveness check (its poll object
    is polled by the pool), its ``write`` and ``take``, ``typing.cast``."""
    avoided = {
        "BaseEventLoop.create_future", "BaseEventLoop.time", "AsyncConnection.peer_still_there",
        "AsyncConnection.write", "AsyncConnection.take", "cast",
    }
    called: dict[str, int] = {}
    ours = ("aio.py", "aio_connection.py", "aio_pool.py")

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            caller = frame.f_back
            if caller is not None and caller.f_code.co_filename.endswith(ours):
                name = frame.f_code.co_qualname
                called[name] = called.get(name, 0) + 1

    url = aio_nginx.url("/small")
    limits = netwire.Limits(max_connections=CONCURRENT, max_connections_per_host=CONCURRENT)

    async def main() -> None:
        async with AsyncClient(limits=limits) as client:
            # Open the connections, then reuse each once (the first reuse makes its poll object).
            for _ in range(2):
                await asyncio.gather(*(client.get(url) for _ in range(CONCURRENT)))
            opened = client.pool.connections_opened
            sys.setprofile(profile)
            try:
                for _ in range(3):
                    responses = await asyncio.gather(*(client.get(url) for _ in range(CONCURRENT)))
            finally:
                sys.setprofile(None)
            assert all(r.content == b"s" * 128 for r in responses)
            assert client.pool.connections_opened == opened  # all on pooled connections

    asyncio.run(main())
    assert called.get("AsyncClient._exchange")  # the hook saw the requests
    assert {name: n for name, n in called.items() if name in avoided} == {}


def test_a_client_busy_on_one_thread_is_refused_on_another(fault_server: Any) -> None:
    srv = fault_server([ReadRequest(), Sleep(2)])
    client = AsyncClient()
    started, checked = threading.Event(), threading.Event()

    async def first() -> None:
        task = asyncio.ensure_future(client.get(srv.url("/")))
        await asyncio.sleep(0.05)
        started.set()
        # The client's loop runs, on this thread, until the other thread has tried (10 s at most).
        for _ in range(1000):
            if checked.is_set():
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    thread = threading.Thread(target=asyncio.run, args=(first(),))
    thread.start()
    try:
        assert started.wait(10)

        async def second() -> None:
            try:
                with pytest.raises(RuntimeError, match="bound to the event loop"):
                    await client.get(srv.url("/"))
            finally:
                checked.set()

        asyncio.run(second())
    finally:
        thread.join(10)
    client.pool.close()


def test_a_head_wait_times_out_as_a_read_timeout(fault_server: Any) -> None:
    srv = fault_server([ReadRequest(), Sleep(3)])

    async def main() -> None:
        async with AsyncClient(timeout=netwire.Timeout(read=0.2)) as client:
            with pytest.raises(netwire.ReadTimeout, match=r"no response data from .* for 0\.2 s"):
                await client.get(srv.url("/"))
            assert client.pool.open_count() == 0  # the connection was given up, not pooled

    asyncio.run(main())


def test_a_returned_connection_beyond_max_idle_per_host_is_closed(aio_nginx: Any) -> None:
    # The release's inline idle keeping (nobody waiting) applies max_idle_per_host as PoolState does.
    url = aio_nginx.url("/small")
    limits = netwire.Limits(max_connections=CONCURRENT, max_connections_per_host=CONCURRENT, max_idle_per_host=2)

    async def main() -> None:
        async with AsyncClient(limits=limits) as client:
            responses = await asyncio.gather(*(client.get(url) for _ in range(CONCURRENT)))
            assert all(r.content == b"s" * 128 for r in responses)
            assert client.pool.connections_opened == CONCURRENT
            assert client.pool.idle_count() == 2 and client.pool.open_count() == 2

    asyncio.run(main())
