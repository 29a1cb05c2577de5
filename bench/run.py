#!/usr/bin/env python3
"""Side-by-side benchmarks of netwire and its peers, run by hand (not in CI).

    python bench/run.py               # every section
    python bench/run.py http url      # only these sections
    python bench/run.py --list
    python bench/run.py http urllib --instructions   # + instructions per request (valgrind)

Each section is a module ``bench/bench_<name>.py`` defining ``run(args) -> list[Row]``. A row is a
dict: ``group`` (what is measured, e.g. "sequential GET 128 B"), ``name`` (netwire or a peer),
``value``, ``unit``, and ``higher`` (True when a bigger value is better). The table shows, for every
row, its ratio to netwire's row of the same group (>1 means netwire is ahead); CPU time per
request (this process only) sits beside each rate, and a last table gives the ratios the
performance targets name. Results go to ``bench/results.json`` (not committed).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import sys
import time
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if os.environ.get("NETWIRE_BENCH_INSTALLED") != "1":  # =1: bench the installed netwire (e.g. the compiled build)
    sys.path.insert(0, str(HERE.parent / "src"))


def sections() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def netwire_ratio(rows: list[dict[str, Any]]) -> None:
    """Adds 'ratio': how many times better netwire is than this row (>1: netwire ahead)."""
    ours = {r["group"]: r for r in rows if r["name"].startswith("netwire")}
    for r in rows:
        base = ours.get(r["group"])
        if base is None or not r["value"] or not base["value"]:
            r["ratio"] = None
        elif r["higher"]:
            r["ratio"] = base["value"] / r["value"]
        else:
            r["ratio"] = r["value"] / base["value"]


def print_table(rows: list[dict[str, Any]]) -> None:
    group = None
    print(f"{'group':34} {'client':28} {'value':>14} {'unit':8} {'netwire is':>11}")
    for r in rows:
        g = r["group"] if r["group"] != group else ""
        group = r["group"]
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}x"
        print(f"{g:34} {r['name']:28} {r['value']:14.2f} {r['unit']:8} {ratio:>11}")


# The ratios issue 19 sets targets for: (what, group, netwire's row, the peer's row or "best
# peer", target). A ratio > 1 means netwire is ahead; rows missing from the run are left out.
TARGETS: list[tuple[str, str, str, str, float]] = [
    ("sequential GET 128 B, req/s vs pycurl", "sequential GET 128 B (req/s)", "netwire.Client", "pycurl", 1.2),
    ("sequential GET 128 B, CPU vs pycurl", "sequential GET 128 B (CPU µs/req)", "netwire.Client", "pycurl", 1.2),
    ("sequential GET 128 B, instructions vs pycurl", "sequential GET 128 B (instructions/req)", "netwire.Client",
     "pycurl", 1.2),
    ("sequential GET 128 B, req/s vs urllib3", "sequential GET 128 B (req/s)", "netwire.Client",
     "urllib3.PoolManager", 0.0),
    ("sequential GET 128 B, req/s vs rnet", "sequential GET 128 B (req/s)", "netwire.Client", "rnet", 1.0),
    ("sequential GET 128 B, CPU vs rnet", "sequential GET 128 B (CPU µs/req)", "netwire.Client", "rnet", 1.0),
    ("sequential GET 128 B, req/s vs httpx", "sequential GET 128 B (req/s)", "netwire.Client", "httpx.Client", 0.0),
    ("20 conns async (asyncio) vs aiohttp", "20 conns, {n} GETs (asyncio)", "netwire.AsyncClient", "aiohttp", 2.5),
    ("20 conns async (uvloop) vs aiohttp", "20 conns, {n} GETs (uvloop)", "netwire.AsyncClient", "aiohttp", 3.0),
    ("20 conns async (uvloop) vs pycurl multi", "20 conns, {n} GETs (uvloop)", "netwire.AsyncClient",
     "pycurl multi (C, no loop)", 0.0),
    ("20 conns async CPU (asyncio) vs aiohttp", "CPU per GET (asyncio)", "netwire.AsyncClient", "aiohttp", 0.0),
    ("download 64 MiB vs the best peer", "download 64 MiB (MB/s)", "netwire.Client", "best peer", 1.0),
    ("urlopen GET 128 B vs urllib", "urlopen GET 128 B (req/s)", "netwire.request.urlopen",
     "urllib.request.urlopen", 3.0),
    ("urlopen GET 128 B CPU vs urllib", "urlopen GET 128 B (CPU µs/req)", "netwire.request.urlopen",
     "urllib.request.urlopen", 3.0),
    ("urlopen GET 128 B instructions vs urllib", "urlopen GET 128 B (instructions/req)", "netwire.request.urlopen",
     "urllib.request.urlopen", 3.0),
    ("urlsplit vs urllib.parse", "urlsplit 10k (caches cleared)", "netwire.parse", "urllib.parse", 1.5),
    ("urlsplit instructions vs urllib.parse", "urlsplit (instructions/url, caches cleared)", "netwire.parse",
     "urllib.parse", 1.5),
    ("urljoin vs urllib.parse", "urljoin 10k (caches cleared)", "netwire.parse", "urllib.parse", 1.5),
    ("urljoin instructions vs urllib.parse", "urljoin (instructions/url, caches cleared)", "netwire.parse",
     "urllib.parse", 1.5),
    ("robots can_fetch vs protego", "robots: {n}k can_fetch", "netwire", "protego", 10.0),
    ("robots can_fetch instructions vs protego", "robots: can_fetch (instructions/call)", "netwire", "protego", 10.0),
]


def _find(rows: list[dict[str, Any]], pattern: str, name: str) -> dict[str, Any] | None:
    head, _, tail = pattern.partition("{n}")
    for r in rows:
        g = r["group"]
        if r["name"] == name and (g == pattern or ("{n}" in pattern and g.startswith(head) and g.endswith(tail))):
            return r
    return None


def print_targets(rows: list[dict[str, Any]]) -> None:
    """One table of the ratios the performance targets are stated in (issue 19)."""
    print(f"\n{'ratio (>1: netwire ahead)':46} {'netwire':>12} {'peer':>12} {'ratio':>7} {'target':>7}")
    for what, group, ours, peer, target in TARGETS:
        mine = _find(rows, group, ours)
        if mine is None:
            continue
        if peer == "best peer":
            others = [r for r in rows if r["group"] == mine["group"] and r is not mine and r["value"]]
            if not others:
                continue
            theirs = max(others, key=lambda r: r["value"]) if mine["higher"] else min(others, key=lambda r: r["value"])
        else:
            found = _find(rows, group, peer)
            if found is None:
                continue
            theirs = found
        if not mine["value"] or not theirs["value"]:
            continue
        ratio = mine["value"] / theirs["value"] if mine["higher"] else theirs["value"] / mine["value"]
        goal = f">={target:g}x" if target else ""
        print(f"{what:46} {mine['value']:12.1f} {theirs['value']:12.1f} {ratio:6.2f}x {goal:>7}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", help="sections to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the sections")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    parser.add_argument(
        "--instructions", action="store_true",
        help="also count user-space instructions per request with valgrind (slow; where a section supports it)",
    )
    args = parser.parse_args()
    if args.list:
        print("\n".join(sections()))
        return 0
    chosen = args.sections or sections()
    import netwire  # now, so every section uses this one (some put src/ on sys.path themselves)

    build = "compiled" if netwire.__compiled__ else "pure"
    print(f"netwire {netwire.__version__} ({build}) from {pathlib.Path(netwire.__file__).parent}", file=sys.stderr)
    rows: list[dict[str, Any]] = []
    for name in chosen:
        if name not in sections():
            parser.error(f"no section {name!r}; have {', '.join(sections())}")
        module = importlib.import_module(f"bench_{name}")
        started = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        section_rows = module.run(args)
        for r in section_rows:
            r.setdefault("section", name)
        rows.extend(section_rows)
        print(f"   ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    netwire_ratio(rows)
    print_table(rows)
    print_targets(rows)
    out = HERE / "results.json"
    out.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows}, indent=1))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
