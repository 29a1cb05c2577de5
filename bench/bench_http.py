"""HTTP client benchmark: netwire against its peers, one run, one nginx on loopback.

Figures: sequential keep-alive GETs of a 128-byte file per second (one connection), a 64 MiB
download in MB/s, a redirect chain of 3 and a gzip-encoded body (requests per second), each with
the client's CPU time per request (or per MB) beside it, and the time of ``import netwire``
against ``import urllib.request`` (fresh interpreters). With ``--instructions`` (valgrind), the
user-space instructions of one sequential GET too.
Peers missing from the machine are skipped with a note (install the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import instructions

from servers import nginx

Row = dict[str, Any]


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _rate(fn: Callable[[], Any], n: int, warmup: int = 50) -> tuple[float, float]:
    """Best requests per second of 3 rounds, and least CPU µs per request (this process only)."""
    return _rates({"": fn}, n, rounds=3, warmup=warmup)[""]


def _rates(
    fns: dict[str, Callable[[], Any]], n: int, rounds: int = 5, warmup: int = 50
) -> dict[str, tuple[float, float]]:
    """Requests per second of each client, best of ``rounds``, the clients taking turns in each
    round: a machine whose speed drifts (a shared VM) then affects every client alike. Beside
    it the least CPU time per request of this process (µs): it counts the client's own work,
    not the server's, and moves less than the rate when other processes load the machine."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    best = dict.fromkeys(fns, 0.0)
    cpu = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            for _ in range(n):
                fn()
            c, t = time.process_time() - c, time.perf_counter() - t
            best[name] = max(best[name], n / t)
            cpu[name] = min(cpu[name], c / n * 1e6)
    return {name: (best[name], cpu[name]) for name in fns}


def _cpu_row(group: str, name: str, us: float, per: str = "req") -> Row:
    return {"group": group.replace("(req/s)", f"(CPU µs/{per})").replace("(MB/s)", f"(CPU µs/{per})"),
            "name": name, "value": us, "unit": "µs", "higher": False}


def _bare_socket(base: str, path: str) -> Callable[[], bytes]:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()

    def once() -> bytes:
        sock.sendall(req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(65536)
        head, _, body = buf.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
        return body

    return once


def sequential_clients(base: str, path: str, only: str | None = None) -> dict[str, Callable[[], Any]]:
    """One callable per client doing one GET and reading the body, reusing its connection
    (only the client named ``only``, if given: an instruction count imports nothing else)."""
    url = base + path
    out: dict[str, Callable[[], Any]] = {}

    def want(name: str) -> bool:
        return only is None or only == name

    if want("netwire.Client"):
        import netwire

        nw = netwire.Client()
        out["netwire.Client"] = lambda: nw.get(url).content
    if want("bare socket (ceiling)"):
        out["bare socket (ceiling)"] = _bare_socket(base, path)
    if want("urllib.request.urlopen"):
        import urllib.request

        out["urllib.request.urlopen"] = lambda: urllib.request.urlopen(url).read()
    if want("requests.Session") and _have("requests"):
        import requests

        s = requests.Session()
        out["requests.Session"] = lambda: s.get(url).content
    if want("urllib3.PoolManager") and _have("urllib3"):
        import urllib3

        pm = urllib3.PoolManager()
        out["urllib3.PoolManager"] = lambda: pm.request("GET", url).data
    if want("httpx.Client") and _have("httpx"):
        import httpx

        hc = httpx.Client()
        out["httpx.Client"] = lambda: hc.get(url).content
    if want("rnet") and _have("rnet"):
        import rnet  # Rust (reqwest); its blocking client runs a tokio runtime: CPU counts all threads

        rc = rnet.BlockingClient()
        out["rnet"] = lambda: rc.get(url).bytes()
    if want("pycurl") and _have("pycurl"):
        import io

        import pycurl

        c = pycurl.Curl()
        c.setopt(pycurl.URL, url)

        def curl_once() -> bytes:
            buf = io.BytesIO()
            c.setopt(pycurl.WRITEDATA, buf)
            c.perform()
            return buf.getvalue()

        out["pycurl"] = curl_once
    return out


def _aiohttp_rate(url: str, n: int) -> tuple[float, float]:
    import aiohttp

    async def main() -> tuple[float, float]:
        conn = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=conn) as s:
            for _ in range(50):
                async with s.get(url) as r:
                    await r.read()
            best, cpu = 0.0, float("inf")
            for _ in range(3):
                t, c = time.perf_counter(), time.process_time()
                for _ in range(n):
                    async with s.get(url) as r:
                        await r.read()
                best = max(best, n / (time.perf_counter() - t))
                cpu = min(cpu, (time.process_time() - c) / n * 1e6)
            return best, cpu

    return asyncio.run(main())


def _download_rate(fn: Callable[[], Any], size: int, rounds: int = 3) -> tuple[float, float]:
    """MB/s (best round) and CPU µs per MB (least) of downloading ``size`` bytes."""
    fn()
    times, cpus = [], []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        data = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        assert len(data) == size, (len(data), size)
    return size / min(times) / 1e6, min(cpus) / (size / 1e6) * 1e6


def _import_ms(stmt: str, rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", stmt], capture_output=True, text=True, check=True
        ).stderr
        # The last line's cumulative time is the top-level import (microseconds).
        last = [ln for ln in out.splitlines() if "|" in ln][-1]
        times.append(int(last.split("|")[1]) / 1000)
    return statistics.median(times)


def run(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    n = 1000 if args.quick else 5000
    big = 64 * 1024 * 1024
    with nginx(big_size=big) as base:
        group = "sequential GET 128 B (req/s)"
        print(f"   {group}: all clients, taking turns", file=sys.stderr, flush=True)
        cpu_rows = []
        for name, (value, cpu) in _rates(sequential_clients(base, "/small.bin"), n // 2).items():
            rows.append({"group": group, "name": name, "value": value, "unit": "req/s", "higher": True})
            cpu_rows.append(_cpu_row(group, name, cpu))
        rows += cpu_rows
        if getattr(args, "instructions", False) and instructions.available():
            for name in sequential_clients(base, "/small.bin"):
                print(f"   {group}: instructions of {name} (valgrind)", file=sys.stderr, flush=True)
                ir = instructions.per_call(
                    f"from bench_http import sequential_clients\n"
                    f"fn = sequential_clients({base!r}, '/small.bin', only={name!r})[{name!r}]",
                    "fn()",
                )
                if ir is not None:
                    rows.append({"group": "sequential GET 128 B (instructions/req)", "name": name, "value": ir,
                                 "unit": "instr", "higher": False})
        if _have("aiohttp"):
            # An event loop cannot take turns with the blocking clients above: measured right
            # after them, with netwire again just before it for a fair ratio.
            import netwire

            with netwire.Client() as fresh:
                nw, nw_cpu = _rate(lambda: fresh.get(base + "/small.bin").content, n)
            aio, aio_cpu = _aiohttp_rate(base + "/small.bin", n)
            vs = "sequential GET 128 B, vs aiohttp (req/s)"
            rows.append({"group": vs, "name": "netwire.Client", "value": nw, "unit": "req/s", "higher": True})
            rows.append({"group": vs, "name": "aiohttp", "value": aio, "unit": "req/s", "higher": True})
            rows.append(_cpu_row(vs, "netwire.Client", nw_cpu))
            rows.append(_cpu_row(vs, "aiohttp", aio_cpu))

        group = "download 64 MiB (MB/s)"
        cpu_rows = []
        for name, fn in sequential_clients(base, "/big.bin").items():
            if name == "bare socket (ceiling)":
                continue
            print(f"   {group}: {name}", file=sys.stderr, flush=True)
            rate, cpu = _download_rate(fn, big)
            rows.append({"group": group, "name": name, "value": rate, "unit": "MB/s", "higher": True})
            cpu_rows.append(_cpu_row(group, name, cpu, "MB"))
        rows += cpu_rows

        import netwire

        with netwire.Client() as nw:
            peers: dict[str, Callable[[], Any]] = {"netwire.Client": lambda: nw.get(base + "/redirect/1").content}
            gzip_url = base + "/gzip-static/text.txt"
            gz: dict[str, Callable[[], Any]] = {
                "netwire.Client": lambda: nw.get(gzip_url, headers={"Accept-Encoding": "gzip"}).content
            }
            if _have("requests"):
                import requests

                s = requests.Session()
                peers["requests.Session"] = lambda: s.get(base + "/redirect/1").content
                gz["requests.Session"] = lambda: s.get(gzip_url).content
            if _have("httpx"):
                import httpx

                hc = httpx.Client(follow_redirects=True)
                peers["httpx.Client"] = lambda: hc.get(base + "/redirect/1").content
                gz["httpx.Client"] = lambda: hc.get(gzip_url).content
            if _have("urllib3"):
                import urllib3

                pm = urllib3.PoolManager()
                peers["urllib3.PoolManager"] = lambda: pm.request("GET", base + "/redirect/1").data
                gz["urllib3.PoolManager"] = lambda: pm.request("GET", gzip_url, headers={"Accept-Encoding": "gzip"}).data
            m = max(n // 5, 200)
            for group, fns in (("redirect chain of 3 (req/s)", peers), ("gzip body, 73 KB decoded (req/s)", gz)):
                cpu_rows = []
                for name, (rate, cpu) in _rates(fns, m, rounds=3).items():
                    rows.append({"group": group, "name": name, "value": rate, "unit": "req/s", "higher": True})
                    cpu_rows.append(_cpu_row(group, name, cpu))
                rows += cpu_rows

    group = "import time (ms)"
    rows.append({"group": group, "name": "netwire", "value": _import_ms("import netwire"), "unit": "ms", "higher": False})
    rows.append({"group": group, "name": "urllib.request", "value": _import_ms("import urllib.request"),
                 "unit": "ms", "higher": False})
    for peer in ("httpx", "requests", "pycurl"):
        if _have(peer):
            rows.append({"group": group, "name": peer, "value": _import_ms(f"import {peer}"), "unit": "ms",
                         "higher": False})
    return rows
