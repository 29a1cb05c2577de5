#!/usr/bin/env python3
"""The classic UDP receiver, written with netwire.

Prints every datagram and the address it came from; stops at an empty datagram.

    python examples/udp_receiver.py [--host HOST] [--port 8002]
"""

from __future__ import annotations

import argparse
from typing import Any

from netwire.sockets.stream import describe_address
from netwire.sockets.udp import UDPServer


def main() -> None:
    parser = argparse.ArgumentParser(description="print received UDP datagrams")
    parser.add_argument("--host", default=None, help="address to listen on (default: all)")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args()

    def handler(data: bytes, address: Any) -> None:
        if not data:
            print("empty datagram: stopping", flush=True)
            server.stop()
            return
        print(f"received {data.decode(errors='replace')!r} from {describe_address(address)}", flush=True)

    server = UDPServer(handler, args.host, args.port)
    print(f"udp receiver listening on port {server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.close()


if __name__ == "__main__":
    main()
