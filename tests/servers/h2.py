"""HTTP/2 peers on loopback: nginx with ``listen ... ssl http2`` (TLS, ALPN h2, a certificate from
the session CA) and with ``listen ... http2`` (h2c, prior knowledge only), and hypercorn serving a
small ASGI app over TLS (h2 by ALPN) or h2c.

:func:`h2_nginx_site` writes the certificate files into ``directory`` and returns the
:class:`~tests.servers.nginx.Site`; :func:`start_hypercorn` runs hypercorn in a thread of its own
(an asyncio loop there) and returns a handle to stop it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from tests.servers.nginx import Site
from tests.servers.ports import free_port, wait_listening
from tests.servers.tls import session_ca

__all__ = ["H2_FILES", "Hypercorn", "h2_nginx_site", "start_hypercorn", "write_cert"]

SMALL = b"x" * 128
BIG = bytes(range(256)) * 4096 * 8  # 8 MiB

H2_FILES = {"small": SMALL, "big": BIG, "hello.txt": b"hello over HTTP/2\n"}

_LOCATIONS = r"""
        location = /hello { default_type text/plain; return 200 "hello from nginx\n"; }
        location = /redirect { return 302 /hello; }
        location = /setcookie { add_header Set-Cookie "h2=yes; Path=/"; return 200 "set\n"; }
        location = /echo-post {
            # nginx answers a POST to a static location with 405; return answers before reading.
            default_type text/plain; return 200 "got it\n";
        }
        location /gz/ { gzip on; gzip_min_length 1; gzip_types text/plain; default_type text/plain; }
"""


def write_cert(directory: Path) -> tuple[str, str]:
    """A certificate for localhost and 127.0.0.1 from the session CA, as (cert, key) files."""
    cert = session_ca().issue_cert("localhost", "127.0.0.1")
    crt, key = directory / "server.crt", directory / "server.key"
    cert.private_key_and_cert_chain_pem.write_to_path(str(crt))
    cert.private_key_pem.write_to_path(str(key))
    return str(crt), str(key)


def h2_nginx_site(directory: Path, *, tls: bool = True, access_log: bool = True) -> Site:
    """nginx speaking HTTP/2: over TLS (ALPN h2, http/1.1) or cleartext h2c (prior knowledge)."""
    files = dict(H2_FILES)
    files["gz/text.txt"] = b"".join(b"line %05d of text nginx compresses\n" % i for i in range(2000))
    if tls:
        crt, key = write_cert(directory)
        tls_conf = f"ssl_certificate {crt}; ssl_certificate_key {key}; ssl_protocols TLSv1.2 TLSv1.3;"
        return Site(
            listen="ssl http2",
            access_log=access_log,
            files=files,
            locations=tls_conf + _LOCATIONS,
            worker_connections=4096,
        )
    return Site(listen="http2", access_log=access_log, files=files, locations=_LOCATIONS, worker_connections=4096)


# -- hypercorn ----------------------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def pattern(n: int) -> bytes:
    """``n`` bytes repeating 0..250: a piece shifted, lost or repeated shows."""
    return (bytes(range(251)) * (n // 251 + 1))[:n]


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """``/echo``: the request as JSON (method, path, http_version, headers, body length);
    ``/stream?n=N``: N KiB in 1 KiB pieces with a trailer-less end; ``/pattern?n=N&piece=P``: N
    bytes (see :func:`pattern`) with a Content-Length, in P-byte pieces; anything else: 404."""
    if scope["type"] != "http":
        return
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path == "/echo":
        payload = json.dumps(
            {
                "method": scope["method"],
                "path": path,
                "http_version": scope["http_version"],
                "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
                "body_length": len(body),
            }
        ).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})
        return
    if path == "/pattern":
        # ``/pattern?n=N&piece=P``: N bytes of a period-251 pattern with a Content-Length, sent
        # in P-byte pieces (DATA frames of that size: boundaries nowhere near a power of two).
        query = dict(part.partition("=")[::2] for part in scope["query_string"].decode().split("&"))
        n, piece = int(query["n"]), int(query.get("piece", "10007"))
        data = pattern(n)
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(n).encode())]}
        )
        for i in range(0, n, piece):
            await send({"type": "http.response.body", "body": data[i : i + piece], "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/stream":
        n = int(scope["query_string"].decode().partition("=")[2] or "1")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(n):
            await send({"type": "http.response.body", "body": b"k" * 1024, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"not found\n"})


class Hypercorn:
    """hypercorn serving :func:`asgi_app` on 127.0.0.1 in a thread; ``stop()`` ends it."""

    def __init__(self, port: int, tls: bool) -> None:
        self.port = port
        self.tls = tls
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)


def start_hypercorn(directory: Path, *, tls: bool = True, wsgi: Any = None) -> Hypercorn:
    """Start hypercorn (h2 by ALPN over TLS, or h2c with prior knowledge when ``tls`` is False)
    serving :func:`asgi_app`, or the WSGI application ``wsgi`` (httpbin's, for the scenarios)."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    if tls:
        config.certfile, config.keyfile = write_cert(directory)
    server = Hypercorn(port, tls)
    started = threading.Event()

    def run() -> None:
        loop = asyncio.new_event_loop()
        server._loop = loop
        stop = server._stop = asyncio.Event()

        async def main() -> None:
            started.set()
            if wsgi is not None:
                await serve(wsgi, config, shutdown_trigger=stop.wait, mode="wsgi")
            else:
                await serve(asgi_app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

        try:
            loop.run_until_complete(main())
        finally:
            loop.close()

    server._thread = threading.Thread(target=run, daemon=True, name="hypercorn")
    server._thread.start()
    started.wait(10)
    wait_listening(port)
    return server
