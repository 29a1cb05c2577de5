"""A synthetic web on loopback for the bulk-fetch tests: one nginx answering as several hosts
(started by the test suite's launcher, :mod:`tests.servers.nginx`).

Each host is its own loopback address (``127.0.0.10``, ``127.0.0.11``...; all of 127/8 reaches
the loopback interface) on one port, with its own document root (``root www/$server_addr``): its
own robots.txt (``Disallow: /private``), pages of mixed sizes, a redirect, 404s, a rate-limited
path (static files: limit_req runs after ``return``) that answers 429 with ``Retry-After: 1`` (nginx's limit_req), a path that always answers 503
with ``Retry-After: 0``, a chunked response (sub_filter drops the length), and a large body.
``DEAD`` is an address where nothing listens.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.nginx import Site, nginx_server

HOSTS = [f"127.0.0.{i}" for i in range(10, 16)]
DEAD = "127.0.0.99"
PAGES = 8  # /p/0.html .. /p/7.html on every host
BIG = 300 * 1024

HTTP = """
    types { text/html html; text/plain txt; }
    limit_req_zone $server_addr zone=perhost:1m rate=1r/s;
    # nginx's combined format, then the connection's serial number (which requests shared one).
    log_format synth '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                     '"$http_referer" "$http_user_agent" $connection';
"""

LOCATIONS = """
        location = /redirect { return 301 /p/0.html; }
        location = /redirect-loop { return 302 /redirect-loop; }
        location = /busy { add_header Retry-After 0 always; return 503; }
        location /limited/ {
            limit_req zone=perhost;
            limit_req_status 429;
            add_header Retry-After 1 always;
            default_type text/plain;
        }
        location /chunked/ { sub_filter 'a' 'b'; sub_filter_once off; sub_filter_types *; }
"""


def page_body(host: str, i: int) -> bytes:
    """Page ``i`` of ``host``: sizes from about 100 bytes to 40 KB, distinct per host."""
    line = f"<p>{host} page {i}</p>\n".encode()
    return line * (1 + (i * 37 % 7) ** 3 * 2)


def host_files(host: str) -> dict[str, bytes]:
    """The files of one host of the synthetic web, by path under the site's root."""
    files = {
        "robots.txt": b"User-agent: *\nDisallow: /private\n",
        "private/secret.html": b"not for robots\n",
        "chunked/a.txt": b"banana " * 500,
        "big.bin": bytes(range(256)) * (BIG // 256),
    }
    files.update({f"limited/{i}": b"limited ok\n" for i in range(4)})
    files.update({f"p/{i}.html": page_body(host, i) for i in range(PAGES)})
    return {f"{host}/{path}": data for path, data in files.items()}


def web_site() -> Site:
    """The synthetic web as a :class:`~tests.servers.nginx.Site`: every host of :data:`HOSTS` on
    one port, each from its own folder, logging requests with their User-Agent and connection."""
    files: dict[str, bytes] = {}
    for host in HOSTS:
        files.update(host_files(host))
    return Site(
        listens=tuple(HOSTS), root_per_address=True, files=files, http=HTTP, locations=LOCATIONS,
        access_log=True, log_format="synth", master_process=True,
    )


@dataclass
class Web:
    port: int
    root: Path
    access_log: Path

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def requests(self) -> list[str]:
        return self.access_log.read_text().splitlines()


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with nginx_server(web_site(), tmp_path_factory.mktemp("web")) as server:
        yield Web(server.port, server.root, server.access_log)


# -- a slow host that counts how many requests it serves at once ---------------------------------------


class CountingServer:
    """An HTTP/1.1 server on ``address`` (threaded: one thread per connection) that answers every
    GET after ``delay`` seconds and records, per request, when it started and how many requests
    were being served at that moment. robots.txt is ``robots``, or a 404 (everything allowed)."""

    def __init__(self, address: str, delay: float, robots: bytes | None = None) -> None:
        import http.server
        import threading

        self.delay = delay
        self.robots_delay = 0.0  # a slow robots.txt holds every first request to the host
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0
        self.starts: list[tuple[float, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == "/robots.txt":
                    time.sleep(outer.robots_delay)
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
