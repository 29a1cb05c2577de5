"""Bulk fetching: ``netwire fetch`` against an aiohttp script, Scrapy, ``wget -i`` and
``aria2c -i`` on a synthetic web.

One nginx (the test suite's launcher, :mod:`tests.servers.nginx`, with one ``listen`` per
127.0.x.y address) answers as many hosts, serving a robots.txt and files of 2 KB to 200 KB (random
bytes: they do not compress). The URL list spreads over the hosts. Every tool runs as its own
process (so its CPU time is measured alone), with 2 requests in flight per host where it has
such a setting:

* ``netwire fetch -w 1``: robots.txt obeyed, WARC output (two records per URL, SHA-1 block and
  payload digests), an index line per URL (with the body's SHA-256), files and index fsynced at
  each checkpoint (1 s), resumable; and the same with ``--format files``: 2xx bodies to files
  named by their SHA-256 (``files/ab/ab12...``), each written once, instead of WARC;
* aiohttp scripts (per-host semaphores of 2, 64 in flight, no fsync, not resumable), each saying
  what it writes, so that each netwire row has a peer doing the same work:

  ====================================  ==========  ===================  ===============  =======
  script                                robots.txt  file per             digest           index
  ====================================  ==========  ===================  ===============  =======
  file per URL (the issue's plain one)  no          URL (10,000 files)   SHA-256 of URL   no
  files by SHA-256                      no          distinct body        SHA-256 of body  no
  netwire's files output                obeyed      distinct body        SHA-256 of body  JSONL
  aiohttp + warcio (WARC)               no          one WARC file        SHA-1 x 2        no
  ====================================  ==========  ===================  ===============  =======

  "netwire's files output" is what ``--format files`` writes (robots.txt fetched once per host
  with ``urllib.robotparser``, unreachable or 5xx: nothing allowed; ``files/ab/`` names; an index
  line per URL): the like-for-like peer of ``--format files``. warcio writes what the WARC
  output writes, the index aside, but compresses every record at zlib level 9 where netwire
  uses level 1 and stores the bodies that do not compress (these random ones) unchanged.
  The synthetic web has 20 bodies (20 sizes), so content-named writers write 20 files where the
  file-per-URL script writes 10,000: ``--distinct`` serves a body per URL instead (as in a crawl,
  where bodies differ), so that every writer writes every body;
* a minimal Scrapy spider (robots on, same per-host concurrency, bodies to files);
* ``wget -i`` (sequential) and ``aria2c -i`` (64 downloads at once; it has no per-host limit
  across files), when installed (``apt-get install wget aria2``; ``--setup`` does it);
* scaling: ``netwire fetch`` with 1 worker and with one per CPU (``--scaling``: those alone):
  URLs/s, the efficiency (URLs/s at N / (N x URLs/s at 1)), the CPU per URL in the workers
  (flat: no coordination overhead) and the workers' CPU-bound share (time running or ready to
  run but waiting for a CPU, from Linux's schedstat, over their wall time: near 100%, the CPU
  the machine gave them set the pace, not the network, the server or the politeness limits).

img2dataset is not in the table: its downloader decodes every body as an image (and drops what
does not decode), so it cannot be pointed at HTML or other files.

Figures: URLs per second (wall), and CPU microseconds per URL (user + system of the process and
its children), the median of ``--rounds`` rounds that alternate between the tools (so that a
busy spell of the machine does not favour one); beside them the CPU nginx spent per URL (the
server shares the machine). On a 2-core machine ``-w 2`` competes with nginx: the CPU per URL
inside the workers (flat as workers grow) is what shows that the fetchers' own work scales, and
``--pin-server`` keeps nginx on the last CPU. The full run is 10,000 URLs over 500 hosts;
``--quick`` 2,000 over 100.

    python bench/run.py fetch --quick
    python bench/bench_fetch.py --rounds 3 [--setup] [--distinct] [--only WORD...]
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
import asyncio, hashlib, json, os, sys, time
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser
import aiohttp

# "url": a file per URL (named by the URL's SHA-256), nothing else.
# "sha256": files named by the body's SHA-256, each written once.
# "same": what `netwire fetch --format files` writes: robots.txt fetched once per host and
# obeyed (unreachable or 5xx: nothing allowed, 4xx: everything), 2xx bodies in files named by
# their SHA-256 under files/ab/, each written once, and an index line (JSON) per URL.
MODE = sys.argv[3]
AGENT = "bench"

async def main(path, out):
    urls = [u.strip() for u in open(path) if u.strip()]
    sems, glob, robots, known = {}, asyncio.Semaphore(64), {}, set()
    os.makedirs(out, exist_ok=True)
    index = open(os.path.join(out, "index.jsonl"), "w") if MODE == "same" else None
    conn = aiohttp.TCPConnector(limit=64, limit_per_host=2)
    async with aiohttp.ClientSession(connector=conn, auto_decompress=False, headers={"User-Agent": AGENT}) as s:
        async def rules(parts):
            key = (parts.scheme, parts.netloc)
            task = robots.get(key)
            if task is None:
                async def load():
                    parser = RobotFileParser()
                    try:
                        async with s.get(f"{parts.scheme}://{parts.netloc}/robots.txt") as r:
                            text = (await r.read()).decode("utf-8", "replace")
                            status = r.status
                    except Exception:
                        status, text = 599, ""
                    if status >= 500:
                        parser.disallow_all = True
                    elif status >= 400:
                        parser.allow_all = True
                    else:
                        parser.parse(text.splitlines())
                    return parser
                task = robots[key] = asyncio.ensure_future(load())
            return await task

        async def one(n, u):
            parts = urlsplit(u)
            sem = sems.setdefault(parts.netloc, asyncio.Semaphore(2))
            started = time.monotonic()
            entry = {"n": n, "url": u, "status": None}
            async with glob, sem:
                try:
                    if MODE == "same" and not (await rules(parts)).can_fetch(AGENT, u):
                        raise PermissionError("disallowed by robots.txt")
                    async with s.get(u) as r:
                        body = await r.read()
                except Exception as exc:
                    if index is not None:
                        entry.update(error=type(exc).__name__, message=str(exc))
                        index.write(json.dumps(entry) + "\n")
                    return
            digest = hashlib.sha256(body).hexdigest() if MODE != "url" else ""
            if MODE == "url":
                name = os.path.join(out, hashlib.sha256(u.encode()).hexdigest())
            elif MODE == "sha256":
                name = os.path.join(out, digest)
            else:
                name = os.path.join(out, "files", digest[:2], digest)
            if MODE == "same":
                entry.update(status=r.status, content_type=r.headers.get("content-type"), length=len(body),
                             sha256=digest, elapsed=round(time.monotonic() - started, 4), error=None)
                if 200 <= r.status < 300:
                    entry["file"] = name
                index.write(json.dumps(entry) + "\n")
                if not 200 <= r.status < 300:
                    return
            if MODE != "url":
                if name in known or os.path.exists(name):
                    known.add(name)
                    return
                known.add(name)
                os.makedirs(os.path.dirname(name), exist_ok=True)
            with open(name, "wb") as f:
                f.write(body)
        await asyncio.gather(*(one(n, u) for n, u in enumerate(urls)))
    if index is not None:
        index.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
'''

AIOHTTP_WARCIO_SCRIPT = r'''
import asyncio, io, os, sys
from urllib.parse import urlsplit
import aiohttp
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

async def main(path, out):
    urls = [u.strip() for u in open(path) if u.strip()]
    sems, glob = {}, asyncio.Semaphore(64)
    os.makedirs(out, exist_ok=True)
    f = open(os.path.join(out, "out.warc.gz"), "wb")
    writer = WARCWriter(f, gzip=True)
    conn = aiohttp.TCPConnector(limit=64, limit_per_host=2)
    async with aiohttp.ClientSession(connector=conn, auto_decompress=False) as s:
        async def one(u):
            parts = urlsplit(u)
            sem = sems.setdefault(parts.netloc, asyncio.Semaphore(2))
            async with glob, sem:
                try:
                    async with s.get(u) as r:
                        body = await r.read()
                except Exception:
                    return
            target = parts.path + ("?" + parts.query if parts.query else "")
            req = StatusAndHeaders(f"GET {target} HTTP/1.1", list(r.request_info.headers.items()),
                                   is_http_request=True)
            resp = StatusAndHeaders(f"{r.status} {r.reason}", list(r.headers.items()), protocol="HTTP/1.1")
            writer.write_request_response_pair(
                writer.create_warc_record(u, "request", payload=io.BytesIO(b""), http_headers=req),
                writer.create_warc_record(u, "response", payload=io.BytesIO(body), http_headers=resp),
            )
        await asyncio.gather(*(one(u) for u in urls))
    f.close()

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


def _worker_cpu(out: str) -> tuple[float, float] | None:
    """CPU seconds netwire's workers spent fetching (summary.json), start-up not counted, and the
    share of their time they spent either running or ready to run but waiting for a CPU (1.0:
    CPU-bound throughout, on a machine that may not have given them the CPU)."""
    summary = os.path.join(out, "summary.json")
    if not os.path.exists(summary):
        return None
    import json

    with open(summary) as f:
        data = json.load(f)
    value = data.get("cpu_seconds")
    if not value:
        return None
    shard_time = float(data.get("shard_seconds") or 0.0)
    busy = (float(value) + float(data.get("cpu_wait_seconds") or 0.0)) / shard_time if shard_time else 0.0
    return float(value), busy


def _server_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the server's processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _server_pids(root: int) -> list[int]:
    """nginx's process and its workers."""
    pids = [root]
    try:
        with open(f"/proc/{root}/task/{root}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return pids


def _fetched(out: str) -> int | None:
    """How many URLs a tool fetched: 2xx in netwire's summary, else the files it wrote (None:
    cannot tell, bodies named by content are written once)."""
    summary = os.path.join(out, "summary.json")
    if os.path.exists(summary):
        import json

        with open(summary) as f:
            return int(json.load(f)["ok"])
    index = os.path.join(out, "index.jsonl")  # the aiohttp script writing netwire's output
    if os.path.exists(index):
        import json

        with open(index) as f:
            return sum(1 for line in f if 200 <= (json.loads(line).get("status") or 0) < 300)
    names = [name for _, _, files in os.walk(out) for name in files]
    if names == ["out.warc.gz"]:
        from warcio.archiveiterator import ArchiveIterator

        with open(os.path.join(out, "out.warc.gz"), "rb") as f:
            return sum(record.rec_type == "response" for record in ArchiveIterator(f))
    return len(names) if len(names) > FILES else None


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
        sizes = [int(2048 * (100 ** (i / (FILES - 1)))) for i in range(FILES)]  # 2 KB .. 200 KB, log-spaced
        distinct = getattr(args, "distinct", False)
        picks = [rng.randrange(FILES) for _ in range(n_urls)]
        if distinct:  # a body per URL (as in a crawl): content-named files are all written
            for i, k in enumerate(picks):
                files[f"d/{i}.bin"] = os.urandom(sizes[k])
        else:
            for i in range(FILES):
                files[f"f{i}.bin"] = os.urandom(sizes[i])
        site = Site(listens=tuple(hosts), files=files, worker_connections=4096, http="sendfile on; tcp_nopush on;")
        os.makedirs(os.path.join(d, "nginx"))
        with nginx_server(site, os.path.join(d, "nginx"), install=True) as server:
            port = server.port
            if distinct:
                urls = [f"http://{rng.choice(hosts)}:{port}/d/{i}.bin" for i in range(n_urls)]
            else:
                urls = [f"http://{rng.choice(hosts)}:{port}/f{k}.bin?{i}" for i, k in enumerate(picks)]
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
                tools.append(([one, to_files], "aiohttp script (file per URL)",
                              [sys.executable, script, url_file, "OUT", "url"]))
                tools.append(([to_files], "aiohttp script (files by SHA-256)",
                              [sys.executable, script, url_file, "OUT", "sha256"]))
                tools.append(([to_files], "aiohttp script (netwire's files output)",
                              [sys.executable, script, url_file, "OUT", "same"]))
                import warcio  # noqa: F401

                script = os.path.join(d, "aio_warcio.py")
                with open(script, "w") as f:
                    f.write(AIOHTTP_WARCIO_SCRIPT)
                tools.append(([one], "aiohttp + warcio (WARC)", [sys.executable, script, url_file, "OUT"]))
            except ImportError as exc:
                print(f"   {exc.name} not installed: skipped", file=sys.stderr)
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
            if getattr(args, "scaling", False):  # the workers' rows alone (more rounds in the time)
                tools = [t for t in tools if scaling in t[0]]
            only = getattr(args, "only", None)
            if only:
                tools = [t for t in tools if any(word in t[1] for word in only)]
            if getattr(args, "pin_server", False) and cpus > 1:
                for pid in _server_pids(server.proc.pid):
                    os.sched_setaffinity(pid, {cpus - 1})
            pids = _server_pids(server.proc.pid)
            # name -> rounds of (URLs/s, CPU us/URL, server CPU us/URL)
            measured: dict[str, list[tuple[float, float, float]]] = {name: [] for _, name, _ in tools}
            in_workers: dict[str, list[float]] = {}
            busy_share: dict[str, list[float]] = {}
            for _ in range(rounds):
                for _, name, cmd in tools:
                    out = tempfile.mkdtemp(dir=d)
                    served = _server_cpu(pids)
                    wall, cpu = _timed([out if part == "OUT" else part for part in cmd], env)
                    served = _server_cpu(pids) - served
                    got = _fetched(out)
                    if got is not None and got < n_urls:
                        print(f"   {name}: only {got} of {n_urls} URLs fetched", file=sys.stderr)
                    measured[name].append((n_urls / wall, cpu / n_urls * 1e6, served / n_urls * 1e6))
                    inside = _worker_cpu(out)
                    if inside is not None:
                        in_workers.setdefault(name, []).append(inside[0] / n_urls * 1e6)
                        busy_share.setdefault(name, []).append(inside[1])
                    shutil.rmtree(out, ignore_errors=True)
            for groups, name, _ in tools:
                rate = _median([m[0] for m in measured[name]])
                cpu_us = _median([m[1] for m in measured[name]])
                server_us = _median([m[2] for m in measured[name]])
                for group in groups:
                    rows.append({"group": group, "name": name, "value": rate, "unit": "URLs/s", "higher": True})
                    rows.append({"group": f"{group}: CPU", "name": name, "value": cpu_us, "unit": "us/URL",
                                 "higher": False})
                    rows.append({"group": f"{group}: nginx CPU", "name": name, "value": server_us,
                                 "unit": "us/URL", "higher": False})
                if scaling in groups and name in in_workers:
                    rows.append({"group": f"{scaling}: CPU in the workers", "name": name,
                                 "value": _median(in_workers[name]), "unit": "us/URL", "higher": False})
                    # Running or waiting for a CPU, of the workers' time: near 100%, the workers
                    # were CPU-bound (the machine, not the network or politeness, set the pace).
                    rows.append({"group": f"{scaling}: CPU-bound share", "name": name,
                                 "value": 100 * _median(busy_share[name]), "unit": "%", "higher": True})
            one_rate = [m[0] for m in measured.get("netwire fetch -w 1", [])]
            for _, name, _ in tools:
                if name.startswith("netwire fetch -w ") and name[17:].isdigit() and name != "netwire fetch -w 1" and one_rate:
                    n = int(name[17:])
                    rows.append({"group": f"{scaling}: efficiency (URLs/s at N / (N x at 1))", "name": name,
                                 "value": _median([m[0] for m in measured[name]]) / (n * _median(one_rate)),
                                 "unit": "x", "higher": True})
    rows.sort(key=lambda r: ("CPU" in r["group"], r["group"]))
    return rows


if __name__ == "__main__":
    from run import netwire_ratio, print_table

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, help="rounds alternating between the tools (default 3; 1 with --quick)")
    parser.add_argument("--setup", action="store_true", help="apt-get install wget and aria2 when missing")
    parser.add_argument("--only", nargs="+", metavar="WORD", help="only the tools whose name holds one of these")
    parser.add_argument("--pin-server", action="store_true", help="keep nginx on the last CPU")
    parser.add_argument("--scaling", action="store_true", help="only netwire fetch -w 1 and -w <CPUs>")
    parser.add_argument("--distinct", action="store_true",
                        help="a distinct body per URL (default: 20 bodies, so content-named files are written once each)")
    result = run(parser.parse_args())
    netwire_ratio(result)
    print_table(result)
