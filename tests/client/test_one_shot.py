"""The one-shot functions (``netwire.get(url, verify=False)``...) take what a one-off call needs.

Against real peers on loopback: our TLS server (a certificate from a CA the system does not
trust), the mutual-TLS server (client certificate), tinyproxy behind a recording relay, httpbin.
"""

from __future__ import annotations

import json as std_json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import netwire
from netwire.http import api
from tests.servers.proxies import Relay, ServerProcess, start_relay
from tests.servers.tls import MutualTLSServer, TLSServer

pytestmark = pytest.mark.timeout(30)


def test_verify_false_works_and_warns(tls_server: TLSServer) -> None:
    with pytest.raises(netwire.TLSError):
        netwire.get(tls_server.url("/untrusted"), timeout=5)  # the system CAs do not know this one
    with pytest.warns(netwire.InsecureRequestWarning, match="certificate verification turned off"):
        r = netwire.get(tls_server.url("/one-shot-insecure"), verify=False, timeout=5)
    # Before: netwire.get(url, verify=False) raised TypeError (an unexpected keyword).
    assert r.status == 200 and r.content == b"secret over TLS\n"
    # Each insecure call warns (its own client), and the shared client stayed verifying.
    with pytest.warns(netwire.InsecureRequestWarning):
        netwire.get(tls_server.url("/again"), verify=False, timeout=5)
    with pytest.raises(netwire.TLSError):
        netwire.get(tls_server.url("/still-verified"), timeout=5)


def test_verify_with_a_ca_bundle(tls_server: TLSServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = netwire.get(tls_server.url("/bundle"), verify=str(tls_server.ca_pem), timeout=5)
    assert r.status == 200


def test_client_certificate(mtls_server: MutualTLSServer) -> None:
    r = netwire.get(mtls_server.url("/mtls-one-shot"), verify=str(mtls_server.ca_pem),
                    cert=str(mtls_server.client_pem), timeout=5)
    assert r.content == b"secret over TLS\n"
    with pytest.raises(netwire.TransportError):
        netwire.get(mtls_server.url("/no-cert"), verify=str(mtls_server.ca_pem), timeout=5)


@pytest.fixture
def relay(tinyproxy_server: ServerProcess) -> Iterator[Relay]:
    r = start_relay((tinyproxy_server.host, tinyproxy_server.port))
    yield r
    r.stop()


def test_proxy(httpbin: Any, relay: Relay) -> None:
    r = netwire.get(httpbin.url + "/get", params={"via": "proxy"}, proxy=relay.url, timeout=5)
    assert r.status == 200 and r.json()["args"] == {"via": "proxy"}
    [head] = relay.heads()
    assert head.startswith(f"GET {httpbin.url}/get?via=proxy HTTP/1.1".encode())


def test_request_options(httpbin: Any) -> None:
    r = netwire.post(httpbin.url + "/post", json={"a": [1, "x"]}, headers={"X-Test": "yes"},
                     cookies={"c": "1"}, auth=("user", "pw"), timeout=5)
    body = r.json()
    assert body["json"] == {"a": [1, "x"]} and body["headers"]["X-Test"] == "yes"
    assert body["headers"]["Cookie"] == "c=1" and body["headers"]["Authorization"].startswith("Basic ")
    r = netwire.get(httpbin.url + "/redirect/1", follow_redirects=False, timeout=5)
    assert r.status == 302
    r = netwire.request("PUT", httpbin.url + "/put", data={"k": "v"}, timeout=5)
    assert r.json()["form"] == {"k": "v"}
    for call, method in ((netwire.patch, "PATCH"), (netwire.delete, "DELETE")):
        assert call(httpbin.url + f"/{method.lower()}", timeout=5).status == 200
    assert netwire.head(httpbin.url + "/get", timeout=5).content == b""
    assert netwire.options(httpbin.url + "/get", timeout=5).status == 200
    with netwire.stream("GET", httpbin.url + "/bytes/100", params={"seed": 1}, timeout=5) as s:
        assert len(b"".join(s.iter_bytes())) == 100


def test_a_call_with_a_client_option_gets_its_own_client_closed_after(httpbin: Any) -> None:
    before = api._shared()
    opened = before.pool.connections_opened
    netwire.get(httpbin.url + "/get", trust_env=False, timeout=5)
    assert before.pool.connections_opened == opened  # not the shared client
    with netwire.stream("GET", httpbin.url + "/get", cookies=False, timeout=5) as s:
        assert std_json.loads(s.read())["url"].endswith("/get")
    assert api._shared() is before


def test_the_one_shot_functions_have_docstrings() -> None:
    for name in ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream"):
        assert getattr(api, name).__doc__, name
        assert getattr(netwire.Client, name).__doc__, f"Client.{name}"
        if name != "request":
            assert getattr(netwire, name) is getattr(api, name)
    for name in ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream"):
        assert getattr(netwire.AsyncClient, name).__doc__, f"AsyncClient.{name}"
