"""Hypothesis strategies that build *structured* inputs for the fuzz targets.

Coverage-guided fuzzing finds its way into a grammar slowly; these strategies start inside it:
HTTP responses assembled from status lines, framing headers and chunk pieces; URLs from the
characters URL parsers branch on; query strings; robots.txt lines. Each strategy produces the
bytes a target in :mod:`fuzz_targets` takes (control bytes first), so the target's contract is
the same whichever engine drives it.

``python fuzz/run.py TARGET --engine hypothesis --runs N`` runs N examples;
``tests/fuzz_smoke`` runs a few hundred of each in CI.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

__all__ = ["STRATEGIES"]

_control = st.integers(0, 255).map(lambda b: bytes([b]))

_STATUS = [b"HTTP/1.1 200 OK", b"HTTP/1.0 200 OK", b"HTTP/1.1 204 No Content", b"HTTP/1.1 304 Not Modified",
           b"HTTP/1.1 100 Continue", b"HTTP/1.1 103 Early Hints", b"HTTP/1.1 101 Switching", b"HTTP/1.1 404 ",
           b"HTTP/1.1 999", b"HTTP/2.0 200 OK", b"HTTP/1.1 20 OK", b"http/1.1 200 OK", b"HTTP/1.1 200 OK\x00"]
_FIELDS = [b"Content-Length: 5", b"Content-Length: 0", b"Content-Length: 5, 5", b"Content-Length: 5, 6",
           b"Content-Length: -1", b"Content-Length: 99999999999999999999", b"Transfer-Encoding: chunked",
           b"Transfer-Encoding: gzip, chunked", b"Transfer-Encoding: chunked, gzip", b"Transfer-Encoding: identity",
           b"Connection: close", b"Connection: keep-alive", b"X-A: b", b" folded", b"\tfolded", b"X-A : b", b"X-A:",
           b": empty", b"X-\x00: v", b"X-A: a\rb"]
_EOL = [b"\r\n", b"\n", b"\r"]
_BODY = [b"hello", b"5\r\nhello\r\n0\r\n\r\n", b"0\r\n\r\n", b"5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n", b"3\r\nhello\r\n",
         b"ffffffffffffffff\r\n", b"\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b""]


@st.composite
def _response(draw: st.DrawFn) -> bytes:
    eol = draw(st.sampled_from(_EOL[:2]))
    lines = [draw(st.sampled_from(_STATUS))]
    lines += draw(st.lists(st.sampled_from(_FIELDS), max_size=6))
    head = eol.join(lines) + eol + draw(st.sampled_from(_EOL)) * draw(st.integers(0, 1)) + eol
    body = b"".join(draw(st.lists(st.sampled_from(_BODY), max_size=3)))
    tail = draw(st.binary(max_size=16))
    return draw(_control) + draw(_control) + head + body + tail


@st.composite
def _chunked(draw: st.DrawFn) -> bytes:
    pieces = []
    for _ in range(draw(st.integers(0, 5))):
        data = draw(st.binary(max_size=20))
        size = draw(st.sampled_from([b"%x" % len(data), b"%X" % len(data), b"%x" % (len(data) + 1), b"0%x" % len(data),
                                     b" %x" % len(data), b"%x " % len(data), b"%x;ext" % len(data), b"+%x" % len(data)]))
        eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
        pieces.append(size + eol + data + draw(st.sampled_from([b"\r\n", b"\r\n", b"\n", b"", b"\r"])))
    pieces.append(b"0" + draw(st.sampled_from([b"\r\n", b"\n"])))
    pieces.append(draw(st.sampled_from([b"", b"T: v\r\n", b"bad trailer\r\n"])) + b"\r\n")
    ctrl = draw(st.integers(0, 255)) & ~1  # even: parse, not the round trip
    return bytes([ctrl]) + draw(_control) + b"".join(pieces) + draw(st.binary(max_size=8))


_URL_ALPHABET = st.sampled_from([
    *"abcAB019:/?#[]@%.\\-_~!$&'()*+,;= \t\n|^`{}<>\"",
    # escapes, dot segments, IDNA and its mappings (fullwidth full stop, ligature), hosts
    "%2e", "%2E", "%00", "%41", "::", "..", "xn--", "é", "ß", "\ufb00", "\uff0e", "\u200b", "1.2.3.4",
    "0x7f", "255", "4294967296", "[::1]", "[::ffff:1.2.3.4]", "localhost",
])
_SCHEMES = ["http://", "https://", "HTTP://", "file:", "file:///", "ws://", "ftp://", "foo://", "foo:", "mailto:",
            "data:", "javascript:", "//", "/", "", "http:", "http:/", "https:\\\\"]


@st.composite
def _url_text(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(_SCHEMES)) + "".join(draw(st.lists(_URL_ALPHABET, max_size=24)))


@st.composite
def _url(draw: st.DrawFn) -> bytes:
    return draw(_control) + draw(_url_text()).encode("utf-8", "surrogatepass")


@st.composite
def _parse(draw: st.DrawFn) -> bytes:
    ctrl = draw(st.integers(0, 255))
    text = draw(_url_text())
    if ctrl % 8 == 2:
        text = draw(_url_text()) + "\x00" + text
    elif ctrl % 8 in (3, 5):
        text = "&".join(draw(st.lists(st.sampled_from(["a=1", "a", "=", "b=%zz", "c=%C3%A9", "d=+", "e=a=b", "", ";",
                                                         "k=%", "é=ü"]), max_size=6)))
    return bytes([ctrl]) + text.encode("utf-8", "surrogatepass")


_ROBOT_LINES = [b"User-agent: *", b"User-agent: FooBot", b"user-agent: foobot/1.0", b"User-agent:", b"Disallow: /",
                b"Disallow:", b"Disallow: /a*", b"Disallow: /*.gif$", b"Allow: /a/b", b"Allow: /$", b"Allow: /%7Ea",
                b"Disallow: /\xe3\x83\x84", b"Crawl-delay: 5", b"Crawl-delay: x", b"Request-rate: 1/10",
                b"Sitemap: http://h/s.xml", b"# comment", b"", b"Disallow /x", b"Disalow: /typo", b"\xef\xbb\xbf"]


@st.composite
def _robots(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
        body = eol.join(draw(st.lists(st.sampled_from(_ROBOT_LINES), max_size=10)))
        return bytes([draw(st.integers(0, 127)) * 2 + 1]) + body
    # Generated rules for the reference matcher: chunks of (kind, pattern bytes).
    chunks = draw(st.lists(st.binary(min_size=1, max_size=12), max_size=8))
    return b"\x00" + b"\x00".join(chunks)


@st.composite
def _decoders(draw: st.DrawFn) -> bytes:
    ctrl = draw(st.integers(0, 255))
    data = draw(st.one_of(st.binary(max_size=200), st.sampled_from([b"\x00" * 5000, b"abc" * 2000])))
    return bytes([ctrl]) + draw(_control) + data


@st.composite
def _hpack(draw: st.DrawFn) -> bytes:
    """Header blocks from the hpack package's encoder (indexing, Huffman, size updates), cut."""
    import hpack

    encoder = hpack.Encoder()
    out = bytearray()
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            encoder.header_table_size = draw(st.sampled_from([0, 64, 256, 4096]))
        fields = draw(st.lists(st.tuples(st.sampled_from([b"a", b"date", b"x-y", b":status"]), st.binary(max_size=40))))
        out += encoder.encode(fields, huffman=draw(st.booleans()))
    return bytes([draw(st.integers(0, 255)) | 2]) + bytes(out)


@st.composite
def _h2frames(draw: st.DrawFn) -> bytes:
    """Well-formed HTTP/2 frames of the kinds the reader sees, then maybe noise."""
    from hyperframe.frame import ContinuationFrame, DataFrame, HeadersFrame, PingFrame, WindowUpdateFrame

    out = bytearray()
    for _ in range(draw(st.integers(1, 8))):
        sid = draw(st.sampled_from([1, 3, 5]))
        kind = draw(st.integers(0, 4))
        body = draw(st.binary(max_size=300))
        if kind == 0:
            f: Any = DataFrame(sid, body)
            if draw(st.booleans()):
                f.flags.add("END_STREAM")
        elif kind == 1:
            f = HeadersFrame(sid, body)
            f.flags.add("END_HEADERS")
        elif kind == 2:
            out += HeadersFrame(sid, body).serialize()
            f = ContinuationFrame(sid, body)
            f.flags.add("END_HEADERS")
        elif kind == 3:
            f = PingFrame(0, body[:8].ljust(8, b"p"))
        else:
            f = WindowUpdateFrame(sid, window_increment=len(body) + 1)
        out += f.serialize()
    return bytes([draw(st.integers(0, 255)) & 0xFE]) + bytes(out) + draw(st.binary(max_size=20))


STRATEGIES: dict[str, st.SearchStrategy[bytes]] = {
    "http11": _response(),
    "chunked": _chunked(),
    "decoders": _decoders(),
    "url": _url(),
    "parse": _parse(),
    "robots": _robots(),
    "hpack": _hpack(),
    "h2frames": _h2frames(),
}
