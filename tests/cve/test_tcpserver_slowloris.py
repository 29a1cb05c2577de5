"""TCPServer under slowloris: clients that hold a connection slot by trickling bytes.

Before: the idle timeout was per receive, so a byte every few seconds kept a connection (and, with
``max_connections`` of them, every slot) forever; a frame server took 16 MiB frames by default,
1024 partial ones being 16 GiB. Now a line or frame must be complete within ``message_timeout``
(30 s by default) of its first byte, ``max_lifetime`` can cap a connection's age, frames are 1 MiB
by default and ``max_buffered`` (64 MiB) bounds the partial messages of all connections. Real
sockets on loopback, every test bounded in time.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time

import pytest

from netwire.sockets.aio import AsyncStream, connect_tcp_async, serve_tcp_async
from netwire.sockets.stream import Stream
from netwire.sockets.tcp import (
    DEFAULT_MAX_BUFFERED,
    DEFAULT_MESSAGE_TIMEOUT,
    DEFAULT_SERVER_MAX_FRAME,
    Connection,
    TCPServer,
    connect_tcp,
)
from tests.timing import wait_until

pytestmark = pytest.mark.timeout(60)

SLOTS = 4


def echo(line: bytes, conn: Connection) -> bytes:
    return line


def echo_stream(stream: Stream) -> None:
    for line in stream.iter_lines():
        stream.send_line(line)


class Loris:
    """Connections that each send one byte every ``every`` seconds and never finish a message."""

    def __init__(self, port: int, count: int, every: float = 0.1, prefix: bytes = b"") -> None:
        self.socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        for s in self.socks:
            s.sendall(prefix)
        self.closed_at: dict[int, float] = {}
        self.started = time.monotonic()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, args=(every, b"a"), daemon=True)
        self.thread.start()

    def _trickle(self, every: float, byte: bytes) -> None:
        while not self.stop.is_set() and len(self.closed_at) < len(self.socks):
            for i, s in enumerate(self.socks):
                if i in self.closed_at:
                    continue
                try:
                    s.send(byte)
                except OSError:
                    self.closed_at[i] = time.monotonic() - self.started
            self.stop.wait(every)

    def all_cut_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(self.closed_at) < len(self.socks):
            time.sleep(0.05)
        return len(self.closed_at) == len(self.socks)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()


def _round_trip(port: int, timeout: float) -> bytes | None:
    with connect_tcp("127.0.0.1", port, timeout=timeout) as c:
        c.send_line(b"hello")
        return c.recv_line()


@pytest.mark.parametrize("mode", ["line", "frame", "stream"])
def test_trickling_clients_are_cut_by_the_message_deadline(mode: str) -> None:
    handler = echo_stream if mode == "stream" else echo
    framing = None if mode == "stream" else mode
    prefix = struct.pack("!I", 1000) if mode == "frame" else b""  # a frame that never completes
    with TCPServer(
        handler, "127.0.0.1", 0, framing=framing, max_connections=SLOTS, message_timeout=0.6  # type: ignore[arg-type]
    ) as server:
        loris = Loris(server.port, SLOTS, prefix=prefix)
        try:
            assert wait_until(lambda: server.active_connections == SLOTS), server.active_connections  # every slot held
            # Each sends a byte every 0.1 s, far inside the 60 s idle timeout; the message
            # deadline cuts them all the same, and the slots are free again.
            assert loris.all_cut_within(5.0), loris.closed_at
            assert all(0.5 <= t < 4.0 for t in loris.closed_at.values()), loris.closed_at
            if mode != "frame":
                assert _round_trip(server.port, timeout=5) == b"hello"
        finally:
            loris.close()


def test_a_waiting_client_gets_a_slot_once_the_lorises_are_cut() -> None:
    with TCPServer(echo, "127.0.0.1", 0, framing="line", max_connections=SLOTS, message_timeout=0.6) as server:
        loris = Loris(server.port, SLOTS)
        try:
            time.sleep(0.3)
            started = time.monotonic()
            assert _round_trip(server.port, timeout=10) == b"hello"  # waits in the accept queue
            assert time.monotonic() - started < 5.0
        finally:
            loris.close()


def test_a_slow_but_steady_message_within_the_deadline_is_served() -> None:
    with TCPServer(echo, "127.0.0.1", 0, framing="line", message_timeout=2.0) as server, \
            connect_tcp("127.0.0.1", server.port, timeout=5) as c:
        for piece in (b"he", b"ll", b"o\n"):
            c.send_all(piece)
            time.sleep(0.2)
        assert c.recv_line() == b"hello"
        # Idle between messages is the idle timeout's business, not the message deadline's.
        time.sleep(2.5)
        c.send_line(b"again")
        assert c.recv_line() == b"again"


@pytest.mark.parametrize("mode", ["line", "stream"])
def test_max_lifetime_closes_even_a_busy_connection(mode: str) -> None:
    handler = echo_stream if mode == "stream" else echo
    framing = None if mode == "stream" else "line"
    with (
        TCPServer(handler, "127.0.0.1", 0, framing=framing, max_lifetime=0.8) as server,  # type: ignore[arg-type]
        connect_tcp("127.0.0.1", server.port, timeout=5) as c,
    ):
        started = time.monotonic()
        answered = 0
        while True:
            try:
                c.send_line(b"x")
                if c.recv_line() is None:
                    break
            except OSError:
                break
            answered += 1
            assert time.monotonic() - started < 5.0, "max_lifetime not enforced"
            time.sleep(0.05)
        assert answered > 3
        assert 0.7 <= time.monotonic() - started < 5.0


def test_frames_are_1_mib_at_most_by_default() -> None:
    assert DEFAULT_SERVER_MAX_FRAME == 1024 * 1024
    assert DEFAULT_MESSAGE_TIMEOUT == 30.0
    with TCPServer(echo, "127.0.0.1", 0, framing="frame") as server:
        assert server.max_message == DEFAULT_SERVER_MAX_FRAME
        assert server.max_buffered == DEFAULT_MAX_BUFFERED
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(struct.pack("!I", 2 * 1024 * 1024))  # announces 2 MiB: refused at once
            s.settimeout(5)
            assert s.recv(10) == b""


def test_partial_messages_share_a_buffer_budget() -> None:
    budget = 1024 * 1024
    with TCPServer(
        echo, "127.0.0.1", 0, framing="frame", max_message=budget, max_buffered=budget
    ) as server:
        socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
        try:
            for s in socks:
                # 600 KiB of a 1 MiB frame each: two of them already pass the budget.
                s.sendall(struct.pack("!I", budget) + b"p" * (600 * 1024))
                time.sleep(0.1)
            # The connections over the budget are dropped as their bytes are read: wait for that.
            assert wait_until(lambda: server.active_connections <= 1), server.active_connections
            assert server._buffered <= budget
            # A client within the budget is still served.
            with connect_tcp("127.0.0.1", server.port, timeout=5) as c:
                c.send_message(b"hi")
                assert c.recv_message() == b"hi"
        finally:
            for s in socks:
                s.close()


# -- the asyncio twin: serve_tcp_async applies the same time limits -----------------------------------


async def _async_echo(stream: AsyncStream) -> None:
    async for line in stream.iter_lines():
        await stream.send_line(line)


def test_async_server_cuts_trickling_clients() -> None:
    async def main() -> None:
        server = await serve_tcp_async(_async_echo, "127.0.0.1", 0, message_timeout=0.6)
        try:
            trickler = await connect_tcp_async("127.0.0.1", server.port, timeout=10)
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < 5.0:
                try:
                    await trickler.send_all(b"a")  # a byte every 0.1 s: never idle
                except OSError:
                    closed = True
                    break
                try:
                    await asyncio.wait_for(trickler.reader.read(1), 0.1)
                    closed = True  # b"": the server closed it
                    break
                except TimeoutError:
                    pass
            assert closed and 0.5 <= time.monotonic() - started < 5.0
            await trickler.close()
            good = await connect_tcp_async("127.0.0.1", server.port, timeout=5)
            await good.send_line(b"hello")
            assert await good.recv_line() == b"hello"
            await good.close()
        finally:
            await server.close()

    asyncio.run(main())


def test_async_server_max_lifetime() -> None:
    async def main() -> None:
        server = await serve_tcp_async(_async_echo, "127.0.0.1", 0, max_lifetime=0.8)
        try:
            c = await connect_tcp_async("127.0.0.1", server.port, timeout=5)
            started = time.monotonic()
            answered = 0
            while time.monotonic() - started < 5.0:
                try:
                    await c.send_line(b"x")
                    if await c.recv_line() is None:
                        break
                except OSError:
                    break
                answered += 1
                await asyncio.sleep(0.05)
            assert answered > 3 and 0.7 <= time.monotonic() - started < 5.0
            await c.close()
        finally:
            await server.close()

    asyncio.run(main())
