"""HTTP cache benchmark: a revisit crawl of 1,000 nginx pages where nothing changed.

Three ways through the same 1,000 URLs (one keep-alive connection, nginx on loopback), each timed
on its second pass (the first one fills the cache; the async client's queued sqlite writes are
waited for before the timing starts), with pages of 5 KB and of 50 KB (about the
median HTML document of the web):

* **fresh**: the pages say ``Cache-Control: max-age=3600`` (nginx ``expires 1h``): with a cache
  the revisit never touches the network;
* **revalidated**: the pages say ``Cache-Control: no-cache``: every revisit is a conditional GET
  answered ``304 Not Modified``, the stored body served;
* without a cache, as the baseline, for both.

With the memory store and the sqlite store, sync ``Client`` and ``AsyncClient``. The figures are
pages per second (best round) and the client's CPU time per page (least round; this process
only, every thread: the sqlite worker thread counts, nginx does not), steadier than the rate on
a loaded machine; the ratios (cache against no cache) are printed at the end. The goal: fresh
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


def crawl_sync(cache: Any, urls: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of the second pass over ``urls`` (the first fills the cache)."""
    import netwire

    with netwire.Client(cache=cache) as client:
        for url in urls:
            client.get(url)
        started, cpu = time.perf_counter(), time.process_time()
        for url in urls:
            r = client.get(url)
            assert r.status == 200 and r.content.startswith(b"<p>")
        return time.perf_counter() - started, time.process_time() - cpu


def crawl_async(cache: Any, urls: list[str]) -> tuple[float, float]:
    from netwire.aio import AsyncClient

    async def go() -> tuple[float, float]:
        async with AsyncClient(cache=cache) as client:
            for url in urls:
                await client.get(url)
            # The first pass's writes to a blocking store (sqlite) are queued on the client's cache
            # thread: let them finish, or the timed pass would pay for the filling one.
            while client._cache_queued:
                await asyncio.sleep(0.001)
            started, cpu = time.perf_counter(), time.process_time()
            for url in urls:
                r = await client.get(url)
                assert r.status == 200 and r.content.startswith(b"<p>")
            return time.perf_counter() - started, time.process_time() - cpu

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
                least = dict.fromkeys(stores, float("inf"))
                for _ in range(rounds):
                    for name, store in stores.items():
                        wall, cpu = crawl(store(), urls)
                        best[name] = min(best[name], wall)
                        least[name] = min(least[name], cpu)
                for name, seconds in best.items():
                    rows.append({"group": group, "name": name, "value": pages / seconds, "unit": "pages/s", "higher": True})
                for name, seconds in least.items():
                    rows.append({"group": group.replace(")", ", CPU µs/page)"), "name": name,
                                 "value": seconds / pages * 1e6, "unit": "µs/page", "higher": False})
    return rows


def ratios(rows: list[Row]) -> list[str]:
    """One line per group: how many times faster each cache is than no cache."""
    lines = []
    for group in dict.fromkeys(r["group"] for r in rows):
        by = {r["name"]: r for r in rows if r["group"] == group}
        base = by["no cache"]["value"]
        gain = {
            name: row["value"] / base if row["higher"] else base / row["value"] for name, row in by.items()
        }
        lines.append(
            f"{group:58} memory {gain['netwire memory cache']:6.1f}x   sqlite {gain['sqlite cache']:6.1f}x"
            "   (against no cache)"
        )
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    result = run(parser.parse_args())
    for row in result:
        print(f"{row['group']:58} {row['name']:22} {row['value']:10.1f} {row['unit']}")
    print()
    print("\n".join(ratios(result)))
