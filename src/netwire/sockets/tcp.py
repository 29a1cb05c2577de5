"""TCP (and AF_UNIX stream) servers and clients.

Two ways to write a server, one :class:`TCPServer` class:

* **connection handlers** (``framing=None``, the default): ``handler(stream)`` gets a
  :class:`~netwire.sockets.stream.Stream` and owns the connection until it returns, like the
  classic ``accept`` loop. Each connection runs in its own thread, at most ``max_connections`` at
  once (further clients wait in the kernel's accept queue).
* **message handlers** (``framing="line"``, ``"frame"`` or ``"raw"``): ``handler(message, conn)``
  gets one complete message and returns the reply (or ``None``). All connections are served by
  one selector loop, no thread per connection; this is several times faster for
  request/response protocols (see docs/sockets.md for the measurement), but a handler must not
  block.

Both enforce a per-connection idle ``timeout`` (and optionally a ``max_lifetime``), log and contain
handler errors (one failing connection never stops the server), serve IPv4 and IPv6 on one wildcard socket (dual-stack), and
shut down gracefully: :meth:`TCPServer.close` (or leaving the ``with`` block, or SIGINT/SIGTERM
under :func:`serve_tcp`) stops accepting, serves the connections the kernel already accepted,
lets handlers finish for up to ``grace`` seconds, then closes everything and the listener.

Message mode also defends itself against clients that are slow on purpose (see SECURITY.md):

* **write backpressure**: once more than ``write_high`` bytes of replies are queued for a client
  (it sends requests and does not read the answers), the server stops reading that client until the
  queue drains below ``write_low``, as asyncio's ``pause_reading`` does. The queue is a deque of
  chunks handed to the kernel without re-joining, so one slow reader costs the others nothing.
* **message deadline**: a line or frame must be complete within ``message_timeout`` seconds of its
  first byte (a client trickling one byte every few seconds is cut, slowloris-style holding of
  slots no longer works); connection handlers get the same deadline on their stream's framed reads;
* **buffer budget**: partial messages of all connections together may hold at most
  ``max_buffered`` bytes; a frame's default limit is 1 MiB, not the 16 MiB of the framing module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, Literal, Self

from ..errors import NetwireError, ProtocolError, ReadError, TimeoutException, WriteError
from .framing import DEFAULT_MAX_LINE, DEFAULT_MESSAGE_TIMEOUT, ReceiveBuffer, encode_frame
from .happy_eyeballs import connect_tcp_socket
from .listen import AF_UNIX, bind_sockets
from .stream import DEFAULT_RECV_SIZE, Stream, describe_address

__all__ = [
    "DEFAULT_MAX_BUFFERED",
    "DEFAULT_MESSAGE_TIMEOUT",
    "DEFAULT_SERVER_MAX_FRAME",
    "DEFAULT_WRITE_HIGH",
    "DEFAULT_WRITE_LOW",
    "Connection",
    "Framing",
    "MessageHandler",
    "StreamHandler",
    "TCPServer",
    "connect_tcp",
    "serve_tcp",
]

log = logging.getLogger("netwire.sockets")

Framing = Literal["line", "frame", "raw"]
#: A connection handler: owns the connection's stream until it returns.
StreamHandler = Callable[[Stream], object]
#: A message handler: one complete message in, the reply (or None) out.
MessageHandler = Callable[[bytes, "Connection"], "bytes | None"]

_READ = selectors.EVENT_READ
_WRITE = selectors.EVENT_WRITE
_LISTENER = object()
_WAKER = object()
# sendmsg hands the kernel a list of chunks (no join); its iovec count is capped by IOV_MAX (1024
# on Linux), and a few dozen chunks already fill a socket buffer.
_SENDMSG = hasattr(socket.socket, "sendmsg")
_IOV_BATCH = 64

#: Replies queued for one client past which the server stops reading it (message mode).
DEFAULT_WRITE_HIGH = 256 * 1024
#: ... and below which it reads again.
DEFAULT_WRITE_LOW = 64 * 1024
#: Largest frame a frame-mode server accepts unless told otherwise (a server holds a partial
#: frame per connection: 1024 connections x 16 MiB would be 16 GiB).
DEFAULT_SERVER_MAX_FRAME = 1024 * 1024
#: Bytes of partial messages all connections of one server may hold together (message mode).
DEFAULT_MAX_BUFFERED = 64 * 1024 * 1024


def connect_tcp(
    host: str,
    port: int,
    *,
    timeout: float | None = 10.0,
    connect_timeout: float | None = None,
    family: int = socket.AF_UNSPEC,
    source: tuple[str, int] | None = None,
    nodelay: bool = True,
) -> Stream:
    """Connect to ``host``:``port`` (happy eyeballs over its IPv6 and IPv4 addresses) and return
    a :class:`~netwire.sockets.stream.Stream`.

    ``connect_timeout`` bounds connecting (default: ``timeout``); ``timeout`` then applies to each
    receive and send. Raises :class:`~netwire.errors.ConnectError` or
    :class:`~netwire.errors.ConnectTimeout`.
    """
    sock = connect_tcp_socket(
        host, port,
        timeout=timeout if connect_timeout is None else connect_timeout,
        source_address=source, family=family,
    )
    if nodelay:
        # Request/response exchanges of small messages would otherwise wait on Nagle + delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return Stream(sock, timeout=timeout)


class Connection:
    """One client of a message-handler server, as its handler sees it.

    ``data`` is a dict for the handler's per-connection state.
    """

    __slots__ = (
        "_close_after_flush", "_counted", "_eof", "_mask", "_message_started", "_out_pos", "_paused", "_queued",
        "_sel", "_server", "accepted_at", "address", "buffer", "data", "last_active", "out", "socket",
    )

    def __init__(self, server: TCPServer, sock: socket.socket, address: Any) -> None:
        self._server = server
        self.socket = sock
        self.address = address
        self.buffer = ReceiveBuffer()
        # Replies waiting for the kernel, oldest first; the first one is partly sent up to _out_pos.
        self.out: deque[bytes] = deque()
        self._out_pos = 0
        self._queued = 0  # bytes in ``out`` not sent yet
        self.data: dict[str, Any] = {}
        self.last_active = self.accepted_at = time.monotonic()
        self._message_started: float | None = None  # first byte of the incomplete message in ``buffer``
        self._counted = 0  # len(buffer) as last counted against the server's buffer budget
        self._close_after_flush = False
        self._paused = False  # not reading: too many replies queued (write backpressure)
        self._eof = False  # the client half-closed: nothing more to read
        self._mask = _READ  # the selector events registered
        self._sel: selectors.BaseSelector = server._sel  # the loop that serves this connection

    @property
    def peer(self) -> str:
        """The client's address, formatted for messages."""
        return describe_address(self.address)

    @property
    def queued(self) -> int:
        """Bytes queued for this client and not yet accepted by the kernel."""
        return self._queued

    def send(self, message: bytes) -> None:
        """Queue one more message (framed like the server's framing) for this client."""
        self._queue(self._server._encode(message))

    def _queue(self, data: bytes) -> None:
        if data:
            self.out.append(data)
            self._queued += len(data)

    def close(self) -> None:
        """Close this connection once what is queued for it has been sent."""
        self._close_after_flush = True

    def __repr__(self) -> str:
        return f"<Connection {self.peer}>"


class TCPServer:
    """A TCP (or AF_UNIX) server; see the module docstring for the two handler styles.

    ``host`` ``None``/``""`` listens on every address, IPv4 and IPv6; with ``family=AF_UNIX`` it
    is the socket path. ``port`` 0 picks a free port (see :attr:`address`). ``timeout`` is the
    per-connection idle timeout in seconds (``None``: none). ``max_message`` bounds a line or
    frame (``ProtocolError`` closes the offending connection; default 64 KiB for lines, 1 MiB for
    frames). ``max_lifetime`` closes a connection that many seconds after it was accepted, whatever
    it does (default ``None``: no limit; both handler styles).

    ``message_timeout`` (default 30 s, ``None``: none) is the time a line or frame may take from
    its first byte to its last (connection handlers: each framed read of their
    :class:`~netwire.sockets.stream.Stream`; raw framing has no messages). Message mode only:
    ``write_high`` / ``write_low`` (256 KiB / 64 KiB, or a quarter of ``write_high`` when that is
    less) are the queued-reply marks at which reading a client pauses and resumes; ``max_buffered`` (64 MiB, ``None``: none) bounds the partial
    messages of all connections together (the connection whose data passes it is closed).

    Use it as a context manager (serving in a background thread), or call :meth:`start` /
    :meth:`serve_forever` and :meth:`close`.
    """

    def __init__(
        self,
        handler: StreamHandler | MessageHandler,
        host: str | None = None,
        port: int = 0,
        *,
        backlog: int = 128,
        timeout: float | None = 60.0,
        max_connections: int = 1024,
        family: int = socket.AF_UNSPEC,
        reuse_port: bool = False,
        framing: Framing | None = None,
        max_message: int | None = None,
        grace: float = 5.0,
        nodelay: bool = True,
        loops: int = 1,
        max_lifetime: float | None = None,
        message_timeout: float | None = DEFAULT_MESSAGE_TIMEOUT,
        write_high: int = DEFAULT_WRITE_HIGH,
        write_low: int | None = None,
        max_buffered: int | None = DEFAULT_MAX_BUFFERED,
    ) -> None:
        if framing not in (None, "line", "frame", "raw"):
            raise ValueError(f"framing must be None, 'line', 'frame' or 'raw', not {framing!r}")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if loops < 1 or (loops > 1 and framing is None):
            raise ValueError("loops (at least 1) applies to message handlers (framing=...) only")
        self.handler = handler
        self.timeout = timeout
        self.max_connections = max_connections
        self.framing = framing
        self.max_message = max_message or (DEFAULT_SERVER_MAX_FRAME if framing == "frame" else DEFAULT_MAX_LINE)
        if write_high < 1:
            raise ValueError("write_high must be at least 1")
        if write_low is None:
            write_low = min(DEFAULT_WRITE_LOW, write_high // 4)
        if not 0 <= write_low <= write_high:
            raise ValueError("write_low must be between 0 and write_high")
        for name, value in (("max_lifetime", max_lifetime), ("message_timeout", message_timeout)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive (or None)")
        self.max_lifetime = max_lifetime
        self.message_timeout = None if framing == "raw" else message_timeout
        self.write_high = write_high
        self.write_low = write_low
        self.max_buffered = max_buffered
        self._buffered = 0  # bytes held in the receive buffers of all connections (message mode)
        # How often the loop looks for connections past a time limit: limits need not be enforced
        # to the millisecond, a quarter of the shortest one (between 10 ms and 1 s) will do.
        # (Connection handlers: their Stream enforces the idle and message timeouts itself.)
        if framing is None:
            limits = [max_lifetime] if max_lifetime is not None else []
        else:
            limits = [t for t in (timeout, self.message_timeout, max_lifetime) if t is not None]
        self._sweep_every = min(max(min(limits) / 4, 0.01), 1.0) if limits else None
        self.grace = grace
        self.family = family
        self._nodelay = nodelay and family != AF_UNIX
        self._line_fast = framing == "line"
        self._unix_path = host if family == AF_UNIX else None
        self._listeners = bind_sockets(host, port, family=family, backlog=backlog, reuse_port=reuse_port)
        for sock in self._listeners:
            sock.setblocking(False)
        self._addresses = [sock.getsockname() for sock in self._listeners]
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._closing = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._listening = False
        self._thread: threading.Thread | None = None
        self._running = False
        self._grace_deadline: float | None = None
        self._next_idle_check = 0.0
        # Extra selector loops (message mode, loops > 1), each with its own thread and waker;
        # connections are dealt to the loops in turn.
        self._extra: list[tuple[selectors.BaseSelector, socket.socket, socket.socket]] = []
        for _ in range(loops - 1):
            r, w = socket.socketpair()
            r.setblocking(False)
            w.setblocking(False)
            self._extra.append((selectors.DefaultSelector(), r, w))
        self._extra_threads: list[threading.Thread] = []
        self._turn = 0
        # connection-handler mode: live sockets and their threads
        self._active: dict[socket.socket, threading.Thread] = {}
        # connection-handler mode with max_lifetime: socket -> when it was accepted
        self._born: dict[socket.socket, float] = {}
        # message mode: fd -> Connection
        self._conns: dict[int, Connection] = {}
        self.accepted = 0  # total connections accepted so far

    # -- information --------------------------------------------------------------------------
    @property
    def address(self) -> Any:
        """The (first) listening socket's address: ``(host, port, ...)`` or the unix path."""
        return self._addresses[0]

    @property
    def addresses(self) -> list[Any]:
        """Every listening socket's address."""
        return list(self._addresses)

    @property
    def port(self) -> int:
        """The TCP port listened on (an AF_UNIX server has none: see ``address``)."""
        if not isinstance(self.address, tuple):
            raise AttributeError("an AF_UNIX server has a path (.address), not a port")
        return int(self.address[1])

    @property
    def active_connections(self) -> int:
        """Connections being served right now."""
        with self._lock:
            return len(self._active) if self.framing is None else len(self._conns)

    # -- running ------------------------------------------------------------------------------
    def start(self) -> Self:
        """Serve in a background (daemon) thread; returns self."""
        if self._thread is None and not self._running:
            self._running = True
            self._thread = threading.Thread(target=self._serve, name="netwire-tcp-server", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve until :meth:`close` is called (from another thread or a signal handler)."""
        if self._running:
            raise RuntimeError("this server is already serving")
        self._running = True
        self._serve()

    def _serve(self) -> None:
        sel = self._sel
        sel.register(self._wake_r, selectors.EVENT_READ, _WAKER)
        self._listen(True)
        for extra_sel, wake_r, _ in self._extra:
            extra_sel.register(wake_r, selectors.EVENT_READ, _WAKER)
            thread = threading.Thread(target=self._serve_extra, args=(extra_sel,), name="netwire-tcp-loop", daemon=True)
            self._extra_threads.append(thread)
            thread.start()
        try:
            while not self._closing.is_set():
                self._tick(sel.select(self._select_timeout()))
            self._shutdown()
        finally:
            self._cleanup()
            self._done.set()

    def close(self, grace: float | None = None) -> None:
        """Shut down gracefully and wait until done (see the module docstring). Idempotent.

        ``grace`` overrides the server's grace period for this shutdown.
        """
        if grace is not None:
            self.grace = grace
        self._closing.set()
        self._wake()
        if not self._running:
            self._cleanup()
            return
        if self._thread is not threading.current_thread():
            self._done.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- loop internals -----------------------------------------------------------------------
    def _wake(self) -> None:
        for w in (self._wake_w, *(w for _, _, w in self._extra)):
            with contextlib.suppress(OSError):
                w.send(b"\0")

    def _listen(self, on: bool) -> None:
        if on == self._listening:
            return
        self._listening = on
        for sock in self._listeners:
            if on:
                self._sel.register(sock, selectors.EVENT_READ, _LISTENER)
            else:
                self._sel.unregister(sock)

    def _select_timeout(self) -> float | None:
        if self._sweep_every is None or not (self._conns or self._born):
            return None if self._grace_deadline is None else 0.05
        return self._sweep_every

    def _tick(self, events: list[tuple[selectors.SelectorKey, int]], sel: selectors.BaseSelector | None = None) -> None:
        for key, mask in events:
            data = key.data
            if data.__class__ is Connection:
                if data.socket.fileno() < 0:
                    continue  # dropped earlier in this batch
                if mask & _READ:
                    self._on_readable(data)
                if mask & _WRITE and data.socket.fileno() >= 0 and self._flush(data) and data.buffer:
                    self._pump(data)  # reading resumed: first answer what was left buffered
            elif data is _LISTENER:
                self._accept(key.fileobj)  # type: ignore[arg-type]
            elif data is _WAKER:
                waker = key.fileobj
                assert isinstance(waker, socket.socket)
                with contextlib.suppress(OSError):
                    while waker.recv(4096):
                        pass
        if sel is not None:
            return  # an extra loop: it checks its own idle connections, nothing else
        if self._sweep_every is not None:
            now = time.monotonic()
            if now >= self._next_idle_check:
                self._next_idle_check = now + self._sweep_every
                if self.framing is None:
                    self._expire_threads(now)
                else:
                    self._expire(self._sel)
        if not self._listening and not self._closing.is_set():
            with self._lock:
                full = (len(self._active) if self.framing is None else len(self._conns)) >= self.max_connections
            self._listen(not full)

    def _accept(self, listener: socket.socket, drain: bool = False) -> None:
        for _ in range(10_000 if drain else 64):
            if not drain:
                with self._lock:
                    count = len(self._active) if self.framing is None else len(self._conns)
                if count >= self.max_connections:
                    self._listen(False)  # the rest wait in the kernel's queue
                    return
            try:
                sock, addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # EMFILE and friends: log, leave the client in the queue, try again later.
                log.error("accept failed: %s", exc)
                time.sleep(0.01)
                return
            self.accepted += 1
            if self._nodelay:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.framing is None:
                self._spawn(sock, addr)
            else:
                sock.setblocking(False)
                conn = Connection(self, sock, addr)
                if self._extra and not drain:  # at shutdown the extra loops may be finishing: keep it
                    self._turn = (self._turn + 1) % (len(self._extra) + 1)
                    if self._turn:
                        conn._sel = self._extra[self._turn - 1][0]
                with self._lock:
                    self._conns[sock.fileno()] = conn
                conn._sel.register(sock, selectors.EVENT_READ, conn)

    # -- connection-handler mode --------------------------------------------------------------
    def _spawn(self, sock: socket.socket, addr: Any) -> None:
        sock.setblocking(True)
        thread = threading.Thread(
            target=self._run_handler, args=(sock, addr), name=f"netwire-conn-{self.accepted}", daemon=True
        )
        with self._lock:
            self._active[sock] = thread
            if self.max_lifetime is not None:
                self._born[sock] = time.monotonic()
        thread.start()

    def _expire_threads(self, now: float) -> None:
        """Connection handlers past ``max_lifetime``: shut their socket down, so the handler's
        next receive or send fails (a thread cannot be stopped from outside; its socket can)."""
        assert self.max_lifetime is not None
        limit = now - self.max_lifetime
        with self._lock:
            old = [sock for sock, born in self._born.items() if born < limit]
            for sock in old:
                del self._born[sock]
        for sock in old:
            log.info("connection from %s reached its max_lifetime of %s s; closing it",
                     describe_address(_peer_of(sock)), self.max_lifetime)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _run_handler(self, sock: socket.socket, addr: Any) -> None:
        peer = describe_address(addr)
        stream = Stream(sock, timeout=self.timeout, peer=peer, message_timeout=self.message_timeout)
        try:
            self.handler(stream)  # type: ignore[call-arg,arg-type]
        except TimeoutException as exc:
            log.info("connection from %s: %s; closing it", peer, exc)
        except (ReadError, WriteError, ConnectionError) as exc:
            # Peers vanish all the time; that is news, not a problem of the server.
            log.info("connection from %s: %s", peer, exc)
        except (NetwireError, OSError) as exc:
            log.warning("connection from %s: %s", peer, exc)
        except Exception:
            log.exception("handler failed for connection from %s", peer)
        finally:
            stream.close()
            with self._lock:
                self._active.pop(sock, None)
                self._born.pop(sock, None)
                full_before = len(self._active) + 1 >= self.max_connections
            if full_before:
                self._wake()  # the loop may have stopped listening; let it resume

    # -- message mode -------------------------------------------------------------------------
    def _encode(self, message: bytes) -> bytes:
        if self.framing == "line":
            return message + b"\n"
        if self.framing == "frame":
            return encode_frame(message)
        return message

    def _on_readable(self, conn: Connection) -> None:
        if conn._paused or conn._eof:
            return  # (the shutdown drain calls this directly; the selector never does then)
        sock = conn.socket
        try:
            data = sock.recv(DEFAULT_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.info("connection from %s: %s", conn.peer, exc)
            self._drop(conn)
            return
        if not data:
            if conn.buffer:
                log.warning("connection from %s closed in the middle of a message (%d bytes)", conn.peer, len(conn.buffer))
            # Replies still pending are sent first; the EOF is not read again (it would wake us forever).
            conn._eof = True
            conn._close_after_flush = True
            self._flush(conn)
            return
        conn.last_active = time.monotonic()
        if (
            self._line_fast and not conn.out and not conn.buffer and data[-1] == 10
            and data.find(b"\n") == len(data) - 1 and len(data) <= self.max_message
        ):
            self._answer_line(conn, data[:-2] if data[-2:-1] == b"\r" else data[:-1])
            return
        if self.framing == "raw":
            if self._handle(conn, data):
                self._flush(conn)
            return
        conn.buffer.feed(data)
        self._pump(conn)

    def _handle(self, conn: Connection, message: bytes) -> bool:
        """Run the handler on one message and queue its reply; False if the connection was dropped."""
        try:
            reply = self.handler(message, conn)  # type: ignore[call-arg,arg-type]
        except Exception:
            log.exception("handler failed for connection from %s", conn.peer)
            self._drop(conn)
            return False
        if reply is not None:
            conn._queue(self._encode(reply))  # type: ignore[arg-type]
        return True

    def _pump(self, conn: Connection) -> None:
        """Answer the complete messages in ``conn.buffer`` while fewer than ``write_high`` bytes are
        queued for it, send, and go on while sending made room (the client reads)."""
        buf = conn.buffer
        high = self.write_high
        take = buf.take_line if self.framing == "line" else buf.take_frame
        limit = self.max_message
        while True:
            took = full = False
            while True:
                if conn._queued > high:
                    full = True  # complete messages may be left: answered once the client reads
                    break
                try:
                    message = take(limit)
                except ProtocolError as exc:
                    log.warning("connection from %s: %s; closing it", conn.peer, exc)
                    self._drop(conn)
                    return
                if message is None:
                    break
                took = True
                if not self._handle(conn, message):
                    return
            # The message deadline runs from the first byte of the message now incomplete.
            if not buf:
                conn._message_started = None
            elif took or conn._message_started is None:
                conn._message_started = time.monotonic()
            if not self._account(conn):
                return
            self._flush(conn)
            if not full or conn._paused or conn.socket.fileno() < 0:
                return

    def _account(self, conn: Connection) -> bool:
        """Count ``conn``'s receive buffer against the server's ``max_buffered`` budget; False
        (and the connection dropped) when it passes it."""
        size = len(conn.buffer)
        delta = size - conn._counted
        if not delta:
            return True
        conn._counted = size
        with self._lock:
            self._buffered += delta
            total = self._buffered
        if delta > 0 and self.max_buffered is not None and total > self.max_buffered:
            log.warning(
                "connection from %s: partial messages of all connections passed max_buffered (%d bytes); "
                "closing this one (%d bytes buffered)", conn.peer, self.max_buffered, size,
            )
            self._drop(conn)
            return False
        return True

    def _answer_line(self, conn: Connection, line: bytes) -> None:
        """The hot path of a line server: one recv held one whole line and nothing is queued,
        so the reply goes out with one send, no buffering, no joining."""
        try:
            reply = self.handler(line, conn)  # type: ignore[call-arg,arg-type]
        except Exception:
            log.exception("handler failed for connection from %s", conn.peer)
            self._drop(conn)
            return
        if reply is not None and conn.out:  # the handler queued messages itself: keep the order
            conn._queue(reply + b"\n")  # type: ignore[operator]
        elif reply is not None:
            payload = reply + b"\n"  # type: ignore[operator]
            try:
                sent = conn.socket.send(payload)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                log.info("connection from %s: %s", conn.peer, exc)
                self._drop(conn)
                return
            if sent < len(payload):
                conn._queue(payload[sent:])
        if conn.out or conn._close_after_flush:
            self._flush(conn)

    def _flush(self, conn: Connection) -> bool:
        """Send what is queued until the kernel takes no more, then set what the loop waits for:
        writability while bytes are queued, readability unless the client half-closed or reading
        is paused. Returns True when this resumed reading a paused connection."""
        out = conn.out
        if out:
            sock = conn.socket
            sent_any = False
            try:
                while out:
                    pos = conn._out_pos
                    if _SENDMSG and len(out) > 1:
                        # Scatter/gather: the chunks go to the kernel as they are, never re-joined.
                        chunks: list[bytes | memoryview] = [memoryview(out[0])[pos:] if pos else out[0]]
                        for i in range(1, min(len(out), _IOV_BATCH)):
                            chunks.append(out[i])
                        sent = sock.sendmsg(chunks)
                    else:
                        sent = sock.send(memoryview(out[0])[pos:] if pos else out[0])
                    if not sent:
                        break
                    sent_any = True
                    conn._queued -= sent
                    pos += sent
                    while out and pos >= len(out[0]):
                        pos -= len(out.popleft())
                    conn._out_pos = pos
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as exc:
                log.info("connection from %s: %s", conn.peer, exc)
                self._drop(conn)
                return False
            if sent_any:
                conn.last_active = time.monotonic()  # a client that reads is not idle
        if conn._close_after_flush and not out:
            self._drop(conn, graceful=True)
            return False
        resumed = False
        if conn._paused:
            if conn._queued <= self.write_low:
                conn._paused = False
                resumed = True
        elif conn._queued > self.write_high:
            conn._paused = True
            log.debug("connection from %s: %d bytes queued, not reading it until it reads", conn.peer, conn._queued)
        mask = (0 if conn._paused or conn._eof else _READ) | (_WRITE if out else 0)
        if mask != conn._mask:
            conn._mask = mask
            conn._sel.modify(conn.socket, mask, conn)
        return resumed

    def _drop(self, conn: Connection, graceful: bool = False) -> None:
        sock = conn.socket
        with self._lock:
            self._conns.pop(sock.fileno(), None)
            self._buffered -= conn._counted
        conn._counted = 0
        with contextlib.suppress(KeyError, ValueError):
            conn._sel.unregister(sock)
        if graceful:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        sock.close()

    def _owned(self, sel: selectors.BaseSelector) -> list[Connection]:
        """The connections served by the loop of ``sel``."""
        with self._lock:
            return [c for c in self._conns.values() if c._sel is sel]

    def _expire(self, sel: selectors.BaseSelector) -> None:
        """Close the connections of this loop that are past a time limit: idle ``timeout``,
        ``message_timeout`` (a message started and not finished), ``max_lifetime``."""
        now = time.monotonic()
        idle, message, lifetime = self.timeout, self.message_timeout, self.max_lifetime
        for conn in self._owned(sel):
            if idle is not None and conn.last_active < now - idle:
                log.info("connection from %s idle for %s s; closing it", conn.peer, idle)
            elif (
                message is not None and conn._message_started is not None and not conn._paused
                and conn._message_started < now - message
            ):
                # A paused connection is not read: its unfinished message is our doing, not its.
                log.warning("connection from %s: a message not complete within %s s (%d bytes so far); closing it",
                            conn.peer, message, len(conn.buffer))
            elif lifetime is not None and conn.accepted_at < now - lifetime:
                log.info("connection from %s reached its max_lifetime of %s s; closing it", conn.peer, lifetime)
            else:
                continue
            self._drop(conn)

    # -- shutdown -----------------------------------------------------------------------------
    def _shutdown(self) -> None:
        """Stop accepting, serve what is in flight for up to ``grace`` seconds, close the rest."""
        deadline = time.monotonic() + max(self.grace, 0.0)
        self._grace_deadline = deadline
        # Clients the kernel already accepted are in flight too: take them before closing.
        if not self._listening:
            self._listen(True)
        for listener in self._listeners:
            self._accept(listener, drain=True)
        self._listen(False)
        self._close_listeners()
        if self.framing is None:
            self._drain_threads(deadline)
        else:
            self._drain_messages(deadline)

    def _drain_threads(self, deadline: float) -> None:
        while True:
            with self._lock:
                items = list(self._active.items())
            if not items:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                break
            items[0][1].join(min(left, 0.05))
        log.info("grace period over: cutting %d connection(s)", len(items))
        for sock, _ in items:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in items:
            thread.join(1.0)

    def _quiescent(self, conn: Connection) -> bool:
        return not conn.buffer and not conn.out

    def _drain_messages(self, deadline: float, sel: selectors.BaseSelector | None = None) -> None:
        # Read what has already arrived, answer it, then close every connection with nothing
        # half-received and nothing left to send; the others get until the deadline.
        sel = self._sel if sel is None else sel
        for conn in self._owned(sel):
            self._on_readable(conn)
        while self._owned(sel) and time.monotonic() < deadline:
            for conn in self._owned(sel):
                if self._quiescent(conn):
                    conn._close_after_flush = True
                    self._flush(conn)
            if not self._owned(sel):
                break
            self._tick(sel.select(min(0.05, max(0.0, deadline - time.monotonic()))), sel)
        for conn in self._owned(sel):
            log.info("grace period over: closing connection from %s", conn.peer)
            self._drop(conn)
        if sel is self._sel:
            for thread in self._extra_threads:
                thread.join(max(0.0, deadline - time.monotonic()) + 1.0)

    def _serve_extra(self, sel: selectors.BaseSelector) -> None:
        """An extra selector loop: serves the connections dealt to it, expires its idle ones."""
        next_check = 0.0
        while not self._closing.is_set():
            self._tick(sel.select(self._select_timeout()), sel)
            if self._sweep_every is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + self._sweep_every
                self._expire(sel)
        while self._grace_deadline is None:  # the main loop sets it as shutdown begins
            time.sleep(0.005)
        self._drain_messages(self._grace_deadline, sel)

    def _close_listeners(self) -> None:
        for sock in self._listeners:
            sock.close()
        if self._unix_path:
            with contextlib.suppress(OSError):
                os.unlink(self._unix_path)
            self._unix_path = None

    def _cleanup(self) -> None:
        self._close_listeners()
        for conn in list(self._conns.values()):
            self._drop(conn)
        with contextlib.suppress(Exception):
            self._sel.close()
        self._wake_r.close()
        self._wake_w.close()
        for extra_sel, r, w in self._extra:
            with contextlib.suppress(Exception):
                extra_sel.close()
            r.close()
            w.close()

    def __repr__(self) -> str:
        return f"<TCPServer {describe_address(self.address) if not self._closing.is_set() else 'closed'}>"


def _peer_of(sock: socket.socket) -> Any:
    try:
        return sock.getpeername()
    except OSError:
        return None


def serve_tcp(
    handler: StreamHandler | MessageHandler,
    host: str | None = None,
    port: int = 0,
    *,
    backlog: int = 128,
    timeout: float | None = 60.0,
    max_connections: int = 1024,
    family: int = socket.AF_UNSPEC,
    reuse_port: bool = False,
    framing: Framing | None = None,
    max_message: int | None = None,
    grace: float = 5.0,
    ready: Callable[[TCPServer], object] | None = None,
    max_lifetime: float | None = None,
    message_timeout: float | None = DEFAULT_MESSAGE_TIMEOUT,
    write_high: int = DEFAULT_WRITE_HIGH,
    write_low: int | None = None,
    max_buffered: int | None = DEFAULT_MAX_BUFFERED,
) -> None:
    """Run a :class:`TCPServer` in this thread until SIGINT or SIGTERM, then shut it down
    gracefully. ``ready(server)`` is called once it listens (to learn the port, say). The other
    parameters are :class:`TCPServer`'s.

    Signal handlers are installed only when called from the main thread, and restored after.
    """
    server = TCPServer(
        handler, host, port, backlog=backlog, timeout=timeout, max_connections=max_connections,
        family=family, reuse_port=reuse_port, framing=framing, max_message=max_message, grace=grace,
        max_lifetime=max_lifetime, message_timeout=message_timeout, write_high=write_high, write_low=write_low,
        max_buffered=max_buffered,
    )
    run_with_signals(server.serve_forever, server.close, lambda: ready(server) if ready else None)


def run_with_signals(serve: Callable[[], None], stop: Callable[[], None], ready: Callable[[], object]) -> None:
    """Call ``serve()``; on SIGINT/SIGTERM (main thread only) ask ``stop()`` to end it."""
    previous: dict[int, Any] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: shutting down", signum)
        # Closing waits for the loop, which runs in this very thread: only ask it to stop.
        threading.Thread(target=stop, daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        ready()
        serve()
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
