"""Property-based tests of ResponseParser (hypothesis).

1. Any split of a valid response parses to the same events as the whole, and the body comes back
   exactly as it was framed.
2. Any bytes at all (random, after a valid head, or a valid response with bytes changed) make the
   parser return events or raise ProtocolError: never another exception, never a hang.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netwire.errors import ProtocolError
from netwire.http.http11 import ParserLimits, ResponseParser
from tests.http11.feeding import Outcome, _comparable, parse_pieces

# NETWIRE_HYPOTHESIS_EXAMPLES=20000 for a long hunt; the default keeps the suite fast.
EXAMPLES = int(os.environ.get("NETWIRE_HYPOTHESIS_EXAMPLES", "200"))
pytestmark = pytest.mark.timeout(60 * max(1, EXAMPLES // 200))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Reserved names the generator must not produce at random: they would change the framing.
FRAMING = {"content-length", "transfer-encoding", "connection"}

token = st.text(alphabet=TCHAR, min_size=1, max_size=12).filter(lambda s: s.lower() not in FRAMING)
# Field values: visible Latin-1 with inner spaces and tabs, no leading/trailing whitespace
# (the parser strips it, so the round trip is exact).
vchar = st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_categories=["Cc"])
field_value = st.builds(
    lambda a, b: (a + b).strip(" \t"),
    st.text(alphabet=vchar, max_size=10),
    st.text(alphabet=st.one_of(vchar, st.sampled_from(" \t")), max_size=10),
).map(lambda s: s.strip(" \t"))
fields = st.lists(st.tuples(token, field_value), max_size=6)
reason = st.text(alphabet=st.one_of(vchar, st.just(" ")), max_size=20)


@dataclass
class Generated:
    data: bytes
    body: bytes
    method: str
    until_close: bool
    status: int = 200
    framing: str = "length"


def _head(
    version: str, status: int, why: str, hdrs: list[tuple[str, str]], eols: list[str] | None = None
) -> bytes:
    """A head; ``eols`` gives each line's ending (CRLF, or a bare LF the parser tolerates)."""
    lines = [f"HTTP/{version} {status} {why}"] + [f"{n}: {v}" for n, v in hdrs] + [""]
    if eols is None:
        eols = ["\r\n"] * len(lines)
    return "".join(line + eol for line, eol in zip(lines, eols, strict=True)).encode("latin-1")


@st.composite
def responses(
    draw: st.DrawFn, *, crlf_only: bool = False, interim: tuple[int, ...] = (100, 102, 103)
) -> Generated:
    """A valid response: interim 1xx, any framing, mixed line endings unless ``crlf_only``."""

    def _eols(draw: st.DrawFn, n: int) -> list[str]:
        if crlf_only:
            return ["\r\n"] * n
        # Mostly CRLF, sometimes a bare LF: mixed endings are where section-end scanning slips.
        return draw(st.lists(st.sampled_from(["\r\n", "\r\n", "\n"]), min_size=n, max_size=n))

    method = draw(st.sampled_from(["GET", "GET", "POST", "HEAD"]))
    data = b""
    for status in draw(st.lists(st.sampled_from(interim), max_size=3)):
        info_fields = draw(fields)
        data += _head("1.1", status, draw(reason), info_fields, _eols(draw, len(info_fields) + 2))
    version = draw(st.sampled_from(["1.0", "1.1"]))
    status = draw(st.sampled_from([200, 201, 204, 206, 301, 304, 404, 500, 599]))
    hdrs = draw(fields)
    # Bodies that start like line endings test where the head is judged to end.
    body = draw(st.binary(max_size=300))
    if draw(st.integers(0, 3)) == 0:
        body = draw(st.sampled_from([b"\r\n", b"\n", b"\r\n\r\n", b"\n\n", b"\r"])) + body
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    if draw(st.booleans()):
        hdrs.append(("Connection", draw(st.sampled_from(["close", "keep-alive", "Keep-Alive", "upgrade"]))))
    bodyless = method == "HEAD" or status in (204, 304)
    until_close = False
    payload = b""
    if framing == "length":
        hdrs.append(("Content-Length", str(len(body))))
        payload = body
    elif framing == "chunked":
        hdrs.append(("Transfer-Encoding", "chunked"))
        rest = body
        while rest:
            n = draw(st.integers(1, len(rest)))
            ext = draw(st.sampled_from(["", ";a=b", ';q="x;y"', " ;k"]))
            hexed = draw(st.sampled_from(["%x", "%X", "%04x"])) % n
            eol1, eol2 = _eols(draw, 2)
            payload += f"{hexed}{ext}{eol1}".encode() + rest[:n] + eol2.encode()
            rest = rest[n:]
        trailers = draw(fields)
        eols = _eols(draw, len(trailers) + 2)
        payload += f"0{eols[0]}".encode()
        payload += "".join(f"{n}: {v}{eol}" for (n, v), eol in zip(trailers, eols[1:], strict=False)).encode(
            "latin-1"
        )
        payload += eols[-1].encode()
    else:
        payload = body
        until_close = not bodyless
    # Framing headers go anywhere among the others.
    draw(st.randoms()).shuffle(hdrs)
    data += _head(version, status, draw(reason), hdrs, _eols(draw, len(hdrs) + 2))
    if not bodyless:
        data += payload
    return Generated(data, b"" if bodyless else body, method, until_close, status, framing)


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@SETTINGS
@given(responses(), st.lists(st.integers(min_value=0, max_value=10**6), max_size=30))
def test_any_split_of_a_valid_response_gives_the_same_events(gen: Generated, cuts: list[int]) -> None:
    whole = parse_pieces([gen.data], method=gen.method, eof=gen.until_close)
    split = parse_pieces(_cut(gen.data, cuts), method=gen.method, eof=gen.until_close)
    bytewise = parse_pieces(
        [gen.data[i : i + 1] for i in range(len(gen.data))], method=gen.method, eof=gen.until_close
    )
    assert _comparable(split) == _comparable(whole)
    assert _comparable(bytewise) == _comparable(whole)
    assert whole.ended and whole.body == gen.body and whole.trailing_data == b""


@SETTINGS
@given(responses(), st.lists(st.integers(min_value=0, max_value=10**6), max_size=30))
def test_valid_response_split_round_trips_its_headers(gen: Generated, cuts: list[int]) -> None:
    out = parse_pieces(_cut(gen.data, cuts), method=gen.method, eof=gen.until_close)
    assert out.head is not None
    # Re-serialise what was parsed: parsing that again must give the same head.
    again = parse_pieces(
        [_head(out.head.http_version, out.head.status, out.head.reason, out.head.headers)], method="HEAD"
    )
    assert again.head is not None
    assert (again.head.status, again.head.reason, again.head.headers) == (
        out.head.status,
        out.head.reason,
        out.head.headers,
    )


SMALL = ParserLimits(
    max_line_length=64,
    max_header_bytes=256,
    max_header_count=8,
    max_chunk_line_length=16,
    max_informational=3,
)


def _feed_all(pieces: list[bytes], method: str, limits: ParserLimits, eof: bool) -> Outcome | None:
    """Feed the pieces; only ProtocolError may escape (pytest reports anything else as a failure)."""
    try:
        return parse_pieces(pieces, method=method, limits=limits, eof=eof)
    except ProtocolError:
        return None


methods = st.sampled_from(["GET", "HEAD", "CONNECT", "POST"])
limits_st = st.sampled_from([ParserLimits(), SMALL])


@SETTINGS
@given(
    st.binary(max_size=600), st.lists(st.integers(0, 10**6), max_size=20), methods, limits_st, st.booleans()
)
def test_arbitrary_bytes_raise_nothing_but_protocol_error(
    data: bytes, cuts: list[int], method: str, limits: ParserLimits, eof: bool
) -> None:
    _feed_all(_cut(data, cuts), method, limits, eof)


ALPHABET = b"HTP/1.0 23456789:;\r\n\t\x00-abcdefxyzCLTEchunked,"
framing_bytes = st.lists(st.sampled_from(list(ALPHABET)), max_size=400).map(bytes)


@SETTINGS
@given(framing_bytes, st.lists(st.integers(0, 10**6), max_size=20), methods, limits_st, st.booleans())
def test_framing_like_bytes_raise_nothing_but_protocol_error(
    data: bytes, cuts: list[int], method: str, limits: ParserLimits, eof: bool
) -> None:
    # Bytes drawn from the grammar's own alphabet reach deeper into the parser than random ones.
    _feed_all(_cut(b"HTTP/1.1 " + data, cuts), method, limits, eof)


HEADS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 304 Not Modified\r\n\r\n",
]


@SETTINGS
@given(
    st.sampled_from(HEADS),
    st.one_of(st.binary(max_size=400), framing_bytes),
    st.lists(st.integers(0, 10**6), max_size=20),
    methods,
    limits_st,
    st.booleans(),
)
def test_arbitrary_bytes_after_a_valid_head_raise_nothing_but_protocol_error(
    head: bytes, tail: bytes, cuts: list[int], method: str, limits: ParserLimits, eof: bool
) -> None:
    _feed_all(_cut(head + tail, cuts), method, limits, eof)


@SETTINGS
@given(
    responses(),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 255), st.sampled_from(["set", "insert", "delete"])),
        min_size=1,
        max_size=5,
    ),
    st.lists(st.integers(0, 10**6), max_size=20),
    limits_st,
    st.booleans(),
)
def test_mutated_valid_responses_raise_nothing_but_protocol_error(
    gen: Generated, edits: list[tuple[int, int, str]], cuts: list[int], limits: ParserLimits, eof: bool
) -> None:
    data = bytearray(gen.data)
    for pos, byte, op in edits:
        i = pos % (len(data) + 1)
        if op == "insert":
            data[i:i] = bytes([byte])
        elif data and i < len(data):
            if op == "set":
                data[i] = byte
            else:
                del data[i]
    _feed_all(_cut(bytes(data), cuts), gen.method, limits, eof)


def test_feeding_a_large_random_stream_is_fast_and_bounded() -> None:
    # Not a hang: megabytes of garbage are refused early, within the limits, not buffered.
    import random

    rng = random.Random(1)
    for _ in range(20):
        p = ResponseParser()
        blob = b"HTTP/1.1 200 OK\r\nX: " + rng.randbytes(1 << 20)
        with pytest.raises(ProtocolError):
            for i in range(0, len(blob), 4096):
                p.feed(blob[i : i + 4096])
            p.feed_eof()


TIGHT = st.builds(
    ParserLimits,
    max_line_length=st.integers(8, 80),
    max_header_bytes=st.integers(16, 400),
    max_header_count=st.integers(0, 8),
    max_chunk_line_length=st.integers(1, 12),
    max_informational=st.integers(0, 3),
)


@SETTINGS
@given(responses(), st.lists(st.integers(min_value=0, max_value=10**6), max_size=30), TIGHT)
def test_limits_are_judged_the_same_in_every_split(
    gen: Generated, cuts: list[int], limits: ParserLimits
) -> None:
    # Near the limits, whether a response is accepted must not depend on how it was cut up.
    def run(pieces: list[bytes]) -> object:
        try:
            return _comparable(parse_pieces(pieces, method=gen.method, limits=limits, eof=gen.until_close))
        except ProtocolError:
            return ProtocolError

    whole = run([gen.data])
    assert run(_cut(gen.data, cuts)) == whole
    assert run([gen.data[i : i + 1] for i in range(len(gen.data))]) == whole
