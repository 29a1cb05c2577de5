#!/usr/bin/env python3
"""Side-by-side benchmarks of netwire and its peers, run by hand (not in CI).

    python bench/run.py               # every section
    python bench/run.py http url      # only these sections
    python bench/run.py --list
    python bench/run.py http urllib --instructions   # + instructions per request (valgrind)
    python bench/run.py --build both http aio url urllib robots   # the pure and the compiled build

``--build pure|compiled|both`` runs the sections once per build, each in its own process: pure from
the checkout's src/, compiled from a mypyc build of the checkout (-O3) made on first use into
build/bench-compiled-* (and again whenever a source changes). The table then has a "netwire...
(pure)" and a "netwire... (compiled)" row in every group (the peers as the first build's process
measured them; ratios against the first build's netwire row), and one target table per build, each
against the peers of its own process. Without ``--build``, whatever netwire the path gives runs
(NETWIRE_BENCH_INSTALLED=1: the installed one instead of src/).

Each section is a module ``bench/bench_<name>.py`` defining ``run(args) -> list[Row]``. A row is a
dict: ``group`` (what is measured, e.g. "sequential GET 128 B"), ``name`` (netwire or a peer),
``value``, ``unit``, and ``higher`` (True when a bigger value is better). The table shows, for every
row, its ratio to netwire's row of the same group (>1 means netwire is ahead); CPU time per
request (this process only) sits beside each rate, and a last table gives the ratios the
performance targets name. Results go to ``bench/results.json`` (not committed).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
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
    ours: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["name"].startswith("netwire"):
            ours.setdefault(r["group"], r)  # the first: with --build both, the pure build's row
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


def print_targets(rows: list[dict[str, Any]], build: str = "") -> None:
    """One table of the ratios the performance targets are stated in (issue 19)."""
    title = f"ratio (>1: netwire{f' {build}' if build else ''} ahead)"
    print(f"\n{title:46} {'netwire':>12} {'peer':>12} {'ratio':>7} {'target':>7}")
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


def _compiled_build() -> pathlib.Path:
    """A folder holding the mypyc-compiled build of this checkout (-O3), made when missing or stale.

    Stale: a source, setup.py or the Python changed since it was made (a hash of them is kept
    beside it). Built with pip from the checkout (NETWIRE_COMPILE=require: no silent pure wheel).
    """
    root = HERE.parent
    digest = hashlib.sha256(sys.version.encode())
    for path in [root / "setup.py", *sorted((root / "src" / "netwire").rglob("*.py"))]:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    tag = f"{sys.implementation.cache_tag}-{digest.hexdigest()[:16]}"
    target = root / "build" / f"bench-compiled-{sys.implementation.cache_tag}"
    stamp = target / ".netwire-bench-stamp"
    if stamp.exists() and stamp.read_text() == tag:
        return target
    print(f"building the compiled netwire (-O3) into {target} (a minute or two)", file=sys.stderr, flush=True)
    env = {**os.environ, "NETWIRE_COMPILE": "require", "NETWIRE_COMPILE_OPT": "3"}
    with tempfile.TemporaryDirectory(prefix="netwire-bench-wheel-") as tmp:
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "wheel", "--no-deps", "-w", tmp, str(root)], env=env, check=True)
        wheels = list(pathlib.Path(tmp).glob("netwire-*.whl"))
        if len(wheels) != 1 or wheels[0].name.endswith("-none-any.whl"):
            raise SystemExit(f"expected one compiled wheel, got {[w.name for w in wheels]}")
        subprocess.run([*pip, "install", "--no-deps", "--upgrade", "--target", str(target), str(wheels[0])],
                       check=True)
    stamp.write_text(tag)
    return target


def _run_build(build: str, argv: list[str]) -> list[dict[str, Any]]:
    """Runs this script for one build in a child process and returns its rows, names marked."""
    env = dict(os.environ)
    env["NETWIRE_BENCH_EXPECT"] = build
    if build == "compiled":
        env["NETWIRE_BENCH_INSTALLED"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_compiled_build()), env.get("PYTHONPATH")]))
    else:
        env.pop("NETWIRE_BENCH_INSTALLED", None)
    with tempfile.TemporaryDirectory(prefix="netwire-bench-") as tmp:
        out = pathlib.Path(tmp) / "rows.json"
        print(f"==== netwire ({build})", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(pathlib.Path(__file__).resolve()), *argv, "--rows-out", str(out)],
                       env=env, check=True)
        rows: list[dict[str, Any]] = json.loads(out.read_text())
    for r in rows:
        r["build"] = build
    return rows


def _merge(runs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One table: the first build's rows, each group followed by the other builds' netwire rows."""
    builds = list(runs)
    first = runs[builds[0]]
    merged: list[dict[str, Any]] = []
    groups = list(dict.fromkeys(r["group"] for r in first))
    for group in groups:
        for r in first:
            if r["group"] == group:
                merged.append(dict(r, name=f"{r['name']} ({r['build']})") if r["name"].startswith("netwire") else r)
        for build in builds[1:]:
            merged.extend(
                dict(r, name=f"{r['name']} ({build})")
                for r in runs[build]
                if r["group"] == group and r["name"].startswith("netwire")
            )
    return merged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", help="sections to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the sections")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    parser.add_argument(
        "--instructions", action="store_true",
        help="also count user-space instructions per request with valgrind (slow; where a section supports it)",
    )
    parser.add_argument(
        "--build", choices=["pure", "compiled", "both"],
        help="bench this build of netwire (both: one after the other, in one table); see above",
    )
    parser.add_argument("--rows-out", help=argparse.SUPPRESS)  # a --build child writes its rows here
    args = parser.parse_args()
    if args.list:
        print("\n".join(sections()))
        return 0
    chosen = args.sections or sections()
    if args.build:
        for name in chosen:
            if name not in sections():
                parser.error(f"no section {name!r}; have {', '.join(sections())}")
        argv = [*chosen, *(["--quick"] if args.quick else []), *(["--instructions"] if args.instructions else [])]
        builds = ["pure", "compiled"] if args.build == "both" else [args.build]
        runs = {build: _run_build(build, argv) for build in builds}
        rows = _merge(runs)
        netwire_ratio(rows)
        print_table(rows)
        for build, build_rows in runs.items():
            print_targets(build_rows, build)
        out = HERE / "results.json"
        out.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows, "runs": runs}, indent=1))
        print(f"\nwrote {out}", file=sys.stderr)
        return 0
    import netwire  # now, so every section uses this one (some put src/ on sys.path themselves)

    build = "compiled" if netwire.__compiled__ else "pure"
    print(f"netwire {netwire.__version__} ({build}) from {pathlib.Path(netwire.__file__).parent}", file=sys.stderr)
    expected = os.environ.get("NETWIRE_BENCH_EXPECT")
    if expected and expected != build:
        raise SystemExit(f"asked to bench the {expected} build, but the {build} one imports")
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
    if args.rows_out:
        pathlib.Path(args.rows_out).write_text(json.dumps(rows))
        return 0
    netwire_ratio(rows)
    print_table(rows)
    print_targets(rows)
    out = HERE / "results.json"
    out.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows}, indent=1))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
