"""The Client against our fault server: what real servers won't do.

Each fault gives its documented exception, promptly (never a hang: every test has a timeout
mark and checks the elapsed time), and afterwards the pool holds no broken connection: the
next request to the same server opens a fresh connection and succeeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

import netwire
from netwire.errors import (
    ConnectError,
    ProtocolError,
    ReadError,
    ReadTimeout,
    StreamError,
    TotalTimeout,
    TransportError,
    WriteTimeout,
)
from netwire.http.http11 import IncompleteResponse, ParserLimits
from tests.servers.faults import (
    Close,
    FaultServer,
    ReadRequest,
    Reset,
    Send,
    Serve,
    Sleep,
    Trickle,
    WaitForClose,
    response,
)
from tests.servers.raw import full_backlog

pytestmark = pytest.mark.timeout(15)

Start = Callable[..., FaultServer]

CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
GOOD = [Serve(response(b"good"))]


def assert_pool_clean(c: netwire.Client) -> None:
    assert c.pool.idle_count() == 0, "a broken connection was kept idle"
    assert c.pool.open_count() == 0, "a connection is still counted as open"


def assert_recovers(c: netwire.Client, srv: FaultServer, connections_before: int) -> None:
    """The next request goes over a new connection and succeeds."""
    r = c.get(srv.url("/after"))
    assert r.status == 200 and r.content == b"good"
    assert srv.connections == connections_before + 1
    assert c.pool.idle_count() == 1


@pytest.fixture
def quick_client() -> Iterator[netwire.Client]:
    with netwire.Client(timeout=netwire.Timeout(3.0)) as c:
        yield c


# -- malformed, truncated, hostile responses --------------------------------------------------------

FAULTS = [
    pytest.param(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 40), Close()],
        IncompleteResponse,
        "40 of 100",
        id="truncated-content-length-body",
    ),
    pytest.param(
        [ReadRequest(), Send(CHUNKED_HEAD + b"10\r\nabc"), Close()],
        IncompleteResponse,
        "chunked",
        id="truncated-chunked-body",
    ),
    pytest.param(
        [ReadRequest(), Send(CHUNKED_HEAD + b"5\r\nhello\r\n"), Close()],
        IncompleteResponse,
        "chunked",
        id="chunked-body-without-last-chunk",
    ),
    pytest.param(
        [ReadRequest(), Send(CHUNKED_HEAD + b"zz\r\nabc\r\n0\r\n\r\n"), WaitForClose()],
        ProtocolError,
        "chunk size",
        id="bad-chunk-size",
    ),
    pytest.param(
        [ReadRequest(), Send(CHUNKED_HEAD + b"3\r\nhello\r\n0\r\n\r\n"), WaitForClose()],
        ProtocolError,
        "CRLF",
        id="chunk-size-smaller-than-data",
    ),
    pytest.param(
        [
            ReadRequest(),
            Send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
            WaitForClose(),
        ],
        ProtocolError,
        "conflicting Content-Length",
        id="conflicting-content-length",
    ),
    pytest.param(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), WaitForClose()],
        ProtocolError,
        "invalid Content-Length",
        id="negative-content-length",
    ),
    pytest.param(
        [
            ReadRequest(),
            Send(b"HTTP/1.1 200 OK\r\n" + (b"X-Filler: " + b"f" * 3000 + b"\r\n") * 100),
            WaitForClose(),
        ],
        ProtocolError,
        "max_header_bytes",
        id="oversized-header-section",
    ),
    pytest.param(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nX-Long: " + b"l" * 100_000), WaitForClose()],
        ProtocolError,
        "max_header_bytes|max_line_length",
        id="oversized-header-line",
    ),
    pytest.param(
        [
            ReadRequest(),
            Send(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(1000)) + b"\r\n"),
            WaitForClose(),
        ],
        ProtocolError,
        "max_header_count",
        id="too-many-headers",
    ),
    pytest.param(
        [ReadRequest(), Send(b"HTTP/1.1 200 " + b"r" * 100_000), WaitForClose()],
        ProtocolError,
        "max_line_length",
        id="endless-status-line",
    ),
    pytest.param(
        [ReadRequest(), Send(b"HTTP/1.1 100 Continue\r\n\r\n" * 10_000), WaitForClose()],
        ProtocolError,
        "max_informational",
        id="endless-100-continue-CVE-2021-3737",
    ),
    pytest.param(
        [
            ReadRequest(),
            Trickle(b"HTTP/1.1 102 Processing\r\n\r\n" * 200, interval=0.0005, size=27),
            WaitForClose(),
        ],
        ProtocolError,
        "max_informational",
        id="endless-102-processing-trickled",
    ),
    pytest.param(
        [ReadRequest(), Send(b"SSH-2.0-OpenSSH_9.6\r\n"), WaitForClose()],
        ProtocolError,
        "status line",
        id="not-http",
    ),
    pytest.param(
        [ReadRequest(), Send(b"HTTP/2.0 200 OK\r\n\r\n"), WaitForClose()],
        ProtocolError,
        "version",
        id="http-2-status-line",
    ),
    pytest.param(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n"), WaitForClose()],
        ProtocolError,
        "NUL",
        id="nul-in-header",
    ),
    pytest.param(
        [
            ReadRequest(),
            Send(b"HTTP/1.1 200 OK\r\nX-A : smuggled\r\nContent-Length: 0\r\n\r\n"),
            WaitForClose(),
        ],
        ProtocolError,
        "name",
        id="space-before-colon",
    ),
    pytest.param(
        [ReadRequest(), Close()],
        IncompleteResponse,
        "without sending a response",
        id="closed-without-response",
    ),
    pytest.param(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Le"), Close()],
        IncompleteResponse,
        "response head",
        id="closed-inside-head",
    ),
    pytest.param([ReadRequest(), Reset()], ReadError, "reset|closed", id="reset-without-response"),
    pytest.param(
        [
            ReadRequest(),
            Send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000),
            Sleep(0.1),
            Reset(),
        ],
        ReadError,
        "reset",
        id="reset-mid-body",
    ),
]


@pytest.mark.parametrize(("script", "exc", "needle"), FAULTS)
def test_fault_gives_its_error_and_leaves_the_pool_clean(
    fault_server: Start, quick_client: netwire.Client, script: list[object], exc: type[Exception], needle: str
) -> None:
    srv = fault_server([script, GOOD])
    started = time.monotonic()
    with pytest.raises(exc, match=needle) as info:
        quick_client.get(srv.url("/fault"))
    # Promptly: the fault itself was detected, not a timeout in disguise.
    assert time.monotonic() - started < 2.0
    assert isinstance(info.value, TransportError)
    assert_pool_clean(quick_client)
    assert srv.connections == 1  # a fresh connection that failed is never retried
    assert_recovers(quick_client, srv, 1)


BODY_FAULTS = [
    pytest.param(
        [
            ReadRequest(),
            Send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 40),
            Sleep(0.1),
            Close(),
        ],
        IncompleteResponse,
        id="truncated-content-length-body",
    ),
    pytest.param(
        [
            ReadRequest(),
            Send(CHUNKED_HEAD + b"5\r\nhello\r\n"),
            Sleep(0.1),
            Send(b"nothex\r\n"),
            WaitForClose(),
        ],
        ProtocolError,
        id="bad-chunk-size-later",
    ),
    pytest.param(
        [
            ReadRequest(),
            Send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000),
            Sleep(0.1),
            Reset(),
        ],
        ReadError,
        id="reset-mid-body",
    ),
]


@pytest.mark.parametrize(("script", "exc"), BODY_FAULTS)
def test_body_fault_while_streaming(
    fault_server: Start, quick_client: netwire.Client, script: list[object], exc: type[Exception]
) -> None:
    srv = fault_server([script, GOOD])
    with quick_client.stream("GET", srv.url("/stream")) as r:
        assert r.status == 200
        with pytest.raises(exc):
            while r.read(100):
                pass
        assert_pool_clean(quick_client)
    assert_pool_clean(quick_client)
    assert_recovers(quick_client, srv, 1)


@pytest.mark.parametrize(("script", "exc"), BODY_FAULTS)
def test_reading_on_after_a_failed_body_is_an_error(
    fault_server: Start, quick_client: netwire.Client, script: list[object], exc: type[Exception]
) -> None:
    srv = fault_server(script)
    with quick_client.stream("GET", srv.url("/stream")) as r:
        with pytest.raises(exc):
            while r.read(100):
                pass
        # A body that failed never looks complete: reading on is an error, not b"" / 0 (EOF),
        # or a caller that caught the error would take a truncated body for a whole one.
        with pytest.raises(StreamError):
            r.read(1)
        with pytest.raises(StreamError):
            r.readinto(bytearray(10))
        with pytest.raises(StreamError):
            r.read()


# -- deadlines -------------------------------------------------------------------------------------


def test_slow_trickle_body_total_deadline_fires(fault_server: Start) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    srv = fault_server([[ReadRequest(), Send(head), Trickle(b"x" * 1000, interval=0.02)], GOOD])
    with netwire.Client(timeout=netwire.Timeout(2.0, total=0.5)) as c:
        started = time.monotonic()
        with pytest.raises(TotalTimeout):
            c.get(srv.url("/slow"))
        elapsed = time.monotonic() - started
        # Each byte came well within the read timeout: only the total deadline could stop it.
        assert 0.4 <= elapsed < 1.5
        assert_pool_clean(c)


def test_slowloris_head_total_deadline_fires(fault_server: Start) -> None:
    srv = fault_server(
        [ReadRequest(), Trickle(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: y\r\n" * 500, interval=0.01, size=3)]
    )
    with netwire.Client(timeout=netwire.Timeout(2.0, total=0.4)) as c:
        started = time.monotonic()
        with pytest.raises(TotalTimeout):
            c.get(srv.url("/slowloris"))
        assert time.monotonic() - started < 1.5
        assert_pool_clean(c)


def test_total_deadline_of_a_streamed_body(fault_server: Start) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    srv = fault_server([ReadRequest(), Send(head), Trickle(b"x" * 1000, interval=0.02)])
    with netwire.Client(timeout=netwire.Timeout(2.0, total=0.5)) as c, c.stream("GET", srv.url("/")) as r:
        with pytest.raises(TotalTimeout):
            r.read()
        assert_pool_clean(c)


def test_read_timeout_waiting_for_the_head(fault_server: Start) -> None:
    srv = fault_server([[ReadRequest(), Sleep(5)], GOOD])
    with netwire.Client(timeout=netwire.Timeout(3.0, read=0.3)) as c:
        started = time.monotonic()
        with pytest.raises(ReadTimeout) as info:
            c.get(srv.url("/silent"))
        assert 0.25 <= time.monotonic() - started < 1.5
        assert isinstance(info.value, TimeoutError)
        assert str(srv.port) in str(info.value)
        assert_pool_clean(c)
        assert_recovers(c, srv, 1)


def test_streamed_read_timeout_then_reading_on_is_a_stream_error(fault_server: Start) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    srv = fault_server([ReadRequest(), Send(head), Sleep(1), Send(b"defghij")])
    with netwire.Client(timeout=netwire.Timeout(3.0, read=0.2)) as c, c.stream("GET", srv.url("/")) as r:
        assert r.read(3) == b"abc"
        with pytest.raises(ReadTimeout):
            r.read(3)
        # Reading on must not look like a clean end of the body (b"" / 0), or a caller that
        # caught the timeout would take a truncated body for a whole one.
        with pytest.raises(StreamError):
            r.read(3)
        with pytest.raises(StreamError):
            r.readinto(bytearray(3))
        with pytest.raises(StreamError):
            r.content  # noqa: B018 - the property read is the point
        assert_pool_clean(c)


def test_read_timeout_in_the_middle_of_the_body(fault_server: Start) -> None:
    srv = fault_server(
        [[ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), Sleep(5)], GOOD]
    )
    with netwire.Client(timeout=netwire.Timeout(3.0, read=0.3)) as c:
        with pytest.raises(ReadTimeout):
            c.get(srv.url("/stall"))
        assert_pool_clean(c)
        assert_recovers(c, srv, 1)


def test_per_request_timeout_overrides_the_clients(fault_server: Start) -> None:
    srv = fault_server([ReadRequest(), Sleep(5)])
    with netwire.Client(timeout=30) as c:
        started = time.monotonic()
        with pytest.raises(ReadTimeout):
            c.get(srv.url("/"), timeout=0.2)
        assert time.monotonic() - started < 1.5


def test_write_timeout_when_the_server_does_not_read(fault_server: Start) -> None:
    srv = fault_server([Sleep(10)])
    body = b"x" * (64 * 1024 * 1024)  # far more than the loopback socket buffers hold
    with netwire.Client(timeout=netwire.Timeout(3.0, write=0.3)) as c:
        started = time.monotonic()
        with pytest.raises(WriteTimeout):
            c.post(srv.url("/upload"), content=body)
        # At most the client's wait for 100 Continue (about 1 s) plus the write timeout.
        assert time.monotonic() - started < 3.0
        assert_pool_clean(c)


def test_connection_refused_is_a_connect_error(fault_server: Start) -> None:
    srv = fault_server([Close()])
    port = srv.port
    srv.stop()
    with netwire.Client(timeout=2) as c:
        with pytest.raises(ConnectError) as info:
            c.get(f"http://127.0.0.1:{port}/")
        assert str(port) in str(info.value)
        assert_pool_clean(c)


# -- a server closing an idle keep-alive connection -----------------------------------------------------


def _closes_second_request(end: object) -> list[list[object]]:
    """Connection 0 answers one request, then reads the next and drops it (``end``)."""
    return [[ReadRequest(), Send(response(b"first")), ReadRequest(), end], [Serve(response(b"second"))]]


@pytest.mark.parametrize("end", [Close(), Reset()], ids=["fin", "rst"])
@pytest.mark.parametrize("method", ["GET", "OPTIONS", "DELETE"])
def test_idempotent_request_is_retried_once_on_a_new_connection(
    fault_server: Start, quick_client: netwire.Client, end: object, method: str
) -> None:
    srv = fault_server(_closes_second_request(end))
    assert quick_client.get(srv.url("/1")).content == b"first"
    r = quick_client.request(method, srv.url("/2"))
    assert r.status == 200 and r.content == b"second"
    assert srv.connections == 2
    assert [(q.connection, q.method, q.target) for q in srv.requests] == [
        (0, "GET", "/1"),
        (0, method, "/2"),
        (1, method, "/2"),
    ]
    assert quick_client.pool.idle_count() == 1


def test_put_with_bytes_body_is_retried_with_the_same_body(
    fault_server: Start, quick_client: netwire.Client
) -> None:
    srv = fault_server(_closes_second_request(Close()))
    quick_client.get(srv.url("/1"))
    assert quick_client.put(srv.url("/2"), content=b"payload").content == b"second"
    assert [q.body for q in srv.requests[1:]] == [b"payload", b"payload"]
    assert srv.connections == 2


@pytest.mark.parametrize("end", [Close(), Reset()], ids=["fin", "rst"])
def test_post_is_not_retried(fault_server: Start, quick_client: netwire.Client, end: object) -> None:
    srv = fault_server(_closes_second_request(end))
    quick_client.get(srv.url("/1"))
    with pytest.raises(ReadError) as info:
        quick_client.post(srv.url("/2"), content=b"pay once")
    assert str(srv.port) in str(info.value)
    time.sleep(0.1)  # a retry, if any, would have connected by now
    assert srv.connections == 1
    assert [q.body for q in srv.requests if q.method == "POST"] == [b"pay once"]
    assert_pool_clean(quick_client)


def test_put_with_one_shot_body_is_not_retried(fault_server: Start, quick_client: netwire.Client) -> None:
    srv = fault_server(_closes_second_request(Close()))
    quick_client.get(srv.url("/1"))
    with pytest.raises(TransportError):
        quick_client.put(srv.url("/2"), content=iter([b"one ", b"shot"]))
    time.sleep(0.1)
    assert srv.connections == 1


def test_retry_happens_only_once(fault_server: Start, quick_client: netwire.Client) -> None:
    srv = fault_server(
        [[ReadRequest(), Send(response(b"first")), ReadRequest(), Close()], [ReadRequest(), Close()]]
    )
    quick_client.get(srv.url("/1"))
    with pytest.raises((IncompleteResponse, ReadError)):
        quick_client.get(srv.url("/2"))
    time.sleep(0.1)
    assert srv.connections == 2
    assert_pool_clean(quick_client)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connection_closed_while_idle_is_not_reused(
    fault_server: Start, quick_client: netwire.Client, method: str
) -> None:
    # The server's FIN arrives while the connection sits in the pool: the liveness check
    # sees it, so even a POST goes out on a new connection without any error.
    srv = fault_server([[ReadRequest(), Send(response(b"first")), Close()], [Serve(response(b"second"))]])
    assert quick_client.get(srv.url("/1")).content == b"first"
    assert srv.wait_idle(2)
    time.sleep(0.05)
    r = quick_client.request(method, srv.url("/2"), content=b"body" if method == "POST" else None)
    assert r.content == b"second"
    assert srv.connections == 2
    assert [q.connection for q in srv.requests] == [0, 1]


def test_connection_reset_while_idle_is_not_reused(fault_server: Start, quick_client: netwire.Client) -> None:
    srv = fault_server([[ReadRequest(), Send(response(b"first")), Reset()], [Serve(response(b"second"))]])
    quick_client.get(srv.url("/1"))
    assert srv.wait_idle(2)
    time.sleep(0.05)
    assert quick_client.post(srv.url("/2"), content=b"x").content == b"second"
    assert srv.connections == 2


# -- what must not be reused, and what may -----------------------------------------------------------


NOT_REUSABLE = [
    pytest.param(response(b"ok") + b"unsolicited", id="bytes-after-the-response"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
        id="a-second-unrequested-response",
    ),
    pytest.param(response(b"ok", headers=[("Connection", "close")]), id="connection-close"),
    pytest.param(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", id="http-1.0"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        id="both-content-length-and-chunked",
    ),
]


@pytest.mark.parametrize("status", [204, 304])
def test_bodyless_status_answered_with_a_body_is_not_reused(
    fault_server: Start, quick_client: netwire.Client, status: int
) -> None:
    srv = fault_server(
        [[ReadRequest(), Send(response(b"smuggled", status=status, reason="X")), WaitForClose()], GOOD]
    )
    r = quick_client.get(srv.url("/"))
    assert r.status == status and r.content == b""
    time.sleep(0.05)
    assert_recovers(quick_client, srv, 1)


def test_head_answered_with_a_body_is_not_reused(fault_server: Start, quick_client: netwire.Client) -> None:
    # A broken server sending a body to HEAD: those bytes are not a response; drop the connection.
    srv = fault_server([[ReadRequest(), Send(response(b"body!")), WaitForClose()], GOOD])
    r = quick_client.head(srv.url("/"))
    assert r.status == 200 and r.content == b""
    time.sleep(0.05)
    assert_recovers(quick_client, srv, 1)


@pytest.mark.parametrize("reply", NOT_REUSABLE)
def test_connection_not_reused(fault_server: Start, quick_client: netwire.Client, reply: bytes) -> None:
    srv = fault_server([[ReadRequest(), Send(reply), WaitForClose()], GOOD])
    assert quick_client.get(srv.url("/")).content == b"ok"
    assert_pool_clean(quick_client)
    assert_recovers(quick_client, srv, 1)


def test_read_until_close_body(fault_server: Start, quick_client: netwire.Client) -> None:
    srv = fault_server(
        [[ReadRequest(), Send(b"HTTP/1.1 200 OK\r\n\r\nuntil "), Sleep(0.05), Send(b"close"), Close()], GOOD]
    )
    assert quick_client.get(srv.url("/")).content == b"until close"
    assert_pool_clean(quick_client)
    assert_recovers(quick_client, srv, 1)


def test_keep_alive_reuses_one_connection(fault_server: Start, quick_client: netwire.Client) -> None:
    chunked = CHUNKED_HEAD + b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
    srv = fault_server(Serve(chunked))
    for _ in range(20):
        r = quick_client.get(srv.url("/"))
        assert r.content == b"abcde"
        assert r.trailers.get_list("x-trailer") == ["t"]
    assert srv.connections == 1 and len(srv.requests) == 20
    assert quick_client.pool.connections_opened == 1


def test_interim_responses_before_the_final_one(fault_server: Start, quick_client: netwire.Client) -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + response(
        b"final"
    )
    srv = fault_server(Serve(reply))
    r = quick_client.get(srv.url("/"))
    assert r.status == 200 and r.content == b"final"
    assert quick_client.get(srv.url("/")).content == b"final"
    assert srv.connections == 1


def test_what_the_server_receives(fault_server: Start, quick_client: netwire.Client) -> None:
    srv = fault_server(Serve(response(b"ok")))
    quick_client.get(srv.url("/path/x?q=1&r=%20"), headers={"X-Custom": "v"})

    def gen() -> Iterator[bytes]:
        yield b"chunk one, "
        yield b""
        yield b"chunk two"

    quick_client.post(srv.url("/upload"), content=gen())
    get, post = srv.requests
    assert (get.method, get.target) == ("GET", "/path/x?q=1&r=%20")
    assert get.header("host") == f"127.0.0.1:{srv.port}"
    assert get.header("x-custom") == "v"
    assert post.header("transfer-encoding") == "chunked" and post.header("content-length") is None
    assert post.body == b"chunk one, chunk two"
    assert srv.connections == 1


# -- uploads and Expect: 100-continue --------------------------------------------------------------------


def test_upload_of_unknown_length_waits_for_100_continue(
    fault_server: Start, quick_client: netwire.Client
) -> None:
    srv = fault_server(Serve(response(b"stored")))

    def gen() -> Iterator[bytes]:
        for i in range(100):
            yield b"%03d," % i

    started = time.monotonic()
    r = quick_client.put(srv.url("/up"), content=gen())
    assert r.content == b"stored"
    # The server said 100 Continue at once: no waiting out the client's continue timer.
    assert time.monotonic() - started < 0.5
    (req,) = srv.requests
    assert req.body == b"".join(b"%03d," % i for i in range(100))


def test_server_refusing_an_upload_before_its_body(fault_server: Start, quick_client: netwire.Client) -> None:
    srv = fault_server(
        [
            [
                ReadRequest(send_continue=False, read_body=False),
                Send(response(b"too big", status=413, reason="Content Too Large")),
                WaitForClose(),
            ],
            GOOD,
        ]
    )

    def gen() -> Iterator[bytes]:
        yield b"x" * 100_000

    r = quick_client.post(srv.url("/up"), content=gen(), headers={"Expect": "100-continue"})
    assert r.status == 413 and r.content == b"too big"
    # The announced body was never sent: that connection cannot carry another request.
    assert_pool_clean(quick_client)
    assert_recovers(quick_client, srv, 1)


def test_server_answering_before_reading_a_large_upload(fault_server: Start) -> None:
    # The server says 413 and closes without reading: the client must report the 413, not the
    # broken pipe it gets while still sending.
    srv = fault_server(
        [
            [
                ReadRequest(send_continue=False, read_body=False),
                Send(response(b"too big", status=413, reason="Content Too Large")),
                Sleep(0.3),
                Close(),
            ],
            GOOD,
        ]
    )
    with netwire.Client(timeout=3, expect_continue=None) as c:
        r = c.post(srv.url("/up"), content=b"x" * 20_000_000)
        assert r.status == 413 and r.content == b"too big"
        assert_pool_clean(c)
        assert_recovers(c, srv, 1)


# -- redirects over kept-alive connections ----------------------------------------------------------


def test_redirect_loop_is_bounded(fault_server: Start) -> None:
    srv = fault_server(Serve(response(b"again", status=302, reason="Found", headers=[("Location", "/loop")])))
    with netwire.Client(timeout=3, max_redirects=5) as c:
        with pytest.raises(netwire.TooManyRedirects) as info:
            c.get(srv.url("/loop"))
        assert len(info.value.history) == 6
        # Every hop's small body was drained, so one connection carried the whole loop.
        assert srv.connections == 1 and len(srv.requests) == 6


def test_303_turns_post_into_get_on_the_same_connection(fault_server: Start) -> None:
    replies = [
        response(b"", status=303, reason="See Other", headers=[("Location", "/result")]),
        response(b"result"),
    ]
    srv = fault_server([[ReadRequest(), Send(replies[0]), ReadRequest(), Send(replies[1]), WaitForClose()]])
    with netwire.Client(timeout=3) as c:
        r = c.post(srv.url("/form"), data={"a": "1"})
        assert r.content == b"result" and [h.status for h in r.history] == [303]
    assert [(q.method, q.target, q.body) for q in srv.requests] == [
        ("POST", "/form", b"a=1"),
        ("GET", "/result", b""),
    ]
    assert srv.connections == 1


def test_connect_timeout_against_a_full_accept_queue() -> None:
    # A listener that never accepts, its queue filled: further SYNs are dropped, so connecting hangs.
    with full_backlog() as listener:
        port = listener.getsockname()[1]
        with netwire.Client(timeout=netwire.Timeout(3.0, connect=0.3)) as c:
            started = time.monotonic()
            with pytest.raises(netwire.ConnectTimeout) as info:
                c.get(f"http://127.0.0.1:{port}/")
            assert 0.25 <= time.monotonic() - started < 1.5
            assert str(port) in str(info.value)
            assert_pool_clean(c)


def test_unsolicited_response_on_an_idle_connection_is_never_taken_as_the_next_answer(
    fault_server: Start, quick_client: netwire.Client
) -> None:
    evil = response(b"evil")
    srv = fault_server(
        [[ReadRequest(), Send(response(b"first")), Sleep(0.05), Send(evil), WaitForClose()], GOOD]
    )
    assert quick_client.get(srv.url("/1")).content == b"first"
    time.sleep(0.2)  # the unsolicited bytes arrive while the connection sits idle in the pool
    assert_recovers(quick_client, srv, 1)


def test_client_parser_limits_apply(fault_server: Start) -> None:
    reply = response(b"ok", headers=[(f"X-{i}", "v") for i in range(10)])
    srv = fault_server(Serve(reply))
    with netwire.Client(timeout=3) as c:
        assert c.get(srv.url("/")).content == b"ok"
    with netwire.Client(timeout=3, parser_limits=ParserLimits(max_header_count=5)) as c:
        with pytest.raises(ProtocolError, match="max_header_count=5"):
            c.get(srv.url("/"))
        assert_pool_clean(c)


# -- the Response API over a scripted body ------------------------------------------------------------

CHUNKS = [b"abc", b"defgh", b"i", b"jklmnopqrstu", b"vwxyz"]
CHUNKED_REPLY = CHUNKED_HEAD + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in CHUNKS) + b"0\r\n\r\n"


def test_iter_bytes_with_chunk_size_regroups_chunks(
    fault_server: Start, quick_client: netwire.Client
) -> None:
    srv = fault_server(Serve(CHUNKED_REPLY))
    with quick_client.stream("GET", srv.url("/")) as r:
        pieces = list(r.iter_bytes(chunk_size=7))
    assert b"".join(pieces) == b"".join(CHUNKS)
    assert [len(p) for p in pieces] == [7, 7, 7, 5]
    assert quick_client.pool.idle_count() == 1  # read to the end: back in the pool


def test_readinto_a_slice_of_a_larger_buffer(fault_server: Start, quick_client: netwire.Client) -> None:
    srv = fault_server(Serve(CHUNKED_REPLY))
    buf = bytearray(b"#" * 40)
    view = memoryview(buf)
    pos = 5
    with quick_client.stream("GET", srv.url("/")) as r:
        while n := r.readinto(view[pos : pos + 4]):
            pos += n
    assert bytes(buf[5:pos]) == b"".join(CHUNKS) and buf[:5] == b"#####" and buf[pos:] == b"#" * (40 - pos)


@pytest.mark.parametrize(
    ("content_type", "raw", "text"),
    [
        ("text/plain; charset=iso-8859-1", "café".encode("latin-1"), "café"),
        ("text/plain; charset=utf-8", "café ∮".encode(), "café ∮"),
        ('text/plain; charset="UTF-8"', "ü".encode(), "ü"),
        ("application/json", '{"k": "ü"}'.encode(), '{"k": "ü"}'),
        ("text/plain; charset=no-such-charset", "ü".encode(), "ü"),
    ],
)
def test_text_decodes_with_the_charset(
    fault_server: Start, quick_client: netwire.Client, content_type: str, raw: bytes, text: str
) -> None:
    srv = fault_server(Serve(response(raw, headers=[("Content-Type", content_type)])))
    r = quick_client.get(srv.url("/"))
    assert r.content == raw and r.text == text


def test_json_and_raise_for_status(fault_server: Start, quick_client: netwire.Client) -> None:
    srv = fault_server(Serve(response(b'{"error": "nope"}', status=503, reason="Service Unavailable")))
    r = quick_client.get(srv.url("/"))
    assert r.json() == {"error": "nope"}
    with pytest.raises(netwire.HTTPStatusError) as info:
        r.raise_for_status()
    assert info.value.response is r and "503" in str(info.value)
