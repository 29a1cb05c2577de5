"""One HTTP/1.1 connection over a socket: connect (TCP, TLS, Unix), send, receive, deadlines.

The connection drives :mod:`netwire.http11` with the bytes it moves; it knows nothing of
redirects, cookies or pools. Every socket failure is turned into the matching netwire
exception here, with the host, port and phase in its message, so the layers above only ever
see the one hierarchy of :mod:`netwire.errors`.
"""

from __future__ import annotations

import io
import select
import socket
import ssl
import struct
import sys
import time
from collections.abc import Iterable
from typing import Any, NamedTuple, cast

from ..errors import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    TLSError,
    TotalTimeout,
    WriteError,
    WriteTimeout,
    from_os_error,
)
from ..sockets.happy_eyeballs import connect_tcp_socket
from .http11 import (
    DEFAULT_LIMITS,
    Data,
    EndOfMessage,
    IncompleteResponse,
    Informational,
    ParserLimits,
    ResponseHead,
    ResponseParser,
)
from .trace import TraceHook, connected, emit, tls_done
from .tunnels import TLSInTLSSocket

__all__ = ["Connection", "HTTP11Connection", "Origin", "default_ssl_context", "open_connection", "within"]

# recv() allocates this much before shrinking to what arrived: 64 KiB stays below malloc's mmap
# threshold (a 256 KiB recv costs an mmap/munmap pair per call, for a 300-byte response).
_RECV_SIZE = 64 * 1024
_HAVE_POLL = hasattr(select, "poll")
# Where struct timeval is two C longs and SO_RCVTIMEO/SO_SNDTIMEO take it (see Connection._arm).
_KERNEL_TIMEOUTS = sys.platform.startswith("linux") or sys.platform == "darwin"


def _timeval(timeout: float | None) -> bytes:
    if timeout is None:
        return struct.pack("@ll", 0, 0)  # zero means "no timeout" to the kernel
    sec = int(timeout)
    usec = int((timeout - sec) * 1_000_000)
    if sec == 0 and usec == 0:
        usec = 1  # a zero timeval would mean "wait forever"
    return struct.pack("@ll", sec, usec)
# Sends above this size wait for writability themselves (see Connection._send_big).
_BIG_SEND = 256 * 1024
# Bodies above this size are read straight from the socket into the result (see
# ResponseBody._read_all_direct), which is reserved as data arrives, not as Content-Length claims.
_SMALL_BODY = 256 * 1024
_RESERVE_FIRST = 4 * 1024 * 1024
_RESERVE_GROWTH = 16


class Origin(NamedTuple):
    """Where a connection goes: what the pool keys idle connections by (with TLS and proxy settings)."""

    scheme: str  # "http", "https", or "http+unix"
    host: str  # hostname, IP literal without brackets, or the socket path for http+unix
    port: int

    def __str__(self) -> str:
        if self.scheme == "http+unix":
            return f"unix:{self.host}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


_default_context: ssl.SSLContext | None = None


def default_ssl_context() -> ssl.SSLContext:
    """The verifying context used when the caller gives none (built once: loading CAs costs ms)."""
    global _default_context
    if _default_context is None:
        _default_context = make_ssl_context()
    return _default_context


def make_ssl_context(
    verify: bool | str = True, cert: str | tuple[str, str] | None = None, *, capath: str | None = None
) -> ssl.SSLContext:
    """A client SSLContext: verification and hostname check on, TLS >= 1.2, ALPN http/1.1.

    ``verify`` is True (system CAs), False (no verification: only for testing) or a CA bundle
    path (a file, or a directory of hashed certificates).
    """
    import os

    if verify is False:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        if os.path.isdir(verify):
            ctx = ssl.create_default_context(capath=verify)
        else:
            ctx = ssl.create_default_context(cafile=verify)
    else:
        ctx = ssl.create_default_context(capath=capath) if capath else ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    if cert is not None:
        if isinstance(cert, tuple):
            ctx.load_cert_chain(cert[0], cert[1])
        else:
            ctx.load_cert_chain(cert)
    return ctx


def within(timeout: float | None, deadline: float | None) -> tuple[float | None, bool]:
    """The wait for one operation (both clients): its own ``timeout``, or what is left before the
    total ``deadline`` (monotonic) when that comes sooner, never below 0; and True when the
    deadline is the binding one (its expiry is a TotalTimeout, not the operation's timeout)."""
    if deadline is None:
        return timeout, False
    left = deadline - time.monotonic()
    if timeout is None or left < timeout:
        return max(left, 0.0), True
    return timeout, False


def open_connection(
    origin: Origin,
    *,
    connect_timeout: float | None,
    deadline: float | None = None,
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    uds: str | None = None,
    source_address: tuple[str, int] | None = None,
    limits: ParserLimits = DEFAULT_LIMITS,
    sock: socket.socket | None = None,
    label: str | None = None,
    trace: TraceHook | None = None,
) -> HTTP11Connection:
    """Connect to ``origin`` (TCP with happy eyeballs, or a Unix socket) and do TLS if https.

    ``sock`` is an already connected socket (a proxy tunnel) on which to start TLS instead; a
    TLS socket there (an https:// proxy's) gets TLS in TLS.
    ``deadline`` (monotonic) caps the connect timeout when the total budget is tighter.
    ``label`` names the peer in error messages (``"proxy 10.0.0.1:3128"``) instead of host:port.
    ``trace`` (:mod:`netwire.http.trace`) is told of the ``dns``, ``connect`` and ``tls`` phases.
    """
    timeout, total_binds = within(connect_timeout, deadline)
    started = time.monotonic()
    where = f"{origin.host}:{origin.port}" if origin.scheme != "http+unix" else f"unix:{uds or origin.host}"
    if label is not None:
        where = label
    if sock is None:
        if uds is not None or origin.scheme == "http+unix":
            path = uds or origin.host
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(path)
            except TimeoutError:
                sock.close()
                raise _connect_timeout(where, timeout, total_binds) from None
            except OSError as exc:
                sock.close()
                raise from_os_error(ConnectError, f"cannot connect to {where}", exc) from exc
        else:
            resolved = None
            if trace is not None:

                def resolved(infos: list[Any]) -> None:
                    emit(trace, "dns", started, host=origin.host, port=origin.port,
                         addresses=[str(info[4][0]) for info in infos])

            try:
                sock = connect_tcp_socket(
                    origin.host, origin.port, timeout=timeout, source_address=source_address, resolved=resolved
                )
            except ConnectTimeout:
                raise _connect_timeout(where, timeout, total_binds) from None
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if trace is not None:
            connected(trace, sock, origin, label, started)
    if origin.scheme == "https":
        ctx = ssl_context or default_ssl_context()
        hostname = server_hostname or origin.host
        tls_started = time.monotonic()
        if timeout is not None:
            timeout = max(timeout - (tls_started - started), 0.0)
        if isinstance(sock, ssl.SSLSocket):
            # A tunnel through an https:// proxy: TLS to the origin inside TLS to the proxy.
            sock = _tls_in_tls_handshake(sock, ctx, hostname, where, timeout, total_binds)
        else:
            sock = _tls_handshake(sock, ctx, hostname, where, timeout, total_binds)
        if trace is not None:
            tls_done(trace, sock, hostname, tls_started)
    sock.settimeout(None)
    return HTTP11Connection(sock, origin, limits=limits)


def _connect_timeout(where: str, timeout: float | None, total_binds: bool) -> ConnectTimeout:
    if total_binds:
        return TotalTimeout(f"total deadline passed while connecting to {where}")  # type: ignore[return-value]
    return ConnectTimeout(f"connecting to {where} timed out after {timeout:.3g} s")


def _tls_handshake(
    sock: socket.socket,
    ctx: ssl.SSLContext,
    hostname: str,
    where: str,
    timeout: float | None,
    total_binds: bool,
) -> ssl.SSLSocket:
    try:
        tls = ctx.wrap_socket(sock, server_hostname=hostname, do_handshake_on_connect=False)
    except (ssl.SSLError, ValueError) as exc:
        sock.close()
        raise TLSError(f"TLS setup for {where} failed: {exc}", reason=exc) from exc
    tls.settimeout(timeout)
    _handshake(tls, where, timeout, total_binds)
    return tls


def _handshake(
    tls: ssl.SSLSocket | TLSInTLSSocket, where: str, timeout: float | None, total_binds: bool
) -> None:
    """Run a TLS handshake; on failure close ``tls`` and raise the netwire error for it."""
    try:
        tls.do_handshake()
    except ssl.SSLCertVerificationError as exc:
        tls.close()
        raise TLSError(
            f"TLS certificate of {where} not accepted: {exc.verify_message or exc.reason}", reason=exc
        ) from exc
    except ssl.SSLError as exc:
        tls.close()
        raise TLSError(f"TLS handshake with {where} failed: {exc.reason or exc}", reason=exc) from exc
    except TimeoutError:
        tls.close()
        raise _connect_timeout(where + " (TLS handshake)", timeout, total_binds) from None
    except OSError as exc:
        tls.close()
        raise from_os_error(
            ConnectError, f"TLS handshake with {where} failed", exc, why=f"connection lost ({exc})"
        ) from exc


def _tls_in_tls_handshake(
    outer: ssl.SSLSocket,
    ctx: ssl.SSLContext,
    hostname: str,
    where: str,
    timeout: float | None,
    total_binds: bool,
) -> socket.socket:
    """TLS to ``hostname`` through ``outer`` (TLS to a proxy, the CONNECT tunnel open on it).

    The result duck-types the socket methods :class:`HTTP11Connection` uses (see
    :class:`~netwire.proxy_tunnel.TLSInTLSSocket`); errors are mapped as for a direct handshake,
    and say that the handshake ran through the proxy.
    """
    where = f"{where} (through the https proxy)"
    try:
        tls = TLSInTLSSocket(outer, ctx, hostname)
    except (ssl.SSLError, ValueError) as exc:
        outer.close()
        raise TLSError(f"TLS setup for {where} failed: {exc}", reason=exc) from exc
    outer.settimeout(timeout)
    _handshake(tls, where, timeout, total_binds)
    return cast(socket.socket, tls)


# Sockets that are TLS: no kernel timeouts (see Connection.__init__), decrypted bytes may be pending.
_TLS_SOCKETS = (ssl.SSLSocket, TLSInTLSSocket)


class HTTP11Connection:
    """A connected socket speaking HTTP/1.1, one request at a time."""

    __slots__ = (
        "_kernel_timeouts",
        "_poller",
        "_snd_timeout",
        "_sock_timeout",
        "idle_since",
        "limits",
        "origin",
        "pool_key",
        "requests",
        "sock",
    )

    def __init__(self, sock: socket.socket, origin: Origin, *, limits: ParserLimits = DEFAULT_LIMITS) -> None:
        self.sock = sock
        self.origin = origin
        self.limits = limits
        self.requests = 0
        self.idle_since = time.monotonic()
        self.pool_key: Any = None
        self._sock_timeout: float | None = None
        self._snd_timeout: float | None = None
        self._poller: Any = None
        # Not for TLS: CPython's SSLSocket retries SSL_read/SSL_write on a blocking socket
        # whenever the kernel timer expires (WANT_READ), so SO_RCVTIMEO would never fire there.
        self._kernel_timeouts = _KERNEL_TIMEOUTS and not isinstance(sock, _TLS_SOCKETS)
        if self._kernel_timeouts:
            sock.settimeout(None)

    # -- deadlines ------------------------------------------------------------------------------

    def _arm(self, op_timeout: float | None, deadline: float | None, sending: bool = False) -> bool:
        """Set the timeout for the next send or receive; True when the total deadline is the binding one."""
        timeout, total = op_timeout, False
        if deadline is not None:
            timeout, total = within(op_timeout, deadline)
            if total and timeout == 0.0:
                raise TotalTimeout(f"total deadline passed talking to {self.origin}")
        if self._kernel_timeouts:
            # The socket stays blocking and the kernel enforces the timeout (SO_RCVTIMEO /
            # SO_SNDTIMEO): one syscall per send or recv, where a Python-level timeout costs a
            # poll() before each. Set only when the value changes.
            if sending:
                if timeout != self._snd_timeout:
                    self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(timeout))
                    self._snd_timeout = timeout
            elif timeout != self._sock_timeout:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(timeout))
                self._sock_timeout = timeout
        elif timeout != self._sock_timeout:
            self.sock.settimeout(timeout)
            self._sock_timeout = timeout
        return total

    # -- sending ----------------------------------------------------------------------------------

    def send(
        self,
        data: bytes,
        write_timeout: float | None,
        deadline: float | None,
    ) -> None:
        sock = self.sock
        if self._kernel_timeouts:
            if len(data) > _BIG_SEND:
                self._send_big(data, write_timeout, deadline)
                return
            # The usual send: no total deadline, the kernel's timer already set (see _arm).
            total = False if deadline is None and write_timeout == self._snd_timeout else self._arm(
                write_timeout, deadline, True
            )
        else:
            total = self._arm(write_timeout, deadline, True)
        try:
            sock.sendall(data)
        except (TimeoutError, BlockingIOError, ssl.SSLWantWriteError):
            if total:
                raise TotalTimeout(f"total deadline passed sending to {self.origin}") from None
            raise WriteTimeout(f"sending to {self.origin} stalled for more than {write_timeout} s") from None
        except OSError as exc:
            raise from_os_error(WriteError, f"sending to {self.origin} failed", exc) from exc

    def _send_big(self, data: bytes, write_timeout: float | None, deadline: float | None) -> None:
        """Send a large buffer with the write timeout bounding each stall, not the whole upload.

        A blocking send() under SO_SNDTIMEO returns only when all is sent or its timer ran out,
        which cannot tell a slow peer from a stalled one. Python's socket timeout waits for
        writability before each send() instead, so each wait is exactly "no progress for
        write_timeout": the socket uses it for the duration, then goes back to kernel timeouts.
        """
        sock = self.sock
        view = memoryview(data).cast("B")
        sent = 0
        total = False
        try:
            while sent < len(view):
                timeout, total = within(write_timeout, deadline)
                if total and timeout == 0.0:
                    raise TimeoutError
                sock.settimeout(timeout)
                sent += sock.send(view[sent:])
        except (TimeoutError, BlockingIOError, ssl.SSLWantWriteError):
            if total:
                raise TotalTimeout(f"total deadline passed sending to {self.origin}") from None
            raise WriteTimeout(f"sending to {self.origin} stalled for more than {write_timeout} s") from None
        except OSError as exc:
            raise from_os_error(WriteError, f"sending to {self.origin} failed", exc) from exc
        finally:
            try:
                sock.settimeout(None)  # back to blocking, with the kernel timers (see _arm)
            except OSError:
                pass

    def send_body(
        self, chunks: Iterable[bytes], *, write_timeout: float | None, deadline: float | None
    ) -> None:
        for chunk in chunks:
            if chunk:
                self.send(chunk, write_timeout=write_timeout, deadline=deadline)

    # -- receiving --------------------------------------------------------------------------------

    def recv(self, read_timeout: float | None, deadline: float | None, size: int = _RECV_SIZE) -> bytes:
        """Up to ``size`` bytes (b"" at EOF), with the read and total deadlines applied."""
        if deadline is None and self._kernel_timeouts and read_timeout == self._sock_timeout:
            total = False  # the usual receive: the kernel's timer already set (see _arm)
        else:
            total = self._arm(read_timeout, deadline)
        try:
            return self.sock.recv(size)
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
            raise self._read_timeout(read_timeout, total) from None
        except ssl.SSLError as exc:
            if isinstance(exc, ssl.SSLZeroReturnError | ssl.SSLEOFError):
                return b""
            raise ReadError(f"TLS error reading from {self.origin}: {exc.reason or exc}", reason=exc) from exc
        except OSError as exc:
            raise from_os_error(ReadError, f"reading from {self.origin} failed", exc) from exc

    def recv_into(self, buffer: memoryview, read_timeout: float | None, deadline: float | None) -> int:
        total = self._arm(read_timeout, deadline)
        try:
            return self.sock.recv_into(buffer)
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
            raise self._read_timeout(read_timeout, total) from None
        except ssl.SSLError as exc:
            if isinstance(exc, ssl.SSLZeroReturnError | ssl.SSLEOFError):
                return 0
            raise ReadError(f"TLS error reading from {self.origin}: {exc.reason or exc}", reason=exc) from exc
        except OSError as exc:
            raise from_os_error(ReadError, f"reading from {self.origin} failed", exc) from exc

    def _read_timeout(self, read_timeout: float | None, total: bool) -> Exception:
        if total:
            return TotalTimeout(f"total deadline passed waiting for {self.origin}")
        return ReadTimeout(f"no response data from {self.origin} for {read_timeout} s")

    def receive_head(
        self,
        parser: ResponseParser,
        read_timeout: float | None,
        deadline: float | None,
    ) -> tuple[ResponseHead, list[Data | EndOfMessage], list[Informational]]:
        """Read until the final response head; returns it, the body events already parsed, and any 1xx."""
        interim: list[Informational] = []
        while True:
            data = self.recv(read_timeout, deadline)
            events = parser.feed(data) if data else parser.feed_eof()
            if events and type(events[0]) is ResponseHead:  # the usual answer: its head first
                return events[0], events[1:], interim  # type: ignore[return-value]
            for i, event in enumerate(events):
                if type(event) is ResponseHead:
                    rest = events[i + 1 :]
                    return event, rest, interim  # type: ignore[return-value]
                if type(event) is Informational:
                    interim.append(event)
            if not data:
                # EOF, and the parser had no head to give (it was already past it): never spin.
                raise IncompleteResponse(f"{self.origin} closed the connection before a response head")

    # -- liveness ---------------------------------------------------------------------------------

    def is_alive(self) -> bool:
        """True if an idle connection can still be used: not closed by the peer, no stray bytes.

        An idle HTTP/1.1 connection has nothing to read; anything readable (EOF, a reset, bytes
        the server should not have sent) makes it unusable. One poll(0), no exception raised.
        """
        poller = self._poller
        try:
            if poller is None and _HAVE_POLL:
                poller = self._poller = select.poll()
                poller.register(self.sock.fileno(), select.POLLIN)
            if poller is not None:
                if poller.poll(0):
                    return False
            elif select.select([self.sock], [], [], 0)[0]:  # Windows has no poll()
                return False
        except (OSError, ValueError):
            return False
        sock = self.sock
        # TLS: a record may already sit decrypted in the SSL object (pending) without the fd
        # being readable; an idle connection has none.
        return not (isinstance(sock, _TLS_SOCKETS) and sock.pending())

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:  # pragma: no cover - close() hardly fails, and nothing can be done then
            pass

    def __repr__(self) -> str:
        return f"<Connection {self.origin} requests={self.requests}>"


class ResponseBody:
    """The body of one response, read from its connection on demand.

    When the body ends, ``release(conn, reusable)`` hands the connection back (the pool decides
    what to do with it); it is called exactly once, also when the body is closed early or a read
    fails (then ``reusable`` is False: a half-read connection never goes back to the pool).
    """

    __slots__ = (
        "_conn",
        "_deadline",
        "_done",
        "_parser",
        "_pending",
        "_read_timeout",
        "_release",
        "trailers",
    )

    def __init__(
        self,
        conn: HTTP11Connection,
        parser: ResponseParser,
        early: list[Data | EndOfMessage],
        release: Any,
        read_timeout: float | None,
        deadline: float | None,
    ) -> None:
        self._parser = parser
        self._release = release
        self._read_timeout = read_timeout
        self._deadline = deadline
        if len(early) == 2 and type(early[1]) is EndOfMessage and type(early[0]) is Data:
            # The usual small response, whole in the head's read: _absorb and _finish, inline
            # (a chunked one's trailers included). Body bytes parsed but not read yet are kept
            # as they came (no copy).
            self.trailers: list[tuple[str, str]] = early[1].trailers
            self._pending: bytes | bytearray = early[0].data
            self._done = True
            self._conn: HTTP11Connection | None = None
            release(conn, parser.keep_alive and not parser.trailing_data)
            return
        self._conn = conn
        self.trailers = []
        # Body bytes parsed but not read yet: the bytes of a Data event as they are (the usual
        # case, one piece: no copy), a bytearray once a second piece joins or a read takes a part.
        self._pending = b""
        self._done = False
        if early:
            self._absorb(early)

    def _absorb(self, events: list[Any]) -> None:
        for event in events:
            if type(event) is Data:
                pending = self._pending
                if not pending:
                    self._pending = event.data
                else:
                    if isinstance(pending, bytes):
                        pending = self._pending = bytearray(pending)
                    pending += event.data
            elif type(event) is EndOfMessage:
                self.trailers = event.trailers
                self._finish()

    def _finish(self) -> None:
        self._done = True
        conn, self._conn = self._conn, None
        if conn is not None:
            parser = self._parser
            self._release(conn, parser.keep_alive and not parser.trailing_data)

    def _fail(self) -> None:
        conn, self._conn = self._conn, None
        self._done = True
        if conn is not None:
            self._release(conn, False)

    def _fill(self) -> None:
        """Read once from the connection and parse; at least one event or an exception results."""
        conn = self._conn
        assert conn is not None
        try:
            data = conn.recv(self._read_timeout, self._deadline)
            self._absorb(self._parser.feed(data) if data else self._parser.feed_eof())
        except BaseException:
            self._fail()
            raise

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            if self._done:  # the usual small body, whole already: _read_all's first answer
                pending = self._pending
                self._pending = b""
                return bytes(pending)  # no copy when it is bytes already
            return self._read_all()
        while not self._pending and not self._done:
            self._fill()
        pending = self._pending
        if len(pending) <= n:
            self._pending = b""
            return bytes(pending)
        if isinstance(pending, bytes):
            pending = self._pending = bytearray(pending)  # taken a part at a time from now on
        chunk = bytes(pending[:n])
        del pending[:n]
        return chunk

    def _read_all(self) -> bytes:
        parser = self._parser
        if not self._done and parser.direct_body_remaining > _SMALL_BODY:
            return self._read_all_direct()
        pending = bytes(self._pending)  # no copy when it is bytes already
        self._pending = b""
        if self._done:
            return pending  # the usual small body: it came with the head
        parts = [pending]
        while not self._done:
            self._fill()
            if self._pending:
                parts.append(bytes(self._pending))
                self._pending = b""
        return b"".join(parts)

    def _read_all_direct(self) -> bytes:
        """A big Content-Length body, read straight from the socket into the result.

        The claimed length is never allocated up front: a server may claim 9 EB and send 300 KB
        (CPython gh-119451). The result buffer is reserved in steps, each at most
        _RESERVE_GROWTH times what has arrived (at least _RESERVE_FIRST), never more than the
        claim: io.BufferedReader builds each step's bytes object and fills it in place, the
        previous step's bytes first (the only copy), then straight from the socket. A 64 MiB
        body thus costs one 4 MiB copy, not a second pass over 64 MiB, and a liar gets at most
        a few MiB reserved (pages the kernel only backs as data arrives).
        """
        parser = self._parser
        data: bytes | bytearray = self._pending
        self._pending = b""
        while True:
            claimed = len(data) + parser.direct_body_remaining
            size = min(claimed, max(_RESERVE_FIRST, len(data) * _RESERVE_GROWTH))
            data = io.BufferedReader(_DirectBody(self, data), buffer_size=1).read(size)
            if self._conn is None or not parser.direct_body_remaining:
                return data
            if len(data) < size:  # pragma: no cover - _recv_direct raises on a short body first
                where = self._conn.origin
                self._fail()
                raise IncompleteResponse(f"the body from {where} ended early", received=len(data), expected=claimed)

    def _recv_direct(self, view: memoryview) -> int:
        conn = self._conn
        assert conn is not None
        try:
            n = conn.recv_into(view, self._read_timeout, self._deadline)
            if n == 0:
                self._parser.feed_eof()  # raises IncompleteResponse
            end = self._parser.direct_body_consumed(n)
        except BaseException:
            self._fail()
            raise
        if end is not None:
            self._finish()
        return n

    def readinto(self, buffer: memoryview) -> int:
        if not len(buffer):
            return 0
        if not self._pending and not self._done:
            direct = self._parser.direct_body_remaining
            if direct:
                return self._recv_direct(buffer[:direct])
            while not self._pending and not self._done:
                self._fill()
        pending = self._pending
        n = min(len(pending), len(buffer))
        buffer[:n] = pending[:n]
        if n == len(pending):
            self._pending = b""
        else:
            if isinstance(pending, bytes):
                pending = self._pending = bytearray(pending)
            del pending[:n]
        return n

    def close(self) -> None:
        self._pending = b""
        if not self._done:
            self._fail()


class _DirectBody(io.RawIOBase):
    """A raw stream over one Content-Length body: the bytes already received, then the socket."""

    def __init__(self, body: ResponseBody, head: bytes | bytearray) -> None:
        super().__init__()
        self._body = body
        self._head = memoryview(head)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        head = self._head
        if self._pos < len(head):
            n = min(len(head) - self._pos, len(buffer))
            buffer[:n] = head[self._pos : self._pos + n]
            self._pos += n
            return n
        body = self._body
        if body._conn is None or not body._parser.direct_body_remaining:
            return 0
        view = memoryview(buffer).cast("B")
        return body._recv_direct(view[: body._parser.direct_body_remaining])


# The old name. ``netwire.sockets.Connection`` is the public one (a TCP server's client);
# this alias stays for code that imported the HTTP/1.1 connection from its old path.
Connection = HTTP11Connection
