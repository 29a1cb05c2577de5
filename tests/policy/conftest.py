"""Fixtures for the policy tests: real servers on loopback.

* ``echo_server``: a plain HTTP server answering every GET with JSON describing the request.
* ``tls_echo_server``: the same over TLS, certificate from a trustme CA (``.ca`` to trust it).
* ``tinyproxy_server``: tinyproxy allowing CONNECT to the TLS server's port (session-wide).
* ``dante_server`` / ``dante_auth_server``: dante SOCKS5 without / with username auth.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from policy.servers import EchoServer, ServerProcess, dante, is_root, start_echo_server, tinyproxy


@pytest.fixture(scope="session")
def echo_server() -> Iterator[EchoServer]:
    server = start_echo_server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_echo_server() -> Iterator[EchoServer]:
    server = start_echo_server(tls=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tinyproxy_server(tls_echo_server: EchoServer) -> Iterator[ServerProcess]:
    with tinyproxy(connect_ports=[tls_echo_server.port]) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def tinyproxy_auth_server(tls_echo_server: EchoServer) -> Iterator[ServerProcess]:
    with tinyproxy(connect_ports=[tls_echo_server.port], basic_auth=("proxyuser", "proxy-pw.1")) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def dante_server() -> Iterator[ServerProcess]:
    with dante() as server:
        yield server


@pytest.fixture(scope="session")
def dante_auth_server() -> Iterator[ServerProcess]:
    if not is_root():
        pytest.skip("dante's username method checks system passwords: creating the test user needs root")
    with dante(auth=("nwsocks", "s3cret pw")) as server:
        yield server
