"""Fixtures for the AsyncClient tests: real servers on loopback (from :mod:`tests.servers`).

* ``face`` (root conftest): parametrised over ``sync`` (netwire.Client), ``async`` (AsyncClient
  on asyncio) and ``uvloop`` (AsyncClient on uvloop), so one scenario suite checks every client.
* ``aio_nginx``: a private nginx (session-wide, ``tests.servers.nginx.AIO_SITE``) serving small,
  large and gzip files, also on a Unix socket.
* ``echo``, ``tls_echo``, ``tinyproxy_proxy``, ``dante_proxy``: the root conftest's shared peers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.echo import EchoServer
from tests.servers.nginx import AIO_SITE, Nginx, nginx_server
from tests.servers.proxies import ServerProcess


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def aio_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    with nginx_server(AIO_SITE, tmp_path_factory.mktemp("aio-nginx")) as server:
        yield server


# The tests here name the root conftest's shared peers shorter.


@pytest.fixture(scope="session")
def echo(echo_server: EchoServer) -> EchoServer:
    return echo_server


@pytest.fixture(scope="session")
def tls_echo(tls_echo_server: EchoServer) -> EchoServer:
    return tls_echo_server


@pytest.fixture(scope="session")
def tinyproxy_proxy(tinyproxy_server: ServerProcess) -> ServerProcess:
    return tinyproxy_server


@pytest.fixture(scope="session")
def tinyproxy_auth_proxy(tinyproxy_auth_server: ServerProcess) -> ServerProcess:
    return tinyproxy_auth_server


@pytest.fixture(scope="session")
def dante_proxy(dante_server: ServerProcess) -> ServerProcess:
    return dante_server
