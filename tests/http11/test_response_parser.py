"""Table-driven tests of ResponseParser: every framing rule, each case fed in every split."""

from __future__ import annotations

import pytest

from netwire.errors import ProtocolError
from netwire.http.http11 import IncompleteResponse, ParserLimits, ResponseParser
from tests.http11.feeding import parse_every_way, refused

CRLF = b"\r\n"


def resp(status_line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return status_line + CRLF + b"".join(h + CRLF for h in headers) + CRLF + body


# -- status line ---------------------------------------------------------------------------------

STATUS_LINES_OK = [
    # (status line, status, reason, version)
    (b"HTTP/1.1 200 OK", 200, "OK", "1.1"),
    (b"HTTP/1.0 200 OK", 200, "OK", "1.0"),
    (b"HTTP/1.1 404 Not Found", 404, "Not Found", "1.1"),
    (b"HTTP/1.1 200 ", 200, "", "1.1"),  # empty reason, space kept (RFC 9112 4)
    (b"HTTP/1.1 200", 200, "", "1.1"),  # no space at all: tolerated
    (b"HTTP/1.1 599 Whatever  It Says ", 599, "Whatever  It Says ", "1.1"),
    (b"HTTP/1.1 200 caf\xe9", 200, "caf\xe9", "1.1"),  # obs-text in the reason, read as Latin-1
    (b"HTTP/1.1 200 a\tb", 200, "a\tb", "1.1"),
]


@pytest.mark.parametrize(("line", "status", "reason", "version"), STATUS_LINES_OK)
def test_status_line_accepted(line: bytes, status: int, reason: str, version: str) -> None:
    out = parse_every_way(resp(line, b"Content-Length: 0"))
    assert out.head is not None
    assert (out.head.status, out.head.reason, out.head.http_version) == (status, reason, version)
    assert out.ended


STATUS_LINES_BAD = [
    (b"HTTP/2.0 200 OK", "version"),
    (b"HTTP/0.9 200 OK", "version"),
    (b"HTTP/1.1 20 OK", "status line"),
    (b"HTTP/1.1 2000 OK", "status line"),
    (b"HTTP/1.1 abc OK", "status line"),
    (b"HTTP/1.1 099 Low", "status"),
    (b"HTTP/1.1  200 OK", "status line"),
    (b"HTTP/11 200 OK", "status line"),
    (b"HTTP/1.1 200 O\x00K", "NUL"),
    (b"HTTP/1.1 200 O\rK", "CR"),
    (b"http/1.1 200 OK", "status line"),
    (b"ICY 200 OK", "status line"),
    (b"SIP/2.0 200 OK", "status line"),
    (b"<html><body>hello</body></html>", "status line"),
]


@pytest.mark.parametrize(("line", "needle"), STATUS_LINES_BAD)
def test_status_line_refused(line: bytes, needle: str) -> None:
    refused(resp(line, b"Content-Length: 0"), needle)


def test_blank_lines_before_status_line_are_ignored() -> None:
    out = parse_every_way(b"\r\n\n" + resp(b"HTTP/1.1 200 OK", b"Content-Length: 2", body=b"hi"))
    assert out.head is not None and out.head.status == 200 and out.body == b"hi"


def test_bare_lf_line_endings_tolerated() -> None:
    out = parse_every_way(b"HTTP/1.1 200 OK\nContent-Length: 3\nX: y\n\nabc")
    assert out.head is not None
    assert out.head.headers == [("Content-Length", "3"), ("X", "y")]
    assert out.body == b"abc" and out.ended


@pytest.mark.parametrize(
    ("data", "body"),
    [
        # A bare-LF line then a CRLF blank line, with a body that starts with CRLF: the head
        # ends at the first blank line, not at the first CRLFCRLF.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\n\r\n", b"\r\n"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 4\n\n\r\n\r\n", b"\r\n\r\n"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\n\r\n", b"\r\n"),
        (b"HTTP/1.1 200 OK\nContent-Length: 3\r\n\r\n\n\r\n", b"\n\r\n"),
    ],
)
def test_mixed_line_endings_end_the_head_at_the_first_blank_line(data: bytes, body: bytes) -> None:
    out = parse_every_way(data)
    assert out.body == body and out.ended and out.trailing_data == b""


# -- header fields -------------------------------------------------------------------------------

HEADERS_OK = [
    # (header lines, expected fields)
    ([b"X-A: 1"], [("X-A", "1")]),
    ([b"X-A:1"], [("X-A", "1")]),
    ([b"X-A:   spaced \t "], [("X-A", "spaced")]),
    ([b"X-A:"], [("X-A", "")]),
    ([b"X-A: a", b"x-a: b"], [("X-A", "a"), ("x-a", "b")]),  # order and case kept
    ([b"X-A: a:b:c"], [("X-A", "a:b:c")]),
    ([b"X-A: caf\xe9"], [("X-A", "caf\xe9")]),  # obs-text as Latin-1
    ([b"X-A: in \t between"], [("X-A", "in \t between")]),
    # obs-fold (RFC 9112 5.2): a continuation line is joined with one SP.
    ([b"X-A: first", b"  second"], [("X-A", "first second")]),
    ([b"X-A: first", b"\tsecond", b" third"], [("X-A", "first second third")]),
    ([b"X-A:", b" folded"], [("X-A", "folded")]),
    ([b"X-A: a", b"X-B: b", b"  c"], [("X-A", "a"), ("X-B", "b c")]),
    ([b"!#$%&'*+-.^_`|~09az: token chars"], [("!#$%&'*+-.^_`|~09az", "token chars")]),
]


@pytest.mark.parametrize(("lines", "expected"), HEADERS_OK)
def test_header_fields_accepted(lines: list[bytes], expected: list[tuple[str, str]]) -> None:
    out = parse_every_way(resp(b"HTTP/1.1 204 No Content", *lines))
    assert out.head is not None
    assert out.head.headers == expected


HEADERS_BAD = [
    ([b"X-A : value"], "name"),  # whitespace before the colon (RFC 9112 5.1: must be rejected)
    ([b"X-A\t: value"], "name"),
    ([b" X-A: value"], "continuation"),  # a fold with nothing to fold into
    ([b"\tX-A: value"], "continuation"),
    ([b"no colon here"], "header line"),
    ([b": empty name"], "header line"),
    ([b"X(A): v"], "name"),
    ([b"X\x00A: v"], "name"),
    ([b"X-A: a\x00b"], "NUL"),
    ([b"X-A: a\rb"], "CR"),
    ([b"X-A: ab\r"], "CR"),
    ([b"X-A: ok", b" bad\x00fold"], "NUL"),  # the folded part is checked too
    ([b"X-A: ok", b" bad\rfold"], "CR"),
    ([b"X-\xe9: v"], "name"),
]


@pytest.mark.parametrize(("lines", "needle"), HEADERS_BAD)
def test_header_fields_refused(lines: list[bytes], needle: str) -> None:
    refused(resp(b"HTTP/1.1 200 OK", *lines, b"Content-Length: 0"), needle)


# -- interim responses -----------------------------------------------------------------------------


def test_informational_responses_are_passed_over_as_events() -> None:
    data = (
        resp(b"HTTP/1.1 100 Continue")
        + resp(b"HTTP/1.1 103 Early Hints", b"Link: </style.css>; rel=preload")
        + resp(b"HTTP/1.1 200 OK", b"Content-Length: 5", body=b"hello")
    )
    out = parse_every_way(data)
    assert out.informational == [
        (100, "Continue", []),
        (103, "Early Hints", [("Link", "</style.css>; rel=preload")]),
    ]
    assert out.head is not None and out.head.status == 200
    assert out.body == b"hello"
    assert out.kinds == ["info", "info", "head", "data", "end"]


def test_informational_up_to_the_limit_is_fine() -> None:
    limits = ParserLimits(max_informational=5)
    data = resp(b"HTTP/1.1 100 Continue") * 5 + resp(b"HTTP/1.1 200 OK", b"Content-Length: 0")
    out = parse_every_way(data, limits=limits)
    assert len(out.informational) == 5 and out.ended


def test_cve_2021_3737_endless_100_continue_is_bounded() -> None:
    limits = ParserLimits(max_informational=5)
    data = resp(b"HTTP/1.1 100 Continue") * 6
    refused(data, "max_informational=5", limits=limits)


def test_cve_2021_3737_endless_100_continue_default_limit() -> None:
    from netwire.http.http11 import DEFAULT_LIMITS, ResponseParser

    parser = ResponseParser()
    one = resp(b"HTTP/1.1 100 Continue", b"X: y")
    with pytest.raises(ProtocolError, match="max_informational"):
        for _ in range(DEFAULT_LIMITS.max_informational + 1):
            parser.feed(one)
    # And it really was the limit that stopped it, not the first one.
    assert DEFAULT_LIMITS.max_informational >= 1


def test_101_switching_protocols_is_final_and_not_kept_alive() -> None:
    out = parse_every_way(resp(b"HTTP/1.1 101 Switching Protocols", b"Upgrade: websocket", body=b"\x81\x00"))
    assert out.head is not None and out.head.status == 101
    assert out.ended and out.body == b""
    assert out.trailing_data == b"\x81\x00"  # the other protocol's bytes are not ours
    assert not out.keep_alive


# -- message body length: RFC 9112 6.3, in order ---------------------------------------------------

BODYLESS = [
    # (method, status line, headers): no body whatever the headers say.
    ("HEAD", b"HTTP/1.1 200 OK", [b"Content-Length: 100"]),
    ("HEAD", b"HTTP/1.1 200 OK", [b"Transfer-Encoding: chunked"]),
    ("HEAD", b"HTTP/1.1 404 Not Found", [b"Content-Length: 9"]),
    ("GET", b"HTTP/1.1 204 No Content", [b"Content-Length: 100"]),
    ("GET", b"HTTP/1.1 204 No Content", [b"Transfer-Encoding: chunked"]),
    ("GET", b"HTTP/1.1 304 Not Modified", [b"Content-Length: 100"]),
    ("GET", b"HTTP/1.1 304 Not Modified", [b"Transfer-Encoding: chunked"]),
    ("GET", b"HTTP/1.1 304 Not Modified", []),
    ("POST", b"HTTP/1.1 204 No Content", []),
]


@pytest.mark.parametrize(("method", "line", "headers"), BODYLESS)
def test_responses_without_body(method: str, line: bytes, headers: list[bytes]) -> None:
    data = resp(line, *headers)
    out = parse_every_way(data, method=method)
    assert out.head is not None and out.ended
    assert out.body == b"" and out.trailing_data == b""
    assert out.keep_alive
    assert out.kinds == ["head", "end"]
    # Whatever follows belongs to the next response, not to this one.
    out2 = parse_every_way(data + b"HTTP/1.1 200 OK\r\n", method=method)
    assert out2.body == b"" and out2.trailing_data == b"HTTP/1.1 200 OK\r\n"


def test_2xx_to_connect_has_no_body_and_becomes_a_tunnel() -> None:
    out = parse_every_way(
        resp(b"HTTP/1.1 200 Connection established", body=b"\x16\x03\x01"), method="CONNECT"
    )
    assert out.head is not None and out.head.status == 200 and out.ended
    assert out.body == b"" and out.trailing_data == b"\x16\x03\x01"
    assert not out.keep_alive


def test_non_2xx_to_connect_has_a_body() -> None:
    out = parse_every_way(
        resp(b"HTTP/1.1 407 Proxy Authentication Required", b"Content-Length: 4", body=b"deny"),
        method="CONNECT",
    )
    assert out.body == b"deny" and out.ended and out.keep_alive


@pytest.mark.parametrize("length", [0, 1, 10, 1000, 70000])
def test_content_length_body(length: int) -> None:
    body = bytes(range(256)) * (length // 256) + bytes(length % 256)
    out = parse_every_way(resp(b"HTTP/1.1 200 OK", b"Content-Length: %d" % length, body=body))
    assert out.body == body and out.ended and out.keep_alive
    assert out.kinds == (["head", "data", "end"] if length else ["head", "end"])


CONTENT_LENGTH_OK = [
    ([b"Content-Length: 5", b"Content-Length: 5"], 5),  # equal duplicates are one value
    ([b"Content-Length: 5, 5"], 5),
    ([b"Content-Length: 5,5", b"content-length: 5"], 5),
    ([b"Content-Length:  5 "], 5),
    ([b"Content-Length: 0005"], 5),
]


@pytest.mark.parametrize(("headers", "length"), CONTENT_LENGTH_OK)
def test_content_length_forms_accepted(headers: list[bytes], length: int) -> None:
    out = parse_every_way(resp(b"HTTP/1.1 200 OK", *headers, body=b"x" * length + b"extra"))
    assert out.body == b"x" * length and out.trailing_data == b"extra"


CONTENT_LENGTH_BAD = [
    ([b"Content-Length: 5", b"Content-Length: 6"], "conflicting Content-Length"),
    ([b"Content-Length: 5, 6"], "conflicting Content-Length"),
    ([b"Content-Length: 5", b"Content-Length: 5, 7"], "conflicting Content-Length"),
    ([b"Content-Length: -1"], "invalid Content-Length"),
    ([b"Content-Length: +5"], "invalid Content-Length"),
    ([b"Content-Length: 0x10"], "invalid Content-Length"),
    ([b"Content-Length: 5.0"], "invalid Content-Length"),
    ([b"Content-Length: five"], "invalid Content-Length"),
    ([b"Content-Length:"], "invalid Content-Length"),
    ([b"Content-Length: 1 2"], "invalid Content-Length"),
    ([b"Content-Length: \xb9"], "invalid Content-Length"),  # superscript one is no digit here
    ([b"Content-Length: 99999999999999999999999"], "invalid Content-Length"),
]


@pytest.mark.parametrize(("headers", "needle"), CONTENT_LENGTH_BAD)
def test_content_length_refused(headers: list[bytes], needle: str) -> None:
    refused(resp(b"HTTP/1.1 200 OK", *headers, body=b"hello"), needle)


CHUNKED = [
    # (raw chunked body, decoded body, trailers)
    (b"0\r\n\r\n", b"", []),
    (b"5\r\nhello\r\n0\r\n\r\n", b"hello", []),
    (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world", []),
    (b"a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n", b"0123456789abcdefghij", []),
    (b"00005\r\nhello\r\n000\r\n\r\n", b"hello", []),
    # chunk extensions (RFC 9112 7.1.1) are ignored
    (b"5;name=value\r\nhello\r\n0;last\r\n\r\n", b"hello", []),
    (b'5 ; a="quoted;string" ; b\r\nhello\r\n0\r\n\r\n', b"hello", []),
    (b"5\t;x\r\nhello\r\n0\r\n\r\n", b"hello", []),
    # trailers
    (b"5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n", b"hello", [("X-Checksum", "abc")]),
    (b"0\r\nA: 1\r\nB: 2\r\n\r\n", b"", [("A", "1"), ("B", "2")]),
    (b"0\r\nA: 1\r\n  folded\r\n\r\n", b"", [("A", "1 folded")]),
    # bare LF line endings, tolerated
    (b"5\nhello\n0\n\n", b"hello", []),
    # body bytes that look like framing are just data
    (b"7\r\n0\r\n\r\n\r\n\r\n0\r\n\r\n", b"0\r\n\r\n\r\n", []),
]


@pytest.mark.parametrize(("raw", "body", "trailers"), CHUNKED)
def test_chunked_body(raw: bytes, body: bytes, trailers: list[tuple[str, str]]) -> None:
    out = parse_every_way(resp(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=raw))
    assert out.body == body and out.ended and out.trailers == trailers
    assert out.keep_alive and out.trailing_data == b""


@pytest.mark.parametrize(
    "te",
    [b"Transfer-Encoding: chunked", b"Transfer-Encoding: CHUNKED", b"Transfer-Encoding: identity, chunked"],
)
def test_chunked_spellings(te: bytes) -> None:
    out = parse_every_way(resp(b"HTTP/1.1 200 OK", te, body=b"3\r\nabc\r\n0\r\n\r\n"))
    assert out.body == b"abc" and out.ended


CHUNKED_BAD = [
    (b"x\r\nhello\r\n0\r\n\r\n", "chunk size"),
    (b"-5\r\nhello\r\n0\r\n\r\n", "chunk size"),
    (b"0x5\r\nhello\r\n0\r\n\r\n", "chunk size"),
    (b"\r\nhello\r\n0\r\n\r\n", "chunk size"),
    (b"5 5\r\nhello\r\n0\r\n\r\n", "chunk size"),
    (b"5\rx\nhello\r\n0\r\n\r\n", "chunk size"),
    (b"12345678901234567\r\n", "chunk size"),  # 17 hex digits: more than 64 bits
    (b"3\r\nhello\r\n0\r\n\r\n", "CRLF"),  # size smaller than the data
    (b"5\r\nhelloXX0\r\n\r\n", "CRLF"),
    (b"5\r\nhello\rX0\r\n\r\n", "CRLF"),
    (b"0\r\nbad trailer\r\n\r\n", "trailer"),
    (b"0\r\nX : y\r\n\r\n", "trailer"),
]


@pytest.mark.parametrize(("raw", "needle"), CHUNKED_BAD)
def test_chunked_body_refused(raw: bytes, needle: str) -> None:
    refused(resp(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=raw), needle)


TRANSFER_ENCODING_BAD = [
    (b"Transfer-Encoding: gzip, chunked", "transfer coding"),
    (b"Transfer-Encoding: chunked, chunked", "chunked more than once"),
]


@pytest.mark.parametrize(("te", "needle"), TRANSFER_ENCODING_BAD)
def test_transfer_encoding_refused(te: bytes, needle: str) -> None:
    refused(resp(b"HTTP/1.1 200 OK", te, body=b"0\r\n\r\n"), needle)


def test_transfer_encoding_not_ending_in_chunked_reads_until_close() -> None:
    out = parse_every_way(resp(b"HTTP/1.1 200 OK", b"Transfer-Encoding: gzip", body=b"abc"), eof=True)
    assert out.body == b"abc" and out.ended and not out.keep_alive


@pytest.mark.parametrize(
    "headers",
    [
        [b"Transfer-Encoding: chunked", b"Content-Length: 3"],
        [b"Content-Length: 3", b"Transfer-Encoding: chunked"],
        [b"Content-Length: 100", b"Transfer-Encoding: chunked"],
        [b"Content-Length: nonsense", b"Transfer-Encoding: chunked"],
    ],
)
def test_transfer_encoding_and_content_length_chunked_wins_and_no_reuse(headers: list[bytes]) -> None:
    out = parse_every_way(resp(b"HTTP/1.1 200 OK", *headers, body=b"5\r\nhello\r\n0\r\n\r\n"))
    assert out.body == b"hello" and out.ended
    assert out.head is not None and not out.head.keep_alive
    assert not out.keep_alive


def test_chunked_in_http_1_0_is_not_kept_alive() -> None:
    out = parse_every_way(
        resp(b"HTTP/1.0 200 OK", b"Connection: keep-alive", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n")
    )
    assert out.ended and not out.keep_alive


@pytest.mark.parametrize("version", [b"1.0", b"1.1"])
def test_no_framing_reads_until_close(version: bytes) -> None:
    body = b"everything until the peer closes\r\n\r\nHTTP/1.1 200 OK\r\n"
    out = parse_every_way(
        resp(b"HTTP/" + version + b" 200 OK", b"Connection: keep-alive", body=body), eof=True
    )
    assert out.body == body and out.ended and not out.keep_alive
    assert out.trailing_data == b""


def test_read_until_close_is_not_ended_without_eof() -> None:
    out = parse_every_way(resp(b"HTTP/1.1 200 OK", body=b"abc"))
    assert out.body == b"abc" and not out.ended


# -- keep-alive ----------------------------------------------------------------------------------

KEEP_ALIVE = [
    (b"1.1", [], True),
    (b"1.1", [b"Connection: close"], False),
    (b"1.1", [b"Connection: Close"], False),
    (b"1.1", [b"Connection: keep-alive"], True),
    (b"1.1", [b"Connection: upgrade, close"], False),
    (b"1.1", [b"Connection: x-foo", b"Connection: close"], False),
    (b"1.1", [b"Connection: closed"], True),  # a token, not a substring
    (b"1.1", [b"X-Connection: close"], True),
    (b"1.0", [], False),
    (b"1.0", [b"Connection: keep-alive"], True),
    (b"1.0", [b"Connection: Keep-Alive"], True),
    (b"1.0", [b"Connection: keep-alive, close"], False),
    (b"1.0", [b"Connection: x, keep-alive"], True),
    (b"1.0", [b"Keep-Alive: timeout=5"], False),
]


@pytest.mark.parametrize(("version", "headers", "keep_alive"), KEEP_ALIVE)
def test_keep_alive_decision(version: bytes, headers: list[bytes], keep_alive: bool) -> None:
    out = parse_every_way(resp(b"HTTP/" + version + b" 200 OK", b"Content-Length: 2", *headers, body=b"ok"))
    assert out.head is not None and out.head.keep_alive is keep_alive
    assert out.keep_alive is keep_alive


# -- the end of the message and what follows -------------------------------------------------------


def test_trailing_data_after_content_length_body() -> None:
    out = parse_every_way(resp(b"HTTP/1.1 200 OK", b"Content-Length: 2", body=b"okHTTP/1.1 200 OK\r\n\r\n"))
    assert out.body == b"ok" and out.trailing_data == b"HTTP/1.1 200 OK\r\n\r\n"


def test_trailing_data_after_chunked_body() -> None:
    out = parse_every_way(
        resp(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=b"2\r\nok\r\n0\r\n\r\nleftover")
    )
    assert out.body == b"ok" and out.trailing_data == b"leftover"


def test_feed_after_end_keeps_bytes_in_trailing_data() -> None:
    from netwire.http.http11 import ResponseParser

    p = ResponseParser()
    p.feed(resp(b"HTTP/1.1 200 OK", b"Content-Length: 0"))
    assert p.done
    assert p.feed(b"abc") == [] and p.feed(b"def") == []
    assert p.trailing_data == b"abcdef"
    assert p.feed_eof() == []


# -- feed_eof ------------------------------------------------------------------------------------

INCOMPLETE = [
    # (bytes before the close, what the message says)
    (b"", "without sending a response"),
    (b"HTTP/1.1 200 OK\r\nContent-Le", "response head"),
    (b"HTTP/1.1 100 Continue\r\n\r\n", "response head"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "5 of 10"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "0 of 10"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "chunked"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "chunked"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello", "chunked"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n", "chunked"),
]


@pytest.mark.parametrize(("data", "needle"), INCOMPLETE)
def test_feed_eof_on_a_cut_short_response_raises_incomplete(data: bytes, needle: str) -> None:
    refused(data, needle, eof=True, kind=IncompleteResponse)


def test_incomplete_response_reports_received_and_expected() -> None:
    with pytest.raises(IncompleteResponse) as info:
        parse_every_way(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", eof=True)
    assert (info.value.received, info.value.expected) == (5, 10)


def test_feed_eof_completes_read_until_close_with_empty_body() -> None:
    out = parse_every_way(resp(b"HTTP/1.1 200 OK"), eof=True)
    assert out.body == b"" and out.ended and out.kinds == ["head", "end"]


# -- direct body reads -----------------------------------------------------------------------------


def test_direct_body_reads_bypass_feed() -> None:
    from netwire.http.http11 import EndOfMessage, ResponseHead, ResponseParser

    p = ResponseParser()
    events = p.feed(resp(b"HTTP/1.1 200 OK", b"Content-Length: 10", body=b"abc"))
    assert isinstance(events[0], ResponseHead)
    assert p.direct_body_remaining == 7
    assert p.direct_body_consumed(3) is None
    assert p.direct_body_remaining == 4
    # feed and direct reads can be mixed
    events = p.feed(b"d")
    assert [e.data for e in events] == [b"d"]  # type: ignore[union-attr]
    assert p.direct_body_remaining == 3
    with pytest.raises(ValueError):
        p.direct_body_consumed(4)
    end = p.direct_body_consumed(3)
    assert isinstance(end, EndOfMessage)
    assert p.done and p.direct_body_remaining == 0
    with pytest.raises(ValueError):
        p.direct_body_consumed(1)


@pytest.mark.parametrize(
    ("data", "method"),
    [
        (resp(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked"), "GET"),
        (resp(b"HTTP/1.1 200 OK"), "GET"),
        (resp(b"HTTP/1.1 200 OK", b"Content-Length: 10"), "HEAD"),
        (resp(b"HTTP/1.1 200 OK", b"Content-Length: 0"), "GET"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n", "GET"),  # head not complete yet
    ],
)
def test_no_direct_body_outside_a_content_length_body(data: bytes, method: str) -> None:
    from netwire.http.http11 import ResponseParser

    p = ResponseParser(method)
    p.feed(data)
    assert p.direct_body_remaining == 0
    with pytest.raises(ValueError):
        p.direct_body_consumed(1)


def test_direct_body_remaining_never_claims_buffered_bytes() -> None:
    from netwire.http.http11 import ResponseParser

    # The head arrives split inside the CRLFCRLF: nothing must stay buffered once the head is parsed.
    p = ResponseParser()
    p.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r")
    assert p.direct_body_remaining == 0
    p.feed(b"\nab")
    assert p.direct_body_remaining == 2


# -- issue 15: leniencies http.client has -----------------------------------------------------


def test_last_chunk_then_close_without_final_crlf_completes_but_is_not_reused() -> None:
    # "0\r\n" then EOF: every body byte arrived; only the blank line ending the trailer section
    # is missing. The body is complete, and the connection must not go back to a pool.
    data = resp(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\n")
    out = parse_every_way(data, eof=True)
    assert out.body == b"hello" and out.ended
    assert out.trailers == [] and out.keep_alive is False
    # Without the close it is simply not finished yet.
    assert not parse_every_way(data).ended


def test_last_chunk_with_cut_trailers_stays_incomplete() -> None:
    data = resp(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=b"0\r\nX-Trailer: y")
    refused(data, "chunked", eof=True, kind=IncompleteResponse)


def test_http09_status_line_read_as_1_0_when_asked() -> None:
    lenient = ParserLimits(http09_status_as_10=True)
    out = parse_every_way(resp(b"HTTP/0.9 200 OK", b"Content-Length: 2", body=b"hi"), limits=lenient)
    assert out.head is not None
    assert (out.head.status, out.head.reason, out.head.http_version) == (200, "OK", "1.0")
    assert out.body == b"hi" and out.keep_alive is False  # 1.0 without keep-alive
    # Only 0.9: other versions stay refused with the option on.
    refused(resp(b"HTTP/2.0 200 OK", b"Content-Length: 0"), "version", limits=lenient)
    refused(resp(b"HTTP/0.8 200 OK", b"Content-Length: 0"), "version", limits=lenient)


def test_nothing_received_marks_the_incomplete_response() -> None:
    with pytest.raises(IncompleteResponse) as info:
        ResponseParser("GET").feed_eof()
    assert info.value.nothing_received is True
    parser = ResponseParser("GET")
    parser.feed(b"HTTP/1.1 200")
    with pytest.raises(IncompleteResponse) as info:
        parser.feed_eof()
    assert info.value.nothing_received is False
