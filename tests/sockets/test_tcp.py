"""TCPServer and connect_tcp on real loopback sockets, in both handler styles."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from netwire.errors import ConnectError
from netwire.sockets.framing import encode_frame
from netwire.sockets.stream import Stream
from netwire.sockets.tcp import Connection, TCPServer, connect_tcp

MODES = ["stream", "line", "line-2-loops"]


def echo_stream(stream: Stream) -> None:
    for line in stream.iter_lines():
        if line == b"boom":
            raise RuntimeError("handler exploded on purpose")
        stream.send_line(b"echo:" + line)


def echo_line(line: bytes, conn: Connection) -> bytes:
    if line == b"boom":
        raise RuntimeError("handler exploded on purpose")
    return b"echo:" + line


def make_server(mode: str, host: str | None = "127.0.0.1", **kw: Any) -> TCPServer:
    if mode == "stream":
        return TCPServer(echo_stream, host, 0, **kw)
    if mode == "line-2-loops":
        return TCPServer(echo_line, host, 0, framing="line", loops=2, **kw)
    return TCPServer(echo_line, host, 0, framing="line", **kw)


def exchange(port: int, lines: list[bytes], host: str = "127.0.0.1") -> list[bytes | None]:
    with connect_tcp(host, port, timeout=5) as s:
        out = []
        for line in lines:
            s.send_line(line)
            out.append(s.recv_line())
        return out


@pytest.mark.parametrize("mode", MODES)
def test_many_concurrent_clients(mode: str) -> None:
    results: dict[int, list[bytes | None]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(60)

    def client(i: int, port: int) -> None:
        try:
            with connect_tcp("127.0.0.1", port, timeout=10) as s:
                start.wait()  # all 60 connected at once
                got: list[bytes | None] = []
                for j in range(20):
                    s.send_line(f"{i}-{j}".encode())
                    got.append(s.recv_line())
                results[i] = got
        except BaseException as exc:
            errors.append(exc)

    with make_server(mode, timeout=10) as server:
        threads = [threading.Thread(target=client, args=(i, server.port)) for i in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not errors
    assert len(results) == 60
    for i, got in results.items():
        assert got == [f"echo:{i}-{j}".encode() for j in range(20)]


@pytest.mark.parametrize("mode", MODES)
def test_stalled_half_frame_times_out_others_unaffected(mode: str) -> None:
    with make_server(mode, timeout=0.4) as server:
        staller = socket.create_connection(("127.0.0.1", server.port))
        staller.sendall(b"half a li")  # no newline, then silence
        t0 = time.monotonic()
        # Meanwhile another client is served normally, repeatedly.
        for k in range(5):
            assert exchange(server.port, [b"a", b"b"]) == [b"echo:a", b"echo:b"], k
        staller.settimeout(5)
        assert staller.recv(100) == b""  # the server gave up on it
        elapsed = time.monotonic() - t0
        staller.close()
    assert 0.3 < elapsed < 3


@pytest.mark.parametrize("mode", MODES)
def test_handler_error_is_contained(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="netwire.sockets")
    with make_server(mode) as server:
        bad = connect_tcp("127.0.0.1", server.port, timeout=5)
        bad.send_line(b"boom")
        assert bad.recv_line() is None  # closed by the server
        bad.close()
        assert exchange(server.port, [b"still", b"alive"]) == [b"echo:still", b"echo:alive"]
    assert any("exploded on purpose" in (r.exc_text or "") or "handler failed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("mode", MODES)
def test_over_long_line_closes_only_that_connection(mode: str) -> None:
    def stream_handler(stream: Stream) -> None:
        while (line := stream.recv_line(max_size=100)) is not None:
            stream.send_line(line)

    if mode == "stream":
        server = TCPServer(stream_handler, "127.0.0.1", 0)
    else:
        loops = 2 if mode == "line-2-loops" else 1
        server = TCPServer(lambda m, c: m, "127.0.0.1", 0, framing="line", max_message=100, loops=loops)
    with server:
        c = socket.create_connection(("127.0.0.1", server.port))
        c.sendall(b"x" * 1000 + b"\n")
        c.settimeout(5)
        assert c.recv(100) == b""
        c.close()
        with connect_tcp("127.0.0.1", server.port, timeout=5) as s:
            s.send_line(b"ok")
            assert s.recv_line() == b"ok"


def test_graceful_shutdown_stream_mode_replies_to_all_in_flight() -> None:
    started = threading.Semaphore(0)

    def slow(stream: Stream) -> None:
        line = stream.recv_line()
        started.release()
        time.sleep(0.3)  # still working when close() is called
        stream.send_line(b"done:" + (line or b""))

    server = TCPServer(slow, "127.0.0.1", 0, grace=5).start()
    clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
    for i, c in enumerate(clients):
        c.sendall(f"{i}\n".encode())
    for _ in range(5):
        assert started.acquire(timeout=5)
    server.close()
    for i, c in enumerate(clients):
        c.settimeout(5)
        data = b""
        while chunk := c.recv(100):
            data += chunk
        assert data == f"done:{i}\n".encode()
        c.close()
    with pytest.raises(ConnectError):
        connect_tcp("127.0.0.1", server.port, timeout=1)


@pytest.mark.parametrize("loops", [1, 2])
def test_graceful_shutdown_message_mode_answers_what_arrived(loops: int) -> None:
    first = threading.Event()

    def slow_echo(line: bytes, conn: Connection) -> bytes:
        first.set()
        time.sleep(0.01)  # 30 requests take the loop 0.3 s: most are still queued at close()
        return b"echo:" + line

    server = TCPServer(slow_echo, "127.0.0.1", 0, framing="line", grace=5, loops=loops).start()
    clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(30)]
    for i, c in enumerate(clients):
        c.sendall(f"{i}\n".encode())
    assert first.wait(5)
    server.close()
    for i, c in enumerate(clients):
        c.settimeout(5)
        data = b""
        while chunk := c.recv(100):
            data += chunk
        assert data == f"echo:{i}\n".encode()
        c.close()


def test_grace_period_cuts_stuck_handlers() -> None:
    def stuck(stream: Stream) -> None:
        stream.recv_line()  # waits for a line that never comes

    server = TCPServer(stuck, "127.0.0.1", 0, timeout=None).start()
    c = socket.create_connection(("127.0.0.1", server.port))
    time.sleep(0.05)
    t = time.monotonic()
    server.close(grace=0.2)
    assert time.monotonic() - t < 2
    c.settimeout(2)
    assert c.recv(10) == b""
    c.close()


@pytest.mark.parametrize("mode", MODES)
def test_ipv6_loopback(mode: str) -> None:
    with make_server(mode, host="::1") as server:
        assert server.address[0] == "::1"
        assert exchange(server.port, [b"six"], host="::1") == [b"echo:six"]


def test_dual_stack_wildcard() -> None:
    with make_server("line", host=None) as server:
        assert server.address[0] == "::"
        assert exchange(server.port, [b"v4"], host="127.0.0.1") == [b"echo:v4"]
        assert exchange(server.port, [b"v6"], host="::1") == [b"echo:v6"]


def test_frame_mode() -> None:
    server = TCPServer(lambda m, c: m[::-1], "127.0.0.1", 0, framing="frame")
    with server, connect_tcp("127.0.0.1", server.port, timeout=5) as s:
        s.send_all(encode_frame(b"abc") + encode_frame(b"") + encode_frame(b"xyz"))
        assert [s.recv_message() for _ in range(3)] == [b"cba", b"", b"zyx"]


def test_max_connections_bounds_concurrency() -> None:
    lock = threading.Lock()
    live = [0, 0]  # current, peak

    def handler(stream: Stream) -> None:
        with lock:
            live[0] += 1
            live[1] = max(live[1], live[0])
        time.sleep(0.1)
        stream.send_line(b"hi")
        with lock:
            live[0] -= 1

    with TCPServer(handler, "127.0.0.1", 0, max_connections=3) as server:
        socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(9)]
        for c in socks:
            c.settimeout(5)
            assert c.recv(10) == b"hi\n"
            c.close()
    assert live[1] == 3


@pytest.mark.parametrize("mode", MODES)
def test_no_fd_leak_after_10000_connections(mode: str, open_fds: Callable[[], int]) -> None:
    before = open_fds()
    server = make_server(mode, timeout=5).start()
    addr = ("127.0.0.1", server.port)
    for i in range(10_000):
        c = socket.create_connection(addr)
        c.sendall(b"x\n")
        assert c.recv(16) == b"echo:x\n", i
        c.close()
    server.close()
    assert server.accepted == 10_000
    assert open_fds() == before


def test_connect_tcp_refused(free_port: Callable[..., int]) -> None:
    with pytest.raises(ConnectError):
        connect_tcp("127.0.0.1", free_port(), timeout=2)


def test_close_before_start_releases_port() -> None:
    server = make_server("line")
    port = server.port
    server.close()
    with pytest.raises(ConnectError):
        connect_tcp("127.0.0.1", port, timeout=1)


def test_half_closed_client_gets_every_large_reply() -> None:
    big = b"z" * 1_000_000
    with TCPServer(lambda m, c: big + m, "127.0.0.1", 0, framing="line") as server:
        c = socket.create_connection(("127.0.0.1", server.port))
        c.sendall(b"1\n2\n3\n4\n5\n")
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.2)  # let the server hit EOF with megabytes still queued
        c.settimeout(5)
        got = bytearray()
        while chunk := c.recv(1 << 20):
            got += chunk
        c.close()
    assert bytes(got) == b"".join(big + n + b"\n" for n in (b"1", b"2", b"3", b"4", b"5"))


def test_message_handler_send_and_reply_keep_their_order() -> None:
    def handler(msg: bytes, conn: Connection) -> bytes:
        conn.send(b"first:" + msg)
        return b"second:" + msg

    with TCPServer(handler, "127.0.0.1", 0, framing="line") as server:
        assert exchange(server.port, [b"a"]) == [b"first:a"]
        with connect_tcp("127.0.0.1", server.port, timeout=5) as s:
            for m in (b"x", b"y"):
                s.send_line(m)
                assert [s.recv_line(), s.recv_line()] == [b"first:" + m, b"second:" + m]


def test_loops_need_message_handlers() -> None:
    with pytest.raises(ValueError):
        TCPServer(echo_stream, "127.0.0.1", 0, loops=2)


def test_two_loops_share_the_connections() -> None:
    threads: set[int] = set()

    def handler(msg: bytes, conn: Connection) -> bytes:
        threads.add(threading.get_ident())
        return msg

    with TCPServer(handler, "127.0.0.1", 0, framing="line", loops=2) as server:
        for _ in range(6):
            assert exchange(server.port, [b"x"]) == [b"x"]
    assert len(threads) == 2
