"""ICMP echo ("ping") over IPv4 and IPv6.

Two kinds of socket can send an echo request:

* an **unprivileged ICMP datagram socket** (``SOCK_DGRAM``, ``IPPROTO_ICMP``/``ICMPV6``): Linux
  allows it when the process's group id lies within ``/proc/sys/net/ipv4/ping_group_range``
  (macOS always does). The kernel then owns the echo identifier and hands us only our replies.
* a **raw socket** (``SOCK_RAW``): needs root or ``CAP_NET_RAW``; sees every ICMP packet, so
  replies are matched by identifier, sequence number and source.

:func:`open_icmp_socket` tries the datagram socket first and falls back to the raw one; when
neither is permitted it raises :class:`~netwire.sockets.errors.PrivilegeError` saying what is
needed.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import select
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ConnectError
from .errors import PrivilegeError

__all__ = [
    "PingReply",
    "PingStats",
    "Pinger",
    "checksum",
    "open_icmp_socket",
    "ping",
    "ping_group_allows",
]

_ECHO_REQUEST: dict[int, int] = {socket.AF_INET: 8, socket.AF_INET6: 128}
_ECHO_REPLY: dict[int, int] = {socket.AF_INET: 0, socket.AF_INET6: 129}
_PROTO: dict[int, int] = {socket.AF_INET: socket.IPPROTO_ICMP, socket.AF_INET6: socket.IPPROTO_ICMPV6}
# Not exported by the socket module everywhere; Linux's value.
_IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12 if sys.platform.startswith("linux") else None)
_HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


def ping_group_allows(gid: int | None = None) -> bool | None:
    """Whether Linux's ``ping_group_range`` lets group ``gid`` (default: ours) open unprivileged
    ICMP sockets; ``None`` where there is no such setting (not Linux)."""
    try:
        with open(PING_GROUP_RANGE, "rb") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        return None
    groups = {os.getegid(), *os.getgroups()} if gid is None else {gid}
    return any(low <= g <= high for g in groups)


def _needs_message(family: int) -> str:
    name = "IPv6" if family == socket.AF_INET6 else "IPv4"
    parts = [f"sending {name} ICMP echo requests needs one of:"]
    if sys.platform.startswith("linux"):
        try:
            with open(PING_GROUP_RANGE, "rb") as f:
                current = " ".join(f.read().decode().split())
        except OSError:
            current = "unknown"
        parts.append(
            f"  - unprivileged ICMP sockets: your group id ({os.getegid()}) within {PING_GROUP_RANGE} "
            f"(now {current!r}); e.g. sysctl -w net.ipv4.ping_group_range='0 2147483647'"
        )
    parts.append("  - raw sockets: run as root, or grant CAP_NET_RAW (setcap cap_net_raw+ep on the interpreter)")
    return "\n".join(parts)


def open_icmp_socket(family: int, *, prefer: str = "dgram") -> tuple[socket.socket, bool]:
    """An ICMP socket for ``family``, and whether it is raw.

    ``prefer`` is ``"dgram"`` (unprivileged datagram socket first, then raw) or ``"raw"``.
    Raises :class:`~netwire.sockets.errors.PrivilegeError` when neither may be opened.
    """
    kinds = [socket.SOCK_DGRAM, socket.SOCK_RAW] if prefer == "dgram" else [socket.SOCK_RAW, socket.SOCK_DGRAM]
    last: OSError | None = None
    for kind in kinds:
        try:
            return socket.socket(family, kind, _PROTO[family]), kind == socket.SOCK_RAW
        except (PermissionError, OSError) as exc:
            last = exc
    raise PrivilegeError(f"{_needs_message(family)}\n(last error: {last})") from last


@dataclass
class PingReply:
    """One echo reply."""

    seq: int
    rtt: float  # seconds
    size: int  # bytes of the ICMP message received
    address: str
    ttl: int | None = None


@dataclass
class PingStats:
    """The outcome of :func:`ping`."""

    host: str
    address: str
    sent: int = 0
    replies: list[PingReply] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.replies)

    @property
    def loss(self) -> float:
        """Fraction of requests without reply (0.0 to 1.0)."""
        return 0.0 if not self.sent else 1.0 - self.received / self.sent

    @property
    def rtts(self) -> list[float]:
        return [r.rtt for r in self.replies]

    def summary(self) -> str:
        """min/avg/max/mdev in milliseconds, as ping prints them."""
        rtts = [r * 1000 for r in self.rtts]
        if not rtts:
            return "no replies"
        avg = sum(rtts) / len(rtts)
        mdev = math.sqrt(sum((r - avg) ** 2 for r in rtts) / len(rtts))
        return f"rtt min/avg/max/mdev = {min(rtts):.3f}/{avg:.3f}/{max(rtts):.3f}/{mdev:.3f} ms"


class Pinger:
    """Sends echo requests to one host and waits for their replies."""

    def __init__(
        self, host: str, *, family: int = socket.AF_UNSPEC, size: int = 56, prefer: str = "dgram"
    ) -> None:
        try:
            infos = socket.getaddrinfo(host, None, family, socket.SOCK_RAW)
        except socket.gaierror as exc:
            raise ConnectError(f"ping {host} failed (resolving: {exc})", reason=exc) from exc
        infos = [i for i in infos if i[0] in _PROTO]
        if not infos:
            raise ConnectError(f"ping {host} failed (resolving: no IPv4 or IPv6 address)")
        self.host = host
        self.family = int(infos[0][0])
        self.sockaddr = infos[0][4]
        self.address = str(self.sockaddr[0])
        self.size = size
        self.socket, self.raw = open_icmp_socket(self.family, prefer=prefer)
        self.ident = random.randrange(1, 0xFFFF)
        if self.family == socket.AF_INET6:
            with contextlib.suppress(OSError, AttributeError):
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        elif not self.raw and _IP_RECVTTL is not None:
            with contextlib.suppress(OSError):
                self.socket.setsockopt(socket.IPPROTO_IP, _IP_RECVTTL, 1)

    @property
    def kind(self) -> str:
        return "raw socket" if self.raw else "unprivileged ICMP socket"

    def _packet(self, seq: int) -> bytes:
        payload = (struct.pack("!d", time.time()) + bytes(range(256)) * (self.size // 256 + 1))[: self.size]
        kind = _ECHO_REQUEST[self.family]
        header = _HEADER.pack(kind, 0, 0, self.ident, seq)
        if self.family == socket.AF_INET6:
            return header + payload  # the kernel fills in the ICMPv6 checksum (pseudo-header)
        csum = checksum(header + payload)
        return _HEADER.pack(kind, 0, csum, self.ident, seq) + payload

    def send(self, seq: int) -> float:
        """Send echo request ``seq``; returns the monotonic time it left."""
        sent = time.monotonic()
        self.socket.sendto(self._packet(seq), self.sockaddr)
        return sent

    def _parse(self, data: bytes, ancillary: list[tuple[int, int, bytes]]) -> tuple[int, int, int, int | None] | None:
        ttl = None
        for level, kind, value in ancillary:
            if len(value) >= 4 and (
                (level == socket.IPPROTO_IPV6 and kind == getattr(socket, "IPV6_HOPLIMIT", -1))
                or (level == socket.IPPROTO_IP and kind == getattr(socket, "IP_TTL", -1))
            ):
                ttl = int.from_bytes(value[:4], sys.byteorder)
        if self.family == socket.AF_INET and self.raw:
            if len(data) < 20:
                return None
            ihl = (data[0] & 0x0F) * 4
            ttl = data[8]
            data = data[ihl:]
        if len(data) < _HEADER.size:
            return None
        kind, _code, _csum, ident, seq = _HEADER.unpack_from(data)
        if kind != _ECHO_REPLY[self.family]:
            return None
        # A datagram socket's identifier is the kernel's to choose; it filters for us.
        if self.raw and ident != self.ident:
            return None
        return seq, len(data), ident, ttl

    def wait_reply(self, seq: int, sent: float, timeout: float) -> PingReply | None:
        """Wait up to ``timeout`` seconds for the reply to ``seq``; None if it does not come."""
        deadline = sent + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.socket], [], [], left)
            if not ready:
                return None
            try:
                data, ancillary, _flags, addr = self.socket.recvmsg(65535, 256)
            except OSError:
                continue
            now = time.monotonic()
            parsed = self._parse(data, ancillary)
            if parsed is None or parsed[0] != seq:
                continue
            if self.raw and addr[0].split("%")[0] != self.address.split("%")[0]:
                continue
            return PingReply(seq=seq, rtt=now - sent, size=parsed[1], address=str(addr[0]), ttl=parsed[3])

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> Pinger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ping(
    host: str,
    *,
    count: int = 4,
    interval: float = 1.0,
    timeout: float = 1.0,
    family: int = socket.AF_UNSPEC,
    size: int = 56,
    on_reply: Callable[[int, PingReply | None], object] | None = None,
    prefer: str = "dgram",
) -> PingStats:
    """Send ``count`` echo requests ``interval`` seconds apart; return the statistics.

    ``on_reply(seq, reply_or_None)`` is called as each request is answered or times out.
    """
    with Pinger(host, family=family, size=size, prefer=prefer) as pinger:
        stats = PingStats(host=host, address=pinger.address)
        for seq in range(count):
            sent = pinger.send(seq)
            stats.sent += 1
            reply = pinger.wait_reply(seq, sent, timeout)
            if reply is not None:
                stats.replies.append(reply)
            if on_reply is not None:
                on_reply(seq, reply)
            if seq + 1 < count:
                pause = sent + interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
    return stats
