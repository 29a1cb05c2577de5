"""HTTP servers on loopback written for the tests (http.server, in threads).

* :func:`start_echo_server`: answers every GET with JSON describing the request (path, headers,
  client address); with ``tls``, over TLS with a certificate from the session CA.
* :func:`start_policy_server`: what httpbin cannot do: zstd and bomb bodies, Retry-After,
  counted retries, redirects that leave the request body unread.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["EchoServer", "PolicyServer", "start_echo_server", "start_policy_server"]


# -- an HTTP(S) echo server to reach through the proxies -------------------------------------------


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps(
            {
                "path": self.path,
                "headers": dict(self.headers.items()),
                "client": self.client_address[0],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class EchoServer:
    host: str
    port: int
    server: http.server.ThreadingHTTPServer
    ca: Any = None  # a trustme.CA for the TLS variant

    @property
    def url(self) -> str:
        scheme = "https" if self.ca is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def client_context(self) -> ssl.SSLContext:
        assert self.ca is not None
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx


    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_echo_server(*, tls: bool = False, host: str = "127.0.0.1") -> EchoServer:
    """A threaded HTTP/1.1 server answering GETs with JSON of the request; TLS from a trustme CA."""
    server = http.server.ThreadingHTTPServer((host, 0), _EchoHandler)
    ca = None
    if tls:
        from tests.servers.tls import session_ca

        ca = session_ca()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return EchoServer(host, server.server_address[1], server, ca)


# -- a server for what httpbin cannot do: zstd, bombs, Retry-After, counted retries ----------------


class _PolicyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: dict[str, int]
    bodies: dict[str, tuple[str, bytes]]

    def _reply(self, status: int, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        args = dict(p.partition("=")[::2] for p in query.split("&") if p)
        parts = path.strip("/").split("/")
        kind, key = parts[0], "/".join(parts[1:])
        if self.command == "POST" and kind not in ("redirect", "continue-redirect"):
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
        if kind == "encoded" and key in self.bodies:
            encoding, body = self.bodies[key]
            self._reply(200, body, [("Content-Encoding", encoding), ("Content-Type", "application/octet-stream")])
            return
        count = self.hits[key] = self.hits.get(key, 0) + 1
        if kind == "hits":
            self._reply(200, str(self.hits.get(key, 0) - 1).encode())
        elif kind == "retry-after":
            # The first `fail` requests get `status` with Retry-After: `after` (seconds or "date").
            if count <= int(args.get("fail", "1")):
                after = args.get("after", "1")
                if after == "date":
                    from email.utils import formatdate

                    after = formatdate(time.time() + 2, usegmt=True)
                self._reply(int(args.get("status", "429")), b"wait", [("Retry-After", after)])
            else:
                self._reply(200, f"ok after {count - 1} refusals".encode())
        elif kind == "status":
            self._reply(int(args.get("code", "503")), b"status")
        elif kind in ("redirect", "continue-redirect"):
            # Answers at once, body unread, and closes: what a server does with a body it does not want.
            self.close_connection = True
            status = int(args.get("code", "307"))
            head = (
                f"HTTP/1.1 {status} Redirect\r\nLocation: /hits/{key}\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n"
            ).encode()
            if kind == "continue-redirect":
                # The 100 and the final answer in one write: they arrive in one read.
                head = b"HTTP/1.1 100 Continue\r\n\r\n" + head
            self.wfile.write(head)
            self.wfile.flush()
        else:
            self._reply(404, b"unknown")

    do_POST = do_GET
    do_HEAD = do_GET

    def handle_expect_100(self) -> bool:
        # /redirect/ answers a request with Expect: 100-continue at once, without the 100;
        # /continue-redirect/ writes its 100 together with the final answer.
        if self.path.startswith(("/redirect/", "/continue-redirect/")):
            return True
        return super().handle_expect_100()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class PolicyServer:
    """Serves ``/encoded/<name>`` (bodies registered with ``add``), ``/retry-after/<key>?fail=&after=&status=``,
    ``/status/<key>?code=``, ``/redirect/<key>?code=`` (to ``/hits/<key>``, without reading the
    request body; ``/continue-redirect/`` the same after a ``100 Continue``) and ``/hits/<key>``
    (how many requests ``<key>`` got)."""

    host: str
    port: int
    server: http.server.ThreadingHTTPServer
    handler: type[_PolicyHandler]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add(self, name: str, content_encoding: str, body: bytes) -> str:
        self.handler.bodies[name] = (content_encoding, body)
        return f"{self.url}/encoded/{name}"

    def hits(self, key: str) -> int:
        return self.handler.hits.get(key, 0)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_policy_server(host: str = "127.0.0.1") -> PolicyServer:
    handler = type("Handler", (_PolicyHandler,), {"hits": {}, "bodies": {}})
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return PolicyServer(host, server.server_address[1], server, handler)
