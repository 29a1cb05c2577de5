"""Loopback servers for the CVE suite: the shared fault server's type, and a small HTTPS server."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

from faults.server import FaultServer

__all__ = ["Start", "TLSServer"]

# Any, not ScriptSource: a literal list mixing action types is inferred as list[object].
Start = Callable[[Any], FaultServer]
"""The ``fault_server`` fixture: start a FaultServer playing a script (a ``ScriptSource``)."""


class TLSServer:
    """Accepts TLS connections with ``ctx`` on 127.0.0.1 and answers each request with ``reply``.

    Records the handshake outcome of each connection (the negotiated version, or the error)
    so a test can tell a refused handshake from a server that never saw the client.
    """

    def __init__(self, ctx: ssl.SSLContext, reply: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") -> None:
        self.ctx = ctx
        self.reply = reply
        self.handshakes: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = "/", host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(sock,), daemon=True).start()

    def _one(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        try:
            with self.ctx.wrap_socket(sock, server_side=True) as tls:
                self.handshakes.append(tls.version() or "?")
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = tls.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                tls.sendall(self.reply)
        except (OSError, ssl.SSLError) as exc:
            self.handshakes.append(f"error: {exc}")
        finally:
            sock.close()

    def close(self) -> None:
        self._stop = True
        # close() alone does not wake a thread blocked in accept() on Linux; shutdown() does.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        self._thread.join(5)
