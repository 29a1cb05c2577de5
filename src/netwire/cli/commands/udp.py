"""``netwire udp listen PORT`` and ``netwire udp send HOST PORT``: netcat-like UDP.

``listen`` writes every datagram's data to standard output (with ``--show-address``, prefixed by
the sender's address), and stops on an empty datagram or after ``--count`` datagrams; ``--echo``
sends each datagram back. ``send`` sends its MESSAGE argument, or else every line of standard
input, as one datagram each; ``--reply`` waits for (and prints) one answer per datagram.
"""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from ...errors import NetwireError
from ..parsing import plain
from .tcp import address_text


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("udp", help="netcat-like UDP: listen, send", description=plain(__doc__))
    sub = p.add_subparsers(dest="udp_command", metavar="{listen,send}", required=True)

    lp = sub.add_parser("listen", help="print received datagrams")
    lp.add_argument("port", type=int, help="port to listen on (0: any free port)")
    lp.add_argument("--host", default=None, help="address to bind (default: all, IPv4 and IPv6)")
    lp.add_argument("--count", type=int, default=None, help="stop after N datagrams")
    lp.add_argument("--echo", action="store_true", help="send every datagram back to its sender")
    lp.add_argument("--show-address", action="store_true", help="prefix each datagram with its sender")
    lp.set_defaults(func=_listen)

    sp = sub.add_parser("send", help="send datagrams (MESSAGE, or one per stdin line)")
    sp.add_argument("host")
    sp.add_argument("port", type=int)
    sp.add_argument("message", nargs="?", default=None, help="the datagram (default: read stdin lines)")
    sp.add_argument("--reply", action="store_true", help="wait for a reply to each datagram and print it")
    sp.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for a reply (default: 2)")
    sp.add_argument("--retries", type=int, default=2, help="resends when no reply comes (default: 2)")
    sp.set_defaults(func=_send)


def _err(msg: str) -> None:
    print(f"netwire: {msg}", file=sys.stderr, flush=True)


def _listen(args: argparse.Namespace) -> int:
    from ...sockets.udp import UDPServer, serve_udp

    out = sys.stdout.buffer
    seen = [0]
    holder: list[UDPServer] = []

    def handler(data: bytes, addr: Any) -> bytes | None:
        if not data:
            holder[0].stop()
            return None
        seen[0] += 1
        if args.show_address:
            out.write(f"{address_text(addr)}: ".encode())
        out.write(data if data.endswith(b"\n") else data + b"\n")
        out.flush()
        if args.count is not None and seen[0] >= args.count:
            holder[0].stop()
        return data if args.echo else None

    def ready(server: UDPServer) -> None:
        holder.append(server)
        _err(f"listening on {address_text(server.address)} (udp)")

    try:
        serve_udp(handler, args.host, args.port, ready=ready)
    except OSError as exc:
        _err(f"cannot listen on udp port {args.port}: {exc}")
        return 1
    return 0


def _send(args: argparse.Namespace) -> int:
    from ...sockets.udp import UDPClient

    if args.message is not None:
        messages = [args.message.encode()]
    else:
        messages = [line.rstrip(b"\r\n") for line in sys.stdin.buffer]
    try:
        with UDPClient(args.host, args.port, timeout=args.timeout, family=socket.AF_UNSPEC) as client:
            for message in messages:
                if args.reply:
                    reply = client.request(message, retries=args.retries)
                    sys.stdout.buffer.write(reply if reply.endswith(b"\n") else reply + b"\n")
                    sys.stdout.flush()
                else:
                    client.send(message)
    except (NetwireError, ValueError) as exc:
        _err(str(exc))
        return 1
    return 0
