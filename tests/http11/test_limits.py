"""Every ParserLimits bound: at the limit is fine, one past it is a ProtocolError naming it."""

from __future__ import annotations

import pytest

from netwire.errors import ProtocolError
from netwire.http.http11 import DEFAULT_LIMITS, ParserLimits, ResponseParser
from tests.http11.feeding import parse_every_way, refused


def head_with(*lines: bytes, status_line: bytes = b"HTTP/1.1 200 OK") -> bytes:
    return status_line + b"\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n"


def chunked(*lines: bytes, body: bytes = b"") -> bytes:
    return head_with(b"Transfer-Encoding: chunked", *lines) + body


def test_defaults_are_named_and_sane() -> None:
    d = DEFAULT_LIMITS
    assert d == ParserLimits()
    assert d.max_line_length >= 8 * 1024
    assert d.max_header_bytes >= d.max_line_length
    assert 100 <= d.max_header_count <= 10_000
    assert d.max_chunk_line_length >= 256
    assert 1 <= d.max_informational <= 1000


# -- max_line_length --------------------------------------------------------------------------------

LIMITS = ParserLimits(max_line_length=100)


@pytest.mark.parametrize("ending", [b"\r\n", b"\n"])
def test_status_line_at_max_line_length(ending: bytes) -> None:
    line = b"HTTP/1.1 200 " + b"r" * 87
    assert len(line) == 100
    out = parse_every_way(line + ending + b"Content-Length: 0" + ending + ending, limits=LIMITS)
    assert out.head is not None and out.head.reason == "r" * 87


def test_status_line_over_max_line_length() -> None:
    line = b"HTTP/1.1 200 " + b"r" * 88
    refused(line + b"\r\nContent-Length: 0\r\n\r\n", "max_line_length=100", limits=LIMITS)


def test_status_line_without_end_is_refused_once_over_the_limit() -> None:
    # A peer sending an endless status line: refused after max_line_length bytes, not buffered forever.
    p = ResponseParser(limits=LIMITS)
    p.feed(b"HTTP/1.1 200 ")
    with pytest.raises(ProtocolError, match="max_line_length=100"):
        for _ in range(1000):
            p.feed(b"r")


def test_header_line_at_max_line_length() -> None:
    line = b"X-Long: " + b"v" * 92
    assert len(line) == 100
    out = parse_every_way(head_with(line, b"Content-Length: 0"), limits=LIMITS)
    assert out.head is not None and out.head.headers[0] == ("X-Long", "v" * 92)


def test_header_line_over_max_line_length() -> None:
    refused(head_with(b"X-Long: " + b"v" * 93, b"Content-Length: 0"), "max_line_length=100", limits=LIMITS)


def test_trailer_line_over_max_line_length() -> None:
    refused(chunked(body=b"0\r\nX-T: " + b"t" * 200 + b"\r\n\r\n"), "max_line_length=100", limits=LIMITS)


def test_default_max_line_length() -> None:
    n = DEFAULT_LIMITS.max_line_length
    ok = head_with(b"X: " + b"v" * (n - 3), b"Content-Length: 0")
    assert parse_every_way(ok).ended
    refused(head_with(b"X: " + b"v" * (n - 2), b"Content-Length: 0"), f"max_line_length={n}")


# -- max_header_bytes --------------------------------------------------------------------------------


def test_head_at_max_header_bytes() -> None:
    base = head_with(b"Content-Length: 0", b"X: ")
    filler = 1000 - len(base)
    data = head_with(b"Content-Length: 0", b"X: " + b"f" * filler)
    assert len(data) == 1000
    assert parse_every_way(data, limits=ParserLimits(max_header_bytes=1000)).ended
    refused(data, "max_header_bytes=999", limits=ParserLimits(max_header_bytes=999))


def test_head_over_max_header_bytes_in_many_short_lines() -> None:
    lines = [b"X-%d: value" % i for i in range(200)]
    refused(head_with(*lines), "max_header_bytes=1024", limits=ParserLimits(max_header_bytes=1024))


def test_endless_header_section_is_refused_once_over_the_limit() -> None:
    p = ResponseParser(limits=ParserLimits(max_header_bytes=10_000))
    p.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ProtocolError, match="max_header_bytes=10000"):
        for i in range(10_000):
            p.feed(b"X-%d: v\r\n" % i)


def test_trailers_over_max_header_bytes() -> None:
    trailers = b"".join(b"T-%d: value\r\n" % i for i in range(100))
    refused(
        chunked(body=b"0\r\n" + trailers + b"\r\n"),
        "max_header_bytes=512",
        limits=ParserLimits(max_header_bytes=512),
    )


def test_default_max_header_bytes() -> None:
    n = DEFAULT_LIMITS.max_header_bytes
    lines = [b"X-%06d: " % i + b"v" * 1000 for i in range(n // 1000 + 2)]
    refused(head_with(*lines), f"max_header_bytes={n}", limits=ParserLimits(max_header_count=10**6))


# -- max_header_count --------------------------------------------------------------------------------


def test_header_count_at_limit() -> None:
    lines = [b"Content-Length: 0"] + [b"X-%d: v" % i for i in range(9)]
    out = parse_every_way(head_with(*lines), limits=ParserLimits(max_header_count=10))
    assert out.head is not None and len(out.head.headers) == 10


def test_header_count_over_limit() -> None:
    lines = [b"Content-Length: 0"] + [b"X-%d: v" % i for i in range(10)]
    refused(head_with(*lines), "max_header_count=10", limits=ParserLimits(max_header_count=10))


def test_trailer_count_over_limit() -> None:
    trailers = b"".join(b"T-%d: v\r\n" % i for i in range(5))
    limits = ParserLimits(max_header_count=4)
    refused(chunked(body=b"0\r\n" + trailers + b"\r\n"), "max_header_count=4", limits=limits)
    ok = b"".join(b"T-%d: v\r\n" % i for i in range(4))
    assert len(parse_every_way(chunked(body=b"0\r\n" + ok + b"\r\n"), limits=limits).trailers) == 4


def test_default_max_header_count() -> None:
    n = DEFAULT_LIMITS.max_header_count
    lines = [b"X-%d: v" % i for i in range(n + 1)]
    refused(head_with(*lines), f"max_header_count={n}")


# -- max_chunk_line_length ------------------------------------------------------------------------


def test_chunk_line_at_limit() -> None:
    line = b"5;" + b"e" * 30
    assert len(line) == 32
    out = parse_every_way(
        chunked(body=line + b"\r\nhello\r\n0\r\n\r\n"), limits=ParserLimits(max_chunk_line_length=32)
    )
    assert out.body == b"hello"


def test_chunk_line_over_limit() -> None:
    line = b"5;" + b"e" * 31
    refused(
        chunked(body=line + b"\r\nhello\r\n0\r\n\r\n"),
        "max_chunk_line_length=32",
        limits=ParserLimits(max_chunk_line_length=32),
    )


def test_endless_chunk_extension_is_refused_once_over_the_limit() -> None:
    p = ResponseParser(limits=ParserLimits(max_chunk_line_length=64))
    p.feed(chunked(body=b"5;"))
    with pytest.raises(ProtocolError, match="max_chunk_line_length=64"):
        for _ in range(1000):
            p.feed(b"x")


def test_endless_leading_zeros_are_refused() -> None:
    refused(chunked(body=b"0" * 5000 + b"5\r\nhello\r\n0\r\n\r\n"), "max_chunk_line_length|chunk size")


def test_default_max_chunk_line_length() -> None:
    n = DEFAULT_LIMITS.max_chunk_line_length
    refused(chunked(body=b"1;" + b"x" * n + b"\r\na\r\n0\r\n\r\n"), f"max_chunk_line_length={n}")


# -- the limits are per section, not cumulative ------------------------------------------------------


def test_limits_apply_to_each_interim_response_separately() -> None:
    limits = ParserLimits(max_header_count=3, max_informational=10)
    info = head_with(b"A: 1", b"B: 2", b"C: 3", status_line=b"HTTP/1.1 103 Early Hints")
    data = info * 4 + head_with(b"Content-Length: 0", b"B: 2", b"C: 3")
    out = parse_every_way(data, limits=limits)
    assert len(out.informational) == 4 and out.ended


def test_endless_header_line_is_refused_at_max_line_length() -> None:
    # Not only once the whole section reaches max_header_bytes: the line limit bites as it grows.
    p = ResponseParser(limits=ParserLimits(max_line_length=100, max_header_bytes=100_000))
    p.feed(b"HTTP/1.1 200 OK\r\nX-A: short\r\nX-Long: ")
    with pytest.raises(ProtocolError, match="header line exceeds max_line_length=100"):
        for _ in range(1000):
            p.feed(b"l")


def test_endless_trailer_line_is_refused_at_max_line_length() -> None:
    p = ResponseParser(limits=ParserLimits(max_line_length=100, max_header_bytes=100_000))
    p.feed(chunked(body=b"0\r\nX-T: "))
    with pytest.raises(ProtocolError, match="trailer line exceeds max_line_length=100"):
        for _ in range(1000):
            p.feed(b"t")


def test_header_line_at_limit_arriving_slowly_is_fine() -> None:
    line = b"X-Long: " + b"v" * 92
    data = head_with(line, b"Content-Length: 0")
    out = parse_every_way(data, limits=LIMITS)  # bytewise included: CR of CRLF not counted
    assert out.ended
