"""AF_UNIX servers/clients, UDP exchanges, and the asyncio twins, on real sockets."""

from __future__ import annotations

import asyncio
import os
import pathlib
import socket
import threading
import time
from typing import Any

import pytest

from netwire.errors import ConnectError, ConnectTimeout, ProtocolError, ReadError, ReadTimeout
from netwire.sockets.aio import AsyncStream, connect_tcp_async, connect_unix_async, serve_tcp_async
from netwire.sockets.stream import Stream
from netwire.sockets.tcp import Connection
from netwire.sockets.udp import MAX_UDP_PAYLOAD_IPV4, UDPClient, UDPServer, send_udp
from netwire.sockets.unix import UnixServer, connect_unix


# -- AF_UNIX --------------------------------------------------------------------------------------
def test_unix_stream_server(tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "echo.sock")

    def handler(stream: Stream) -> None:
        for line in stream.iter_lines():
            stream.send_line(line.upper())

    with UnixServer(handler, path) as server:
        assert server.path == path
        with connect_unix(path, timeout=5) as s:
            s.send_line(b"hello unix")
            assert s.recv_line() == b"HELLO UNIX"
    assert not os.path.exists(path)  # removed on close


def test_unix_message_server_and_stale_file(tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "msg.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # a crashed server's leftover: bound, never listening
    stale.close()
    with UnixServer(lambda m, c: m[::-1], path, framing="frame"), connect_unix(path, timeout=5) as s:
        s.send_message(b"abc")
        assert s.recv_message() == b"cba"


def test_unix_connect_missing(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConnectError):
        connect_unix(str(tmp_path / "nobody.sock"), timeout=1)


# -- UDP ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_udp_exchange_loss_free(host: str) -> None:
    seen: list[tuple[bytes, Any]] = []

    def handler(data: bytes, addr: Any) -> bytes:
        seen.append((data, addr))
        return b"ack:" + data

    with UDPServer(handler, host, 0) as server, UDPClient(host, server.port, timeout=2) as client:
        for i in range(500):
            assert client.request(f"{i}".encode(), retries=0) == f"ack:{i}".encode()
        assert [d for d, _ in seen] == [f"{i}".encode() for i in range(500)]
        assert all(a[:2] == client.local[:2] for _, a in seen)


def test_udp_handler_error_contained() -> None:
    def handler(data: bytes, addr: Any) -> bytes:
        if data == b"boom":
            raise ValueError("bad datagram")
        return data

    with UDPServer(handler, "127.0.0.1", 0) as server, UDPClient("127.0.0.1", server.port, timeout=0.2) as client:
        client.send(b"boom")
        with pytest.raises(ReadTimeout):
            client.recv()
        assert client.request(b"fine") == b"fine"


def test_udp_request_retries_until_reply() -> None:
    attempts = []

    def lossy(data: bytes, addr: Any) -> bytes | None:
        attempts.append(data)
        return None if len(attempts) < 3 else b"finally"

    with UDPServer(lossy, "127.0.0.1", 0) as server, UDPClient("127.0.0.1", server.port) as client:
        t = time.monotonic()
        assert client.request(b"q", timeout=0.1, retries=5) == b"finally"
        assert len(attempts) >= 3  # a slow machine may let one more resend out before the reply
        assert time.monotonic() - t < 5
        with pytest.raises(ReadTimeout):
            UDPClient("127.0.0.1", server.port).request(b"q", timeout=0.05, retries=0, match=lambda r: False)


def test_udp_unreachable_port_is_read_error(free_port: Any) -> None:
    port = free_port(socket.AF_INET)
    with UDPClient("127.0.0.1", port, timeout=1) as client:
        client.send(b"anyone?")
        with pytest.raises((ReadError, ReadTimeout)):
            client.recv()


def test_udp_size_limit_and_send_udp() -> None:
    got = threading.Event()
    box: list[bytes] = []

    def handler(data: bytes, addr: Any) -> None:
        box.append(data)
        got.set()

    with UDPServer(handler, "127.0.0.1", 0) as server:
        with pytest.raises(ValueError, match="65507"):
            send_udp(b"x" * (MAX_UDP_PAYLOAD_IPV4 + 1), "127.0.0.1", server.port)
        send_udp(b"y" * MAX_UDP_PAYLOAD_IPV4, "127.0.0.1", server.port)
        assert got.wait(2)
        assert box == [b"y" * MAX_UDP_PAYLOAD_IPV4]


def test_udp_stop_from_handler() -> None:
    server = UDPServer(lambda d, a: server.stop() if d == b"" else None, "127.0.0.1", 0).start()
    send_udp(b"", "127.0.0.1", server.port)
    assert server.wait(2)


# -- asyncio twins ----------------------------------------------------------------------------------
async def _echo(stream: AsyncStream) -> None:
    async for line in stream.iter_lines():
        if line == b"boom":
            raise RuntimeError("async handler exploded on purpose")
        await stream.send_line(b"echo:" + line)


def test_async_server_and_client_many() -> None:
    async def main() -> None:
        async with await serve_tcp_async(_echo, "127.0.0.1", 0, timeout=5) as server:
            async def client(i: int) -> list[bytes | None]:
                s = await connect_tcp_async("127.0.0.1", server.port, timeout=5)
                async with s:
                    out = []
                    for j in range(10):
                        await s.send_line(f"{i}.{j}".encode())
                        out.append(await s.recv_line())
                    return out

            results = await asyncio.gather(*(client(i) for i in range(50)))
            for i, got in enumerate(results):
                assert got == [f"echo:{i}.{j}".encode() for j in range(10)]
            # errors in one handler are contained
            bad = await connect_tcp_async("127.0.0.1", server.port, timeout=5)
            await bad.send_line(b"boom")
            assert await bad.recv_line() is None
            await bad.close()
            assert (await client(99))[0] == b"echo:99.0"

    asyncio.run(main())


def test_async_stall_times_out_and_blocking_client_interop() -> None:
    async def main() -> None:
        server = await serve_tcp_async(_echo, "::1", 0, timeout=0.3)
        staller = await connect_tcp_async("::1", server.port, timeout=5)
        await staller.send_all(b"no newline")
        good = await connect_tcp_async("::1", server.port, timeout=5)
        await good.send_line(b"x")
        assert await good.recv_line() == b"echo:x"
        t = time.monotonic()
        assert await staller.recv_line() is None  # closed by the server's idle timeout
        assert time.monotonic() - t < 2
        await staller.close()
        await good.close()
        await server.close()

    asyncio.run(main())


def test_async_framing_and_errors(free_port: Any) -> None:
    async def frames(stream: AsyncStream) -> None:
        while (msg := await stream.recv_message(max_size=100)) is not None:
            await stream.send_message(msg[::-1])

    async def main() -> None:
        async with await serve_tcp_async(frames, "127.0.0.1", 0) as server:
            s = await connect_tcp_async("127.0.0.1", server.port)
            await s.send_message(b"hello")
            assert await s.recv_message() == b"olleh"
            await s.send_message(b"z" * 500)  # over the server's limit: it hangs up
            assert await s.recv() == b""
            await s.close()
            c = await connect_tcp_async("127.0.0.1", server.port, timeout=0.2)
            with pytest.raises(ReadTimeout):
                await c.recv_exactly(1)
            await c.close()
        with pytest.raises(ConnectError):
            await connect_tcp_async("127.0.0.1", free_port())

    asyncio.run(main())


def test_async_graceful_close_waits_for_handlers() -> None:
    async def slow(stream: AsyncStream) -> None:
        line = await stream.recv_line()
        await asyncio.sleep(0.2)
        await stream.send_line(b"late:" + (line or b""))

    async def main() -> None:
        server = await serve_tcp_async(slow, "127.0.0.1", 0)
        clients = [await connect_tcp_async("127.0.0.1", server.port) for _ in range(10)]
        for i, c in enumerate(clients):
            await c.send_line(str(i).encode())
        await asyncio.sleep(0.05)
        await server.close()
        for i, c in enumerate(clients):
            assert await c.recv_line() == f"late:{i}".encode()
            await c.close()

    asyncio.run(main())


def test_async_unix(tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "a.sock")

    async def main() -> None:
        async with await serve_tcp_async(_echo, path, family=socket.AF_UNIX):
            s = await connect_unix_async(path)
            await s.send_line(b"u")
            assert await s.recv_line() == b"echo:u"
            await s.close()
        assert not os.path.exists(path)

    asyncio.run(main())


def test_message_connection_send_and_close() -> None:
    from netwire.sockets.tcp import TCPServer

    def handler(msg: bytes, conn: Connection) -> bytes | None:
        conn.data["n"] = conn.data.get("n", 0) + 1
        if msg == b"bye":
            conn.send(b"seen %d" % conn.data["n"])
            conn.close()
            return None
        return msg

    from netwire.sockets.tcp import connect_tcp

    with TCPServer(handler, "127.0.0.1", 0, framing="line") as server, connect_tcp("127.0.0.1", server.port) as s:
        s.send_line(b"a")
        s.send_line(b"bye")
        assert s.recv_line() == b"a"
        assert s.recv_line() == b"seen 2"
        assert s.recv_line() is None


def test_async_connect_timeout_on_full_backlog(blackhole4: socket.socket) -> None:
    async def main() -> None:
        with pytest.raises(ConnectTimeout):
            await connect_tcp_async("127.0.0.1", blackhole4.getsockname()[1], timeout=0.3)

    asyncio.run(main())


def test_async_line_limit() -> None:
    async def handler(stream: AsyncStream) -> None:
        try:
            await stream.recv_line(max_size=10)
        except ProtocolError:
            await stream.send_line(b"too long")

    async def main() -> None:
        async with await serve_tcp_async(handler, "127.0.0.1", 0) as server:
            s = await connect_tcp_async("127.0.0.1", server.port)
            await s.send_all(b"x" * 50 + b"\n")
            assert await s.recv_line() == b"too long"
            await s.close()

    asyncio.run(main())


def test_async_max_connections_bounds_handlers() -> None:
    live = [0, 0]

    async def handler(stream: AsyncStream) -> None:
        live[0] += 1
        live[1] = max(live[1], live[0])
        await asyncio.sleep(0.05)
        live[0] -= 1
        await stream.send_line(b"done")

    async def main() -> None:
        async with await serve_tcp_async(handler, "127.0.0.1", 0, max_connections=2) as server:
            streams = [await connect_tcp_async("127.0.0.1", server.port) for _ in range(6)]
            assert [await s.recv_line() for s in streams] == [b"done"] * 6
            for s in streams:
                await s.close()

    asyncio.run(main())
    assert live[1] == 2
