"""The parser's fast path for common response heads must agree with the full parser exactly.

``ResponseParser.feed`` takes a one-pass path when a whole common head is at the start of the
first bytes fed; a ``memoryview`` is never given to it, which lets these tests run the very same
bytes through the full parser and compare: events, header fields, keep-alive, trailing data and,
for bad input, the exception type and message. Heads with an oddity must fall back (the full
parser judges them), and ``Headers`` made lazily from the raw section must answer like the list.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netwire.errors import ProtocolError
from netwire.http.http11 import (
    DEFAULT_LIMITS,
    Data,
    EndOfMessage,
    Event,
    Informational,
    ParserLimits,
    ResponseHead,
    ResponseParser,
)
from netwire.http.models import Headers

EXAMPLES = int(os.environ.get("NETWIRE_HYPOTHESIS_EXAMPLES", "300"))
pytestmark = pytest.mark.timeout(60 * max(1, EXAMPLES // 200))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NGINX_HEAD = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Thu, 03 Dec 2026 13:00:00 GMT\r\n"
    b"Content-Type: application/octet-stream\r\nContent-Length: 128\r\n"
    b"Last-Modified: Thu, 03 Dec 2026 12:00:00 GMT\r\nConnection: keep-alive\r\n"
    b'ETag: "692f9a40-80"\r\nAccept-Ranges: bytes\r\n\r\n'
)


def run(pieces: list[bytes], *, slow: bool, method: str = "GET", limits: ParserLimits = DEFAULT_LIMITS,
        eof: bool = False) -> tuple[list[Any], ResponseParser]:
    """Feed ``pieces``; ``slow`` passes memoryviews, which the fast path never takes."""
    parser = ResponseParser(method, limits)
    events: list[Event] = []
    out: list[Any] = []
    try:
        for piece in pieces:
            events += parser.feed(memoryview(piece) if slow else piece)
        if eof:
            events += parser.feed_eof()
    except ProtocolError as exc:
        out.append(("error", type(exc).__name__, str(exc)))
    for ev in events:
        if isinstance(ev, Data):
            if out and out[-1][0] == "data":
                out[-1] = ("data", out[-1][1] + ev.data)
            else:
                out.append(("data", ev.data))
        elif isinstance(ev, ResponseHead):
            out.append(("head", ev.status, ev.reason, ev.http_version, ev.headers, ev.keep_alive))
        elif isinstance(ev, Informational):
            out.append(("info", ev.status, ev.reason, ev.headers))
        elif isinstance(ev, EndOfMessage):
            out.append(("end", ev.trailers))
    out.append(("state", parser.keep_alive, parser.done, parser.trailing_data, parser.direct_body_remaining))
    return out, parser


def fast_head(data: bytes, method: str = "GET") -> ResponseHead:
    parser = ResponseParser(method)
    heads = [ev for ev in parser.feed(data) if isinstance(ev, ResponseHead)]
    assert heads
    return heads[0]


# -- generated heads, valid and odd ------------------------------------------------------------

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
vchar = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_categories=["Cc"])
name = st.one_of(
    st.text(alphabet=TCHAR, min_size=1, max_size=10),
    st.sampled_from(["Content-Length", "content-length", "CONTENT-LENGTH", "Transfer-Encoding",
                     "transfer-encoding", "Connection", "CONNECTION", "Content-Encoding", "Set-Cookie"]),
)
value = st.one_of(
    st.text(alphabet=vchar, max_size=12),
    st.sampled_from(["0", "5", "128", " 7 ", "\t3", "5, 5", "5, 6", "-1", "1e3", "99999999999999999999",
                     "chunked", "gzip, chunked", "chunked, chunked", "identity, chunked", "gzip",
                     "close", "keep-alive", "Keep-Alive", "upgrade, close", ""]),
)
odd_line = st.sampled_from([
    " folded continuation",  # obs-fold
    "\tfolded",
    "Bad Name: x",  # space in the name
    "Name : x",  # space before the colon
    "NoColon",
    ": empty name",
    "X: nul\x00inside",
    "X: cr\rinside",
])


@st.composite
def heads(draw: st.DrawFn) -> tuple[bytes, int]:
    """A response head, usually common, sometimes with oddities; and where it ends."""
    version = draw(st.sampled_from(["1.1", "1.1", "1.0", "1.2", "2.0", "0.9"]))
    status = draw(st.sampled_from([200, 200, 204, 206, 301, 304, 404, 500, 599, 100, 101, 103, 99, 600]))
    reason = draw(st.one_of(st.sampled_from(["OK", "", "Not Found"]), st.text(alphabet=vchar, max_size=15)))
    status_line = f"HTTP/{version} {status}" + draw(st.sampled_from([f" {reason}", "", " "]))
    lines = [status_line]
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 12)) == 0:
            lines.append(draw(odd_line))
        else:
            sep = draw(st.sampled_from([":", ": ", ":  ", ":\t", ": "]))
            lines.append(draw(name) + sep + draw(value) + draw(st.sampled_from(["", "", " ", "\t"])))
    eols = [draw(st.sampled_from(["\r\n"] * 12 + ["\n"])) for _ in range(len(lines) + 1)]
    lead = draw(st.sampled_from([""] * 8 + ["\r\n", "\n"]))
    head = (lead + "".join(line + eol for line, eol in zip([*lines, ""], eols, strict=True))).encode("latin-1")
    return head, len(head)


limits_st = st.sampled_from([
    DEFAULT_LIMITS,
    ParserLimits(max_line_length=40, max_header_bytes=4096, max_header_count=3),
    ParserLimits(max_line_length=4096, max_header_bytes=60, max_header_count=256),
])


@SETTINGS
@given(
    heads(),
    st.binary(max_size=200),
    st.lists(st.integers(0, 10**6), max_size=8),
    st.booleans(),
    st.sampled_from(["GET", "GET", "HEAD", "CONNECT"]),
    limits_st,
    st.booleans(),
)
def test_fast_path_and_full_parser_agree_on_any_head_and_split(
    head: tuple[bytes, int], body: bytes, cuts: list[int], whole_head: bool, method: str,
    limits: ParserLimits, eof: bool,
) -> None:
    data, head_len = head
    data += body
    points = sorted({c % (len(data) + 1) for c in cuts})
    if whole_head:
        # The first piece holds the whole head, so the fast path gets its chance.
        points = sorted({head_len, *(p for p in points if p > head_len)})
    bounds = [0, *points, len(data)]
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    fast, parser = run(pieces, slow=False, method=method, limits=limits, eof=eof)
    slow, _ = run(pieces, slow=True, method=method, limits=limits, eof=eof)
    assert fast == slow
    head_ev = parser.head
    if head_ev is not None and head_ev.raw_fields is not None:
        # A lazily split head: its Headers answer every lookup as the list-built ones do.
        lazy = Headers._from_raw(head_ev.raw_fields)
        eager = Headers._from_list(list(head_ev.headers))
        for n in ["content-length", "CONTENT-LENGTH", "connection", "set-cookie", "absent", "x:y", "a\r\nb",
                  *(k.swapcase() for k, _ in head_ev.headers)]:
            assert lazy.get(n) == eager.get(n)
            assert (n in lazy) == (n in eager)
        assert lazy.multi_items() == eager.multi_items() == head_ev.headers


@SETTINGS
@given(st.lists(st.tuples(st.text(alphabet=TCHAR, min_size=1, max_size=6), st.text(alphabet=vchar, max_size=8)),
                max_size=8), st.lists(st.text(alphabet=TCHAR + ":\r\n ", max_size=8), max_size=6))
def test_lazy_headers_answer_like_built_ones(fields: list[tuple[str, str]], names: list[str]) -> None:
    raw = "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields)
    lazy = Headers._from_raw(raw)
    eager = Headers._from_list([(n, v.strip(" \t")) for n, v in fields])
    for n in names + [n for n, _ in fields]:
        assert lazy.get(n) == eager.get(n)
        assert (n in lazy) == (n in eager)
        assert lazy.get_list(n) == eager.get_list(n)
    assert lazy == eager and len(lazy) == len(eager) and list(lazy) == list(eager)


# -- the fast path is taken for common heads ---------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        NGINX_HEAD + b"x" * 128,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length:3\r\n\r\nabcEXTRA",
        # The framing _common_length decides, and the heads it leaves to _frame:
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: \t0 \r\nConnection: upgrade, close\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: \r\n\r\nok",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0000000000000000002\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok, and bytes that are not ours",
    ],
)
def test_common_heads_take_the_fast_path_with_the_same_outcome(data: bytes) -> None:
    fast, parser = run([data], slow=False)
    assert parser.head is not None and parser.head.raw_fields is not None  # fast path taken
    assert fast == run([data], slow=True)[0]


def test_fast_path_keeps_the_body_in_the_first_read_and_finds_framing_directly() -> None:
    parser = ResponseParser()
    events = parser.feed(NGINX_HEAD + b"y" * 100)
    head = events[0]
    assert isinstance(head, ResponseHead) and head.keep_alive and head.raw_fields is not None
    assert [type(e) for e in events] == [ResponseHead, Data]
    assert parser.direct_body_remaining == 28  # the rest may be read straight into a buffer
    assert parser.feed(b"y" * 28)[-1].__class__ is EndOfMessage
    headers = Headers._from_raw(head.raw_fields)
    assert headers["etag"] == '"692f9a40-80"' and headers.get("content-encoding") is None
    assert headers._raw is not None  # lookups so far did not split the section
    assert head.headers[0] == ("Server", "nginx/1.24.0")  # split on first access


def test_lazy_headers_change_like_any_headers() -> None:
    h = Headers._from_raw("\r\nA: 1\r\nB: 2\r\na: 3\r\n")
    assert h["b"] == "2" and h["A"] == "1, 3"  # a repeated name is answered from the index
    h["b"] = "9"
    del h["a"]
    h.add("C", "4")
    assert h.multi_items() == [("b", "9"), ("C", "4")]  # set replaces in place, under the new name
    assert h.get("A") is None and h.copy() == h


# -- oddities fall back to the full parser -----------------------------------------------------

ODDITIES = {
    "obs-fold": b"HTTP/1.1 200 OK\r\nX: a\r\n  b\r\nContent-Length: 0\r\n\r\n",
    "duplicate content-length, same": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
    "duplicate content-length, conflicting": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\nok",
    "content-length of a Latin-1 digit": b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\nok",
    "content-length of 20 digits": b"HTTP/1.1 200 OK\r\nContent-Length: 00000000000000000002\r\n\r\nok",
    "content-length list": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok",
    "content-length and chunked": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two transfer-encodings": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two connection fields": b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    "bare LF line": b"HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok",
    "bare LF blank line": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok\r\n\r\n",
    "space before colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    "NUL in value": b"HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 0\r\n\r\n",
    "CR in reason": b"HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n",
    # _FAST_HEAD lets LF and NUL through in values and the reason; _fast_head's checks refuse them.
    "bare LF in value": b"HTTP/1.1 200 OK\r\nX: a\nb\r\nContent-Length: 0\r\n\r\n",
    "bare LF in last value": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: a\nb: c\r\n\r\n",
    "NUL in last value": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: a\x00\r\n\r\n",
    "LF in reason": b"HTTP/1.1 200 O\nK\r\nContent-Length: 0\r\n\r\n",
    "NUL in reason": b"HTTP/1.1 200 O\x00K\r\nContent-Length: 0\r\n\r\n",
    "interim 100": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "101 upgrade": b"HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\nrest",
    "HTTP/1.2": b"HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
    "HTTP/2.0": b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    "status 099": b"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
    "leading blank line": b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "head cut short": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n",
    "not http": b"SSH-2.0-OpenSSH\r\n\r\n",
}


@pytest.mark.parametrize("data", ODDITIES.values(), ids=ODDITIES.keys())
def test_oddities_fall_back_to_the_full_parser(data: bytes) -> None:
    fast, parser = run([data], slow=False, eof=True)
    assert parser.head is None or parser.head.raw_fields is None  # the fast path declined
    assert fast == run([data], slow=True, eof=True)[0]


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (ParserLimits(max_line_length=30), "exceeds max_line_length=30"),
        (ParserLimits(max_header_count=2), "more than max_header_count=2"),
        (ParserLimits(max_header_bytes=50), "exceeds max_header_bytes=50"),
    ],
)
def test_limits_hold_on_heads_the_fast_path_would_take(limits: ParserLimits, message: str) -> None:
    data = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nCCCCCCCCCCCCCCC: 33333333333333333\r\nContent-Length: 0\r\n\r\n"
    assert fast_head(data).raw_fields is not None  # common under the default limits
    fast, _ = run([data], slow=False, limits=limits)
    assert fast[0][0] == "error" and message in fast[0][2]
    assert fast == run([data], slow=True, limits=limits)[0]


@pytest.mark.parametrize(
    ("raw", "lacks"),
    [
        ("\r\nContent-Length: 2\r\n", True),
        ("\r\nSet-Cookie: a=1\r\n", False),
        ("\r\nset-cookie2: a=1\r\n", False),
        ("\r\nX-Note: no set-cookie here\r\n", True),  # a value, not a field name
    ],
)
def test_surely_lacks_answers_from_the_raw_section_only(raw: str, lacks: bool) -> None:
    # The client's hot path asks it "no Set-Cookie?" and "no Content-Encoding?" (flow.py).
    headers = Headers._from_raw(raw)
    assert headers._surely_lacks("\r\nset-cookie") is lacks
    headers["X-Added"] = "1"  # split into a list now: the raw text no longer answers
    assert headers._surely_lacks("\r\nset-cookie") is False
    assert Headers({"A": "1"})._surely_lacks("\r\nset-cookie") is False


# -- the whole small response in one read (the client's usual case) ------------------------------


@pytest.mark.parametrize("extra", [b"", b"HTTP/1.1 200 OK\r\n"])
def test_a_whole_small_response_gives_its_events_at_once_and_the_parser_ends(extra: bytes) -> None:
    parser = ResponseParser()
    events = parser.feed(NGINX_HEAD + b"z" * 128 + extra)
    assert [type(e) for e in events] == [ResponseHead, Data, EndOfMessage]
    assert events[1].data == b"z" * 128  # type: ignore[union-attr]
    assert parser.done and parser.keep_alive and parser.direct_body_remaining == 0
    assert parser.trailing_data == extra  # bytes past the body are not ours: the connection is not reused
    assert parser.feed(b"more") == [] and parser.trailing_data == extra + b"more"
    assert run([NGINX_HEAD + b"z" * 128 + extra], slow=False)[0] == run([NGINX_HEAD + b"z" * 128 + extra], slow=True)[0]


@pytest.mark.parametrize(
    "head",
    [
        # Names of every token character, values holding colons, tabs and obs-text: no repeat of
        # the (possessive) fast regex has to give anything back for these to match.
        b"HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09AZaz: a:b:\tc\xff\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 \r\nX:\r\nContent-Length:2\r\n\r\nok",
        b"HTTP/1.1 200 OK: fine\r\nContent-Length: 2\r\nX: \r\n\r\nok",
    ],
)
def test_the_fast_regex_takes_heads_that_look_like_backtracking(head: bytes) -> None:
    fast, parser = run([head], slow=False)
    assert parser.head is not None and parser.head.raw_fields is not None  # fast path taken
    assert fast == run([head], slow=True)[0]


def test_response_head_fields_split_on_first_read_only() -> None:
    parser = ResponseParser()
    head = parser.feed(NGINX_HEAD)[0]
    assert isinstance(head, ResponseHead) and head._headers is None  # nothing split yet
    assert head.headers[3] == ("Content-Length", "128") and head.headers is head.headers
    built = ResponseHead(200, "OK", "1.1", [("A", "1")], True)
    assert built.headers == [("A", "1")] and built == ResponseHead(200, "OK", "1.1", [("A", "1")], True)
