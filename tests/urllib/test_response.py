"""The response urlopen returns for http(s): http.client.HTTPResponse's API, and its connection."""

from __future__ import annotations

import email.message
import io
import json
import urllib.request
from typing import Any

import pytest

import netwire.request as R


def test_status_reason_headers_and_body(httpbin: Any) -> None:
    url = httpbin.url + "/bytes/3000?seed=11"
    expected = urllib.request.urlopen(url).read()
    r = R.urlopen(url)
    assert (r.status, r.code, r.reason, r.msg, r.getcode()) == (200, 200, "OK", "OK", 200)
    assert r.version in (10, 11) and r.debuglevel == 0
    assert r.url == r.geturl() == url
    assert r.length == 3000
    info = r.info()
    assert isinstance(info, email.message.Message) and info is r.headers
    assert info.get_content_type() == "application/octet-stream"
    assert info["content-length"] == info.get("Content-Length") == "3000"
    assert "content-type" in info and "x-nope" not in info
    assert info.get_all("Content-Length") == ["3000"]
    assert info.get("X-Nope", "dflt") == "dflt"
    assert [k.lower() for k in info.keys()] == [k.lower() for k, _ in r.getheaders()]  # noqa: SIM118 - keys() is the API under test
    assert list(info.values()) == [v for _, v in r.getheaders()]
    assert info.items() == r.getheaders()
    assert r.getheader("content-length") == "3000"
    assert r.getheader("X-Nope") is None and r.getheader("X-Nope", "d") == "d"
    assert r.getheader("X-Nope", ["a", "b"]) == "a, b"
    assert r.readable() and not r.closed and not r.isclosed()

    first = r.read(10)
    assert first == expected[:10] and r.length == 2990
    one = r.read1(100)
    assert 0 < len(one) <= 100 and expected.startswith(first + one)
    buf = bytearray(500)
    n = r.readinto(buf)
    assert n == 500
    got = first + one + bytes(buf)
    rest = r.read()
    assert got + rest == expected
    assert r.length == 0 and r.isclosed() and not r.closed
    assert r.read() == b"" and r.read(5) == b"" and r.read1() == b""
    r.close()
    assert r.closed


def test_message_params(httpbin: Any) -> None:
    url = httpbin.url + "/response-headers?Content-Type=text/plain%3B%20charset%3Dlatin-1&X-Dup=a&X-Dup=b"
    theirs = urllib.request.urlopen(url)
    ours = R.urlopen(url)
    t, o = theirs.info(), ours.info()
    assert o.get_content_type() == t.get_content_type()
    assert o.get_content_charset() == t.get_content_charset()
    assert o.get_param("charset") == t.get_param("charset")
    assert o.get_all("Content-Type") == t.get_all("Content-Type") == ["application/json", "text/plain; charset=latin-1"]
    assert ours.getheader("X-Dup") == theirs.getheader("X-Dup") == "a, b"
    assert o.get_all("x-dup") == ["a", "b"]
    assert ours.read() == theirs.read()


def test_lines_iteration_and_text(httpbin: Any) -> None:
    with R.urlopen(httpbin.url + "/stream/4") as r:
        lines = list(r)
    assert [json.loads(line)["id"] for line in lines] == [0, 1, 2, 3]
    assert all(line.endswith(b"\n") for line in lines)
    with R.urlopen(httpbin.url + "/robots.txt") as r:
        assert r.readline(4) == b"User"
        assert r.peek()[:1] == b"-"
        assert r.readlines() == [b"-agent: *\n", b"Disallow: /deny\n"]
    with R.urlopen(httpbin.url + "/robots.txt") as r:
        assert io.TextIOWrapper(r, encoding="ascii").read() == "User-agent: *\nDisallow: /deny\n"
    assert r.closed


def test_head_and_no_content(httpbin: Any) -> None:
    r = R.urlopen(R.Request(httpbin.url + "/get", method="HEAD"))
    assert r.status == 200 and r.length == 0 and r.read() == b""
    r = R.urlopen(httpbin.url + "/status/204")
    assert r.status == 204 and r.read() == b""


def test_context_manager_closes(httpbin: Any) -> None:
    with R.urlopen(httpbin.url + "/get") as r:
        assert r.status == 200
    assert r.closed
    assert r.read() == b""


def test_connections_are_reused_across_urlopen_calls(keepalive_server: Any) -> None:
    for i in range(5):
        assert R.urlopen(f"{keepalive_server.url}/n{i}").read() == f"GET /n{i}".encode()
    assert keepalive_server.connections == 1
    # An unread response keeps its connection: the next call needs another one.
    held = R.urlopen(keepalive_server.url + "/held")
    assert R.urlopen(keepalive_server.url + "/other").read() == b"GET /other"
    assert keepalive_server.connections == 2
    assert held.read() == b"GET /held"
    for _ in range(3):
        R.urlopen(keepalive_server.url + "/again").read()
    assert keepalive_server.connections == 2


def test_early_close_drops_the_connection(keepalive_server: Any) -> None:
    R.urlopen(keepalive_server.url + "/first").read()
    r = R.urlopen(keepalive_server.url + "/big")
    assert r.length == 4 << 20
    # While the body is still arriving, fileno() is the connection's socket.
    assert isinstance(r.fileno(), int) and r.fileno() >= 0
    assert r.read(10) == b"x" * 10
    r.close()
    assert r.closed and r.isclosed() and r.read() == b""
    R.urlopen(keepalive_server.url + "/after").read()
    R.urlopen(keepalive_server.url + "/after2").read()
    assert keepalive_server.connections == 2


def test_error_bodies_give_their_connection_back(keepalive_server: Any, httpbin: Any) -> None:
    # keep-alive server: 404 for nothing, so use a redirect loop handler-free: an HTTPError from a 302
    # with redirects turned off by a handler that declines them.
    class NoRedirect(R.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = R.build_opener(NoRedirect)
    for _ in range(3):
        try:
            opener.open(keepalive_server.url + "/redirect-to//x")
        except R.HTTPError as e:
            assert e.code == 302
    assert keepalive_server.connections == 1


def test_post_bodies_of_every_kind(keepalive_server: Any) -> None:
    url = keepalive_server.url + "/p"
    R.urlopen(url, data=b"bytes-body").read()
    R.urlopen(url, data=io.BytesIO(b"file-body")).read()
    R.urlopen(url, data=iter([b"it", b"er"])).read()
    R.urlopen(url, data=bytearray(b"ba")).read()
    import array

    R.urlopen(url, data=array.array("B", b"arr")).read()
    R.urlopen(R.Request(url, method="PUT")).read()
    bodies = [(m, dict(h).get("Content-Length"), dict(h).get("Transfer-Encoding"), b) for m, _, h, b in keepalive_server.requests]
    assert bodies == [
        ("POST", "10", None, b"bytes-body"),
        ("POST", None, "chunked", b"file-body"),
        ("POST", None, "chunked", b"iter"),
        ("POST", "2", None, b"ba"),
        ("POST", "3", None, b"arr"),
        ("PUT", "0", None, b""),
    ]
    # What urllib puts on the wire, header for header (bar Connection: close).
    _, _, headers, _ = keepalive_server.requests[0]
    assert [k for k, _ in headers] == ["Accept-Encoding", "Content-Type", "Content-Length", "Host", "User-Agent"]
    assert dict(headers)["User-Agent"] == urllib.request.OpenerDirector().addheaders[0][1]


def test_debuglevel_prints_the_exchange(keepalive_server: Any, capsys: Any) -> None:
    opener = R.build_opener(R.HTTPHandler(debuglevel=1))
    assert opener.open(keepalive_server.url + "/dbg").read() == b"GET /dbg"
    out = capsys.readouterr().out
    assert "send: b'GET /dbg HTTP/1.1\\r\\n" in out
    assert "reply: 'HTTP/1.1 200 OK\\r\\n'" in out
    assert "header: Content-Type text/plain" in out


def test_threads_share_the_pool(keepalive_server: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    urls = [f"{keepalive_server.url}/t{i}" for i in range(200)]
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda u: R.urlopen(u).read(), urls))
    assert bodies == [f"GET /t{i}".encode() for i in range(200)]
    assert keepalive_server.connections <= 8


def test_text_file_body_and_str_chunks(keepalive_server: Any) -> None:
    url = keepalive_server.url + "/p"
    R.urlopen(url, data=io.StringIO("caf\xe9")).read()
    assert keepalive_server.requests[-1][3] == b"caf\xe9"
    with pytest.raises(TypeError):
        R.urlopen(url, data=iter(["text chunk"]))
    with pytest.raises(TypeError):
        urllib.request.urlopen(url, data=iter(["text chunk"]))


def test_closing_with_a_small_rest_drains_it_for_reuse(keepalive_server: Any) -> None:
    r = R.urlopen(keepalive_server.url + "/slow-tail")
    assert r.read(10) == b"a" * 10
    assert not r.isclosed()
    r.close()
    assert r.closed and r.read() == b""
    for _ in range(3):
        R.urlopen(keepalive_server.url + "/next").read()
    assert keepalive_server.connections == 1
