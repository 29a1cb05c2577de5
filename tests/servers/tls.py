"""TLS on loopback: one trustme CA for the whole session, and one small HTTPS server.

* :func:`session_ca`: the CA every test server's certificate comes from (built once: a CA
  costs a key generation). :func:`other_ca`: a second one, for the refusals.
* :class:`TLSServer`: accepts TLS connections with a given ``ssl.SSLContext`` and answers
  each request with ``reply``. It records the handshake outcome of each connection (the
  negotiated version, or the error), so a test can tell a refused handshake from a server that
  never saw the client, and the path of each request. The handshake happens in the
  connection's own thread: a client that refuses the certificate cannot stall the accept loop.
* :func:`server_context`: a server-side context with a certificate from the session CA.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["MutualTLSServer", "OK_REPLY", "SECRET_REPLY", "TLSServer", "other_ca", "server_context", "session_ca", "write_ca"]

OK_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
SECRET_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\nContent-Type: text/plain\r\n\r\nsecret over TLS\n"


@functools.cache
def session_ca() -> trustme.CA:
    """The CA of the session's test certificates."""
    return trustme.CA()


@functools.cache
def other_ca() -> trustme.CA:
    """A second CA: the one a test trusts when the server's certificate must not be trusted
    (and the signer when a proxy's certificate must come from a CA other than the target's)."""
    return trustme.CA()


def write_ca(ca: trustme.CA, path: Path) -> str:
    """Write ``ca``'s certificate to ``path`` (for ``verify=``); returns the path as a string."""
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(*hosts: str, ca: trustme.CA | None = None) -> ssl.SSLContext:
    """A server context presenting a certificate for ``hosts`` (default ``localhost``) from ``ca``
    (default the session CA)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    (ca or session_ca()).issue_cert(*(hosts or ("localhost",))).configure_cert(ctx)
    return ctx


class TLSServer:
    """Accepts TLS connections with ``ctx`` on 127.0.0.1 and answers each request with ``reply``.

    With ``keep_alive`` it answers every request of a connection; without, it answers the
    first and closes. ``handshakes`` holds each connection's outcome (``"TLSv1.3"`` or
    ``"error: ..."``), ``requests`` the path of each request.
    """

    def __init__(self, ctx: ssl.SSLContext, reply: bytes = OK_REPLY, *, keep_alive: bool = False) -> None:
        self.ctx = ctx
        self.reply = reply
        self.keep_alive = keep_alive
        self.handshakes: list[str] = []
        self.requests: list[str] = []
        # Where a fixture wrote the CA files for ``verify=`` (the signer's, and one that signed nothing).
        self.ca_pem: Path | None = None
        self.other_ca_pem: Path | None = None
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
                while True:
                    while b"\r\n\r\n" not in data:
                        chunk = tls.recv(65536)
                        if not chunk:
                            return
                        data += chunk
                    head, _, data = data.partition(b"\r\n\r\n")
                    self.requests.append(head.split(b" ", 2)[1].decode("latin-1") if b" " in head else "")
                    tls.sendall(self.reply)
                    if not self.keep_alive:
                        return
        except (OSError, ssl.SSLError, IndexError) as exc:
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


@dataclass
class MutualTLSServer:
    """What the ``mtls_server`` fixture gives: a :class:`TLSServer` requiring a client certificate."""

    port: int
    ca_pem: Path
    client_pem: Path
    """Client certificate and key (one PEM file), signed by the CA the server trusts."""
    stranger_pem: Path
    """A client certificate from a CA the server does not trust."""

    def url(self, path: str = "/") -> str:
        return f"https://localhost:{self.port}{path}"
