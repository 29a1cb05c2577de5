"""Fixtures for the fault matrix: scripted servers, a driver per client kind, and a descriptor check."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from faultmatrix.drivers import DRIVERS, Driver, make_driver
from faults.server import FaultServer, ScriptSource


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def no_leak() -> Iterator[None]:
    """Fails the test if it leaves more file descriptors open than it found.

    Requested first by every test, so its teardown runs after the servers stopped and the
    client closed. A peer's close can take a moment to reach a socket: wait for it, briefly.
    """
    before = open_fds()
    yield
    deadline = time.monotonic() + 2.0
    while open_fds() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    after = open_fds()
    assert after <= before, f"{after - before} file descriptor(s) leaked"


@pytest.fixture
def fault_server(no_leak: None) -> Iterator[Callable[[ScriptSource], FaultServer]]:
    started: list[FaultServer] = []

    def start(scripts: ScriptSource) -> FaultServer:
        srv = FaultServer(scripts)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
    for srv in started:
        assert not srv.errors, f"the fault server's script failed: {srv.errors!r}"


@pytest.fixture(params=DRIVERS)
def driver_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(no_leak: None, driver_kind: str) -> Iterator[Callable[..., Driver]]:
    """Build a driver of this test's kind with the given client options; closed at teardown."""
    made: list[Driver] = []

    def build(**options: Any) -> Driver:
        d = make_driver(driver_kind, **options)
        made.append(d)
        return d

    yield build
    for d in made:
        d.close()
