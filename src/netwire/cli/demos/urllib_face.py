"""Demo part: urllib code run unchanged on netwire.request, reusing its connection."""

from __future__ import annotations

import time
from typing import TextIO


def run(out: TextIO) -> None:
    from netwire import error, request  # was: from urllib import error, request

    from ..demo_server import DemoServer

    with DemoServer() as server:
        out.write(f"== netwire.request (urllib's API): 100 urlopen() calls to {server.url}\n")
        started = time.perf_counter()
        for _ in range(100):
            with request.urlopen(server.url + "/", timeout=5) as response:
                response.read()
        elapsed = time.perf_counter() - started
        out.write(
            f"   100 x urlopen -> {response.status} {response.reason} in {elapsed * 1000:.0f} ms; "
            f"connections accepted by the server: {server.connections} (urllib would open 100)\n"
        )
        try:
            request.urlopen(server.url + "/missing", timeout=5)
        except error.HTTPError as exc:
            out.write(f"   urlopen('/missing') -> HTTPError {exc.code} {exc.reason}, caught as urllib code expects\n")
