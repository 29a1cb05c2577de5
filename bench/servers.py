"""Real servers on loopback for the benchmarks: nginx serving fixed files.

``with nginx() as base_url:`` starts a private nginx (its own config, pid, logs and temp files
in a temporary directory) on a free port, serving ``small.bin`` (128 bytes) and ``big.bin``
(64 MiB), and stops it on exit. nginx is installed with apt-get when missing.

The launcher is the test suite's (:mod:`tests.servers.nginx`); this module only says what the
benchmark site holds.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
from collections.abc import Iterator

# The repository's root, so that ``tests.servers`` imports (the benchmarks run as scripts).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.servers.nginx import Site, nginx_binary, nginx_server

__all__ = ["nginx", "nginx_binary"]

_LOCATIONS = """
        location / { }
        location /gzip/ { gzip on; gzip_types *; gzip_min_length 0; }
        location /gzip-static/ { gzip_static always; gunzip off; }
        location = /redirect/1 { return 302 /redirect/2; }
        location = /redirect/2 { return 302 /redirect/3; }
        location = /redirect/3 { return 302 /small.bin; }
"""


def bench_site(big_size: int = 64 * 1024 * 1024) -> Site:
    """``small.bin``, ``big.bin`` (``big_size`` bytes), a compressible text under ``/gzip/`` and,
    compressed ahead of time, under ``/gzip-static/``."""
    text = b"".join(b"line %d of a compressible text body\n" % i for i in range(2000))
    return Site(
        http="sendfile on; tcp_nopush on;",
        keepalive_timeout=300,
        files={
            "small.bin": os.urandom(64).hex().encode(),
            "big.bin": os.urandom(1 << 20) * (big_size >> 20),
            "gzip/text.txt": text,
            # The server only sends it: the figures measure the client's decoding rather than
            # nginx compressing on every request.
            "gzip-static/text.txt.gz": gzip.compress(text, 6),
        },
        locations=_LOCATIONS,
    )


@contextlib.contextmanager
def nginx(big_size: int = 64 * 1024 * 1024) -> Iterator[str]:
    with nginx_server(bench_site(big_size), install=True) as server:
        yield server.base_url
