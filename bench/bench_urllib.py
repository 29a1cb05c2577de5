"""urllib face benchmark: ``netwire.request.urlopen(url).read()`` against ``urllib.request.urlopen``.

The same loop, the same nginx on loopback, one run (the two take turns, best of 5 rounds each): sequential GETs of a 128-byte file, and
of the same file through a redirect chain of 3 (``HTTPRedirectHandler`` at work). urllib opens
a new connection for every call; netwire.request reuses the shared Client's pooled one.
Target: netwire.request at >= 2x urllib's requests per second.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import instructions

from servers import nginx

Row = dict[str, Any]


def _interleaved_rates(
    clients: dict[str, Callable[[], Any]], n: int, rounds: int = 5
) -> dict[str, tuple[float, float]]:
    """Best requests per second, and least CPU time per request (µs, this process), of each
    client over ``rounds`` rounds of ``n`` calls.

    The clients take turns round by round, so a burst of load on the machine hits both
    instead of whichever happened to be measured at that moment. The CPU figure does not
    depend on how busy the machine is; the rate does.
    """
    for fn in clients.values():
        for _ in range(50):
            fn()
    best = {name: (0.0, float("inf")) for name in clients}
    for _ in range(rounds):
        for name, fn in clients.items():
            t = time.perf_counter()
            cpu = time.process_time()
            for _ in range(n):
                fn()
            cpu = time.process_time() - cpu
            rate = n / (time.perf_counter() - t)
            best[name] = (max(best[name][0], rate), min(best[name][1], cpu / n * 1e6))
    return best


def run(args: argparse.Namespace) -> list[Row]:
    import netwire.request

    rows: list[Row] = []
    n = 200 if args.quick else 1000
    with nginx(big_size=1 << 20) as base:
        for group, path in (("urlopen GET 128 B (req/s)", "/small.bin"), ("urlopen 3 redirects (req/s)", "/redirect/1")):
            url = base + path
            expected = urllib.request.urlopen(url).read()
            clients: dict[str, Callable[[], bytes]] = {
                "netwire.request.urlopen": lambda url=url: netwire.request.urlopen(url).read(),
                "urllib.request.urlopen": lambda url=url: urllib.request.urlopen(url).read(),
            }
            for name, fn in clients.items():
                if fn() != expected:
                    raise RuntimeError(f"{name} read a different body from {url}")
            print(f"   {group}", file=sys.stderr, flush=True)
            cpu_group = group.replace("(req/s)", "(CPU µs/req)")
            for name, (rate, cpu) in _interleaved_rates(clients, n).items():
                rows.append({"group": group, "name": name, "value": rate, "unit": "req/s", "higher": True})
                rows.append({"group": cpu_group, "name": name, "value": cpu, "unit": "µs", "higher": False})
            if getattr(args, "instructions", False) and instructions.available():
                setups = {"netwire.request.urlopen": "import netwire.request as m", "urllib.request.urlopen":
                          "import urllib.request as m"}
                for name, setup in setups.items():
                    print(f"   {group}: instructions of {name} (valgrind)", file=sys.stderr, flush=True)
                    ir = instructions.per_call(setup, f"m.urlopen({url!r}).read()")
                    if ir is not None:
                        rows.append({"group": group.replace("(req/s)", "(instructions/req)"), "name": name,
                                     "value": ir, "unit": "instr", "higher": False})
    rows.sort(key=lambda r: ("CPU" in r["group"], "instructions" in r["group"]))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    for row in run(parser.parse_args()):
        print(f"{row['group']:32} {row['name']:26} {row['value']:10.0f} {row['unit']}")
