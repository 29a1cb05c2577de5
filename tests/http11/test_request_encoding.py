"""The request side: encode_request_head refuses injection; body framing helpers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from netwire.errors import LocalProtocolError, ProtocolError
from netwire.http.http11 import (
    DEFAULT_LIMITS,
    ResponseParser,
    chunked_body,
    content_length_of,
    encode_chunk,
    encode_request_head,
    validate_header,
)

HOST = [("Host", "example.test")]


def test_encodes_request_line_and_headers_in_order() -> None:
    head = encode_request_head(
        "GET", "/path?q=1", [("Host", "example.test"), ("X-B", "2"), ("x-a", "1"), ("X-B", "3")]
    )
    assert head == b"GET /path?q=1 HTTP/1.1\r\nHost: example.test\r\nX-B: 2\r\nx-a: 1\r\nX-B: 3\r\n\r\n"


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/"),
        ("GET", "http://example.test/a?b"),  # absolute-form, for a plain proxy
        ("CONNECT", "example.test:443"),  # authority-form
        ("OPTIONS", "*"),  # asterisk-form
        ("PROPFIND", "/dav/%20x"),
        ("M-SEARCH", "*"),
    ],
)
def test_request_target_forms(method: str, target: str) -> None:
    head = encode_request_head(method, target, HOST)
    assert head.startswith(f"{method} {target} HTTP/1.1\r\n".encode())


def test_latin1_header_value_is_sent_as_latin1() -> None:
    assert b"X: caf\xe9\r\n" in encode_request_head("GET", "/", [*HOST, ("X", "caf\xe9")])


def test_empty_header_value_and_tab_allowed() -> None:
    head = encode_request_head("GET", "/", [*HOST, ("X-Empty", ""), ("X-Tab", "a\tb")])
    assert b"X-Empty: \r\n" in head and b"X-Tab: a\tb\r\n" in head


def test_non_latin1_is_refused_with_a_clear_error() -> None:
    with pytest.raises(LocalProtocolError, match="Latin-1"):
        encode_request_head("GET", "/", [*HOST, ("X", "\u2603")])
    with pytest.raises(LocalProtocolError):
        encode_request_head("GET", "/\u2603", HOST)


INJECTIONS = ["\r", "\n", "\r\n", "\x00", "\r\nX-Injected: 1", "\nX-Injected: 1", "\x00evil"]


@pytest.mark.parametrize("bad", INJECTIONS)
def test_cve_2019_9740_cve_2019_9947_crlf_in_target_refused(bad: str) -> None:
    # urllib let "?a=1 HTTP/1.1\r\nX-Injected: header\r\n" smuggle headers through the URL.
    with pytest.raises(LocalProtocolError, match="target"):
        encode_request_head("GET", "/?a=1" + bad + " HTTP/1.1", HOST)
    with pytest.raises(LocalProtocolError, match="target"):
        encode_request_head("GET", "/" + bad, HOST)


@pytest.mark.parametrize("bad", [" ", "\t", "\x7f", "\x01", "\x1f"])
def test_cve_2019_9740_space_or_control_in_target_refused(bad: str) -> None:
    with pytest.raises(LocalProtocolError, match="target"):
        encode_request_head("GET", "/a" + bad + "b", HOST)


def test_empty_target_refused() -> None:
    with pytest.raises(LocalProtocolError, match="target"):
        encode_request_head("GET", "", HOST)


@pytest.mark.parametrize("bad", [*INJECTIONS, " ", ""])
def test_cve_2020_26116_crlf_in_method_refused(bad: str) -> None:
    # http.client accepted "GET\r\nX: y" as a method before 3.9 (CVE-2020-26116).
    with pytest.raises(LocalProtocolError, match="method"):
        encode_request_head("GET" + bad + "X" if bad else "", "/", HOST)


@pytest.mark.parametrize("bad", [*INJECTIONS, " ", ":", "\t", "(", ""])
def test_cve_2019_18348_crlf_in_header_name_refused(bad: str) -> None:
    name = "X-A" + bad + "B" if bad else ""
    with pytest.raises(LocalProtocolError, match="header name"):
        encode_request_head("GET", "/", [*HOST, (name, "v")])
    with pytest.raises(LocalProtocolError):
        validate_header(name, "v")


@pytest.mark.parametrize("bad", INJECTIONS)
def test_cve_2019_18348_crlf_in_header_value_refused(bad: str) -> None:
    # CVE-2019-18348: CRLF injection through the host part of a URL, i.e. the Host header value.
    with pytest.raises(LocalProtocolError, match="Host"):
        encode_request_head("GET", "/", [("Host", "example.test" + bad + "X-Injected: 1")])
    with pytest.raises(LocalProtocolError, match="X-Other"):
        encode_request_head("GET", "/", [*HOST, ("X-Other", "a" + bad + "b")])
    with pytest.raises(LocalProtocolError):
        validate_header("X-Other", "a" + bad)


def test_local_protocol_error_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        encode_request_head("GET", "/\n", HOST)


def test_validate_header_accepts_ordinary_fields() -> None:
    validate_header("Content-Type", "text/plain; charset=utf-8")
    validate_header("X-Empty", "")
    validate_header("!#$%&'*+-.^_`|~", "v")


# -- body framing --------------------------------------------------------------------------------


def _dechunk(raw: bytes) -> tuple[bytes, bool]:
    """Decode ``raw`` with our own parser: it must read back exactly what was framed."""
    p = ResponseParser("GET", DEFAULT_LIMITS)
    body = b""
    ended = False
    for ev in p.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + raw):
        data = getattr(ev, "data", None)
        if data is not None:
            body += data
        ended = ended or type(ev).__name__ == "EndOfMessage"
    return body, ended and p.trailing_data == b""


@pytest.mark.parametrize(
    "data", [b"a", b"hello", b"x" * 255, b"x" * 256, b"\r\n0\r\n\r\n", bytes(range(256)) * 300]
)
def test_encode_chunk(data: bytes) -> None:
    chunk = encode_chunk(data)
    size, _, rest = chunk.partition(b"\r\n")
    assert int(size, 16) == len(data)
    assert rest == data + b"\r\n"


def test_encode_chunk_of_nothing_is_nothing_not_the_last_chunk() -> None:
    assert encode_chunk(b"") == b""


def test_chunked_body_round_trips_and_skips_empty_pieces() -> None:
    pieces = [b"hello", b"", b" ", b"world" * 1000, b""]
    raw = b"".join(chunked_body(pieces))
    assert raw.endswith(b"0\r\n\r\n")
    assert b"\r\n0\r\n" not in raw[: -len(b"0\r\n\r\n")].replace(b"world", b"")
    body, complete = _dechunk(raw)
    assert body == b"".join(pieces) and complete


def test_chunked_body_of_nothing_is_just_the_last_chunk() -> None:
    assert b"".join(chunked_body([])) == b"0\r\n\r\n"
    assert b"".join(chunked_body(iter([b""]))) == b"0\r\n\r\n"


def test_chunked_body_is_lazy() -> None:
    consumed: list[int] = []

    def gen() -> Iterator[bytes]:
        for i in range(3):
            consumed.append(i)
            yield b"x"

    it = iter(chunked_body(gen()))
    next(it)
    assert consumed == [0]


# -- content_length_of ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "length"),
    [(None, 0), (b"", 0), (b"abc", 3), (bytearray(b"abcd"), 4), (memoryview(b"abcde"), 5)],
)
def test_content_length_of_bytes_like(body: object, length: int) -> None:
    assert content_length_of(body) == length


def test_content_length_of_multibyte_memoryview_counts_bytes() -> None:
    import array

    assert content_length_of(memoryview(array.array("i", [1, 2, 3]))) == 3 * array.array("i").itemsize


def test_content_length_of_regular_file_from_its_position() -> None:
    with tempfile.TemporaryFile() as f:
        f.write(b"x" * 1000)
        f.seek(0)
        assert content_length_of(f) == 1000
        f.seek(250)
        assert content_length_of(f) == 750
        f.seek(1000)
        assert content_length_of(f) == 0
        f.seek(5000)  # past the end: nothing left to send, never negative
        assert content_length_of(f) == 0


def test_content_length_of_unbuffered_and_text_less_file() -> None:
    fd, path = tempfile.mkstemp()
    try:
        os.write(fd, b"0123456789")
        os.close(fd)
        with open(path, "rb", buffering=0) as raw:
            raw.seek(4)
            assert content_length_of(raw) == 6
    finally:
        os.unlink(path)


def test_content_length_of_pipe_is_unknown() -> None:
    r, w = os.pipe()
    try:
        with os.fdopen(r, "rb") as reader:
            os.write(w, b"data")
            assert content_length_of(reader) is None
    finally:
        os.close(w)


def test_content_length_of_iterators_and_generators_is_unknown() -> None:
    assert content_length_of(iter([b"a", b"b"])) is None
    assert content_length_of(x for x in [b"a"]) is None
    assert content_length_of([b"a", b"b"]) is None


def test_content_length_of_closed_file_is_unknown() -> None:
    with tempfile.TemporaryFile() as f:
        pass
    assert content_length_of(f) is None
