#!/usr/bin/env python3
"""The classic "welcome" TCP server, written with netwire.

Listens on port 8001 (IPv4 and IPv6). For each line a client sends it answers
``welcome to server`` if the line is ``1``, and otherwise ``please go out`` and hangs up.
A client silent for 5 seconds is disconnected. Many clients are served at once; Ctrl-C (or
SIGTERM) stops accepting and lets connections in progress finish.

What netwire does that the hand-written version usually gets wrong: the request is read up to
its newline however TCP splits it (no lost ``recv`` boundary), the timeout raises one clear
exception and closes only that client, one slow client never blocks the others, the listening
socket is always closed, and the port can be reused at once (SO_REUSEADDR).

    python examples/welcome_server.py [--port 8001] [--host HOST]
"""

from __future__ import annotations

import argparse
import logging

from netwire.sockets.stream import Stream
from netwire.sockets.tcp import TCPServer, serve_tcp


def handle(stream: Stream) -> None:
    """One client: answer each line until it says something other than 1."""
    print(f"connection from {stream.peer}", flush=True)
    while line := stream.readline(max_size=1024):  # the classic recv(1024) limit, done right
        if line.strip() == b"1":
            stream.send_all(b"welcome to server\n")
        else:
            stream.send_all(b"please go out\n")
            return


def main() -> None:
    parser = argparse.ArgumentParser(description="the classic welcome server")
    parser.add_argument("--host", default=None, help="address to listen on (default: all)")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def ready(server: TCPServer) -> None:
        print(f"welcome server listening on port {server.port}", flush=True)

    serve_tcp(handle, args.host, args.port, timeout=5.0, ready=ready)
    print("welcome server stopped", flush=True)


if __name__ == "__main__":
    main()
