#!/usr/bin/env python3
"""The classic UDP sender, written with netwire.

Sends every line of standard input as one datagram. An empty line (or the end of input) sends
an empty datagram, which tells the receiver to stop, and ends the sender.

    python examples/udp_sender.py [--host localhost] [--port 8002] < lines.txt
"""

from __future__ import annotations

import argparse
import sys

from netwire.errors import NetwireError
from netwire.sockets.udp import UDPClient


def main() -> int:
    parser = argparse.ArgumentParser(description="send stdin lines as UDP datagrams")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args()
    try:
        with UDPClient(args.host, args.port) as client:
            for line in sys.stdin:
                text = line.rstrip("\r\n")
                client.send(text.encode())
                if not text:
                    return 0
            client.send(b"")
    except (NetwireError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
