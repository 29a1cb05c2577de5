"""A small keep-alive HTTP/1.1 server on loopback for ``netwire demo`` (not a production server).

It answers GET and HEAD for a few fixed paths, counts the connections it accepted, and keeps each
connection open for as many requests as the client sends.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from types import TracebackType

PAGES: dict[str, tuple[int, str, bytes]] = {
    "/": (200, "text/html; charset=utf-8", b"<!doctype html><title>netwire demo</title><p>hello from netwire</p>\n"),
    "/robots.txt": (200, "text/plain", b"User-agent: *\nDisallow: /private/\nAllow: /private/ok\nCrawl-delay: 1\n"),
    "/data.json": (200, "application/json", b'{"library": "netwire", "keep_alive": true}\n'),
    "/redirect": (302, "text/plain", b"see /\n"),
}


class _Handler(socketserver.StreamRequestHandler):
    server: DemoServer

    def handle(self) -> None:
        self.server.count_connection()
        self.connection.settimeout(10)
        while True:
            try:
                line = self.rfile.readline(8192)
            except OSError:
                return
            if not line:
                return
            parts = line.decode("latin-1").split()
            keep_alive = True
            length = 0
            while True:
                h = self.rfile.readline(8192)
                if h in (b"\r\n", b"\n", b""):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                if name.strip().lower() == "connection" and value.strip().lower() == "close":
                    keep_alive = False
                elif name.strip().lower() == "content-length":
                    length = int(value.strip() or 0)
            if length:
                self.rfile.read(length)
            if len(parts) != 3:
                return
            method, target = parts[0], parts[1]
            status, ctype, body = PAGES.get(target, (404, "text/plain", b"not found\n"))
            reason = {200: "OK", 302: "Found", 404: "Not Found"}[status]
            head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            if status == 302:
                head += "Location: /\r\n"
            if not keep_alive:
                head += "Connection: close\r\n"
            out = head.encode() + b"\r\n" + (b"" if method == "HEAD" else body)
            try:
                self.wfile.write(out)
            except OSError:
                return
            if not keep_alive:
                return


class DemoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: ten clients connecting at once would see SYNs
    # dropped and retried a second later.
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name="netwire-demo-server", daemon=True)

    def count_connection(self) -> None:
        with self._lock:
            self.connections += 1

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> DemoServer:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.shutdown()
        self.server_close()


__all__ = ["DemoServer", "socket"]
