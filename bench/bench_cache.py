"""HTTP cache benchmark: a revisit crawl of 1,000 nginx pages where nothing changed.

Three ways through the same 1,000 URLs (one keep-alive connection, nginx on loopback), each timed
on its second pass (the first one fills the cache), with pages of 5 KB and of 50 KB (about the
median HTML document of the web):

* **fresh**: the pages say ``Cache-Control: max-age=3600`` (nginx ``expires 1h``): with a cache
  the revisit never touches the network;
* **revalidated**: the pages say ``Cache-Control: no-cache``: every revisit is a conditional GET
  answered ``304 Not Modified``, the stored body served;
* without a cache, as the baseline, for both.

With the memory store and the sqlite store, sync ``Client`` and ``AsyncClient``. The figure is
pages per second; the ratios (cache against no cache) are printed at the end. The goal: fresh
hits at least 10 times faster than the network. On loopback the network is as fast as it ever
gets (a 5 KB GET to nginx takes netwire about 60 us), so the 5 KB figure is the hard case.

    python bench/bench_cache.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))

from tests.servers.nginx import Site, nginx_server

Row = dict[str, Any]
PAGES = 1000
PARAGRAPH = b"<p>paragraph %d of a page that does not change</p>\n"
SIZES_KB = (5, 50)


def page(kb: int) -> bytes:
    """About ``kb`` KB of HTML."""
    return b"".join(PARAGRAPH % i for i in range(kb * 20))


def site(pages: int) -> Site:
    files: dict[str, bytes] = {}
    for kb in SIZES_KB:
        files.update({f"fresh/{kb}/{i}.html": page(kb) for i in range(pages)})
        files.update({f"validate/{kb}/{i}.html": page(kb) for i in range(pages)})
    return Site(
        keepalive_timeout=300,
        http="types { text/html html; }",
        files=files,
        locations="""
        location /fresh/ { expires 1h; }
        location /validate/ { add_header Cache-Control "no-cache"; }
""",
    )


def crawl_sync(cache: Any, urls: list[str]) -> float:
    """Seconds for the second pass over ``urls`` (the first fills the cache)."""
    import netwire

    with netwire.Client(cache=cache) as client:
        for url in urls:
            client.get(url)
        started = time.perf_counter()
        for url in urls:
            r = client.get(url)
            assert r.status == 200 and r.content.startswith(b"<p>")
        return time.perf_counter() - started


def crawl_async(cache: Any, urls: list[str]) -> float:
    from netwire.aio import AsyncClient

    async def go() -> float:
        async with AsyncClient(cache=cache) as client:
            for url in urls:
                await client.get(url)
            started = time.perf_counter()
            for url in urls:
                r = await client.get(url)
                assert r.status == 200 and r.content.startswith(b"<p>")
            return time.perf_counter() - started

    return asyncio.run(go())


def run(args: argparse.Namespace | None = None) -> list[Row]:
    quick = bool(getattr(args, "quick", False))
    pages = 200 if quick else PAGES
    rounds = 2 if quick else 3
    rows: list[Row] = []
    with nginx_server(site(pages), install=True) as server, tempfile.TemporaryDirectory() as tmp:
        for kind, crawl in (("sync", crawl_sync), ("async", crawl_async)):
            for case, kb in [(case, kb) for kb in SIZES_KB for case in ("fresh", "validate")]:
                urls = [server.url(f"/{case}/{kb}/{i}.html") for i in range(pages)]
                group = f"revisit {pages} x {kb} KB, {'fresh' if case == 'fresh' else '304s'} ({kind})"
                stores: dict[str, Any] = {
                    "netwire memory cache": lambda: True,
                    "sqlite cache": lambda prefix=f"{kind}-{case}-{kb}": os.path.join(
                        tmp, f"{prefix}-{time.monotonic_ns()}.sqlite"
                    ),
                    "no cache": lambda: None,
                }
                # The ways take turns in each round (best of the rounds): a shared machine whose
                # speed drifts then affects them alike.
                best = dict.fromkeys(stores, float("inf"))
                for _ in range(rounds):
                    for name, store in stores.items():
                        best[name] = min(best[name], crawl(store(), urls))
                for name, seconds in best.items():
                    rows.append({"group": group, "name": name, "value": pages / seconds, "unit": "pages/s", "higher": True})
    return rows


def ratios(rows: list[Row]) -> list[str]:
    """One line per group: how many times faster each cache is than no cache."""
    lines = []
    for group in dict.fromkeys(r["group"] for r in rows):
        by = {r["name"]: r["value"] for r in rows if r["group"] == group}
        base = by["no cache"]
        lines.append(
            f"{group:44} memory {by['netwire memory cache'] / base:6.1f}x   sqlite {by['sqlite cache'] / base:6.1f}x"
            "   (against no cache)"
        )
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    result = run(parser.parse_args())
    for row in result:
        print(f"{row['group']:40} {row['name']:22} {row['value']:10.0f} {row['unit']}")
    print()
    print("\n".join(ratios(result)))
