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

Both enforce a per-connection idle ``timeout``, log and contain handler errors (one failing
connection never stops the server), serve IPv4 and IPv6 on one wildcard socket (dual-stack), and
shut down gracefully: :meth:`TCPServer.close` (or leaving the ``with`` block, or SIGINT/SIGTERM
under :func:`serve_tcp`) stops accepting, serves the connections the kernel already accepted,
lets handlers finish for up to ``grace`` seconds, then closes everything and the listener.
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
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, Literal, Self

from ..errors import NetwireError, ProtocolError, ReadError, TimeoutException, WriteError
from .framing import DEFAULT_MAX_FRAME, DEFAULT_MAX_LINE, ReceiveBuffer, encode_frame
from .happy_eyeballs import connect_tcp_socket
from .listen import AF_UNIX, bind_sockets
from .stream import DEFAULT_RECV_SIZE, Stream, describe_address

__all__ = [
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
        "_close_after_flush", "_sel", "_server", "_writing", "address", "buffer", "data", "last_active", "out",
        "socket",
    )

    def __init__(self, server: TCPServer, sock: socket.socket, address: Any) -> None:
        self._server = server
        self.socket = sock
        self.address = address
        self.buffer = ReceiveBuffer()
        self.out: list[bytes] = []
        self.data: dict[str, Any] = {}
        self.last_active = time.monotonic()
        self._close_after_flush = False
        self._writing = False
        self._sel: selectors.BaseSelector = server._sel  # the loop that serves this connection

    @property
    def peer(self) -> str:
        """The client's address, formatted for messages."""
        return describe_address(self.address)

    def send(self, message: bytes) -> None:
        """Queue one more message (framed like the server's framing) for this client."""
        self.out.append(self._server._encode(message))

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
    frame (``ProtocolError`` closes the offending connection).

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
        self.max_message = max_message or (DEFAULT_MAX_FRAME if framing == "frame" else DEFAULT_MAX_LINE)
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
        if self.framing is None or self.timeout is None or not self._conns:
            return None if self._grace_deadline is None else 0.05
        # Idle checks need not be precise to the millisecond: a quarter of the timeout will do.
        return min(max(self.timeout / 4, 0.01), 1.0)

    def _tick(self, events: list[tuple[selectors.SelectorKey, int]], sel: selectors.BaseSelector | None = None) -> None:
        for key, mask in events:
            data = key.data
            if data.__class__ is Connection:
                if data.socket.fileno() < 0:
                    continue  # dropped earlier in this batch
                if mask & _READ:
                    self._on_readable(data)
                if mask & _WRITE and data.socket.fileno() >= 0:
                    self._flush(data)
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
        if self.timeout is not None and self.framing is not None:
            now = time.monotonic()
            if now >= self._next_idle_check:
                # Idle checks need not be precise: every quarter of the timeout will do.
                self._next_idle_check = now + min(max(self.timeout / 4, 0.01), 1.0)
                self._expire_idle(self._sel)
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
        thread.start()

    def _run_handler(self, sock: socket.socket, addr: Any) -> None:
        peer = describe_address(addr)
        stream = Stream(sock, timeout=self.timeout, peer=peer)
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

    def _messages(self, conn: Connection, data: bytes) -> list[bytes]:
        buf = conn.buffer
        if self.framing == "raw":
            return [data]
        if self.framing == "line":
            if not buf and data[-1:] == b"\n" and data.find(b"\n") == len(data) - 1 and len(data) <= self.max_message:
                # One recv, one whole line: the usual request/response case, no buffering.
                return [data[:-2] if data[-2:-1] == b"\r" else data[:-1]]
            buf.feed(data)
            out = []
            while (line := buf.take_line(self.max_message)) is not None:
                out.append(line)
            return out
        buf.feed(data)
        frames = []
        while (frame := buf.take_frame(self.max_message)) is not None:
            frames.append(frame)
        return frames

    def _on_readable(self, conn: Connection) -> None:
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
            conn._close_after_flush = True
            self._flush(conn)
            if conn.socket.fileno() >= 0:
                # Replies still pending: wait for writability only, or the EOF would wake us forever.
                conn._writing = True
                conn._sel.modify(sock, _WRITE, conn)
            return
        conn.last_active = time.monotonic()
        if (
            self._line_fast and not conn.out and not conn.buffer and data[-1] == 10
            and data.find(b"\n") == len(data) - 1 and len(data) <= self.max_message
        ):
            self._answer_line(conn, data[:-2] if data[-2:-1] == b"\r" else data[:-1])
            return
        try:
            messages = self._messages(conn, data)
        except ProtocolError as exc:
            log.warning("connection from %s: %s; closing it", conn.peer, exc)
            self._drop(conn)
            return
        handler: MessageHandler = self.handler  # type: ignore[assignment]
        encode = self._encode
        out = conn.out
        for message in messages:
            try:
                reply = handler(message, conn)
            except Exception:
                log.exception("handler failed for connection from %s", conn.peer)
                self._drop(conn)
                return
            if reply is not None:
                out.append(encode(reply))
        if out or conn._close_after_flush:
            self._flush(conn)

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
            conn.out.append(reply + b"\n")  # type: ignore[operator]
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
                conn.out.append(payload[sent:])
                self._flush(conn)
                return
        if conn.out or conn._close_after_flush:
            self._flush(conn)

    def _flush(self, conn: Connection) -> None:
        sock = conn.socket
        if conn.out:
            data = conn.out[0] if len(conn.out) == 1 else b"".join(conn.out)
            try:
                sent = sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                log.info("connection from %s: %s", conn.peer, exc)
                self._drop(conn)
                return
            conn.out.clear()
            if sent < len(data):
                conn.out.append(data[sent:])
                if not conn._writing:
                    conn._writing = True
                    conn._sel.modify(sock, _READ | _WRITE, conn)
                return
            if conn._writing:
                conn._writing = False
                conn._sel.modify(sock, _READ, conn)
        if conn._close_after_flush:
            self._drop(conn, graceful=True)

    def _drop(self, conn: Connection, graceful: bool = False) -> None:
        sock = conn.socket
        with self._lock:
            self._conns.pop(sock.fileno(), None)
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

    def _expire_idle(self, sel: selectors.BaseSelector) -> None:
        assert self.timeout is not None
        limit = time.monotonic() - self.timeout
        for conn in self._owned(sel):
            if conn.last_active < limit:
                log.info("connection from %s idle for %s s; closing it", conn.peer, self.timeout)
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
            if self.timeout is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + min(max(self.timeout / 4, 0.01), 1.0)
                self._expire_idle(sel)
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
) -> None:
    """Run a :class:`TCPServer` in this thread until SIGINT or SIGTERM, then shut it down
    gracefully. ``ready(server)`` is called once it listens (to learn the port, say).

    Signal handlers are installed only when called from the main thread, and restored after.
    """
    server = TCPServer(
        handler, host, port, backlog=backlog, timeout=timeout, max_connections=max_connections,
        family=family, reuse_port=reuse_port, framing=framing, max_message=max_message, grace=grace,
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
