"""Request's API, the OpenerDirector protocol (user handlers), and HTTPRedirectHandler."""

from __future__ import annotations

import io
import json
import sys
import urllib.request
from typing import Any

import pytest

import netwire.request as R
from netwire.error import HTTPError, URLError
from netwire.response import addinfourl

URLS = [
    "http://example.com/path?q=1#frag",
    "https://user:pw@example.com:8443/a/b;p?x=y",
    "http://[::1]:8080/",
    "HTTP://Example.COM",
    "http://example.com/%7Euser/a%20b",
    "file:///etc/hosts",
    "data:,hello",
    "ftp://ftp.example.com/pub/file.txt;type=i",
    "<URL:http://example.com/wrapped>",
    "mem:opaque",
]


@pytest.mark.parametrize("url", URLS)
def test_request_attributes_match_urllib(url: str) -> None:
    ours, theirs = R.Request(url), urllib.request.Request(url)
    for attr in ("full_url", "type", "host", "selector", "fragment", "data", "origin_req_host", "unverifiable"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert ours.get_method() == theirs.get_method() == "GET"
    assert ours.get_full_url() == theirs.get_full_url()
    assert ours.has_proxy() == theirs.has_proxy()


def test_request_headers_data_and_method() -> None:
    req = R.Request("http://example.com/", data=b"x", headers={"content-TYPE": "a/b", "X-One": "1"}, method="PATCH")
    assert req.get_method() == "PATCH"
    assert req.headers == {"Content-type": "a/b", "X-one": "1"}
    req.add_unredirected_header("content-length", "1")
    assert req.unredirected_hdrs == {"Content-length": "1"}
    assert req.has_header("Content-length") and req.get_header("Content-length") == "1"
    assert req.get_header("Nope", "d") == "d"
    assert sorted(req.header_items()) == [("Content-length", "1"), ("Content-type", "a/b"), ("X-one", "1")]
    req.data = b"longer body"  # a new body drops the computed length
    assert not req.has_header("Content-length")
    req.remove_header("X-one")
    assert not req.has_header("X-one")
    req.full_url = "http://other.example/p#f"
    assert (req.host, req.selector, req.fragment, req.full_url) == ("other.example", "/p", "f", "http://other.example/p#f")
    req.set_proxy("proxy:3128", "http")
    assert req.has_proxy() and req.selector == req.full_url and req.host == "proxy:3128"
    s = R.Request("https://secure.example/x")
    s.set_proxy("proxy:3128", "http")
    assert s._tunnel_host == "secure.example" and s.selector == "/x" and not s.has_proxy()
    assert R.Request("http://e/").get_method() == "GET"
    assert R.Request("http://e/", data=b"").get_method() == "POST"
    with pytest.raises(ValueError, match="unknown url type"):
        R.Request("no-scheme-here")


def test_timeout_is_set_on_the_request(httpbin: Any) -> None:
    req = R.Request(httpbin.url + "/get")
    R.urlopen(req, timeout=7).read()
    assert req.timeout == 7


def test_default_user_agent_and_addheaders(httpbin: Any) -> None:
    body = json.loads(R.urlopen(httpbin.url + "/headers").read())["headers"]
    assert body["User-Agent"] == f"Python-urllib/{sys.version_info[0]}.{sys.version_info[1]}"
    assert body["Accept-Encoding"] == "identity"
    opener = R.build_opener()
    opener.addheaders = [("User-agent", "mine/1.0"), ("X-extra", "yes")]
    body = json.loads(opener.open(httpbin.url + "/headers").read())["headers"]
    assert body["User-Agent"] == "mine/1.0" and body["X-Extra"] == "yes"
    # A header the Request sets wins over addheaders.
    body = json.loads(opener.open(R.Request(httpbin.url + "/headers", headers={"X-Extra": "req"})).read())["headers"]
    assert body["X-Extra"] == "req"


class MemHandler(R.BaseHandler):
    """A user handler for a scheme of its own."""

    def mem_open(self, req: R.Request) -> Any:
        data = req.selector.encode()
        return addinfourl(io.BytesIO(data), {"Content-length": str(len(data))}, req.full_url, 200)


def test_user_open_handler_for_a_new_scheme() -> None:
    opener = R.build_opener(MemHandler)
    r = opener.open("mem:some-bytes")
    assert r.read() == b"some-bytes" and r.geturl() == "mem:some-bytes" and r.status == 200
    with pytest.raises(URLError, match="unknown url type: mem"):
        R.build_opener().open("mem:x")


def test_processors_run_in_handler_order(httpbin: Any) -> None:
    calls: list[str] = []

    class Late(R.BaseHandler):
        handler_order = 900

        def http_request(self, req: R.Request) -> R.Request:
            calls.append("late-request")
            req.add_header("X-Order", req.get_header("X-order", "") + "late")
            return req

        def http_response(self, req: R.Request, response: Any) -> Any:
            calls.append("late-response")
            return response

    class Early(R.BaseHandler):
        handler_order = 10

        def http_request(self, req: R.Request) -> R.Request:
            calls.append("early-request")
            req.add_header("X-Order", "early,")
            return req

        def http_response(self, req: R.Request, response: Any) -> Any:
            calls.append("early-response")
            response.seen_by_early = True
            return response

    opener = R.build_opener(Late(), Early)
    r = opener.open(httpbin.url + "/headers")
    assert json.loads(r.read())["headers"]["X-Order"] == "early,late"
    assert calls == ["early-request", "late-request", "early-response", "late-response"]
    assert r.seen_by_early


def test_http_error_handler_for_one_code(httpbin: Any) -> None:
    class Fallback(R.BaseHandler):
        def http_error_404(self, req: R.Request, fp: Any, code: int, msg: str, hdrs: Any) -> Any:
            fp.close()
            return addinfourl(io.BytesIO(b"fallback"), hdrs, req.full_url, 299)

    opener = R.build_opener(Fallback)
    r = opener.open(httpbin.url + "/status/404")
    assert (r.status, r.read()) == (299, b"fallback")
    with pytest.raises(HTTPError) as info:
        opener.open(httpbin.url + "/status/410")
    assert info.value.code == 410


def test_default_open_runs_first() -> None:
    class Everything(R.BaseHandler):
        def default_open(self, req: R.Request) -> Any:
            return addinfourl(io.BytesIO(b"intercepted"), {}, req.full_url, 200)

    assert R.build_opener(Everything).open("http://127.0.0.1:1/never").read() == b"intercepted"


def test_handler_without_methods_is_not_added() -> None:
    opener = R.OpenerDirector()
    opener.add_handler(R.BaseHandler())
    assert opener.handlers == []
    with pytest.raises(TypeError):
        opener.add_handler(object())  # type: ignore[arg-type]


def test_build_opener_replaces_default_handlers() -> None:
    class MyRedirect(R.HTTPRedirectHandler):
        pass

    opener = R.build_opener(MyRedirect)
    kinds = [type(h) for h in opener.handlers]
    assert MyRedirect in kinds and R.HTTPRedirectHandler not in kinds
    assert R.HTTPHandler in kinds and R.HTTPSHandler in kinds and R.DataHandler in kinds


def test_install_opener(httpbin: Any) -> None:
    opener = R.build_opener()
    opener.addheaders = [("User-agent", "installed")]
    R.install_opener(opener)
    assert json.loads(R.urlopen(httpbin.url + "/user-agent").read())["user-agent"] == "installed"


# -- redirects -------------------------------------------------------------------------------------


def test_redirect_chain_followed(httpbin: Any) -> None:
    r = R.urlopen(httpbin.url + "/redirect/3")
    assert r.status == 200 and r.geturl() == httpbin.url + "/get"
    r = R.urlopen(httpbin.url + "/absolute-redirect/2")
    assert r.geturl() == httpbin.url + "/get"


def test_post_redirect_becomes_get_and_307_post_is_an_error(httpbin: Any) -> None:
    r = R.urlopen(httpbin.url + "/redirect-to?url=/anything&status_code=302", data=b"a=1")
    body = json.loads(r.read())
    assert body["method"] == "GET" and body["data"] == ""
    with pytest.raises(HTTPError) as info:
        R.urlopen(httpbin.url + "/redirect-to?url=/anything&status_code=307", data=b"a=1")
    assert info.value.code == 307


def test_max_redirections(httpbin: Any) -> None:
    class Short(R.HTTPRedirectHandler):
        max_redirections = 2

    with pytest.raises(HTTPError) as info:
        R.build_opener(Short).open(httpbin.url + "/redirect/5")
    assert info.value.code == 302 and "infinite loop" in info.value.reason


def test_overridden_redirect_request(httpbin: Any) -> None:
    seen: list[str] = []

    class Recording(R.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
            seen.append(newurl)
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            new.add_header("X-Followed", str(len(seen)))
            return new

    r = R.build_opener(Recording).open(httpbin.url + "/redirect-to?url=/headers")
    assert json.loads(r.read())["headers"]["X-Followed"] == "1"
    assert seen == [httpbin.url + "/headers"]

    class Refusing(R.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    with pytest.raises(HTTPError) as info:
        R.build_opener(Refusing).open(httpbin.url + "/redirect/1")
    assert info.value.code == 302 and info.value.headers["Location"]


def test_overridden_http_error_302(httpbin: Any) -> None:
    class Stop(R.HTTPRedirectHandler):
        def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
            return fp

    r = R.build_opener(Stop).open(httpbin.url + "/redirect/1")
    assert r.status == 302


def test_redirect_to_an_unsafe_scheme_is_refused(httpbin: Any) -> None:
    with pytest.raises(HTTPError, match="Redirection to url 'file:///etc/passwd' is not allowed"):
        R.urlopen(httpbin.url + "/redirect-to?url=file:///etc/passwd")


def test_credentials_do_not_follow_a_redirect_to_another_origin(httpbin: Any, keepalive_server: Any) -> None:
    headers = {"Authorization": "Bearer secret", "Cookie": "session=1", "Proxy-Authorization": "Basic eDp5", "X-Other": "kept"}
    target = keepalive_server.url + "/landed"
    R.urlopen(R.Request(httpbin.url + "/redirect-to?url=" + target, headers=headers)).read()
    (_, path, got, _), = keepalive_server.requests
    names = {k.lower() for k, _ in got}
    assert path == "/landed" and "x-other" in names
    assert "authorization" not in names and "cookie" not in names and "proxy-authorization" not in names
    # The same origin keeps them.
    r = R.urlopen(R.Request(httpbin.url + "/redirect-to?url=/headers", headers=headers))
    echoed = json.loads(r.read())["headers"]
    assert echoed["Authorization"] == "Bearer secret" and echoed["Cookie"] == "session=1"


def test_head_redirect_stays_head(keepalive_server: Any) -> None:
    r = R.urlopen(R.Request(keepalive_server.url + "/redirect-to//final", method="HEAD"))
    assert r.status == 200 and r.read() == b""
    assert [m for m, *_ in keepalive_server.requests] == ["HEAD", "HEAD"]
