"""Header and request injection through the URL, the method or header fields: impossible.

urllib/http.client let a caller's string carry CR LF into the request head, so a URL taken from
a user could add headers or a whole second request (CVE-2019-9740 and CVE-2019-9947: the query
and the path; CVE-2019-18348: the host; CVE-2020-26116: the method). netwire's URL parser drops
tab/CR/LF and percent-encodes spaces (WHATWG), ``encode_request_head`` refuses any control in
the request line or a field, and the urllib face refuses them as CPython's fixed releases do.
Every test checks what a real loopback server received.
"""

from __future__ import annotations

import pytest

import netwire
import netwire.request as urlreq
from netwire.errors import InvalidURL, LocalProtocolError
from netwire.http.http11 import encode_request_head
from tests.servers.faults import FaultServer, Serve, Start, response

pytestmark = pytest.mark.timeout(20)

INJECTIONS = [
    "?a=1 HTTP/1.1\r\nX-Injected: header\r\nTEST: 123",
    "?a=1\r\nX-Injected: header",
    "/path HTTP/1.1\r\nX-Injected: h\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x",
    "/p%0d%0aX-Injected:%20pct",
    "/\rX-Injected: cr-only",
    "/\nX-Injected: lf-only",
    "/\x00nul",
]


def _clean(srv: FaultServer) -> None:
    """The server saw at most one request, with nothing injected, and a request-target without controls."""
    assert len(srv.requests) <= 1, [(r.method, r.target) for r in srv.requests]
    for req in srv.requests:
        names = {k.lower() for k, _ in req.headers}
        assert "x-injected" not in names and "test" not in names, req.headers
        assert not any(c in req.target for c in " \r\n\x00"), req.target
        assert req.method == "GET"


@pytest.mark.parametrize("tail", INJECTIONS)
def test_cve_2019_9740_and_cve_2019_9947_crlf_in_query_or_path_client(fault_server: Start, tail: str) -> None:
    srv = fault_server(Serve(response(b"ok")))
    url = f"http://127.0.0.1:{srv.port}" + (tail if tail.startswith("/") else "/" + tail)
    with netwire.Client(timeout=3) as c:
        r = c.get(url)
    assert r.status == 200
    _clean(srv)
    assert len(srv.requests) == 1


@pytest.mark.parametrize("tail", INJECTIONS)
def test_cve_2019_9740_and_cve_2019_9947_crlf_in_query_or_path_urlopen(fault_server: Start, tail: str) -> None:
    srv = fault_server(Serve(response(b"ok")))
    url = f"http://127.0.0.1:{srv.port}" + (tail if tail.startswith("/") else "/" + tail)
    try:
        with urlreq.urlopen(url, timeout=3) as r:
            assert r.status == 200
    except (ValueError, OSError) as exc:
        # Refused before sending, as CPython's fixed http.client does ("can't contain control characters").
        assert "control" in str(exc) or "Invalid" in str(exc) or isinstance(exc, InvalidURL), exc
        assert not srv.requests
    _clean(srv)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1\r\n\x20hihi\r\n ", "127.0.0.1 X-Injected: h", "127.0.0.1\x00", "127.0.0.1\r\nX-Injected: h\r\n"],
)
def test_cve_2019_18348_crlf_in_host(fault_server: Start, host: str) -> None:
    srv = fault_server(Serve(response(b"ok")))
    url = f"http://{host}:{srv.port}/"
    with netwire.Client(timeout=3) as c, pytest.raises(InvalidURL):
        c.get(url)
    with pytest.raises((ValueError, OSError)):
        urlreq.urlopen(url, timeout=3)
    assert srv.connections == 0 or not srv.requests
    _clean(srv)


@pytest.mark.parametrize("method", ["GET\r\nX-Injected: 1", "GET /x HTTP/1.1\r\n\r\nGET", "GE T", "GET\x00", "G\nET"])
def test_cve_2020_26116_crlf_in_method(fault_server: Start, method: str) -> None:
    srv = fault_server(Serve(response(b"ok")))
    url = f"http://127.0.0.1:{srv.port}/"
    with netwire.Client(timeout=3) as c, pytest.raises(LocalProtocolError, match="method"):
        c.request(method, url)
    with pytest.raises(ValueError):
        urlreq.urlopen(urlreq.Request(url, method=method), timeout=3)
    assert srv.connections == 0 and not srv.requests


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-A", "v\r\nX-Injected: 1"),
        ("X-A", "v\nX-Injected: 1"),
        ("X-A", "v\rX-Injected: 1"),
        ("X-A", "v\x00"),
        ("X-A\r\nX-Injected", "1"),
        ("X-A: b\r\nX-Injected", "1"),
        ("X A", "1"),
        ("", "1"),
        ("Host", "127.0.0.1\r\nX-Injected: 1"),
    ],
)
def test_cve_2020_26116_crlf_in_header_fields(fault_server: Start, name: str, value: str) -> None:
    srv = fault_server(Serve(response(b"ok")))
    url = f"http://127.0.0.1:{srv.port}/"
    with netwire.Client(timeout=3) as c, pytest.raises(LocalProtocolError):
        c.get(url, headers={name: value})
    with pytest.raises(ValueError):
        urlreq.urlopen(urlreq.Request(url, headers={name: value}), timeout=3)
    assert not srv.requests


def test_cve_2020_26116_client_wide_headers_and_user_agent(fault_server: Start) -> None:
    srv = fault_server(Serve(response(b"ok")))
    with netwire.Client(timeout=3, headers={"X-A": "a\r\nX-Injected: 1"}) as c, pytest.raises(LocalProtocolError):
        c.get(f"http://127.0.0.1:{srv.port}/")
    with netwire.Client(timeout=3, user_agent="bot\r\nX-Injected: 1") as c, pytest.raises(LocalProtocolError):
        c.get(f"http://127.0.0.1:{srv.port}/")
    assert not srv.requests


@pytest.mark.parametrize("target", ["/a b", "/a\r\nX: y", "/\t", "/\x7f", "", "/\x00"])
def test_request_line_encoder_refuses_controls_in_target(target: str) -> None:
    with pytest.raises(LocalProtocolError):
        encode_request_head("GET", target, [("Host", "h")])


def test_control_positive_a_clean_request_goes_through(fault_server: Start) -> None:
    # The checks above can fail: this request carries every header the server should see.
    srv = fault_server(Serve(response(b"ok")))
    with netwire.Client(timeout=3) as c:
        c.get(f"http://127.0.0.1:{srv.port}/a%20b?q=x%0Dy", headers={"X-Fine": "tab\tand obs-text \xe9"})
    (req,) = srv.requests
    assert req.target == "/a%20b?q=x%0Dy"
    assert req.header("x-fine") == "tab\tand obs-text \xe9"
