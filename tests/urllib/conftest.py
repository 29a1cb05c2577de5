"""Fixtures for the urllib face: real servers on loopback.

* ``httpbin`` / ``httpbin_secure`` come from pytest-httpbin; ``ca_context`` trusts its CA.
* ``ftp_server``: pyftpdlib in a thread on a free port of 127.0.0.1, serving a temporary
  directory to ``anonymous`` and to ``user``/``secret``.
* ``proxy`` / ``auth_proxy``: tinyproxy (tests/servers/proxies.py), allowing CONNECT
  to the HTTPS httpbin; ``auth_proxy`` requires Basic credentials ``proxyuser``/``proxypass``.
* ``one_shot`` (root conftest): a one-response-per-connection TCP server answering with bytes we
  choose (truncated bodies, and the like), recording what it received.
"""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_httpbin.certs

from tests.servers.ports import free_port
from tests.servers.proxies import ServerProcess, tinyproxy

FTP_FILES = {
    "hello.txt": b"hello over ftp\n",
    "sub/data.bin": bytes(range(256)) * 64,
}


@pytest.fixture
def ca_context() -> ssl.SSLContext:
    """An SSLContext trusting pytest-httpbin's CA."""
    return ssl.create_default_context(cafile=pytest_httpbin.certs.where())


@dataclass
class FTPServer:
    host: str
    port: int
    root: Path

    @property
    def url(self) -> str:
        return f"ftp://{self.host}:{self.port}"

    def user_url(self) -> str:
        return f"ftp://user:secret@{self.host}:{self.port}"


@pytest.fixture(scope="session")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FTPServer]:
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    root = tmp_path_factory.mktemp("ftproot")
    for name, data in FTP_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(str(root))
    authorizer.add_user("user", "secret", str(root), perm="elr")

    class Handler(FTPHandler):
        pass

    Handler.authorizer = authorizer
    Handler.passive_ports = range(50000, 50100)
    Handler.banner = "netwire test ftpd"
    import logging

    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    server = ThreadedFTPServer(("127.0.0.1", 0), Handler)
    host, port = server.socket.getsockname()[:2]
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    try:
        yield FTPServer(host, port, root)
    finally:
        server.close_all()
        thread.join(5)


@pytest.fixture
def proxy(httpbin_secure: object) -> Iterator[ServerProcess]:
    port = int(str(httpbin_secure.url).rsplit(":", 1)[1])  # type: ignore[attr-defined]
    with tinyproxy(connect_ports=[port]) as server:
        yield server


@pytest.fixture
def auth_proxy() -> Iterator[ServerProcess]:
    with tinyproxy(basic_auth=("proxyuser", "proxypass")) as server:
        yield server


class _KeepAliveHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KeepAliveServer

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def _answer(self) -> None:
        body = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        elif self.headers.get("Content-Length"):
            body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.command, self.path, list(self.headers.items()), body))
        if self.path.startswith("/redirect-to/"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/redirect-to/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = f"{self.command} {self.path}".encode()
        if self.path == "/big":
            payload = b"x" * (4 << 20)
        if self.path == "/slow-tail":
            # Half the body now, half a moment later: a close() in between must drain it.
            self.send_response(200)
            self.send_header("Content-Length", "2000")
            self.end_headers()
            self.wfile.write(b"a" * 1000)
            self.wfile.flush()
            time.sleep(0.05)
            self.wfile.write(b"b" * 1000)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class KeepAliveServer(http.server.ThreadingHTTPServer):
    """HTTP/1.1 with keep-alive; counts connections and records every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _KeepAliveHandler)
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[tuple[str, str, list[tuple[str, str]], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def keepalive_server() -> Iterator[KeepAliveServer]:
    server = KeepAliveServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _clean_openers() -> Iterator[None]:
    """No opener installed by an earlier test (the root conftest clears the proxy variables)."""
    import urllib.request

    import netwire.request

    urllib.request.install_opener(None)
    netwire.request.install_opener(None)
    yield
    urllib.request.install_opener(None)
    netwire.request.install_opener(None)


__all__ = ["FTP_FILES", "FTPServer", "KeepAliveServer", "free_port"]
