"""urllib face benchmark: ``netwire.request.urlopen(url).read()`` against ``urllib.request.urlopen``.

The same loop, the same nginx on loopback, one run: sequential GETs of a 128-byte file, and
of the same file through a redirect chain of 3 (``HTTPRedirectHandler`` at work). urllib opens
a new connection for every call; netwire.request reuses the shared Client's pooled one.
Target: netwire.request at >= 2x urllib's requests per second.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from servers import nginx

Row = dict[str, Any]


def _rate(fn: Callable[[], Any], n: int, warmup: int = 50) -> float:
    """Best requests per second of three runs of ``n`` calls."""
    for _ in range(warmup):
        fn()
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = max(best, n / (time.perf_counter() - t))
    return best


def run(args: argparse.Namespace) -> list[Row]:
    import netwire.request

    rows: list[Row] = []
    n = 500 if args.quick else 3000
    with nginx(big_size=1 << 20) as base:
        for group, path in (("urlopen GET 128 B (req/s)", "/small.bin"), ("urlopen 3 redirects (req/s)", "/redirect/1")):
            url = base + path
            expected = urllib.request.urlopen(url).read()
            clients: dict[str, Callable[[], bytes]] = {
                "netwire.request.urlopen": lambda url=url: netwire.request.urlopen(url).read(),
                "urllib.request.urlopen": lambda url=url: urllib.request.urlopen(url).read(),
            }
            for name, fn in clients.items():
                if fn() != expected:
                    raise RuntimeError(f"{name} read a different body from {url}")
                print(f"   {group}: {name}", file=sys.stderr, flush=True)
                rows.append({"group": group, "name": name, "value": _rate(fn, n), "unit": "req/s", "higher": True})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    for row in run(parser.parse_args()):
        print(f"{row['group']:32} {row['name']:26} {row['value']:10.0f} {row['unit']}")
