"""The ``netwire`` command against curl: ``netwire get -o`` vs ``curl -o`` of a 64 MiB file from nginx.

Wall time of the whole process (start-up included), each run as a fresh subprocess, the two commands
alternating so that both see the same machine load. The median of the runs is reported (one run with
--quick). Target: netwire within 1.5x of curl. A third row runs the same command in this process, to
separate the transfer from the interpreter's start-up (which curl, a C program, does not pay).

    python bench/run.py cli
    python bench/bench_cli.py          # the same, standalone, with the ratio printed
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from servers import nginx

SIZE = 64 * 1024 * 1024


def curl_binary() -> str:
    found = shutil.which("curl")
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "curl"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return "curl"


def _time(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def run(args: Any) -> list[dict[str, Any]]:
    runs = 1 if getattr(args, "quick", False) else 11
    curl = curl_binary()
    with nginx(SIZE) as base, tempfile.TemporaryDirectory(prefix="netwire-bench-cli-") as d:
        url = base + "/big.bin"
        ours, theirs = os.path.join(d, "netwire.bin"), os.path.join(d, "curl.bin")
        commands = {
            "netwire get -o": [sys.executable, "-m", "netwire", "get", "-s", "-o", ours, url],
            "curl -o": [curl, "-s", "-o", theirs, url],
        }
        # As installed: with compiled .pyc files. (Some environments set PYTHONDONTWRITEBYTECODE,
        # which makes every start compile netwire's sources again: ~40 ms that no user pays.)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = os.path.join(d, "pycache")
        for cmd in commands.values():  # warm the page cache and the .pyc files
            _time(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, cmd in commands.items():
                times[name].append(_time(cmd, env))
        if not filecmp.cmp(ours, theirs, shallow=False) or os.path.getsize(ours) != SIZE:
            raise RuntimeError("netwire and curl downloaded different files")
        # Resume: cut the file to 40 % and let -C - fetch the rest; it must come out byte-identical.
        with open(ours, "r+b") as f:
            f.truncate(SIZE * 2 // 5)
        resumed = _time([*commands["netwire get -o"][:4], "-C", "-", *commands["netwire get -o"][4:]], env)
        if not filecmp.cmp(ours, theirs, shallow=False):
            raise RuntimeError("the resumed download differs from curl's")
        # The same command run in this process: the transfer without the interpreter's start-up.
        from netwire.cli.main import main as netwire_main

        inproc = []
        for _ in range(runs):
            started = time.perf_counter()
            if netwire_main(["get", "-s", "-o", ours, url]) != 0:
                raise RuntimeError("netwire get failed")
            inproc.append(time.perf_counter() - started)
        # Start-up alone: what every invocation pays before any work (the command table imports
        # only the module of the command that runs; --help and --version import none).
        startup = {
            "netwire --version": [sys.executable, "-m", "netwire", "--version"],
            "netwire --help": [sys.executable, "-m", "netwire", "--help"],
            "curl --version": [curl, "--version"],
        }
        for cmd in startup.values():
            _time(cmd, env)
        start_times: dict[str, list[float]] = {name: [] for name in startup}
        for _ in range(runs):
            for name, cmd in startup.items():
                start_times[name].append(_time(cmd, env))
    group = "download 64 MiB to a file (wall)"
    rows = [
        {"group": group, "name": name, "value": statistics.median(t), "unit": "s", "higher": False,
         "runs": t}
        for name, t in times.items()
    ]
    rows.append({"group": "resume the last 60 % of 64 MiB (-C -)", "name": "netwire get -C - -o",
                 "value": resumed, "unit": "s", "higher": False, "runs": [resumed]})
    rows.append({"group": "download 64 MiB, in-process (no start-up)", "name": "netwire get -o (main())",
                 "value": statistics.median(inproc), "unit": "s", "higher": False, "runs": inproc})
    rows += [
        {"group": "start-up (wall)", "name": name, "value": statistics.median(t), "unit": "s", "higher": False,
         "runs": t}
        for name, t in start_times.items()
    ]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run each")
    rows = run(parser.parse_args())
    for r in rows:
        runs = ", ".join(f"{t:.3f}" for t in r["runs"])
        print(f"{r['name']:16} median {r['value']:.3f} s  min {min(r['runs']):.3f} s  ({runs})")
    ours, theirs = rows[0]["runs"], rows[1]["runs"]
    pairs = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    print(f"netwire / curl: median of run pairs {pairs:.2f}x, of medians {rows[0]['value'] / rows[1]['value']:.2f}x, "
          f"of minimums {min(ours) / min(theirs):.2f}x (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    raise SystemExit(main())
