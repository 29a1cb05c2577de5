"""Proxies on every client (sync, asyncio, uvloop): https:// proxies (TLS in TLS) and the
caller's Proxy-Authorization.

The https:// proxy is tinyproxy behind a TLS front of our own (``policy.servers.start_relay``),
its certificate from the same trustme CA as the TLS echo server, so one ``verify`` context
trusts both; the relay records each client's first head (the CONNECT).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from netwire.errors import ConnectTimeout, ProxyError, TLSError, TotalTimeout
from netwire.http.policy.auth import basic_auth_header
from tests.servers.proxies import Relay, start_relay
from tests.servers.raw import SilentServer
from tests.servers.tls import other_ca

Make = Any
Face = Any


@pytest.fixture(scope="module")
def https_proxy(tinyproxy_proxy: Any, tls_echo: Any) -> Iterator[Relay]:
    relay = start_relay((tinyproxy_proxy.host, tinyproxy_proxy.port), ca=tls_echo.ca)
    yield relay
    relay.stop()


@pytest.fixture(scope="module")
def recording_proxy(tinyproxy_proxy: Any) -> Iterator[Relay]:
    """tinyproxy behind a plain relay that records the CONNECT heads."""
    relay = start_relay((tinyproxy_proxy.host, tinyproxy_proxy.port))
    yield relay
    relay.stop()


def _path(face: Face, url: str, **kwargs: Any) -> dict[str, Any]:
    r = face.get(url, **kwargs)
    assert r.status == 200
    result: dict[str, Any] = json.loads(r.content)
    return result


# -- https:// proxies ------------------------------------------------------------------------------


def test_https_target_through_https_proxy(face: Make, https_proxy: Relay, tls_echo: Any) -> None:
    before = len(https_proxy.received)
    c = face(proxy=https_proxy.url, verify=tls_echo.client_context())
    target = f"https://localhost:{tls_echo.port}"
    assert _path(c, target + "/tls/in/tls")["path"] == "/tls/in/tls"
    assert _path(c, target + "/again")["path"] == "/again"  # the tunnel is pooled and reused
    assert c.open_count() == 1
    heads = https_proxy.heads()[before:]
    # The relay saw the CONNECT in the clear (it terminates the outer TLS): one tunnel.
    assert len(heads) == 1 and heads[0].startswith(f"CONNECT localhost:{tls_echo.port} HTTP/1.1\r\n".encode())


def test_http_target_through_https_proxy(face: Make, https_proxy: Relay, echo: Any, tls_echo: Any) -> None:
    before = len(https_proxy.received)
    c = face(proxy=https_proxy.url, verify=tls_echo.client_context())
    assert _path(c, echo.url + "/plain/over/tls?x=1")["path"] == "/plain/over/tls?x=1"
    # Absolute-form over the TLS connection to the proxy, no tunnel.
    assert https_proxy.heads()[before].startswith(f"GET {echo.url}/plain/over/tls?x=1 HTTP/1.1\r\n".encode())


def test_scheme_less_https_proxy_from_the_environment_is_plain_http(
    face: Make, recording_proxy: Relay, tls_echo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # https_proxy=host:port means http://host:port (urllib, curl): a plain CONNECT, no TLS to it.
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", f"{recording_proxy.host}:{recording_proxy.port}")
    before = len(recording_proxy.received)
    c = face(verify=tls_echo.client_context())
    assert _path(c, tls_echo.url + "/bare")["path"] == "/bare"
    assert recording_proxy.heads()[before].startswith(b"CONNECT 127.0.0.1:")


def test_https_proxy_with_credentials(face: Make, tinyproxy_auth_proxy: Any, tls_echo: Any) -> None:
    relay = start_relay((tinyproxy_auth_proxy.host, tinyproxy_auth_proxy.port), ca=tls_echo.ca)
    try:
        with pytest.raises(ProxyError) as info:
            face(proxy=relay.url, verify=tls_echo.client_context()).get(tls_echo.url + "/no-credentials")
        assert info.value.status in (401, 407)
        proxy = relay.url.replace("https://", "https://proxyuser:proxy-pw.1@")
        c = face(proxy=proxy, verify=tls_echo.client_context())
        assert _path(c, tls_echo.url + "/authed")["path"] == "/authed"
    finally:
        relay.stop()


def test_https_proxy_refusing_connect(face: Make, https_proxy: Relay, echo: Any, tls_echo: Any) -> None:
    # tinyproxy allows CONNECT only to the TLS server's port: its 403 comes back through TLS.
    with pytest.raises(ProxyError) as info:
        face(proxy=https_proxy.url, verify=tls_echo.client_context()).get(f"https://127.0.0.1:{echo.port}/")
    assert info.value.status == 403


def test_https_proxy_certificate_not_trusted(face: Make, https_proxy: Relay, tls_echo: Any) -> None:
    import ssl

    other = ssl.create_default_context()
    other_ca().configure_trust(other)  # trusts neither the proxy nor the target
    with pytest.raises(TLSError, match="not accepted") as info:
        face(proxy=https_proxy.url, verify=other).get(tls_echo.url + "/")
    assert f"proxy 127.0.0.1:{https_proxy.port}" in str(info.value)


def test_target_certificate_checked_through_https_proxy(face: Make, tinyproxy_proxy: Any, tls_echo: Any) -> None:
    # The proxy's certificate is fine, the target's comes from a CA the client does not trust:
    # the inner handshake is verified on its own.
    import ssl

    proxy_ca = other_ca()  # not the target's CA
    relay = start_relay((tinyproxy_proxy.host, tinyproxy_proxy.port), ca=proxy_ca)
    try:
        ctx = ssl.create_default_context()
        proxy_ca.configure_trust(ctx)
        with pytest.raises(TLSError, match="not accepted") as info:
            face(proxy=relay.url, verify=ctx).get(tls_echo.url + "/")
        assert "proxy" in str(info.value)
        # Trusting both CAs, it works.
        tls_echo.ca.configure_trust(ctx)
        assert _path(face(proxy=relay.url, verify=ctx), tls_echo.url + "/both")["path"] == "/both"
    finally:
        relay.stop()


@pytest.fixture
def silent_upstream() -> Iterator[tuple[str, int]]:
    """A TCP peer that accepts and never says a word."""
    server = SilentServer()
    yield server.address
    server.close()


def test_https_proxy_that_never_answers_connect(face: Make, silent_upstream: tuple[str, int], tls_echo: Any) -> None:
    import netwire

    relay = start_relay(silent_upstream, ca=tls_echo.ca)
    try:
        c = face(proxy=relay.url, verify=tls_echo.client_context(), timeout=netwire.Timeout(5.0, connect=0.5))
        started = time.monotonic()
        with pytest.raises((ConnectTimeout, TotalTimeout)):
            c.get(tls_echo.url + "/never")
        assert time.monotonic() - started < 3
    finally:
        relay.stop()


# -- Proxy-Authorization set by the caller ---------------------------------------------------------


@pytest.mark.parametrize("value", ["Bearer tok.en-1", "Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnagMDAu", "Basic dTpw"])
def test_caller_proxy_authorization_goes_to_connect_only(
    face: Make, recording_proxy: Relay, tls_echo: Any, value: str
) -> None:
    before = len(recording_proxy.received)
    c = face(proxy=recording_proxy.url, verify=tls_echo.client_context())
    echoed = _path(c, tls_echo.url + "/bearer", headers={"Proxy-Authorization": value})
    # Never to the origin...
    assert not any(k.lower() == "proxy-authorization" for k in echoed["headers"])
    # ...but verbatim to the CONNECT.
    head = recording_proxy.heads()[before]
    assert head.startswith(b"CONNECT ") and f"\r\nProxy-Authorization: {value}".encode() in head


def test_client_level_proxy_authorization_and_tunnel_reuse(face: Make, recording_proxy: Relay, tls_echo: Any) -> None:
    before = len(recording_proxy.received)
    c = face(proxy=recording_proxy.url, verify=tls_echo.client_context(), headers={"Proxy-Authorization": "Bearer A"})
    for _ in range(2):
        echoed = _path(c, tls_echo.url + "/a")
        assert "Proxy-Authorization" not in echoed["headers"]
    # Another caller's credentials get a tunnel of their own (never one opened with "Bearer A").
    _path(c, tls_echo.url + "/b", headers={"Proxy-Authorization": "Bearer B"})
    heads = recording_proxy.heads()[before:]
    assert len(heads) == 2
    assert b"Proxy-Authorization: Bearer A" in heads[0] and b"Proxy-Authorization: Bearer B" in heads[1]


def test_caller_basic_proxy_authorization_accepted_by_tinyproxy(
    face: Make, tinyproxy_auth_proxy: Any, tls_echo: Any
) -> None:
    c = face(proxy=tinyproxy_auth_proxy.url, verify=tls_echo.client_context())
    value = basic_auth_header("proxyuser", "proxy-pw.1")
    echoed = _path(c, tls_echo.url + "/basic", headers={"Proxy-Authorization": value})
    assert echoed["path"] == "/basic" and "Proxy-Authorization" not in echoed["headers"]


def test_caller_proxy_authorization_kept_for_plain_http_through_the_proxy(
    face: Make, recording_proxy: Relay, echo: Any
) -> None:
    # Plain http goes to the proxy itself (absolute-form): the header is the proxy's, sent as is.
    before = len(recording_proxy.received)
    face(proxy=recording_proxy.url).get(echo.url + "/plain", headers={"Proxy-Authorization": "Bearer P"})
    head = recording_proxy.heads()[before]
    assert head.startswith(f"GET {echo.url}/plain ".encode()) and b"Proxy-Authorization: Bearer P" in head
