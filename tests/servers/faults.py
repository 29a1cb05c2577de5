"""A scripted TCP server on loopback for what real HTTP servers won't do.

Each accepted connection plays a *script*: a list of actions run in order (read a request,
send bytes, sleep, trickle, close, reset). The server records how many connections it
accepted and every request it read, so a test can tell "retried on a new connection" from
"reused the old one".

::

    script = [ReadRequest(), Send(b"HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\nshort"), Close()]
    with FaultServer(script) as srv:
        client.get(srv.url("/"))          # -> IncompleteResponse
        assert srv.connections == 1

``FaultServer(scripts)`` takes one script for every connection, a list of scripts (connection
*i* plays ``scripts[i]``, the last one repeats), or a callable ``index -> script``.
When a script runs out, the connection is closed (FIN). Stopping the server closes every
connection still open, so no test leaves a thread or a socket behind.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = [
    "Action",
    "Close",
    "FaultServer",
    "ReadRequest",
    "RecordedRequest",
    "Reset",
    "Script",
    "Send",
    "Serve",
    "ShutdownWrite",
    "Sleep",
    "Start",
    "Trickle",
    "WaitForClose",
    "response",
]


# -- actions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadRequest:
    """Read one whole request (head, then a Content-Length or chunked body) and record it.

    A request with ``Expect: 100-continue`` gets ``100 Continue`` before its body is read, as
    from a real server, unless ``send_continue`` is False. With ``read_body`` False only the
    head is read (a server answering before the upload). If the client closes before a whole
    request arrived, the script ends there.
    """

    send_continue: bool = True
    read_body: bool = True


@dataclass(frozen=True)
class Send:
    """Send these bytes at once."""

    data: bytes


@dataclass(frozen=True)
class Trickle:
    """Send ``data`` ``size`` bytes at a time, sleeping ``interval`` seconds between pieces."""

    data: bytes
    interval: float
    size: int = 1


@dataclass(frozen=True)
class Sleep:
    """Do nothing for a while (the server is slow, or holds an idle connection open)."""

    seconds: float


@dataclass(frozen=True)
class Close:
    """Close the connection gracefully (FIN); the script ends."""


@dataclass(frozen=True)
class ShutdownWrite:
    """Half-close: send FIN but keep reading."""


@dataclass(frozen=True)
class Reset:
    """Abort the connection with a TCP RST (SO_LINGER 0, then close); the script ends."""


@dataclass(frozen=True)
class WaitForClose:
    """Read and discard until the client closes (or ``timeout`` passes)."""

    timeout: float = 10.0


@dataclass(frozen=True)
class Serve:
    """Act as a keep-alive server: read a request, send ``reply``; repeat until the client closes.

    ``times`` bounds the number of requests served (None: no bound).
    """

    reply: bytes
    times: int | None = None


Action = ReadRequest | Send | Trickle | Sleep | Close | ShutdownWrite | Reset | WaitForClose | Serve
Script = Sequence[Action]
_ACTIONS = (ReadRequest, Send, Trickle, Sleep, Close, ShutdownWrite, Reset, WaitForClose, Serve)


def response(
    body: bytes = b"ok",
    *,
    status: int = 200,
    reason: str = "OK",
    headers: Sequence[tuple[str, str]] = (),
    length: bool = True,
) -> bytes:
    """Bytes of a simple HTTP/1.1 response (with Content-Length unless ``length`` is False)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# -- what the server saw ---------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as the server read it."""

    connection: int
    """Index of the connection it came on (0 for the first accepted)."""
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


@dataclass
class _Conn:
    index: int
    sock: socket.socket
    buf: bytearray = field(default_factory=bytearray)
    closed: bool = False


class _PeerClosed(Exception):
    pass


# -- the server ------------------------------------------------------------------------------------

ScriptSource = Action | Script | Sequence[Script] | Callable[[int], Script]


class FaultServer:
    """A threaded TCP server on 127.0.0.1 (a free port) playing a script per connection."""

    def __init__(self, scripts: ScriptSource, *, host: str = "127.0.0.1") -> None:
        self._scripts = scripts
        self._listener = socket.socket(socket.AF_INET if ":" not in host else socket.AF_INET6)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._conns: list[_Conn] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.requests: list[RecordedRequest] = []
        """Every request read, in the order they were read."""
        self.errors: list[BaseException] = []
        """Unexpected exceptions in connection threads (a test may assert this stays empty)."""
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"fault-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()

    # -- public --------------------------------------------------------------------------------

    @property
    def connections(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return len(self._conns)

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def wait_for_connections(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``n`` connections were accepted."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.connections >= n:
                return True
            time.sleep(0.005)
        return self.connections >= n

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every connection thread has finished its script."""
        end = time.monotonic() + timeout
        for t in list(self._threads):
            t.join(max(end - time.monotonic(), 0))
        return not any(t.is_alive() for t in self._threads)

    def stop(self) -> None:
        """Stop accepting, close every connection, join every thread."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        self._accept_thread.join(5)
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            if not c.closed:
                with contextlib.suppress(OSError):
                    c.sock.shutdown(socket.SHUT_RDWR)
        for t in list(self._threads):
            t.join(5)
        for c in conns:
            with contextlib.suppress(OSError):
                c.sock.close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------------

    def _script_for(self, index: int) -> Script:
        src = self._scripts
        if isinstance(src, _ACTIONS):
            return [src]
        if callable(src):
            return src(index)
        if src and isinstance(src[0], Sequence):
            scripts: Sequence[Script] = src  # type: ignore[assignment]
            return scripts[min(index, len(scripts) - 1)]
        return src  # type: ignore[return-value]

    def _accept_loop(self) -> None:
        # accept() blocks; stop() closes the listener, which wakes it with an OSError.
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                conn = _Conn(len(self._conns), sock)
                self._conns.append(conn)
            t = threading.Thread(target=self._run, args=(conn,), name=f"fault-conn-{conn.index}", daemon=True)
            self._threads.append(t)
            t.start()

    def _run(self, conn: _Conn) -> None:
        try:
            for action in self._script_for(conn.index):
                if self._stopping.is_set() or conn.closed:
                    break
                self._do(conn, action)
        except (_PeerClosed, ConnectionError, BrokenPipeError):
            pass
        except OSError:
            if not self._stopping.is_set():
                raise
        except BaseException as exc:  # pragma: no cover - a bug in a script; keep it for the test
            self.errors.append(exc)
        finally:
            if not conn.closed:
                conn.closed = True
                with contextlib.suppress(OSError):
                    conn.sock.close()

    def _do(self, conn: _Conn, action: Action) -> None:
        sock = conn.sock
        if isinstance(action, ReadRequest):
            self._read_request(conn, action.send_continue, action.read_body)
        elif isinstance(action, Send):
            sock.sendall(action.data)
        elif isinstance(action, Trickle):
            data = action.data
            for i in range(0, len(data), action.size):
                if self._stopping.is_set():
                    return
                sock.sendall(data[i : i + action.size])
                time.sleep(action.interval)
        elif isinstance(action, Sleep):
            self._stopping.wait(action.seconds)
        elif isinstance(action, ShutdownWrite):
            sock.shutdown(socket.SHUT_WR)
        elif isinstance(action, Close):
            conn.closed = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
            sock.close()
        elif isinstance(action, Reset):
            conn.closed = True
            # SO_LINGER on with a zero timeout: close() sends RST and drops unsent data.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        elif isinstance(action, WaitForClose):
            sock.settimeout(action.timeout)
            try:
                while sock.recv(65536):
                    pass
            except TimeoutError:
                pass
            finally:
                sock.settimeout(None)
        elif isinstance(action, Serve):
            served = 0
            while action.times is None or served < action.times:
                self._read_request(conn)
                sock.sendall(action.reply)
                served += 1
        else:  # pragma: no cover
            raise TypeError(f"unknown action {action!r}")

    # -- reading requests (our own minimal parser: independent of the code under test) --------

    def _recv_more(self, conn: _Conn) -> None:
        data = conn.sock.recv(65536)
        if not data:
            raise _PeerClosed
        conn.buf += data

    def _read_line(self, conn: _Conn) -> bytes:
        while True:
            i = conn.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(conn.buf[:i])
                del conn.buf[: i + 2]
                return line
            self._recv_more(conn)

    def _read_exact(self, conn: _Conn, n: int) -> bytes:
        while len(conn.buf) < n:
            self._recv_more(conn)
        data = bytes(conn.buf[:n])
        del conn.buf[:n]
        return data

    def _read_request(
        self, conn: _Conn, send_continue: bool = True, read_body: bool = True
    ) -> RecordedRequest:
        while True:
            line = self._read_line(conn)
            if line:
                break
        method, target, _version = line.decode("latin-1").split(" ", 2)
        headers: list[tuple[str, str]] = []
        while True:
            line = self._read_line(conn)
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name, value.strip()))
        lower = {k.lower(): v for k, v in headers}
        if send_continue and lower.get("expect", "").lower() == "100-continue":
            conn.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = b""
        if not read_body:
            pass
        elif "chunked" in lower.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int(self._read_line(conn).split(b";")[0].strip(), 16)
                if size == 0:
                    while self._read_line(conn):  # trailers
                        pass
                    break
                parts.append(self._read_exact(conn, size))
                self._read_exact(conn, 2)
            body = b"".join(parts)
        elif "content-length" in lower:
            body = self._read_exact(conn, int(lower["content-length"]))
        req = RecordedRequest(conn.index, method, target, headers, body)
        with self._lock:
            self.requests.append(req)
        return req


# Any, not ScriptSource: a literal list mixing action types is inferred as list[object].
Start = Callable[[Any], FaultServer]
"""The ``fault_server`` fixture: start a FaultServer playing a script (a ``ScriptSource``)."""
