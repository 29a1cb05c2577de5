"""Fixtures for the policy tests: real servers on loopback.

``echo_server``, ``tls_echo_server``, ``tinyproxy_server``, ``tinyproxy_auth_server`` and
``dante_server`` come from the root conftest.

* ``dante_auth_server``: dante SOCKS5 with username auth (root only: it creates a system user).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.proxies import ServerProcess, dante, is_root


@pytest.fixture(scope="session")
def dante_auth_server() -> Iterator[ServerProcess]:
    if not is_root():
        pytest.skip("dante's username method checks system passwords: creating the test user needs root")
    with dante(auth=("nwsocks", "s3cret pw")) as server:
        yield server
