"""Client(respect_robots=True) against a real server on loopback that records what it was asked."""

from __future__ import annotations

import itertools
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

import netwire
from netwire.errors import RobotsDisallowed

ROBOTS = b"User-agent: *\nDisallow: /private/\nAllow: /private/ok\n\nUser-agent: slowbot\nCrawl-delay: 0.3\nDisallow:\n"


class _Handler(socketserver.StreamRequestHandler):
    server: RecordingServer

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(8192)
            if not line:
                return
            while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                pass
            target = line.split()[1].decode()
            self.server.log.append((time.monotonic(), target))
            status, body, *extra = self.server.pages.get(target, (200, b"page " + target.encode()))
            fields = "".join(f"{k}: {v}\r\n" for k, v in (extra[0] if extra else {}).items())
            head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{fields}\r\n".encode()
            self.wfile.write(head + body)


class RecordingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, pages: dict[str, tuple]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages = pages
        self.log: list[tuple[float, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def targets(self) -> list[str]:
        return [t for _, t in self.log]


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[RecordingServer] = []

    def start(pages: dict[str, tuple]) -> RecordingServer:
        srv = RecordingServer(pages)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_disallowed_url_is_refused_before_anything_is_sent(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve({"/robots.txt": (200, ROBOTS)})
    with netwire.Client(respect_robots=True, user_agent="testbot/1.0") as client:
        assert client.get(srv.url + "/public").status == 200
        with pytest.raises(RobotsDisallowed) as info:
            client.get(srv.url + "/private/secret")
        assert "Disallow: /private/" in str(info.value)
        assert info.value.decision.line == 2
        assert client.get(srv.url + "/private/ok").status == 200
    # robots.txt fetched once, and the refused URL never reached the server.
    assert srv.targets() == ["/robots.txt", "/public", "/private/ok"]


def test_redirect_into_a_disallowed_path_is_refused(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve({"/robots.txt": (200, ROBOTS), "/jump": (302, b"", {"Location": "/private/x"})})
    with netwire.Client(respect_robots=True) as client, pytest.raises(RobotsDisallowed):
        client.get(srv.url + "/jump")
    assert srv.targets() == ["/robots.txt", "/jump"]


def test_unreachable_robots_means_disallow_all_and_404_means_allow_all(serve) -> None:  # type: ignore[no-untyped-def]
    down = serve({"/robots.txt": (503, b"busy")})
    missing = serve({"/robots.txt": (404, b"")})
    with netwire.Client(respect_robots=True) as client:
        with pytest.raises(RobotsDisallowed):
            client.get(down.url + "/anything")
        assert client.get(missing.url + "/anything").status == 200
    assert down.targets() == ["/robots.txt"]
    assert missing.targets() == ["/robots.txt", "/anything"]


def test_crawl_delay_spaces_requests_to_one_origin(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve({"/robots.txt": (200, ROBOTS)})
    with netwire.Client(respect_robots=True, user_agent="slowbot") as client:
        for i in range(3):
            client.get(srv.url + f"/p{i}")
    times = [t for t, target in srv.log if target != "/robots.txt"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 2
    assert all(g >= 0.28 for g in gaps), gaps


def test_without_respect_robots_nothing_is_fetched(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve({"/robots.txt": (200, ROBOTS)})
    with netwire.Client() as client:
        assert client.get(srv.url + "/private/secret").status == 200
    assert srv.targets() == ["/private/secret"]


@pytest.mark.timeout(20)
def test_robots_txt_redirecting_within_its_origin_does_not_deadlock(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve({"/robots.txt": (301, b"", {"Location": "/robots-v2.txt"}), "/robots-v2.txt": (200, ROBOTS)})
    with netwire.Client(respect_robots=True, timeout=5) as client:
        with pytest.raises(RobotsDisallowed):
            client.get(srv.url + "/private/x")
        assert client.get(srv.url + "/open").status == 200
    assert srv.targets() == ["/robots.txt", "/robots-v2.txt", "/open"]
