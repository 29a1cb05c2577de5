"""Fixtures for the sockets tests: real listeners on loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from tests.servers import ports
from tests.servers.ports import open_fds as open_fds_now


@pytest.fixture
def open_fds() -> Callable[[], int]:
    """Counts this process's open file descriptors (/proc/self/fd)."""
    return open_fds_now


@pytest.fixture
def listener4() -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s
    s.close()


@pytest.fixture
def listener6() -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind(("::1", 0))
    s.listen(16)
    yield s
    s.close()


def _blackhole(family: int, host: str) -> tuple[socket.socket, list[socket.socket]]:
    """A listener whose accept queue is full: further SYNs are dropped, connects hang."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(0)
    fillers = []
    addr = s.getsockname()[:2]
    # Fill the queue (Linux accepts backlog+1); stop when a connect no longer completes.
    for _ in range(4):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.settimeout(0.2)
        try:
            c.connect(addr)
        except OSError:
            c.close()
            break
        fillers.append(c)
    return s, fillers


@pytest.fixture
def blackhole4() -> Iterator[socket.socket]:
    s, fillers = _blackhole(socket.AF_INET, "127.0.0.1")
    yield s
    for c in fillers:
        c.close()
    s.close()


@pytest.fixture
def blackhole6() -> Iterator[socket.socket]:
    s, fillers = _blackhole(socket.AF_INET6, "::1")
    yield s
    for c in fillers:
        c.close()
    s.close()


@pytest.fixture
def free_port() -> Callable[..., int]:
    """``free_port(family=AF_INET, host="127.0.0.1")``: a port nobody listens on (connecting is refused)."""

    def pick(family: int = socket.AF_INET, host: str = "127.0.0.1") -> int:
        return ports.free_port(host, family)

    return pick
