"""Measure how much of each async module repeats its sync twin (issue 16).

Usage: ``python scripts/twins.py [--max N]``. For each pair (client/aio, pool/aio_pool,
connection/aio_connection) both files are normalised, then ``difflib`` finds the runs of
>= 3 equal lines; the number printed is the lines inside those runs.

Normalising, so that only *logic* written twice counts:

- comments, blank lines, import lines (``import``/``from ... import`` and their continuation
  lines) are dropped; docstrings are kept (a copied docstring is copied prose, but it is
  also a sign of copied code, and they are rare);
- ``await ``, ``async `` and the ``Async``/``aio_``/``Aio`` prefixes are stripped, so
  ``await conn.drain(...)`` equals ``conn.drain(...)`` and ``AsyncConnection`` equals
  ``Connection``;
- every ``def`` *signature* is dropped: from the ``def`` line to the line that closes its
  parameter list (ending in ``:``). Twin method signatures (``request()``, ``get()``...) are
  meant to stay twins; their bodies are counted.

Leading indentation is kept (a statement at another depth is a different block).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTTP = ROOT / "src" / "netwire" / "http"
PAIRS = [
    ("client.py", "aio.py"),
    ("pool.py", "aio_pool.py"),
    ("connection.py", "aio_connection.py"),
]
MIN_RUN = 3

_STRIP = [
    (re.compile(r"\bawait\s+"), ""),
    (re.compile(r"\basync\s+"), ""),
    (re.compile(r"\bAsync(?=[A-Z_a-z])"), ""),
    (re.compile(r"\baio_"), ""),
    (re.compile(r"\bAio(?=[A-Z])"), ""),
]


def normalise(text: str, keep_signatures: bool = False) -> list[str]:
    """The lines of ``text`` that count, normalised as the module docstring says."""
    out: list[str] = []
    in_import = False
    in_sig = False
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if in_import:
            if stripped.endswith(")"):
                in_import = False
            continue
        if in_sig:
            if re.search(r"\)(\s*->.*)?:$", stripped) or stripped.endswith(":"):
                in_sig = False
            continue
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(("import ", "from ")) and " import" in f" {stripped}":
            in_import = stripped.endswith("(")
            continue
        if re.match(r"(async\s+)?def\s", stripped) and not keep_signatures:
            if not stripped.endswith(":"):
                in_sig = True
            continue
        line = re.sub(r"\s+#.*$", "", line) if "#" in line and '"' not in line and "'" not in line else line
        for pattern, repl in _STRIP:
            line = pattern.sub(repl, line)
        out.append(line)
    return out


def shared_lines(a: list[str], b: list[str], min_run: int = MIN_RUN) -> int:
    """Lines of ``b`` inside runs of at least ``min_run`` lines equal to a run of ``a``."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks() if block.size >= min_run)


def measure(keep_signatures: bool = False) -> dict[str, tuple[int, int]]:
    """``{"client.py/aio.py": (shared lines, normalised lines of the async file)}``."""
    result = {}
    for sync_name, async_name in PAIRS:
        a = normalise((HTTP / sync_name).read_text(encoding="utf-8"), keep_signatures)
        b = normalise((HTTP / async_name).read_text(encoding="utf-8"), keep_signatures)
        result[f"{sync_name}/{async_name}"] = (shared_lines(a, b), len(b))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=None, help="exit 1 if a pair shares more lines than this")
    parser.add_argument("--show", action="store_true", help="print the shared runs")
    parser.add_argument("--keep-signatures", action="store_true", help="count def signatures too")
    args = parser.parse_args(argv)
    worst = 0
    for pair, (shared, total) in measure(args.keep_signatures).items():
        print(f"{pair:32} {shared:4} shared lines of {total}")
        worst = max(worst, shared)
        if args.show:
            sync_name, async_name = pair.split("/")
            a = normalise((HTTP / sync_name).read_text(encoding="utf-8"), args.keep_signatures)
            b = normalise((HTTP / async_name).read_text(encoding="utf-8"), args.keep_signatures)
            m = difflib.SequenceMatcher(None, a, b, autojunk=False)
            for block in m.get_matching_blocks():
                if block.size >= MIN_RUN:
                    print("  ---")
                    print("\n".join("  " + x for x in b[block.b : block.b + block.size]))
    if args.max is not None and worst > args.max:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
