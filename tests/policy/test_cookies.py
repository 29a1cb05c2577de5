"""CookieJar adapters: the stdlib jar reads and writes through our Request and Response."""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy

from netwire.http.models import Headers, Request, Response
from netwire.http.policy.cookies import add_cookie_header, extract_cookies, make_cookie_jar
from netwire.url import URL


def req(url: str, **headers: str) -> Request:
    return Request("GET", URL(url), Headers(headers))


def set_cookies(url: str, *values: str) -> Response:
    request = req(url)
    return Response(200, headers=Headers([("Set-Cookie", v) for v in values]), request=request)


def test_round_trip() -> None:
    jar = make_cookie_jar()
    extract_cookies(jar, set_cookies("http://example.test/a/b", "sid=1; Path=/", "local=2", "gone=3; Max-Age=0"))
    assert sorted(c.name for c in jar) == ["local", "sid"]
    sent = add_cookie_header(jar, req("http://example.test/a/c"))
    assert sent.headers["Cookie"] in ("sid=1; local=2", "local=2; sid=1")
    # Path scoping: "local" was set for /a/ only.
    assert add_cookie_header(jar, req("http://example.test/x")).headers["Cookie"] == "sid=1"
    # Another host gets nothing and the very same request object back.
    other = req("http://other.test/")
    assert add_cookie_header(jar, other) is other


def test_request_is_not_modified() -> None:
    jar = make_cookie_jar()
    extract_cookies(jar, set_cookies("http://example.test/", "a=1"))
    original = req("http://example.test/")
    sent = add_cookie_header(jar, original)
    assert "cookie" not in original.headers
    assert sent.headers["Cookie"] == "a=1"
    assert sent.url == original.url and sent.method == original.method


def test_callers_cookie_header_wins() -> None:
    jar = make_cookie_jar()
    extract_cookies(jar, set_cookies("http://example.test/", "a=1"))
    mine = req("http://example.test/", Cookie="mine=1")
    assert add_cookie_header(jar, mine).headers["Cookie"] == "mine=1"


def test_domain_and_secure_rules_apply() -> None:
    jar = make_cookie_jar()
    extract_cookies(
        jar,
        set_cookies("https://www.example.test/", "wide=1; Domain=example.test", "sec=2; Secure", "evil=3; Domain=other.test"),
    )
    names = sorted(c.name for c in jar)
    assert names == ["sec", "wide"]  # a cookie for another domain is refused by the jar
    assert add_cookie_header(jar, req("http://api.example.test/")).headers["Cookie"] == "wide=1"
    assert "sec=2" in add_cookie_header(jar, req("https://www.example.test/")).headers["Cookie"]


def test_ip_host_with_port() -> None:
    jar = make_cookie_jar()
    extract_cookies(jar, set_cookies("http://127.0.0.1:8080/", "a=1"))
    assert add_cookie_header(jar, req("http://127.0.0.1:8080/p")).headers["Cookie"] == "a=1"


def test_policy_is_respected() -> None:
    jar = CookieJar(DefaultCookiePolicy(blocked_domains=["example.test"]))
    extract_cookies(jar, set_cookies("http://example.test/", "a=1"))
    assert len(jar) == 0


def test_no_set_cookie_does_no_work() -> None:
    jar = make_cookie_jar()
    extract_cookies(jar, Response(200, request=req("http://example.test/")))
    assert len(jar) == 0


def test_adapters_do_not_import_urllib_request() -> None:
    import netwire.http.policy.cookies as mod

    with open(mod.__file__) as f:
        source = f.read()
    assert "import urllib" not in source and "from urllib" not in source
