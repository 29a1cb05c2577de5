#!/usr/bin/env python3
"""Side-by-side benchmarks of netwire and its peers, run by hand (not in CI).

    python bench/run.py               # every section
    python bench/run.py http url      # only these sections
    python bench/run.py --list

Each section is a module ``bench/bench_<name>.py`` defining ``run(args) -> list[Row]``. A row is a
dict: ``group`` (what is measured, e.g. "sequential GET 128 B"), ``name`` (netwire or a peer),
``value``, ``unit``, and ``higher`` (True when a bigger value is better). The table shows, for every
row, its ratio to netwire's row of the same group (>1 means netwire is ahead). Results go to
``bench/results.json`` (not committed).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pathlib
import sys
import time
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", help="sections to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the sections")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    if args.list:
        print("\n".join(sections()))
        return 0
    chosen = args.sections or sections()
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
    out = HERE / "results.json"
    out.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows}, indent=1))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
