"""A cookie jar a server can grow without bound (RFC 6265 5.3: "at least 50 per domain, 3000 total").

A server sending 250 Set-Cookie per response grew the client's jar to 30,000 cookies and its
Cookie header to 400 KB after 120 requests, each request then costing 190-290 ms of jar work.
A client's jar now keeps at most 180 cookies per site and 3000 in all, evicting expired then
oldest cookies first, and the Cookie header stays within 8000 bytes; all three configurable
with ``make_cookie_jar(...)``. Against a hostile loopback server, sync and async, and httpbin.
"""

from __future__ import annotations

import asyncio
import time
from http.cookiejar import Cookie, CookieJar
from typing import Any

import pytest

import netwire
from netwire.http.aio import AsyncClient
from netwire.http.models import Request
from netwire.http.policy.cookiejar import (
    DEFAULT_MAX_COOKIE_HEADER,
    DEFAULT_MAX_COOKIES,
    DEFAULT_MAX_COOKIES_PER_DOMAIN,
    BoundedCookieJar,
)
from netwire.http.policy.cookies import add_cookie_header, make_cookie_jar
from tests.servers.faults import FaultServer, ReadRequest, Send, Serve, Start, response

pytestmark = pytest.mark.timeout(120)

PER_RESPONSE = 250
ROUNDS = 120


def _flood(n: int) -> bytes:
    """Response ``n``: 250 new cookies (names never seen before), 44-byte values: 180 of them pass 8000 bytes."""
    cookies = [("Set-Cookie", f"r{n}c{i}={'v' * 44}; Path=/") for i in range(PER_RESPONSE)]
    return response(b"ok", headers=cookies)


def _flood_server(fault_server: Start) -> FaultServer:
    script: list[Any] = []
    for n in range(ROUNDS):
        script += [ReadRequest(), Send(_flood(n))]
    return fault_server(script)


def _run(kind: str, urls: list[str], **options: Any) -> tuple[CookieJar, list[float]]:
    """GET each URL with a client of ``kind``; its jar and the CPU time each request took on this
    thread (where both clients run; the server has its own), which a busy machine does not stretch."""
    options.setdefault("trust_env", False)
    options.setdefault("timeout", 10)
    times: list[float] = []
    if kind == "sync":
        with netwire.Client(**options) as c:
            for url in urls:
                t = time.thread_time()
                c.get(url)
                times.append(time.thread_time() - t)
            jar = c.cookies
    else:

        async def go() -> CookieJar | None:
            async with AsyncClient(**options) as c:
                for url in urls:
                    t = time.thread_time()
                    await c.get(url)
                    times.append(time.thread_time() - t)
                return c.cookies

        jar = asyncio.run(go())
    assert jar is not None
    return jar, times


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_cookie_jar_bounds_flood(fault_server: Start, kind: str) -> None:
    srv = _flood_server(fault_server)
    jar, times = _run(kind, [srv.url("/")] * ROUNDS)
    assert srv.connections == 1
    # One site: its 180 newest cookies are kept, the last response's last 180.
    assert len(jar) == DEFAULT_MAX_COOKIES_PER_DOMAIN == len(list(jar))
    last = ROUNDS - 1
    assert {c.name for c in jar} == {f"r{last}c{i}" for i in range(PER_RESPONSE - 180, PER_RESPONSE)}
    sent = [r.header("cookie") or "" for r in srv.requests]
    assert max(map(len, sent)) <= DEFAULT_MAX_COOKIE_HEADER
    assert len(sent[-1]) > DEFAULT_MAX_COOKIE_HEADER - 200  # as many whole cookies as fit
    # 180 cookies of jar work per request, not 30,000: generous for a loaded shared machine.
    assert sorted(times)[len(times) // 2] < 0.05, f"median request {sorted(times)[len(times) // 2] * 1000:.0f} ms"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_cookie_jar_bounds_total(fault_server: Start, kind: str) -> None:
    # 20 sites of 250 cookies each (through a loopback "proxy", any host name works): 180 kept
    # per site would be 3600, over the 3000 in all: the oldest site's cookies go first.
    srv = fault_server(Serve(_flood(0)))
    urls = [f"http://site{i}.example/" for i in range(20)]
    jar, _ = _run(kind, urls, proxy=f"http://127.0.0.1:{srv.port}")
    assert len(jar) == DEFAULT_MAX_COOKIES == len(list(jar))
    per_site: dict[str, int] = {}
    for cookie in jar:
        per_site[cookie.domain] = per_site.get(cookie.domain, 0) + 1
    assert "site0.example" not in per_site and "site19.example" in per_site
    assert max(per_site.values()) == DEFAULT_MAX_COOKIES_PER_DOMAIN
    assert sum(per_site.values()) == DEFAULT_MAX_COOKIES


def test_cookie_jar_bounds_subdomains_count_as_one_site(fault_server: Start) -> None:
    # a.evil.example, b.evil.example, ...: one registrable domain, one budget of 180.
    srv = fault_server(Serve(_flood(0)))
    urls = [f"http://h{i}.evil.example/" for i in range(5)]
    jar, _ = _run("sync", urls, proxy=f"http://127.0.0.1:{srv.port}")
    assert len(jar) == DEFAULT_MAX_COOKIES_PER_DOMAIN
    assert {c.domain for c in jar} == {"h4.evil.example"}  # the newest host's last 180


def test_cookie_jar_bounds_configurable(fault_server: Start) -> None:
    srv = _flood_server(fault_server)
    jar = make_cookie_jar(max_per_domain=50, max_total=60, max_header_bytes=300)
    _, _ = _run("sync", [srv.url("/")] * 3, cookies=jar)
    assert len(jar) == 50
    assert all(len(r.header("cookie") or "") <= 300 for r in srv.requests)
    with pytest.raises(ValueError):
        make_cookie_jar(max_total=0)


def _cookie(name: str, domain: str = "example.com", expires: int | None = None) -> Cookie:
    return Cookie(0, name, "v", None, False, domain, False, False, "/", True, False, expires, False, None, None, {})


def test_cookie_jar_bounds_evicts_expired_first() -> None:
    jar = BoundedCookieJar(max_per_domain=3)
    jar.set_cookie(_cookie("old"))
    jar.set_cookie(_cookie("stale", expires=int(time.time()) - 10))
    jar.set_cookie(_cookie("mid"))
    jar.set_cookie(_cookie("new"))  # one too many: the expired one goes, not the oldest
    assert sorted(c.name for c in jar) == ["mid", "new", "old"]
    jar.set_cookie(_cookie("old"))  # replacing keeps its creation time (RFC 6265 5.3 11.3)
    jar.set_cookie(_cookie("newer"))
    assert sorted(c.name for c in jar) == ["mid", "new", "newer"]
    jar.clear("example.com", "/", "mid")
    assert len(jar) == 2 == len(list(jar))
    jar.clear()
    assert len(jar) == 0 and jar._cookies == {}


def test_cookie_header_cap_any_jar() -> None:
    # The cap applies to a jar the caller brings too (a plain CookieJar: 8000 bytes).
    jar = CookieJar()
    for i in range(40):
        jar.set_cookie(_cookie(f"c{i:02d}" + "x" * 300))
    sent = add_cookie_header(jar, Request("GET", netwire.URL("http://example.com/"), netwire.Headers(), None, {}))
    value = sent.headers["cookie"]
    assert 7000 < len(value) <= DEFAULT_MAX_COOKIE_HEADER
    assert all(pair.count("=") == 1 for pair in value.split("; "))  # whole cookies only


def test_cookie_jar_bounds_httpbin(httpbin: Any) -> None:
    # A real server: 200 cookies set by one /cookies/set; the jar keeps 180 and sends them back.
    names = [f"k{i:03d}" for i in range(200)]
    with netwire.Client(trust_env=False, timeout=10) as c:
        echoed = c.get(httpbin.url + "/cookies/set", params={n: "1" for n in names}).json()["cookies"]
        assert len(c.cookies) == 180  # type: ignore[arg-type]
        assert len(echoed) == 180 and set(echoed) <= set(names)
        # Big cookies: the Cookie header stops at 8000 bytes, whole cookies only.
        for part in range(4):
            c.get(httpbin.url + "/cookies/set", params={f"big{part}{j}": "b" * 1000 for j in range(5)})
        echoed = c.get(httpbin.url + "/cookies").json()["cookies"]
        assert 0 < sum(len(k) + len(v) + 3 for k, v in echoed.items()) <= DEFAULT_MAX_COOKIE_HEADER + 2
