"""A synthetic web on loopback for the bulk-fetch tests: one nginx answering as several hosts.

Each host is its own loopback address (``127.0.0.10``, ``127.0.0.11``...; all of 127/8 reaches
the loopback interface) on one port, with its own document root (``root www/$server_addr``): its
own robots.txt (``Disallow: /private``), pages of mixed sizes, a redirect, 404s, a rate-limited
path (static files: limit_req runs after ``return``) that answers 429 with ``Retry-After: 1`` (nginx's limit_req), a path that always answers 503
with ``Retry-After: 0``, a chunked response (sub_filter drops the length), and a large body.
``DEAD`` is an address where nothing listens.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HOSTS = [f"127.0.0.{i}" for i in range(10, 16)]
DEAD = "127.0.0.99"
PAGES = 8  # /p/0.html .. /p/7.html on every host
BIG = 300 * 1024

CONF = """
daemon off;
master_process on;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;
    types {{ text/html html; text/plain txt; }}
    keepalive_requests 100000;
    limit_req_zone $server_addr zone=perhost:1m rate=1r/s;
    server {{
{listens}
        root {tmp}/www/$server_addr;
        location = /redirect {{ return 301 /p/0.html; }}
        location = /redirect-loop {{ return 302 /redirect-loop; }}
        location = /busy {{ add_header Retry-After 0 always; return 503; }}
        location /limited/ {{
            limit_req zone=perhost;
            limit_req_status 429;
            add_header Retry-After 1 always;
            default_type text/plain;
        }}
        location /chunked/ {{ sub_filter 'a' 'b'; sub_filter_once off; sub_filter_types *; }}
    }}
}}
"""


def page_body(host: str, i: int) -> bytes:
    """Page ``i`` of ``host``: sizes from about 100 bytes to 40 KB, distinct per host."""
    line = f"<p>{host} page {i}</p>\n".encode()
    return line * (1 + (i * 37 % 7) ** 3 * 2)


@dataclass
class Web:
    port: int
    root: Path
    access_log: Path

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def requests(self) -> list[str]:
        return self.access_log.read_text().splitlines()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    if not os.path.exists(NGINX):
        pytest.fail(f"nginx is not installed ({NGINX}); scripts/setup.sh test installs it")
    tmp = tmp_path_factory.mktemp("web")
    tmp.chmod(0o755)
    for host in HOSTS:
        www = tmp / "www" / host
        (www / "p").mkdir(parents=True)
        (www / "private").mkdir()
        (www / "limited").mkdir()
        for i in range(4):
            (www / "limited" / str(i)).write_text("limited ok\n")
        (www / "chunked").mkdir()
        (www / "robots.txt").write_text("User-agent: *\nDisallow: /private\n")
        for i in range(PAGES):
            (www / "p" / f"{i}.html").write_bytes(page_body(host, i))
        (www / "private" / "secret.html").write_text("not for robots\n")
        (www / "chunked" / "a.txt").write_text("banana " * 500)
        (www / "big.bin").write_bytes(bytes(range(256)) * (BIG // 256))
    port = _free_port()
    listens = "\n".join(f"        listen {host}:{port};" for host in HOSTS)
    user = "user root;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(CONF.format(tmp=tmp, listens=listens, user=user))
    (tmp / "access.log").touch()
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((HOSTS[-1], port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > end or proc.poll() is not None:
                    proc.kill()
                    _, err = proc.communicate(timeout=5)
                    pytest.fail(f"nginx did not start: {err.decode(errors='replace')}")
                time.sleep(0.02)
        yield Web(port, tmp / "www", tmp / "access.log")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


# -- a slow host that counts how many requests it serves at once ---------------------------------------


class CountingServer:
    """An HTTP/1.1 server on ``address`` (threaded: one thread per connection) that answers every
    GET after ``delay`` seconds and records, per request, when it started and how many requests
    were being served at that moment. robots.txt is ``robots``, or a 404 (everything allowed)."""

    def __init__(self, address: str, delay: float, robots: bytes | None = None) -> None:
        import http.server
        import threading

        self.delay = delay
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0
        self.starts: list[tuple[float, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == "/robots.txt":
                    self.send_response(404 if robots is None else 200)
                    self.send_header("Content-Length", str(len(robots or b"")))
                    self.end_headers()
                    self.wfile.write(robots or b"")
                    return
                with outer.lock:
                    outer.current += 1
                    outer.peak = max(outer.peak, outer.current)
                    outer.starts.append((time.monotonic(), self.path))
                try:
                    time.sleep(outer.delay)
                    body = f"slow {self.path}\n".encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with outer.lock:
                        outer.current -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = address
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
