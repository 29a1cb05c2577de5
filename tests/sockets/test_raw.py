"""ICMP echo and AF_PACKET capture on loopback (CI runs as root), and the messages without privileges."""

from __future__ import annotations

import io
import os
import pathlib
import socket
import struct
import sys
import threading

import pytest

from netwire.sockets.errors import PrivilegeError
from netwire.sockets.icmp import PingReply, checksum, ping, ping_group_allows
from netwire.sockets.sniff import capture, summarize, summarize_ip


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_ping_loopback(host: str) -> None:
    seen: list[tuple[int, PingReply | None]] = []
    stats = ping(host, count=3, interval=0.02, timeout=1.0, on_reply=lambda s, r: seen.append((s, r)))
    assert stats.sent == 3 and stats.received == 3 and stats.loss == 0.0
    assert [s for s, _ in seen] == [0, 1, 2]
    for r in stats.replies:
        assert r.address == host
        assert 0 < r.rtt < 1
        assert r.size == 64
    assert stats.summary().startswith("rtt min/avg/max/mdev = ")


@pytest.mark.root  # a raw ICMP socket
def test_ping_raw_preference_and_size() -> None:
    stats = ping("127.0.0.1", count=1, size=1000, prefer="raw")
    assert stats.received == 1 and stats.replies[0].size == 1008


def test_ping_group_range_is_read() -> None:
    if sys.platform.startswith("linux"):
        text = pathlib.Path("/proc/sys/net/ipv4/ping_group_range").read_text()
        low, high = (int(x) for x in text.split())
        assert ping_group_allows(0) == (low <= 0 <= high)
    else:
        assert ping_group_allows() is None


def test_checksum_known_value() -> None:
    # RFC 1071's example words.
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert checksum(data) == (~0xDDF2 & 0xFFFF)
    header = struct.pack("!BBHHH", 8, 0, 0, 1, 1)
    fixed = header[:2] + struct.pack("!H", checksum(header)) + header[4:]
    assert checksum(fixed) == 0


@pytest.mark.root  # an AF_PACKET socket
def test_sniff_sees_udp_datagram_on_lo() -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    port = receiver.getsockname()[1]
    marker = f":{port} UDP"

    done = threading.Event()

    def keep_sending() -> None:
        # Until the capture has one: a single datagram sent "0.2 s later" went by before the
        # capture socket was open when the machine was busy.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while not done.wait(0.1):
                s.sendto(b"sniff me", ("127.0.0.1", port))

    t = threading.Thread(target=keep_sending)
    t.start()
    try:
        packets = list(capture("lo", count=1, timeout=5, keep=lambda p: marker in p.summary()))
    finally:
        done.set()
        t.join()
    receiver.close()
    assert len(packets) == 1
    line = packets[0].summary()
    assert line.startswith("lo ")
    assert f"127.0.0.1:{port} UDP len=8" in line and "IPv4 127.0.0.1:" in line


def test_summaries_of_handmade_frames() -> None:
    eth = b"\x00" * 12
    ip6 = (
        struct.pack("!IHBB", 6 << 28, 8, 17, 64)
        + socket.inet_pton(socket.AF_INET6, "::1") * 2
        + struct.pack("!HHHH", 1000, 53, 8, 0)
    )
    assert summarize(eth + b"\x86\xdd" + ip6) == "IPv6 [::1]:1000 > [::1]:53 UDP len=0 hlim=64"
    tcp = struct.pack("!HHIIHHHH", 80, 5555, 7, 9, (5 << 12) | 0x12, 0, 0, 0) + b"abc"
    ip4 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 33, 6, 0,
                      socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")) + tcp
    assert summarize_ip(ip4) == "IPv4 10.0.0.1:80 > 10.0.0.2:5555 TCP [SA] seq=7 ack=9 len=3 ttl=33"
    icmp = struct.pack("!BBHHH", 8, 0, 0, 42, 3)
    ip4 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 1, 0,
                      socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")) + icmp
    assert "ICMP echo request code=0 id=42 seq=3" in summarize(eth + b"\x08\x00" + ip4)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x800, 6, 4, 1, b"\x01" * 6, socket.inet_aton("10.0.0.1"),
                      b"\x00" * 6, socket.inet_aton("10.0.0.9"))
    assert summarize(b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + arp) == "ARP who-has 10.0.0.9 tell 10.0.0.1"
    assert summarize(b"\x00" * 5) == "short frame (5 bytes)"


def _run_unprivileged(argv: list[str]) -> tuple[int, str]:
    """Run the CLI in a forked child that dropped root (uid/gid nobody) first."""
    import encodings.idna  # noqa: F401  (the child may not read the stdlib any more)
    import locale  # noqa: F401

    import netwire.cli.commands.ping
    import netwire.cli.commands.sniff
    import netwire.sockets.icmp
    import netwire.sockets.sniff  # noqa: F401
    from netwire.cli.main import main

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 99
        try:
            os.close(r)
            os.dup2(w, 1)
            os.dup2(w, 2)
            # pytest replaced sys.stdout/stderr with its capture objects: point them at the pipe.
            sys.stdout = sys.stderr = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), "utf-8", write_through=True)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            code = main(argv)
        except BaseException as exc:
            os.write(2, repr(exc).encode())
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(w)
    out = b""
    while chunk := os.read(r, 4096):
        out += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode()


@pytest.mark.root  # dropping privileges needs root to start with
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_ping_without_privileges_says_what_is_needed(host: str) -> None:
    allowed = ping_group_allows(65534)
    code, out = _run_unprivileged(["ping", "-c", "1", "-W", "0.5", host])
    if allowed:  # the kernel lets nobody use ICMP datagram sockets: ping just works
        assert code == 0, out
    else:
        assert code == 2, out
        assert "CAP_NET_RAW" in out and "root" in out and "ping_group_range" in out


@pytest.mark.root  # dropping privileges needs root to start with
def test_sniff_without_privileges_says_what_is_needed() -> None:
    code, out = _run_unprivileged(["sniff", "-c", "1", "--timeout", "0.5"])
    assert code == 2, out
    assert "root or CAP_NET_RAW" in out


def test_privilege_error_is_permission_error() -> None:
    assert issubclass(PrivilegeError, PermissionError)
