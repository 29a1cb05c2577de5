"""Fixtures of the robots tests: ``robots_server``, a small HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.robots import RobotsServer


@pytest.fixture
def robots_server() -> Iterator[RobotsServer]:
    server = RobotsServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
