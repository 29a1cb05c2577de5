"""A connected stream socket with the reads people get wrong by hand done right.

:class:`Stream` is what a TCP or AF_UNIX server handler receives and what
:func:`~netwire.sockets.tcp.connect_tcp` returns. It keeps a receive buffer, so a message split
across ``recv`` calls (or two messages in one) is never lost or merged. Every failure is a netwire
exception:

* no byte within ``timeout`` seconds: :class:`~netwire.errors.ReadTimeout` /
  :class:`~netwire.errors.WriteTimeout` (both also builtin ``TimeoutError``);
* the peer reset the connection, or closed it in the middle of a message:
  :class:`~netwire.errors.ReadError` / :class:`~netwire.errors.WriteError`;
* a message longer than its limit: :class:`~netwire.errors.ProtocolError`.

A clean end of stream between messages is not an error: ``recv`` returns ``b""``, and
``recv_line`` / ``recv_message`` return ``None``.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from ..errors import ReadError, ReadTimeout, WriteError, WriteTimeout, from_os_error
from .framing import (
    DEFAULT_MAX_FRAME,
    DEFAULT_MAX_LINE,
    FRAME_HEADER,
    ReceiveBuffer,
    encode_frame,
    encode_line,
)

__all__ = ["DEFAULT_RECV_SIZE", "Stream", "describe_address"]

#: Bytes asked of the kernel per ``recv``.
DEFAULT_RECV_SIZE = 65536

# Where the kernel can time out a blocking recv/send by itself (SO_RCVTIMEO/SO_SNDTIMEO), let it:
# Python's own socket timeouts poll() before every recv, one more system call per message, which
# halves a thread-per-connection server's request rate (measured, see docs/sockets.md).
_KERNEL_TIMEOUTS = sys.platform.startswith("linux") and hasattr(socket, "SO_RCVTIMEO")
_TIMEVAL = struct.Struct("@ll")


def _set_timeout(sock: socket.socket, timeout: float | None) -> None:
    if _KERNEL_TIMEOUTS and sock.type == socket.SOCK_STREAM and (timeout is None or timeout >= 0.001):
        sock.settimeout(None)
        secs = 0.0 if timeout is None else timeout  # a zero timeval means "no timeout"
        tv = _TIMEVAL.pack(int(secs), int((secs - int(secs)) * 1_000_000))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
    else:
        sock.settimeout(timeout)


def describe_address(addr: Any) -> str:
    """``host:port``, ``[v6]:port`` or a unix path, for messages."""
    if isinstance(addr, tuple) and len(addr) >= 2:
        host = addr[0]
        return f"[{host}]:{addr[1]}" if ":" in str(host) else f"{host}:{addr[1]}"
    if isinstance(addr, bytes):
        addr = addr.decode("utf-8", "backslashreplace")
    return str(addr) if addr else "unnamed unix socket"


class Stream:
    """A connected ``SOCK_STREAM`` socket (TCP or AF_UNIX) with buffered, framed I/O.

    ``timeout`` applies to every single receive or send (an idle timeout, not a deadline for a
    whole message); ``None`` blocks without limit. ``message_timeout`` (default ``None``: none) is
    a deadline for one framed message (``recv_line``, ``recv_message``, ``recv_until``,
    ``readline``, ``recv_exactly``) from its first byte to its last: a peer trickling a byte
    every few seconds never trips ``timeout``, but trips this (:class:`ReadTimeout`).
    """

    __slots__ = ("_buffer", "_closed", "_message_started", "_message_timeout", "_peer", "_timeout", "socket")

    def __init__(
        self,
        sock: socket.socket,
        *,
        timeout: float | None = None,
        peer: str | None = None,
        message_timeout: float | None = None,
    ) -> None:
        self.socket = sock
        self._buffer = ReceiveBuffer()
        self._timeout = timeout
        self._message_timeout = message_timeout
        self._message_started: float | None = None
        self._closed = False
        self._peer = peer
        _set_timeout(sock, timeout)

    # -- properties --------------------------------------------------------------------------
    @property
    def timeout(self) -> float | None:
        """Seconds a single receive or send may wait; ``None``: no limit."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = value
        _set_timeout(self.socket, value)

    @property
    def peer(self) -> str:
        """The peer's address, formatted for messages."""
        if self._peer is None:
            try:
                self._peer = describe_address(self.socket.getpeername())
            except OSError:
                self._peer = "unconnected peer"
        return self._peer

    @property
    def peername(self) -> Any:
        """The peer's socket address (a tuple for TCP, a path for AF_UNIX)."""
        return self.socket.getpeername()

    @property
    def sockname(self) -> Any:
        """This end's socket address."""
        return self.socket.getsockname()

    @property
    def closed(self) -> bool:
        return self._closed

    def fileno(self) -> int:
        return self.socket.fileno()

    @property
    def buffered(self) -> int:
        """Bytes received from the kernel and not yet returned to the caller."""
        return len(self._buffer)

    # -- receiving ----------------------------------------------------------------------------
    def _recv_some(self) -> bytes:
        try:
            return self.socket.recv(DEFAULT_RECV_SIZE)
        except (TimeoutError, BlockingIOError):  # BlockingIOError: SO_RCVTIMEO expired
            raise ReadTimeout(f"no data from {self.peer} within {self._timeout} s") from None
        except OSError as exc:
            if self._closed:
                raise ReadError(f"read from {self.peer} after close", reason=exc) from exc
            raise from_os_error(ReadError, f"read from {self.peer} failed", exc, why=str(exc)) from exc

    def _recv_more(self) -> bytes:
        """Receive while part of a message is buffered: within ``message_timeout`` of its start.

        Only this slow path (a message split over receives) pays for the deadline: one
        ``setsockopt`` before and after a receive that the idle timeout alone would let run past it.
        """
        limit = self._message_timeout
        if limit is None or not self._buffer:
            return self._recv_some()
        now = time.monotonic()
        if self._message_started is None:
            self._message_started = now
        left = self._message_started + limit - now
        if left <= 0:
            raise ReadTimeout(
                f"a message from {self.peer} was not complete within {limit} s ({len(self._buffer)} bytes so far)"
            )
        if self._timeout is not None and self._timeout <= left:
            return self._recv_some()
        _set_timeout(self.socket, left)
        try:
            return self._recv_some()
        except ReadTimeout:
            raise ReadTimeout(
                f"a message from {self.peer} was not complete within {limit} s ({len(self._buffer)} bytes so far)"
            ) from None
        finally:
            with contextlib.suppress(OSError):
                _set_timeout(self.socket, self._timeout)

    def _fill(self, what: str) -> None:
        """Receive more into the buffer; EOF here is mid-message, so it is an error."""
        data = self._recv_more()
        if not data:
            got = len(self._buffer)
            raise ReadError(f"{self.peer} closed the connection {what} ({got} bytes received)")
        self._buffer.feed(data)

    def recv(self, max_bytes: int = DEFAULT_RECV_SIZE) -> bytes:
        """Up to ``max_bytes``: buffered bytes first, else one ``recv``. ``b""`` at end of stream."""
        if self._buffer:
            return self._buffer.take(max_bytes)
        data = self._recv_some()
        if len(data) > max_bytes:
            self._buffer.feed(data[max_bytes:])
            data = data[:max_bytes]
        return data

    def recv_exactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; :class:`ReadError` if the stream ends first."""
        while True:
            out = self._buffer.take_exactly(n)
            if out is not None:
                self._message_started = None
                return out
            self._fill(f"after {len(self._buffer)} of {n} expected bytes")

    def recv_until(self, delimiter: bytes, max_size: int = DEFAULT_MAX_LINE) -> bytes:
        """Bytes up to and including ``delimiter``.

        :class:`~netwire.errors.ProtocolError` if ``max_size`` bytes arrive without it;
        :class:`ReadError` if the stream ends first.
        """
        while True:
            out = self._buffer.take_until(delimiter, max_size)
            if out is not None:
                self._message_started = None
                return out
            self._fill(f"before {delimiter!r}")

    def readline(self, max_size: int = DEFAULT_MAX_LINE) -> bytes:
        """A line with its ``\\n``, like a file's ``readline``: at end of stream, the unterminated
        rest, then ``b""``. :class:`~netwire.errors.ProtocolError` past ``max_size`` bytes."""
        buf = self._buffer
        while True:
            out = buf.take_until(b"\n", max_size)
            if out is not None:
                self._message_started = None
                return out
            data = self._recv_more()
            if not data:
                self._message_started = None
                return buf.take_all()
            if not buf:
                # The common request/response case: one recv holding exactly one line.
                idx = data.find(b"\n")
                if idx == len(data) - 1 and idx < max_size:
                    return data
            buf.feed(data)

    def recv_line(self, max_size: int = DEFAULT_MAX_LINE, delimiter: bytes = b"\n") -> bytes | None:
        """One line-delimited message without its delimiter (and without a ``\\r`` before a
        ``\\n``); ``None`` at a clean end of stream; :class:`ReadError` if the stream ends
        mid-line."""
        buf = self._buffer
        while True:
            out = buf.take_line(max_size, delimiter)
            if out is not None:
                self._message_started = None
                return out
            data = self._recv_more()
            if not data:
                if buf:
                    raise ReadError(
                        f"{self.peer} closed the connection in the middle of a line ({len(buf)} bytes)"
                    )
                return None
            buf.feed(data)

    def recv_message(self, max_size: int = DEFAULT_MAX_FRAME) -> bytes | None:
        """One length-prefixed message (4-byte big-endian length, then the payload); ``None`` at
        a clean end of stream; :class:`ReadError` if it ends mid-frame;
        :class:`~netwire.errors.ProtocolError` if the announced length exceeds ``max_size``."""
        buf = self._buffer
        while True:
            out = buf.take_frame(max_size)
            if out is not None:
                self._message_started = None
                return out
            data = self._recv_more()
            if not data:
                if buf:
                    need = buf.frame_size(max_size)
                    total = "?" if need is None else str(need + FRAME_HEADER.size)
                    raise ReadError(
                        f"{self.peer} closed the connection in the middle of a frame "
                        f"({len(buf)} of {total} bytes)"
                    )
                return None
            buf.feed(data)

    def iter_lines(self, max_size: int = DEFAULT_MAX_LINE) -> Iterator[bytes]:
        """Line messages (see :meth:`recv_line`) until a clean end of stream."""
        while (line := self.recv_line(max_size)) is not None:
            yield line

    def iter_messages(self, max_size: int = DEFAULT_MAX_FRAME) -> Iterator[bytes]:
        """Length-prefixed messages (see :meth:`recv_message`) until a clean end of stream."""
        while (msg := self.recv_message(max_size)) is not None:
            yield msg

    # -- sending ------------------------------------------------------------------------------
    def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send every byte (``sendall``), or raise WriteTimeout / WriteError."""
        try:
            self.socket.sendall(data)
        except (TimeoutError, BlockingIOError):  # BlockingIOError: SO_SNDTIMEO expired
            raise WriteTimeout(f"{self.peer} accepted no data within {self._timeout} s") from None
        except OSError as exc:
            raise from_os_error(WriteError, f"write to {self.peer} failed", exc, why=str(exc)) from exc

    def send_line(self, data: bytes, delimiter: bytes = b"\n") -> None:
        """Send ``data`` as one line message."""
        self.send_all(encode_line(data, delimiter))

    def send_message(self, data: bytes) -> None:
        """Send ``data`` as one length-prefixed message."""
        self.send_all(encode_frame(data))

    def send_eof(self) -> None:
        """Half-close: tell the peer nothing more will be sent (``shutdown(SHUT_WR)``)."""
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    # -- closing ------------------------------------------------------------------------------
    def close(self) -> None:
        """Shut down, then close. Idempotent.

        Order matters: ``shutdown(SHUT_WR)`` first, so the peer gets a FIN after every byte
        already sent; then bytes the peer sent and nobody read are drained (without waiting),
        because closing a socket with unread input makes the kernel send a RST, which can destroy
        the reply the peer has not read yet; then ``close``.
        """
        if self._closed:
            return
        self._closed = True
        sock = self.socket
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            sock.setblocking(False)
            for _ in range(16):
                if not sock.recv(DEFAULT_RECV_SIZE):
                    break
        except OSError:
            pass
        sock.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else self.peer
        return f"<Stream {state}>"
