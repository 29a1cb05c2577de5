"""Fixtures for the HTTP cache tests: an nginx whose locations answer with the caching headers
each test needs (``CACHE_SITE``), and a way to count the requests that reached it.

* ``cache_nginx``: the server (session-wide); its access log counts what reached nginx.
* ``hits``: ``hits(path)`` returns a function giving how many requests for ``path`` nginx logged
  since ``hits`` was called, and their statuses.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import pytest

from tests.servers.nginx import Nginx, Site, nginx_server

BIG = bytes(range(256)) * 1024  # 256 KiB
PAGE = b"<p>a page that does not change</p>\n" * 20

CACHE_SITE = Site(
    access_log=True,
    master_process=True,
    files={
        "fresh/a.txt": b"fresh a\n",
        "fresh/b.txt": b"fresh b\n",
        "fresh/big.bin": BIG,
        "etag/a.txt": b"etag a\n",
        "lm/a.txt": b"last-modified a\n",
        "must/a.txt": b"must revalidate a\n",
        "nostore/a.txt": b"no-store a\n",
        "heuristic/old.txt": b"old file\n",
        "heuristic/new.txt": b"new file\n",
        "vary/a.txt": b"vary a\n",
        "varystar/a.txt": b"vary star a\n",
        "immutable/a.txt": b"immutable a\n",
        "private/a.txt": b"private a\n",
        "public/a.txt": b"public a\n",
        "inv/a.txt": b"invalidate me\n",
        "cookie/a.txt": b"cookie a\n",
        "gz/text.txt": b"compressible line of text\n" * 400,
        "swr/a.txt": b"stale while revalidate a\n",
        "swr/must.txt": b"stale but must revalidate\n",
        "head/same.txt": b"head same\n",
        "head/changed.txt": b"head changed\n",
        **{f"pages/{i}.html": PAGE for i in range(1000)},
    },
    http="types { text/plain txt; text/html html; application/octet-stream bin; }",
    locations=r"""
        location /fresh/ { expires 1h; }
        location /pages/ { expires 1h; }
        location /etag/ { add_header Cache-Control "no-cache"; }
        location /lm/ { etag off; add_header Cache-Control "max-age=0"; }
        location /must/ { add_header Cache-Control "max-age=1, must-revalidate"; }
        location /nostore/ { add_header Cache-Control "no-store"; }
        location /heuristic/ { }
        location /vary/ { expires 1h; add_header Vary "Accept-Language"; }
        location /varystar/ { expires 1h; add_header Vary "*"; }
        location /immutable/ { add_header Cache-Control "max-age=3600, immutable"; }
        location /private/ { add_header Cache-Control "private, max-age=3600"; }
        location /public/ { add_header Cache-Control "public, max-age=3600"; }
        # POST to a static file is a 405 in nginx; answer it with the file (200) to have an unsafe
        # method that succeeds on the same URL.
        location /inv/ { expires 1h; error_page 405 =200 $uri; }
        location /cookie/ { expires 1h; add_header Set-Cookie "visit=1; Path=/"; }
        location = /moved { expires 1h; return 301 /fresh/a.txt; }
        location /gz/ { expires 1h; gzip on; gzip_min_length 0; gzip_types text/plain; }
        location /swr/ { add_header Cache-Control "max-age=30, stale-while-revalidate=60"; }
        location = /swr/must.txt { add_header Cache-Control "max-age=30, must-revalidate, stale-while-revalidate=60"; }
        # Fresh for an hour, a header that changes with every response, and validators that are
        # never answered 304 (a revalidating HEAD gets a 200 describing the file as it is now).
        location /head/ { expires 1h; add_header X-Served $request_id; if_modified_since off; }
""",
)


@pytest.fixture(scope="session")
def cache_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    with nginx_server(CACHE_SITE, tmp_path_factory.mktemp("cache-nginx")) as server:
        now = time.time()
        # Last-Modified 100 days ago: heuristic lifetime 10 days, capped to one; 10 s ago: 1 s.
        os.utime(server.root / "heuristic/old.txt", (now - 100 * 86400, now - 100 * 86400))
        os.utime(server.root / "heuristic/new.txt", (now - 10, now - 10))
        yield server


@pytest.fixture
def hits(cache_nginx: Nginx) -> Callable[[str], Callable[[], list[str]]]:
    """``seen = hits("/fresh/a.txt")``; later ``seen()``: the statuses nginx logged for that path since."""

    def start(path: str) -> Callable[[], list[str]]:
        time.sleep(0.05)  # the log line of a request just answered may still be on its way
        offset = cache_nginx.log_size()

        def seen() -> list[str]:
            time.sleep(0.05)  # nginx writes its log line just after the response
            return [line[4] for line in cache_nginx.log_since(offset) if line[3] == path]

        return seen

    return start
