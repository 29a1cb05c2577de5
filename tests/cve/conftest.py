"""Fixtures for the CVE regression suite: scripted loopback servers (``faults.server``) and HTTPS servers."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator

import pytest

from cve.recorder import face, recorder, victim  # noqa: F401  (fixtures of the issue-14 tests)
from cve.servers import Start, TLSServer
from faults.server import FaultServer, ScriptSource


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


@pytest.fixture
def tls_server() -> Iterator[Callable[[ssl.SSLContext], TLSServer]]:
    """Start ``TLSServer(ctx)``; every server started is closed at teardown."""
    started: list[TLSServer] = []

    def start(ctx: ssl.SSLContext) -> TLSServer:
        srv = TLSServer(ctx)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.close()
