"""``netwire demo``: netwire at work against servers it starts on loopback, narrated."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from typing import Any, TextIO

from ..parsing import plain

# The parts after the HTTP one, in order: modules under netwire.cli.demos, each with run(out).
DEMO_PARTS = ("async_client", "robots", "sockets", "urllib_face")


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run netwire against local servers and show what happens", description=plain(__doc__))
    p.add_argument("-n", "--requests", type=int, default=200, help="keep-alive GETs to send (default 200)")
    p.set_defaults(func=run)


def http_part(out: TextIO, n: int) -> None:
    import netwire

    from ..demo_server import DemoServer

    with DemoServer() as server:
        out.write(f"== HTTP/1.1 keep-alive: local server at {server.url}\n")
        with netwire.Client() as client:
            started = time.perf_counter()
            total = 0
            for _ in range(n):
                total += len(client.get(server.url + "/").content)
            elapsed = time.perf_counter() - started
            out.write(
                f"   {n} GET / -> {total} body bytes in {elapsed * 1000:.0f} ms "
                f"({n / elapsed:,.0f} req/s)\n"
                f"   connections opened by the client: {client.pool.connections_opened}; "
                f"accepted by the server: {server.connections}\n"
            )
            r = client.get(server.url + "/data.json")
            out.write(f"   GET /data.json -> {r.status} {r.reason}, {r.headers['content-type']}: {r.json()}\n")
            r = client.get(server.url + "/redirect")
            chain = " -> ".join(f"{h.status} {h.url}" for h in r.history)
            out.write(f"   GET /redirect -> followed {chain} -> {r.status} {r.url}\n")
            r = client.get(server.url + "/missing")
            out.write(f"   GET /missing -> {r.status} {r.reason}\n")
            out.write(
                f"   still {client.pool.connections_opened} connection(s) opened in all, "
                f"{client.pool.requests_reused} reuses\n"
            )


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    http_part(out, args.requests)
    for name in DEMO_PARTS:
        module = importlib.import_module(f"{__package__.rpartition('.')[0]}.demos.{name}")
        out.write("\n")
        module.run(out)
    out.flush()
    return 0
