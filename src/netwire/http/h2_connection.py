"""HTTP/2 for the sync client: a thin threaded driver of :class:`~netwire.http.h2_core.H2Core`.

Threads sharing a :class:`~netwire.client.Client` multiplex their requests on one connection:
every use of the protocol state and of the socket happens under one lock; a thread waiting for
its stream either becomes *the* reader (it waits for the socket to become readable without the
lock, then reads and feeds the core under it) or, when another thread reads already, parks on
a condition of its own (:class:`_Waiter`). Frames for every stream are demultiplexed by
whoever reads, into per-stream buffers (:class:`~netwire.http.h2_core.H2Stream`), and the reader
then wakes only the parked threads whose stream moved (a response head, data, its end, an error),
not all of them: with 20 threads on one connection, waking every one on every read cost most of
the CPU of a small GET. A reader leaving with threads still parked hands the reading over to one
of them (the *successor*), so a parked thread never waits for a reader that is gone.

Socket reads never block under the lock (the socket is polled first, then read with a zero
timeout), so a thread sending a request is never stuck behind a reader waiting for data.

Requests' writes are coalesced: the thread that opens a stream while nobody writes becomes the
*writer*: it sends what is queued with the lock released, then looks again and sends what
other threads queued meanwhile (their HEADERS), until nothing is left. A thread opening a
stream while the writer writes only queues its frames. The TLS object is never used by two
threads at once: reads and writes hold a second lock (``_io``) around each use of it.

:class:`SyncH2Pool` keeps the connections per pool key, as the async one does: a stream on a
connection with room under the server's SETTINGS_MAX_CONCURRENT_STREAMS, else a new connection
(one at a time per key); the connections hold slots of the client's ordinary pool.
"""

from __future__ import annotations

import io
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from ..errors import (
    H2ProtocolError,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    TotalTimeout,
    WriteError,
    WriteTimeout,
)
from .connection import Connection
from .h2_core import DEFAULT_H2_LIMITS, H2Core, H2Limits, H2Stream
from .http11 import ResponseHead

__all__ = ["H2Body", "SyncH2Connection", "SyncH2Pool", "SyncH2Stream"]

# Read at most this much before parsing (a body streaming in arrives as many records).
_BATCH = 1024 * 1024
# A caller reading the whole body is woken when this much is buffered (or at the end).
_WHOLE_STEP = 1024 * 1024
# A whole body claiming this much is copied straight into the result (H2Body._read_all_direct),
# reserved in steps as the HTTP/1.1 reader does.
_DIRECT_AT = 1024 * 1024
_RESERVE_FIRST = 4 * 1024 * 1024
_RESERVE_GROWTH = 16


def _limit(timeout: float | None, deadline: float | None) -> tuple[float | None, bool]:
    if deadline is not None:
        left = deadline - time.monotonic()
        if timeout is None or left < timeout:
            return max(left, 0.0), True
    return timeout, False


class _Waiter:
    """A thread parked on a connection: its own condition (on the connection's lock), woken when
    ``stream`` moved (``stream.progress`` is no longer ``seen``), after any read when ``stream`` is
    None (a thread waiting for a flow-control window), or to take over the reading."""

    __slots__ = ("cond", "seen", "stream")

    def __init__(self, lock: threading.RLock, stream: H2Stream | None) -> None:
        self.cond = threading.Condition(lock)
        self.stream = stream
        self.seen = stream.progress if stream is not None else 0


class SyncH2Connection:
    """One HTTP/2 connection shared by threads (see the module docstring)."""

    def __init__(self, conn: Connection, limits: H2Limits = DEFAULT_H2_LIMITS, write_timeout: float | None = None) -> None:
        self.conn = conn  # the pool's record of the connection (its slot), and the socket
        self.sock: socket.socket = conn.sock
        self.origin = conn.origin
        self.core = H2Core(str(conn.origin), limits)
        self.core.lend_views()  # H2Body copies pieces out as it goes (see _DirectPieces)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)  # held for every use of the core and the socket
        self.reading = False
        self._waiters: list[_Waiter] = []
        self._successor: _Waiter | None = None  # woken to take over the reading, not yet running
        # One user of the TLS object at a time (OpenSSL's rule): a read, or the writer's send.
        # Taken with the lock held, or (the writer) alone: never the lock while holding it.
        self._io = threading.Lock()
        self._writing = False  # a thread sends with the lock released (see _flush_coalesced)
        self._close_later = False  # closed while the writer sends: it closes the socket after
        self.alive = True
        self.write_timeout = write_timeout
        self.key: Hashable = None
        self.requests = 0
        self.idle_since = time.monotonic()
        self.on_free: Callable[[SyncH2Connection], None] | None = None
        self._poller: Any = None
        if hasattr(select, "poll"):
            self._poller = select.poll()
            self._poller.register(self.sock.fileno(), select.POLLIN)

    # -- under the lock -----------------------------------------------------------------------------

    def _flush(self, write_timeout: float | None = None, deadline: float | None = None) -> None:
        if self._writing:
            return  # the writer sends these bytes too: it looks again before it stops
        out = self.core.data_to_send()
        if not out or not self.alive:
            return
        with self._io:
            failed = self._send(out, write_timeout, deadline)
        if failed is not None:
            self._die(failed[0])
            raise failed[1]

    def _flush_coalesced(self, write_timeout: float | None, deadline: float | None) -> None:
        """Under the lock, held once: :meth:`_flush`, the sending done with the lock released,
        and what other threads queue meanwhile sent by this thread as well (see the module
        docstring)."""
        if self._writing:
            return
        self._writing = True
        try:
            while True:
                out = self.core.data_to_send()
                if not out or self._close_later:
                    break
                io = self._io
                io.acquire()
                self.cond.release()
                try:
                    failed = self._send(out, write_timeout, deadline)
                finally:
                    io.release()
                    self.cond.acquire()  # never the lock while holding _io (a reader holds it, waiting for _io)
                if failed is not None:
                    self._die(failed[0])
                    raise failed[1]
        finally:
            self._writing = False
            if self._close_later:
                self._close_later = False
                self._close_socket()

    def _send(
        self, out: bytes, write_timeout: float | None, deadline: float | None
    ) -> tuple[str, BaseException] | None:
        """Send ``out``, ``_io`` held (and the lock, or not: see _flush_coalesced); on failure,
        the connection's epitaph and the error to raise, for the caller to apply under the lock."""
        timeout, total = _limit(write_timeout if write_timeout is not None else self.write_timeout, deadline)
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(out)
        except (TimeoutError, ssl.SSLWantWriteError, BlockingIOError):
            error: BaseException
            if total:
                error = TotalTimeout(f"total deadline passed sending to {self.origin}")
            else:
                error = WriteTimeout(f"sending to {self.origin} stalled for more than {timeout} s")
            return f"stalled sending for more than {timeout} s", error
        except OSError as exc:
            error = WriteError(f"sending to {self.origin} failed: {getattr(exc, 'strerror', None) or exc}")
            error.__cause__ = exc
            return f"failed: {exc}", error
        return None

    def _close_socket(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def _die(self, reason: str) -> None:
        if self.alive:
            self.alive = False
            self.core.lost(reason)
            self._wake_all()
            if self._writing:
                self._close_later = True  # the writer may be sending on it right now
            else:
                self._close_socket()

    def _read_once(self) -> bool:
        """Read what is there (never blocking, up to :data:`_BATCH` bytes: one feed for many TLS
        records) and feed the core; False when nothing was read."""
        sock = self.sock
        core = self.core
        size = 0
        eof: str | None = None
        # Decrypted straight into the frame reader's buffer, one TLS record per call (a bytes
        # object per record, or a scratch buffer copied into the reader, cost a fifth more CPU
        # on 64 MiB), all committed at once.
        with self._io, core.read_into(_BATCH) as room:
            try:
                sock.settimeout(0.0)
            except OSError:
                pass  # closed meanwhile: the read says so
            while size < _BATCH:
                try:
                    n = sock.recv_into(room[size:])
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError, InterruptedError):
                    break
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    n = 0
                except OSError as exc:
                    eof = f"failed reading: {getattr(exc, 'strerror', None) or exc}"
                    break
                if not n:
                    eof = "closed the connection"
                    break
                size += n
        core.commit(size)
        if not size:
            if eof is None:
                return False
            self._die(eof)
            return True
        try:
            core.receive(b"")  # everything fed, parsed in one pass of the frame reader
        except H2ProtocolError:
            try:
                self._flush()  # the GOAWAY saying why
            except (WriteError, WriteTimeout, TotalTimeout):
                pass
            self._die("was closed after a protocol error")
            return True
        try:
            self._flush()
        except (WriteError, WriteTimeout, TotalTimeout):
            pass
        if eof is not None:
            self._die(eof)
        self._wake_moved()
        if self.core.goaway is not None and self.on_free is not None:
            self.on_free(self)
        return True

    def _pending(self) -> bool:
        """Whether TLS holds decrypted bytes not read yet (asked with ``_io`` held)."""
        sock = self.sock
        assert isinstance(sock, ssl.SSLSocket)
        with self._io:
            try:
                return sock.pending() > 0
            except (OSError, ValueError):
                return True  # closed meanwhile: the read says so

    def _readable(self, timeout: float | None) -> bool:
        """Wait (without the lock) until the socket has something to read."""
        sock = self.sock
        if isinstance(sock, ssl.SSLSocket) and self._pending():
            return True
        self.cond.release()
        try:
            if self._poller is not None:
                ms = None if timeout is None else max(int(timeout * 1000), 0)
                return bool(self._poller.poll(ms))
            return bool(select.select([sock], [], [], timeout)[0])
        except (OSError, ValueError):
            return True  # closed meanwhile: the read says so
        finally:
            self.cond.acquire()

    # -- parking and waking (under the lock) ----------------------------------------------------

    def _park(self, stream: H2Stream | None, timeout: float | None) -> None:
        """Wait, the lock released, until woken (see :class:`_Waiter`) or ``timeout``."""
        waiter = _Waiter(self.lock, stream)
        waiters = self._waiters
        waiters.append(waiter)
        try:
            waiter.cond.wait(timeout)
        finally:
            waiters.remove(waiter)
            if self._successor is waiter:
                self._successor = None

    def _wake_moved(self) -> None:
        """After a read: wake the parked threads whose stream moved (and those waiting for a window)."""
        for waiter in self._waiters:
            stream = waiter.stream
            if stream is None or stream.progress != waiter.seen:
                waiter.cond.notify()

    def _wake_all(self) -> None:
        for waiter in self._waiters:
            waiter.cond.notify()

    def _hand_over(self) -> None:
        """A thread stops waiting here: if nobody reads and threads are parked, one of them is
        woken to read next (only one, and not again while it has not run)."""
        if not self.reading and self._successor is None and self._waiters:
            successor = self._successor = self._waiters[0]
            successor.cond.notify()

    def _read_turn(self, timeout: float | None) -> None:
        """Be the reader once: wait (lock released) up to ``timeout`` for the socket, read, wake."""
        self.reading = True
        try:
            if self._readable(timeout):
                self._read_once()
        finally:
            self.reading = False

    def wait(
        self, stream: H2Stream, until: Callable[[], bool], read_timeout: float | None, deadline: float | None
    ) -> None:
        """Under the lock: read (or let another thread read) until ``until()`` holds, the stream
        fails, or the read timeout passes with no progress on this stream (or the deadline)."""
        try:
            self._wait(stream, until, read_timeout, deadline)
        finally:
            self._hand_over()

    def _wait(
        self, stream: H2Stream, until: Callable[[], bool], read_timeout: float | None, deadline: float | None
    ) -> None:
        seen = stream.progress
        last = time.monotonic()
        while not until():
            if stream.error is not None:
                raise stream.error
            if stream.progress != seen:
                seen, last = stream.progress, time.monotonic()
            timeout = None if read_timeout is None else read_timeout - (time.monotonic() - last)
            timeout, total = _limit(timeout, deadline)
            if timeout is not None and timeout <= 0:
                if total:
                    raise TotalTimeout(f"total deadline passed waiting for {self.origin}")
                raise ReadTimeout(f"no response data from {self.origin} for {read_timeout} s (HTTP/2)")
            if not self.alive:
                raise self.core.error or ReadError(f"HTTP/2 connection to {self.origin} closed")
            if self.reading:
                self._park(stream, timeout)
            else:
                self._read_turn(timeout)

    # -- the connection -------------------------------------------------------------------------------

    def start(self, connect_timeout: float | None, deadline: float | None) -> None:
        """Send the preface and wait for the server's SETTINGS (its stream limit)."""
        with self.cond:
            self.core.start()
            self._flush(connect_timeout, deadline)
            probe = H2Stream(0)
            try:
                self.wait(probe, lambda: self.core.settings_received or not self.alive, connect_timeout, deadline)
            except ReadTimeout:
                raise ReadTimeout(f"{self.origin} sent no HTTP/2 SETTINGS within {connect_timeout} s") from None
            if not self.core.settings_received:
                raise self.core.error or ReadError(f"{self.origin} closed the HTTP/2 connection at once")

    def check_idle(self) -> None:
        """For a connection without streams: take in what arrived meanwhile (a GOAWAY, an EOF,
        PINGs) so a closed one is not handed out. One poll(0) when nothing did."""
        with self.cond:
            if self.alive and not self.reading and self._readable_now():
                self._read_once()
                self._hand_over()

    def _readable_now(self) -> bool:
        sock = self.sock
        if isinstance(sock, ssl.SSLSocket) and self._pending():
            return True
        try:
            if self._poller is not None:
                return bool(self._poller.poll(0))
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    @property
    def usable(self) -> bool:
        return self.alive and self.core.usable

    def has_capacity(self) -> bool:
        return self.alive and self.core.has_capacity()

    def open(
        self,
        method: str,
        scheme: str,
        authority: str,
        path: str,
        fields: list[tuple[str, str]],
        end: bool,
        write_timeout: float | None,
        deadline: float | None,
    ) -> SyncH2Stream | None:
        """Start a request on a new stream; None when another thread took the last free stream
        or the connection closed meanwhile."""
        with self.cond:
            if not self.alive or not self.core.has_capacity():
                return None  # closed or full since the pool handed it out: the caller looks again
            stream = self.core.open_stream(method, scheme, authority, path, fields, end)
            self.requests += 1
            handle = SyncH2Stream(self, stream)
            try:
                self._flush_coalesced(write_timeout, deadline)
            except BaseException:
                handle.finish()
                raise
            return handle

    def close(self) -> None:
        with self.cond:
            if self.alive:
                self.core.close()
                try:
                    self._flush(1.0)
                except (WriteError, WriteTimeout, TotalTimeout):
                    pass
            self._die("was closed by the client")

    def __repr__(self) -> str:
        core = self.core
        return f"<SyncH2Connection {self.origin} streams={core.active}/{core.max_streams} alive={self.alive}>"


class SyncH2Stream:
    """One request's stream on a :class:`SyncH2Connection`."""

    __slots__ = ("clean", "conn", "stream", "taken")

    def __init__(self, conn: SyncH2Connection, stream: H2Stream) -> None:
        self.conn = conn
        self.stream = stream
        # A response that came whole with its head: its body pieces, taken by wait_head (and the
        # stream given back there, ``clean`` saying how it ended), so reading it needs no lock.
        self.taken: list[bytes | memoryview] | None = None
        self.clean: bool | None = None

    def send_body(self, data: bytes | bytearray | memoryview, write_timeout: float | None, deadline: float | None) -> None:
        """Send ``data`` as the flow-control windows open (the write timeout fires if they stay shut)."""
        conn = self.conn
        stream = self.stream
        view = memoryview(data).cast("B")
        with conn.cond:
            waited_since = time.monotonic()
            while view:
                if stream.error is not None:
                    raise stream.error
                if stream.done:
                    return  # the server answered in full before taking the body: stop sending
                if not conn.alive:
                    raise conn.core.error or WriteError(f"sending to {conn.origin} failed: the connection closed")
                sent = conn.core.send_data(stream, view)
                if sent:
                    view = view[sent:]
                    conn._flush(write_timeout, deadline)
                    waited_since = time.monotonic()
                    continue
                timeout = None if write_timeout is None else write_timeout - (time.monotonic() - waited_since)
                timeout, total = _limit(timeout, deadline)
                if timeout is not None and timeout <= 0:
                    if total:
                        raise TotalTimeout(f"total deadline passed sending to {conn.origin}")
                    raise WriteTimeout(
                        f"sending to {conn.origin} stalled for more than {write_timeout} s "
                        "(the HTTP/2 flow-control window stayed shut)"
                    )
                # A WINDOW_UPDATE arrives by reading: read (or wait for the reader) a while.
                self._wait_window(timeout)

    def _wait_window(self, timeout: float | None) -> None:
        """Under the lock: one read (or one wait for the reader), at most ``timeout``."""
        conn = self.conn
        try:
            if conn.reading:
                conn._park(None, timeout)
            else:
                conn._read_turn(timeout)
        finally:
            conn._hand_over()

    def end_body(self, write_timeout: float | None, deadline: float | None) -> None:
        conn = self.conn
        with conn.cond:
            conn.core.end_body(self.stream)
            conn._flush(write_timeout, deadline)

    def wait_head(self, read_timeout: float | None, deadline: float | None) -> ResponseHead:
        conn = self.conn
        stream = self.stream
        with conn.cond:
            conn.wait(stream, lambda: stream.head is not None, read_timeout, deadline)
            if stream.done and stream.error is None:
                # The whole response is here (a small one mostly is, with its head): take its
                # body and give the stream back now, in this one hold of the lock, instead of
                # two more (next_chunks, finish) that 20 threads on one connection queue for.
                self.taken = self._take()
                self.clean = self._release()
        assert stream.head is not None
        return stream.head

    def _take(self) -> list[bytes | memoryview]:
        """Under the lock: the body pieces received so far, their window given back."""
        conn = self.conn
        stream = self.stream
        data = stream.chunks
        stream.chunks = []
        stream.buffered = 0
        if stream.unacked and conn.alive:
            conn.core.consumed(stream, stream.unacked)
            try:
                conn._flush()
            except (WriteError, WriteTimeout, TotalTimeout):
                pass
        return data

    def _release(self) -> bool:
        """Under the lock: give the stream up (RST_STREAM CANCEL if unfinished)."""
        conn = self.conn
        clean = conn.core.release(self.stream)
        if not conn.core.streams:
            conn.idle_since = time.monotonic()
        if conn.alive:
            try:
                conn._flush()
            except (WriteError, WriteTimeout, TotalTimeout):
                pass
        return clean

    def next_chunks(
        self, read_timeout: float | None, deadline: float | None, whole: bool
    ) -> list[bytes | memoryview]:
        """The body pieces received so far (waiting for some), [] at the end. ``whole``: the
        caller reads the whole body, so wait for more at a time (fewer wake-ups, no joins)."""
        taken = self.taken
        if taken is not None:  # the whole response, taken with its head (wait_head)
            self.taken = []
            return taken
        conn = self.conn
        stream = self.stream
        with conn.cond:
            if whole:
                conn.wait(stream, lambda: stream.done or stream.buffered >= _WHOLE_STEP, read_timeout, deadline)
            else:
                conn.wait(stream, lambda: bool(stream.chunks) or stream.done, read_timeout, deadline)
            return self._take()

    def finish(self) -> bool:
        """Give the stream up (RST_STREAM CANCEL if unfinished); True if it ended cleanly."""
        conn = self.conn
        clean = self.clean
        if clean is None:
            with conn.cond:
                clean = self.clean = self._release()
        if conn.on_free is not None:
            conn.on_free(conn)
        return clean


class H2Body:
    """A response body read from an HTTP/2 stream (the sync :class:`~netwire.models.Response`'s stream)."""

    __slots__ = ("_deadline", "_done", "_handle", "_pending", "_read_timeout", "trailers")

    def __init__(self, handle: SyncH2Stream, read_timeout: float | None, deadline: float | None) -> None:
        self._handle: SyncH2Stream | None = handle
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._pending = bytearray()
        self._done = False
        self.trailers: list[tuple[str, str]] = []

    def _next(self, whole: bool = False) -> list[bytes | memoryview]:
        """The next pieces of the body from the stream ([] once it ended)."""
        handle = self._handle
        if handle is None:
            return []
        try:
            data = handle.next_chunks(self._read_timeout, self._deadline, whole)
        except BaseException:
            self._end()
            raise
        if handle.stream.done and not handle.stream.chunks:
            self.trailers = handle.stream.trailers
            self._end()
        return data

    def _fill(self) -> None:
        for piece in self._next():
            self._pending += piece

    def _end(self) -> None:
        handle, self._handle = self._handle, None
        self._done = True
        if handle is not None:
            handle.finish()

    def _claimed(self) -> int | None:
        """The response's Content-Length, if it has one valid value."""
        handle = self._handle
        head = handle.stream.head if handle is not None else None
        if head is None:
            return None
        found = [v for k, v in head.headers if k.lower() == "content-length"]
        if len(found) != 1 or not found[0].isdigit():
            return None
        return int(found[0])

    def _read_all_direct(self, claimed: int) -> bytes:
        """A big Content-Length body copied once, from the frames into the result.

        As the HTTP/1.1 reader does (``connection._read_all_direct``): io.BufferedReader builds
        each step's bytes object and fills it in place through :class:`_DirectPieces`; a step is
        at most :data:`_RESERVE_GROWTH` times what arrived (at least :data:`_RESERVE_FIRST`), so
        a false claim reserves a few MiB at most. Each piece is dropped once copied, so the frame
        reader gets its buffer back for the next read (no fresh megabyte per read).
        """
        raw = _DirectPieces(self, bytes(self._pending))
        self._pending = bytearray()
        data = b""
        while True:
            size = min(claimed, max(_RESERVE_FIRST, len(data) * _RESERVE_GROWTH))
            raw.restart(data)
            data = io.BufferedReader(raw, buffer_size=1).read(size)
            if len(data) < size or len(data) >= claimed:
                break
        rest = raw.leftover()
        while self._handle is not None:  # more than claimed: h2 refuses it; the pieces anyway
            rest += self._next(True)
        return b"".join([data, *rest]) if rest else data

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            claimed = self._claimed()
            if claimed is not None and claimed >= _DIRECT_AT:
                return self._read_all_direct(claimed)
            parts: list[bytes | memoryview] = [bytes(self._pending)] if self._pending else []
            self._pending = bytearray()
            while self._handle is not None:
                parts += self._next(True)  # the frames' own bytes (or views): joined once, here
            if len(parts) == 1 and type(parts[0]) is bytes:
                return parts[0]
            return b"".join(parts)
        while not self._pending and self._handle is not None:
            self._fill()
        pending = self._pending
        chunk = bytes(pending[:n])
        del pending[:n]
        return chunk

    def readinto(self, buffer: memoryview | bytearray) -> int:
        if not len(buffer):
            return 0
        while not self._pending and self._handle is not None:
            self._fill()
        pending = self._pending
        n = min(len(pending), len(buffer))
        buffer[:n] = pending[:n]
        del pending[:n]
        return n

    def close(self) -> None:
        self._pending = bytearray()
        if self._handle is not None:
            self._end()


class _DirectPieces(io.RawIOBase):
    """A raw stream over an HTTP/2 body: ``first`` (read already), then the stream's pieces."""

    def __init__(self, body: H2Body, first: bytes) -> None:
        super().__init__()
        self._body = body
        self._pieces: list[bytes | memoryview] = [first] if first else []
        self._index = 0
        self._offset = 0

    def restart(self, data: bytes) -> None:
        """The next step's bytes begin with ``data`` (the previous step's result), then what
        is left of the piece the previous step stopped in."""
        if data:
            index = self._index
            pieces = self._pieces
            if self._offset:
                pieces[index] = memoryview(pieces[index])[self._offset :]
                self._offset = 0
            pieces[index:index] = [data]

    def leftover(self) -> list[bytes | memoryview]:
        pieces = self._pieces[self._index :]
        if pieces and self._offset:
            pieces[0] = pieces[0][self._offset :]
        self._pieces, self._index, self._offset = [], 0, 0
        return pieces

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Kept open: each step's BufferedReader closes its raw stream when dropped, and the
        next step reads on from the same pieces."""

    def readinto(self, buffer: Any) -> int:
        pieces = self._pieces
        while self._index >= len(pieces):
            if self._body._handle is None:
                return 0
            # What each read brought, at once (not a megabyte at a time): copied out before
            # the next read, its buffer goes back to the frame reader instead of a new one.
            self._pieces = pieces = self._body._next(False)
            self._index = self._offset = 0
        piece = memoryview(pieces[self._index])
        start = self._offset
        n = min(len(piece) - start, len(buffer))
        memoryview(buffer).cast("B")[:n] = piece[start : start + n]
        if start + n == len(piece):
            pieces[self._index] = b""  # let go of the view: its read buffer can be reused
            self._index += 1
            self._offset = 0
        else:
            self._offset = start + n
        return n


class _KeyState:
    __slots__ = ("attempts", "connecting", "conns", "failure")

    def __init__(self) -> None:
        self.conns: list[SyncH2Connection] = []
        self.connecting = False
        # Connection attempts so far, and the error of the last one if it failed: the threads
        # that waited for an attempt fail with its error instead of each trying in turn.
        self.attempts = 0
        self.failure: BaseException | None = None


class SyncH2Pool:
    """HTTP/2 connections by pool key, shared by the threads of one Client."""

    def __init__(self, pool: Any, limits: H2Limits = DEFAULT_H2_LIMITS) -> None:
        self.pool = pool  # the client's ConnectionPool: HTTP/2 connections hold its slots
        self.limits = limits
        self._keys: dict[Hashable, _KeyState] = {}
        self._cond = threading.Condition()
        self.h1_only: set[Hashable] = set()
        self.connections_opened = 0
        # Threads inside stream() (counted under the lock, before they look for room): a stream
        # given back on a connection that stays usable wakes nobody, without the lock, when none is.
        self._looking = 0

    def connections(self, key: Hashable | None = None) -> list[SyncH2Connection]:
        with self._cond:
            if key is not None:
                state = self._keys.get(key)
                return list(state.conns) if state else []
            return [c for s in self._keys.values() for c in s.conns]

    def _free(self, conn: SyncH2Connection) -> None:
        if not self._looking and conn.usable:
            return  # nobody to wake, nothing to retire: no lock taken (one per request otherwise)
        with self._cond:
            state = self._keys.get(conn.key)
            if not conn.usable and state is not None and conn in state.conns:
                state.conns.remove(conn)
            self._cond.notify_all()
        if not conn.usable and not conn.core.streams:
            record, conn.conn = conn.conn, None  # type: ignore[assignment]
            if record is not None:
                conn.close()
                self.pool.release(record, False)

    def stream(
        self,
        key: Hashable,
        connect: Callable[[], Connection],
        *,
        pool_timeout: float | None,
        connect_timeout: float | None,
        write_timeout: float | None,
        deadline: float | None,
    ) -> tuple[SyncH2Connection | None, Connection | None, bool]:
        """A connection with room for one more stream (``(h2conn, None, reused)``), or the new
        HTTP/1.1 connection when the server picked HTTP/1.1 by ALPN (``(None, conn, False)``)."""
        wait_until = None if pool_timeout is None else time.monotonic() + pool_timeout
        cond = self._cond
        self._tidy(key)
        with cond:
            state = self._keys.get(key)
            if state is None:
                state = self._keys[key] = _KeyState()
            self._looking += 1  # before looking for room: see _free
            try:
                while True:
                    if key in self.h1_only:
                        return None, None, False
                    for conn in state.conns:
                        if conn.has_capacity():
                            return conn, None, conn.requests > 0
                    per_host = self.pool.limits.max_connections_per_host
                    full = state.conns and per_host is not None and len(state.conns) >= per_host
                    if state.connecting or full:
                        attempt = state.attempts
                        timeout, total = _limit(
                            None if wait_until is None else wait_until - time.monotonic(), deadline
                        )
                        if timeout is not None and timeout <= 0:
                            if total:
                                raise TotalTimeout("total deadline passed waiting for a free HTTP/2 stream")
                            raise PoolTimeout(f"no HTTP/2 stream to {key!r} became free within the pool timeout")
                        cond.wait(timeout if timeout is not None else 1.0)
                        if state.attempts != attempt and state.failure is not None:
                            raise state.failure
                        continue
                    state.connecting = True
                    break
            finally:
                self._looking -= 1
        failure: BaseException | None = None
        try:
            record, _ = self.pool.acquire(key, connect, pool_timeout=pool_timeout, deadline=deadline, fresh=True)
            sock = record.sock
            if isinstance(sock, ssl.SSLSocket) and sock.selected_alpn_protocol() != "h2":
                with cond:
                    self.h1_only.add(key)
                return None, record, False
            conn = SyncH2Connection(record, self.limits, write_timeout)
            conn.key = key
            conn.on_free = self._free
            try:
                conn.start(connect_timeout, deadline)
            except BaseException:
                conn.close()
                self.pool.release(record, False)
                raise
            with cond:
                self.connections_opened += 1
                state.conns.append(conn)
            return conn, None, False
        except Exception as exc:
            failure = exc
            raise
        finally:
            with cond:
                state.connecting = False
                state.attempts += 1
                state.failure = failure
                cond.notify_all()

    def _tidy(self, key: Hashable) -> None:
        """Retire the idle connections of ``key`` that expired (closed with GOAWAY) or that the
        server closed meanwhile. Connections are touched without the pool's lock held (a thread
        reading a connection takes the pool's lock when it sees a GOAWAY: never the other way)."""
        expiry = self.pool.limits.keepalive_expiry
        state = self._keys.get(key)
        # A snapshot without the pool's lock (list() of a list is one step under the GIL): this
        # runs on every request, and the lock is taken below only to retire one.
        for conn in list(state.conns) if state is not None else ():
            if conn.core.streams:
                continue
            if expiry is None or time.monotonic() - conn.idle_since <= expiry:
                conn.check_idle()
                if conn.usable:
                    continue
            with self._cond:
                state = self._keys.get(key)
                if state is None or conn not in state.conns or conn.core.streams:
                    continue
                state.conns.remove(conn)
            self._retire(conn)

    def _retire(self, conn: SyncH2Connection) -> None:
        record = conn.conn
        conn.on_free = None
        conn.close()
        if record is not None:
            conn.conn = None  # type: ignore[assignment]
            self.pool.release(record, False)

    def close(self) -> None:
        with self._cond:
            conns = [c for s in self._keys.values() for c in s.conns]
            self._keys.clear()
            self._cond.notify_all()
        for conn in conns:
            record = conn.conn
            conn.on_free = None
            conn.close()
            if record is not None:
                self.pool.release(record, False)

