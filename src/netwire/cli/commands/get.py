"""``netwire get URL``: fetch a URL, body to stdout (``-i``: status line and headers first)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..output import print_error

EXIT_OK = 0


def register(sub: Any) -> None:
    p = sub.add_parser("get", help="GET a URL and write the body to stdout", description=__doc__)
    p.add_argument("url", help="the URL to fetch")
    p.add_argument("-i", "--include", action="store_true", help="print the status line and headers first")
    p.add_argument("-H", "--header", action="append", default=[], metavar="'Name: value'", help="add a header")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds (connect, read, write); default 30")
    p.add_argument("-k", "--insecure", action="store_true", help="do not verify TLS certificates (unsafe)")
    p.add_argument("--cacert", metavar="FILE", help="CA bundle to verify the server with")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import netwire

    headers = []
    for h in args.header:
        name, sep, value = h.partition(":")
        if not sep:
            print(f"netwire: bad header {h!r}: expected 'Name: value'", file=sys.stderr)
            return 2
        headers.append((name.strip(), value.strip()))
    verify: Any = args.cacert or (not args.insecure)
    if args.insecure:
        print("netwire: warning: TLS certificate verification is OFF (--insecure)", file=sys.stderr)
    out = sys.stdout.buffer
    try:
        with netwire.Client(timeout=args.timeout, verify=verify) as client, client.stream(
            "GET", args.url, headers=headers
        ) as response:
            if args.include:
                out.write(f"HTTP/{response.http_version} {response.status} {response.reason}\r\n".encode("latin-1"))
                for name, value in response.headers.multi_items():
                    out.write(f"{name}: {value}\r\n".encode("latin-1"))
                out.write(b"\r\n")
            for chunk in response.iter_bytes():
                out.write(chunk)
            out.flush()
    except netwire.NetwireError as exc:
        return print_error(exc)
    return EXIT_OK
