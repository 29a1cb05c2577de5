#!/usr/bin/env python3
"""The client of the classic "welcome" server, written with netwire.

Sends each MESSAGE (default: ``1``) as a line and prints the server's answer. IPv6 or IPv4,
whichever answers first (happy eyeballs); a refused or silent server gives one clear error.

    python examples/welcome_client.py [--host localhost] [--port 8001] [MESSAGE ...]
"""

from __future__ import annotations

import argparse
import sys

from netwire.errors import NetwireError
from netwire.sockets.tcp import connect_tcp


def main() -> int:
    parser = argparse.ArgumentParser(description="client of the welcome server")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("messages", nargs="*", default=["1"])
    args = parser.parse_args()
    try:
        with connect_tcp(args.host, args.port, timeout=5.0) as stream:
            for message in args.messages:
                stream.send_line(message.encode())
                answer = stream.recv_line()
                if answer is None:
                    print("server closed the connection")
                    break
                print(answer.decode())
    except NetwireError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
