"""``netwire ping HOST``: ICMP echo over IPv4 or IPv6 (unprivileged ICMP socket where the kernel
allows it, else a raw socket, which needs root); prints each reply's RTT, then loss and RTT stats.
Exit status: 0 if any reply came, 1 if none did, 2 if pinging was not possible (no permission,
no ICMP socket), 6 if the host name could not be resolved."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from ...errors import ConnectError, NetwireError
from ..parsing import plain

#: Exit codes (docs/cli.md): 6 is the HTTP commands' "host name could not be resolved" too.
EXIT_REPLIED, EXIT_NO_REPLY, EXIT_NOT_POSSIBLE, EXIT_UNRESOLVED = 0, 1, 2, 6


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("ping", help="ICMP echo: RTT and loss (IPv4/IPv6)", description=plain(__doc__))
    p.add_argument("host")
    p.add_argument("-c", "--count", type=int, default=4, help="requests to send (default: 4)")
    p.add_argument("-i", "--interval", type=float, default=1.0, help="seconds between requests (default: 1)")
    p.add_argument("-W", "--timeout", type=float, default=1.0, help="seconds to wait for each reply (default: 1)")
    p.add_argument("-s", "--size", type=int, default=56, help="payload bytes (default: 56)")
    p.add_argument("-4", dest="family", action="store_const", const=4, help="IPv4 only")
    p.add_argument("-6", dest="family", action="store_const", const=6, help="IPv6 only")
    p.add_argument("--raw", action="store_true", help="use a raw socket even where an ICMP datagram socket is allowed")
    p.set_defaults(func=_ping)


def _ping(args: argparse.Namespace) -> int:
    from ...sockets.icmp import Pinger, PingReply, ping

    family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(args.family or 0, socket.AF_UNSPEC)
    try:
        with Pinger(args.host, family=family, size=args.size, prefer="raw" if args.raw else "dgram") as probe:
            kind, address = probe.kind, probe.address
    except ConnectError as exc:
        # Resolving is the only thing that can fail this way before a socket is opened: an
        # unknown host is the user's typo, not a missing permission, and scripts tell them apart.
        print(f"netwire ping: {exc}", file=sys.stderr)
        return EXIT_UNRESOLVED
    except (NetwireError, OSError) as exc:
        print(f"netwire ping: {exc}", file=sys.stderr)
        return EXIT_NOT_POSSIBLE
    print(f"PING {args.host} ({address}): {args.size} data bytes, {kind}", flush=True)

    def show(seq: int, reply: PingReply | None) -> None:
        if reply is None:
            print(f"no reply for icmp_seq={seq} within {args.timeout} s", flush=True)
        else:
            ttl = f" ttl={reply.ttl}" if reply.ttl is not None else ""
            print(f"{reply.size} bytes from {reply.address}: icmp_seq={seq}{ttl} time={reply.rtt * 1000:.3f} ms", flush=True)

    try:
        stats = ping(
            args.host, count=args.count, interval=args.interval, timeout=args.timeout, family=family,
            size=args.size, on_reply=show, prefer="raw" if args.raw else "dgram",
        )
    except (NetwireError, OSError) as exc:
        print(f"netwire ping: {exc}", file=sys.stderr)
        return EXIT_NOT_POSSIBLE
    print(f"--- {args.host} ping statistics ---")
    print(f"{stats.sent} packets transmitted, {stats.received} received, {stats.loss * 100:.1f}% packet loss")
    if stats.received:
        print(stats.summary())
    return EXIT_REPLIED if stats.received else EXIT_NO_REPLY
