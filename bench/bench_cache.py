"""HTTP cache benchmark: a revisit crawl of 1,000 nginx pages where nothing changed.

A crawler visits 1,000 pages (one keep-alive connection to nginx on loopback), then visits them
again; the second visit is timed. Three sets of pages: 5 KB each, 50 KB each (about the median
HTML document of the web), and a mixed set of 20 to 100 KB (sizes spread evenly on a log scale,
about 50 KB on average, as real HTML pages are). "Nothing changed" means, per row:

* **fresh**: the pages say ``Cache-Control: max-age=3600`` (nginx ``expires 1h``) and the revisit
  comes well within the hour: with a cache it never touches the network (a *hit*);
* **304s**: the pages say ``Cache-Control: no-cache`` (stored, but never used unvalidated): every
  revisit is a conditional GET (``If-None-Match`` with nginx's ETag, ``If-Modified-Since``)
  that nginx answers ``304 Not Modified``, and the stored body is served. A round trip, so it
  cannot beat a GET of a small page by much: the goal is to cost no more than one;
* **no cache**: the same revisit by a client without a cache (a full 200 each time), the baseline
  of both.

Stores: ``netwire memory cache`` (``cache=True``) and ``sqlite cache`` (``cache="file.sqlite"``,
revisited by the client that filled it: the rows it wrote are in its memo, checked against the
file's generation counter on each lookup). ``sqlite, reopened`` is the revisit by a new client
on the file another filled (a crawler's next run): each row is read from the file once.

Each way runs with the sync ``Client`` and the ``AsyncClient`` (its first visit's sqlite writes,
queued on its cache thread, are waited for before the timing starts). The ways take turns in
each round (the order rotating), for several rounds, so a busy moment of a shared machine hits
them alike; the figures are the best round's: pages per second, and the client's CPU time per
page (this process, every thread: the sqlite worker thread counts, nginx does not), steadier
than the rate on a loaded machine. The ratios printed at the end are each round's (cache against
no cache in the same round), their median. The goal (issue 18): fresh hits at least 10 times
faster than no cache, 304s at least as fast (1.0x). On loopback the network is as fast as it ever
gets (a 5 KB GET to nginx costs netwire about 60 us of CPU), so the 5 KB set is the hard case.

    python bench/bench_cache.py [--quick] [--rounds N] [--sets 5,50,mixed] [--drivers sync,async]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))

from tests.servers.nginx import Site, nginx_server

Row = dict[str, Any]
PAGES = 1000
PARAGRAPH = b"<p>paragraph %d of a page that does not change</p>\n"
SETS = ("5", "50", "mixed")
SET_NAMES = {"5": "5 KB", "50": "50 KB", "mixed": "20-100 KB"}
WAYS = ("netwire memory cache", "sqlite cache", "sqlite, reopened", "no cache")


def page(size: int) -> bytes:
    """About ``size`` bytes of HTML."""
    text = b"".join(PARAGRAPH % i for i in range(size // len(PARAGRAPH) + 1))
    return text[:size]


def sizes(name: str, pages: int) -> list[int]:
    """The page sizes of a set: all alike, or spread evenly on a log scale from 20 to 100 KB."""
    if name != "mixed":
        return [int(name) * 1024] * pages
    rng = random.Random(18)  # the same pages every run
    return [int(1024 * math.exp(rng.uniform(math.log(20), math.log(100)))) for _ in range(pages)]


def site(pages: int, sets: tuple[str, ...]) -> Site:
    # One copy of the pages, served under two paths that differ only in their Cache-Control.
    files = {f"pages/{name}/{i}.html": page(size) for name in sets for i, size in enumerate(sizes(name, pages))}
    return Site(
        keepalive_timeout=300,
        http="types { text/html html; }",
        files=files,
        locations="""
        location /fresh/ { alias {www}/pages/; expires 1h; }
        location /validate/ { alias {www}/pages/; add_header Cache-Control "no-cache"; }
""",
    )


def check(r: Any) -> None:
    assert r.status == 200 and r.content.startswith(b"<p>"), r


def crawl_sync(cache: Any, urls: list[str], fill: Any) -> tuple[float, float]:
    """Wall and CPU seconds of the revisit of ``urls``; ``fill``: the cache to fill first with a
    client of its own (the reopened sqlite file), or None to fill with this client."""
    import netwire

    if fill is not None:
        with netwire.Client(cache=fill) as client:
            for url in urls:
                client.get(url)
    with netwire.Client(cache=cache) as client:
        if fill is None:
            for url in urls:
                client.get(url)
        else:
            client.get(urls[0])  # the connection (and the sqlite file) opened, as in the other ways
        started, cpu = time.perf_counter(), time.process_time()
        for url in urls:
            check(client.get(url))
        return time.perf_counter() - started, time.process_time() - cpu


def crawl_async(cache: Any, urls: list[str], fill: Any) -> tuple[float, float]:
    from netwire.aio import AsyncClient

    async def visit(client: AsyncClient) -> None:
        for url in urls:
            await client.get(url)
        # The writes to a blocking store (sqlite) are queued on the client's cache thread: let
        # them finish, or the timed pass would pay for the filling one.
        while client._cache_queued:
            await asyncio.sleep(0.001)

    async def go() -> tuple[float, float]:
        if fill is not None:
            async with AsyncClient(cache=fill) as filler:
                await visit(filler)
        async with AsyncClient(cache=cache) as client:
            if fill is None:
                await visit(client)
            else:
                await client.get(urls[0])
            started, cpu = time.perf_counter(), time.process_time()
            for url in urls:
                check(await client.get(url))
            return time.perf_counter() - started, time.process_time() - cpu

    return asyncio.run(go())


def run(args: argparse.Namespace | None = None) -> list[Row]:
    quick = bool(getattr(args, "quick", False))
    pages = 200 if quick else PAGES
    rounds = getattr(args, "rounds", None) or (2 if quick else 5)
    sets = tuple(getattr(args, "sets", None) or SETS)
    drivers = tuple(getattr(args, "drivers", None) or ("sync", "async"))
    crawls: dict[str, Callable[[Any, list[str], Any], tuple[float, float]]] = {"sync": crawl_sync, "async": crawl_async}
    rows: list[Row] = []
    with nginx_server(site(pages, sets), install=True) as server, tempfile.TemporaryDirectory() as tmp:

        def sqlite_file() -> str:
            return os.path.join(tmp, f"{time.monotonic_ns()}.sqlite")

        for kind in drivers:
            crawl = crawls[kind]
            for name in sets:
                for case in ("fresh", "validate"):
                    urls = [server.url(f"/{case}/{name}/{i}.html") for i in range(pages)]
                    group = f"revisit {pages} x {SET_NAMES[name]}, {'fresh' if case == 'fresh' else '304s'} ({kind})"

                    def way(w: str) -> tuple[Any, Any]:
                        """(the revisiting client's cache, the cache a first client fills, or None)"""
                        if w == "netwire memory cache":
                            return True, None
                        if w == "sqlite cache":
                            return sqlite_file(), None
                        if w == "sqlite, reopened":
                            path = sqlite_file()
                            return path, path
                        return None, None

                    walls: dict[str, list[float]] = {w: [] for w in WAYS}
                    cpus: dict[str, list[float]] = {w: [] for w in WAYS}
                    for r in range(rounds):
                        for w in WAYS[r % len(WAYS) :] + WAYS[: r % len(WAYS)]:  # each way first in turn
                            cache, fill = way(w)
                            wall, cpu = crawl(cache, urls, fill)
                            walls[w].append(wall)
                            cpus[w].append(cpu)
                    for w in WAYS:
                        rows.append({
                            "group": group, "name": w, "value": pages / min(walls[w]), "unit": "pages/s", "higher": True,
                            "ratio": statistics.median(b / a for a, b in zip(walls[w], walls["no cache"], strict=True)),
                        })
                    for w in WAYS:
                        rows.append({
                            "group": group.replace(")", ", CPU µs/page)"), "name": w,
                            "value": min(cpus[w]) / pages * 1e6, "unit": "µs/page", "higher": False,
                            "ratio": statistics.median(b / a for a, b in zip(cpus[w], cpus["no cache"], strict=True)),
                        })
    return rows


def ratios(rows: list[Row]) -> list[str]:
    """One line per group: how many times faster each cache is than no cache (the median of the rounds')."""
    lines = []
    for group in dict.fromkeys(r["group"] for r in rows):
        by = {r["name"]: r for r in rows if r["group"] == group}
        lines.append(
            f"{group:58} memory {by['netwire memory cache']['ratio']:6.1f}x   sqlite {by['sqlite cache']['ratio']:6.1f}x"
            f"   reopened {by['sqlite, reopened']['ratio']:5.1f}x   (against no cache)"
        )
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 pages, 2 rounds")
    parser.add_argument("--rounds", type=int, help="rounds (5; 2 with --quick)")
    parser.add_argument("--sets", type=lambda s: s.split(","), help="page sets: 5,50,mixed")
    parser.add_argument("--drivers", type=lambda s: s.split(","), help="sync,async")
    result = run(parser.parse_args())
    for row in result:
        print(f"{row['group']:58} {row['name']:22} {row['value']:10.1f} {row['unit']}")
    print()
    print("\n".join(ratios(result)))
