"""Fixtures for the AsyncClient tests: real servers on loopback, and one face for both clients.

* ``face``: parametrised over ``sync`` (netwire.Client), ``async`` (AsyncClient on asyncio) and
  ``uvloop`` (AsyncClient on uvloop): ``face(**client_options)`` gives an object with the sync
  client's calling convention, so one scenario suite checks every client (no copied tests).
* ``aio_nginx``: a private nginx (session-wide) serving small, large and gzip files.
* ``fault_server``: :class:`faults.server.FaultServer` for what real servers will not do.
* ``echo``, ``tls_echo``, ``tinyproxy_proxy``, ``dante_proxy``: from ``policy.servers``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

import netwire
from faults.server import FaultServer, ScriptSource
from netwire.aio import AsyncClient

T = TypeVar("T")

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SMALL = b"s" * 128
LARGE = bytes(range(256)) * 8192  # 2 MiB
TEXT = b"".join(b"line %05d of text that nginx compresses\n" % i for i in range(3000))


# -- one face over the sync and async clients ------------------------------------------------------


class SyncFace:
    """netwire.Client behind the face's calling convention."""

    kind = "sync"

    def __init__(self, **options: Any) -> None:
        self.client = netwire.Client(**options)

    def request(self, method: str, url: str, **kwargs: Any) -> netwire.Response:
        return self.client.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> netwire.Response:
        return self.request("GET", url, **kwargs)

    def stream_chunks(self, method: str, url: str, chunk_size: int | None = None, **kwargs: Any) -> tuple[Any, list[bytes]]:
        with self.client.stream(method, url, **kwargs) as r:
            return r, list(r.iter_bytes(chunk_size))

    def open_count(self) -> int:
        return self.client.pool.open_count()

    def close(self) -> None:
        self.client.close()


class AsyncFace:
    """AsyncClient on an event loop of its own (asyncio or uvloop) in a helper thread."""

    def __init__(self, kind: str, **options: Any) -> None:
        self.kind = kind
        if kind == "uvloop":
            import uvloop

            self.loop = uvloop.new_event_loop()
        else:
            self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = AsyncClient(**options)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def request(self, method: str, url: str, **kwargs: Any) -> netwire.Response:
        return self.run(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> netwire.Response:
        return self.request("GET", url, **kwargs)

    def stream_chunks(self, method: str, url: str, chunk_size: int | None = None, **kwargs: Any) -> tuple[Any, list[bytes]]:
        async def go() -> tuple[Any, list[bytes]]:
            async with self.client.stream(method, url, **kwargs) as r:
                return r, [c async for c in r.aiter_bytes(chunk_size)]

        return self.run(go())

    def open_count(self) -> int:
        async def count() -> int:
            return self.client.pool.open_count()

        return self.run(count())

    def close(self) -> None:
        try:
            self.run(self.client.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


Face = SyncFace | AsyncFace


@pytest.fixture(params=["sync", "async", "uvloop"])
def face(request: pytest.FixtureRequest) -> Iterator[Callable[..., Face]]:
    """``face(**client_options)``: a client of the parametrised kind, closed at teardown."""
    made: list[Face] = []

    def make(**options: Any) -> Face:
        options.setdefault("timeout", netwire.Timeout(10.0))
        f: Face = SyncFace(**options) if request.param == "sync" else AsyncFace(request.param, **options)
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- nginx ---------------------------------------------------------------------------------------------

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port};
        listen unix:{tmp}/nginx.sock;
        root {tmp}/www;
        location /gz/ {{ gzip on; gzip_min_length 0; gzip_types text/plain; default_type text/plain; }}
        location = /redirect {{ return 302 /small; }}
    }}
}}
"""


@dataclass
class Nginx:
    port: int
    socket_path: str

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def aio_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    if not os.path.exists(NGINX):
        pytest.fail(f"nginx is not installed ({NGINX}); scripts/setup.sh test installs it")
    tmp: Path = tmp_path_factory.mktemp("aio-nginx")
    tmp.chmod(0o755)
    www = tmp / "www"
    (www / "gz").mkdir(parents=True)
    (www / "small").write_bytes(SMALL)
    (www / "large").write_bytes(LARGE)
    (www / "gz" / "text.txt").write_bytes(TEXT)
    port = _free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, user=user))
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    pytest.fail("nginx did not start")
                time.sleep(0.02)
        yield Nginx(port, str(tmp / "nginx.sock"))
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- fault server and proxies ----------------------------------------------------------------------------


@pytest.fixture
def fault_server() -> Iterator[Callable[[ScriptSource], FaultServer]]:
    started: list[FaultServer] = []

    def start(scripts: ScriptSource) -> FaultServer:
        srv = FaultServer(scripts)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def echo() -> Iterator[Any]:
    from policy.servers import start_echo_server

    server = start_echo_server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_echo() -> Iterator[Any]:
    from policy.servers import start_echo_server

    server = start_echo_server(tls=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tinyproxy_proxy(tls_echo: Any) -> Iterator[Any]:
    from policy.servers import tinyproxy

    with tinyproxy(connect_ports=[tls_echo.port]) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def tinyproxy_auth_proxy(tls_echo: Any) -> Iterator[Any]:
    from policy.servers import tinyproxy

    with tinyproxy(connect_ports=[tls_echo.port], basic_auth=("proxyuser", "proxy-pw.1")) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def dante_proxy() -> Iterator[Any]:
    from policy.servers import dante

    with dante() as server:
        yield server
