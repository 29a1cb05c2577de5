"""Streaming content decoders (RFC 9110 8.4): gzip, deflate, br, zstd, and stacks of them.

``make_decoder(response.headers.get("content-encoding"))`` gives a :class:`Decoder` whose
``decode(chunk)`` turns the next piece of the body as it came off the wire into decoded bytes,
and whose ``flush()`` ends the stream. Memory is bounded by the chunk, not the body: every codec
is driven in output steps of :data:`OUTPUT_STEP` bytes (zlib's ``max_length`` /
``unconsumed_tail``, brotli's ``output_buffer_limit``, input slicing for zstd), and the size and
ratio limits are checked after each step, so a few kilobytes of hostile input raise
:class:`~netwire.errors.DecodingError` long before they could fill memory.

``br`` needs the ``brotli`` package and ``zstd`` the ``zstandard`` package; both are imported
only when a response uses them. :func:`accept_encoding` advertises only what is installed.
"""

from __future__ import annotations

import importlib.util
import zlib
from collections.abc import Iterator
from typing import Any

from ..errors import DecodingError

__all__ = [
    "DEFAULT_MAX_DECODED",
    "DEFAULT_MAX_RATIO",
    "MAX_CODINGS",
    "OUTPUT_STEP",
    "RATIO_GRACE",
    "Decoder",
    "accept_encoding",
    "make_decoder",
    "supported_encodings",
]

# Decoded bytes one response may produce. Generous: it guards against runaway streams; the
# ratio limit below is what stops a bomb early.
DEFAULT_MAX_DECODED: int | None = 4 * 1024**3
# Decoded bytes per byte received. Real text rarely compresses beyond 20:1 and deflate alone
# cannot exceed ~1032:1; stacked codings (gzip of gzip) are how a few KB become gigabytes.
DEFAULT_MAX_RATIO: float | None = 200.0
# The ratio is judged only once this much was decoded: small, very regular bodies (a page of
# zeros) legitimately have huge ratios and are harmless.
RATIO_GRACE = 8 * 1024 * 1024
# The most one codec step hands on at once.
OUTPUT_STEP = 256 * 1024
# Content codings one response may stack (identity not counted). Real servers send one; more
# than a few is an attack: 80,000 `br` within the header limit built half a GB of decoders.
# curl and urllib3 refuse more than 5 as well (CVE-2022-32206, CVE-2025-66418).
MAX_CODINGS = 5

_ALIASES = {"x-gzip": "gzip", "x-deflate": "deflate", "brotli": "br", "x-zstd": "zstd"}
_OPTIONAL = {"br": "brotli", "zstd": "zstandard"}
_available: dict[str, bool] = {}


def _installed(coding: str) -> bool:
    module = _OPTIONAL.get(coding)
    if module is None:
        return coding in ("gzip", "deflate", "identity")
    found = _available.get(module)
    if found is None:
        # find_spec does not import: advertising br must not cost brotli's import time.
        found = _available[module] = importlib.util.find_spec(module) is not None
    return found


def supported_encodings() -> list[str]:
    """The content codings this installation can decode, in order of preference."""
    return [c for c in ("gzip", "deflate", "br", "zstd") if _installed(c)]


_accept: str | None = None


def accept_encoding() -> str:
    """An ``Accept-Encoding`` value listing what can be decoded here, e.g. ``"gzip, deflate, br, zstd"``."""
    global _accept
    if _accept is None:
        _accept = ", ".join(supported_encodings())
    return _accept


# -- codecs ---------------------------------------------------------------------------------------
# Each codec turns input into output in pieces of at most about OUTPUT_STEP bytes, lazily, so
# the chain above can stop between any two pieces.


class _Codec:
    name = ""

    def feed(self, data: bytes) -> Iterator[bytes]:
        raise NotImplementedError

    def finish(self) -> Iterator[bytes]:
        raise NotImplementedError


class _ZlibCodec(_Codec):
    """gzip (several members allowed) and deflate (zlib-wrapped, or raw as some servers send)."""

    __slots__ = ("_d", "_done", "_gzip", "_head", "_started", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._gzip = name == "gzip"
        # deflate: whether it is zlib-wrapped is decided by the first two bytes.
        self._d: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if self._gzip else None
        self._head = b""
        self._started = False
        self._done = False

    def _pick_deflate(self, data: bytes) -> None:
        # RFC 1950 header: CM = 8, CINFO <= 7, and the 16-bit header a multiple of 31.
        b0, b1 = data[0], data[1]
        wrapped = (b0 & 0x0F) == 8 and (b0 >> 4) <= 7 and ((b0 << 8) | b1) % 31 == 0
        self._d = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._started = True
        if self._d is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return
            self._head = b""
            self._pick_deflate(data)
        d = self._d
        try:
            while True:
                if self._done:
                    # Bytes after the end of the stream: another gzip member, or padding.
                    if self._gzip and data[:2] == b"\x1f\x8b":
                        d = self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                        self._done = False
                    else:
                        return
                out = d.decompress(data, OUTPUT_STEP)
                data = d.unconsumed_tail
                if out:
                    yield out
                if d.eof:
                    self._done = True
                    data = d.unused_data + data
                    if not data:
                        return
                    continue
                # A full step may leave output inside zlib even with no input left.
                if not data and len(out) < OUTPUT_STEP:
                    return
        except zlib.error as exc:
            raise DecodingError(f"corrupt {self.name} data: {exc}") from exc

    def finish(self) -> Iterator[bytes]:
        if self._d is None:
            if self._head:
                raise DecodingError(f"{self.name} stream truncated: only {len(self._head)} byte(s)")
            return
        if not self._done:
            try:
                tail = self._d.flush()
            except zlib.error as exc:
                raise DecodingError(f"corrupt {self.name} data: {exc}") from exc
            if tail:
                yield tail
            if not self._d.eof and self._started:
                raise DecodingError(f"{self.name} stream truncated: the body ended before the compressed data did")


class _BrotliCodec(_Codec):
    __slots__ = ("_d", "_fed", "_limited", "name")

    def __init__(self) -> None:
        import brotli  # type: ignore[import-untyped, unused-ignore]

        self.name = "br"
        self._d: Any = brotli.Decompressor()
        self._fed = False
        # brotli >= 1.2 can cap its output per call; older versions get their input sliced.
        self._limited = True

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._fed = True
        d = self._d
        try:
            if self._limited:
                try:
                    out = d.process(data, output_buffer_limit=OUTPUT_STEP)
                except TypeError:
                    self._limited = False
                else:
                    # More output may wait inside the decoder whatever can_accept_more_data()
                    # says: drain it with empty input until it gives nothing.
                    while out:
                        yield out
                        if d.is_finished() and d.can_accept_more_data():
                            break
                        out = d.process(b"", output_buffer_limit=OUTPUT_STEP)
                    return
            yield from _sliced(d.process, data)
        except Exception as exc:
            if isinstance(exc, DecodingError):
                raise
            raise DecodingError(f"corrupt br data: {exc}") from exc

    def finish(self) -> Iterator[bytes]:
        d = self._d
        if self._fed and hasattr(d, "is_finished") and not d.is_finished():
            raise DecodingError("br stream truncated: the body ended before the compressed data did")
        return iter(())


class _ZstdCodec(_Codec):
    __slots__ = ("_d", "_dctx", "_fed", "name")

    def __init__(self) -> None:
        import zstandard

        self.name = "zstd"
        self._dctx: Any = zstandard.ZstdDecompressor()
        self._d: Any = self._dctx.decompressobj()
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._fed = True
        try:
            yield from _sliced(self._process, data)
        except Exception as exc:
            if isinstance(exc, DecodingError):
                raise
            raise DecodingError(f"corrupt zstd data: {exc}") from exc

    def _process(self, data: bytes) -> bytes:
        d = self._d
        out = d.decompress(data)
        # A body may hold several frames; each decompressobj decodes one.
        while d.eof and d.unused_data:
            rest = d.unused_data
            d = self._d = self._dctx.decompressobj()
            out += d.decompress(rest)
        return bytes(out)

    def finish(self) -> Iterator[bytes]:
        if self._fed and not self._d.eof:
            raise DecodingError("zstd stream truncated: the body ended before the compressed data did")
        return iter(())


def _sliced(process: Any, data: bytes) -> Iterator[bytes]:
    """Feed ``data`` to a codec without an output cap, in slices sized so each yields about one step.

    The slice shrinks as the observed ratio grows, so a highly compressed stream is fed a few
    bytes at a time and no single call can expand to much more than OUTPUT_STEP.
    """
    view = memoryview(data)
    # Start small: until the first output shows the ratio, assume the worst.
    size = 64
    pos = 0
    while pos < len(view):
        piece = bytes(view[pos : pos + size])
        pos += len(piece)
        out = process(piece)
        if out:
            yield out
            ratio = len(out) / len(piece)
            size = int(max(16, min(65536, OUTPUT_STEP / max(ratio, 1.0))))


# -- the chain -----------------------------------------------------------------------------------


class Decoder:
    """Decodes one response body through its stack of content codings, within the limits."""

    __slots__ = ("_codecs", "_in", "_out", "_refused", "encodings", "max_ratio", "max_size")

    def __init__(
        self,
        encodings: list[str],
        *,
        max_size: int | None = DEFAULT_MAX_DECODED,
        max_ratio: float | None = DEFAULT_MAX_RATIO,
        max_codings: int | None = None,
    ) -> None:
        # Codings are listed in the order they were applied; decoding undoes the last first.
        self.encodings = encodings
        limit = MAX_CODINGS if max_codings is None else max_codings
        # Too deep a stack: no codec is built (that is what cost the memory), and decoding
        # raises DecodingError when the body is read, like any other undecodable body.
        self._refused = limit if len(encodings) > limit else None
        self._codecs = [] if self._refused is not None else [_codec(name) for name in reversed(encodings)]
        self.max_size = max_size
        self.max_ratio = max_ratio
        self._in = 0
        self._out = 0

    def _through(self, piece: bytes, start: int) -> Iterator[bytes]:
        """``piece`` fed to codec ``start`` and what it yields on through the later ones, lazily.

        A stack of iterators, one per layer in progress, not a recursion per layer: the depth
        of a chain (bounded by max_codings, which a caller may raise) never meets Python's
        recursion limit, and each layer still hands on one step at a time.
        """
        codecs = self._codecs
        last = len(codecs)
        if start == last:
            yield piece
            return
        stack = [codecs[start].feed(piece)]
        while stack:
            out = next(stack[-1], None)
            if out is None:
                stack.pop()
                continue
            depth = start + len(stack)
            if depth == last:
                yield out
            else:
                stack.append(codecs[depth].feed(out))

    def _check(self, n: int) -> None:
        self._out += n
        if self.max_size is not None and self._out > self.max_size:
            raise DecodingError(
                f"decoded body exceeds max_size={self.max_size} bytes ({'+'.join(self.encodings)} encoded); "
                "raise the limit if this is expected"
            )
        if (
            self.max_ratio is not None
            and self._out > RATIO_GRACE
            and self._out > self.max_ratio * max(self._in, 1)
        ):
            raise DecodingError(
                f"decompression bomb: {self._in} received bytes decoded to over {self._out} bytes "
                f"(ratio above max_ratio={self.max_ratio:g}, {'+'.join(self.encodings)} encoded)"
            )

    def decode(self, chunk: bytes) -> bytes:
        """The decoded bytes ``chunk`` yields (possibly b"" while a codec waits for more)."""
        if not chunk:
            return b""
        self._in += len(chunk)
        codecs = self._codecs
        if not codecs:
            raise self._refusal()
        # One coding (the usual case): no chain to walk.
        pieces = codecs[0].feed(bytes(chunk)) if len(codecs) == 1 else self._through(bytes(chunk), 0)
        parts = []
        for out in pieces:
            self._check(len(out))
            parts.append(out)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def flush(self) -> bytes:
        """End of the body: the last decoded bytes. Raises DecodingError if the data was cut short."""
        if self._refused is not None:
            raise self._refusal()
        parts = []
        for i, codec in enumerate(self._codecs):
            for tail in codec.finish():
                for out in self._through(tail, i + 1):
                    self._check(len(out))
                    parts.append(out)
        return b"".join(parts)

    def _refusal(self) -> DecodingError:
        shown = ", ".join(self.encodings[:3])
        return DecodingError(
            f"Content-Encoding stacks more than max_codings={self._refused} codings ({shown}, ...): "
            "refused unread, a stack that deep is a decompression attack (CVE-2022-32206)"
        )

    def __repr__(self) -> str:
        return f"<Decoder {', '.join(self.encodings[:8])}{', ...' if len(self.encodings) > 8 else ''}>"


def _codec(name: str) -> _Codec:
    if name in ("gzip", "deflate"):
        return _ZlibCodec(name)
    if name == "br":
        return _BrotliCodec()
    return _ZstdCodec()


def make_decoder(
    content_encoding_header: str | None,
    *,
    max_size: int | None = DEFAULT_MAX_DECODED,
    max_ratio: float | None = DEFAULT_MAX_RATIO,
    max_codings: int | None = None,
) -> Decoder | None:
    """A Decoder for a ``Content-Encoding`` value, or None when the body is to be passed through as is.

    None for no header, only ``identity``, or any coding that cannot be decoded here (an unknown
    one, or br/zstd without their package): then the caller hands over the raw bytes.
    More than ``max_codings`` codings (default :data:`MAX_CODINGS`, 5) gives a Decoder that
    raises DecodingError on the first body bytes; the header is read no further than that, and
    no codec is built for it.
    """
    if not content_encoding_header:
        return None
    limit = MAX_CODINGS if max_codings is None else max_codings
    codings = _parsed.get(content_encoding_header)
    if codings is None:
        codings = _parse_codings(content_encoding_header, limit)
        if len(codings) <= limit:  # a refused stack is not worth a cache slot
            if len(_parsed) >= 64:
                _parsed.clear()
            _parsed[content_encoding_header] = codings
    if not codings:
        return None
    return Decoder(list(codings), max_size=max_size, max_ratio=max_ratio, max_codings=limit)


# Content-Encoding values seen, parsed: servers send the same few over and over.
_parsed: dict[str, tuple[str, ...]] = {}


def _parse_codings(header: str, limit: int) -> tuple[str, ...]:
    """The codings to undo, in the order applied; () when there is nothing (we can) decode.

    Stops at ``limit + 1`` codings: past the limit the answer is a refusal whatever follows, so
    an 80,000-coding header costs no more than a 6-coding one.
    """
    codings: list[str] = []
    start = 0
    end = len(header)
    while start <= end:
        comma = header.find(",", start)
        if comma < 0:
            comma = end
        name = header[start:comma].strip(" \t").lower()
        start = comma + 1
        name = _ALIASES.get(name, name)
        if not name or name == "identity":
            continue
        if not _installed(name):
            return ()
        codings.append(name)
        if len(codings) > limit:
            break
    return tuple(codings)
