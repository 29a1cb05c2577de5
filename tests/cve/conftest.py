"""Fixtures for the CVE regression suite: scripted loopback servers from ``faults.server``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from faults.server import FaultServer, ScriptSource

Start = Callable[[ScriptSource], FaultServer]


@pytest.fixture
def fault_server() -> Iterator[Start]:
    """Start ``FaultServer(script)``; every server started is stopped at teardown."""
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
