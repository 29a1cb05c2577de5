"""HTTP/2 on asyncio: a thin driver of :class:`~netwire.http.h2_core.H2Core`, and the registry
of HTTP/2 connections the :class:`~netwire.aio.AsyncClient` multiplexes its tasks' requests on.

:class:`AsyncH2Connection` is the ``asyncio.Protocol`` of one connection: ``data_received``
feeds the core and wakes the tasks whose streams progressed; writes go out after every core
call. :class:`AsyncH2Stream` gives one stream the reading interface the async client's body
reader already uses on an HTTP/1.1 connection (``chunks``, ``done``, ``error``, ``take``,
``wait_event``, ``finish``), so the response object is the same for both protocols.

:class:`AsyncH2Pool` keeps the HTTP/2 connections per pool key: a request takes a stream on a
connection with room under the server's SETTINGS_MAX_CONCURRENT_STREAMS; when all are full a
second connection opens (as curl does); tasks arriving while a connection is being set up wait
for it instead of each opening their own. The connections count in the client's ordinary pool
(its per-host and total limits apply); an origin whose server picked HTTP/1.1 by ALPN is
remembered and served by the ordinary pool from then on.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from ..errors import (
    ConnectionTerminated,
    H2ProtocolError,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    TotalTimeout,
    WriteError,
    WriteTimeout,
)
from .aio_connection import AsyncConnection
from .h2_core import DEFAULT_H2_LIMITS, H2Core, H2Limits, H2Stream
from .http11 import ResponseHead

__all__ = ["AsyncH2Connection", "AsyncH2Pool", "AsyncH2Stream"]

# Wake a task that wants the whole body (``until_done``) once this much is buffered, so the
# window it holds is handed back before the server stalls on it.
_WAKE_BUFFERED = 1024 * 1024


def _fire(fut: asyncio.Future[bool]) -> None:
    if not fut.done():
        fut.set_result(False)


def _limit(timeout: float | None, deadline: float | None) -> tuple[float | None, bool]:
    """The wait allowed by ``timeout`` and the total ``deadline``; True when the deadline binds."""
    if deadline is not None:
        left = deadline - time.monotonic()
        if timeout is None or left < timeout:
            return max(left, 0.0), True
    return timeout, False


# What the transport decrypts (or reads) into, per get_buffer call.
_READ_BUFFER = 256 * 1024


class AsyncH2Connection(asyncio.BufferedProtocol):
    """One HTTP/2 connection on an asyncio transport (taken over from the TLS/TCP connect).

    A buffered protocol: the transport decrypts straight into the core's frame reader (several
    TLS records per call), instead of a new bytes object per record (asyncio and uvloop both
    support it on TLS and TCP transports).
    """

    def __init__(self, origin: Any, transport: Any, limits: H2Limits = DEFAULT_H2_LIMITS) -> None:
        self.origin = origin
        self.loop = asyncio.get_running_loop()
        self.core = H2Core(str(origin), limits)
        self.transport = transport
        self.alive = True
        self.placeholder: Any = None  # the pool's record of this connection (its slot)
        self.waiters: dict[int, asyncio.Future[bool]] = {}
        self.handles: dict[int, AsyncH2Stream] = {}
        self.key: Hashable = None
        self._settings_waiter: asyncio.Future[bool] | None = None
        self._window_waiters: list[asyncio.Future[bool]] = []
        self._write_paused = False
        self._flush_soon: asyncio.Handle | None = None
        self._inbox = False  # bytes fed to the core and not yet parsed
        self._inbox_soon: asyncio.Handle | None = None
        self.on_free: Callable[[AsyncH2Connection], None] | None = None
        # The read deadlines of the streams waiting in wait_event (loop time, by stream id),
        # watched by ONE timer for the whole connection: a wait only stores its deadline, and the
        # timer, when it fires, wakes the waits that are due and re-arms itself for the next.
        # A timer made and cancelled per wait was ~14% of a small request's CPU with 20 streams
        # in flight; each wait ends long before its deadline, so the timer is re-armed rarely.
        self.expiries: dict[int, float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0
        self.idle_since = time.monotonic()
        self.requests = 0

    def start(self, early: bytes) -> None:
        """Send the preface; ``early`` is what the server sent before we took the transport over."""
        self.core.start()
        self.transport.set_protocol(self)
        self.flush()
        if early:
            self.data_received(bytes(early))

    # -- asyncio.Protocol -------------------------------------------------------------------------

    def get_buffer(self, sizehint: int) -> memoryview:
        # Room in the frame reader's own buffer: the transport decrypts straight into it (the
        # core never resizes a buffer it lent, so the transport's view stays valid).
        return self.core.read_into(_READ_BUFFER)

    def buffer_updated(self, nbytes: int) -> None:
        # Parsed at the end of this loop turn, once for everything that arrived in it.
        self.core.commit(nbytes)
        self._inbox = True
        if self._inbox_soon is None:
            self._inbox_soon = self.loop.call_soon(self._process)

    def data_received(self, data: bytes) -> None:
        """What the server sent before the transport was taken over (see :meth:`start`)."""
        self.core.feed(data)
        self._inbox = True
        if self._inbox_soon is None:
            self._inbox_soon = self.loop.call_soon(self._process)

    def _take_inbox(self) -> None:
        """Process what arrived before an EOF or a close is handled."""
        if self._inbox_soon is not None:
            self._inbox_soon.cancel()
            self._process()

    def _process(self) -> None:
        self._inbox_soon = None
        inbox, self._inbox = self._inbox, False
        if not inbox or not self.alive:
            return
        core = self.core
        before = {sid: s.progress for sid, s in core.streams.items()}
        try:
            core.receive(b"")  # everything fed in this turn, in one pass of the frame reader
        except H2ProtocolError:
            self.flush()
            self._shutdown()
        else:
            self.flush()
        for sid, stream in core.streams.items():
            if before.get(sid, -1) != stream.progress:
                waiter = self.waiters.get(sid)
                if waiter is not None and not waiter.done():
                    handle = self.handles.get(sid)
                    if handle is None or handle.wants_wake(stream):
                        waiter.set_result(True)
        if core.settings_received:
            sw = self._settings_waiter
            if sw is not None and not sw.done():
                sw.set_result(True)
        self._wake_windows()
        if core.goaway is not None or core.error is not None:
            self._notify_free()

    def eof_received(self) -> bool | None:
        self._take_inbox()
        self._lost("closed the connection")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._take_inbox()
        if isinstance(exc, ssl.SSLError):
            self._lost(f"failed: TLS error {exc.reason or exc}")
        elif exc is not None:
            self._lost(f"was lost: {getattr(exc, 'strerror', None) or exc}")
        else:
            self._lost("closed the connection")

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_windows()

    # -- internals --------------------------------------------------------------------------------

    def _lost(self, reason: str) -> None:
        was_alive = self.alive
        self.alive = False
        self.core.lost(reason)
        self._stop_timer()  # every wait is woken below; none is left to time out
        for waiter in list(self.waiters.values()):
            if not waiter.done():
                waiter.set_result(True)
        sw = self._settings_waiter
        if sw is not None and not sw.done():
            sw.set_result(True)
        self._wake_windows()
        if was_alive:
            self._notify_free()

    def _shutdown(self) -> None:
        """After a protocol error: the GOAWAY was flushed; close."""
        self.alive = False
        try:
            self.transport.close()
        except RuntimeError:  # closing a transport whose loop is gone
            pass

    def _notify_free(self) -> None:
        callback = self.on_free
        if callback is not None:
            callback(self)

    def _wake_windows(self) -> None:
        waiters, self._window_waiters = self._window_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(True)

    def watch(self, stream_id: int, when: float) -> None:
        """Wake the wait of ``stream_id`` (its future in :attr:`waiters`) with False at loop time
        ``when``, unless it is woken or gone before. The connection's timer is moved only when
        this deadline comes before the one it is armed for."""
        self.expiries[stream_id] = when
        timer = self._timer
        if timer is None or when < self._timer_when:
            if timer is not None:
                timer.cancel()
            self._timer_when = when
            self._timer = self.loop.call_at(when, self._expire_waits)

    def _expire_waits(self) -> None:
        """The timer fired: time out the waits due by now, re-arm for the earliest one left."""
        self._timer = None
        # Due means due by the time this timer was armed for (the loop may run it a clock
        # resolution early): exactly what a timer of that wait's own would have done.
        now = self._timer_when
        expiries = self.expiries
        following: float | None = None
        for sid, when in list(expiries.items()):
            if when <= now:
                del expiries[sid]
                waiter = self.waiters.get(sid)
                if waiter is not None:
                    _fire(waiter)
            elif following is None or when < following:
                following = when
        if following is not None:
            self._timer_when = following
            self._timer = self.loop.call_at(following, self._expire_waits)

    def _stop_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _flush_later(self) -> None:
        self._flush_soon = None
        self.flush()

    def flush_soon(self) -> None:
        """Write what the core has queued at the end of this loop turn, with whatever the other
        tasks queue in the same turn (their HEADERS, WINDOW_UPDATEs): one TLS record and one send
        for all, instead of one per task (a write per request was most of a small request's cost)."""
        if self._flush_soon is None:
            self._flush_soon = self.loop.call_soon(self._flush_later)

    def flush(self) -> None:
        out = self.core.data_to_send()
        if out and self.alive:
            transport = self.transport
            if not transport.is_closing():
                transport.write(out)

    @property
    def usable(self) -> bool:
        return self.alive and self.core.usable

    def has_capacity(self) -> bool:
        return self.alive and self.core.has_capacity()

    def open(
        self, method: str, scheme: str, authority: str, path: str, fields: list[tuple[str, str]], end: bool
    ) -> AsyncH2Stream:
        """Start a request on a new stream (HEADERS sent; ``end``: without a body)."""
        stream = self.core.open_stream(method, scheme, authority, path, fields, end)
        # The HEADERS go out at the end of this loop turn, with those of every other task
        # starting a request in the same turn: one send (and one wake-up of the server) for all.
        self.flush_soon()
        self.requests += 1
        handle = AsyncH2Stream(self, stream)
        self.handles[stream.stream_id] = handle
        return handle

    async def wait_settings(self, timeout: float | None) -> None:
        """Wait for the server's first SETTINGS (its stream limit), so the first burst of requests
        does not overrun it."""
        if self.core.settings_received:
            return
        if not self.alive:
            raise self.core.error or ConnectionTerminated(f"HTTP/2 connection to {self.origin} closed")
        fut: asyncio.Future[bool] = self.loop.create_future()
        self._settings_waiter = fut
        handle = None if timeout is None else self.loop.call_later(timeout, _fire, fut)
        try:
            await fut
        finally:
            self._settings_waiter = None
            if handle is not None:
                handle.cancel()
        if self.core.error is not None and not self.core.settings_received:
            raise self.core.error
        if not self.core.settings_received:
            raise ReadTimeout(f"{self.origin} sent no HTTP/2 SETTINGS within {timeout} s")

    async def wait_window(self, timeout: float | None) -> bool:
        """Wait for a WINDOW_UPDATE (or the write buffer draining); False on timeout."""
        fut: asyncio.Future[bool] = self.loop.create_future()
        self._window_waiters.append(fut)
        handle = None if timeout is None else self.loop.call_later(timeout, _fire, fut)
        try:
            return await fut
        finally:
            if handle is not None:
                handle.cancel()

    def close(self) -> None:
        """Say GOAWAY and close the transport."""
        if self.alive:
            self.core.close()
            self.flush()
        self.alive = False
        if not self.waiters:
            # Nothing waits: drop the timer now rather than keep this connection referenced by
            # the loop until it fires (a stream still waiting is woken by connection_lost).
            self._stop_timer()
        transport = self.transport
        if transport is not None:
            try:
                transport.close()
            except RuntimeError:  # its loop is already closed
                pass

    def __repr__(self) -> str:
        core = self.core
        return f"<AsyncH2Connection {self.origin} streams={core.active}/{core.max_streams} alive={self.alive}>"


class AsyncH2Stream:
    """One request's stream, with the interface the async body reader uses on a connection."""

    __slots__ = ("conn", "origin", "stream", "until_done")

    def __init__(self, conn: AsyncH2Connection, stream: H2Stream) -> None:
        self.conn = conn
        self.stream = stream
        self.until_done = False
        self.origin = conn.origin

    # The HTTP/1.1 connection's reading interface (see netwire.aio._AsyncBody).
    @property
    def chunks(self) -> list[bytes | memoryview]:
        return self.stream.chunks

    @property
    def done(self) -> bool:
        return self.stream.done

    @property
    def error(self) -> BaseException | None:
        return self.stream.error

    @property
    def trailers(self) -> list[tuple[str, str]]:
        return self.stream.trailers

    @property
    def head(self) -> ResponseHead | None:
        return self.stream.head

    def wants_wake(self, stream: H2Stream) -> bool:
        return (
            not self.until_done
            or stream.done
            or stream.error is not None
            or stream.head is None
            or stream.buffered >= _WAKE_BUFFERED
        )

    def take(self) -> bytes:
        stream = self.stream
        chunks = stream.chunks
        first = chunks[0] if len(chunks) == 1 else None
        data = first if type(first) is bytes else b"".join(chunks)
        stream.chunks = []
        stream.buffered = 0
        conn = self.conn
        if stream.unacked:
            conn.core.consumed(stream, stream.unacked)
            conn.flush_soon()
        return data

    def finish(self) -> bool:
        """Give the stream up (cancelling it if unfinished); True if it ended cleanly."""
        conn = self.conn
        clean = conn.core.release(self.stream)
        conn.waiters.pop(self.stream.stream_id, None)
        conn.handles.pop(self.stream.stream_id, None)
        # Not written at once: another task may have queued its HEADERS in this turn, and a
        # write now would send them alone (see flush_soon).
        conn.flush_soon()
        if not conn.core.streams:
            conn.idle_since = time.monotonic()
        conn._notify_free()
        return clean

    async def wait_event(self, read_timeout: float | None, deadline: float | None) -> None:
        """One wait for this stream's progress, under the read timeout and the total deadline.

        The read timeout restarts whenever this stream receives something (not on control
        frames: a server trickling PINGs to a stalled stream still times out)."""
        conn = self.conn
        stream = self.stream
        loop = conn.loop
        while True:
            if stream.error is not None or stream.done or (stream.chunks and self.wants_wake(stream)):
                return
            timeout, total = _limit(read_timeout, deadline)
            seen = stream.progress
            fut: asyncio.Future[bool] = loop.create_future()
            sid = stream.stream_id
            conn.waiters[sid] = fut
            if timeout is not None:
                # The connection's one timer wakes this wait (see AsyncH2Connection.watch).
                conn.watch(sid, loop.time() + timeout)
            try:
                woke = await fut
            finally:
                if conn.waiters.get(sid) is fut:
                    del conn.waiters[sid]
                    # Forget the deadline (the timer stays armed: cheaper than re-arming it,
                    # and it finds nothing due when it fires).
                    conn.expiries.pop(sid, None)
            if woke:
                return
            if stream.progress != seen:
                continue  # data came in (a body being gathered whole): the read timeout restarts
            if total:
                raise TotalTimeout(f"total deadline passed waiting for {conn.origin}")
            raise ReadTimeout(f"no response data from {conn.origin} for {read_timeout} s (HTTP/2)")

    async def wait_head(self, read_timeout: float | None, deadline: float | None) -> ResponseHead:
        while True:
            head = self.stream.head
            if head is not None:
                return head
            if self.stream.error is not None:
                raise self.stream.error
            await self.wait_event(read_timeout, deadline)

    async def send_body(self, data: bytes | bytearray | memoryview, write_timeout: float | None, deadline: float | None) -> None:
        """Send ``data`` on the stream as the flow-control windows open (the write timeout fires
        when they stay shut that long)."""
        conn = self.conn
        core = conn.core
        view = memoryview(data).cast("B")
        waited_since = time.monotonic()
        while view:
            if self.stream.error is not None:
                raise self.stream.error
            if self.stream.done:
                return  # the server answered in full before taking the body: stop sending
            if not conn.alive:
                raise core.error or WriteError(f"sending to {conn.origin} failed: the connection closed")
            sent = 0 if conn._write_paused else core.send_data(self.stream, view)
            if sent:
                view = view[sent:]
                conn.flush()
                waited_since = time.monotonic()
                continue
            # The write timeout counts from the last progress, not from each wake-up (data
            # for other streams wakes this wait too).
            timeout = None if write_timeout is None else write_timeout - (time.monotonic() - waited_since)
            timeout, total = _limit(timeout, deadline)
            if (timeout is not None and timeout <= 0) or not await conn.wait_window(timeout):
                if total:
                    raise TotalTimeout(f"total deadline passed sending to {conn.origin}")
                raise WriteTimeout(
                    f"sending to {conn.origin} stalled for more than {write_timeout} s "
                    "(the HTTP/2 flow-control window stayed shut)"
                )

    def end_body(self) -> None:
        self.conn.core.end_body(self.stream)
        self.conn.flush()


class _KeyState:
    __slots__ = ("conns", "pending", "waiters")

    def __init__(self) -> None:
        self.conns: list[AsyncH2Connection] = []
        # The connection being opened for this key: its future ends with None, or with the
        # error that attempt met (the tasks that waited for it fail with it too, instead of
        # each trying in turn against a server that does not answer).
        self.pending: asyncio.Future[BaseException | None] | None = None
        self.waiters: list[asyncio.Future[None]] = []


class AsyncH2Pool:
    """HTTP/2 connections by pool key, shared by the tasks of one AsyncClient."""

    def __init__(self, pool: Any, limits: H2Limits = DEFAULT_H2_LIMITS) -> None:
        self.pool = pool  # the client's AsyncConnectionPool: HTTP/2 connections hold its slots
        self.limits = limits
        self._keys: dict[Hashable, _KeyState] = {}
        self.h1_only: set[Hashable] = set()
        self.connections_opened = 0

    def connections(self, key: Hashable | None = None) -> list[AsyncH2Connection]:
        if key is not None:
            state = self._keys.get(key)
            return list(state.conns) if state else []
        return [c for s in self._keys.values() for c in s.conns]

    def _free(self, conn: AsyncH2Connection) -> None:
        """A stream ended (or the connection failed): wake a task waiting for room."""
        state = self._keys.get(conn.key)
        if not conn.usable:
            if state is not None and conn in state.conns:
                state.conns.remove(conn)
            if not conn.core.streams and conn.placeholder is not None:
                placeholder, conn.placeholder = conn.placeholder, None
                conn.close()
                self.pool.release(placeholder, False)
        if state is not None:
            while state.waiters:
                fut = state.waiters.pop(0)
                if not fut.done():
                    fut.set_result(None)
                    break

    async def stream(
        self,
        key: Hashable,
        connect: Callable[[], Awaitable[AsyncConnection]],
        *,
        pool_timeout: float | None,
        connect_timeout: float | None,
        deadline: float | None,
    ) -> tuple[AsyncH2Connection | None, AsyncConnection | None, bool]:
        """A connection with room for one more stream: ``(h2conn, None, reused)``; or, when the
        server picked HTTP/1.1, ``(None, http11_connection, False)`` for the ordinary path."""
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState()
        started = time.monotonic()
        expiry = self.pool.limits.keepalive_expiry
        while True:
            if expiry is not None:
                self._expire(state, expiry)
            for conn in state.conns:
                if conn.has_capacity():
                    return conn, None, conn.requests > 0
            if state.pending is not None:
                failed = await asyncio.shield(state.pending)
                if failed is not None:
                    raise failed
                if key in self.h1_only:
                    return None, None, False
                continue
            per_host = self.pool.limits.max_connections_per_host
            if state.conns and per_host is not None and len(state.conns) >= per_host:
                await self._wait_room(state, key, pool_timeout, deadline, started)
                continue
            pending: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
            state.pending = pending
            failure: BaseException | None = None
            try:
                placeholder, _ = await self.pool.acquire(
                    key, connect, pool_timeout=pool_timeout, deadline=deadline, fresh=True
                )
                transport = placeholder.transport
                alpn = None
                ssl_object = transport.get_extra_info("ssl_object")
                if ssl_object is not None:
                    alpn = ssl_object.selected_alpn_protocol()
                if ssl_object is not None and alpn != "h2":
                    # The server chose HTTP/1.1: the ordinary pool serves this origin from now on.
                    self.h1_only.add(key)
                    early = placeholder._raw
                    placeholder._raw = None
                    if early:
                        placeholder.alive = False  # an HTTP/1.1 server never speaks first
                    return None, placeholder, False
                if placeholder.error is not None or not placeholder.alive:
                    self.pool.release(placeholder, False)
                    raise placeholder.error or ReadError(f"{placeholder.origin} closed the connection at once")
                conn = AsyncH2Connection(placeholder.origin, transport, self.limits)
                conn.placeholder = placeholder
                conn.key = key
                conn.on_free = self._free
                early = placeholder._raw or b""
                placeholder._raw = None
                try:
                    conn.start(early)
                    timeout, _ = _limit(connect_timeout, deadline)
                    await conn.wait_settings(timeout)
                except BaseException:
                    conn.placeholder = None
                    conn.close()
                    self.pool.release(placeholder, False)
                    raise
                self.connections_opened += 1
                state.conns.append(conn)
            except Exception as exc:
                failure = exc
                raise
            finally:
                state.pending = None
                if not pending.done():
                    pending.set_result(failure)

    def _expire(self, state: _KeyState, expiry: float) -> None:
        """Close (with GOAWAY) the connections idle for longer than the pool's keep-alive expiry."""
        now = time.monotonic()
        for conn in list(state.conns):
            if not conn.core.streams and now - conn.idle_since > expiry:
                state.conns.remove(conn)
                placeholder, conn.placeholder = conn.placeholder, None
                conn.on_free = None
                conn.close()
                if placeholder is not None:
                    self.pool.release(placeholder, False)

    async def _wait_room(
        self, state: _KeyState, key: Hashable, pool_timeout: float | None, deadline: float | None, started: float
    ) -> None:
        timeout = pool_timeout
        if timeout is not None:
            timeout = max(timeout - (time.monotonic() - started), 0.0)
        timeout, total = _limit(timeout, deadline)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state.waiters.append(fut)
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            if total:
                raise TotalTimeout("total deadline passed waiting for a free HTTP/2 stream") from None
            raise PoolTimeout(f"no HTTP/2 stream to {key!r} became free within the pool timeout") from None
        finally:
            if fut in state.waiters:
                state.waiters.remove(fut)

    def close(self) -> None:
        """GOAWAY and close every HTTP/2 connection (streams still being read fail)."""
        for state in self._keys.values():
            for conn in list(state.conns):
                placeholder, conn.placeholder = conn.placeholder, None
                conn.on_free = None
                conn.close()
                if placeholder is not None:
                    self.pool.release(placeholder, False)
            state.conns.clear()
            for fut in state.waiters:
                if not fut.done():
                    fut.set_result(None)
        self._keys.clear()


