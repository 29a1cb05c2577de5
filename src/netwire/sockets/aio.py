"""The asyncio twins: :class:`AsyncStream`, :func:`connect_tcp_async`, :func:`serve_tcp_async`.

Same methods, same limits, same exceptions as the blocking :class:`~netwire.sockets.stream.Stream`
and :class:`~netwire.sockets.tcp.TCPServer`, on the same sans-IO framing
(:class:`~netwire.sockets.framing.ReceiveBuffer`); only the waiting is done by the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

from ..errors import (
    ConnectError,
    ConnectTimeout,
    NetwireError,
    ReadError,
    ReadTimeout,
    TimeoutException,
    WriteError,
    WriteTimeout,
    from_os_error,
)
from .framing import (
    DEFAULT_MAX_FRAME,
    DEFAULT_MAX_LINE,
    DEFAULT_MESSAGE_TIMEOUT,
    FRAME_HEADER,
    ReceiveBuffer,
    encode_frame,
    encode_line,
)
from .listen import AF_UNIX, bind_sockets
from .stream import DEFAULT_RECV_SIZE, describe_address

__all__ = ["AsyncStream", "AsyncTCPServer", "connect_tcp_async", "connect_unix_async", "serve_tcp_async"]

log = logging.getLogger("netwire.sockets")

AsyncStreamHandler = Callable[["AsyncStream"], Awaitable[object]]


class AsyncStream:
    """A connected stream (TCP or AF_UNIX) for asyncio code; see
    :class:`~netwire.sockets.stream.Stream` for what each method promises. ``timeout`` bounds
    each single receive or send; ``message_timeout`` one framed message from its first byte to
    its last (as :class:`~netwire.sockets.stream.Stream`'s)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        timeout: float | None = None,
        message_timeout: float | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.message_timeout = message_timeout
        self._message_started: float | None = None
        self._buffer = ReceiveBuffer()
        self._closed = False
        self.peer = describe_address(writer.get_extra_info("peername"))

    @property
    def peername(self) -> Any:
        return self.writer.get_extra_info("peername")

    @property
    def sockname(self) -> Any:
        return self.writer.get_extra_info("sockname")

    @property
    def closed(self) -> bool:
        return self._closed

    async def _recv_some(self) -> bytes:
        try:
            async with asyncio.timeout(self.timeout):
                return await self.reader.read(DEFAULT_RECV_SIZE)
        except TimeoutError:
            raise ReadTimeout(f"no data from {self.peer} within {self.timeout} s") from None
        except OSError as exc:
            raise from_os_error(ReadError, f"read from {self.peer} failed", exc, why=str(exc)) from exc

    async def _recv_more(self) -> bytes:
        """Receive while part of a message is buffered: within ``message_timeout`` of its start."""
        limit = self.message_timeout
        if limit is None or not self._buffer:
            return await self._recv_some()
        now = time.monotonic()
        if self._message_started is None:
            self._message_started = now
        left = self._message_started + limit - now
        late = f"a message from {self.peer} was not complete within {limit} s ({len(self._buffer)} bytes so far)"
        if left <= 0:
            raise ReadTimeout(late)
        if self.timeout is not None and self.timeout <= left:
            return await self._recv_some()
        try:
            async with asyncio.timeout(left):
                return await self.reader.read(DEFAULT_RECV_SIZE)
        except TimeoutError:
            raise ReadTimeout(late) from None
        except OSError as exc:
            raise from_os_error(ReadError, f"read from {self.peer} failed", exc, why=str(exc)) from exc

    def _done(self, out: bytes) -> bytes:
        self._message_started = None
        return out

    async def _fill(self, what: str) -> None:
        data = await self._recv_more()
        if not data:
            raise ReadError(f"{self.peer} closed the connection {what} ({len(self._buffer)} bytes received)")
        self._buffer.feed(data)

    async def recv(self, max_bytes: int = DEFAULT_RECV_SIZE) -> bytes:
        """Up to ``max_bytes``; ``b""`` at end of stream."""
        if self._buffer:
            return self._buffer.take(max_bytes)
        data = await self._recv_some()
        if len(data) > max_bytes:
            self._buffer.feed(data[max_bytes:])
            data = data[:max_bytes]
        return data

    async def recv_exactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; :class:`ReadError` if the stream ends first."""
        while (out := self._buffer.take_exactly(n)) is None:
            await self._fill(f"after {len(self._buffer)} of {n} expected bytes")
        return self._done(out)

    async def recv_until(self, delimiter: bytes, max_size: int = DEFAULT_MAX_LINE) -> bytes:
        """Bytes up to and including ``delimiter`` (ProtocolError past ``max_size``)."""
        while (out := self._buffer.take_until(delimiter, max_size)) is None:
            await self._fill(f"before {delimiter!r}")
        return self._done(out)

    async def readline(self, max_size: int = DEFAULT_MAX_LINE) -> bytes:
        """A line with its ``\\n``; at end of stream the unterminated rest, then ``b""``."""
        while (out := self._buffer.take_until(b"\n", max_size)) is None:
            data = await self._recv_more()
            if not data:
                return self._done(self._buffer.take_all())
            self._buffer.feed(data)
        return self._done(out)

    async def recv_line(self, max_size: int = DEFAULT_MAX_LINE, delimiter: bytes = b"\n") -> bytes | None:
        """One line message without delimiter; ``None`` at a clean end of stream."""
        while (out := self._buffer.take_line(max_size, delimiter)) is None:
            data = await self._recv_more()
            if not data:
                if self._buffer:
                    raise ReadError(f"{self.peer} closed the connection in the middle of a line ({len(self._buffer)} bytes)")
                return None
            self._buffer.feed(data)
        return self._done(out)

    async def recv_message(self, max_size: int = DEFAULT_MAX_FRAME) -> bytes | None:
        """One length-prefixed message; ``None`` at a clean end of stream."""
        while (out := self._buffer.take_frame(max_size)) is None:
            data = await self._recv_more()
            if not data:
                if self._buffer:
                    need = self._buffer.frame_size(max_size)
                    total = "?" if need is None else str(need + FRAME_HEADER.size)
                    raise ReadError(
                        f"{self.peer} closed the connection in the middle of a frame ({len(self._buffer)} of {total} bytes)"
                    )
                return None
            self._buffer.feed(data)
        return self._done(out)

    async def iter_lines(self, max_size: int = DEFAULT_MAX_LINE) -> AsyncIterator[bytes]:
        """Line messages until a clean end of stream."""
        while (line := await self.recv_line(max_size)) is not None:
            yield line

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send every byte (write, then wait for the transport's buffer to drain)."""
        try:
            self.writer.write(data)
            async with asyncio.timeout(self.timeout):
                await self.writer.drain()
        except TimeoutError:
            raise WriteTimeout(f"{self.peer} accepted no data within {self.timeout} s") from None
        except OSError as exc:
            raise from_os_error(WriteError, f"write to {self.peer} failed", exc, why=str(exc)) from exc

    async def send_line(self, data: bytes, delimiter: bytes = b"\n") -> None:
        await self.send_all(encode_line(data, delimiter))

    async def send_message(self, data: bytes) -> None:
        await self.send_all(encode_frame(data))

    async def send_eof(self) -> None:
        """Half-close (FIN after the bytes already written)."""
        with contextlib.suppress(OSError, RuntimeError):
            if self.writer.can_write_eof():
                self.writer.write_eof()

    async def close(self) -> None:
        """Flush, half-close, close and wait for the transport to be gone. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError, RuntimeError):
            if not self.writer.is_closing() and self.writer.can_write_eof():
                self.writer.write_eof()
        self.writer.close()
        with contextlib.suppress(OSError, asyncio.CancelledError):
            async with asyncio.timeout(1.0):
                await self.writer.wait_closed()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def connect_tcp_async(
    host: str,
    port: int,
    *,
    timeout: float | None = 10.0,
    connect_timeout: float | None = None,
    family: int = socket.AF_UNSPEC,
    source: tuple[str, int] | None = None,
    happy_eyeballs_delay: float = 0.25,
) -> AsyncStream:
    """Connect with happy eyeballs (asyncio's own RFC 8305 implementation) and return an
    :class:`AsyncStream`. Errors as :func:`~netwire.sockets.tcp.connect_tcp`."""
    limit = timeout if connect_timeout is None else connect_timeout
    try:
        async with asyncio.timeout(limit):
            reader, writer = await asyncio.open_connection(
                host, port, family=family, local_addr=source, happy_eyeballs_delay=happy_eyeballs_delay
            )
    except TimeoutError:
        raise ConnectTimeout(f"connect to {host} port {port} timed out after {limit} s") from None
    except socket.gaierror as exc:
        raise ConnectError(f"connect to {host} port {port} failed (resolving: {exc})", reason=exc) from exc
    except OSError as exc:
        raise ConnectError(f"connect to {host} port {port} failed (connecting: {exc})", reason=exc) from exc
    return AsyncStream(reader, writer, timeout=timeout)


async def connect_unix_async(path: str, *, timeout: float | None = 10.0) -> AsyncStream:
    """Connect to a unix stream socket and return an :class:`AsyncStream`."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_unix_connection(path)
    except TimeoutError:
        raise ConnectTimeout(f"connect to unix socket {path} timed out after {timeout} s") from None
    except OSError as exc:
        raise ConnectError(f"connect to unix socket {path} failed (connecting: {exc})", reason=exc) from exc
    return AsyncStream(reader, writer, timeout=timeout)


class AsyncTCPServer:
    """A running asyncio TCP (or AF_UNIX) server; create it with :func:`serve_tcp_async`."""

    def __init__(
        self,
        handler: AsyncStreamHandler,
        *,
        timeout: float | None,
        max_connections: int,
        grace: float,
        message_timeout: float | None = DEFAULT_MESSAGE_TIMEOUT,
        max_lifetime: float | None = None,
    ) -> None:
        self.handler = handler
        self.timeout = timeout
        self.message_timeout = message_timeout
        self.max_lifetime = max_lifetime
        self.grace = grace
        self._slots = asyncio.Semaphore(max_connections)
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams: set[AsyncStream] = set()
        self._addresses: list[Any] = []
        self._unix_path: str | None = None
        self._closed = asyncio.Event()
        self.accepted = 0

    @property
    def address(self) -> Any:
        return self._addresses[0]

    @property
    def port(self) -> int:
        return int(self._addresses[0][1])

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        stream = AsyncStream(reader, writer, timeout=self.timeout, message_timeout=self.message_timeout)
        self._streams.add(stream)
        try:
            async with self._slots:  # at most max_connections handlers run at once
                try:
                    async with asyncio.timeout(self.max_lifetime):
                        await self.handler(stream)
                except TimeoutError as exc:
                    if isinstance(exc, TimeoutException):
                        raise
                    log.info("connection from %s reached its max_lifetime of %s s; closing it",
                             stream.peer, self.max_lifetime)
        except TimeoutException as exc:
            log.info("connection from %s: %s; closing it", stream.peer, exc)
        except (ReadError, WriteError, ConnectionError) as exc:
            log.info("connection from %s: %s", stream.peer, exc)
        except (NetwireError, OSError) as exc:
            log.warning("connection from %s: %s", stream.peer, exc)
        except asyncio.CancelledError:
            log.info("connection from %s cut at shutdown", stream.peer)
        except Exception:
            log.exception("handler failed for connection from %s", stream.peer)
        finally:
            self._streams.discard(stream)
            self._tasks.discard(task)
            await stream.close()

    async def close(self, grace: float | None = None) -> None:
        """Stop accepting, let handlers finish for up to ``grace`` seconds, cancel the rest."""
        if self._closed.is_set():
            return
        for server in self._servers:
            server.close()
        wait = self.grace if grace is None else grace
        tasks = set(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=wait)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        if self._unix_path:
            with contextlib.suppress(OSError):
                os.unlink(self._unix_path)
        self._closed.set()

    async def serve_forever(self) -> None:
        """Wait until :meth:`close` has finished."""
        await self._closed.wait()

    async def __aenter__(self) -> AsyncTCPServer:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def serve_tcp_async(
    handler: AsyncStreamHandler,
    host: str | None = None,
    port: int = 0,
    *,
    backlog: int = 128,
    timeout: float | None = 60.0,
    max_connections: int = 1024,
    family: int = socket.AF_UNSPEC,
    reuse_port: bool = False,
    grace: float = 5.0,
    message_timeout: float | None = DEFAULT_MESSAGE_TIMEOUT,
    max_lifetime: float | None = None,
) -> AsyncTCPServer:
    """Start serving ``handler(stream)`` coroutines and return the running server.

    Listening sockets are made exactly as for :class:`~netwire.sockets.tcp.TCPServer`
    (dual-stack wildcard, SO_REUSEADDR, ``family=AF_UNIX`` with ``host`` as the path), and the
    same time limits apply: ``timeout`` per receive or send, ``message_timeout`` (30 s) per framed
    message of the handler's stream, ``max_lifetime`` (default none) per connection.
    """
    srv = AsyncTCPServer(
        handler, timeout=timeout, max_connections=max_connections, grace=grace,
        message_timeout=message_timeout, max_lifetime=max_lifetime,
    )
    socks = bind_sockets(host, port, family=family, backlog=backlog, reuse_port=reuse_port)
    srv._addresses = [s.getsockname() for s in socks]
    if family == AF_UNIX:
        srv._unix_path = host
    try:
        for sock in socks:
            if family == AF_UNIX:
                server = await asyncio.start_unix_server(srv._on_connection, sock=sock, backlog=backlog)
            else:
                server = await asyncio.start_server(srv._on_connection, sock=sock, backlog=backlog)
            srv._servers.append(server)
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return srv
