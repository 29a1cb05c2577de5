"""Bulk fetching: ``netwire fetch`` against an aiohttp script and ``wget -i`` on a synthetic web.

One nginx answers as many hosts (127.0.x.y addresses, one ``listen`` each) serving a robots.txt
and files of 2 KB to 200 KB. The URL list spreads over the hosts. Every tool runs as its own
process (so its CPU time is measured alone), with 2 requests in flight per host:

* ``netwire fetch`` with 1 worker and with one worker per CPU (robots.txt obeyed, WARC output);
* a plain aiohttp script: per-host semaphores, bodies written to files, no robots.txt;
* a minimal Scrapy spider (robots on, same per-host concurrency, bodies to files);
* ``wget -i`` (sequential; a reference), and aria2c when installed (otherwise skipped).

Figures: URLs per second (wall), and CPU milliseconds per URL (user + system of the process and
its children). The full run is 10,000 URLs over 500 hosts; ``--quick`` 2,000 over 100.

    python bench/run.py fetch --quick
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

from servers import nginx_binary

Row = dict[str, Any]
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
FILES = 20

CONF = """
daemon off;
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000;
    default_type application/octet-stream;
    server {{
{listens}
        root {dir}/www;
    }}
}}
"""

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


def run(args: argparse.Namespace) -> list[Row]:
    quick = getattr(args, "quick", False)
    n_urls, n_hosts = (2_000, 100) if quick else (10_000, 500)
    rng = random.Random(20)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="netwire-bench-fetch-") as d:
        www = os.path.join(d, "www")
        os.makedirs(www)
        with open(os.path.join(www, "robots.txt"), "w") as f:
            f.write("User-agent: *\nDisallow: /private\n")
        for i in range(FILES):
            size = int(2048 * (100 ** (i / (FILES - 1))))  # 2 KB .. 200 KB, log-spaced
            with open(os.path.join(www, f"f{i}.bin"), "wb") as f:
                f.write(os.urandom(size))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        hosts = _hosts(n_hosts)
        listens = "\n".join(f"        listen {h}:{port};" for h in hosts)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(dir=d, listens=listens, user="user root;" if os.geteuid() == 0 else ""))
        urls = [f"http://{rng.choice(hosts)}:{port}/f{rng.randrange(FILES)}.bin?{i}" for i in range(n_urls)]
        url_file = os.path.join(d, "urls.txt")
        with open(url_file, "w") as f:
            f.write("\n".join(urls) + "\n")
        proc = subprocess.Popen([nginx_binary(), "-c", conf, "-p", d], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection((hosts[-1], port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("nginx did not start") from None
                    time.sleep(0.05)
            group = f"fetch {n_urls} URLs / {n_hosts} hosts"
            env = {**os.environ, "PYTHONPATH": SRC}
            cpus = os.cpu_count() or 1
            tools: list[tuple[str, list[str]]] = [
                ("netwire fetch -w 1", [sys.executable, "-m", "netwire", "fetch", url_file, "-o", "OUT", "-w", "1", "-q"]),
                (f"netwire fetch -w {cpus}", [sys.executable, "-m", "netwire", "fetch", url_file, "-o", "OUT", "-w", str(cpus), "-q"]),
            ]
            try:
                import aiohttp  # noqa: F401

                script = os.path.join(d, "aio.py")
                with open(script, "w") as f:
                    f.write(AIOHTTP_SCRIPT)
                tools.append(("aiohttp script", [sys.executable, script, url_file, "OUT"]))
            except ImportError:
                print("   aiohttp not installed: skipped", file=sys.stderr)
            try:
                import scrapy  # noqa: F401

                script = os.path.join(d, "spider.py")
                with open(script, "w") as f:
                    f.write(SCRAPY_SCRIPT)
                tools.append(("Scrapy (robots on)", [sys.executable, script, url_file, "OUT"]))
            except ImportError:
                print("   scrapy not installed: skipped", file=sys.stderr)
            if shutil.which("wget"):
                tools.append(("wget -i (sequential)", ["wget", "-q", "-i", url_file, "-P", "OUT"]))
            if shutil.which("aria2c"):
                tools.append(("aria2c -i", ["aria2c", "-q", "-x", "2", "-j", "64", "-i", url_file, "-d", "OUT"]))
            for name, cmd in tools:
                out = tempfile.mkdtemp(dir=d)
                wall, cpu = _timed([out if part == "OUT" else part for part in cmd], env)
                got = _fetched(out)
                if got < n_urls:
                    print(f"   {name}: only {got} of {n_urls} URLs fetched", file=sys.stderr)
                rows.append({"group": group, "name": name, "value": n_urls / wall, "unit": "URLs/s", "higher": True})
                rows.append({"group": f"{group}: CPU", "name": name, "value": cpu / n_urls * 1000, "unit": "ms/URL",
                             "higher": False})
                shutil.rmtree(out, ignore_errors=True)
        finally:
            proc.terminate()
            proc.wait(10)
    return rows


if __name__ == "__main__":
    from run import netwire_ratio, print_table

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    result = run(parser.parse_args())
    netwire_ratio(result)
    print_table(result)
