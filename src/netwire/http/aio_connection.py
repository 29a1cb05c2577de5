"""One HTTP/1.1 connection on asyncio: an ``asyncio.Protocol`` driving :mod:`netwire.http11`.

``AsyncConnection`` is the protocol object itself: ``data_received`` feeds the bytes straight to
the response parser and keeps the events for the task waiting on them, so a small response
costs one callback, one ``feed`` and one future resolution, with no stream buffers in between.
Back-pressure both ways: reading pauses while more than :data:`HIGH_WATER` body bytes wait
for the consumer, and writes wait for ``resume_writing`` when the transport's buffer is full.

Every failure becomes the matching :mod:`netwire.errors` exception here (host, port and phase
in its message); deadlines are a per-wait timer that resolves the waiting future.

:func:`open_async_connection` connects (TCP with the loop's happy eyeballs, or a Unix socket),
goes through an HTTP CONNECT or SOCKS5 proxy when asked (the same sans-IO parser and handshake
as the sync client), and does TLS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import select
import socket
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import (
    ConnectError,
    ConnectTimeout,
    ProtocolError,
    ProxyError,
    ReadError,
    ReadTimeout,
    TLSError,
    TotalTimeout,
    WriteError,
    WriteTimeout,
    from_os_error,
)
from .connection import Origin, within
from .http11 import (
    DEFAULT_LIMITS,
    Data,
    EndOfMessage,
    Informational,
    ParserLimits,
    ResponseHead,
    ResponseParser,
)
from .trace import TraceHook, connected, emit, tls_done
from .tunnels import ConnectHandshake, Socks5Handshake, traced_tunnel

if TYPE_CHECKING:
    from .policy.proxies import Proxy  # type-only: policy sits above the connections

__all__ = ["HIGH_WATER", "AsyncConnection", "open_async_connection"]

HIGH_WATER = 256 * 1024
"""Body bytes buffered for a slow consumer before reading from the socket pauses."""

_HAPPY_EYEBALLS_DELAY = 0.25


def _fire(fut: asyncio.Future[bool]) -> None:
    if not fut.done():
        fut.set_result(False)


# A timer may run this much before its time (the loop's clock resolution): still "due".
_EARLY = 1e-3
#: After a reset, at most this much of what the server had sent is still read from the socket.
SALVAGE_LIMIT = HIGH_WATER


_HAVE_POLL = hasattr(select, "poll")
# The future type asyncio's own loop makes (a module global: tests count what it makes).
_Future = asyncio.Future


class AsyncConnection(asyncio.Protocol):
    """A transport speaking HTTP/1.1, one exchange at a time.

    Between exchanges the connection is idle: any byte or EOF arriving then makes it unusable
    (``alive`` turns False), so the pool checks liveness without a syscall.
    """

    def __init__(self, origin: Origin, limits: ParserLimits = DEFAULT_LIMITS) -> None:
        self.origin = origin
        self.limits = limits
        self.loop = loop = asyncio.get_running_loop()
        # The loop's clock, read on every request (arm, data arriving during a read timeout): on
        # asyncio's own loop ``loop.time()`` is a Python method returning ``time.monotonic()``;
        # call the C function itself. Any other loop (uvloop) keeps its own clock: its timers use it.
        self._now: Callable[[], float] = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        self._stock = type(loop).create_future is asyncio.BaseEventLoop.create_future
        self.transport: Any = None
        #: A poll object on the socket (made by the first :meth:`peer_still_there`): the pool
        #: polls it itself on every checkout, without a call into this class.
        self.poller: Any = None
        self.alive = False
        self.requests = 0
        self.idle_since = 0.0
        self.pool_key: Any = None
        # The exchange in progress (parser None: idle).
        self.parser: ResponseParser | None = None
        self.head: ResponseHead | None = None
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.done = False
        self.trailers: list[tuple[str, str]] = []
        self.error: BaseException | None = None
        self.got_continue = False
        self._waiter: asyncio.Future[bool] | None = None
        # Deadline of the current wait (loop time) and, for a read timeout, its length: data
        # arriving pushes it back. One long-lived timer per connection checks it (see wait()).
        self._want: float | None = None
        self._span: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        # Wake the waiting task only once the whole response is in (a request that reads the
        # body anyway): one task switch per response instead of one per segment.
        self.until_done = False
        self._reading_paused = False
        #: The transport's write buffer is full: await :meth:`drain` before writing more. (An
        #: attribute rather than a property: read before every request's write.)
        self.write_paused = False
        self._drain_waiter: asyncio.Future[bool] | None = None
        # Raw mode (proxy handshakes): bytes go here instead of to a parser.
        self._raw: bytearray | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.alive = True

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None:
            raw = self._raw
            if raw is not None:
                raw += data
                self._wake()
            else:
                # Bytes on an idle connection: the server broke the exchange; never reuse it.
                self.alive = False
            return
        try:
            events = parser.feed(data)
        except ProtocolError as exc:
            self.error = exc
            self.alive = False
            self._wake()
            return
        if events:
            self._absorb(events)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                if not self.until_done or self.done or self._reading_paused:
                    self._waiter = self._want = self._span = None  # the wait is over: nothing to undo
                    waiter.set_result(True)
                elif self._span is not None:
                    self._want = self._now() + self._span
        elif self._span is not None and self._waiter is not None:
            self._want = self._now() + self._span

    def _absorb(self, events: list[Any]) -> None:
        for event in events:
            kind = type(event)
            if kind is Data:
                self.chunks.append(event.data)
                self.buffered += len(event.data)
            elif kind is ResponseHead:
                self.head = event
            elif kind is EndOfMessage:
                self.done = True
                self.trailers = event.trailers
            elif kind is Informational and event.status == 100:
                self.got_continue = True  # other 1xx heads are skipped: the final one matters
        if self.buffered > HIGH_WATER and not self.done and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()

    def peer_still_there(self) -> bool:
        """For an idle connection: nothing readable on its socket (no EOF, reset or stray bytes).

        ``alive`` only learns of a close when the loop runs our callbacks; a request made right
        after the server closed would not see it yet. One poll(0), as the sync pool does.
        """
        if not _HAVE_POLL:
            return self.alive
        poller = self.poller
        try:
            if poller is None:
                sock = self.transport.get_extra_info("socket")
                if sock is None:
                    return self.alive
                poller = self.poller = select.poll()
                poller.register(sock.fileno(), select.POLLIN)
            if poller.poll(0):
                self.alive = False
        except (OSError, ValueError):
            self.alive = False
        return self.alive

    def eof_received(self) -> bool | None:
        parser = self.parser
        self.alive = False
        if parser is not None and self.error is None:
            try:
                self._absorb(parser.feed_eof())
            except ProtocolError as exc:
                self.error = exc
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        parser = self.parser
        if parser is not None and self.error is None and not self.done and exc is not None:
            self._salvage(parser)
        if parser is not None and self.error is None and not self.done:
            if exc is None:
                try:
                    self._absorb(parser.feed_eof())
                except ProtocolError as err:
                    self.error = err
            elif isinstance(exc, ssl.SSLError):
                self.error = ReadError(f"TLS error reading from {self.origin}: {exc.reason or exc}", reason=exc)
            else:
                self.error = from_os_error(ReadError, f"connection to {self.origin} lost", exc)
        if self._raw is not None and self.error is None:
            self.error = ProxyError(f"the proxy at {self.origin} closed the connection")
        self._wake()
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(True)

    def _salvage(self, parser: ResponseParser) -> None:
        """Read what the server sent before it reset the connection.

        A server that answers early (413 to an upload it will not read) and then resets the
        connection makes our next write fail; asyncio then closes the transport without reading
        the answer that sits in the socket's receive queue (Linux keeps it readable after a
        RST), and the sync client, which reads it, would see the 413 where we saw a reset. The
        socket is still open while ``connection_lost`` runs: read it, non-blocking and bounded.
        Plain TCP only: on TLS the bytes are records only the transport's SSL object could open.
        """
        transport = self.transport
        if transport is None or transport.get_extra_info("sslcontext") is not None:
            return
        sock = transport.get_extra_info("socket")
        if sock is None:
            return
        got = 0
        try:
            fd = sock.fileno()
            while got < SALVAGE_LIMIT and not self.done:
                data = os.read(fd, 65536)  # the socket is non-blocking
                if not data:
                    self._absorb(parser.feed_eof())
                    break
                got += len(data)
                self._absorb(parser.feed(data))
        except (OSError, ValueError):
            pass  # nothing more to read (EAGAIN, the reset itself, a closed fd)
        except ProtocolError as err:
            self.error = err

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(True)

    # -- exchanges --------------------------------------------------------------------------------

    def start(self, parser: ResponseParser, until_done: bool = False) -> None:
        """Begin an exchange whose response ``parser`` will read.

        ``until_done``: the waiting task wants the whole response, so it is woken when the
        response is complete (or fails, or fills the buffer), not at each piece.
        """
        self.parser = parser
        self.until_done = until_done
        self.head = None
        if self.chunks:  # left by an exchange given up mid-body (a finished one took them)
            self.chunks = []
            self.buffered = 0
        self.done = False
        # ``trailers`` is not reset: only read once ``done``, when this response's end set it.
        self.error = None
        self.got_continue = False

    def finish(self) -> bool:
        """End the exchange; True if the connection may carry another one."""
        parser = self.parser
        self.parser = None
        return (
            self.alive
            and parser is not None
            and parser.keep_alive
            and not parser.trailing_data
            and self.done
            and self.error is None
        )

    def take(self) -> bytes:
        """The body bytes received so far (and lets reading resume)."""
        chunks = self.chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.chunks = []
        self.buffered = 0
        if self._reading_paused:
            self._reading_paused = False
            if self.alive:
                self.transport.resume_reading()
        return data

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = self._want = self._span = None
            waiter.set_result(True)

    async def wait(self, timeout: float | None, extend: bool = True) -> bool:
        """Wait for the next event (or error); False when ``timeout`` passed first.

        ``extend``: ``timeout`` is a read timeout (each arrival of data restarts it) rather
        than a fixed deadline. The timer is not created and cancelled per wait: one timer per
        connection stays armed and, when it runs before the current deadline, re-arms itself
        for it; a wait that ends early leaves it to expire harmlessly.
        """
        try:
            return await self.arm(timeout, extend)
        finally:  # a cancelled wait leaves no waiter behind (a resolved one cleared itself)
            self._waiter = self._want = self._span = None

    def arm(self, timeout: float | None, extend: bool = True) -> asyncio.Future[bool]:
        """The future :meth:`wait` awaits: True at the next event (or error), False once
        ``timeout`` passed. For a caller that awaits it itself (the client's hot path): no
        coroutine of its own, and whoever resolves it (data, EOF, the timer) also clears the wait.
        A caller cancelled while awaiting it leaves a cancelled future, which nothing resolves;
        it gives the connection up (it is mid-exchange), as after any cancellation.
        """
        # On asyncio's own loop, its create_future (a Python method) inline: the future made in C.
        fut: asyncio.Future[bool] = _Future(loop=self.loop) if self._stock else self.loop.create_future()
        self._waiter = fut
        if self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()
        if timeout is not None:
            want = self._now() + timeout
            self._want = want
            self._span = timeout if extend else None
            if self._timer is None or self._timer_at > want:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer = self.loop.call_at(want, self._on_timer)
                self._timer_at = want
        else:
            self._want = self._span = None
        return fut

    def _on_timer(self) -> None:
        self._timer = None
        want = self._want
        waiter = self._waiter
        if want is None or waiter is None or waiter.done():
            return
        if self._now() >= want - _EARLY:
            self._waiter = self._want = self._span = None
            waiter.set_result(False)
        else:
            self._timer = self.loop.call_at(want, self._on_timer)
            self._timer_at = want

    async def wait_head(self, read_timeout: float | None, deadline: float | None) -> ResponseHead:
        """Wait for the final response head (past any 1xx heads)."""
        while True:
            head = self.head
            if head is not None:
                return head  # a failure later in the body is the body reader's to raise
            if self.error is not None:
                raise self.error
            await self.wait_event(read_timeout, deadline)

    async def wait_event(self, read_timeout: float | None, deadline: float | None) -> None:
        """One wait for response progress, with the read and total deadlines applied."""
        # No total deadline (the common case): no call to make, on every wait of every request.
        timeout, total = (read_timeout, False) if deadline is None else within(read_timeout, deadline)
        if not await self.wait(timeout, not total):
            if total:
                raise TotalTimeout(f"total deadline passed waiting for {self.origin}")
            raise self.read_timed_out(read_timeout)

    def read_timed_out(self, read_timeout: float | None) -> ReadTimeout:
        """The error of a read wait that timed out."""
        return ReadTimeout(f"no response data from {self.origin} for {read_timeout} s")

    # -- writing ----------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue ``data`` (callers await :meth:`drain` when ``write_paused``)."""
        transport = self.transport
        if not self.alive or transport.is_closing():
            raise WriteError(f"sending to {self.origin} failed: the connection is closed")
        transport.write(data)

    async def drain(self, write_timeout: float | None, deadline: float | None) -> None:
        """Wait until the transport's write buffer is below its high-water mark again."""
        while self.write_paused:
            if not self.alive:
                raise WriteError(f"sending to {self.origin} failed: the connection was closed")
            timeout, total = within(write_timeout, deadline)
            fut: asyncio.Future[bool] = self.loop.create_future()
            self._drain_waiter = fut
            handle = None if timeout is None else self.loop.call_later(timeout, _fire, fut)
            try:
                progressed = await fut
            finally:
                self._drain_waiter = None
                if handle is not None:
                    handle.cancel()
            if not progressed:
                if total:
                    raise TotalTimeout(f"total deadline passed sending to {self.origin}")
                raise WriteTimeout(f"sending to {self.origin} stalled for more than {write_timeout} s")
        if not self.alive and self.head is None:
            raise WriteError(f"sending to {self.origin} failed: the connection was closed")

    # -- raw mode (proxy handshakes) -------------------------------------------------------------------

    async def read_raw(self, deadline: float | None, where: str) -> bytearray:
        """Wait for handshake bytes from the proxy; returns the buffer holding what arrived so far."""
        raw = self._raw
        assert raw is not None
        while not raw:
            if self.error is not None:
                raise self.error
            timeout = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not await self.wait(timeout, False):
                raise ConnectTimeout(f"{where} timed out")
        return raw

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the transport now (whatever is buffered is dropped)."""
        self.alive = False
        self.parser = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        transport = self.transport
        if transport is not None:
            try:
                transport.abort()
            except AttributeError:
                # Early CPython 3.11 releases (Debian 12's 3.11.2) fail abort() on an SSL transport
                # that has already closed (its _ssl_protocol is None): there is nothing left to close.
                pass
            except RuntimeError:
                # Its event loop is closed already: release the socket itself (asyncio hands
                # out only a TransportSocket view of it, which cannot close).
                sock = getattr(transport, "_sock", None)
                if sock is None:
                    sock = getattr(transport.get_extra_info("socket"), "_sock", None)
                if sock is not None:
                    sock.close()

    def __repr__(self) -> str:
        return f"<AsyncConnection {self.origin} requests={self.requests} alive={self.alive}>"


# -- connecting ---------------------------------------------------------------------------------------


def _where(origin: Origin, uds: str | None) -> str:
    if uds is not None or origin.scheme == "http+unix":
        return f"unix:{uds or origin.host}"
    return f"{origin.host}:{origin.port}"


def _connect_timeout(where: str, timeout: float | None, total_binds: bool) -> Exception:
    if total_binds:
        return TotalTimeout(f"total deadline passed while connecting to {where}")
    return ConnectTimeout(f"connecting to {where} timed out after {timeout:.3g} s")


def _tls_error(where: str, exc: ssl.SSLError) -> TLSError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TLSError(f"TLS certificate of {where} not accepted: {exc.verify_message or exc.reason}", reason=exc)
    return TLSError(f"TLS handshake with {where} failed: {exc.reason or exc}", reason=exc)


def _eyeballs(loop: asyncio.AbstractEventLoop, host: str) -> dict[str, Any]:
    """Happy eyeballs (RFC 8305) by the loop, for a name that may resolve to IPv6 and IPv4.

    asyncio's own loop races the addresses itself; uvloop's create_connection has no such
    option and tries them in turn.
    """
    if _is_ip(host) or not isinstance(loop, asyncio.BaseEventLoop):
        return {}
    return {"happy_eyeballs_delay": _HAPPY_EYEBALLS_DELAY}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def open_async_connection(
    origin: Origin,
    *,
    connect_timeout: float | None,
    deadline: float | None = None,
    ssl_context: ssl.SSLContext | None = None,
    uds: str | None = None,
    limits: ParserLimits = DEFAULT_LIMITS,
    proxy: Proxy | None = None,
    proxy_headers: list[tuple[str, str]] | None = None,
    proxy_ssl_context: ssl.SSLContext | None = None,
    keep_raw: bool = False,
    trace: TraceHook | None = None,
    label: str | None = None,
) -> AsyncConnection:
    """Connect to ``origin`` and do TLS if it is https; returns an idle :class:`AsyncConnection`.

    ``keep_raw``: keep what the server sends first in ``conn._raw`` (an HTTP/2 server's
    SETTINGS may arrive before the caller takes the transport over for HTTP/2).

    ``proxy`` (a :class:`~netwire.policy.proxies.Proxy`) of kind ``http`` or ``https`` opens a
    CONNECT tunnel (over TLS to the proxy when ``proxy_ssl_context`` is given: an https:// proxy),
    ``socks5``/``socks5h`` a SOCKS5 one; TLS to the origin then runs inside the tunnel (TLS in
    TLS through an https:// proxy). (Plain HTTP through an HTTP proxy needs no tunnel: connect to
    the proxy itself instead.)
    ``connect_timeout`` covers TCP, the proxy handshake and TLS together; ``deadline`` (monotonic)
    caps it when the total budget is tighter. ``trace`` (:mod:`netwire.http.trace`) is told of
    the ``dns``, ``connect``, ``tls``, ``proxy.connect`` and ``socks5`` phases; to time TCP and
    TLS apart it resolves the name first and starts TLS once connected (only when tracing).
    ``label`` (``"proxy host:port"``) says, in the trace, that ``origin`` is an HTTP proxy.
    """
    timeout, total_binds = within(connect_timeout, deadline)
    where = _where(origin, uds)
    try:
        async with asyncio.timeout(timeout):
            return await _open(
                origin, ssl_context, uds, limits, proxy, proxy_headers, proxy_ssl_context,
                where if trace is None else label or where, keep_raw, trace,
            )
    except TimeoutError:
        raise _connect_timeout(where, timeout, total_binds) from None


async def _open(
    origin: Origin,
    ssl_context: ssl.SSLContext | None,
    uds: str | None,
    limits: ParserLimits,
    proxy: Proxy | None,
    proxy_headers: list[tuple[str, str]] | None,
    proxy_ssl_context: ssl.SSLContext | None,
    where: str,
    keep_raw: bool = False,
    trace: TraceHook | None = None,
) -> AsyncConnection:
    """TCP (or a Unix socket) to the origin or the proxy, the proxy's handshake, then TLS.

    With ``trace``, each phase is reported: the name is resolved first and TLS to the origin
    starts once TCP is up, so that DNS, TCP and TLS are timed apart; without it, a direct
    connection does all three in one ``create_connection`` (fewer loop passes).
    """
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    tls = origin.scheme == "https"
    if tls and ssl_context is None:
        from .connection import default_ssl_context

        ssl_context = default_ssl_context()
    unix = proxy is None and (uds is not None or origin.scheme == "http+unix")
    # TLS to the origin inside create_connection: direct, and not traced (a Unix socket's TLS is
    # never timed apart); else started on the connection (the tunnel) once it is up.
    inline_tls = tls and proxy is None and (trace is None or unix)
    if proxy is None:
        peer, peer_where = origin, where
        outer_tls = ssl_context if inline_tls else None
    else:
        peer, peer_where = Origin("http", proxy.host, proxy.port), f"proxy {proxy.host}:{proxy.port}"
        outer_tls = proxy_ssl_context
    # Before any byte can arrive: what an HTTP/2 server sends first (for the connection taking
    # it over), or the proxy's handshake reply, is kept raw instead of parsed.
    raw = keep_raw or proxy is not None

    def factory() -> AsyncConnection:
        conn = AsyncConnection(peer, limits)
        if raw:
            conn._raw = bytearray()
        return conn

    server_name = peer.host if outer_tls is not None else None
    if trace is not None and not unix and not _is_ip(peer.host):
        try:
            infos = await loop.getaddrinfo(peer.host, peer.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise from_os_error(ConnectError, f"cannot connect to {peer_where}", exc) from exc
        emit(trace, "dns", started, host=peer.host, port=peer.port, addresses=[str(i[4][0]) for i in infos])
    tcp_at = time.monotonic()
    try:
        if unix:
            _, conn = await loop.create_unix_connection(
                factory, uds or origin.host, ssl=outer_tls, server_hostname=server_name
            )
        else:
            _, conn = await loop.create_connection(
                factory, peer.host, peer.port, ssl=outer_tls, server_hostname=server_name,
                **_eyeballs(loop, peer.host),
            )
    except ssl.SSLError as exc:
        raise _tls_error(peer_where, exc) from exc
    except OSError as exc:
        raise from_os_error(ConnectError, f"cannot connect to {peer_where}", exc) from exc
    try:
        if trace is not None:
            as_proxy = peer_where if peer_where.startswith("proxy ") else None
            connected(trace, conn.transport, peer, as_proxy, started if unix else tcp_at)
        if proxy is not None:
            tunnel_at = time.monotonic()
            answer = None
            try:
                if proxy.kind in ("http", "https"):
                    answer = await _http_connect(conn, origin, proxy_headers or [], limits)
                else:
                    await _socks5(conn, origin, proxy)
            except ProxyError as exc:
                traced_tunnel(trace, proxy, origin.host, origin.port, tunnel_at, exc)
                raise
            traced_tunnel(trace, proxy, origin.host, origin.port, tunnel_at, answer)
            conn._raw = bytearray() if keep_raw else None
            conn.origin = origin
            if proxy_ssl_context is not None:
                # TLS in TLS: asyncio (3.11+) and uvloop run start_tls over the proxy's TLS transport.
                where = f"{where} (through the https proxy)"
        if tls and not inline_tls:
            tls_at = time.monotonic()
            try:
                transport = await loop.start_tls(
                    conn.transport, conn, ssl_context, server_hostname=origin.host  # type: ignore[arg-type]
                )
            except ssl.SSLError as exc:
                raise _tls_error(where, exc) from exc
            except OSError as exc:
                raise from_os_error(ConnectError, f"TLS handshake with {where} failed", exc, why=str(exc)) from exc
            except TypeError as exc:
                # CPython 3.11's asyncio turns a failed TLS-in-TLS handshake into a TypeError
                # (_SSLProtocolTransport._force_close passes an argument SSLProtocol._abort does
                # not take); the handshake's own error is that TypeError's context.
                failure = exc.__context__
                if isinstance(failure, ssl.SSLError):
                    raise _tls_error(where, failure) from failure
                raise
            if transport is None:
                raise ConnectError(f"TLS handshake with {where} failed: the tunnel closed")
            conn.transport = transport
            if trace is not None:
                tls_done(trace, transport, origin.host, tls_at)
        return conn
    except BaseException:
        conn.close()
        raise


async def _http_connect(
    conn: AsyncConnection, origin: Origin, headers: list[tuple[str, str]], limits: ParserLimits
) -> ResponseHead:
    """Drive the sans-IO CONNECT handshake (:class:`~netwire.http.tunnels.ConnectHandshake`) over ``conn``; the
    proxy's 2xx reply head."""
    machine = ConnectHandshake(origin.host, origin.port, headers, limits)
    conn.write(machine.request)
    while True:
        raw = await conn.read_raw(None, machine.where)
        data = bytes(raw)
        raw.clear()
        head = machine.receive(data)
        if head is not None:
            if machine.trailing_data:
                # The target spoke first inside the tunnel: HTTP and TLS servers never do.
                raise ProxyError(f"{machine.where}: unexpected bytes after the proxy's reply")
            return head


async def _socks5(conn: AsyncConnection, origin: Origin, proxy: Proxy) -> None:
    """Drive the sans-IO SOCKS5 handshake over ``conn``."""
    remote_dns = proxy.kind == "socks5h"
    target = origin.host
    if not remote_dns and not _is_ip(target):
        loop = asyncio.get_running_loop()
        import socket

        try:
            infos = await loop.getaddrinfo(target, origin.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise from_os_error(ConnectError, f"cannot resolve {target!r} for the SOCKS5 proxy", exc) from exc
        target = str(infos[0][4][0])
    machine = Socks5Handshake(target, origin.port, proxy.auth, remote_dns)
    where = f"SOCKS5 handshake for {origin.host}:{origin.port}"
    while not machine.done:
        out = machine.bytes_to_send()
        if out:
            conn.write(out)
        need = machine.bytes_needed
        if need:
            raw = await conn.read_raw(None, where)
            take = bytes(raw[:need])
            del raw[:need]
            machine.receive(take)
    if conn._raw:
        raise ProxyError(f"{where}: unexpected bytes after the proxy's reply")
