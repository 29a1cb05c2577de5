"""Fixtures for the Client tests: real servers on loopback.

* ``nginx``: our own nginx instance (session-wide) on a free port, config generated in a temp
  dir, non-daemon, with an access log recording nginx's connection serial number per request.
* ``tls_server``: an HTTPS server with a certificate from a trustme CA.
* ``fault_server``: a factory for :class:`faults.server.FaultServer` (stopped at teardown).
* ``client``: a ``netwire.Client`` with short timeouts, closed at teardown.
* ``httpbin`` / ``httpbin_secure`` come from pytest-httpbin.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import netwire
from faults.server import FaultServer, ScriptSource

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def _wait_listening(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


# -- nginx ---------------------------------------------------------------------------------------

SMALL_BODY = b"x" * 128
LARGE_BODY = bytes(range(256)) * 4096  # 1 MiB
TEXT_BODY = b"".join(b"line %05d of a text file nginx compresses on the fly\n" % i for i in range(2000))


@dataclass
class Nginx:
    port: int
    root: Path
    access_log: Path

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_size(self) -> int:
        return self.access_log.stat().st_size

    def log_since(
        self, offset: int, expected_lines: int | None = None, timeout: float = 5.0
    ) -> list[list[str]]:
        """Access log lines written after byte ``offset``, split into fields.

        Fields: connection serial, requests on that connection, method, URI, status.
        Waits (briefly) for ``expected_lines``: nginx writes a line after the response is sent.
        """
        end = time.monotonic() + timeout
        while True:
            with self.access_log.open("rb") as f:
                f.seek(offset)
                lines = [ln.decode().split() for ln in f.read().splitlines() if ln.strip()]
            if expected_lines is None or len(lines) >= expected_lines or time.monotonic() > end:
                return lines
            time.sleep(0.01)


NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format conn '$connection $connection_requests $request_method $request_uri $status';
    access_log {tmp}/access.log conn;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;
    # Far above what the tests send on one connection: nginx must not be what closes it.
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
        location = /hello {{ default_type text/plain; return 200 "hello from nginx\\n"; }}
        location = /nothing {{ return 204; }}
        location = /close {{ keepalive_timeout 0; default_type text/plain; return 200 "bye\\n"; }}
        location = /redirect {{ return 302 /hello; }}
        location /charset/ {{
            # Served with types but no charset (nginx's default): the client must find the encoding.
            types {{ text/html html; application/xml xml; text/plain txt; }}
            location /charset/declared/ {{ charset utf-8; }}
        }}
        location /sitemaps/ {{
            types {{ application/xml xml; text/plain txt; application/gzip gz; application/rss+xml rss;
                     application/atom+xml atom; }}
        }}
        location /gz/ {{
            gzip on;
            gzip_min_length 0;
            gzip_types text/plain;
            default_type text/plain;
        }}
    }}
}}
"""


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """A private nginx on a free loopback port, for the whole session."""
    if not os.path.exists(NGINX):
        pytest.fail(f"nginx is not installed ({NGINX}); scripts/setup.sh test installs it")
    tmp = tmp_path_factory.mktemp("nginx")
    tmp.chmod(0o755)
    www = tmp / "www"
    (www / "gz").mkdir(parents=True)
    (www / "charset" / "declared").mkdir(parents=True)
    (www / "sitemaps").mkdir()
    (www / "small").write_bytes(SMALL_BODY)
    (www / "large").write_bytes(LARGE_BODY)
    (www / "gz" / "text.txt").write_bytes(TEXT_BODY)
    port = _free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, user=user))
    (tmp / "access.log").touch()
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        try:
            _wait_listening(port)
        except RuntimeError:
            proc.kill()
            _, err = proc.communicate(timeout=5)
            pytest.fail(f"nginx did not start: {err.decode(errors='replace')}")
        yield Nginx(port, www, tmp / "access.log")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


# -- TLS -----------------------------------------------------------------------------------------


@dataclass
class TLSServer:
    port: int
    ca_pem: Path
    """The CA that signed the server's certificate (for ``verify=``)."""
    other_ca_pem: Path
    """A CA that did not sign it."""
    requests: list[str]

    def url(self, path: str = "/", host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b"secret over TLS\n"
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve_https(ctx: ssl.SSLContext) -> Iterator[tuple[int, list[str]]]:
    """Run a small HTTPS server with ``ctx`` on 127.0.0.1; yields (port, paths requested)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    seen: list[str] = []
    server.seen = seen  # type: ignore[attr-defined]
    inner_get_request = server.get_request

    def get_request() -> tuple[socket.socket, object]:
        sock, addr = inner_get_request()
        sock.settimeout(5)
        # The handshake happens on the first read, in the handler thread: a client that
        # refuses our certificate cannot stall the accept loop.
        return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    server.get_request = get_request  # type: ignore[method-assign]
    server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    """An HTTPS server on 127.0.0.1 whose certificate (from a trustme CA) names only ``localhost``."""
    import trustme

    tmp = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    other = trustme.CA()
    cert = ca.issue_cert("localhost")
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    other.cert_pem.write_to_path(str(tmp / "other.pem"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    with serve_https(ctx) as (port, seen):
        yield TLSServer(port, tmp / "ca.pem", tmp / "other.pem", seen)


@dataclass
class MutualTLSServer:
    port: int
    ca_pem: Path
    client_pem: Path
    """Client certificate and key (one PEM file), signed by the CA the server trusts."""
    stranger_pem: Path
    """A client certificate from a CA the server does not trust."""

    def url(self, path: str = "/") -> str:
        return f"https://localhost:{self.port}{path}"


@pytest.fixture(scope="module")
def mtls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MutualTLSServer]:
    """An HTTPS server that requires a client certificate from its own CA."""
    import trustme

    tmp = tmp_path_factory.mktemp("mtls")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    ca.issue_cert("client.test").private_key_and_cert_chain_pem.write_to_path(str(tmp / "client.pem"))
    trustme.CA().issue_cert("client.test").private_key_and_cert_chain_pem.write_to_path(
        str(tmp / "stranger.pem")
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    ca.configure_trust(ctx)
    ctx.verify_mode = ssl.CERT_REQUIRED
    with serve_https(ctx) as (port, _seen):
        yield MutualTLSServer(port, tmp / "ca.pem", tmp / "client.pem", tmp / "stranger.pem")


# -- fault server and client ------------------------------------------------------------------------


@pytest.fixture
def fault_server() -> Iterator[Callable[[ScriptSource], FaultServer]]:
    """Start ``FaultServer(script)``; every server started is stopped at teardown."""
    started: list[FaultServer] = []

    def start(scripts: ScriptSource) -> FaultServer:
        srv = FaultServer(scripts)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
    for srv in started:
        assert not srv.errors, f"the fault server's script failed: {srv.errors!r}"


@pytest.fixture
def client() -> Iterator[netwire.Client]:
    """A Client with timeouts short enough that a hang fails fast."""
    with netwire.Client(timeout=netwire.Timeout(5.0)) as c:
        yield c
