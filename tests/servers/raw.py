"""Raw servers on loopback: exact bytes in, fixed bytes out.

* :func:`full_backlog`: a listener that never accepts, its accept queue full: connects hang.
* :class:`SilentServer`: accepts connections and never sends a byte.
* :class:`OneShotServer`: answers each connection's first request head with bytes we choose
  (truncated bodies, and the like) and closes; keeps each head it read.

* :class:`RawRecorder`: a keep-alive HTTP server that keeps every request's exact bytes (head
  and body) and answers each with a fixed reply. Pointed at as an HTTP proxy, it records what a
  proxy receives (the absolute-form line, ``Proxy-Authorization``), which a real proxy would
  rewrite before any origin saw it.
* :class:`UnixVictim`: a Unix-socket HTTP server standing in for a local daemon (Docker's
  socket); it answers, so a client that reaches it gets a response, and counts connections.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator

__all__ = ["OK", "OneShotServer", "RawRecorder", "SilentServer", "UnixVictim", "full_backlog", "read_request"]

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def read_request(sock: socket.socket, buf: bytearray) -> bytes | None:
    """One whole request's bytes from ``sock`` (``buf`` keeps what came after it); None at EOF."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    end = buf.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buf[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(buf) < end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    raw = bytes(buf[: end + length])
    del buf[: end + length]
    return raw


class _Server:
    def __init__(self, listener: socket.socket, reply: bytes) -> None:
        self.reply = reply
        self.requests: list[bytes] = []
        self.connections = 0
        self._listener = listener
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._socks.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        buf = bytearray()
        sock.settimeout(10)
        with contextlib.suppress(OSError):
            while (raw := read_request(sock, buf)) is not None:
                with self._lock:
                    self.requests.append(raw)
                sock.sendall(self.reply)

    def take(self) -> list[bytes]:
        """The requests recorded so far, forgotten here."""
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._socks:
                with contextlib.suppress(OSError):
                    sock.close()
        self._thread.join(5)


class RawRecorder(_Server):
    """Records raw requests on 127.0.0.1 (a free port); see the module docstring."""

    def __init__(self, reply: bytes = OK) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = listener.getsockname()[1]
        super().__init__(listener, reply)

    def url(self, path: str = "/", userinfo: str = "") -> str:
        return f"http://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.port}{path}"


class UnixVictim(_Server):
    """An HTTP server on a Unix socket in a fresh directory (a short path: sun_path is 108 bytes)."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="nw-uds-", dir="/tmp")
        self.path = os.path.join(self._dir, "daemon.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen(16)
        super().__init__(listener, b"HTTP/1.1 201 Created\r\nContent-Length: 16\r\n\r\n{\"Id\":\"pwned!\"}\n")

    def url(self, path: str = "/v1.43/containers/create") -> str:
        return "http+unix://" + self.path.replace("/", "%2F") + path

    def close(self) -> None:
        super().close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)


class OneShotServer:
    """One request per connection: ``answer(request_head) -> bytes`` is sent, then the connection closes.

    ``received`` keeps each request head (up to the blank line) in arrival order.
    """

    def __init__(self, answer: bytes | Callable[[bytes], bytes]) -> None:
        self.answer: Callable[[bytes], bytes] = answer if callable(answer) else (lambda _head: answer)
        self.received: list[bytes] = []
        self.host = "127.0.0.1"
        self.listener = socket.create_server((self.host, 0))
        self.port: int = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    self.received.append(data)
                    conn.sendall(self.answer(data))
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@contextlib.contextmanager
def full_backlog(host: str = "127.0.0.1") -> Iterator[socket.socket]:
    """A listener that never accepts, its queue filled: Linux drops further SYNs, so a connect hangs
    (until the connect timeout). Yields the listener; everything is closed on exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind((host, 0))
        listener.listen(0)
        addr = listener.getsockname()[:2]
        # Fill the queue (Linux queues backlog + 1); stop when a connect no longer completes.
        for _ in range(4):
            c = socket.socket(family, socket.SOCK_STREAM)
            c.settimeout(0.2)
            try:
                c.connect(addr)
            except OSError:
                c.close()
                break
            fillers.append(c)
        yield listener
    finally:
        for c in fillers:
            c.close()
        listener.close()


class SilentServer:
    """Accepts connections on 127.0.0.1 and holds them open, never sending a byte."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address: tuple[str, int] = self.listener.getsockname()[:2]
        self.port = self.address[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                self._held.append(self.listener.accept()[0])
            except OSError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for s in self._held:
            s.close()
        self.listener.close()
