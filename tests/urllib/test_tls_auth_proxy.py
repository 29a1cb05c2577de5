"""HTTPS with a context, authentication through the password managers, proxies through tinyproxy."""

from __future__ import annotations

import json
import ssl
import sys
import urllib.request
from typing import Any

import pytest
import pytest_httpbin.certs

import netwire.errors
import netwire.request as R
from netwire.error import HTTPError, URLError
from tests.policy.test_proxies import _NETWIRE_ADDITIONS, _SAME_AS_URLLIB

# -- HTTPS -----------------------------------------------------------------------------------------


def test_https_with_a_context(httpbin_secure: Any, ca_context: ssl.SSLContext) -> None:
    r = R.urlopen(httpbin_secure.url + "/get?x=1", context=ca_context)
    assert r.status == 200 and json.loads(r.read())["args"] == {"x": "1"}
    # The same context means the same client (and pool), not a new one per call.
    assert R._client_for(ca_context) is R._client_for(ca_context)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="CPython 3.13 removed urlopen's cafile (see the next test)")
def test_https_with_cafile(httpbin_secure: Any) -> None:
    with pytest.warns(DeprecationWarning, match="cafile, capath and cadefault are deprecated"):
        r = R.urlopen(httpbin_secure.url + "/get", cafile=pytest_httpbin.certs.where())
    assert r.status == 200
    with pytest.raises(ValueError), pytest.warns(DeprecationWarning):
        R.urlopen(httpbin_secure.url + "/get", cafile="x", context=ssl.create_default_context())


def test_urlopen_cafile_follows_the_running_python() -> None:
    import inspect
    import urllib.request

    ours = set(inspect.signature(R.urlopen).parameters)
    assert ours == set(inspect.signature(urllib.request.urlopen).parameters)
    assert ("cafile" in ours) is (sys.version_info < (3, 13))


def test_https_handler_in_an_opener(httpbin_secure: Any, ca_context: ssl.SSLContext) -> None:
    opener = R.build_opener(R.HTTPSHandler(context=ca_context))
    assert opener.open(httpbin_secure.url + "/status/200").status == 200


def test_untrusted_certificate_is_a_urlerror_with_the_ssl_error(httpbin_secure: Any) -> None:
    with pytest.raises(URLError) as info:
        R.urlopen(httpbin_secure.url + "/get")
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)
    assert isinstance(info.value, netwire.errors.TLSError)
    with pytest.raises(urllib.request.URLError) as theirs:  # type: ignore[attr-defined]
        urllib.request.urlopen(httpbin_secure.url + "/get")
    assert type(info.value.reason) is type(theirs.value.reason)


def test_replaced_default_https_context_is_honoured(
    httpbin_secure: Any, ca_context: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ssl, "_create_default_https_context", lambda: ca_context)
    assert R.urlopen(httpbin_secure.url + "/get").status == 200


# -- authentication --------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_digest_auth(httpbin: Any, algorithm: str) -> None:
    mgr = R.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, httpbin.url, "user", "passwd")
    opener = R.build_opener(R.HTTPDigestAuthHandler(mgr))
    r = opener.open(f"{httpbin.url}/digest-auth/auth/user/passwd/{algorithm}")
    assert r.status == 200 and json.loads(r.read()) == {"authenticated": True, "user": "user"}


def test_digest_auth_wrong_password(httpbin: Any) -> None:
    mgr = R.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, httpbin.url, "user", "wrong")
    opener = R.build_opener(R.HTTPDigestAuthHandler(mgr))
    with pytest.raises(HTTPError) as info:
        opener.open(httpbin.url + "/digest-auth/auth/user/passwd")
    assert info.value.code == 401


def test_basic_auth_with_realm(httpbin: Any) -> None:
    handler = R.HTTPBasicAuthHandler()
    handler.add_password("Fake Realm", httpbin.url + "/basic-auth/", "user", "passwd")
    opener = R.build_opener(handler)
    assert json.loads(opener.open(httpbin.url + "/basic-auth/user/passwd").read())["authenticated"]
    # Another realm's (or no) credentials: the 401 comes through.
    with pytest.raises(HTTPError) as info:
        R.build_opener(R.HTTPBasicAuthHandler()).open(httpbin.url + "/basic-auth/user/passwd")
    assert info.value.code == 401


def test_prior_auth_sends_credentials_first(keepalive_server: Any) -> None:
    mgr = R.HTTPPasswordMgrWithPriorAuth()
    mgr.add_password(None, keepalive_server.url, "user", "pw", is_authenticated=True)
    opener = R.build_opener(R.HTTPBasicAuthHandler(mgr))
    opener.open(keepalive_server.url + "/first").read()
    (_, _, headers, _), = keepalive_server.requests
    assert dict(headers)["Authorization"] == "Basic dXNlcjpwdw=="
    assert mgr.is_authenticated(keepalive_server.url + "/first")


def test_password_managers_match_urllib() -> None:
    for ours, theirs in (
        (R.HTTPPasswordMgr(), urllib.request.HTTPPasswordMgr()),
        (R.HTTPPasswordMgrWithDefaultRealm(), urllib.request.HTTPPasswordMgrWithDefaultRealm()),
        (R.HTTPPasswordMgrWithPriorAuth(), urllib.request.HTTPPasswordMgrWithPriorAuth()),
    ):
        for mgr in (ours, theirs):
            mgr.add_password("r", "http://example.com/a/", "u1", "p1")
            mgr.add_password(None, ["https://example.com:8443/", "other.example"], "u2", "p2")
        for realm in ("r", None, "x"):
            for uri in (
                "http://example.com/a/b",
                "http://example.com:80/a/",
                "http://example.com/b",
                "https://example.com:8443/x",
                "other.example",
                "http://other.example/y",
            ):
                assert ours.find_user_password(realm, uri) == theirs.find_user_password(realm, uri), (realm, uri)


# -- proxies ---------------------------------------------------------------------------------------


def test_http_through_tinyproxy(proxy: Any, httpbin: Any) -> None:
    opener = R.build_opener(R.ProxyHandler({"http": proxy.url}))
    r = opener.open(httpbin.url + "/get?via=proxy")
    assert r.status == 200 and json.loads(r.read())["args"] == {"via": "proxy"}
    assert f"{httpbin.url}/get?via=proxy" in proxy.output()


def test_https_through_tinyproxy_connect(proxy: Any, httpbin_secure: Any, ca_context: ssl.SSLContext) -> None:
    opener = R.build_opener(R.ProxyHandler({"https": proxy.url}), R.HTTPSHandler(context=ca_context))
    r = opener.open(httpbin_secure.url + "/get?via=tunnel")
    assert json.loads(r.read())["args"] == {"via": "tunnel"}
    assert "CONNECT" in proxy.output()


def test_https_proxy_without_a_scheme_is_plain_http(
    proxy: Any, httpbin_secure: Any, ca_context: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "proxy:3128" means http://proxy:3128 (urllib, curl): a plain CONNECT, no TLS to the proxy.
    bare = proxy.url.split("://", 1)[1]
    target = httpbin_secure.url.split("://", 1)[1]
    opener = R.build_opener(R.ProxyHandler({"https": bare}), R.HTTPSHandler(context=ca_context))
    assert json.loads(opener.open(httpbin_secure.url + "/get?via=bare").read())["args"] == {"via": "bare"}
    assert f"CONNECT {target}" in proxy.output()
    monkeypatch.setenv("https_proxy", bare)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    r = R.urlopen(httpbin_secure.url + "/get?via=env", context=ca_context)
    assert json.loads(r.read())["args"] == {"via": "env"}
    assert proxy.output().count(f"CONNECT {target}") >= 2
    # Request.set_proxy with type "https" on an https request tunnels through a plain proxy too.
    req = R.Request(httpbin_secure.url + "/get?via=set_proxy")
    req.set_proxy(bare, "https")
    plain = R.build_opener(R.ProxyHandler({}), R.HTTPSHandler(context=ca_context))
    assert json.loads(plain.open(req).read())["args"] == {"via": "set_proxy"}


@pytest.mark.parametrize("value", ["Bearer tok.en-1", "Negotiate YIIGhgYGKwYBBQUCoIIG", "Basic dTpw"])
def test_caller_proxy_authorization_goes_verbatim_to_connect(
    proxy: Any, httpbin_secure: Any, ca_context: ssl.SSLContext, value: str
) -> None:
    from tests.servers.proxies import start_relay

    relay = start_relay((proxy.host, proxy.port))  # records the CONNECT heads
    try:
        for module in (R, urllib.request):  # netwire's face, then urllib: the same on the wire
            opener = module.build_opener(  # type: ignore[attr-defined]
                module.ProxyHandler({"https": relay.url}),  # type: ignore[attr-defined]
                module.HTTPSHandler(context=ca_context),  # type: ignore[attr-defined]
            )
            req = module.Request(httpbin_secure.url + "/headers", headers={"Proxy-Authorization": value})  # type: ignore[attr-defined]
            echoed = json.loads(opener.open(req).read())["headers"]
            assert "Proxy-Authorization" not in echoed  # never to the origin
        ours, theirs = relay.heads()
        assert ours.startswith(b"CONNECT ") and theirs.startswith(b"CONNECT ")
        line = f"\r\nProxy-Authorization: {value}".encode()
        assert line in ours and line in theirs
    finally:
        relay.stop()


def test_proxy_basic_auth_handler(auth_proxy: Any, httpbin: Any) -> None:
    mgr = R.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, auth_proxy.url, "proxyuser", "proxypass")
    opener = R.build_opener(R.ProxyHandler({"http": auth_proxy.url}), R.ProxyBasicAuthHandler(mgr))
    assert opener.open(httpbin.url + "/get").status == 200
    with pytest.raises(HTTPError) as info:
        R.build_opener(R.ProxyHandler({"http": auth_proxy.url})).open(httpbin.url + "/get")
    assert info.value.code == 407


def test_proxy_credentials_in_the_proxy_url(auth_proxy: Any, httpbin: Any) -> None:
    url = auth_proxy.url.replace("http://", "http://proxyuser:proxypass@")
    assert R.build_opener(R.ProxyHandler({"http": url})).open(httpbin.url + "/get").status == 200


def test_no_proxy_bypasses(httpbin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = "http://127.0.0.1:1"  # nothing listens there: using it would fail
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert R.build_opener(R.ProxyHandler({"http": dead})).open(httpbin.url + "/get").status == 200
    monkeypatch.delenv("no_proxy")
    with pytest.raises(URLError):
        R.build_opener(R.ProxyHandler({"http": dead})).open(httpbin.url + "/get")


@pytest.mark.parametrize(("host", "no_proxy"), _SAME_AS_URLLIB)
def test_proxy_bypass_environment_matches_urllib(host: str, no_proxy: str) -> None:
    # "*" only as the whole value, commas only, no newline tricks: the running urllib's answers.
    theirs = urllib.request.proxy_bypass_environment(host, {"no": no_proxy})
    assert R.proxy_bypass_environment(host, {"no": no_proxy}) is theirs


def test_proxy_bypass_keeps_the_ip_additions(monkeypatch: pytest.MonkeyPatch) -> None:
    for host, no_proxy in _NETWIRE_ADDITIONS:
        assert R.proxy_bypass_environment(host, {"no": no_proxy}) is True
    monkeypatch.setenv("no_proxy", "*, internal.example")
    assert not R.proxy_bypass("www.example.com") and R.proxy_bypass("internal.example")
    assert not R.proxy_bypass_environment("x.test", {})


def test_star_in_a_list_does_not_bypass(httpbin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = "http://127.0.0.1:1"
    monkeypatch.setenv("no_proxy", "*, internal.example")
    with pytest.raises(URLError):
        R.build_opener(R.ProxyHandler({"http": dead})).open(httpbin.url + "/get")


def test_proxies_from_the_environment(proxy: Any, httpbin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", "http://secure-proxy:3128")
    monkeypatch.setenv("FTP_PROXY", "")
    monkeypatch.setenv("no_proxy", "localhost,.example.com")
    assert R.getproxies() == urllib.request.getproxies()
    assert R.getproxies()["http"] == proxy.url
    assert R.proxy_bypass("www.example.com") and not R.proxy_bypass("127.0.0.1")
    r = R.urlopen(httpbin.url + "/get?env=1")  # a fresh default opener reads the environment
    assert r.status == 200 and f"{httpbin.url}/get?env=1" in proxy.output()


def test_socks5_proxy_in_proxy_handler(httpbin: Any, httpbin_secure: Any, ca_context: ssl.SSLContext) -> None:
    from tests.servers.proxies import dante

    with dante() as socks:
        for scheme in ("socks5", "socks5h"):
            proxy_url = socks.url.replace("socks5://", f"{scheme}://")
            opener = R.build_opener(
                R.ProxyHandler({"http": proxy_url, "https": proxy_url}), R.HTTPSHandler(context=ca_context)
            )
            assert json.loads(opener.open(httpbin.url + "/get?s=1").read())["args"] == {"s": "1"}
            assert json.loads(opener.open(httpbin_secure.url + "/get?s=2").read())["args"] == {"s": "2"}
        assert "127.0.0.1" in socks.output()
