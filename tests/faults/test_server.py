"""The fault server itself, checked with bare sockets (no netwire involved)."""

from __future__ import annotations

import socket
import time

import pytest

from tests.servers.faults import (
    Close,
    FaultServer,
    ReadRequest,
    Reset,
    Script,
    Send,
    Serve,
    Sleep,
    Trickle,
    WaitForClose,
    response,
)

pytestmark = pytest.mark.timeout(10)


def _connect(srv: FaultServer) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
    return s


def _read_all(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def test_scripted_exchange_and_recorded_requests() -> None:
    script: Script = [ReadRequest(), Send(response(b"hi")), Close()]
    with FaultServer(script) as srv:
        s = _connect(srv)
        s.sendall(b"POST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
        assert _read_all(s) == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        s.close()
        assert srv.wait_idle()
        (req,) = srv.requests
        assert (req.connection, req.method, req.target, req.body) == (0, "POST", "/x?y=1", b"abc")
        assert req.header("HOST") == "a"
        assert srv.connections == 1


def test_chunked_request_body_is_decoded_and_100_continue_sent() -> None:
    with FaultServer(Serve(response(b"ok"))) as srv:
        s = _connect(srv)
        s.sendall(b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n")
        assert s.recv(100).endswith(b"\r\n\r\nok")
        s.close()
        assert srv.wait_idle()
        assert srv.requests[0].body == b"abcde"


def test_per_connection_scripts_and_connection_count() -> None:
    scripts: list[Script] = [[Send(b"first"), Close()], [Send(b"second"), Close()], [Send(b"rest"), Close()]]
    with FaultServer(scripts) as srv:
        got = []
        for _ in range(4):
            s = _connect(srv)
            got.append(_read_all(s))
            s.close()
        assert got == [b"first", b"second", b"rest", b"rest"]
        assert srv.connections == 4


def test_callable_script() -> None:
    def script(i: int) -> Script:
        return [Send(b"conn %d" % i), Close()]

    with FaultServer(script) as srv:
        for i in range(3):
            s = _connect(srv)
            assert _read_all(s) == b"conn %d" % i
            s.close()


def test_reset_sends_rst() -> None:
    script: Script = [Send(b"partial"), Sleep(0.1), Reset()]
    with FaultServer(script) as srv:
        s = _connect(srv)
        time.sleep(0.3)
        with pytest.raises(ConnectionResetError):
            while s.recv(65536):
                pass
        s.close()


def test_trickle_is_slow() -> None:
    script: Script = [Trickle(b"abcdef", interval=0.05, size=2), Close()]
    with FaultServer(script) as srv:
        s = _connect(srv)
        started = time.monotonic()
        assert _read_all(s) == b"abcdef"
        assert time.monotonic() - started >= 0.1
        s.close()


def test_stop_ends_sleeping_and_waiting_connections_promptly() -> None:
    scripts: list[Script] = [[Sleep(30)], [WaitForClose(30)]]
    srv = FaultServer(scripts)
    a, b = _connect(srv), _connect(srv)
    assert srv.wait_for_connections(2)
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 2
    assert _read_all(a) == b"" and _read_all(b) == b""
    a.close()
    b.close()
    with pytest.raises(OSError):
        _connect(srv)


def test_serve_keeps_the_connection_alive() -> None:
    with FaultServer(Serve(response(b"x"), times=3)) as srv:
        s = _connect(srv)
        for _ in range(3):
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert s.recv(1000).endswith(b"\r\n\r\nx")
        assert _read_all(s) == b""  # closed after `times` requests
        s.close()
        assert srv.connections == 1 and len(srv.requests) == 3
