#!/usr/bin/env python3
"""Refresh netwire's vendored Public Suffix List (src/netwire/public_suffix_list.dat).

    python scripts/update_public_suffix_list.py                 # from publicsuffix.org
    python scripts/update_public_suffix_list.py --from FILE     # a .dat file, or a wheel holding one

The list is the Mozilla Public License 2.0 file of https://publicsuffix.org/, kept unchanged:
its header carries the licence, and its ``// VERSION:`` and ``// COMMIT:`` lines say which
snapshot it is. Without network access to publicsuffix.org, ``pip download publicsuffixlist
--no-deps`` gives a wheel that republishes the file; pass that wheel with ``--from``.

The new file is checked before it replaces the old one (the licence header, both sections,
the rules netwire's tests rely on, and a sane size), and the change of VERSION is printed.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

UPSTREAM = "https://publicsuffix.org/list/public_suffix_list.dat"
TARGET = Path(__file__).resolve().parent.parent / "src" / "netwire" / "public_suffix_list.dat"
# Rules the test suite (tests/cve/test_cookie_public_suffix.py) relies on.
REQUIRED = ("co.uk", "github.io", "s3.amazonaws.com", "*.kawasaki.jp", "!city.kawasaki.jp", "*.ck", "!www.ck")


def _version(text: str) -> str:
    for line in text.splitlines()[:40]:
        if line.startswith("// VERSION:"):
            return line.removeprefix("// VERSION:").strip()
    return "(no VERSION line)"


def _read_source(source: str | None) -> str:
    if source is None:
        # netwire itself fetches it: no urllib.request in this project.
        sys.path.insert(0, str(TARGET.parent.parent))
        import netwire

        with netwire.Client(timeout=30) as client:
            response = client.get(UPSTREAM)
            response.raise_for_status()
            return response.content.decode("utf-8")
    path = Path(source)
    if path.suffix == ".whl" or zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            names = [n for n in wheel.namelist() if n.endswith("public_suffix_list.dat")]
            if not names:
                raise SystemExit(f"{path}: no public_suffix_list.dat inside")
            return wheel.read(names[0]).decode("utf-8")
    return path.read_text("utf-8")


def check(text: str) -> None:
    """Refuse a file that is not a whole Public Suffix List."""
    problems = []
    if "Mozilla Public" not in text[:400] or "MPL/2.0" not in text[:400]:
        problems.append("the MPL 2.0 licence header is missing")
    for marker in ("===BEGIN ICANN DOMAINS===", "===END ICANN DOMAINS===",
                   "===BEGIN PRIVATE DOMAINS===", "===END PRIVATE DOMAINS==="):
        if marker not in text:
            problems.append(f"no {marker!r} line")
    rules = {line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("//")}
    missing = [r for r in REQUIRED if r not in rules]
    if missing:
        problems.append(f"rules missing: {', '.join(missing)}")
    if len(rules) < 5000:
        problems.append(f"only {len(rules)} rules")
    if problems:
        raise SystemExit("refusing the new list: " + "; ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", metavar="FILE", help="a .dat file or a wheel holding one")
    parser.add_argument("--check", action="store_true", help="only check the vendored file")
    args = parser.parse_args(argv)
    old = TARGET.read_text("utf-8") if TARGET.exists() else ""
    if args.check:
        check(old)
        print(f"{TARGET}: ok, VERSION {_version(old)}")
        return 0
    new = _read_source(args.source)
    check(new)
    TARGET.write_text(new, "utf-8", newline="\n")
    print(f"{TARGET}: VERSION {_version(old)} -> {_version(new)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
