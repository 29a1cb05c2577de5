"""Fixtures for the fault matrix: scripted servers, a driver per client kind, and a descriptor check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.drivers import Driver, make_driver
from tests.servers.faults import FaultServer, ScriptSource
from tests.servers.ports import no_fd_leak

# The matrix runs each fault on the sync client and on AsyncClient/asyncio (uvloop: tests/aio).
DRIVERS = ["sync", "async"]


@pytest.fixture
def no_leak() -> Iterator[None]:
    """Fails the test if it leaves more file descriptors open than it found.

    Requested first by every test, so its teardown runs after the servers stopped and the
    client closed (a peer's close can take a moment to reach a socket: ``no_fd_leak`` waits).
    """
    with no_fd_leak():
        yield


@pytest.fixture
def fault_server(
    no_leak: None, fault_server: Callable[[ScriptSource], FaultServer]
) -> Callable[[ScriptSource], FaultServer]:
    """The root ``fault_server``, inside the descriptor check."""
    return fault_server


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
