"""Read and write deadlines hold on TLS connections too (kernel timers do not apply to TLS)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest
import trustme

import netwire
from netwire.errors import ReadTimeout, WriteTimeout
from tests.servers.tls import session_ca


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return session_ca()


class SilentTLSServer:
    """Completes the TLS handshake, then neither answers nor reads until told to stop."""

    def __init__(self, ca: trustme.CA, read_request: bool) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(self.ctx)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.read_request = read_request
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with self.ctx.wrap_socket(conn, server_side=True) as tls:
            if self.read_request:
                tls.recv(65536)
            self.stop.wait(10)


@pytest.fixture
def client(ca: trustme.CA) -> Iterator[netwire.Client]:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    with netwire.Client(verify=ctx, timeout=netwire.Timeout(5, read=0.4, write=0.4), expect_continue=None) as c:
        yield c


@pytest.mark.timeout(20)
def test_tls_read_timeout_fires(ca: trustme.CA, client: netwire.Client) -> None:
    srv = SilentTLSServer(ca, read_request=True)
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        client.get(f"https://127.0.0.1:{srv.port}/")
    assert 0.35 <= time.monotonic() - started < 2.5
    srv.stop.set()
    assert client.pool.open_count() == 0


@pytest.mark.timeout(20)
def test_tls_write_timeout_fires_on_a_stalled_upload(ca: trustme.CA, client: netwire.Client) -> None:
    srv = SilentTLSServer(ca, read_request=False)
    started = time.monotonic()
    with pytest.raises(WriteTimeout):
        client.post(f"https://127.0.0.1:{srv.port}/", content=b"x" * (32 << 20))
    assert time.monotonic() - started < 5
    srv.stop.set()
    assert client.pool.open_count() == 0
