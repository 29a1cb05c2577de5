"""HTTP CONNECT tunnels: through tinyproxy to a TLS server, refusals, and exact reads of the reply."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import trustme

from netwire.errors import ConnectTimeout, ProxyError, TLSError
from netwire.http.connection import Origin, open_connection
from netwire.http.http11 import ParserLimits, ResponseParser
from netwire.http.policy.proxies import Proxy, proxy_authorization
from netwire.http.proxy_tunnel import TLSInTLSSocket, authority, http_connect
from tests.servers.echo import EchoServer
from tests.servers.proxies import Relay, ServerProcess, start_relay
from tests.servers.tls import session_ca


def _get(sock: socket.socket | ssl.SSLSocket, host: str, path: str) -> dict[str, object]:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    result: dict[str, object] = json.loads(body)
    return result


def test_tinyproxy_connect_to_tls_server(tinyproxy_server: ServerProcess, tls_echo_server: EchoServer) -> None:
    with socket.create_connection((tinyproxy_server.host, tinyproxy_server.port), timeout=5) as raw:
        head = http_connect(raw, "localhost", tls_echo_server.port, headers=[("User-Agent", "netwire-test")], timeout=5)
        assert 200 <= head.status < 300
        with tls_echo_server.client_context().wrap_socket(raw, server_hostname="localhost") as tls:
            echoed = _get(tls, f"localhost:{tls_echo_server.port}", "/through/tunnel")
    assert echoed["path"] == "/through/tunnel"


def test_tinyproxy_refuses_connect(tinyproxy_server: ServerProcess, echo_server: EchoServer) -> None:
    # Only the TLS server's port is a ConnectPort: CONNECT elsewhere is refused with 403.
    with socket.create_connection((tinyproxy_server.host, tinyproxy_server.port), timeout=5) as raw, pytest.raises(ProxyError) as info:
        http_connect(raw, "127.0.0.1", echo_server.port, timeout=5)
    assert info.value.status == 403
    assert "403" in str(info.value) and f"127.0.0.1:{echo_server.port}" in str(info.value)


def test_tinyproxy_proxy_authentication(tinyproxy_auth_server: ServerProcess, tls_echo_server: EchoServer) -> None:
    addr = (tinyproxy_auth_server.host, tinyproxy_auth_server.port)
    with socket.create_connection(addr, timeout=5) as raw, pytest.raises(ProxyError) as info:
        http_connect(raw, "localhost", tls_echo_server.port, timeout=5)
    assert info.value.status == 407
    # Credentials from the proxy URL's userinfo, percent-decoded.
    proxy = Proxy.from_url(f"http://proxy%75ser:proxy%2Dpw%2E1@{tinyproxy_auth_server.host}:{tinyproxy_auth_server.port}")
    assert proxy.auth == tinyproxy_auth_server.auth == ("proxyuser", "proxy-pw.1")
    value = proxy_authorization(proxy)
    assert value is not None
    with socket.create_connection(addr, timeout=5) as raw:
        http_connect(raw, "localhost", tls_echo_server.port, headers=[("Proxy-Authorization", value)], timeout=5)
        with tls_echo_server.client_context().wrap_socket(raw, server_hostname="localhost") as tls:
            assert _get(tls, "localhost", "/authed")["path"] == "/authed"
    bad = proxy_authorization(Proxy.from_url("http://proxyuser:wrong@x"))
    assert bad is not None
    with socket.create_connection(addr, timeout=5) as raw, pytest.raises(ProxyError) as info:
        http_connect(raw, "localhost", tls_echo_server.port, headers=[("Proxy-Authorization", bad)], timeout=5)
    # tinyproxy answers wrong credentials with 401 rather than 407; either way it is the proxy's status.
    assert info.value.status in (401, 407)


# -- a scripted proxy for the exact-read rules ------------------------------------------------------


@contextmanager
def scripted_proxy(
    script: Callable[[socket.socket], None], *, tls: trustme.CA | None = None
) -> Iterator[tuple[int, list[bytes]]]:
    """A one-connection peer: reads the CONNECT head, then runs ``script`` on the connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []
    ctx = None
    if tls is not None:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.issue_cert("127.0.0.1").configure_cert(ctx)

    def run() -> None:
        conn, _ = listener.accept()
        if ctx is not None:
            conn = ctx.wrap_socket(conn, server_side=True)
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            received.append(data)
            script(conn)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        t.join(5)
        listener.close()


def _send_then_wait(*parts: bytes, gap: float = 0.05) -> Callable[[socket.socket], None]:
    def script(conn: socket.socket) -> None:
        for part in parts:
            conn.sendall(part)
            time.sleep(gap)
        try:
            conn.recv(100)
        except OSError:
            pass

    return script


@pytest.mark.parametrize(
    "parts",
    [
        [b"HTTP/1.1 200 Connection established\r\n\r\nTUNNEL-BYTES"],
        [b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\r", b"\nTUNNEL-BYTES"],
        [b"HTTP/1.1 200 OK\r\n", b"\r\n", b"TUNNEL-BYTES"],
        [b"HTTP/1.0 200 OK\n\nTUNNEL-BYTES"],
        [b"HTTP/1.1 200 OK\r\n\nTUNNEL-BYTES"],
        [b"HTTP/1.1 200 OK\nX-A: 1\r\n", b"\r", b"\nTUNNEL-BYTES"],
        [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nTUNNEL-BYTES"],  # a 2xx CONNECT has no body
    ],
)
def test_reply_head_is_read_exactly(parts: list[bytes]) -> None:
    with scripted_proxy(_send_then_wait(*parts)) as (port, received), socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        head = http_connect(sock, "example.test", 443, timeout=5)
        assert head.status == 200
        # The first tunnel byte is still in the socket: nothing was over-read.
        got = b""
        while len(got) < len(b"TUNNEL-BYTES"):
            got += sock.recv(100)
        assert got == b"TUNNEL-BYTES"
    assert received[0].startswith(b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n")


def test_https_proxy_reads_over_tls_without_over_reading() -> None:
    ca = session_ca()
    with scripted_proxy(_send_then_wait(b"HTTP/1.1 200 OK\r\n\r\nTUNNEL"), tls=ca) as (port, _):
        ctx = ssl.create_default_context()
        ca.configure_trust(ctx)
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="127.0.0.1") as sock:
            assert http_connect(sock, "example.test", 443, timeout=5).status == 200
            assert sock.recv(100) == b"TUNNEL"


def test_ipv6_target_is_bracketed() -> None:
    assert authority("::1", 443) == "[::1]:443"
    assert authority("[::1]", 443) == "[::1]:443"
    assert authority("example.test", 8443) == "example.test:8443"
    with scripted_proxy(_send_then_wait(b"HTTP/1.1 200 OK\r\n\r\n")) as (port, received), socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        http_connect(sock, "2001:db8::1", 443, headers=[("Host", "ignored"), ("X-Extra", "1")], timeout=5)
    assert received[0].startswith(b"CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\nX-Extra: 1\r\n")


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad", ProxyError, "502 Bad Gateway"),
        (b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", ProxyError, "407"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", ProxyError, "not valid HTTP"),
        (b"HTTP/1.1 200 OK\r\n", ProxyError, "closed the connection"),
        (b"", ProxyError, "closed the connection"),
    ],
)
def test_bad_replies(reply: bytes, error: type[Exception], message: str) -> None:
    def script(conn: socket.socket) -> None:
        conn.sendall(reply)

    with scripted_proxy(script) as (port, _), socket.create_connection(("127.0.0.1", port), timeout=5) as sock, pytest.raises(error, match=message):
        http_connect(sock, "example.test", 443, timeout=5)


def test_status_is_attached() -> None:
    with scripted_proxy(_send_then_wait(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")) as (port, _), socket.create_connection(("127.0.0.1", port), timeout=5) as sock, pytest.raises(ProxyError) as info:
        http_connect(sock, "example.test", 443, timeout=5)
    assert info.value.status == 503


def test_timeout() -> None:
    with scripted_proxy(_send_then_wait(b"HTTP/1.1 200", gap=1.0)) as (port, _), socket.create_connection(("127.0.0.1", port), timeout=5) as sock, pytest.raises(ConnectTimeout):
        http_connect(sock, "example.test", 443, timeout=0.3)


def test_oversized_reply_head() -> None:
    huge = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 2000 + b"\r\n"

    def script(conn: socket.socket) -> None:
        try:
            conn.sendall(huge * 20)
        except OSError:
            pass

    with scripted_proxy(script) as (port, _), socket.create_connection(("127.0.0.1", port), timeout=5) as sock, pytest.raises(ProxyError, match="exceeds"):
        http_connect(sock, "example.test", 443, timeout=5, limits=ParserLimits(max_header_bytes=8192))


# -- TLS in TLS: an https:// proxy ----------------------------------------------------------------


@pytest.fixture(scope="module")
def https_front(tinyproxy_server: ServerProcess, tls_echo_server: EchoServer) -> Iterator[Relay]:
    relay = start_relay((tinyproxy_server.host, tinyproxy_server.port), ca=tls_echo_server.ca)
    yield relay
    relay.stop()


def _outer(relay: Relay, ctx: ssl.SSLContext) -> ssl.SSLSocket:
    return ctx.wrap_socket(socket.create_connection((relay.host, relay.port), timeout=5), server_hostname=relay.host)


def test_tls_in_tls_socket(https_front: Relay, tls_echo_server: EchoServer) -> None:
    ctx = tls_echo_server.client_context()
    outer = _outer(https_front, ctx)
    assert http_connect(outer, "localhost", tls_echo_server.port, timeout=5).status == 200
    inner = TLSInTLSSocket(outer, ctx, "localhost")
    inner.do_handshake()
    try:
        # The certificate is the target's (localhost), not the proxy's.
        assert ("DNS", "localhost") in inner.getpeercert()["subjectAltName"]
        assert inner.version() in ("TLSv1.2", "TLSv1.3") and inner.pending() == 0
        assert _get(inner, "localhost", "/inner")["path"] == "/inner"  # type: ignore[arg-type]
        assert inner.recv(100) == b""  # the server closed (no close_notify through the relay): EOF
    finally:
        inner.close()


def test_tls_in_tls_through_open_connection(https_front: Relay, tls_echo_server: EchoServer) -> None:
    # The client's path: open_connection sees a TLS socket and runs the origin's TLS inside it.
    ctx = tls_echo_server.client_context()
    outer = _outer(https_front, ctx)
    http_connect(outer, "localhost", tls_echo_server.port, timeout=5)
    conn = open_connection(
        Origin("https", "localhost", tls_echo_server.port), connect_timeout=5, ssl_context=ctx, sock=outer
    )
    try:
        # (Not is_alive() here: TLS 1.3 session tickets may still be arriving on a fresh
        # connection; reuse of an idle one is covered by tests/aio/test_proxies.py.)
        assert isinstance(conn.sock, TLSInTLSSocket)
        conn.send(b"GET /conn HTTP/1.1\r\nHost: localhost\r\n\r\n", write_timeout=5, deadline=None)
        head, _, _ = conn.receive_head(ResponseParser("GET"), read_timeout=5, deadline=None)
        assert head.status == 200
    finally:
        conn.close()


def test_tls_in_tls_untrusted_target(https_front: Relay, tls_echo_server: EchoServer) -> None:
    trusts_proxy_only = ssl.create_default_context()
    tls_echo_server.ca.configure_trust(trusts_proxy_only)
    outer = _outer(https_front, trusts_proxy_only)
    http_connect(outer, "localhost", tls_echo_server.port, timeout=5)
    # Checked against the inner host name: the target's certificate has no "wrong.test".
    with pytest.raises(TLSError, match="through the https proxy"):
        open_connection(
            Origin("https", "wrong.test", tls_echo_server.port),
            connect_timeout=5,
            ssl_context=trusts_proxy_only,
            sock=outer,
        )


def test_tls_in_tls_handshake_timeout(tls_echo_server: EchoServer) -> None:
    # A proxy that says 200 and then nothing: the inner handshake times out, typed.
    ca = session_ca()
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    with scripted_proxy(_send_then_wait(b"HTTP/1.1 200 OK\r\n\r\n", gap=2.0), tls=ca) as (port, _):
        outer = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="127.0.0.1")
        http_connect(outer, "example.test", 443, timeout=5)
        started = time.monotonic()
        with pytest.raises(ConnectTimeout, match="TLS handshake"):
            open_connection(Origin("https", "example.test", 443), connect_timeout=0.3, ssl_context=ctx, sock=outer)
        assert time.monotonic() - started < 1.5


def test_tls_in_tls_timeout_bounds_a_trickled_record() -> None:
    # After the 200, a TLS record header announcing 16 KiB, then one byte every 50 ms: each
    # outer read makes progress, but the inner handshake's timeout bounds the whole wait.
    ca = session_ca()
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)

    def script(conn: socket.socket) -> None:
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
            time.sleep(0.05)
            conn.sendall(b"\x16\x03\x03\x40\x00")
            for _ in range(60):
                time.sleep(0.05)
                conn.sendall(b"\x00")
        except OSError:
            pass

    with scripted_proxy(script, tls=ca) as (port, _):
        outer = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="127.0.0.1")
        http_connect(outer, "example.test", 443, timeout=5)
        started = time.monotonic()
        with pytest.raises(ConnectTimeout, match="TLS handshake"):
            open_connection(Origin("https", "example.test", 443), connect_timeout=0.4, ssl_context=ctx, sock=outer)
        assert time.monotonic() - started < 1.2
        outer.close()
