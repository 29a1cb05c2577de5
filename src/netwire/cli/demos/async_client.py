"""Demo part: AsyncClient fetching concurrently over a bounded pool, and fetch_all."""

from __future__ import annotations

import asyncio
import time
from typing import TextIO


def run(out: TextIO) -> None:
    import netwire

    from ..demo_server import DemoServer

    with DemoServer() as server:
        out.write(f"== AsyncClient: 300 concurrent GETs, at most 10 connections, to {server.url}\n")

        async def main() -> tuple[int, int, float]:
            limits = netwire.Limits(max_connections_per_host=10)
            async with netwire.AsyncClient(limits=limits) as client:
                started = time.perf_counter()
                responses = await asyncio.gather(*(client.get(server.url + "/data.json") for _ in range(300)))
                elapsed = time.perf_counter() - started
                return sum(r.status == 200 for r in responses), client.pool.connections_opened, elapsed

        ok, opened, elapsed = asyncio.run(main())
        out.write(
            f"   {ok} of 300 answered 200 in {elapsed * 1000:.0f} ms over {opened} connections "
            f"(server accepted {server.connections})\n"
        )
        urls = [server.url + path for path in ("/", "/data.json", "/missing", "/robots.txt")]
        results = sorted(netwire.fetch_all(urls, concurrency=4), key=lambda o: o.index)
        summary = ", ".join(
            f"{o.url.rsplit('/', 1)[1] or '/'}: {o.response.status if o.response is not None else o.error}"
            for o in results
        )
        out.write(f"   fetch_all (results as they complete, errors as values): {summary}\n")
