"""Threads sharing one HTTP/2 connection (the sync Client's hand-off, h2_connection.py).

One thread at a time reads the connection and files what arrives under each stream; the
others are parked, each on its own condition, and woken only when their stream moved (or the
connection failed); a reader leaving with threads still parked hands the reading over to one
of them. These tests hold the hand-off to what a user sees: a response another thread read
arrives whole and on time, a dying connection reaches every parked thread at once, and a
reader timing out (or a stream given up) leaves nobody waiting for a reader that is gone.
The behavioural ones run on every face (the async client must behave the same).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

import netwire
from netwire.errors import ReadTimeout, RequestError
from tests.drivers import AsyncDriver, Driver, SyncDriver
from tests.servers.h2 import BIG, SMALL
from tests.servers.h2_hostile import H2HostileServer
from tests.servers.nginx import Nginx

Face = Callable[..., Driver]

pytestmark = pytest.mark.timeout(60)


def _timed(
    driver: Driver, calls: list[tuple[str, float]], gate: Callable[[], bool] | None = None
) -> list[tuple[object, float]]:
    """GET each (url, read timeout) at once (threads, or tasks), started in this order 0.05 s
    apart (the last one only once ``gate()`` holds, if given); per call its result (or
    exception) and the seconds it took."""

    def opened() -> bool:
        return gate is None or gate()

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
            for i, (url, read) in enumerate(calls):
                if i == len(calls) - 1:
                    for _ in range(1000):
                        if opened():
                            break
                        await asyncio.sleep(0.01)
                tasks.append(asyncio.ensure_future(one(url, read)))
                await asyncio.sleep(0.05)
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
        if i == len(calls) - 1:
            for _ in range(1000):
                if opened():
                    break
                time.sleep(0.01)
        threads.append(threading.Thread(target=run, args=(i, url, read)))
        threads[-1].start()
        time.sleep(0.05)
    for t in threads:
        t.join(30)
    return results


def _h2c(face: Face) -> Driver:
    return face(http2="prior-knowledge", timeout=netwire.Timeout(10.0))


def test_a_response_read_by_the_waiting_reader_reaches_its_thread_at_once(
    face: Face, hostile: H2HostileServer
) -> None:
    driver = _h2c(face)
    driver.get(hostile.url("/ok"))  # one connection, up before the others start
    # The first waits 1 s for its answer (on the sync client, it is the one reading); the
    # others' answers come at once: they must not wait for the first one's.
    (late, late_took), *quick = _timed(driver, [(hostile.url("/late"), 10.0)] + [(hostile.url("/ok"), 10.0)] * 5)
    assert isinstance(late, netwire.Response) and late.content == b"late"
    for result, took in quick:
        assert isinstance(result, netwire.Response) and result.content == b"ok"
        assert took < late_took  # generous: 1 s apart; no wall-clock bound under load
    assert hostile.connections == 1


def test_the_reader_timing_out_hands_the_reading_over(face: Face, hostile: H2HostileServer) -> None:
    driver = _h2c(face)
    driver.get(hostile.url("/ok"))
    # The first stream is never answered and gives up after 0.3 s, while the second waits for
    # an answer due at 1 s: someone must go on reading the connection for it.
    (held, _), (late, late_took) = _timed(driver, [(hostile.url("/hold"), 0.3), (hostile.url("/late"), 8.0)])
    assert isinstance(held, ReadTimeout)
    assert isinstance(late, netwire.Response) and late.content == b"late"
    assert late_took < 6.0  # not its own read timeout (8 s): the reading was handed over
    assert driver.get(hostile.url("/ok")).content == b"ok"  # and the connection is still fine


def test_a_dropped_connection_fails_every_waiting_thread(face: Face, hostile: H2HostileServer) -> None:
    driver = _h2c(face)
    driver.get(hostile.url("/ok"))
    calls = [(hostile.url("/hold"), 8.0)] * 4 + [(hostile.url("/drop-later"), 8.0)]
    # The drop comes once the four streams are open (a request sent after it would go on a
    # new connection, where /hold is never answered either: its own read timeout, rightly).
    results = _timed(driver, calls, gate=lambda: hostile.paths.count("/hold") == 4)
    for i, (result, took) in enumerate(results):
        # Each fails with the connection (not its read timeout: 8 s), reader or parked.
        assert isinstance(result, RequestError) and not isinstance(result, ReadTimeout), (i, result)
        assert took < 6.0
    assert driver.get(hostile.url("/ok")).content == b"ok"  # a new connection serves the next


def test_a_stream_given_up_by_its_thread_leaves_the_others_served(face: Face, hostile: H2HostileServer) -> None:
    driver = _h2c(face)
    driver.get(hostile.url("/ok"))
    # Three give up at once, at different moments, while a fourth waits for a late answer.
    calls = [(hostile.url("/hold"), 0.2), (hostile.url("/hold"), 0.4), (hostile.url("/late"), 8.0)]
    calls.append((hostile.url("/hold"), 0.3))
    results = _timed(driver, calls)
    for i in (0, 1, 3):
        assert isinstance(results[i][0], ReadTimeout)
    late, late_took = results[2]
    assert isinstance(late, netwire.Response) and late.content == b"late"
    assert late_took < 6.0


def test_threads_get_whole_responses_read_by_each_other(h2_nginx: Nginx, ca_file: str) -> None:
    """20 threads on one connection to nginx, small and 8 MiB bodies mixed: whichever thread
    read the frames, each gets its own body whole."""
    base = f"https://localhost:{h2_nginx.port}"
    errors: list[BaseException] = []
    with netwire.Client(http2=True, verify=ca_file) as client:
        client.get(base + "/small")

        def work(i: int) -> None:
            try:
                for j in range(6):
                    if (i + j) % 7 == 0:
                        assert client.get(base + "/big").content == BIG
                    else:
                        with client.stream("GET", base + "/small") as r:
                            assert r.read() == SMALL
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(50)
        assert not errors, errors[0]
        assert client._h2pool is not None and client._h2pool.connections_opened == 1


def test_threads_opening_streams_share_their_writes(h2_nginx: Nginx, ca_file: str) -> None:
    """A thread opening a stream while another writes leaves its HEADERS to that writer, which
    sends what was queued meanwhile before it stops: fewer TLS writes than requests."""
    url = f"https://localhost:{h2_nginx.port}/small"
    with netwire.Client(http2=True, verify=ca_file) as client:
        client.get(url)
        assert client._h2pool is not None
        (conn,) = client._h2pool.connections()
        sock = conn.sock
        writes = [0]
        send = sock.sendall

        def counting(data: object, *args: object) -> None:
            writes[0] += 1
            send(data, *args)  # type: ignore[arg-type]

        sock.sendall = counting  # type: ignore[method-assign]
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(10):
                    assert client.get(url).content == SMALL
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(50)
        assert not errors, errors[0]
        assert client._h2pool.connections_opened == 1
    # One write (at least) per request before; now a write carries the HEADERS of the
    # threads that opened their streams while it was being sent.
    assert writes[0] < 200 * 3 // 4, writes[0]
