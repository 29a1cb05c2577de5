"""Fixtures for the policy tests: real servers on loopback.

* ``echo_server``: a plain HTTP server answering every GET with JSON describing the request.
* ``tls_echo_server``: the same over TLS, certificate from a trustme CA (``.ca`` to trust it).
* ``tinyproxy_server``: tinyproxy allowing CONNECT to the TLS server's port (session-wide).
* ``dante_server`` / ``dante_auth_server``: dante SOCKS5 without / with username auth.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

from policy.servers import ServerProcess, dante, is_root, tinyproxy


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
    ca: trustme.CA | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ca is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def client_context(self) -> ssl.SSLContext:
        assert self.ca is not None
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx


def _serve(server: http.server.ThreadingHTTPServer) -> threading.Thread:
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    return t


@pytest.fixture(scope="session")
def echo_server() -> Iterator[EchoServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    _serve(server)
    yield EchoServer("127.0.0.1", server.server_address[1], server)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def tls_echo_server() -> Iterator[EchoServer]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    _serve(server)
    yield EchoServer("127.0.0.1", server.server_address[1], server, ca)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def tinyproxy_server(tls_echo_server: EchoServer) -> Iterator[ServerProcess]:
    with tinyproxy(connect_ports=[tls_echo_server.port]) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def tinyproxy_auth_server(tls_echo_server: EchoServer) -> Iterator[ServerProcess]:
    with tinyproxy(connect_ports=[tls_echo_server.port], basic_auth=("proxyuser", "proxy:pw")) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def dante_server() -> Iterator[ServerProcess]:
    with dante() as server:
        yield server


@pytest.fixture(scope="session")
def dante_auth_server() -> Iterator[ServerProcess]:
    if not is_root():
        pytest.skip("dante's username method checks system passwords: creating the test user needs root")
    with dante(auth=("nwsocks", "s3cret pw")) as server:
        yield server
