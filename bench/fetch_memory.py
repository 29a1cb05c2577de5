#!/usr/bin/env python3
"""Memory of a long ``netwire fetch`` run: RSS after 10k, 100k and 1M URLs (run by hand; slow).

One nginx (the test suite's launcher) answers as ``--hosts`` loopback addresses with a tiny
body and a robots.txt; a generated list of ``--urls`` URLs spreads over them. ``netwire fetch
-w 1`` (one process: the shard runs in the CLI's own process) fetches it into WARC files while
this script samples the process's resident memory and the index's length. Memory is flat when
the RSS at 1M is about the RSS at 100k.

    python bench/fetch_memory.py --urls 1000000 --hosts 5000
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tests.servers.nginx import Site, nginx_server  # noqa: E402

MARKS = (10_000, 100_000, 1_000_000)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=1_000_000)
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--keep", help="output folder to keep (default: a temporary one)")
    args = parser.parse_args()
    hosts = [f"127.{1 + i // 62500}.{i // 250 % 250}.{1 + i % 250}" for i in range(args.hosts)]
    rng = random.Random(3)
    with tempfile.TemporaryDirectory(prefix="netwire-fetch-memory-") as d:
        site = Site(
            listens=tuple(hosts), worker_connections=args.hosts + 1024,
            files={"robots.txt": b"User-agent: *\nDisallow: /private\n", "page.html": b"<p>tiny</p>\n" * 8},
        )
        os.makedirs(os.path.join(d, "nginx"))
        with nginx_server(site, os.path.join(d, "nginx"), install=True) as server:
            url_file = os.path.join(d, "urls.txt")
            with open(url_file, "w") as f:
                for i in range(args.urls):
                    f.write(f"http://{rng.choice(hosts)}:{server.port}/page.html?{i}\n")
            out = args.keep or os.path.join(d, "out")
            env = {**os.environ, "PYTHONPATH": os.path.join(os.path.dirname(HERE), "src")}
            started = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-m", "netwire", "fetch", url_file, "-o", out, "-w", "1", "-q"], env=env
            )
            index = os.path.join(out, "index-000.jsonl")
            lines = 0
            seen = 0
            marks = [m for m in MARKS if m <= args.urls]
            peak = 0
            print(f"{'URLs done':>10} {'RSS MiB':>8} {'peak MiB':>9} {'seconds':>8}", flush=True)
            while proc.poll() is None:
                time.sleep(0.5)
                try:
                    rss = rss_kib(proc.pid)
                except OSError:
                    break
                peak = max(peak, rss)
                if os.path.exists(index):
                    with open(index, "rb") as f:
                        f.seek(seen)
                        chunk = f.read()
                    seen += len(chunk)
                    lines += chunk.count(b"\n")
                while marks and lines >= marks[0]:
                    print(f"{lines:>10} {rss / 1024:>8.1f} {peak / 1024:>9.1f} {time.monotonic() - started:>8.0f}",
                          flush=True)
                    marks.pop(0)
            print(f"exit {proc.wait()}; {args.urls} URLs ({lines} indexed while running) in {time.monotonic() - started:.0f} s; peak RSS {peak / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
