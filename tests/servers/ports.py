"""Ports and descriptors: the small helpers every loopback server and leak check needs."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["PortTaken", "free_port", "no_fd_leak", "on_a_free_port", "open_fds", "wait_listening"]

_T = TypeVar("_T")


def free_port(host: str = "127.0.0.1", family: int | None = None) -> int:
    """A port that was free a moment ago (the kernel's pick for a bind to port 0).

    Nothing listens on it once this returns, so it also serves as a port whose connects are refused.
    """
    if family is None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class PortTaken(RuntimeError):
    """A server could not bind the port it was given: someone took it after :func:`free_port` picked it."""


def on_a_free_port(start: Callable[[int], _T], attempts: int = 5, host: str = "127.0.0.1") -> _T:
    """``start(port)`` with a free port, again with another one each time it raises :class:`PortTaken`.

    :func:`free_port`'s port is free when picked, but nothing holds it until the server binds it:
    another process can take it in between (a client's connect(), or another pytest-xdist worker's
    server picking the same port), and the server then exits with "Address already in use".
    """
    for attempt in range(attempts):
        try:
            return start(free_port(host))
        except PortTaken:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def wait_listening(
    port: int, host: str = "127.0.0.1", *, timeout: float = 10.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Return once ``host:port`` accepts a TCP connection; raise RuntimeError if ``proc`` exits
    first or nothing listens after ``timeout`` seconds.

    With ``proc``, the listening socket must be that process's: when another process got the port
    first, a connect succeeds too, but ``proc`` is about to exit with "Address already in use".
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pass
            if proc is None or _listens_on(proc.pid, port) is not False:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listening on {host}:{port} after {timeout} s") from None
        time.sleep(0.02)


def _listens_on(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds a socket listening on TCP ``port`` (None: /proc cannot tell)."""
    try:
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(FileNotFoundError), open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    # local address "ADDR:PORT" in hex; state 0A is LISTEN; field 9 is the inode.
                    if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                        inodes.add(f"socket:[{fields[9]}]")
        fd_dir = f"/proc/{pid}/fd"
        return any(os.readlink(os.path.join(fd_dir, fd)) in inodes for fd in os.listdir(fd_dir))
    except OSError:
        return None


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


def fd_identities() -> set[str]:
    """This process's open file descriptors, each as "fd -> what it is" ("7 -> socket:[1234]").

    Unlike a count, comparing two such sets tells a descriptor opened and kept (a leak) from an
    unrelated one closed meanwhile (a socket of an earlier test reaped by its server thread or the
    collector), which a count would net against each other in either direction.
    """
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            found.add(f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}")
    return found


@contextmanager
def no_fd_leak(grace: float = 2.0) -> Iterator[None]:
    """Fail (AssertionError) if the block leaves more file descriptors open than it found.

    A peer's close can take a moment to reach a socket: wait ``grace`` seconds for the count to settle.
    """
    before = open_fds()
    yield
    deadline = time.monotonic() + grace
    while open_fds() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    after = open_fds()
    assert after <= before, f"{after - before} file descriptor(s) leaked"
