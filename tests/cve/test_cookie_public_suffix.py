"""Cookies for public suffixes (RFC 6265 5.3 step 5; curl and browsers use the Public Suffix List).

``Set-Cookie: ...; Domain=github.io`` from alice.github.io was stored and sent to bob.github.io
(and ``co.uk``, ``s3.amazonaws.com`` alike): http.cookiejar's default policy knows only a short
list of ``co.uk``-like names. A client's jar now refuses a Domain attribute that the vendored
Public Suffix List names a public suffix, keeps it host-only when it is the request host, and
still accepts a registrable domain. The sites are reached through a loopback "proxy" (our
scripted server answering absolute-form requests), so any host name works without DNS.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import netwire
from netwire import _psl
from netwire.http.aio import AsyncClient
from tests.servers.faults import FaultServer, Serve, Start, response

pytestmark = pytest.mark.timeout(60)


# -- the matcher ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "suffix"),
    [
        ("github.io", "github.io"),  # private section
        ("alice.github.io", "github.io"),
        ("co.uk", "co.uk"),
        ("www.example.co.uk", "co.uk"),
        ("bucket.s3.amazonaws.com", "s3.amazonaws.com"),
        ("example.com", "com"),
        ("COM.", "com"),  # case and a trailing dot do not matter
        ("a.b.kawasaki.jp", "b.kawasaki.jp"),  # wildcard *.kawasaki.jp
        ("city.kawasaki.jp", "kawasaki.jp"),  # exception !city.kawasaki.jp
        ("www.city.kawasaki.jp", "kawasaki.jp"),
        ("www.ck", "ck"),  # exception !www.ck under *.ck
        ("x.y.ck", "y.ck"),
        ("example.unlistedtld", "unlistedtld"),  # the implicit "*" rule
        ("shop.公司.cn", "公司.cn"),  # an IDN rule, as listed
        ("shop.xn--55qx5d.cn", "xn--55qx5d.cn"),  # and in ASCII, as a URL host arrives
    ],
)
def test_public_suffix_rules(domain: str, suffix: str) -> None:
    assert _psl.public_suffix(domain) == suffix
    assert _psl.is_public_suffix(domain) == (domain.lower().rstrip(".") == suffix)


def test_registrable_domain_and_snapshot_date() -> None:
    assert _psl.registrable_domain("a.b.example.co.uk") == "example.co.uk"
    assert _psl.registrable_domain("co.uk") is None
    assert _psl.registrable_domain("www.city.kawasaki.jp") == "city.kawasaki.jp"
    # The vendored snapshot says when it was taken (refresh: scripts/update_public_suffix_list.py).
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_UTC", _psl.list_version())


# -- through the clients -------------------------------------------------------------------------


def _proxy(fault_server: Start, domain: str) -> FaultServer:
    """A loopback server answering every request, whatever its host, with a cookie for ``domain``."""
    return fault_server(Serve(response(b"ok", headers=[("Set-Cookie", f"sid=1; Domain={domain}; Path=/")])))


def _cookie_headers(kind: str, srv: FaultServer, urls: list[str]) -> list[str | None]:
    """GET each URL in turn through ``srv`` as an HTTP proxy; the Cookie header each request carried."""
    options: dict[str, Any] = {"proxy": f"http://127.0.0.1:{srv.port}", "trust_env": False, "timeout": 10}
    if kind == "sync":
        with netwire.Client(**options) as c:
            for url in urls:
                c.get(url)
    else:

        async def go() -> None:
            async with AsyncClient(**options) as c:
                for url in urls:
                    await c.get(url)

        asyncio.run(go())
    assert [r.target for r in srv.requests] == urls
    return [r.header("cookie") for r in srv.requests]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(
    ("domain", "setter", "sibling"),
    [
        ("github.io", "http://alice.github.io/", "http://bob.github.io/"),
        ("co.uk", "http://www.example.co.uk/", "http://www.other.co.uk/"),
        ("s3.amazonaws.com", "http://alice.s3.amazonaws.com/", "http://bob.s3.amazonaws.com/"),
        ("b.kawasaki.jp", "http://www.a.b.kawasaki.jp/", "http://www.c.b.kawasaki.jp/"),  # by wildcard
        ("com", "http://www.example.com/", "http://www.other.com/"),
    ],
)
def test_cookie_public_suffix_domain_refused(fault_server: Start, kind: str, domain: str, setter: str, sibling: str) -> None:
    srv = _proxy(fault_server, domain)
    assert _cookie_headers(kind, srv, [setter, sibling, setter]) == [None, None, None]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(
    ("domain", "setter", "sibling"),
    [
        ("example.co.uk", "http://www.example.co.uk/", "http://shop.example.co.uk/"),
        ("alice.github.io", "http://www.alice.github.io/", "http://alice.github.io/"),
        ("city.kawasaki.jp", "http://www.city.kawasaki.jp/", "http://mail.city.kawasaki.jp/"),  # by exception
    ],
)
def test_cookie_registrable_domain_accepted(fault_server: Start, kind: str, domain: str, setter: str, sibling: str) -> None:
    # The control: a site's own domain is shared with its subdomains, as it should be.
    srv = _proxy(fault_server, domain)
    assert _cookie_headers(kind, srv, [setter, sibling]) == [None, "sid=1"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_cookie_public_suffix_as_request_host_is_host_only(fault_server: Start, kind: str) -> None:
    # RFC 6265 5.3 step 5: Domain=github.io set by github.io itself is kept for github.io only.
    srv = _proxy(fault_server, "github.io")
    urls = ["http://github.io/", "http://alice.github.io/", "http://github.io/"]
    assert _cookie_headers(kind, srv, urls) == [None, None, "sid=1"]


def test_cookie_public_suffix_localhost(httpbin: Any) -> None:
    # A real server on localhost naming Domain=localhost (a suffix by the implicit rule) still
    # gets its cookie back: it is the request host.
    base = httpbin.url.replace("127.0.0.1", "localhost")
    with netwire.Client(trust_env=False, timeout=10) as c:
        c.get(base + "/response-headers", params={"Set-Cookie": "k=v; Domain=localhost; Path=/"})
        assert c.get(base + "/cookies").json()["cookies"] == {"k": "v"}
