"""Bulk fetching: ``netwire fetch`` against an aiohttp script, Scrapy, ``wget -i`` and
``aria2c -i`` on a synthetic web.

One nginx (the test suite's launcher, :mod:`tests.servers.nginx`, with one ``listen`` per
127.0.x.y address) answers as many hosts, serving a robots.txt and files of 2 KB to 200 KB (random
bytes: they do not compress). The URL list spreads over the hosts. Every tool runs as its own
process (so its CPU time is measured alone), with 2 requests in flight per host where it has
such a setting:

* ``netwire fetch -w 1`` (robots.txt obeyed, WARC output with its digests, index fsynced), and
  with ``--format files`` (bodies to files named by SHA-256: the output of the aiohttp script);
* a plain aiohttp script: per-host semaphores, bodies written to files, no robots.txt;
* a minimal Scrapy spider (robots on, same per-host concurrency, bodies to files);
* ``wget -i`` (sequential) and ``aria2c -i`` (64 downloads at once; it has no per-host limit
  across files), when installed (``apt-get install wget aria2``; ``--setup`` does it);
* scaling: ``netwire fetch`` with 1 worker and with one per CPU.

img2dataset is not in the table: its downloader decodes every body as an image (and drops what
does not decode), so it cannot be pointed at HTML or other files.

Figures: URLs per second (wall), and CPU milliseconds per URL (user + system of the process and
its children), the median of ``--rounds`` rounds that alternate between the tools (so that a
busy spell of the machine does not favour one). The server shares the machine: on a 2-core
machine ``-w 2`` competes with nginx, and CPU per URL (flat as workers grow) is what shows the
scaling. The full run is 10,000 URLs over 500 hosts; ``--quick`` 2,000 over 100.

    python bench/run.py fetch --quick
    python bench/bench_fetch.py --rounds 3 [--setup]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from servers import Site, nginx_server

Row = dict[str, Any]
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
FILES = 20

AIOHTTP_SCRIPT = r'''
import asyncio, hashlib, os, sys
from urllib.parse import urlsplit
import aiohttp

async def main(path, out):
    urls = [u.strip() for u in open(path) if u.strip()]
    sems, glob = {}, asyncio.Semaphore(64)
    os.makedirs(out, exist_ok=True)
    conn = aiohttp.TCPConnector(limit=64, limit_per_host=2)
    async with aiohttp.ClientSession(connector=conn) as s:
        async def one(u):
            host = urlsplit(u).netloc
            sem = sems.setdefault(host, asyncio.Semaphore(2))
            async with glob, sem:
                try:
                    async with s.get(u) as r:
                        body = await r.read()
                except Exception:
                    return
            with open(os.path.join(out, hashlib.sha256(u.encode()).hexdigest()), "wb") as f:
                f.write(body)
        await asyncio.gather(*(one(u) for u in urls))

asyncio.run(main(sys.argv[1], sys.argv[2]))
'''


SCRAPY_SCRIPT = r'''
import hashlib, os, sys
import scrapy
from scrapy.crawler import CrawlerProcess

class Bench(scrapy.Spider):
    name = "bench"

    async def start(self):  # Scrapy >= 2.13 (start_requests before)
        for line in open(sys.argv[1]):
            if line.strip():
                yield scrapy.Request(line.strip(), dont_filter=True)

    def parse(self, response):
        with open(os.path.join(sys.argv[2], hashlib.sha256(response.url.encode()).hexdigest()), "wb") as f:
            f.write(response.body)

os.makedirs(sys.argv[2], exist_ok=True)
process = CrawlerProcess(settings={
    "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": 64, "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
    "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False, "USER_AGENT": "bench",
})
process.crawl(Bench)
process.start()
'''


def _hosts(n: int) -> list[str]:
    return [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(n)]


def _worker_cpu(out: str) -> float | None:
    """CPU seconds netwire's workers spent fetching (summary.json), start-up not counted."""
    summary = os.path.join(out, "summary.json")
    if not os.path.exists(summary):
        return None
    import json

    with open(summary) as f:
        value = json.load(f).get("cpu_seconds")
    return float(value) if value else None


def _fetched(out: str) -> int:
    """How many URLs a tool fetched: 2xx in netwire's summary, else the files it wrote."""
    summary = os.path.join(out, "summary.json")
    if os.path.exists(summary):
        import json

        with open(summary) as f:
            return int(json.load(f)["ok"])
    return sum(len(files) for _, _, files in os.walk(out))


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _aria2_input(urls: list[str], path: str) -> None:
    # One output name per URL: aria2c would otherwise rename (or refuse) the many f3.bin.
    with open(path, "w") as f:
        for i, url in enumerate(urls):
            f.write(f"{url}\n  out={i}\n")


def setup() -> None:
    """Install the reference tools (wget, aria2c) with apt-get when they are missing."""
    missing = [pkg for tool, pkg in (("wget", "wget"), ("aria2c", "aria2")) if not shutil.which(tool)]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def run(args: argparse.Namespace) -> list[Row]:
    quick = getattr(args, "quick", False)
    rounds = getattr(args, "rounds", None) or (1 if quick else 3)
    if getattr(args, "setup", False):
        setup()
    n_urls, n_hosts = (2_000, 100) if quick else (10_000, 500)
    rng = random.Random(20)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="netwire-bench-fetch-") as d:
        hosts = _hosts(n_hosts)
        files = {"robots.txt": b"User-agent: *\nDisallow: /private\n"}
        for i in range(FILES):
            size = int(2048 * (100 ** (i / (FILES - 1))))  # 2 KB .. 200 KB, log-spaced
            files[f"f{i}.bin"] = os.urandom(size)
        site = Site(listens=tuple(hosts), files=files, worker_connections=4096, http="sendfile on; tcp_nopush on;")
        os.makedirs(os.path.join(d, "nginx"))
        with nginx_server(site, os.path.join(d, "nginx"), install=True) as server:
            port = server.port
            urls = [f"http://{rng.choice(hosts)}:{port}/f{rng.randrange(FILES)}.bin?{i}" for i in range(n_urls)]
            url_file = os.path.join(d, "urls.txt")
            with open(url_file, "w") as f:
                f.write("\n".join(urls) + "\n")
            one = f"fetch {n_urls} URLs / {n_hosts} hosts, 1 process"
            to_files = f"{one}, bodies to files"
            scaling = f"fetch {n_urls} URLs: workers"
            env = {**os.environ, "PYTHONPATH": SRC}
            cpus = os.cpu_count() or 1
            fetch = [sys.executable, "-m", "netwire", "fetch", url_file, "-o", "OUT", "-q"]
            tools: list[tuple[list[str], str, list[str]]] = [
                ([one, f"{scaling}"], "netwire fetch -w 1", [*fetch, "-w", "1"]),
                ([to_files], "netwire fetch -w 1 --format files", [*fetch, "-w", "1", "--format", "files"]),
            ]
            if cpus > 1:
                tools.append(([scaling], f"netwire fetch -w {cpus}", [*fetch, "-w", str(cpus)]))
            try:
                import aiohttp  # noqa: F401

                script = os.path.join(d, "aio.py")
                with open(script, "w") as f:
                    f.write(AIOHTTP_SCRIPT)
                tools.append(([one, to_files], "aiohttp script", [sys.executable, script, url_file, "OUT"]))
            except ImportError:
                print("   aiohttp not installed: skipped", file=sys.stderr)
            try:
                import scrapy  # noqa: F401

                script = os.path.join(d, "spider.py")
                with open(script, "w") as f:
                    f.write(SCRAPY_SCRIPT)
                tools.append(([one], "Scrapy (robots on)", [sys.executable, script, url_file, "OUT"]))
            except ImportError:
                print("   scrapy not installed: skipped", file=sys.stderr)
            if shutil.which("wget"):
                tools.append(([one], "wget -i (sequential)", ["wget", "-q", "-i", url_file, "-P", "OUT"]))
            else:
                print("   wget not installed (--setup installs it): skipped", file=sys.stderr)
            if shutil.which("aria2c"):
                aria_input = os.path.join(d, "aria2.txt")
                _aria2_input(urls, aria_input)
                tools.append(([one], "aria2c -i (-j 64)", ["aria2c", "-q", "-j", "64", "-i", aria_input, "-d", "OUT"]))
            else:
                print("   aria2c not installed (--setup installs it): skipped", file=sys.stderr)
            measured: dict[str, list[tuple[float, float]]] = {name: [] for _, name, _ in tools}
            in_workers: dict[str, list[float]] = {}
            for _ in range(rounds):
                for _, name, cmd in tools:
                    out = tempfile.mkdtemp(dir=d)
                    wall, cpu = _timed([out if part == "OUT" else part for part in cmd], env)
                    got = _fetched(out)
                    if got < n_urls:
                        print(f"   {name}: only {got} of {n_urls} URLs fetched", file=sys.stderr)
                    measured[name].append((n_urls / wall, cpu / n_urls * 1000))
                    inside = _worker_cpu(out)
                    if inside is not None:
                        in_workers.setdefault(name, []).append(inside / n_urls * 1000)
                    shutil.rmtree(out, ignore_errors=True)
            for groups, name, _ in tools:
                rate = _median([r for r, _ in measured[name]])
                cpu_ms = _median([c for _, c in measured[name]])
                for group in groups:
                    rows.append({"group": group, "name": name, "value": rate, "unit": "URLs/s", "higher": True})
                    rows.append({"group": f"{group}: CPU", "name": name, "value": cpu_ms, "unit": "ms/URL",
                                 "higher": False})
                if scaling in groups and name in in_workers:
                    rows.append({"group": f"{scaling}: CPU in the workers", "name": name,
                                 "value": _median(in_workers[name]), "unit": "ms/URL", "higher": False})
    rows.sort(key=lambda r: (r["group"].endswith("CPU") or "CPU in" in r["group"], r["group"]))
    return rows


if __name__ == "__main__":
    from run import netwire_ratio, print_table

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, help="rounds alternating between the tools (default 3; 1 with --quick)")
    parser.add_argument("--setup", action="store_true", help="apt-get install wget and aria2 when missing")
    result = run(parser.parse_args())
    netwire_ratio(result)
    print_table(result)
