"""The same scripted calls through urllib.request and netwire.request, against the same httpbin:
the same status, headers (bar Date/Connection/Keep-Alive), body, and exception (type and code).

Bodies that echo the request headers are compared without the Connection header urllib sends
("close": urllib does not reuse connections; netwire does), and then without Content-Length.
"""

from __future__ import annotations

import gzip
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

import netwire.error
import netwire.request

IGNORED = {"date", "connection", "keep-alive"}
Call = Callable[[Any, str], Any]


def _get(path: str, **kw: Any) -> Call:
    return lambda m, base: m.urlopen(base + path, **kw)


def _req(path: str, **kw: Any) -> Call:
    def call(m: Any, base: str) -> Any:
        headers = kw.pop("headers", {})
        req = m.Request(base + path, headers=dict(headers), **kw)
        kw["headers"] = headers
        return m.urlopen(req)

    return call


CALLS: dict[str, Call] = {
    "get": _get("/get"),
    "get query": _get("/get?a=1&b=two&a=3"),
    "html": _get("/html"),
    "json": _get("/json"),
    "xml": _get("/xml"),
    "robots": _get("/robots.txt"),
    "utf8": _get("/encoding/utf8"),
    "gzip": _req("/gzip", headers={"Accept-Encoding": "gzip"}),
    "bytes": _get("/bytes/700?seed=9"),
    "chunked bytes": _get("/stream-bytes/3000?seed=2&chunk_size=128"),
    "stream lines": _get("/stream/4"),
    "response headers": _get("/response-headers?X-A=1&X-A=2&X-B=b"),
    "custom headers": _req("/headers", headers={"X-Custom": "yes", "User-Agent": "diff/1"}),
    "user agent": _get("/user-agent"),
    "post form": _get("/post", data=b"a=1&b=2"),
    "post json": _req("/anything", data=b'{"k": [1, 2]}', headers={"Content-Type": "application/json"}),
    "put": _req("/put", data=b"body", method="PUT"),
    "patch": _req("/patch", data=b"p", method="PATCH"),
    "delete": _req("/delete", method="DELETE"),
    "head": _req("/get", method="HEAD"),
    "put empty": _req("/anything", method="PUT"),
    "redirect 2": _get("/redirect/2"),
    "relative redirect": _get("/relative-redirect/2"),
    "absolute redirect": _get("/absolute-redirect/1"),
    "redirect 301": _get("/redirect-to?url=/get&status_code=301"),
    "redirect 303": _get("/redirect-to?url=/get&status_code=303"),
    "redirect 307": _get("/redirect-to?url=/get&status_code=307"),
    "redirect 308": _get("/redirect-to?url=/get&status_code=308"),
    "post redirect 302": _get("/redirect-to?url=/anything&status_code=302", data=b"x=1"),
    "post redirect 307": _get("/redirect-to?url=/anything&status_code=307", data=b"x=1"),
    "too many redirects": _get("/redirect/12"),
    "status 302": _get("/status/302"),
    "cookies set": _get("/cookies/set?c=1"),
    "status 201": _get("/status/201"),
    "status 204": _get("/status/204"),
    "status 304": _get("/status/304"),
    "status 400": _get("/status/400"),
    "status 401": _get("/basic-auth/u/p"),
    "status 404": _get("/status/404"),
    "status 418": _get("/status/418"),
    "status 500": _get("/status/500"),
    "status 503": _get("/status/503"),
    "timeout": _get("/delay/1", timeout=0.1),
    "data url": lambda m, base: m.urlopen("data:text/plain;base64,aGVsbG8="),
    "unknown scheme": lambda m, base: m.urlopen("nope://x/"),
}


def _classify(exc: BaseException, error_module: Any) -> tuple[Any, ...]:
    if isinstance(exc, error_module.HTTPError):
        body = exc.read()
        exc.close()
        return ("HTTPError", exc.code, exc.reason, _headers(exc.headers.items()), body)
    if isinstance(exc, socket.timeout):
        return ("timeout",)
    if isinstance(exc, error_module.URLError):
        return ("URLError", str(exc.reason) if isinstance(exc.reason, str) else type(exc.reason).__name__)
    return (type(exc).__name__,)


def _headers(items: Any) -> list[tuple[str, str]]:
    return [(k, v) for k, v in items if k.lower() not in IGNORED]


def _body(data: bytes, headers: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
    """The body, with the request's Connection header taken out of an echo of the request."""
    kinds = {k.lower(): v for k, v in headers}
    raw = data
    if kinds.get("content-encoding") == "gzip":
        raw = gzip.decompress(data)
    try:
        documents = [json.loads(raw)]
    except ValueError:
        try:  # JSON lines (/stream/n)
            documents = [json.loads(line) for line in raw.splitlines() if line.strip()]
        except ValueError:
            return data, headers
    echoes = [d for d in documents if isinstance(d, dict) and isinstance(d.get("headers"), dict)]
    for d in echoes:
        d["headers"].pop("Connection", None)
    if echoes:
        return documents, [(k, v) for k, v in headers if k.lower() != "content-length"]
    return (documents if raw is not data else data), headers


def outcome(call: Call, request_module: Any, error_module: Any, base: str) -> tuple[Any, ...]:
    try:
        r = call(request_module, base)
    except Exception as exc:
        return _classify(exc, error_module)
    with r:
        data = r.read()
        headers = _headers(r.getheaders() if hasattr(r, "getheaders") else r.info().items())
        body, headers = _body(data, headers)
        if r.status == 200 and not data and base.startswith("http"):
            # A HEAD of an echo endpoint: its Content-Length counts the echoed Connection header.
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        return (r.status, getattr(r, "reason", None), r.geturl().replace(base, ""), headers, body)


@pytest.mark.parametrize("name", list(CALLS))
def test_same_outcome(name: str, httpbin: Any) -> None:
    call = CALLS[name]
    theirs = outcome(call, urllib.request, urllib.error, httpbin.url)
    ours = outcome(call, netwire.request, netwire.error, httpbin.url)
    if name == "timeout":
        # urllib lets a read timeout escape as a bare socket.timeout; ours is one too (and a URLError).
        assert theirs == ours == ("timeout",)
        return
    assert ours == theirs
