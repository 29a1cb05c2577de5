"""Fixtures for the sockets tests: real listeners on loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from tests.servers import ports
from tests.servers.ports import open_fds as open_fds_now
from tests.servers.raw import full_backlog


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


@pytest.fixture
def blackhole4() -> Iterator[socket.socket]:
    """A listener whose accept queue is full: further SYNs are dropped, connects hang."""
    with full_backlog("127.0.0.1") as s:
        yield s


@pytest.fixture
def blackhole6() -> Iterator[socket.socket]:
    with full_backlog("::1") as s:
        yield s


@pytest.fixture
def free_port() -> Callable[..., int]:
    """``free_port(family=AF_INET, host="127.0.0.1")``: a port nobody listens on (connecting is refused)."""

    def pick(family: int = socket.AF_INET, host: str = "127.0.0.1") -> int:
        return ports.free_port(host, family)

    return pick
