"""Async HTTP under concurrency: 20 connections, 30,000 GETs of a 128-byte file from nginx.

netwire.AsyncClient against aiohttp, httpx.AsyncClient and pycurl's multi interface (C, no event
loop: the ceiling), on asyncio's own loop and on uvloop; beside them the loop's own floor: a bare
``asyncio.Protocol`` sending a fixed request and counting the bytes of the answer (no parsing, no
pool, no policy): what any client on that loop pays at least. Each client runs 20 tasks that loop over
GETs on a pool of 20 connections; the figure is requests per second over the whole run, and the
client process's CPU time per request (less sensitive to a busy machine than wall time).
With ``--instructions`` (valgrind), the user-space instructions per GET too: a round of 20
concurrent GETs, counted by :mod:`instructions` (steady on a loaded machine, where CPU time is not).

httpx is given fewer requests (its rate makes 30,000 take minutes); its rate is comparable.

    python bench/run.py aio            # or: python bench/bench_aio.py
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import instructions

from servers import nginx

Row = dict[str, Any]

CONCURRENCY = 20
REQUESTS = 30_000
HTTPX_REQUESTS = 3_000


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


async def _workers(n: int, one: Callable[[], Awaitable[int]]) -> tuple[float, float]:
    """Run ``n`` calls of ``one`` over CONCURRENCY tasks; returns (req/s, CPU us/req)."""
    per_task, extra = divmod(n, CONCURRENCY)

    async def worker(count: int) -> int:
        got = 0
        for _ in range(count):
            got += await one()
        return got

    # Warm up: open the connections, fill caches.
    await asyncio.gather(*(worker(5) for _ in range(CONCURRENCY)))
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    sizes = await asyncio.gather(*(worker(per_task + (i < extra)) for i in range(CONCURRENCY)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert sum(sizes) == n * 128, f"expected {n * 128} body bytes, got {sum(sizes)}"
    return n / wall, cpu / n * 1e6


async def _netwire(url: str, n: int) -> tuple[float, float]:
    import netwire
    from netwire.http.aio import AsyncClient

    limits = netwire.Limits(max_connections=CONCURRENCY, max_connections_per_host=CONCURRENCY)
    async with AsyncClient(limits=limits) as client:

        async def one() -> int:
            r = await client.get(url)
            return len(r.content)

        return await _workers(n, one)


async def _aiohttp(url: str, n: int) -> tuple[float, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=CONCURRENCY, limit_per_host=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> int:
            async with session.get(url) as r:
                return len(await r.read())

        return await _workers(n, one)


async def _httpx(url: str, n: int) -> tuple[float, float]:
    import httpx

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one() -> int:
            r = await client.get(url)
            return len(r.content)

        return await _workers(n, one)


class _Bare(asyncio.Protocol):
    """The floor: one fixed GET at a time, the answer's end found by its length (a 128-byte
    body after a head), no parsing."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.buf = bytearray()
        self.transport: Any = None
        self.fut: asyncio.Future[int] | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end >= 0 and len(buf) >= end + 4 + 128 and self.fut is not None:
            self.fut.set_result(len(buf) - end - 4)

    def get(self) -> asyncio.Future[int]:
        self.buf = bytearray()
        self.fut = fut = asyncio.get_running_loop().create_future()
        self.transport.write(self.request)
        return fut


async def bare_get(url: str) -> tuple[Callable[[], Awaitable[int]], list[_Bare]]:
    """``one()`` GETs ``url`` on one of CONCURRENCY bare connections; and the connections."""
    host, _, port = url.split("/")[2].partition(":")
    request = f"GET /{url.split('/', 3)[3]} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n".encode()
    loop = asyncio.get_running_loop()
    conns = [(await loop.create_connection(lambda: _Bare(request), host, int(port)))[1] for _ in range(CONCURRENCY)]
    idle = list(conns)

    async def one() -> int:
        conn = idle.pop()
        try:
            return await conn.get()
        finally:
            idle.append(conn)

    return one, conns


async def _floor(url: str, n: int) -> tuple[float, float]:
    one, conns = await bare_get(url)
    try:
        return await _workers(n, one)
    finally:
        for conn in conns:
            conn.transport.close()


def _pycurl(url: str, n: int) -> tuple[float, float]:
    import pycurl

    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, CONCURRENCY)
    received = [0]

    def sink(data: bytes) -> None:
        received[0] += len(data)

    handles = []
    for _ in range(CONCURRENCY):
        c = pycurl.Curl()
        c.setopt(pycurl.URL, url)
        c.setopt(pycurl.WRITEFUNCTION, sink)
        handles.append(c)

    def run(total: int) -> None:
        started = done = 0
        for c in handles[:total]:
            multi.add_handle(c)
            started += 1
        while done < total:
            while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                pass
            _, ok, failed = multi.info_read()
            if failed:
                raise RuntimeError(f"pycurl failed: {failed[0][2]}")
            for c in ok:
                multi.remove_handle(c)
                done += 1
                if started < total:
                    multi.add_handle(c)
                    started += 1
            if done < total:
                multi.select(1.0)

    run(CONCURRENCY * 5)
    received[0] = 0
    wall, cpu = time.perf_counter(), time.process_time()
    run(n)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert received[0] == n * 128
    for c in handles:
        c.close()
    multi.close()
    return n / wall, cpu / n * 1e6


# One round of CONCURRENCY concurrent GETs, on a loop kept between rounds: what ``instructions``
# counts (its setup runs this source, then calls ``rounds()``; the figure is divided by CONCURRENCY).
_ROUND_SETUP = """
import asyncio, netwire
from netwire.http.aio import AsyncClient
URL = {url!r}
if {loop!r} == "uvloop":
    import uvloop
    loop = uvloop.new_event_loop()
else:
    loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
if {client!r} == "floor":
    from bench_aio import bare_get
    one, _ = loop.run_until_complete(bare_get(URL))
elif {client!r} == "aiohttp":
    import aiohttp
    async def _open():
        c = aiohttp.TCPConnector(limit={n}, limit_per_host={n})
        return aiohttp.ClientSession(connector=c)
    session = loop.run_until_complete(_open())
    async def one():
        async with session.get(URL) as r:
            return len(await r.read())
else:
    limits = netwire.Limits(max_connections={n}, max_connections_per_host={n})
    client = loop.run_until_complete(asyncio.sleep(0, AsyncClient(limits=limits)))
    async def one():
        return len((await client.get(URL)).content)
async def _round():
    sizes = await asyncio.gather(*(one() for _ in range({n})))
    assert sum(sizes) == {n} * 128
def rounds():
    loop.run_until_complete(_round())
"""


def instructions_per_get(url: str, loop: str, client: str) -> float | None:
    """User-space instructions per GET (valgrind), 20 at a time on ``loop``; None without valgrind."""
    setup = _ROUND_SETUP.format(url=url, loop=loop, client=client, n=CONCURRENCY)
    ir = instructions.per_call(setup, "rounds()", small=20, big=120, warmup=10)
    return None if ir is None else ir / CONCURRENCY


def _on(loop: str, coro: Awaitable[tuple[float, float]]) -> tuple[float, float]:
    if loop == "uvloop":
        import uvloop

        return uvloop.run(coro)  # type: ignore[arg-type]
    return asyncio.run(coro)  # type: ignore[arg-type]


def run(args: argparse.Namespace) -> list[Row]:
    quick = getattr(args, "quick", False)
    n = 3_000 if quick else REQUESTS
    n_httpx = 600 if quick else HTTPX_REQUESTS
    rows: list[Row] = []
    loops = ["asyncio"] + (["uvloop"] if _have("uvloop") else [])
    if not _have("uvloop"):
        print("   (uvloop not installed: pip install uvloop)", file=sys.stderr)
    with nginx(big_size=1 << 20) as base:
        url = base + "/small.bin"
        curl = _pycurl(url, n) if _have("pycurl") else None
        for loop in loops:
            group = f"20 conns, {n:,} GETs ({loop})"
            cpu_group = f"CPU per GET ({loop})"
            clients: list[tuple[str, Callable[[], Awaitable[tuple[float, float]]]]] = [
                ("netwire.AsyncClient", lambda: _netwire(url, n))
            ]
            if _have("aiohttp"):
                clients.append(("aiohttp", lambda: _aiohttp(url, n)))
            if _have("httpx"):
                clients.append((f"httpx.AsyncClient ({n_httpx:,} GETs)", lambda: _httpx(url, n_httpx)))
            clients.append(("bare asyncio.Protocol (floor)", lambda: _floor(url, n)))
            for name, make in clients:
                rate, cpu = _on(loop, make())
                print(f"   {loop:8} {name:28} {rate:10.0f} req/s {cpu:8.1f} us CPU/req", file=sys.stderr)
                rows.append({"group": group, "name": name, "value": rate, "unit": "req/s", "higher": True})
                rows.append({"group": cpu_group, "name": name, "value": cpu, "unit": "us", "higher": False})
            if getattr(args, "instructions", False) and instructions.available():
                for name, which in (
                    ("netwire.AsyncClient", "netwire"), ("aiohttp", "aiohttp"), ("bare asyncio.Protocol (floor)", "floor"),
                ):
                    if which == "aiohttp" and not _have("aiohttp"):
                        continue
                    ir = instructions_per_get(url, loop, which)
                    if ir is not None:
                        print(f"   {loop:8} {name:28} {ir:10.0f} instructions/GET", file=sys.stderr)
                        rows.append({"group": f"instructions per GET ({loop})", "name": name, "value": ir,
                                     "unit": "instr", "higher": False})
            if curl is not None:
                rows.append({"group": group, "name": "pycurl multi (C, no loop)", "value": curl[0], "unit": "req/s", "higher": True})
                rows.append({"group": cpu_group, "name": "pycurl multi (C, no loop)", "value": curl[1], "unit": "us", "higher": False})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--instructions", action="store_true", help="also count instructions per GET (valgrind)")
    result = run(parser.parse_args())
    for r in result:
        print(f"{r['group']:34} {r['name']:32} {r['value']:12.1f} {r['unit']}")
