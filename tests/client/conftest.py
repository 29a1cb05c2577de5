"""Fixtures for the Client tests: real servers on loopback (from :mod:`tests.servers`).

* ``nginx``: our own nginx instance (session-wide, ``tests.servers.nginx.CLIENT_SITE``), with an
  access log recording nginx's connection serial number per request.
* ``tls_server``: an HTTPS server with a certificate for ``localhost`` from the session CA.
* ``mtls_server``: the same, requiring a client certificate from that CA.
* ``client``: a ``netwire.Client`` with short timeouts, closed at teardown.
* ``fault_server`` comes from the root conftest; ``httpbin`` / ``httpbin_secure`` from pytest-httpbin.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

import netwire
from tests.servers.nginx import CLIENT_SITE, Nginx, nginx_server
from tests.servers.tls import (
    SECRET_REPLY,
    MutualTLSServer,
    TLSServer,
    other_ca,
    server_context,
    session_ca,
    write_ca,
)


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """A private nginx on a free loopback port, for the whole session."""
    with nginx_server(CLIENT_SITE, tmp_path_factory.mktemp("nginx")) as server:
        yield server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    """An HTTPS server on 127.0.0.1 whose certificate (from the session CA) names only ``localhost``."""
    tmp = tmp_path_factory.mktemp("tls")
    server = TLSServer(server_context("localhost"), SECRET_REPLY, keep_alive=True)
    server.ca_pem = Path(write_ca(session_ca(), tmp / "ca.pem"))
    server.other_ca_pem = Path(write_ca(other_ca(), tmp / "other.pem"))
    yield server
    server.close()


@pytest.fixture(scope="module")
def mtls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MutualTLSServer]:
    """An HTTPS server that requires a client certificate from its own CA."""
    tmp = tmp_path_factory.mktemp("mtls")
    ca = session_ca()
    write_ca(ca, tmp / "ca.pem")
    ca.issue_cert("client.test").private_key_and_cert_chain_pem.write_to_path(str(tmp / "client.pem"))
    other_ca().issue_cert("client.test").private_key_and_cert_chain_pem.write_to_path(str(tmp / "stranger.pem"))
    ctx = server_context("localhost")
    ca.configure_trust(ctx)
    ctx.verify_mode = ssl.CERT_REQUIRED
    server = TLSServer(ctx, SECRET_REPLY, keep_alive=True)
    yield MutualTLSServer(server.port, tmp / "ca.pem", tmp / "client.pem", tmp / "stranger.pem")
    server.close()


@pytest.fixture
def client() -> Iterator[netwire.Client]:
    """A Client with timeouts short enough that a hang fails fast."""
    with netwire.Client(timeout=netwire.Timeout(5.0)) as c:
        yield c
