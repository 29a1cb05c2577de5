"""What every test folder shares: a clean proxy environment, the fault server, the client
drivers, the peers several folders use, and the markers saying which tests need what.

* autouse: no ``*_proxy`` variable from the outside reaches a test (tests talk to loopback
  servers directly; a test about the environment sets its own with ``monkeypatch``).
* ``fault_server``: start :class:`tests.servers.faults.FaultServer` with a script; every server
  started is stopped at teardown, and a script that failed fails the test.
* ``face``: parametrised over ``sync`` / ``async`` / ``uvloop``; ``face(**client_options)``
  gives a :mod:`tests.drivers` driver, closed at teardown.
* ``echo_server`` / ``tls_echo_server``: an HTTP(S) server answering GETs with JSON describing
  the request (:mod:`tests.servers.echo`); ``tinyproxy_server`` / ``tinyproxy_auth_server``:
  tinyproxy allowing CONNECT to the TLS one; ``dante_server``: dante SOCKS5 (all session-wide).
* ``files_nginx``: nginx serving files (:func:`tests.servers.nginx.files_site`), session-wide.
* ``recorder``: start a :class:`tests.servers.raw.RawRecorder`; ``victim``: a
  :class:`tests.servers.raw.UnixVictim`; ``one_shot``: start a :class:`tests.servers.raw.OneShotServer`.

Markers (registered in pyproject.toml; the default run runs everything):

* ``nginx``: needs the nginx binary (added to every test using an nginx fixture);
* ``peers``: needs another real peer program or server package: tinyproxy, dante, httpbin, pyftpdlib
  (added to every test using one of their fixtures; a test starting one itself must set it);
* ``root``: needs root (skipped otherwise);
* ``serial``: times deadlines tightly: scripts/test runs these alone, after the parallel run
  (``pytest -n auto --dist loadgroup -m "not serial"``, then ``pytest -p no:xdist -m serial``).

``pytest -m "not nginx and not peers"`` runs the suites that need neither.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import netwire
from tests.drivers import KINDS, Driver, make_driver
from tests.servers.echo import EchoServer, start_echo_server
from tests.servers.faults import FaultServer, ScriptSource
from tests.servers.nginx import FilesServer, start_files_nginx
from tests.servers.proxies import ServerProcess, dante, tinyproxy
from tests.servers.raw import OK, OneShotServer, RawRecorder, UnixVictim

# Fixtures that start a peer: a test using one (directly or through another fixture) gets the marker.
_NGINX_FIXTURES = {"nginx", "aio_nginx", "files_nginx", "h2_nginx", "h2c_nginx", "h1_tls_nginx"}
_PEER_FIXTURES = {
    "httpbin", "httpbin_secure", "httpbin_both", "ftp_server", "proxy", "auth_proxy",
    "tinyproxy_server", "tinyproxy_auth_server", "dante_server", "dante_auth_server",
    "tinyproxy_proxy", "tinyproxy_auth_proxy", "dante_proxy", "socks", "real_proxy", "percent_ftp", "other_httpbin",
    "hypercorn_tls", "hypercorn_h2c",
}
_ROOT_FIXTURES = {"dante_auth_server"}
# Tests starting a Ray cluster run on one pytest-xdist worker (`--dist loadgroup`), one cluster at a
# time: two starting at once on two cores took more than 20 s (docs/fetch.md's Ray block has the
# same group, set in tests/docs/test_docs.py).
_RAY_FIXTURES = {"local_ray"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & _NGINX_FIXTURES:
            item.add_marker(pytest.mark.nginx)
        if names & _PEER_FIXTURES:
            item.add_marker(pytest.mark.peers)
        if names & _ROOT_FIXTURES:
            item.add_marker(pytest.mark.root)
        if names & _RAY_FIXTURES:
            item.add_marker(pytest.mark.xdist_group("ray"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("root") is not None and os.geteuid() != 0:
        pytest.skip("needs root")


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every test talks to loopback servers directly; a proxy from the environment would change
    # what is being tested (urllib's opener and netwire's client both read these).
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fault_server() -> Iterator[Callable[[ScriptSource], FaultServer]]:
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


@pytest.fixture(params=KINDS)
def face(request: pytest.FixtureRequest) -> Iterator[Callable[..., Driver]]:
    """``face(**client_options)``: a client of the parametrised kind, closed at teardown."""
    made: list[Driver] = []

    def make(**options: Any) -> Driver:
        options.setdefault("timeout", netwire.Timeout(10.0))
        made.append(make_driver(str(request.param), **options))
        return made[-1]

    yield make
    for f in made:
        f.close()


@pytest.fixture
def recorder() -> Iterator[Callable[..., RawRecorder]]:
    """``recorder(reply=OK)``: a keep-alive server recording each request's exact bytes."""
    made: list[RawRecorder] = []

    def start(reply: bytes = OK) -> RawRecorder:
        made.append(RawRecorder(reply))
        return made[-1]

    yield start
    for r in made:
        r.close()


@pytest.fixture
def victim() -> Iterator[UnixVictim]:
    """A Unix-socket HTTP server standing in for a local daemon, which no request may reach."""
    v = UnixVictim()
    yield v
    v.close()


@pytest.fixture
def one_shot() -> Iterator[Callable[[bytes | Callable[[bytes], bytes]], OneShotServer]]:
    """``one_shot(answer)``: a server sending ``answer`` (bytes, or a function of the request head)
    on each connection, then closing; closed at teardown."""
    made: list[OneShotServer] = []

    def start(answer: bytes | Callable[[bytes], bytes]) -> OneShotServer:
        made.append(OneShotServer(answer))
        return made[-1]

    yield start
    for server in made:
        server.close()


# -- peers shared by several folders (session-wide) -----------------------------------------------


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
def files_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FilesServer]:
    """nginx serving a random 4 MiB file at ``/data.bin``, ``/slow/data.bin`` (rate-limited, for
    Ctrl-C) and ``/norange/data.bin`` (Range support off), and a few small documents."""
    nginx, server = start_files_nginx(tmp_path_factory.mktemp("files-nginx"))
    try:
        yield server
    finally:
        nginx.stop()
