"""Fixtures for the CVE regression suite: HTTPS servers (``tls_server``).

``fault_server``, ``face``, ``recorder`` and ``victim`` come from the root conftest.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator

import pytest

from tests.servers.tls import TLSServer


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
