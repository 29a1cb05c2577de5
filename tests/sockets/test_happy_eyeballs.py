from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from netwire.errors import ConnectError, ConnectTimeout
from netwire.sockets.happy_eyeballs import connect_addrinfos, connect_tcp_socket, interleave_addresses


def _info(family: int, addr: tuple) -> tuple:  # type: ignore[type-arg]
    return (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", addr)


def test_ipv4_connects(listener4: socket.socket) -> None:
    port = listener4.getsockname()[1]
    s = connect_tcp_socket("127.0.0.1", port, timeout=2)
    with s:
        assert s.gettimeout() is None
        assert s.getblocking()
        assert s.getpeername() == ("127.0.0.1", port)
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        conn, _ = listener4.accept()
        s.sendall(b"hi")
        assert conn.recv(2) == b"hi"
        conn.close()


def test_ipv6_connects(listener6: socket.socket) -> None:
    port = listener6.getsockname()[1]
    with connect_tcp_socket("::1", port, timeout=2) as s:
        assert s.family == socket.AF_INET6
        assert s.getpeername()[:2] == ("::1", port)


def test_localhost_name(listener4: socket.socket) -> None:
    port = listener4.getsockname()[1]
    with connect_tcp_socket("localhost", port, timeout=2, family=socket.AF_INET) as s:
        assert s.getpeername()[1] == port


def test_refused_is_connect_error_and_quick(free_port: Callable[..., int]) -> None:
    port = free_port()
    t = time.monotonic()
    with pytest.raises(ConnectError) as info:
        connect_tcp_socket("127.0.0.1", port, timeout=5)
    assert time.monotonic() - t < 2.5  # refused at once, not after the 5 s timeout
    err = info.value
    assert not isinstance(err, ConnectTimeout)
    assert isinstance(err.reason, ConnectionRefusedError) or getattr(err.reason, "errno", None) == 111
    assert "127.0.0.1" in str(err) and str(port) in str(err) and "connecting" in str(err)


def test_resolve_failure_names_phase() -> None:
    with pytest.raises(ConnectError) as info:
        connect_tcp_socket("no-such-host.invalid", 80, timeout=2)
    assert isinstance(info.value.reason, socket.gaierror)
    assert "resolving" in str(info.value) and "no-such-host.invalid" in str(info.value)


def test_timeout_on_full_backlog(blackhole4: socket.socket) -> None:
    port = blackhole4.getsockname()[1]
    t = time.monotonic()
    with pytest.raises(ConnectTimeout) as info:
        connect_tcp_socket("127.0.0.1", port, timeout=0.3)
    elapsed = time.monotonic() - t
    assert 0.25 < elapsed < 2
    assert isinstance(info.value, TimeoutError)
    assert str(port) in str(info.value)


def test_interleave_orders_families() -> None:
    a6 = [_info(socket.AF_INET6, (f"::{i}", 80, 0, 0)) for i in range(1, 4)]
    a4 = [_info(socket.AF_INET, (f"10.0.0.{i}", 80)) for i in range(1, 3)]
    ordered = interleave_addresses([a6[0], a6[1], a4[0], a6[2], a4[1], a4[1]])
    assert [i[4][0] for i in ordered] == ["::1", "10.0.0.1", "::2", "10.0.0.2", "::3"]


def test_race_second_address_wins_after_delay(blackhole6: socket.socket, listener4: socket.socket) -> None:
    # First address hangs (full backlog); the second starts after `delay` and wins.
    infos = [
        _info(socket.AF_INET6, ("::1", blackhole6.getsockname()[1], 0, 0)),
        _info(socket.AF_INET, ("127.0.0.1", listener4.getsockname()[1])),
    ]
    t = time.monotonic()
    s = connect_addrinfos("test", 1, infos, timeout=3, delay=0.1)
    elapsed = time.monotonic() - t
    with s:
        assert s.family == socket.AF_INET
        assert s.getblocking() and s.gettimeout() is None
    assert 0.08 <= elapsed < 2.5


def test_race_failure_starts_next_at_once(listener4: socket.socket, free_port: Callable[..., int]) -> None:
    infos = [
        _info(socket.AF_INET6, ("::1", free_port(socket.AF_INET6, "::1"), 0, 0)),
        _info(socket.AF_INET, ("127.0.0.1", listener4.getsockname()[1])),
    ]
    t = time.monotonic()
    with connect_addrinfos("test", 1, infos, timeout=10, delay=5.0) as s:
        assert s.family == socket.AF_INET
    assert time.monotonic() - t < 2.5  # well before the 5 s delay


def test_race_all_refused(free_port: Callable[..., int]) -> None:
    infos = [
        _info(socket.AF_INET6, ("::1", free_port(socket.AF_INET6, "::1"), 0, 0)),
        _info(socket.AF_INET, ("127.0.0.1", free_port())),
    ]
    with pytest.raises(ConnectError) as info:
        connect_addrinfos("both", 7, infos, timeout=3, delay=0.5)
    assert "::1" in str(info.value) and "127.0.0.1" in str(info.value)


def test_race_timeout(
    blackhole4: socket.socket, blackhole6: socket.socket, open_fds: Callable[[], int]
) -> None:
    infos = [
        _info(socket.AF_INET6, ("::1", blackhole6.getsockname()[1], 0, 0)),
        _info(socket.AF_INET, ("127.0.0.1", blackhole4.getsockname()[1])),
    ]
    before = open_fds()
    t = time.monotonic()
    with pytest.raises(ConnectTimeout):
        connect_addrinfos("slow", 9, infos, timeout=0.3, delay=0.05)
    assert 0.25 < time.monotonic() - t < 2
    assert open_fds() == before  # losing attempts are closed


def test_source_address(listener4: socket.socket) -> None:
    port = listener4.getsockname()[1]
    with connect_tcp_socket("127.0.0.1", port, timeout=2, source_address=("127.0.0.1", 0)) as s:
        assert s.getsockname()[0] == "127.0.0.1"
    with pytest.raises(ConnectError):
        connect_tcp_socket("127.0.0.1", port, timeout=2, source_address=("::1", 0))
