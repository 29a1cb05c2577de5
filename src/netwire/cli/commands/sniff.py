"""``netwire sniff``: capture packets (Linux AF_PACKET, needs root) and print one line each:
Ethernet, ARP, IPv4/IPv6, TCP, UDP, ICMP/ICMPv6."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..parsing import plain


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("sniff", help="capture packets, one-line summaries (Linux, root)", description=plain(__doc__))
    p.add_argument("--iface", default=None, help="interface to capture on (default: all)")
    p.add_argument("-c", "--count", type=int, default=None, help="stop after N packets")
    p.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--grep", default=None, help="only packets whose summary contains this text (e.g. UDP, :53)")
    p.set_defaults(func=_sniff)


def _sniff(args: argparse.Namespace) -> int:
    from ...sockets.errors import PrivilegeError
    from ...sockets.sniff import Packet, capture

    def keep(packet: Packet) -> bool:
        return args.grep is None or args.grep in packet.summary()

    try:
        packets = capture(args.iface, count=args.count, timeout=args.timeout, keep=keep)
        for packet in packets:
            stamp = time.strftime("%H:%M:%S", time.localtime(packet.timestamp))
            frac = f"{packet.timestamp % 1:.6f}"[1:]
            print(f"{stamp}{frac} {packet.summary()}", flush=True)
    except PrivilegeError as exc:
        print(f"netwire sniff: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"netwire sniff: {exc}", file=sys.stderr)
        return 2
    return 0
