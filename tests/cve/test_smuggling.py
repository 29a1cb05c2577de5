"""Response smuggling shapes: framing a client and an intermediary could read differently.

For each shape the parser either refuses the response (ProtocolError) or reads it one defined
way and does not reuse the connection, so bytes a server (or an attacker behind it) appended
can never become the response to the client's next request. Checked against the parser byte by
byte, and against the Client on a loopback server whose next bytes are a "smuggled" response.
"""

from __future__ import annotations

import pytest

import netwire
from netwire.errors import ProtocolError
from netwire.http.http11 import Data, EndOfMessage, ResponseHead, ResponseParser
from tests.servers.faults import ReadRequest, Send, Serve, Start, WaitForClose, response

pytestmark = pytest.mark.timeout(20)

SMUGGLED = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"

REFUSED = [
    pytest.param(b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!", id="duplicate-cl-differing"),
    pytest.param(b"Content-Length: 5, 6\r\n", b"hello!", id="cl-list-differing"),
    pytest.param(b"Content-Length: +5\r\n", b"hello", id="cl-plus-sign"),
    pytest.param(b"Content-Length: 0x5\r\n", b"hello", id="cl-hex"),
    pytest.param(b"Content-Length: 5 5\r\n", b"hello", id="cl-with-space"),
    pytest.param(b"Content-Length: -1\r\n", b"", id="cl-negative"),
    pytest.param(b"Content-Length: 99999999999999999999\r\n", b"", id="cl-overflow"),
    pytest.param(b"Content-Length: \xd9\xa5\r\n", b"hello", id="cl-non-ascii-digit"),
    pytest.param(b"Content-Length : 5\r\n", b"hello", id="space-before-colon"),
    pytest.param(b"Transfer-Encoding : chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n", id="te-space-before-colon"),
    pytest.param(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n", id="te-chunked-twice"),
    pytest.param(b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n", id="te-unsupported-coding"),
    pytest.param(b" Transfer-Encoding: chunked\r\n", b"0\r\n\r\n", id="obs-fold-first-line"),
    pytest.param(b"Content-Length: 5\r\n 6\r\n", b"hello!", id="obs-fold-cl"),
    pytest.param(b"X-A: a\rContent-Length: 0\r\n", b"", id="bare-cr-in-field"),
    pytest.param(b"X-A\x00: a\r\n", b"", id="nul-in-name"),
    pytest.param(b"Transfer-Encoding: chunked\r\n", b"0x5\r\nhello\r\n0\r\n\r\n", id="chunk-size-0x"),
    pytest.param(b"Transfer-Encoding: chunked\r\n", b"-5\r\nhello\r\n0\r\n\r\n", id="chunk-size-negative"),
    pytest.param(b"Transfer-Encoding: chunked\r\n", b"+5\r\nhello\r\n0\r\n\r\n", id="chunk-size-plus"),
    pytest.param(b"Transfer-Encoding: chunked\r\n", b"5 5\r\nhello\r\n0\r\n\r\n", id="chunk-size-two-numbers"),
    pytest.param(b"Transfer-Encoding: chunked\r\n", b"1" * 17 + b"\r\nx\r\n0\r\n\r\n", id="chunk-size-17-digits"),
    pytest.param(b"Transfer-Encoding: chunked\r\n", b"\r\nhello\r\n0\r\n\r\n", id="chunk-size-empty"),
    pytest.param(b"Transfer-Encoding: chunked\r\n", b"3\r\nhello\r\n0\r\n\r\n", id="chunk-size-too-small"),
    pytest.param(b"Transfer-Encoding: chunked\r\n", b"5\rhello\r\n0\r\n\r\n", id="chunk-line-bare-cr"),
    pytest.param(b"Transfer-Encoding: chunked\r\n", b"5\r\nhelloXX0\r\n\r\n", id="chunk-data-not-crlf"),
]


def _parse(wire: bytes, bytewise: bool) -> list[object]:
    parser = ResponseParser("GET")
    events: list[object] = []
    for piece in ([wire[i : i + 1] for i in range(len(wire))] if bytewise else [wire]):
        events += parser.feed(piece)
    return events


@pytest.mark.parametrize(("fields", "body"), REFUSED)
@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_smuggling_shape_refused_by_the_parser(fields: bytes, body: bytes, bytewise: bool) -> None:
    with pytest.raises(ProtocolError):
        _parse(b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n" + body + SMUGGLED, bytewise)


@pytest.mark.parametrize(("fields", "body"), REFUSED)
def test_smuggling_shape_refused_by_the_client(fault_server: Start, fields: bytes, body: bytes) -> None:
    srv = fault_server([[ReadRequest(), Send(b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n" + body + SMUGGLED), WaitForClose()],
                        [Serve(response(b"good"))]])
    with netwire.Client(timeout=3) as c:
        with pytest.raises(ProtocolError):
            c.get(srv.url("/1"))
        assert c.pool.open_count() == 0
        assert c.get(srv.url("/2")).content == b"good"
    assert srv.connections == 2


# Shapes read one defined way; the connection must then not carry another request.
READ_ONE_WAY = [
    pytest.param(b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"hello",
                 id="te-and-cl-chunked-wins"),
    pytest.param(b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"hello",
                 id="cl-after-te"),
    pytest.param(b"Transfer-Encoding: chunked, identity\r\n", b"5\r\nhello\r\n0\r\n\r\n", None,
                 id="te-chunked-not-last-reads-to-close"),
    pytest.param(b"Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n", b"hello", None, id="te-unknown-with-cl"),
    pytest.param(b"Transfer-Encoding: chunked\r\nConnection: close\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"hello",
                 id="connection-close"),
]


@pytest.mark.parametrize(("fields", "body", "expected"), READ_ONE_WAY)
def test_ambiguous_framing_is_read_one_way_and_not_reused(
    fault_server: Start, fields: bytes, body: bytes, expected: bytes | None
) -> None:
    wire = b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n" + body
    whole, bytewise = _parse(wire + SMUGGLED, False), _parse(wire + SMUGGLED, True)
    head = next(e for e in whole if isinstance(e, ResponseHead))
    assert head.keep_alive is False
    assert next(e for e in bytewise if isinstance(e, ResponseHead)).keep_alive is False
    if expected is not None:
        assert b"".join(e.data for e in whole if isinstance(e, Data)) == expected
        assert any(isinstance(e, EndOfMessage) for e in whole)

    srv = fault_server([[ReadRequest(), Send(wire + SMUGGLED), WaitForClose(timeout=1)], [Serve(response(b"good"))]])
    with netwire.Client(timeout=3) as c:
        if expected is not None:
            assert c.get(srv.url("/1")).content == expected
        else:
            # A read-until-close body: everything after the head is this body, the
            # "smuggled" bytes included, and nothing of it is taken for a response.
            with c.stream("GET", srv.url("/1")) as r:
                assert r.status == 200
                r.close()
        assert c.pool.idle_count() == 0
        assert c.get(srv.url("/2")).content == b"good"
    assert srv.connections == 2


def test_bytes_after_a_complete_response_are_never_the_next_response(fault_server: Start) -> None:
    srv = fault_server([[ReadRequest(), Send(response(b"first") + SMUGGLED), WaitForClose()], [Serve(response(b"good"))]])
    with netwire.Client(timeout=3) as c:
        assert c.get(srv.url("/1")).content == b"first"
        assert c.get(srv.url("/2")).content == b"good"
    assert srv.connections == 2


def test_obs_folded_transfer_encoding_is_unfolded_and_extra_bytes_not_reused(fault_server: Start) -> None:
    # RFC 9112 5.2: a user agent replaces obs-fold with SP before interpreting, so this is chunked.
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    events = _parse(wire, True)
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"hello"
    srv = fault_server([[ReadRequest(), Send(wire + SMUGGLED), WaitForClose()], [Serve(response(b"good"))]])
    with netwire.Client(timeout=3) as c:
        assert c.get(srv.url("/1")).content == b"hello"
        assert c.get(srv.url("/2")).content == b"good"
    assert srv.connections == 2


def test_duplicate_identical_content_length_is_accepted() -> None:
    # RFC 9110 8.6: identical repeated values may be taken as one.
    events = _parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\nhello", False)
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"hello"


def test_http_1_0_chunked_is_not_reused() -> None:
    events = _parse(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n", False)
    assert next(e for e in events if isinstance(e, ResponseHead)).keep_alive is False
