"""HTTP/2 read deadlines with many streams in flight on one connection.

The async connection watches every waiting stream's read deadline with one timer (re-armed
lazily) rather than a timer per wait: these tests hold it to the timing a timer per wait gave
(each stream times out at its own deadline, an earlier one moves the timer, a later one is not
fired early), on every face, and check that a burst of requests does not schedule a timer per
wait any more (the CPU cost issue 17 measured).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import netwire
from netwire.aio import AsyncClient
from netwire.errors import ReadTimeout
from tests.drivers import AsyncDriver, Driver, SyncDriver
from tests.servers.h2_hostile import H2HostileServer

Face = Callable[..., Driver]

pytestmark = pytest.mark.timeout(60)


def _timed_gets(driver: Driver, calls: list[tuple[str, float]]) -> list[tuple[object, float]]:
    """GET each (url, read timeout) at once on the driver's client, started in this order;
    per call its result (or exception) and the seconds it took."""
    if isinstance(driver, AsyncDriver):
        client = driver.client

        async def one(url: str, read: float) -> tuple[object, float]:
            started = time.monotonic()
            try:
                result: object = await client.get(url, timeout=netwire.Timeout(10.0, read=read))
            except Exception as exc:
                result = exc
            return result, time.monotonic() - started

        async def go() -> list[tuple[object, float]]:
            tasks = []
            for url, read in calls:
                tasks.append(asyncio.ensure_future(one(url, read)))
                await asyncio.sleep(0.05)  # in this order on the connection
            return list(await asyncio.gather(*tasks))

        return driver.run(go())
    assert isinstance(driver, SyncDriver)
    results: list[tuple[object, float]] = [(None, 0.0)] * len(calls)

    def run(i: int, url: str, read: float) -> None:
        started = time.monotonic()
        try:
            result: object = driver.get(url, timeout=netwire.Timeout(10.0, read=read))
        except Exception as exc:
            result = exc
        results[i] = (result, time.monotonic() - started)

    threads = []
    for i, (url, read) in enumerate(calls):
        threads.append(threading.Thread(target=run, args=(i, url, read)))
        threads[-1].start()
        time.sleep(0.05)
    for t in threads:
        t.join(30)
    return results


def test_each_stalled_stream_times_out_at_its_own_read_deadline(face: Face, hostile: H2HostileServer) -> None:
    # Three streams stalled after their heads (the server trickles PINGs only) on one
    # connection: the long one arms the timer first; the short one, opened later, must move it
    # earlier; the middle one must not be fired by the timer the short one's deadline armed.
    driver = face(http2="prior-knowledge", timeout=netwire.Timeout(10.0))
    driver.get(hostile.url("/ok"))  # the connection is up: the next requests share it
    long, short, middle = _timed_gets(
        driver, [(hostile.url("/trickle"), 2.0), (hostile.url("/trickle"), 0.4), (hostile.url("/trickle"), 1.0)]
    )
    for (result, _), read in ((long, 2.0), (short, 0.4), (middle, 1.0)):
        assert isinstance(result, ReadTimeout), result
        assert f"for {read} s" in str(result)
    assert 0.4 <= short[1] < 1.0, short
    assert 1.0 <= middle[1] < 1.8, middle
    assert 2.0 <= long[1] < 3.5, long
    assert hostile.connections == 1
    # The connection survived the stalled streams: it still serves.
    assert driver.get(hostile.url("/ok")).content == b"ok"


class _CountingLoop(asyncio.SelectorEventLoop):
    """An ordinary selector loop that counts the timers scheduled on it (call_later goes
    through call_at)."""

    timers = 0

    def call_at(self, when: float, callback: Callable[..., object], *args: Any, context: Any = None) -> asyncio.TimerHandle:
        self.timers += 1
        return super().call_at(when, callback, *args, context=context)


def test_a_burst_of_streams_does_not_schedule_a_timer_per_wait(hostile: H2HostileServer) -> None:
    requests, in_flight = 200, 20

    async def main(loop: _CountingLoop) -> int:
        async with AsyncClient(http2="prior-knowledge", timeout=netwire.Timeout(10.0)) as client:
            await client.get(hostile.url("/ok"))  # the connection is up

            async def worker() -> None:
                for _ in range(requests // in_flight):
                    assert (await client.get(hostile.url("/ok"))).content == b"ok"

            before = loop.timers
            await asyncio.gather(*(worker() for _ in range(in_flight)))
            assert hostile.connections == 1
            return loop.timers - before

    loop = _CountingLoop()
    try:
        timers = loop.run_until_complete(main(loop))
    finally:
        loop.close()
    # A timer per wait_event was at least one per request; the connection's one timer is
    # re-armed only when it fires or a nearer deadline comes (a handful at most here).
    assert timers < requests // 10, timers
