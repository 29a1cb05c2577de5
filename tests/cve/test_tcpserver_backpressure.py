"""TCPServer message mode under a client that sends requests and never reads the replies.

Before: the server kept reading such a client and queued every reply (hundreds of MiB), and each
flush re-joined the whole backlog, so every other client waited behind megabyte copies. Now the
server stops reading a client once ``write_high`` bytes are queued for it (asyncio's
``pause_reading``), reads it again below ``write_low``, and hands the queue to the kernel as a
deque of chunks (never re-joined). Real sockets on loopback.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from typing import Any

import pytest

from netwire.sockets.tcp import DEFAULT_WRITE_HIGH, Connection, TCPServer, connect_tcp

pytestmark = pytest.mark.timeout(60)

REPLY = 64 * 1024  # each one-byte request gets this much back: replies pile up fast
REQUESTS = 1500  # 96 MiB of replies if all were queued
# The kernel holds some replies too: the server's send buffer (tcp_wmem, up to 4 MiB by
# default) and the client's receive buffer (made small below); beyond that, only the queue.
KERNEL_SLACK = 6 * 1024 * 1024


class Amplifier:
    """A line handler answering each line with REPLY bytes, counting what it produced."""

    def __init__(self) -> None:
        self.produced = 0
        self.conns: list[Connection] = []
        self.lock = threading.Lock()

    def __call__(self, line: bytes, conn: Connection) -> bytes:
        if line == b"ping":
            return b"pong"
        with self.lock:
            self.produced += REPLY
            if conn not in self.conns:
                self.conns.append(conn)
        return b"z" * (REPLY - 1)


class Hog:
    """A client that sends ``requests`` one-byte lines (from a thread: the sends block once the
    server stops reading it) and reads nothing until told to."""

    def __init__(self, port: int, requests: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.sock.connect(("127.0.0.1", port))
        self.requests = requests
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self) -> None:
        try:
            for _ in range(self.requests // 50):
                self.sock.sendall(b"x\n" * 50)
                time.sleep(0.001)
        except OSError:
            pass  # closed by the test

    def close(self) -> None:
        self.sock.close()
        self.thread.join(10)


def _settle(handler: Amplifier) -> int:
    """What the handler has produced once it stopped producing."""
    last = -1
    while handler.produced != last:
        last = handler.produced
        time.sleep(0.3)
    return last


@pytest.mark.parametrize("loops", [1, 2])
def test_a_client_that_never_reads_gets_its_reading_paused(loops: int) -> None:
    handler = Amplifier()
    with TCPServer(handler, "127.0.0.1", 0, framing="line", loops=loops) as server:
        hog = Hog(server.port, REQUESTS)
        try:
            produced = _settle(handler)
            # Bounded: the queue mark, one reply over it, and what the kernel buffers hold.
            assert produced <= DEFAULT_WRITE_HIGH + REPLY + KERNEL_SLACK, produced
            assert produced < REQUESTS * REPLY // 4
            (conn,) = handler.conns
            assert conn.queued <= DEFAULT_WRITE_HIGH + REPLY
            # The server is not stuck: once the client reads, it gets every reply, in order.
            hog.sock.settimeout(10)
            expected = REQUESTS * REPLY
            got = 0
            while got < expected:
                chunk = hog.sock.recv(1 << 20)
                assert chunk, f"closed after {got} of {expected} bytes"
                got += len(chunk)
            hog.thread.join(10)
            hog.sock.sendall(b"ping\n")
            assert hog.sock.recv(100) == b"pong\n"
            assert got == expected and handler.produced == REQUESTS * REPLY
        finally:
            hog.close()


def test_other_clients_stay_fast_while_one_never_reads() -> None:
    handler = Amplifier()
    with TCPServer(handler, "127.0.0.1", 0, framing="line") as server:
        hogs = [Hog(server.port, REQUESTS) for _ in range(3)]
        times: list[float] = []
        try:
            with connect_tcp("127.0.0.1", server.port, timeout=10) as client:
                deadline = time.monotonic() + 3.0
                while time.monotonic() < deadline or len(times) < 20:
                    started = time.perf_counter()
                    client.send_line(b"ping")
                    assert client.recv_line() == b"pong"
                    times.append(time.perf_counter() - started)
                    time.sleep(0.01)
        finally:
            for hog in hogs:
                hog.close()
        # Each hog is paused after a few hundred KiB, so it costs the loop next to nothing.
        median = statistics.median(times)
        assert median < 0.05, (median, max(times))
        assert _bounded(handler, len(hogs))


def _bounded(handler: Amplifier, hogs: int) -> Any:
    return handler.produced <= max(hogs, 1) * (DEFAULT_WRITE_HIGH + REPLY + KERNEL_SLACK)


def test_write_marks_are_configurable() -> None:
    handler = Amplifier()
    with TCPServer(handler, "127.0.0.1", 0, framing="line", write_high=REPLY, write_low=0) as server:
        hog = Hog(server.port, 400)
        try:
            _settle(handler)
            (conn,) = handler.conns
            assert conn.queued <= 2 * REPLY
        finally:
            hog.close()
    with pytest.raises(ValueError):
        TCPServer(handler, "127.0.0.1", 0, framing="line", write_high=10, write_low=20)


def test_queued_replies_go_out_in_order_without_rejoining() -> None:
    # Many small replies queued behind a slow reader arrive whole and in order.
    def handler(line: bytes, conn: Connection) -> bytes:
        for i in range(50):
            conn.send(line + b"-%d" % i)
        return line + b"-end"

    with (
        TCPServer(handler, "127.0.0.1", 0, framing="line", write_high=4096) as server,
        socket.create_connection(("127.0.0.1", server.port)) as s,
    ):
        s.sendall(b"".join(b"m%d\n" % n for n in range(2000)))
        time.sleep(0.3)
        s.settimeout(10)
        want = b"".join(
            b"".join(b"m%d-%d\n" % (n, i) for i in range(50)) + b"m%d-end\n" % n for n in range(2000)
        )
        got = bytearray()
        while len(got) < len(want):
            chunk = s.recv(1 << 20)
            assert chunk
            got += chunk
        assert bytes(got) == want


def test_echo_command_drops_idle_clients() -> None:
    # `netwire tcp listen --echo` is reachable by anyone: it has an idle timeout by default
    # (60 s; --timeout changes it, 0 turns it off).
    import os
    import subprocess
    import sys

    from netwire.cli.commands.tcp import ECHO_IDLE_TIMEOUT, _echo_timeout

    assert ECHO_IDLE_TIMEOUT == 60.0
    assert _echo_timeout(None) == 60.0 and _echo_timeout(0) is None and _echo_timeout(2.5) == 2.5
    proc = subprocess.Popen(
        [sys.executable, "-m", "netwire", "tcp", "listen", "0", "--host", "127.0.0.1", "--echo", "--timeout", "0.5"],
        stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()
        port = int(line.rsplit(":", 1)[1])
        with connect_tcp("127.0.0.1", port, timeout=10) as c:
            c.send_line(b"hi")
            assert c.recv_line() == b"hi"
            started = time.monotonic()
            assert c.recv_line() is None  # closed by the server, idle
            assert 0.4 <= time.monotonic() - started < 5.0
    finally:
        proc.terminate()
        proc.wait(15)
