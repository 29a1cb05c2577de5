"""Packet capture with Linux's ``AF_PACKET`` sockets, and one-line packet summaries.

:func:`capture` yields :class:`Packet` objects from one interface (or all); :func:`summarize`
turns a frame into a line such as::

    lo in  IPv4 127.0.0.1:40112 > 127.0.0.1:9999 UDP len=5 ttl=64

Ethernet, IPv4, IPv6 (walking the usual extension headers), TCP (ports, flags, seq/ack, payload
length), UDP, ICMP and ICMPv6 and ARP are decoded; anything else is named by its EtherType or
protocol number. Capturing needs Linux and root (or ``CAP_NET_RAW``); otherwise
:class:`~netwire.sockets.errors.PrivilegeError` says so.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import PrivilegeError

__all__ = ["Packet", "capture", "open_capture", "summarize", "summarize_ip"]

ETH_P_ALL = 0x0003
_ARPHRD_ETHER = 1
_ARPHRD_LOOPBACK = 772
_ARPHRD_NONE = 65534
_PKTTYPE = {0: "in ", 1: "bcast", 2: "mcast", 3: "other", 4: "out"}
_TCP_FLAGS = "FSRPAUEC"
_ICMP4 = {0: "echo reply", 3: "unreachable", 5: "redirect", 8: "echo request", 11: "time exceeded"}
_ICMP6 = {
    1: "unreachable", 2: "packet too big", 3: "time exceeded", 128: "echo request", 129: "echo reply",
    133: "router solicitation", 134: "router advertisement", 135: "neighbor solicitation",
    136: "neighbor advertisement",
}
_IPV6_EXT = {0, 43, 44, 60, 51}  # hop-by-hop, routing, fragment, destination options, AH


@dataclass
class Packet:
    """One captured frame."""

    timestamp: float
    interface: str
    direction: str  # "in", "out", "bcast", "mcast", "other"
    hatype: int
    data: bytes

    def summary(self) -> str:
        """One line: interface, direction, then :func:`summarize`."""
        return f"{self.interface} {self.direction:5} {summarize(self.data, self.hatype)}"


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _transport(proto: int, data: bytes, src: str, dst: str, v6: bool) -> str:
    def ep(addr: str, port: int) -> str:
        return f"[{addr}]:{port}" if v6 else f"{addr}:{port}"

    if proto == 6 and len(data) >= 20:
        sport, dport, seq, ack, off_flags = struct.unpack_from("!HHIIH", data)
        offset = (off_flags >> 12) * 4
        flags = "".join(f for i, f in enumerate(_TCP_FLAGS) if off_flags & (1 << i)) or "-"
        return (
            f"{ep(src, sport)} > {ep(dst, dport)} TCP [{flags}] seq={seq} ack={ack} "
            f"len={max(0, len(data) - offset)}"
        )
    if proto == 17 and len(data) >= 8:
        sport, dport, length = struct.unpack_from("!HHH", data)
        return f"{ep(src, sport)} > {ep(dst, dport)} UDP len={length - 8}"
    if proto in (1, 58) and len(data) >= 4:
        kind, code = data[0], data[1]
        names = _ICMP6 if proto == 58 else _ICMP4
        name = names.get(kind, f"type {kind}")
        extra = ""
        if kind in (0, 8, 128, 129) and len(data) >= 8:
            ident, seq = struct.unpack_from("!HH", data, 4)
            extra = f" id={ident} seq={seq}"
        label = "ICMPv6" if proto == 58 else "ICMP"
        return f"{src} > {dst} {label} {name} code={code}{extra}"
    names = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMPv6", 2: "IGMP", 47: "GRE", 50: "ESP", 132: "SCTP"}
    return f"{src} > {dst} {names.get(proto, f'proto {proto}')} (truncated or undecoded, {len(data)} bytes)"


def summarize_ip(data: bytes) -> str:
    """Summarize an IP packet (version taken from its first nibble)."""
    if not data:
        return "empty packet"
    version = data[0] >> 4
    if version == 4 and len(data) >= 20:
        ihl = (data[0] & 0x0F) * 4
        total, frag, ttl, proto = struct.unpack_from("!H2xHBB", data, 2)
        src = str(ipaddress.IPv4Address(data[12:16]))
        dst = str(ipaddress.IPv4Address(data[16:20]))
        body = data[ihl:total] if total >= ihl else data[ihl:]
        if frag & 0x1FFF:  # a later fragment: no transport header in it
            return f"IPv4 {src} > {dst} fragment offset={(frag & 0x1FFF) * 8} proto={proto} ttl={ttl}"
        return f"IPv4 {_transport(proto, body, src, dst, False)} ttl={ttl}"
    if version == 6 and len(data) >= 40:
        nxt, hops = data[6], data[7]
        src = str(ipaddress.IPv6Address(data[8:24]))
        dst = str(ipaddress.IPv6Address(data[24:40]))
        pos = 40
        while nxt in _IPV6_EXT and pos + 8 <= len(data):
            if nxt == 44:
                ext_len = 8
            elif nxt == 51:
                ext_len = (data[pos + 1] + 2) * 4
            else:
                ext_len = (data[pos + 1] + 1) * 8
            nxt = data[pos]
            pos += ext_len
        return f"IPv6 {_transport(nxt, data[pos:], src, dst, True)} hlim={hops}"
    return f"IP version {version}? ({len(data)} bytes)"


def summarize(frame: bytes, hatype: int = _ARPHRD_ETHER) -> str:
    """One-line summary of a captured frame of link type ``hatype`` (Ethernet by default)."""
    if hatype == _ARPHRD_NONE:  # tun devices and the like: bare IP
        return summarize_ip(frame)
    if len(frame) < 14:
        return f"short frame ({len(frame)} bytes)"
    dst, src = frame[0:6], frame[6:12]
    (ethertype,) = struct.unpack_from("!H", frame, 12)
    payload = frame[14:]
    if ethertype == 0x8100 and len(frame) >= 18:  # 802.1Q VLAN tag
        (ethertype,) = struct.unpack_from("!H", frame, 16)
        payload = frame[18:]
    if ethertype in (0x0800, 0x86DD):
        return summarize_ip(payload)
    if ethertype == 0x0806 and len(payload) >= 28:
        op = struct.unpack_from("!H", payload, 6)[0]
        spa = str(ipaddress.IPv4Address(payload[14:18]))
        tpa = str(ipaddress.IPv4Address(payload[24:28]))
        what = {1: f"who-has {tpa} tell {spa}", 2: f"{spa} is-at {_mac(payload[8:14])}"}.get(op, f"op {op}")
        return f"ARP {what}"
    return f"Ethernet {_mac(src)} > {_mac(dst)} type=0x{ethertype:04x} len={len(payload)}"


def open_capture(interface: str | None = None) -> socket.socket:
    """An ``AF_PACKET`` socket receiving every frame of ``interface`` (all when ``None``)."""
    if not hasattr(socket, "AF_PACKET"):
        raise PrivilegeError(f"packet capture uses Linux's AF_PACKET sockets, which {sys.platform} does not have")
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    except PermissionError as exc:
        raise PrivilegeError(
            "packet capture needs root or CAP_NET_RAW (e.g. sudo netwire sniff, or "
            "setcap cap_net_raw+ep on the interpreter)"
        ) from exc
    if interface:
        try:
            sock.bind((interface, 0))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot capture on interface {interface!r}: {exc.strerror}") from exc
    return sock


def capture(
    interface: str | None = None,
    *,
    count: int | None = None,
    timeout: float | None = None,
    keep: Callable[[Packet], bool] | None = None,
) -> Iterator[Packet]:
    """Yield captured packets: at most ``count`` of them (those ``keep`` accepts), stopping after
    ``timeout`` seconds in total. The socket is closed when the iterator ends or is closed."""
    sock = open_capture(interface)
    deadline = None if timeout is None else time.monotonic() + timeout
    got = 0
    try:
        while count is None or got < count:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                return
            ready, _, _ = select.select([sock], [], [], wait)
            if not ready:
                return
            data, addr = sock.recvfrom(65535)
            packet = Packet(
                timestamp=time.time(),
                interface=str(addr[0]),
                direction=_PKTTYPE.get(addr[2], str(addr[2])).strip(),
                hatype=int(addr[3]),
                data=data,
            )
            if keep is not None and not keep(packet):
                continue
            got += 1
            yield packet
    finally:
        sock.close()
