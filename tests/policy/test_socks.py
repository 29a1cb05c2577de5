"""SOCKS5: the sans-IO handshake byte by byte, and real tunnels through dante."""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netwire.errors import ConnectTimeout, ProxyError
from netwire.http.socks import REPLY_CODES, Socks5Handshake, socks5_connect
from tests.servers.echo import EchoServer
from tests.servers.proxies import ServerProcess

# -- the state machine ---------------------------------------------------------------------------

OK_REPLY_V4 = b"\x05\x00\x00\x01" + bytes([10, 0, 0, 1]) + struct.pack("!H", 4444)


def test_no_auth_ipv4() -> None:
    h = Socks5Handshake("192.0.2.7", 8080)
    assert h.bytes_to_send() == b"\x05\x01\x00"
    assert h.bytes_to_send() == b""
    assert h.bytes_needed == 2
    assert h.receive(b"\x05\x00") is False
    assert h.bytes_to_send() == b"\x05\x01\x00\x01" + bytes([192, 0, 2, 7]) + b"\x1f\x90"
    assert h.bytes_needed == 5
    assert h.receive(OK_REPLY_V4) is True
    assert h.done and h.bound_address == ("10.0.0.1", 4444)
    assert h.bytes_needed == 0 and h.unused == b""


def test_remote_dns_sends_the_name() -> None:
    h = Socks5Handshake("example.test", 443, remote_dns=True)
    h.bytes_to_send()
    h.receive(b"\x05\x00")
    assert h.bytes_to_send() == b"\x05\x01\x00\x03\x0cexample.test\x01\xbb"


def test_local_dns_needs_an_address() -> None:
    with pytest.raises(ValueError, match="resolve it first"):
        Socks5Handshake("example.test", 443, remote_dns=False)
    h = Socks5Handshake("::1", 443, remote_dns=False)
    h.bytes_to_send()
    h.receive(b"\x05\x00")
    assert h.bytes_to_send() == b"\x05\x01\x00\x04" + b"\x00" * 15 + b"\x01\x01\xbb"
    assert Socks5Handshake("[::1]", 1, remote_dns=False)._address[0] == 4


def test_username_password() -> None:
    h = Socks5Handshake("192.0.2.7", 80, auth=("üser", "pw"))
    assert h.bytes_to_send() == b"\x05\x02\x00\x02"
    h.receive(b"\x05\x02")
    user = "üser".encode()
    assert h.bytes_to_send() == b"\x01" + bytes([len(user)]) + user + b"\x02pw"
    h.receive(b"\x01\x00")
    assert h.bytes_to_send().startswith(b"\x05\x01\x00\x01")
    # The server may still choose "no authentication" when credentials are offered.
    h2 = Socks5Handshake("192.0.2.7", 80, auth=("u", "p"))
    h2.bytes_to_send()
    h2.receive(b"\x05\x00")
    assert h2.bytes_to_send().startswith(b"\x05\x01\x00\x01")


def test_auth_refused() -> None:
    h = Socks5Handshake("192.0.2.7", 80, auth=("u", "p"))
    h.receive(b"\x05\x02")
    with pytest.raises(ProxyError, match="refused the username/password"):
        h.receive(b"\x01\x01")


@pytest.mark.parametrize("code", sorted(REPLY_CODES))
def test_reply_codes_are_named(code: int) -> None:
    h = Socks5Handshake("192.0.2.7", 80)
    h.receive(b"\x05\x00")
    with pytest.raises(ProxyError) as info:
        h.receive(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))
    assert info.value.status == code
    assert REPLY_CODES[code] in str(info.value)
    assert "192.0.2.7:80" in str(info.value)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"\x04\x5a", "not a SOCKS5 proxy"),
        (b"\x05\xff", "accepts none of the methods"),
        (b"\x05\x02", "was not offered"),  # user/pass chosen, but none offered
    ],
)
def test_bad_method_answers(answer: bytes, message: str) -> None:
    with pytest.raises(ProxyError, match=message):
        Socks5Handshake("192.0.2.7", 80).receive(answer)


def test_reply_read_exactly_byte_by_byte() -> None:
    # A reply with a domain-name bound address, fed one byte at a time, followed by tunnel data.
    h = Socks5Handshake("example.test", 80)
    h.receive(b"\x05")
    assert h.bytes_needed == 1
    h.receive(b"\x00")
    reply = b"\x05\x00\x00\x03\x09proxy.box" + struct.pack("!H", 1080)
    needs = []
    for i, b in enumerate(reply):
        needs.append(h.bytes_needed)
        assert h.receive(bytes([b])) is (i == len(reply) - 1)
    # Never asks for more than what remains of the reply.
    assert all(n <= len(reply) - i for i, n in enumerate(needs))
    assert h.bound_address == ("proxy.box", 1080)
    h2 = Socks5Handshake("example.test", 80)
    h2.receive(b"\x05\x00" + reply + b"TUNNEL")
    assert h2.done and h2.unused == b"TUNNEL"


def test_ipv6_bound_address() -> None:
    h = Socks5Handshake("example.test", 80)
    h.receive(b"\x05\x00")
    h.receive(b"\x05\x00\x00\x04" + socket.inet_pton(socket.AF_INET6, "2001:db8::1") + b"\x00\x50")
    assert h.bound_address == ("2001:db8::1", 80)


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        Socks5Handshake("x.test", 0)
    with pytest.raises(ValueError):
        Socks5Handshake("a" * 256, 80)
    h = Socks5Handshake("x.test", 80, auth=("", "p"))
    with pytest.raises(ProxyError, match="1-255"):
        h.receive(b"\x05\x02")


# -- socks5_connect over real sockets ------------------------------------------------------------


def _http_get_over(sock: socket.socket | ssl.SSLSocket, host: str, path: str = "/hello") -> dict[str, object]:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    result: dict[str, object] = json.loads(body)
    return result


@pytest.mark.parametrize(("target", "remote_dns"), [("127.0.0.1", False), ("localhost", False), ("localhost", True), ("127.0.0.1", True)])
def test_dante_plain_http(dante_server: ServerProcess, echo_server: EchoServer, target: str, remote_dns: bool) -> None:
    with socket.create_connection((dante_server.host, dante_server.port), timeout=5) as sock:
        socks5_connect(sock, target, echo_server.port, remote_dns=remote_dns, timeout=5)
        echoed = _http_get_over(sock, f"{target}:{echo_server.port}")
    assert echoed["path"] == "/hello"


def test_dante_tls_through_tunnel(dante_server: ServerProcess, tls_echo_server: EchoServer) -> None:
    with socket.create_connection((dante_server.host, dante_server.port), timeout=5) as raw:
        socks5_connect(raw, "localhost", tls_echo_server.port, remote_dns=True, timeout=5)
        with tls_echo_server.client_context().wrap_socket(raw, server_hostname="localhost") as tls:
            echoed = _http_get_over(tls, f"localhost:{tls_echo_server.port}", "/secure")
    assert echoed["path"] == "/secure"


def test_dante_refused_target_names_the_reply(dante_server: ServerProcess) -> None:
    from tests.servers.ports import free_port

    closed = free_port()
    with socket.create_connection((dante_server.host, dante_server.port), timeout=5) as sock, pytest.raises(ProxyError) as info:
        socks5_connect(sock, "127.0.0.1", closed, timeout=5)
    assert info.value.status == 5
    assert "connection refused" in str(info.value)


def test_dante_username_password(dante_auth_server: ServerProcess, echo_server: EchoServer) -> None:
    assert dante_auth_server.auth is not None
    with socket.create_connection((dante_auth_server.host, dante_auth_server.port), timeout=5) as sock:
        socks5_connect(sock, "127.0.0.1", echo_server.port, auth=dante_auth_server.auth, timeout=5)
        assert _http_get_over(sock, "x")["path"] == "/hello"
    with socket.create_connection((dante_auth_server.host, dante_auth_server.port), timeout=5) as sock, pytest.raises(ProxyError, match="refused the username/password"):
        socks5_connect(sock, "127.0.0.1", echo_server.port, auth=("nwsocks", "wrong"), timeout=5)
    with socket.create_connection((dante_auth_server.host, dante_auth_server.port), timeout=5) as sock, pytest.raises(ProxyError, match="accepts none of the methods"):
        socks5_connect(sock, "127.0.0.1", echo_server.port, timeout=5)


class _RecordingSocksPeer:
    """A SOCKS5 server stand-in that records the CONNECT request and answers success (or stalls)."""

    def __init__(self, stall: bool = False) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.request = b""
        self.stall = stall
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.recv(3)
            if self.stall:
                conn.recv(1)  # never answer; wait for the client to give up
                return
            conn.sendall(b"\x05\x00")
            self.request = conn.recv(300)
            conn.sendall(OK_REPLY_V4 + b"early tunnel bytes")
            conn.recv(1)

    def close(self) -> None:
        self.listener.close()


def test_local_dns_resolves_before_sending() -> None:
    peer = _RecordingSocksPeer()
    try:
        with socket.create_connection(("127.0.0.1", peer.port), timeout=5) as sock:
            socks5_connect(sock, "localhost", 8080, remote_dns=False, timeout=5)
            # The handshake took exactly its bytes; what the peer sent after is still there.
            assert sock.recv(100) == b"early tunnel bytes"
        peer.thread.join(5)
        addr = peer.request[3:-2]
        assert peer.request[3] in (1, 4)  # an address, not a name
        assert b"localhost" not in addr
    finally:
        peer.close()


def test_handshake_timeout() -> None:
    peer = _RecordingSocksPeer(stall=True)
    try:
        with socket.create_connection(("127.0.0.1", peer.port), timeout=5) as sock, pytest.raises(ConnectTimeout, match="SOCKS5"):
            socks5_connect(sock, "127.0.0.1", 80, timeout=0.2)
    finally:
        peer.close()


def test_proxy_closing_is_a_proxy_error() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def accept_and_close() -> None:
        conn, _ = listener.accept()
        conn.recv(3)
        conn.close()

    t = threading.Thread(target=accept_and_close, daemon=True)
    t.start()
    try:
        with socket.create_connection(listener.getsockname(), timeout=5) as sock, pytest.raises(ProxyError, match="closed the connection"):
            socks5_connect(sock, "127.0.0.1", 80, timeout=5)
    finally:
        t.join(5)
        listener.close()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.booleans())
def test_any_reply_is_handled_or_a_proxy_error(reply: bytes, with_auth: bool) -> None:
    h = Socks5Handshake("example.test", 80, auth=("u", "p") if with_auth else None)
    try:
        h.receive(reply)
    except ProxyError:
        return
    # Never more than the bytes the reply needs are consumed as handshake.
    assert h.bytes_needed >= 0
    if h.done:
        assert h.bound_address is not None
