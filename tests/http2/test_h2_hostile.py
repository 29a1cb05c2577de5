"""HTTP/2 against a hostile server of our own (tests/servers/h2_hostile.py), on every face:
each misbehaviour ends in a typed netwire error (or a transparent retry), never a hang, and
the limits keep memory bounded."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

import netwire
from netwire.errors import (
    ConnectionTerminated,
    H2ProtocolError,
    ReadTimeout,
    StreamReset,
    WriteTimeout,
)
from tests.drivers import AsyncDriver, Driver, SyncDriver
from tests.servers.h2_hostile import H2HostileServer

Face = Callable[..., Driver]

pytestmark = pytest.mark.timeout(60)


def h2c(face: Face, **options: object) -> Driver:
    options.setdefault("timeout", netwire.Timeout(10.0))
    return face(http2="prior-knowledge", **options)


def concurrently(driver: Driver, urls: list[str]) -> list[object]:
    """GET ``urls`` at once (tasks, or threads for the sync client); a result or the exception."""
    if isinstance(driver, AsyncDriver):

        async def go() -> list[object]:
            return list(await asyncio.gather(*(driver.client.get(u) for u in urls), return_exceptions=True))

        return driver.run(go())
    assert isinstance(driver, SyncDriver)
    results: list[object] = [None] * len(urls)

    def one(i: int, url: str) -> None:
        try:
            results[i] = driver.get(url)
        except BaseException as exc:
            results[i] = exc

    threads = []
    for i, url in enumerate(urls):
        threads.append(threading.Thread(target=one, args=(i, url)))
        threads[-1].start()
        time.sleep(0.05)  # in this order on the connection
    for t in threads:
        t.join(30)
    return results


def test_goaway_mid_flight_retries_the_unprocessed_streams(face: Face, hostile: H2HostileServer) -> None:
    driver = h2c(face)
    driver.get(hostile.url("/ok"))  # the connection is up: the next requests share it
    slow, other = concurrently(driver, [hostile.url("/slow"), hostile.url("/goaway-others")])
    # /slow was processed (stream <= last_stream_id) and answered; the other was not, so it
    # went again, on a new connection.
    assert isinstance(slow, netwire.Response) and slow.content == b"slow"
    assert isinstance(other, netwire.Response) and other.content == b"ok"
    assert hostile.connections == 2
    assert hostile.paths.count("/goaway-others") == 2 and hostile.paths.count("/slow") == 1


def test_goaway_naming_the_stream_processed_fails_it(face: Face, hostile: H2HostileServer) -> None:
    driver = h2c(face)
    with pytest.raises(ConnectionTerminated) as info:
        driver.get(hostile.url("/goaway-fail"))
    assert info.value.error_code == 2 and not info.value.retriable
    assert "GOAWAY INTERNAL_ERROR" in str(info.value) and "going down" in str(info.value)
    assert driver.get(hostile.url("/ok")).content == b"ok"  # a new connection serves the next


def test_a_connection_the_server_closed_while_idle_is_not_reused(face: Face, hostile: H2HostileServer) -> None:
    driver = h2c(face)
    assert driver.get(hostile.url("/bye")).content == b"bye"
    time.sleep(0.3)
    # A POST: never sent again after a failure, so it must go to a new connection at once.
    r = driver.request("POST", hostile.url("/ok"), content=b"x")
    assert r.content == b"ok" and r.extensions["connection_reused"] is False
    assert hostile.paths == ["/bye", "/ok"] and hostile.connections == 2


def test_idle_connections_expire(face: Face, hostile: H2HostileServer) -> None:
    # An expiry well above the gap between two requests on a loaded CI machine (0.2 s was not).
    driver = h2c(face, limits=netwire.Limits(keepalive_expiry=1.0))
    driver.get(hostile.url("/ok"))
    assert driver.get(hostile.url("/ok")).extensions["connection_reused"] is True
    time.sleep(1.2)
    assert driver.get(hostile.url("/ok")).extensions["connection_reused"] is False
    assert hostile.connections == 2
    assert driver.open_count() == 1


def test_rst_stream_fails_that_stream_only(face: Face, hostile: H2HostileServer) -> None:
    driver = h2c(face)
    driver.get(hostile.url("/ok"))
    ok1, reset, ok2 = concurrently(driver, [hostile.url("/slow"), hostile.url("/reset"), hostile.url("/ok")])
    assert isinstance(reset, StreamReset) and reset.error_code == 2
    assert isinstance(ok1, netwire.Response) and ok1.content == b"slow"
    assert isinstance(ok2, netwire.Response) and ok2.content == b"ok"
    assert hostile.connections == 1


def test_upload_through_a_small_window(face: Face) -> None:
    # The server's stream window (1 KiB) is far below the body: sent as WINDOW_UPDATEs come.
    with H2HostileServer(initial_window=1024) as server:
        r = h2c(face).request("POST", server.url("/upload"), content=b"x" * 300_000)
        assert r.content == b"got 300000 bytes"


def test_trailers_arrive(face: Face, hostile: H2HostileServer) -> None:
    r, chunks = h2c(face).stream_chunks("GET", hostile.url("/trailers"))
    assert b"".join(chunks) == b"body"
    assert r.trailers.get("x-checksum") == "abc"


def test_refused_stream_is_retried(face: Face, hostile: H2HostileServer) -> None:
    r = h2c(face).request("POST", hostile.url("/refuse-once"), content=b"body")
    assert r.content == b"ok" and hostile.paths.count("/refuse-once") == 2


def test_a_window_that_never_opens_fires_the_write_deadline(face: Face) -> None:
    with H2HostileServer(initial_window=16, ack=False) as server:
        driver = h2c(face, timeout=netwire.Timeout(10.0, write=0.5))
        started = time.monotonic()
        with pytest.raises(WriteTimeout, match="flow-control window"):
            driver.request("POST", server.url("/upload"), content=b"x" * 4096)
        assert time.monotonic() - started < 5


def test_a_trickle_of_pings_does_not_keep_a_stalled_stream_alive(face: Face, hostile: H2HostileServer) -> None:
    driver = h2c(face, timeout=netwire.Timeout(10.0, read=0.6))
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        driver.get(hostile.url("/trickle"))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("/continuation", "CONTINUATION"),
        ("/huge-headers", "max_header_list_size"),
        ("/settings-flood", "flood"),
        ("/ping-flood", "flood"),
        ("/big-frame", "MAX_FRAME_SIZE"),
    ],
)
def test_hostile_frames_are_typed_protocol_errors(face: Face, hostile: H2HostileServer, path: str, match: str) -> None:
    driver = h2c(face)
    started = time.monotonic()
    with pytest.raises(H2ProtocolError, match=match):
        driver.get(hostile.url(path))
    assert time.monotonic() - started < 10
    # The connection is gone, the client is not: the next request opens a new one.
    assert driver.get(hostile.url("/ok")).content == b"ok"


def test_continuation_flood_reads_a_bounded_amount(hostile: H2HostileServer) -> None:
    # The server would send 100,000 CONTINUATION frames; the client gives up after h2's 64.
    import tracemalloc

    tracemalloc.start()
    try:
        with netwire.Client(http2="prior-knowledge", timeout=10.0) as client, pytest.raises(H2ProtocolError):
            client.get(hostile.url("/continuation"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


def test_a_failed_connect_fails_the_requests_waiting_for_it(face: Face) -> None:
    # A server that never finishes the TLS handshake: the requests queued behind the one
    # connection attempt fail with its error, not one connect timeout after another.
    import socket

    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    try:
        port = listener.getsockname()[1]
        driver = face(http2=True, timeout=netwire.Timeout(10.0, connect=0.5))
        started = time.monotonic()
        results = concurrently(driver, [f"https://127.0.0.1:{port}/"] * 8)
        assert all(isinstance(r, netwire.ConnectTimeout) for r in results), results
        assert time.monotonic() - started < 3  # one attempt (0.5 s), not eight in turn (4 s)
    finally:
        listener.close()


def test_a_false_content_length_is_refused_without_reserving_it(face: Face, hostile: H2HostileServer) -> None:
    """The server claims 10**18 bytes and sends 2 MiB: the sync client's whole-body reader
    reserves in steps (never the claim), and the mismatch is a protocol error."""
    import tracemalloc

    driver = h2c(face)
    tracemalloc.start()
    try:
        with pytest.raises(H2ProtocolError, match="protocol violation"):
            driver.get(hostile.url("/liar"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024


def _block(*fields: tuple[bytes, bytes]) -> str:
    from hpack import Encoder

    return Encoder().encode(list(fields)).hex()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([(b":status", b"abc")], "the :status b'abc'"),  # once a ValueError out of int()
        ([(b":status", b"2000")], "the :status"),
        ([(b"x-a", b"1")], "without :status"),
        ([(b"x-a", b"1"), (b":status", b"200")], "out of place"),
        ([(b":status", b"200"), (b":status", b"200")], "out of place"),
        ([(b":status", b"200"), (b":path", b"/")], "out of place"),
        ([(b":status", b"200"), (b"X-Upper", b"1")], "invalid header name"),
        ([(b":status", b"200"), (b"x:y", b"1")], "invalid header name"),
        ([(b":status", b"200"), (b"", b"1")], "invalid header name"),
        ([(b":status", b"200"), (b"x-a", b" padded")], "invalid header value"),
        ([(b":status", b"200"), (b"x-a", b"a\x00b")], "invalid header value"),
        ([(b":status", b"200"), (b"connection", b"close")], "Connection-specific"),
        ([(b":status", b"200"), (b"te", b"gzip")], "TE header"),
    ],
)
def test_response_heads_breaking_http2_field_rules_fail_the_connection(
    face: Face, hostile: H2HostileServer, fields: list[tuple[bytes, bytes]], message: str
) -> None:
    """RFC 9113 8.2/8.3, checked by netwire once per distinct header block (h2's own per-field
    validation is off): a typed H2ProtocolError, and the client goes on on a new connection."""
    driver = h2c(face)
    with pytest.raises(H2ProtocolError, match=message):
        driver.get(hostile.url("/head/" + _block(*fields)))
    assert driver.get(hostile.url("/ok")).content == b"ok"


def test_pseudo_headers_in_trailers_fail_the_connection(face: Face, hostile: H2HostileServer) -> None:
    driver = h2c(face)
    with pytest.raises(H2ProtocolError, match="pseudo-header field in the trailers"):
        driver.get(hostile.url("/trailers/" + _block((b":status", b"200"))))
    r = driver.get(hostile.url("/trailers/" + _block((b"x-sum", b"abc"))))
    assert r.content == b"body"
