"""HTTP/2 inside proxy tunnels: an HTTP CONNECT tunnel through tinyproxy and a SOCKS5 one through
dante, to nginx over TLS; ALPN runs inside the tunnel and picks h2."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.drivers import Driver
from tests.servers.nginx import Nginx
from tests.servers.proxies import ServerProcess, tinyproxy

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def h2_tinyproxy(h2_nginx: Nginx) -> Iterator[ServerProcess]:
    with tinyproxy(connect_ports=[h2_nginx.port]) as proxy:
        yield proxy


def test_h2_through_an_http_connect_tunnel(
    face: Callable[..., Driver], h2_nginx: Nginx, h2_tinyproxy: ServerProcess, ca_file: str
) -> None:
    client = face(http2=True, verify=ca_file, proxy=h2_tinyproxy.url)
    for _ in range(2):
        r = client.get(f"https://127.0.0.1:{h2_nginx.port}/hello")
        assert (r.status, r.http_version, r.content) == (200, "2", b"hello from nginx\n")
    assert client.open_count() == 1


def test_h2_through_a_socks5_tunnel(
    face: Callable[..., Driver], h2_nginx: Nginx, dante_server: ServerProcess, ca_file: str
) -> None:
    client = face(http2=True, verify=ca_file, proxy=f"socks5://127.0.0.1:{dante_server.port}")
    r = client.get(f"https://127.0.0.1:{h2_nginx.port}/hello")
    assert (r.status, r.http_version, r.content) == (200, "2", b"hello from nginx\n")
