"""netwire.error: the exception classes, and what each failure raises (side by side with urllib)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from typing import Any

import pytest

import netwire.errors
import netwire.request as R
from netwire.error import ContentTooShortError, HTTPError, URLError

# A host name longer than DNS allows (255): the resolver refuses it locally (a real
# socket.gaierror) without sending a query anywhere, so the test stays on loopback.
UNRESOLVABLE = ".".join(["a" * 60] * 5) + ".invalid"


def test_classes() -> None:
    assert URLError is netwire.errors.URLError
    assert issubclass(HTTPError, netwire.errors.HTTPStatusError)
    assert issubclass(HTTPError, URLError) and issubclass(URLError, OSError)
    assert issubclass(ContentTooShortError, URLError)
    assert issubclass(netwire.errors.ConnectError, URLError)
    e = ContentTooShortError("short", ("f", {}))
    assert e.content == ("f", {}) and str(e) == "<urlopen error short>"
    u = URLError("why", "file.txt")
    assert (u.reason, u.filename, str(u), u.args) == ("why", "file.txt", "<urlopen error why>", ("why",))


def test_http_error_is_a_response(httpbin: Any) -> None:
    with pytest.raises(HTTPError) as info:
        R.urlopen(httpbin.url + "/status/418")
    e = info.value
    assert (e.code, e.status, e.getcode(), e.reason, e.msg) == (418, 418, 418, "I'M A TEAPOT", "I'M A TEAPOT")
    assert e.headers is e.hdrs and e.info() is e.headers
    assert e.headers["x-more-info"] == "http://tools.ietf.org/html/rfc2324"
    assert e.geturl() == e.url == e.filename == httpbin.url + "/status/418"
    assert b"teapot" in e.read()
    assert str(e) == "HTTP Error 418: I'M A TEAPOT" and repr(e) == "<HTTPError 418: \"I'M A TEAPOT\">"
    # netwire's own view of it.
    assert isinstance(e, netwire.errors.NetwireError)
    assert e.response.status == 418 and e.request is not None
    with pytest.raises(urllib.error.HTTPError) as theirs:
        urllib.request.urlopen(httpbin.url + "/status/418")
    assert (theirs.value.code, theirs.value.reason, str(theirs.value), repr(theirs.value)) == (
        e.code,
        e.reason,
        str(e),
        repr(e),
    )
    theirs.value.close()
    e.close()


def test_http_error_made_by_hand() -> None:
    e = HTTPError("http://example.com/x", 503, "Service Unavailable", None, None)
    assert e.read() == b"" and e.code == 503 and e.headers is None
    theirs = urllib.error.HTTPError("http://example.com/x", 503, "Service Unavailable", None, None)
    assert e.args == theirs.args and (e.errno, e.strerror, e.filename) == (theirs.errno, theirs.strerror, theirs.filename)
    assert e.response.status == 503


def test_read_timeout_is_a_urlerror_and_a_socket_timeout(httpbin: Any) -> None:
    with pytest.raises(URLError) as info:
        R.urlopen(httpbin.url + "/delay/1", timeout=0.1)
    assert isinstance(info.value.reason, socket.timeout)
    assert isinstance(info.value, socket.timeout)


def test_socket_default_timeout_applies(httpbin: Any) -> None:
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(0.1)
    try:
        with pytest.raises(socket.timeout):
            R.urlopen(httpbin.url + "/delay/1")
    finally:
        socket.setdefaulttimeout(old)


def test_timeout_while_reading_the_body(one_shot: Any) -> None:
    # The server announces 100 bytes, sends 10, and then nothing (it holds the connection).
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        conn, _ = listener.accept()
        held.append(conn)
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")

    import threading

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        r = R.urlopen(f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.2)
        assert r.read(10) == b"0123456789"
        with pytest.raises(socket.timeout) as info:
            r.read()
        assert isinstance(info.value, URLError)
    finally:
        thread.join(5)
        for s in held:
            s.close()
        listener.close()


def test_dns_failure_reason_is_the_gaierror() -> None:
    url = f"http://{UNRESOLVABLE}/"
    with pytest.raises(URLError) as ours:
        R.urlopen(url)
    with pytest.raises(urllib.error.URLError) as theirs:
        urllib.request.urlopen(url)
    assert isinstance(ours.value.reason, socket.gaierror)
    assert type(ours.value.reason) is type(theirs.value.reason)
    assert ours.value.reason.errno == theirs.value.reason.errno


def test_refused_reason_is_the_oserror() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(URLError) as info:
        R.urlopen(f"http://127.0.0.1:{port}/")
    assert isinstance(info.value.reason, ConnectionRefusedError)


@pytest.mark.parametrize(
    ("call", "kind"),
    [
        (lambda m: m.urlopen("gopher://example.com/"), "URLError"),
        (lambda m: m.urlopen("http:///no-host"), "URLError"),
        (lambda m: m.urlopen("just-text"), "ValueError"),
        (lambda m: m.urlopen(m.Request("http://127.0.0.1:9/", data="text")), "TypeError"),
        (lambda m: m.urlopen("http://127.0.0.1:9/a b"), "InvalidURL"),
        (lambda m: m.urlopen("http://127.0.0.1:9/a\r\nX-Injected: 1"), "InvalidURL"),
        (lambda m: m.urlopen(m.Request("http://127.0.0.1:9/", headers={"X": "a\r\nX-Injected: 1"})), "ValueError"),
    ],
)
def test_refusals_match_urllib(call: Any, kind: str) -> None:
    import http.client

    expected = {
        "URLError": urllib.error.URLError,
        "ValueError": ValueError,
        "TypeError": TypeError,
        "InvalidURL": http.client.InvalidURL,
    }[kind]
    with pytest.raises(expected):
        call(urllib.request)
    ours = {"URLError": URLError, "ValueError": ValueError, "TypeError": TypeError, "InvalidURL": netwire.errors.InvalidURL}[
        kind
    ]
    with pytest.raises(ours) as info:
        call(R)
    if kind != "URLError":
        assert not isinstance(info.value, OSError)  # not mistaken for a network failure


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"headers": {"Bad Name": "v"}},  # urllib sends a field name with a space
        {"headers": {"X": "a\r\n b"}},  # urllib sends an obs-fold continuation line
        {"method": "GET /x"},  # urllib sends a method with a space (a second request line)
    ],
)
def test_netwire_refuses_what_urllib_would_send(keepalive_server: Any, request_kwargs: Any) -> None:
    with pytest.raises(ValueError):
        R.urlopen(R.Request(keepalive_server.url + "/", **request_kwargs))
    assert keepalive_server.requests == []


def test_non_ascii_path_is_percent_encoded(keepalive_server: Any) -> None:
    # urllib raises UnicodeEncodeError here; netwire sends the UTF-8 percent-encoded form.
    assert R.urlopen(keepalive_server.url + "/café?q=é").read() == b"GET /caf%C3%A9?q=%C3%A9"


def test_selector_is_sent_verbatim(keepalive_server: Any) -> None:
    # As urllib does: no dot-segment removal, no re-encoding of what the caller wrote.
    R.urlopen(keepalive_server.url + "/a/../b/./c?x=%7e&y=[1]").read()
    assert keepalive_server.requests[0][1] == "/a/../b/./c?x=%7e&y=[1]"


def test_credentials_in_the_url_are_refused(keepalive_server: Any) -> None:
    url = keepalive_server.url.replace("http://", "http://user:pw@") + "/"
    with pytest.raises(netwire.errors.InvalidURL, match="credentials"):
        R.urlopen(url)
    with pytest.raises(Exception):  # noqa: B017 - urllib fails with http.client.InvalidURL here
        urllib.request.urlopen(url)
    assert keepalive_server.requests == []
