"""``netwire demo`` part: robots.txt checks (RFC 9309) against a server it starts on loopback."""

from __future__ import annotations

import socketserver
import threading
from typing import TextIO

ROBOTS_TXT = b"""\
# a shop's robots.txt
User-agent: *
Disallow: /private/
Allow: /private/press/
Disallow: /*?sessionid=
Disallow: /*.pdf$
Crawl-delay: 2

User-agent: HungryBot
Disallow: /

Sitemap: /sitemap.xml
"""

CHECKS = (
    ("MyCrawler/1.0", "/"),
    ("MyCrawler/1.0", "/private/orders"),
    ("MyCrawler/1.0", "/private/press/launch.html"),
    ("MyCrawler/1.0", "/shop/item?sessionid=42"),
    ("MyCrawler/1.0", "/docs/manual.pdf"),
    ("MyCrawler/1.0", "/docs/manual.pdf?download=1"),
    ("MyCrawler/1.0", "/robots.txt"),
    ("HungryBot/3.2", "/"),
)


class _Handler(socketserver.StreamRequestHandler):
    """Answers one request per connection: the robots.txt above, or 404."""

    def handle(self) -> None:
        self.connection.settimeout(5)
        try:
            request = self.rfile.readline(8192).split()
            while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                pass
        except OSError:
            return
        found = len(request) == 3 and request[1] == b"/robots.txt"
        body = ROBOTS_TXT if found else b"not found\n"
        status = b"200 OK" if found else b"404 Not Found"
        head = b"HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        try:
            self.wfile.write(head % (status, len(body)) + body)
        except OSError:
            pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True


def run(out: TextIO) -> None:
    """Fetch the local robots.txt with RobotFileParser and show what it allows, and why."""
    from ...robotparser import RobotFileParser

    with _Server(("127.0.0.1", 0), _Handler) as server:
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            origin = f"http://127.0.0.1:{server.server_address[1]}"
            print(f"== robots.txt (RFC 9309): local server at {origin}", file=out)
            parser = RobotFileParser(origin + "/robots.txt", timeout=5.0)
            parser.read()
            fetched = parser.fetched
            assert fetched is not None
            print(f"   GET /robots.txt -> {fetched.describe()}, {len(fetched.body)} bytes", file=out)
            for agent, path in CHECKS:
                decision = parser.decide(agent, origin + path)
                verdict = "allowed   " if decision.allowed else "DISALLOWED"
                why = f"by {decision.rule!r} (line {decision.line})" if decision.rule else decision.reason
                print(f"   {agent:14} {path:30} {verdict} {why}", file=out)
            print(
                f"   crawl-delay for MyCrawler: {parser.crawl_delay('MyCrawler')} s; sitemaps: {parser.site_maps()}",
                file=out,
            )
            missing = RobotFileParser(origin + "/nothing-here/robots.txt", timeout=5.0)
            missing.read()
            print(f"   a robots.txt that answers 404 -> {missing.decide('MyCrawler', origin + '/x').reason}", file=out)
        finally:
            server.shutdown()
