"""netwire's fuzz targets: each takes arbitrary bytes and raises only when it found a bug.

A target's contract is the contract of the code it drives: the HTTP/1.1 response parser may
raise ``ProtocolError`` and nothing else, for any bytes and any way of splitting them; the
content decoders may raise ``DecodingError`` and nothing else; differential targets compare
netwire with an independent implementation and raise :class:`Finding` when they disagree.
An ``AssertionError`` (or any other exception) escaping a target is a finding.

The same functions are driven three ways: by atheris (coverage-guided, ``fuzz/run.py``), by a
small built-in mutator (``fuzz/run.py --engine builtin``, what CI's smoke run uses, so CI needs
no atheris), and by hypothesis (``tests/fuzz_smoke``). Each target has a seed corpus in
``fuzz/corpus/<name>/``.

The first bytes of an input are *control bytes*: they choose the request method, the limits,
the split points, the coding stack..., so the fuzzer explores those choices as it explores
the payload.
"""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import random
import re
import urllib.parse as U
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netwire import parse as N
from netwire._robots import RobotsTxt
from netwire.decoders import Decoder
from netwire.errors import DecodingError, InvalidURL, ProtocolError
from netwire.http.h2_core import _fast_frames
from netwire.http.hpack import Decoder as HPACKDecoder
from netwire.http.hpack import HPACKError
from netwire.http11 import (
    Data,
    EndOfMessage,
    Informational,
    ParserLimits,
    ResponseHead,
    ResponseParser,
    chunked_body,
)
from netwire.robotparser import RobotFileParser
from netwire.url import URL

__all__ = ["CORPUS", "TARGETS", "Finding", "Target"]

CORPUS = Path(__file__).resolve().parent / "corpus"


class Finding(AssertionError):
    """A target's contract was broken: two implementations disagree, or an invariant failed."""


# -- helpers -------------------------------------------------------------------------------------


def _splits(rng: random.Random, data: bytes, how: int) -> list[bytes]:
    """``data`` cut into pieces: whole, byte by byte, or at random points."""
    if how == 0 or not data:
        return [data]
    if how == 1 and len(data) <= 512:
        return [data[i : i + 1] for i in range(len(data))]
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 8)))) if len(data) > 1 else []
    out, prev = [], 0
    for c in [*cuts, len(data)]:
        out.append(data[prev:c])
        prev = c
    return out


SMALL_LIMITS = ParserLimits(
    max_line_length=64, max_header_bytes=256, max_header_count=6, max_chunk_line_length=24, max_informational=3
)

Outcome = tuple[Any, ...]


def _parse_response(pieces: list[bytes], method: str, limits: ParserLimits, eof: bool) -> Outcome:
    """Everything the parser said about a response fed in ``pieces``, or ("error",)."""
    parser = ResponseParser(method, limits)
    events: list[Any] = []
    try:
        for piece in pieces:
            events += parser.feed(piece)
        if eof:
            events += parser.feed_eof()
    except ProtocolError:
        return ("error",)
    interim, head, body, trailers, ends = [], None, [], None, 0
    for ev in events:
        if isinstance(ev, Informational):
            if head is not None:
                raise Finding("an interim response after the final head")
            interim.append((ev.status, ev.reason, ev.headers))
        elif isinstance(ev, ResponseHead):
            if head is not None:
                raise Finding("two final heads for one response")
            head = (ev.status, ev.reason, ev.http_version, ev.headers, ev.keep_alive)
        elif isinstance(ev, Data):
            if head is None or ends:
                raise Finding("body data outside the body")
            body.append(ev.data)
        elif isinstance(ev, EndOfMessage):
            if head is None or ends:
                raise Finding("EndOfMessage before the head, or twice")
            ends += 1
            trailers = ev.trailers
        else:
            raise Finding(f"unknown event {ev!r}")
    if ends and not parser.done:
        raise Finding("EndOfMessage but the parser is not done")
    joined = b"".join(body)
    if head is not None and ends and method == "GET" and head[0] >= 200:
        # A completed Content-Length body has exactly the announced size.
        cls = [v for k, v in head[3] if k.lower() == "content-length"]
        tes = [v for k, v in head[3] if k.lower() == "transfer-encoding"]
        if cls and not tes and head[0] not in (204, 304) and len(joined) != int(cls[0].split(",")[0].strip()):
            raise Finding(f"Content-Length {cls[0]!r} but {len(joined)} body bytes")
    return ("ok", interim, head, joined, trailers, ends, parser.trailing_data if ends else b"")


# -- targets -------------------------------------------------------------------------------------


def http11_response(data: bytes) -> None:
    """The response parser: any bytes, any split; only ProtocolError; split-invariant outcome."""
    if len(data) < 2:
        return
    ctrl, rng_seed, payload = data[0], data[1], data[2:]
    method = ("GET", "HEAD", "CONNECT", "GET")[ctrl & 3]
    limits = SMALL_LIMITS if ctrl & 4 else ParserLimits()
    eof = bool(ctrl & 8)
    rng = random.Random(rng_seed)
    whole = _parse_response([payload], method, limits, eof)
    # A memoryview never takes the parser's fast path for common heads: the full parser must
    # say exactly what the fast path said about the same bytes.
    full = _parse_response([memoryview(payload)], method, limits, eof)  # type: ignore[list-item]
    if whole != full:
        raise Finding(f"fast path and full parser disagree: fast={whole!r} full={full!r}")
    split = _parse_response(_splits(rng, payload, 1 + (ctrl >> 4) % 2), method, limits, eof)
    if whole != split and not _undecided(whole, split):
        raise Finding(f"outcome depends on how the bytes were split: whole={whole!r} split={split!r}")


def _undecided(a: Outcome, b: Outcome) -> bool:
    """One failed while the other has not reached the end of the message: allowed, as more
    bytes (or the end) decide. A line over max_line_length is caught as soon as it is the
    unfinished last line, otherwise when its section is complete."""
    return (a == ("error",) and b[0] == "ok" and not b[5]) or (b == ("error",) and a[0] == "ok" and not a[5])


_CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
_STRICT_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(;[^\r\n]*)?")


def _strict_chunked(body: bytes) -> tuple[bytes, bytes] | None:
    """A strict RFC 9112 7.1 reference decoder: (data, rest) or None if not well-formed.

    Extensions are accepted but not validated, and trailers must be ``name: value`` lines.
    """
    out, pos = [], 0
    while True:
        nl = body.find(b"\r\n", pos)
        if nl < 0:
            return None
        m = _STRICT_SIZE.fullmatch(body, pos, nl)
        if m is None:
            return None
        size = int(m.group(1), 16)
        pos = nl + 2
        if size == 0:
            break
        if len(body) < pos + size + 2 or body[pos + size : pos + size + 2] != b"\r\n":
            return None
        out.append(body[pos : pos + size])
        pos += size + 2
    while True:
        nl = body.find(b"\r\n", pos)
        if nl < 0:
            return None
        line = body[pos:nl]
        pos = nl + 2
        if not line:
            return b"".join(out), body[pos:]
        if re.fullmatch(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[ \t]*[^\r\n\x00]*", line) is None:
            return None


def http11_chunked(data: bytes) -> None:
    """The chunked decoder: split-invariant, agrees with a strict reference where that accepts,
    and round-trips what ``chunked_body`` frames."""
    if len(data) < 2:
        return
    ctrl, rng_seed, payload = data[0], data[1], data[2:]
    rng = random.Random(rng_seed)
    if ctrl & 1:
        # Round trip: the payload cut into chunks, framed by us, parsed by us.
        pieces = _splits(rng, payload, 2)
        wire = _CHUNKED_HEAD + b"".join(chunked_body(pieces))
        got = _parse_response(_splits(rng, wire, 1 + (ctrl >> 1) % 2), "GET", ParserLimits(), False)
        if got[0] != "ok" or got[3] != payload or not got[5]:
            raise Finding(f"chunked_body round trip failed: {got!r}")
        return
    wire = _CHUNKED_HEAD + payload
    whole = _parse_response([wire], "GET", ParserLimits(), True)
    split = _parse_response(_splits(rng, wire, 1 + (ctrl >> 1) % 2), "GET", ParserLimits(), True)
    if whole != split and not _undecided(whole, split):
        raise Finding(f"outcome depends on the split: whole={whole!r} split={split!r}")
    ref = _strict_chunked(payload)
    if ref is not None:
        if whole[0] != "ok":
            raise Finding(f"a well-formed chunked body was refused: {payload[:200]!r}")
        if whole[3] != ref[0] or whole[6] != ref[1]:
            raise Finding(f"chunked body decoded differently: {whole[3][:100]!r} vs {ref[0][:100]!r}")


_STACKS: list[list[str]] = [
    ["gzip"], ["deflate"], ["br"], ["zstd"], ["gzip", "gzip"], ["deflate", "gzip"], ["br", "gzip"], ["gzip", "zstd"],
]


def _compress(coding: str, data: bytes, rng: random.Random) -> bytes:
    if coding == "gzip":
        return gzip.compress(data, compresslevel=rng.choice((1, 6, 9)), mtime=0)
    if coding == "deflate":
        if rng.random() < 0.5:
            return zlib.compress(data)
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # the raw deflate some servers send
        return c.compress(data) + c.flush()
    if coding == "br":
        import brotli  # type: ignore[import-untyped, unused-ignore]

        return bytes(brotli.compress(data))
    import zstandard

    return bytes(zstandard.ZstdCompressor().compress(data))


def decoders(data: bytes) -> None:
    """Content decoders: only DecodingError for any input; exact round trips of real encodings."""
    if len(data) < 2:
        return
    ctrl, rng_seed, payload = data[0], data[1], data[2:]
    rng = random.Random(rng_seed)
    stack = _STACKS[ctrl & 7]
    max_size = 4096 if ctrl & 8 else None
    wire = payload
    roundtrip = bool(ctrl & 16)
    if roundtrip:
        for coding in stack:
            wire = _compress(coding, wire, rng)
        if ctrl & 32 and len(wire) > 4:
            # A truncated stream must be an error, never silently shorter data.
            wire = wire[: rng.randrange(1, len(wire))]
            roundtrip = False
    decoder = Decoder(list(stack), max_size=max_size)
    out = []
    try:
        for piece in _splits(rng, wire, 1 + (ctrl >> 6) % 2):
            out.append(decoder.decode(piece))
        out.append(decoder.flush())
    except DecodingError:
        if roundtrip and (max_size is None or len(payload) <= max_size):
            raise Finding(f"{'+'.join(stack)} round trip of {len(payload)} bytes refused") from None
        return
    got = b"".join(out)
    if max_size is not None and len(got) > max_size:
        raise Finding(f"decoded {len(got)} bytes past max_size={max_size}")
    if roundtrip and got != payload:
        raise Finding(f"{'+'.join(stack)} round trip changed the data")


_BASES = [None, "http://example.com/a/b?q#f", "https://user:pw@[::1]:8080/x/", "file:///C:/dir/", "data:text/plain,x",
          "ws://h/", "foo://host/p", "sc:opaque"]


def _text(payload: bytes) -> str:
    return payload.decode("utf-8", "replace")


def url_vs_ada(data: bytes) -> None:
    """netwire.url.URL against ada-url (a C++ WHATWG implementation): same accept/reject, same href."""
    import ada_url

    if not data:
        return
    ctrl, payload = data[0], data[1:]
    text = _text(payload)
    base = _BASES[ctrl & 7]
    try:
        ours: str | None = URL(text, base).href
    except InvalidURL:
        ours = None
    try:
        theirs: str | None = ada_url.URL(text, base).href
    except ValueError:
        theirs = None
    if ours != theirs:
        raise Finding(f"URL({text!r}, base={base!r}): netwire {ours!r}, ada {theirs!r}")
    if ours is not None:
        # Parsing a serialised URL again gives it back (the standard's idempotence).
        again = URL(ours).href
        if again != ours:
            raise Finding(f"href not stable: {ours!r} -> {again!r}")


def _fixed_release_rejects(netloc: str) -> bool:
    """The bracketed-host rule of the CPython releases fixing CVE-2024-11168 and CVE-2025-0938."""
    if ("[" in netloc) != ("]" in netloc):
        return True
    if "[" not in netloc:
        return False
    hostinfo = netloc.rpartition("@")[2]
    before, bracket, inside = hostinfo.partition("[")
    if bracket:
        if before:
            return True
        host, _, after = inside.partition("]")
        if after and not after.startswith(":"):
            return True
    else:
        host = hostinfo.partition(":")[0]
    if host.startswith("v"):
        return re.fullmatch(r"v[a-fA-F0-9]+\..+", host, re.DOTALL) is None
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv4Address)
    except ValueError:
        return True


def _outcome(fn: Callable[..., Any], *args: Any) -> Outcome:
    try:
        result = fn(*args)
    except Exception as exc:
        return ("raise", type(exc).__name__)
    return ("ok", type(result).__name__, result)


def _raw_netloc(url: Any) -> str | None:
    """The netloc urlsplit would cut out (without validating it), or None."""
    if isinstance(url, bytes | bytearray):
        url = bytes(url).decode("latin-1")
    text = url.lstrip("".join(map(chr, range(0x21)))).replace("\t", "").replace("\r", "").replace("\n", "")
    m = re.match(r"[A-Za-z][A-Za-z0-9+\-.]*:", text)
    if m:
        text = text[m.end() :]
    if not text.startswith("//"):
        return None
    return re.split(r"[/?#]", text[2:], maxsplit=1)[0]


def _excused(ours: Outcome, theirs: Outcome, *urls: Any) -> bool:
    """Whether a difference is the documented one: netwire applies the bracketed-host rule of
    the CPython releases that fixed CVE-2024-11168 and CVE-2025-0938, this urllib an older one."""
    netlocs = [n for n in map(_raw_netloc, urls) if n is not None and ("[" in n or "]" in n)]
    if not netlocs:
        return False
    if ours[0] == "raise":
        return ours[1] == "ValueError" and any(_fixed_release_rejects(n) for n in netlocs)
    return theirs[0] == "raise" and not any(_fixed_release_rejects(n) for n in netlocs)


_URLLIB_HAS_GH67693 = U.urlunsplit(("", "", "//p", "", "")) == "////p"


def _fixed_urlunsplit(components: Any) -> Any:
    """urlunsplit() as the CPython releases fixing gh-67693 define it (3.13.0, 3.12.4, 3.11.10)."""
    scheme, netloc, url, query, fragment, coerce = U._coerce_args(*components)  # type: ignore[attr-defined]
    if netloc:
        url = "//" + netloc + (url if not url or url[:1] == "/" else "/" + url)
    elif url[:2] == "//" or (scheme and scheme in U.uses_netloc and (not url or url[:1] == "/")):
        url = "//" + url
    url = (scheme + ":" if scheme else "") + url
    url += ("?" + query if query else "") + ("#" + fragment if fragment else "")
    return coerce(url)


@contextlib.contextmanager
def _urllib_with_gh67693_fix() -> Iterator[None]:
    """netwire.parse has the gh-67693 security fix on every Python; an older urllib is compared
    with that fix put in for the duration of one comparison (urljoin and urlunparse use it too)."""
    if _URLLIB_HAS_GH67693:
        yield
        return
    saved = U.urlunsplit
    U.urlunsplit = _fixed_urlunsplit
    try:
        yield
    finally:
        U.urlunsplit = saved


def parse_vs_urllib(data: bytes) -> None:
    """netwire.parse against this interpreter's urllib.parse, function by function."""
    with _urllib_with_gh67693_fix():
        _parse_vs_urllib(data)


def _parse_vs_urllib(data: bytes) -> None:
    if not data:
        return
    ctrl, payload = data[0], data[1:]
    text = _text(payload)
    which = ctrl % 8
    if which in (0, 1):
        fn = "urlsplit" if which == 0 else "urlparse"
        arg: Any = text if not ctrl & 8 else payload
        allow = not ctrl & 16
        ours, theirs = _outcome(getattr(N, fn), arg, "", allow), _outcome(getattr(U, fn), arg, "", allow)
        if ours != theirs:
            if not _excused(ours, theirs, arg):
                raise Finding(f"{fn}({arg!r}): netwire {ours!r}, urllib {theirs!r}")
        elif ours[0] == "ok":
            r = ours[2]
            for attr in ("hostname", "port", "username", "password"):
                a, b = _outcome(getattr, r, attr), _outcome(getattr, theirs[2], attr)
                if a != b:
                    raise Finding(f"{fn}({arg!r}).{attr}: netwire {a!r}, urllib {b!r}")
            unsplit = ("urlunsplit", "urlunparse")[which]
            a, b = _outcome(getattr(N, unsplit), tuple(r)), _outcome(getattr(U, unsplit), tuple(theirs[2]))
            if a != b:
                raise Finding(f"{unsplit}({r!r}): netwire {a!r}, urllib {b!r}")
    elif which == 2:
        base, _, ref = text.partition("\x00")
        base = base or "http://a/b/c/d;p?q"
        ours, theirs = _outcome(N.urljoin, base, ref), _outcome(U.urljoin, base, ref)
        if ours != theirs and not _excused(ours, theirs, base, ref):
            raise Finding(f"urljoin({base!r}, {ref!r}): netwire {ours!r}, urllib {theirs!r}")
    elif which == 3:
        for fn in ("parse_qsl", "parse_qs"):
            kw_sets = [(), (True,), (False, True)]
            args = kw_sets[(ctrl >> 3) % 3]
            ours, theirs = _outcome(getattr(N, fn), text, *args), _outcome(getattr(U, fn), text, *args)
            if ours != theirs:
                raise Finding(f"{fn}({text!r}, {args}): netwire {ours!r}, urllib {theirs!r}")
    elif which == 4:
        for fn in ("quote", "quote_plus", "unquote", "unquote_plus"):
            ours, theirs = _outcome(getattr(N, fn), text), _outcome(getattr(U, fn), text)
            if ours != theirs:
                raise Finding(f"{fn}({text!r}): netwire {ours!r}, urllib {theirs!r}")
        for fn in ("quote_from_bytes", "unquote_to_bytes"):
            ours, theirs = _outcome(getattr(N, fn), payload), _outcome(getattr(U, fn), payload)
            if ours != theirs:
                raise Finding(f"{fn}({payload!r}): netwire {ours!r}, urllib {theirs!r}")
    elif which == 5:
        pairs: list[tuple[str, str]] = [(k, v) for k, _, v in (p.partition("=") for p in text.split("&"))]
        kws: list[dict[str, Any]] = [{}, {"doseq": True}, {"quote_via": U.quote}]
        for kw in kws:
            nkw = dict(kw)
            if "quote_via" in nkw:
                nkw["quote_via"] = N.quote
            ours = _outcome(lambda: N.urlencode(pairs, **nkw))  # noqa: B023
            theirs = _outcome(lambda: U.urlencode(pairs, **kw))  # noqa: B023
            if ours != theirs:
                raise Finding(f"urlencode({pairs!r}, {kw}): netwire {ours!r}, urllib {theirs!r}")
    elif which == 6:
        ours, theirs = _outcome(N.urldefrag, text), _outcome(U.urldefrag, text)
        if ours != theirs and not _excused(ours, theirs, text):
            raise Finding(f"urldefrag({text!r}): netwire {ours!r}, urllib {theirs!r}")
    else:
        ours, theirs = _outcome(N.unwrap, text), _outcome(U.unwrap, text)
        if ours != theirs:
            raise Finding(f"unwrap({text!r}): netwire {ours!r}, urllib {theirs!r}")


_PATTERN_ALPHABET = "ab/*-"
_PATH_ALPHABET = "ab/-"


def _glob_matches(pattern: str, path: str) -> bool:
    """Whether ``pattern`` (``*`` any run, a final ``$`` the end) matches a prefix of ``path``.

    A set of reachable positions, one pattern character at a time: O(len(pattern) x len(path)),
    where a backtracking regex built from the pattern is exponential (``/a*a*a*...$``).
    """
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    reach = {0}
    for ch in body:
        if ch == "*":
            reach = set(range(min(reach), len(path) + 1)) if reach else set()
        else:
            reach = {p + 1 for p in reach if p < len(path) and path[p] == ch}
        if not reach:
            return False
    return len(path) in reach if anchored else True


def _reference_allowed(rules: list[tuple[bool, str]], path: str) -> bool:
    """RFC 9309 2.2.2 by the book: the longest matching pattern wins, allow wins a tie."""
    best: tuple[int, bool] | None = None
    for allow, pattern in rules:
        if not pattern or not _glob_matches(pattern, path):
            continue
        rank = (len(pattern), allow)
        if best is None or rank > best:
            best = rank
    return True if best is None else best[1]


def robots(data: bytes) -> None:
    """robots.txt: any bytes parse; matching agrees with a by-the-book reference on generated rules."""
    if not data:
        return
    ctrl, payload = data[0], data[1:]
    if ctrl & 1:
        # Arbitrary bytes: parsing never raises; both faces agree on every probe.
        txt = RobotsTxt.parse(payload, mode="google" if ctrl & 2 else "rfc9309")
        rfp = RobotFileParser()
        # Lines end at CR, LF or CRLF (RFC 9309 2.2): str.splitlines() would also cut at VT, FF,
        # U+0085..., giving the urllib face different lines than the bytes parser reads.
        rfp.parse(re.split(r"\r\n|\r|\n", payload.decode("utf-8", "surrogateescape")))
        for agent in ("*", "FooBot", "foobot/1.2", "Googlebot-Image"):
            for url in ("http://h/", "http://h/a/b?c", "/p%7Eq", "http://h/robots.txt", _text(payload[:40])):
                d = txt.decide(agent, url)
                if txt.allowed(agent, url) != d.allowed:
                    raise Finding("allowed() and decide() disagree")
                if ctrl & 2 == 0 and rfp.can_fetch(agent, url) != d.allowed and url.startswith("http"):
                    raise Finding(f"RobotFileParser and RobotsTxt disagree on {agent!r} {url!r}")
            txt.crawl_delay(agent)
            txt.request_rate(agent)
        return
    # Generated rules from a small alphabet, judged against the reference matcher.
    rules: list[tuple[bool, str]] = []
    lines = ["User-agent: *"]
    paths: list[str] = []
    for chunk in payload.split(b"\x00")[:12]:
        if not chunk:
            continue
        kind = chunk[0]
        chars = "".join(_PATTERN_ALPHABET[b % len(_PATTERN_ALPHABET)] for b in chunk[1:24])
        if kind % 3 == 2:
            paths.append("/" + chars.replace("*", ""))
            continue
        pattern = "/" + chars + ("$" if kind & 4 else "")
        allow = kind % 3 == 0
        rules.append((allow, pattern))
        lines.append(f"{'Allow' if allow else 'Disallow'}: {pattern}")
    txt = RobotsTxt.parse("\n".join(lines) + "\n")
    for path in [*paths, "/", "/a", "/ab/", "/b-a"]:
        ours = txt.allowed("somebot", "http://example.com" + path)
        want = _reference_allowed(rules, path)
        if ours != want:
            raise Finding(f"robots {lines!r} on {path!r}: netwire {ours}, reference {want}")


def hpack_decoder(data: bytes) -> None:
    """netwire's HPACK decoder: only HPACKError; agrees with the ``hpack`` package where both accept.

    Control byte: the table size we allow, the header list limit, how the payload is cut into
    header blocks (consecutive blocks share the dynamic table, as on one connection). netwire
    may refuse what ``hpack`` lets through only by a rule it enforces and ``hpack`` does not
    (a size update after a field, more than two in a row, integers above 2**32 - 1); it must
    never accept what ``hpack`` refuses, nor decode anything differently.
    """
    import hpack as H
    from hpack.exceptions import HPACKError as TheirError

    if not data:
        return
    ctrl, payload = data[0], data[1:]
    allowed = (0, 256, 4096, 65536)[ctrl & 3]
    limit = (200, 64 * 1024)[(ctrl >> 2) & 1]
    rng = random.Random(data)
    ours = HPACKDecoder(max_header_list_size=limit, max_allowed_table_size=allowed)
    theirs = H.Decoder(max_header_list_size=limit)
    theirs.max_allowed_table_size = max(allowed, 4096)  # theirs checks this after each block
    for block in _splits(rng, payload, (ctrl >> 3) & 3):
        try:
            got: Any = ours.decode(block)
        except HPACKError as exc:
            got = exc
        try:
            want: Any = [tuple(h) for h in theirs.decode(block, raw=True)]
        except (TheirError, IndexError, TypeError, UnicodeDecodeError, ValueError) as exc:
            want = exc
        if isinstance(got, HPACKError):
            stricter = ("after a header field", "more than two", "too large", "continuation octets", "above the")
            if not isinstance(want, Exception) and not any(s in str(got) for s in stricter):
                raise Finding(f"netwire refused a block hpack decodes: {got}")
            return  # the connection would be closed: the contexts part ways here
        if isinstance(want, Exception):
            raise Finding(f"netwire decoded a block hpack refuses ({want!r}): {got!r}")
        if got != want:
            raise Finding(f"netwire decoded {got!r}, hpack {want!r}")
        if ours.table_size > ours.max_table_size:
            raise Finding("dynamic table above its maximum")


def _read_frames(buffer: Any, pieces: list[bytes], direct: bool) -> tuple[list[Any], str | None]:
    """The frames a frame buffer yields for ``pieces`` (unpadded DATA runs of one stream merged,
    as netwire's reader merges them; the rest re-serialized) and the error met, if any."""
    from h2.exceptions import FrameTooLargeError
    from h2.exceptions import ProtocolError as H2Error
    from hyperframe.exceptions import InvalidPaddingError
    from hyperframe.frame import DataFrame

    out: list[Any] = []
    try:
        for piece in pieces:
            if direct:  # as the drivers feed it: read into its own buffer
                with buffer.reserve(len(piece)) as room:
                    room[:] = piece
                buffer.commit(len(piece))
            else:
                buffer.add_data(piece)
            for frame in buffer:
                if isinstance(frame, DataFrame) and "PADDED" not in frame.flags:
                    data = bytes(frame.data)
                    last = out[-1] if out else None
                    if isinstance(last, tuple) and last[0] == frame.stream_id and not last[2]:
                        out[-1] = (last[0], last[1] + data, "END_STREAM" in frame.flags)
                    else:
                        out.append((frame.stream_id, data, "END_STREAM" in frame.flags))
                else:
                    out.append(frame.serialize())
    except (H2Error, FrameTooLargeError, InvalidPaddingError) as exc:
        # (h2.H2Connection.receive_data turns the padding error into a ProtocolError too)
        return out, type(exc).__name__
    return out, None


def h2_frames(data: bytes) -> None:
    """netwire's HTTP/2 frame reader (``h2_core._fast_frames``) against h2's FrameBuffer: any
    bytes, cut anywhere, fed by add_data or read straight into its buffer (lending big DATA
    runs as views): the same frames, an error wherever h2 has one."""
    import h2.config
    import h2.connection
    from h2.frame_buffer import FrameBuffer

    if not data:
        return
    ctrl, payload = data[0], data[1:]
    max_frame = (16384, 64)[ctrl & 1]
    theirs = FrameBuffer(server=False)
    theirs.max_frame_size = max_frame
    want = _read_frames(theirs, [payload], False)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    _fast_frames(conn)
    ours: Any = conn.incoming_buffer
    ours.max_frame_size = max_frame
    ours.lend = bool(ctrl & 2)
    got = _read_frames(ours, _splits(random.Random(data), payload, (ctrl >> 2) & 3), bool(ctrl & 2))
    if got[0] != want[0][: len(got[0])]:
        raise Finding(f"netwire's frame reader read {len(got[0])} frames unlike h2's {len(want[0])}")
    if want[1] is not None and got[1] is None:
        raise Finding(f"h2 refused ({want[1]}) what netwire's frame reader accepted")
    # netwire refuses an oversized frame from its header; h2 only once its body is all there.
    if want[1] is None and got != want and got[1] != "FrameTooLargeError":
        raise Finding(f"netwire's frame reader: {got[1]} after {len(got[0])} frames; h2's: {len(want[0])} frames")


@dataclass(frozen=True)
class Target:
    """A fuzz target: its function, and the directory of its seed corpus."""

    name: str
    fn: Callable[[bytes], None]
    about: str
    tokens: tuple[bytes, ...] = ()
    """Words the mutators insert (a libFuzzer dictionary)."""

    @property
    def corpus(self) -> Path:
        return CORPUS / self.name

    def seeds(self) -> list[bytes]:
        """The seed inputs (sorted by file name, so runs are reproducible)."""
        if not self.corpus.is_dir():
            return []
        return [p.read_bytes() for p in sorted(self.corpus.iterdir()) if p.is_file()]


_HTTP_TOKENS = (
    b"HTTP/1.1 ", b"HTTP/1.0 ", b"200 OK", b"100 Continue", b"204", b"304", b"101", b"\r\n", b"\r\n\r\n", b"\n",
    b"Content-Length: ", b"Transfer-Encoding: ", b"chunked", b"identity", b"gzip, chunked", b"Connection: ",
    b"close", b"keep-alive", b": ", b" \t", b"\x00", b"0\r\n\r\n", b"ffffffffffffffff", b";ext=1", b"1,1",
)
_URL_TOKENS = (
    b"http://", b"https://", b"file:", b"//", b"[::1]", b"[::ffff:1.2.3.4]", b"0x7f.1", b"%2e", b"%25", b"xn--",
    b"..", b"/./", b"\\", b"@", b":", b"?", b"#", b"\t", b"\n", b" ", b"\xef\xbc\x8e", b"\xc3\xa9", b"\xe2\x80\x8b",
    b"[", b"]", b":65536", b"%00", b"\x00", b"C:", b"|",
)
_ROBOTS_TOKENS = (
    b"User-agent: ", b"Allow: ", b"Disallow: ", b"Crawl-delay: ", b"Request-rate: ", b"Sitemap: ", b"*", b"$",
    b"\n", b"\r\n", b"#", b"%7E", b"%2F", b"/", b"FooBot", b"\x00",
)

_HPACK_TOKENS = (
    b"\x82", b"\xbe", b"\x80", b"\x40", b"\x00", b"\x10", b"\x20", b"\x3f\xe1\x1f", b"\x7f", b"\xff\xff\xff",
    b"\x1f\x80\x80\x80\x80", b"\x87", b"\x8f", b"\x01a\x01b", b"\x84\xf1\xe3\xc2\xe5",
)

_H2_FRAME_TOKENS = (
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x01", b"\x00\x00\x03\x01\x04\x00\x00\x00\x01", b"\x00\x00\x00\x09\x04",
    b"\x00\x00\x08\x06\x00\x00\x00\x00\x00", b"\x00\x40\x00\x00", b"\x08", b"\x01", b"\x20", b"\xff\xff\xff",
)

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("http11", http11_response, "response parser, any bytes and splits: only ProtocolError", _HTTP_TOKENS),
        Target("chunked", http11_chunked, "chunked decoder vs a strict reference, round trips", _HTTP_TOKENS),
        Target("decoders", decoders, "gzip/deflate/br/zstd stacks: only DecodingError, round trips",
               (b"\x1f\x8b\x08", b"\x78\x9c", b"\x28\xb5\x2f\xfd", b"\x00\x00\xff\xff")),
        Target("url", url_vs_ada, "netwire.url.URL differential vs ada-url", _URL_TOKENS),
        Target("parse", parse_vs_urllib, "netwire.parse differential vs urllib.parse", (*_URL_TOKENS, b"&", b"=", b"+", b";")),
        Target("robots", robots, "robots.txt parsing and matching vs an RFC 9309 reference", _ROBOTS_TOKENS),
        Target("hpack", hpack_decoder, "HPACK decoder: only HPACKError, differential vs hpack", _HPACK_TOKENS),
        Target("h2frames", h2_frames, "HTTP/2 frame reader vs h2's FrameBuffer, any cut", _H2_FRAME_TOKENS),
    )
}
