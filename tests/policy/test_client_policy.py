"""The Client's policies end to end, against real servers on loopback.

httpbin (pytest-httpbin) for redirects, auth, cookies and content codings; a second httpbin on
another port as a foreign origin; tinyproxy and dante as real proxies; a small server of our
own for zstd, decompression bombs and Retry-After.
"""

from __future__ import annotations

import gzip
import json
import resource
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import httpbin as httpbin_app  # type: ignore[import-untyped]
import pytest
import pytest_httpbin.certs  # type: ignore[import-untyped]
import pytest_httpbin.serve  # type: ignore[import-untyped]
import zstandard

import netwire
from netwire.errors import (
    ConnectError,
    DecodingError,
    ProxyError,
    TooManyRedirects,
    TotalTimeout,
    UnsafeRedirect,
)
from netwire.http.policy.auth import DigestAuth
from netwire.http.policy.retries import Retry
from tests.servers.echo import EchoServer, PolicyServer, start_policy_server
from tests.servers.ports import free_port
from tests.servers.proxies import ServerProcess

pytestmark = pytest.mark.timeout(60)


def u(server: Any, path: str) -> str:
    return str(server.url).rstrip("/") + path


@pytest.fixture
def client() -> Iterator[netwire.Client]:
    with netwire.Client(timeout=10, trust_env=False) as c:
        yield c


@pytest.fixture(scope="module")
def other_httpbin() -> Iterator[Any]:
    """A second httpbin on another port: another origin."""
    server = pytest_httpbin.serve.Server(application=httpbin_app.app)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def policy_server() -> Iterator[PolicyServer]:
    server = start_policy_server()
    yield server
    server.stop()


# -- redirects -----------------------------------------------------------------------------------


# (status, method) -> the method that reaches the target, and whether the body goes with it.
REDIRECT_RULES = [
    (301, "GET", "GET", False),
    (301, "POST", "GET", False),
    (301, "PUT", "PUT", True),
    (302, "GET", "GET", False),
    (302, "POST", "GET", False),
    (302, "PATCH", "PATCH", True),
    (303, "GET", "GET", False),
    (303, "POST", "GET", False),
    (303, "PUT", "GET", False),
    (303, "DELETE", "GET", False),
    (307, "GET", "GET", False),
    (307, "POST", "POST", True),
    (307, "PUT", "PUT", True),
    (308, "POST", "POST", True),
    (308, "PATCH", "PATCH", True),
    (308, "DELETE", "DELETE", True),
]


@pytest.mark.parametrize(("status", "method", "final_method", "body_kept"), REDIRECT_RULES)
def test_redirect_method_rules(
    client: netwire.Client, httpbin: Any, status: int, method: str, final_method: str, body_kept: bool
) -> None:
    url = u(httpbin, f"/redirect-to?url=/anything/target&status_code={status}")
    body = b"payload" if method != "GET" else None
    r = client.request(method, url, content=body, headers={"Content-Type": "text/plain"})
    data = r.json()
    assert r.status == 200
    assert data["method"] == final_method
    assert data["url"].endswith("/anything/target")
    assert [h.status for h in r.history] == [status]
    if body_kept:
        assert data["data"] == "payload"
        assert data["headers"].get("Content-Type") == "text/plain"
    else:
        assert data["data"] == ""
        if method != final_method:
            # The body's own fields go with the body.
            assert "Content-Type" not in data["headers"]


def test_303_keeps_head(client: netwire.Client, httpbin: Any) -> None:
    r = client.head(u(httpbin, "/redirect-to?url=/get&status_code=303"))
    assert r.status == 200 and r.history[0].status == 303
    assert r.request is not None and r.request.method == "HEAD"


@pytest.mark.parametrize("kind", ["redirect", "relative-redirect", "absolute-redirect"])
def test_redirect_chains(client: netwire.Client, httpbin: Any, kind: str) -> None:
    r = client.get(u(httpbin, f"/{kind}/3"))
    assert r.status == 200
    assert len(r.history) == 3
    assert all(h.status == 302 for h in r.history)
    assert str(r.url).endswith("/get")


def test_scheme_relative_location(client: netwire.Client, httpbin: Any, other_httpbin: Any) -> None:
    target = f"//127.0.0.1:{other_httpbin.port}/get?from=relative"
    r = client.get(u(httpbin, "/redirect-to"), params={"url": target})
    assert r.status == 200
    assert r.json()["args"] == {"from": "relative"}
    assert str(r.url).startswith(f"http://127.0.0.1:{other_httpbin.port}/")


def test_max_redirects(httpbin: Any) -> None:
    with netwire.Client(max_redirects=3, trust_env=False) as c:
        with pytest.raises(TooManyRedirects) as info:
            c.get(u(httpbin, "/redirect/5"))
        assert len(info.value.history) == 4
        assert c.get(u(httpbin, "/redirect/3")).status == 200


def test_no_follow(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(u(httpbin, "/redirect/2"), follow_redirects=False)
    assert r.status == 302 and r.history == []
    assert r.headers["location"]


@pytest.mark.timeout(15)
@pytest.mark.parametrize("code", [307, 308])
def test_307_308_with_one_shot_body_is_a_clear_error(client: netwire.Client, policy_server: PolicyServer, code: int) -> None:
    # (httpbin's server answers chunked uploads with 501, hence our own server here.)
    from netwire.errors import BodyNotReplayable

    def once() -> Iterator[bytes]:
        yield b"streamed " * 1000

    with pytest.raises(BodyNotReplayable, match="one-shot"):
        client.post(u(policy_server, f"/redirect/oneshot{code}?code={code}"), content=once())
    # A replayable body follows the same redirect.
    r = client.post(u(policy_server, f"/redirect/replay{code}?code={code}"), content=b"bytes")
    assert r.status == 200 and r.history[0].status == code


@pytest.mark.timeout(20)
@pytest.mark.parametrize("body", ["bytes", "one-shot"])
def test_final_response_right_after_100_continue(policy_server: PolicyServer, body: str) -> None:
    # The server sends "100 Continue" and its final 307 at once, without reading the body
    # (http.server does this). The 307 is the answer; it must not be lost.
    from netwire.errors import BodyNotReplayable

    def once() -> Iterator[bytes]:
        yield b"streamed " * 1000

    content: Any = b"x" * (2 << 20) if body == "bytes" else once()
    with netwire.Client(timeout=netwire.Timeout(5, total=3), trust_env=False) as c:
        try:
            r = c.post(u(policy_server, f"/continue-redirect/cont-{body}?code=307"), content=content)
        except BodyNotReplayable:
            assert body == "one-shot"
        else:
            assert r.status == 200 and r.history[0].status == 307


def test_cross_origin_redirect_drops_credentials(client: netwire.Client, httpbin: Any, other_httpbin: Any) -> None:
    target = u(other_httpbin, "/headers")
    secret = {"Authorization": "Bearer s3cret", "Cookie": "session=s3cret", "Proxy-Authorization": "Basic eA==", "X-Keep": "1"}
    r = client.get(u(httpbin, "/redirect-to"), params={"url": target}, headers=secret)
    headers = r.json()["headers"]
    assert r.history and r.history[0].status == 302
    assert "Authorization" not in headers
    assert "Proxy-Authorization" not in headers
    assert "session=s3cret" not in headers.get("Cookie", "")
    assert headers["X-Keep"] == "1"
    # Same origin: the caller's Authorization is kept.
    r = client.get(u(httpbin, "/redirect-to?url=/headers"), headers={"Authorization": "Bearer s3cret"})
    assert r.json()["headers"]["Authorization"] == "Bearer s3cret"


def test_cross_origin_redirect_does_not_send_auth_credentials(
    client: netwire.Client, httpbin: Any, other_httpbin: Any
) -> None:
    # Credentials given as auth= belong to the origin asked for, not to wherever it redirects.
    r = client.get(u(httpbin, "/redirect-to"), params={"url": u(other_httpbin, "/headers")}, auth=("user", "passwd"))
    assert "Authorization" not in r.json()["headers"]


def test_https_to_http_downgrade_is_refused(httpbin: Any, httpbin_secure: Any) -> None:
    target = u(httpbin, "/get")
    with (
        netwire.Client(verify=pytest_httpbin.certs.where(), trust_env=False) as c,
        pytest.raises(UnsafeRedirect, match="https to http"),
    ):
        c.get(u(httpbin_secure, "/redirect-to"), params={"url": target})
    with netwire.Client(verify=pytest_httpbin.certs.where(), allow_downgrade=True, trust_env=False) as c:
        assert c.get(u(httpbin_secure, "/redirect-to"), params={"url": target}).status == 200


# -- auth ----------------------------------------------------------------------------------------


def test_basic_auth(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(u(httpbin, "/basic-auth/user/passwd"), auth=("user", "passwd"))
    assert r.status == 200 and r.json() == {"authenticated": True, "user": "user"}
    assert client.get(u(httpbin, "/basic-auth/user/passwd"), auth=("user", "wrong")).status == 401
    assert client.get(u(httpbin, "/hidden-basic-auth/user/passwd"), auth=("user", "passwd")).status == 200


def test_basic_auth_per_client(httpbin: Any) -> None:
    with netwire.Client(auth=("user", "passwd"), trust_env=False) as c:
        assert c.get(u(httpbin, "/basic-auth/user/passwd")).status == 200


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
@pytest.mark.parametrize("qop", ["auth", "auth-int"])
def test_digest_auth(client: netwire.Client, httpbin: Any, algorithm: str, qop: str) -> None:
    auth = DigestAuth("user", "passwd")
    url = u(httpbin, f"/digest-auth/{qop}/user/passwd/{algorithm}")
    r = client.get(url, auth=auth)
    assert r.status == 200, r.text
    assert r.json() == {"authenticated": True, "user": "user"}
    # Again with the same auth: it answers the remembered challenge (httpbin calls the reused
    # nonce stale, and the flow answers the fresh one).
    assert client.get(url, auth=auth).status == 200
    assert client.get(url, auth=DigestAuth("user", "wrong")).status == 401


def test_digest_auth_stale_after(client: netwire.Client, httpbin: Any) -> None:
    auth = DigestAuth("user", "passwd")
    url = u(httpbin, "/digest-auth/auth/user/passwd/SHA-256/1")
    for _ in range(3):
        assert client.get(url, auth=auth).status == 200


# -- cookies -------------------------------------------------------------------------------------


def test_cookies_set_across_redirects(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(u(httpbin, "/cookies/set?a=1&b=2"))  # 302 to /cookies
    assert r.history and r.history[0].status == 302
    assert r.json()["cookies"] == {"a": "1", "b": "2"}
    r = client.get(u(httpbin, "/cookies/delete?a"))
    assert r.json()["cookies"] == {"b": "2"}
    assert sorted(c.name for c in client.cookies or []) == ["b"]


def test_cookies_from_a_redirect_hop_reach_the_target(client: netwire.Client, httpbin: Any) -> None:
    # The cookie is set by the redirect response itself, then sent to where it points.
    target = "/cookies"
    r = client.get(u(httpbin, "/response-headers"), params={"Set-Cookie": "hop=1; Path=/"})
    assert r.status == 200
    r = client.get(u(httpbin, "/redirect-to"), params={"url": target})
    assert r.json()["cookies"].get("hop") == "1"


def test_cookies_off_and_given(httpbin: Any) -> None:
    with netwire.Client(cookies=False, trust_env=False) as c:
        assert c.get(u(httpbin, "/cookies/set?a=1")).json()["cookies"] == {}
    with netwire.Client(cookies={"given": "yes"}, trust_env=False) as c:
        assert c.get(u(httpbin, "/cookies")).json()["cookies"] == {"given": "yes"}


# -- content codings -----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "flag"), [("/gzip", "gzipped"), ("/deflate", "deflated"), ("/brotli", "brotli")])
def test_httpbin_encodings(client: netwire.Client, httpbin: Any, path: str, flag: str) -> None:
    r = client.get(u(httpbin, path))
    assert r.status == 200
    data = r.json()
    assert data[flag] is True
    assert data["headers"]["Accept-Encoding"] == "gzip, deflate, br, zstd"


def test_raw_gives_undecoded_bytes(client: netwire.Client, httpbin: Any) -> None:
    with client.stream("GET", u(httpbin, "/gzip")) as r:
        raw = r.raw.read()
    assert raw[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(raw))["gzipped"] is True


def test_zstd_and_stacked_from_our_server(client: netwire.Client, policy_server: PolicyServer) -> None:
    body = b"".join(b"row %d\n" % i for i in range(50000))
    url = policy_server.add("zstd", "zstd", zstandard.ZstdCompressor().compress(body))
    assert client.get(url).content == body
    url = policy_server.add("stacked", "deflate, gzip", gzip.compress(zlib.compress(body)))
    assert client.get(url).content == body
    url = policy_server.add("unknown", "x-unknown", b"raw bytes")
    assert client.get(url).content == b"raw bytes"


def _bomb() -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    inner = b"".join(c.compress(block) for _ in range(64)) + c.flush()  # 64 MiB of zeros
    return gzip.compress(inner * 64, 9)  # gzip of 64 members: 4 GiB once decoded


def test_decompression_bomb_is_an_error_not_an_oom(client: netwire.Client, policy_server: PolicyServer) -> None:
    bomb = _bomb()
    assert len(bomb) < 16 * 1024
    url = policy_server.add("bomb", "gzip, gzip", bomb)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    # The client's CPU time (it runs on this thread, the server on its own): a busy machine
    # stretches wall time, not this; a hang would hit the client's timeout.
    started = time.thread_time()
    with pytest.raises(DecodingError, match="bomb"):
        client.get(url)
    elapsed = time.thread_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 3.0
    assert peak < 64 * 1024 * 1024, peak
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 256 * 1024  # KiB
    # The stream API fails the same way, on read.
    with client.stream("GET", url) as r, pytest.raises(DecodingError):
        for _ in r.iter_bytes():
            pass


# -- retries -------------------------------------------------------------------------------------


def test_429_with_retry_after_through_a_retry_policy(policy_server: PolicyServer) -> None:
    with netwire.Client(retries=Retry(3, backoff_factor=0.01), trust_env=False) as c:
        started = time.monotonic()
        r = c.get(u(policy_server, "/retry-after/a?fail=1&after=1"))
        elapsed = time.monotonic() - started
    assert r.status == 200 and r.text == "ok after 1 refusals"
    assert 0.9 <= elapsed < 5


def test_retry_after_http_date(policy_server: PolicyServer) -> None:
    with netwire.Client(retries=Retry(2, backoff_factor=0.01), trust_env=False) as c:
        started = time.monotonic()
        r = c.get(u(policy_server, "/retry-after/date?fail=1&after=date&status=503"))
        elapsed = time.monotonic() - started
    assert r.status == 200
    assert 0.5 <= elapsed < 5


def test_total_deadline_caps_retries(policy_server: PolicyServer) -> None:
    # Retry-After asks for 30 s; the total deadline of 1 s wins: no 30 s sleep.
    with netwire.Client(timeout=netwire.Timeout(5, total=1), retries=Retry(3), trust_env=False) as c:
        started = time.monotonic()
        try:
            r = c.get(u(policy_server, "/retry-after/deadline?fail=5&after=30"))
        except TotalTimeout:
            pass
        else:
            assert r.status == 429
        assert time.monotonic() - started < 2


def test_httpbin_status_429_is_retried_then_returned(httpbin: Any) -> None:
    with netwire.Client(retries=Retry(2, backoff_factor=0.1, jitter=0), trust_env=False) as c:
        started = time.monotonic()
        r = c.get(u(httpbin, "/status/429"))
        elapsed = time.monotonic() - started
    assert r.status == 429
    assert elapsed >= 0.3  # waited 0.1 then 0.2 between the three attempts


def test_retry_counts_and_methods(policy_server: PolicyServer) -> None:
    with netwire.Client(retries=Retry(2, backoff_factor=0), trust_env=False) as c:
        assert c.get(u(policy_server, "/status/get503?code=503")).status == 503
        assert c.post(u(policy_server, "/status/post503?code=503"), content=b"x").status == 503
        assert c.get(u(policy_server, "/status/get500?code=500")).status == 500
    assert policy_server.hits("get503") == 3  # one attempt and two retries
    assert policy_server.hits("post503") == 1  # POST is not idempotent
    assert policy_server.hits("get500") == 1  # 500 is not in the forcelist


def test_connect_errors_are_retried() -> None:
    port = free_port()
    with netwire.Client(retries=Retry(2, backoff_factor=0.05, jitter=0), trust_env=False) as c:
        started = time.monotonic()
        with pytest.raises(ConnectError):
            c.get(f"http://127.0.0.1:{port}/")
        assert time.monotonic() - started >= 0.15


# -- proxies -------------------------------------------------------------------------------------


def _seen_by(proxy: ServerProcess, text: str, timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in proxy.output():
            return True
        time.sleep(0.05)
    return False


def test_http_through_tinyproxy(tinyproxy_server: ServerProcess, echo_server: EchoServer) -> None:
    with netwire.Client(proxy=tinyproxy_server.url, trust_env=False) as c:
        r = c.get(u(echo_server, "/via/tinyproxy?x=1"))
    assert r.json()["path"] == "/via/tinyproxy?x=1"
    assert _seen_by(tinyproxy_server, "/via/tinyproxy")


def test_https_through_tinyproxy_connect(tinyproxy_server: ServerProcess, tls_echo_server: EchoServer) -> None:
    with netwire.Client(proxy=tinyproxy_server.url, verify=tls_echo_server.client_context(), trust_env=False) as c:
        r = c.get(f"https://localhost:{tls_echo_server.port}/secure/via/connect")
    assert r.json()["path"] == "/secure/via/connect"
    assert _seen_by(tinyproxy_server, f"CONNECT localhost:{tls_echo_server.port}")


def test_refused_connect_is_a_proxy_error(tinyproxy_server: ServerProcess, echo_server: EchoServer) -> None:
    with netwire.Client(proxy=tinyproxy_server.url, trust_env=False) as c, pytest.raises(ProxyError) as info:
        c.get(f"https://127.0.0.1:{echo_server.port}/")  # not a ConnectPort: 403
    assert info.value.status == 403


def test_proxy_basic_auth(tinyproxy_auth_server: ServerProcess, echo_server: EchoServer) -> None:
    with netwire.Client(proxy=tinyproxy_auth_server.url, trust_env=False) as c:
        assert c.get(u(echo_server, "/x")).status == 407
    with netwire.Client(proxy=tinyproxy_auth_server.url_with_auth(), trust_env=False) as c:
        assert c.get(u(echo_server, "/authed")).json()["path"] == "/authed"


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_through_dante(dante_server: ServerProcess, echo_server: EchoServer, tls_echo_server: EchoServer, scheme: str) -> None:
    proxy = f"{scheme}://{dante_server.host}:{dante_server.port}"
    with netwire.Client(proxy=proxy, verify=tls_echo_server.client_context(), trust_env=False) as c:
        assert c.get(f"http://localhost:{echo_server.port}/socks/plain").json()["path"] == "/socks/plain"
        assert c.get(f"https://localhost:{tls_echo_server.port}/socks/tls").json()["path"] == "/socks/tls"


def test_through_dante_with_credentials(dante_auth_server: ServerProcess, echo_server: EchoServer) -> None:
    with netwire.Client(proxy=dante_auth_server.url_with_auth("socks5h"), trust_env=False) as c:
        assert c.get(u(echo_server, "/socks/authed")).json()["path"] == "/socks/authed"
    with netwire.Client(proxy=dante_auth_server.url, trust_env=False) as c, pytest.raises(ProxyError):
        c.get(u(echo_server, "/socks/no-credentials"))


def test_no_proxy_bypass(echo_server: EchoServer) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with netwire.Client(proxy=dead, trust_env=False) as c, pytest.raises(ConnectError):
        c.get(u(echo_server, "/x"))
    for rule in ("127.0.0.1", "127.0.0.0/8", f"127.0.0.1:{echo_server.port}", "*"):
        with netwire.Client(proxy=dead, no_proxy=rule, trust_env=False) as c:
            assert c.get(u(echo_server, "/direct")).json()["path"] == "/direct"


def test_environment_proxies(
    monkeypatch: pytest.MonkeyPatch, tinyproxy_server: ServerProcess, echo_server: EchoServer
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("http_proxy", tinyproxy_server.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with netwire.Client() as c:
        c.get(u(echo_server, "/via/env"))
    assert _seen_by(tinyproxy_server, "/via/env")
    # no_proxy from the environment sends it direct.
    monkeypatch.setenv("http_proxy", dead)
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    with netwire.Client() as c:
        assert c.get(u(echo_server, "/env/bypass")).status == 200
    # trust_env=False ignores the environment altogether.
    monkeypatch.delenv("no_proxy")
    with netwire.Client(trust_env=False) as c:
        assert c.get(u(echo_server, "/env/ignored")).status == 200
    with netwire.Client() as c, pytest.raises(ConnectError):
        c.get(u(echo_server, "/env/dead"))
    # An explicit proxy wins over the environment's.
    with netwire.Client(proxy=tinyproxy_server.url) as c:
        c.get(u(echo_server, "/explicit/wins"))
    assert _seen_by(tinyproxy_server, "/explicit/wins")


def test_per_request_proxy(tinyproxy_server: ServerProcess, echo_server: EchoServer) -> None:
    with netwire.Client(trust_env=False) as c:
        c.get(u(echo_server, "/per-request"), proxy=tinyproxy_server.url)
        assert _seen_by(tinyproxy_server, "/per-request")
        assert c.get(u(echo_server, "/no-proxy-here")).status == 200
    assert not _seen_by(tinyproxy_server, "/no-proxy-here", timeout=0.3)
