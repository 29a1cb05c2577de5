"""A small robots.txt server on loopback for the fetching tests (see conftest.robots_server).

``robots_server.route(path, status, body, headers)`` sets what a path answers; ``hits`` counts
requests per path. Bodies may be bytes, or an int N for N bytes of generated rules (sent with a
Content-Length, in chunks), or ``ENDLESS`` for a close-delimited body that never ends.
"""

from __future__ import annotations

import collections
import http.server
import threading
from dataclasses import dataclass, field

ENDLESS = -1
FILLER_LINE = b"Disallow: /filler/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"


@dataclass
class Route:
    status: int
    body: bytes | int
    headers: dict[str, str] = field(default_factory=dict)


class RobotsServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: collections.Counter[str] = collections.Counter()
        self.sent: dict[str, int] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path
                with server.lock:
                    server.hits[path] += 1
                    route = server.routes.get(path)
                if route is None:
                    route = Route(404, b"not found\n")
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                body = route.body
                sent = 0
                try:
                    if body == ENDLESS:
                        self.send_header("Content-Type", "text/plain")
                        self.send_header("Connection", "close")
                        self.end_headers()
                        self.close_connection = True
                        chunk = b"User-agent: *\n" + FILLER_LINE * 800
                        while True:
                            self.wfile.write(chunk)
                            sent += len(chunk)
                    elif isinstance(body, int):
                        self.send_header("Content-Type", "text/plain")
                        self.send_header("Content-Length", str(body))
                        self.end_headers()
                        self.wfile.write(b"User-agent: *\n")
                        sent = 14
                        block = FILLER_LINE * 800
                        while sent < body:
                            piece = block[: body - sent]
                            self.wfile.write(piece)
                            sent += len(piece)
                    else:
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        sent = len(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                finally:
                    with server.lock:
                        server.sent[path] = sent

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def route(self, path: str, status: int = 200, body: bytes | int = b"", headers: dict[str, str] | None = None) -> str:
        with self.lock:
            self.routes[path] = Route(status, body, dict(headers or {}))
        return self.origin + path

    def redirect(self, path: str, to: str, status: int = 301) -> str:
        return self.route(path, status, b"", {"Location": to})


