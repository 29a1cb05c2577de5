"""HTTP/2 peers for the tests of this folder (session-wide: nginx and hypercorn start once).

* ``h2_nginx``: nginx with ``listen ... ssl http2`` (ALPN h2), certificate from the session CA;
  ``h2c_nginx``: nginx with ``listen ... http2`` (h2c, prior knowledge); ``h1_tls_nginx``: nginx
  over TLS without http2 (ALPN picks http/1.1). Each has ``ca`` (the CA file) set on it.
* ``hypercorn_tls`` / ``hypercorn_h2c``: hypercorn serving :func:`tests.servers.h2.asgi_app`.
* ``httpbin_h2c``: httpbin served over h2c by hypercorn (``.url`` as pytest-httpbin's fixture).
* ``hostile``: a :class:`tests.servers.h2_hostile.H2HostileServer` per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.servers.h2 import Hypercorn, h2_nginx_site, start_hypercorn, write_cert
from tests.servers.h2_hostile import H2HostileServer
from tests.servers.nginx import Nginx, Site, start_nginx
from tests.servers.tls import session_ca


@pytest.fixture(scope="session")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("h2ca") / "ca.pem"
    session_ca().cert_pem.write_to_path(str(path))
    return str(path)


def _nginx(site: Site) -> Iterator[Nginx]:
    server = start_nginx(site)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def h2_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    yield from _nginx(h2_nginx_site(tmp_path_factory.mktemp("h2nginx"), tls=True))


@pytest.fixture(scope="session")
def h2c_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    yield from _nginx(h2_nginx_site(tmp_path_factory.mktemp("h2cnginx"), tls=False))


@pytest.fixture(scope="session")
def h1_tls_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    crt, key = write_cert(Path(tmp_path_factory.mktemp("h1nginx")))
    site = Site(
        listen="ssl",
        access_log=True,
        locations=f"ssl_certificate {crt}; ssl_certificate_key {key};"
        + r' location = /hello { default_type text/plain; return 200 "hello over http/1.1\n"; }',
    )
    yield from _nginx(site)


@pytest.fixture(scope="session")
def hypercorn_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hypercorn]:
    server = start_hypercorn(Path(tmp_path_factory.mktemp("hypercorn")), tls=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hypercorn_h2c(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hypercorn]:
    server = start_hypercorn(Path(tmp_path_factory.mktemp("hypercorn-h2c")), tls=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def httpbin_h2c(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """httpbin (the WSGI app pytest-httpbin serves over HTTP/1.1) served by hypercorn over h2c;
    ``.url`` is its base URL, as on pytest-httpbin's fixture."""
    from httpbin import app

    server = start_hypercorn(Path(tmp_path_factory.mktemp("httpbin-h2c")), tls=False, wsgi=app)
    yield SimpleNamespace(url=server.url(""))
    server.stop()


@pytest.fixture
def hostile() -> Iterator[H2HostileServer]:
    with H2HostileServer() as server:
        yield server
