"""Ports and descriptors: the small helpers every loopback server and leak check needs."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["free_port", "no_fd_leak", "open_fds", "wait_listening"]


def free_port(host: str = "127.0.0.1", family: int | None = None) -> int:
    """A port that was free a moment ago (the kernel's pick for a bind to port 0).

    Nothing listens on it once this returns, so it also serves as a port whose connects are refused.
    """
    if family is None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_listening(
    port: int, host: str = "127.0.0.1", *, timeout: float = 10.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Return once ``host:port`` accepts a TCP connection; raise RuntimeError if ``proc`` exits
    first or nothing listens after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listening on {host}:{port} after {timeout} s") from None
            time.sleep(0.02)


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


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
