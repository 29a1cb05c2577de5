"""gh-77842: credentials must not follow a redirect to another origin.

urllib kept ``Authorization`` (and any caller-set secret header) when a server redirected to
another host, handing the credentials to whoever the first server chose. netwire drops
Authorization, Cookie and Proxy-Authorization on a cross-origin redirect, and does not re-apply
``auth=`` credentials there. Two real loopback servers: A redirects to B (another port, so
another origin; or another host name), and B records what it received.
"""

from __future__ import annotations

import asyncio

import pytest

import netwire
import netwire.request as urlreq
from netwire.http.aio import AsyncClient
from tests.servers.faults import FaultServer, Serve, Start, response

pytestmark = pytest.mark.timeout(20)

SECRETS = ("authorization", "cookie", "proxy-authorization")


def _pair(fault_server: Start, status: int = 302, b_host: str = "127.0.0.1") -> tuple[FaultServer, FaultServer]:
    b = fault_server(Serve(response(b"landed")))
    location = f"http://{b_host}:{b.port}/landing"
    a = fault_server(Serve(response(b"", status=status, reason="Redirect", headers=[("Location", location)])))
    return a, b


def _secret_headers(srv: FaultServer) -> list[tuple[str, str]]:
    return [(k, v) for req in srv.requests for k, v in req.headers if k.lower() in SECRETS]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("b_host", ["127.0.0.1", "localhost"])
def test_gh_77842_explicit_secret_headers_dropped_cross_origin(fault_server: Start, status: int, b_host: str) -> None:
    a, b = _pair(fault_server, status, b_host)
    headers = {"Authorization": "Bearer top-secret", "Cookie": "session=s3cr3t", "Proxy-Authorization": "Basic eDp5"}
    with netwire.Client(timeout=3) as c:
        r = c.get(a.url("/start"), headers=headers)
    assert r.content == b"landed" and len(r.history) == 1
    assert {k.lower() for k, _ in _secret_headers(a)} == set(SECRETS)  # A got them: the test can fail
    assert _secret_headers(b) == []
    assert b.requests[0].header("host") == f"{b_host}:{b.port}"


def test_gh_77842_client_auth_not_reapplied_cross_origin(fault_server: Start) -> None:
    a, b = _pair(fault_server)
    with netwire.Client(timeout=3, auth=("user", "pass")) as c:
        assert c.get(a.url("/")).content == b"landed"
    assert a.requests[0].header("authorization") is not None
    assert _secret_headers(b) == []


def test_gh_77842_userinfo_credentials_stay_with_their_origin(fault_server: Start) -> None:
    a, b = _pair(fault_server)
    with netwire.Client(timeout=3) as c:
        assert c.get(f"http://user:pass@127.0.0.1:{a.port}/").content == b"landed"
    assert _secret_headers(b) == []


def test_gh_77842_same_origin_redirect_keeps_credentials(fault_server: Start) -> None:
    # The positive control: a redirect within the origin keeps what the caller set.
    srv = fault_server(
        [[Serve(response(b"", status=302, reason="Found", headers=[("Location", "/second")]), times=1),
          Serve(response(b"second"))]]
    )
    with netwire.Client(timeout=3) as c:
        assert c.get(srv.url("/first"), headers={"Authorization": "Bearer t"}).content == b"second"
    assert [r.header("authorization") for r in srv.requests] == ["Bearer t", "Bearer t"]


@pytest.mark.parametrize("b_host", ["127.0.0.1", "localhost"])
def test_gh_77842_urllib_face(fault_server: Start, b_host: str) -> None:
    a, b = _pair(fault_server, 302, b_host)
    req = urlreq.Request(a.url("/"), headers={"Authorization": "Bearer top-secret", "Cookie": "s=1"})
    with urlreq.urlopen(req, timeout=3) as r:
        assert r.read() == b"landed"
    assert a.requests[0].header("authorization") == "Bearer top-secret"
    assert _secret_headers(b) == []


def test_gh_77842_urllib_basic_auth_handler(fault_server: Start) -> None:
    b = fault_server(Serve(response(b"landed")))
    a = fault_server(
        [[Serve(response(b"", status=401, reason="Unauthorized", headers=[("WWW-Authenticate", 'Basic realm="r"')]), times=1),
          Serve(response(b"", status=302, reason="Found", headers=[("Location", b.url("/landing"))]))]]
    )
    mgr = urlreq.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, a.url("/"), "user", "pass")
    opener = urlreq.build_opener(urlreq.HTTPBasicAuthHandler(mgr))
    with opener.open(a.url("/"), timeout=3) as r:
        assert r.read() == b"landed"
    assert any(q.header("authorization") for q in a.requests)
    assert _secret_headers(b) == []


def test_gh_77842_async_client_explicit_headers(fault_server: Start) -> None:
    a, b = _pair(fault_server)

    async def go() -> bytes:
        async with AsyncClient(timeout=3) as c:
            r = await c.get(a.url("/"), headers={"Cookie": "s=1", "Authorization": "Bearer t"})
            return r.content

    assert asyncio.run(go()) == b"landed"
    assert a.requests[0].header("authorization") == "Bearer t"
    assert _secret_headers(b) == []


def test_gh_77842_async_client_auth_not_reapplied_cross_origin(fault_server: Start) -> None:
    a, b = _pair(fault_server)

    async def go() -> bytes:
        async with AsyncClient(timeout=3, auth=("user", "pass")) as c:
            return (await c.get(a.url("/"))).content

    assert asyncio.run(go()) == b"landed"
    assert a.requests[0].header("authorization") is not None
    assert _secret_headers(b) == []
