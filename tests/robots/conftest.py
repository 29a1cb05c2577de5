"""Fixtures of the robots tests: ``robots_server``, a small HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from robots._server import RobotsServer


@pytest.fixture
def robots_server() -> Iterator[RobotsServer]:
    server = RobotsServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every test here talks to loopback servers directly; a proxy from the environment would
    # change what is being tested (urllib's opener and netwire's client both read these).
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
