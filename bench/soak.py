"""Soak tests, by hand: does netwire hold its resources over a long run?

::

    python bench/soak.py http                 # 100,000 requests over 50 connections to nginx
    python bench/soak.py tcp                  # 100,000 connections to a netwire.sockets TCPServer
    python bench/soak.py all --count 20000    # both, fewer
    python bench/soak.py http --json out.json

**http**: one ``netwire.Client`` (pool of 50 connections) shared by 50 threads requests a mix of
sizes from a private nginx (``bench/servers.py``): 90% a 128-byte file, 5% a gzip-compressed
text (decoded on the fly), 4% a 1 MiB file, and 1% of 1 MiB downloads aborted by the client
after 16 KiB (the connection is then discarded). Every body is checked.

**tcp**: a :class:`netwire.sockets.TCPServer` (line framing, selector loop) in this process;
50 client threads open 100,000 connections with :func:`netwire.sockets.connect_tcp`, each sends
one line and reads its echo; 1% abort instead (half a line, then a TCP reset).

Both warm up first with the same mix (``--warmup``, 20,000 by default: the threads, pools,
caches and the C allocator's per-thread arenas fill up; with 1 MiB bodies on 50 threads glibc's
arenas settle at about 15 MB more after the first ~20,000 requests, and stay there), then
take the baseline: open file descriptors and resident memory of this process. Pass when, at the
end, descriptors are back to the baseline (the client closed, or the server has no connection
left) and RSS grew by less than 5 MB. Exit status 0 on pass, 1 on fail; bounded in time by the
count (and ``--max-seconds``).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
sys.path.insert(0, HERE)

RSS_LIMIT = 5 * 1024 * 1024
WORKERS = 50


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def settle(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while not check() and time.monotonic() < end:
        time.sleep(0.05)
    return check()


class Runner:
    """Runs ``job(i)`` for i in [0, n) on a fixed pool of worker threads, counting outcomes."""

    def __init__(self, workers: int) -> None:
        self.pool = ThreadPoolExecutor(workers)
        self.workers = workers

    def run(self, job: Callable[[int], str], n: int, max_seconds: float) -> tuple[Counter[str], float]:
        counter = itertools.count()
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()
        end = time.monotonic() + max_seconds

        def loop() -> None:
            local: Counter[str] = Counter()
            while time.monotonic() < end:
                i = next(counter)  # itertools.count is atomic under the GIL
                if i >= n:
                    break
                try:
                    local[job(i)] += 1
                except Exception as exc:
                    local[f"error {type(exc).__name__}: {str(exc)[:80]}"] += 1
            with lock:
                outcomes.update(local)

        started = time.monotonic()
        for f in [self.pool.submit(loop) for _ in range(self.workers)]:
            f.result()
        return outcomes, time.monotonic() - started

    def close(self) -> None:
        self.pool.shutdown()


def run_in_slices(
    runner: Runner, job: Callable[[int], str], count: int, max_seconds: float, slices: int = 5
) -> tuple[Counter[str], float, list[dict[str, Any]]]:
    """Run ``count`` jobs in ``slices`` parts, noting after each how memory and descriptors stand:
    a leak grows with every slice, allocator warm-up levels off."""
    outcomes: Counter[str] = Counter()
    elapsed = 0.0
    trend = []
    end = time.monotonic() + max_seconds
    for k in range(slices):
        n = count // slices + (count % slices if k == slices - 1 else 0)
        offset = k * (count // slices)

        def shifted(i: int, offset: int = offset) -> str:
            return job(offset + i)

        part, seconds = runner.run(shifted, n, max(end - time.monotonic(), 0))
        outcomes.update(part)
        elapsed += seconds
        gc.collect()
        trend.append({"done": sum(outcomes.values()), "rss_mb": round(rss() / 2**20, 2),
                      "py_blocks": sys.getallocatedblocks(), "fds": open_fds()})
    return outcomes, elapsed, trend


def report(name: str, count: int, outcomes: Counter[str], elapsed: float, figures: dict[str, Any],
           ok: bool) -> dict[str, Any]:
    done = sum(outcomes.values())
    errors = {k: v for k, v in outcomes.items() if k.startswith("error")}
    out = {
        "soak": name,
        "planned": count,
        "done": done,
        "outcomes": dict(outcomes),
        "errors": sum(errors.values()),
        "seconds": round(elapsed, 1),
        "per_second": round(done / elapsed) if elapsed else 0,
        **figures,
        "pass": ok and not errors and done == count,
    }
    print(json.dumps(out, indent=2), flush=True)
    return out


# -- http against nginx ---------------------------------------------------------------------------------


def soak_http(count: int, max_seconds: float, warmup: int) -> dict[str, Any]:
    import netwire
    from servers import nginx

    with nginx(big_size=1024 * 1024) as base:
        fd_start = open_fds()
        client = netwire.Client(
            timeout=netwire.Timeout(30, connect=10),
            limits=netwire.Limits(max_connections=WORKERS, max_connections_per_host=WORKERS,
                                  max_idle_per_host=WORKERS),
        )
        small_len, big_len = 128, 1024 * 1024
        text = client.get(base + "/gzip/text.txt").content
        assert client.get(base + "/gzip/text.txt").headers.get("content-encoding") == "gzip"

        def job(i: int) -> str:
            kind = i % 100
            if kind == 0:
                with client.stream("GET", base + "/big.bin") as r:
                    got = 0
                    for chunk in r.iter_bytes():
                        got += len(chunk)
                        if got >= 16384:
                            break
                # leaving the block closes the response mid-body: the connection is discarded
                return "aborted"
            if kind <= 4:
                r = client.get(base + "/big.bin")
                assert r.status == 200 and len(r.content) == big_len
                return "big"
            if kind <= 9:
                r = client.get(base + "/gzip/text.txt")
                assert r.status == 200 and r.content == text
                return "gzip"
            r = client.get(base + "/small.bin")
            assert r.status == 200 and len(r.content) == small_len
            return "small"

        runner = Runner(WORKERS)
        warm, _ = runner.run(job, warmup, max_seconds)
        gc.collect()
        fd_base, rss_base = open_fds(), rss()
        outcomes, elapsed, trend = run_in_slices(runner, job, count, max_seconds)
        gc.collect()
        fd_end, rss_end = open_fds(), rss()
        opened = client.pool.connections_opened
        runner.close()
        client.close()
        gc.collect()
        fds_closed_ok = settle(lambda: open_fds() <= fd_start)
        figures = {
            "warmup": warmup,
            "warmup_errors": sum(v for k, v in warm.items() if k.startswith("error")),
            "fds_before_client": fd_start,
            "fds_baseline": fd_base,
            "fds_end": fd_end,
            "fds_after_close": open_fds(),
            "connections_opened": opened,
            "rss_baseline_mb": round(rss_base / 2**20, 2),
            "rss_end_mb": round(rss_end / 2**20, 2),
            "rss_growth_mb": round((rss_end - rss_base) / 2**20, 2),
            "trend": trend,
        }
        # While running, the pool holds at most 50 connections: the same bound as at the baseline.
        ok = fds_closed_ok and fd_end <= fd_base + WORKERS and rss_end - rss_base < RSS_LIMIT
        return report("http", count, outcomes, elapsed, figures, ok)


# -- the TCP server toolkit -----------------------------------------------------------------------------------


def soak_tcp(count: int, max_seconds: float, warmup: int) -> dict[str, Any]:
    from netwire.sockets import TCPServer, connect_tcp

    def on_line(line: bytes, conn: Any) -> bytes:
        return line

    fd_start = open_fds()
    server = TCPServer(on_line, "127.0.0.1", 0, framing="line", timeout=10, max_connections=1024, backlog=1024)
    server.start()
    port = server.port
    line = b"hello from a soaking client\n"

    def job(i: int) -> str:
        if i % 100 == 0:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(line[:10])  # half a line, then a reset
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            return "aborted"
        stream = connect_tcp("127.0.0.1", port, timeout=5)
        try:
            stream.send_all(line)
            assert stream.readline() == line
        finally:
            stream.close()
        return "echoed"

    runner = Runner(WORKERS)
    warm, _ = runner.run(job, warmup, max_seconds)
    settle(lambda: server.active_connections == 0)
    gc.collect()
    fd_base, rss_base = open_fds(), rss()
    accepted_base = server.accepted
    outcomes, elapsed, trend = run_in_slices(runner, job, count, max_seconds)
    drained = settle(lambda: server.active_connections == 0)
    gc.collect()
    fd_end, rss_end = open_fds(), rss()
    accepted = server.accepted - accepted_base
    runner.close()
    server.close(grace=1)
    closed_ok = settle(lambda: open_fds() <= fd_start)
    figures = {
        "warmup": warmup,
        "warmup_errors": sum(v for k, v in warm.items() if k.startswith("error")),
        "server_accepted": accepted,
        "server_active_at_end": server.active_connections,
        "fds_before_server": fd_start,
        "fds_baseline": fd_base,
        "fds_end": fd_end,
        "fds_after_close": open_fds(),
        "rss_baseline_mb": round(rss_base / 2**20, 2),
        "rss_end_mb": round(rss_end / 2**20, 2),
        "rss_growth_mb": round((rss_end - rss_base) / 2**20, 2),
        "trend": trend,
    }
    ok = drained and closed_ok and fd_end <= fd_base and rss_end - rss_base < RSS_LIMIT and accepted == count
    return report("tcp", count, outcomes, elapsed, figures, ok)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("which", choices=("http", "tcp", "all"))
    p.add_argument("--count", type=int, default=100_000, help="requests (http) or connections (tcp)")
    p.add_argument("--max-seconds", type=float, default=900.0, help="stop early after this long")
    p.add_argument("--warmup", type=int, default=20_000,
                   help="jobs run before the baseline is taken (allocator arenas of 50 threads fill up first)")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    results = []
    if args.which in ("http", "all"):
        results.append(soak_http(args.count, args.max_seconds, args.warmup))
    if args.which in ("tcp", "all"):
        results.append(soak_tcp(args.count, args.max_seconds, args.warmup))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
