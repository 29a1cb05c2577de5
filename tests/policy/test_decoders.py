"""Content decoders against real compressed data: every codec, stacks, chunking, limits, bombs."""

from __future__ import annotations

import gzip
import itertools
import os
import resource
import time
import tracemalloc
import zlib
from collections.abc import Callable

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from netwire.errors import DecodingError
from netwire.http import decoders
from netwire.http.decoders import accept_encoding, make_decoder

# Mixed body: incompressible runs, text, and long repeats, ~600 KB (more than one output step).
BODY = os.urandom(64 * 1024) + b"".join(b"line %06d of some text\n" % i for i in range(20000)) + b"z" * 100_000


def _deflate_raw(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": lambda data: brotli.compress(data, quality=5),
    "zstd": _zstd,
}


def decode_all(header: str, blob: bytes, chunk: int, **limits: object) -> bytes:
    d = make_decoder(header, **limits)  # type: ignore[arg-type]
    assert d is not None
    out = [d.decode(blob[i : i + chunk]) for i in range(0, len(blob), chunk)]
    out.append(d.flush())
    return b"".join(out)


@pytest.mark.parametrize("chunk", [1, 7, 1000, 1 << 20])
@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_each_codec_any_chunking(name: str, chunk: int) -> None:
    blob = ENCODERS[name](BODY)
    if chunk == 1 and len(blob) > 50_000:
        blob_body = BODY[:20000]
        blob = ENCODERS[name](blob_body)
        assert decode_all(name, blob, chunk) == blob_body
    else:
        assert decode_all(name, blob, chunk) == BODY


@pytest.mark.parametrize("chunk", [1, 2, 3, 4096])
def test_deflate_raw_and_wrapped(chunk: int) -> None:
    # Servers send "deflate" both ways (RFC 9110 says zlib-wrapped; IIS and others sent raw).
    body = BODY[:30000]
    assert decode_all("deflate", zlib.compress(body), chunk) == body
    assert decode_all("deflate", _deflate_raw(body), chunk) == body


def test_stacked_encodings_decode_in_reverse_order() -> None:
    # "gzip, br": gzip was applied first, then br; so br is undone first.
    blob = brotli.compress(gzip.compress(BODY), quality=5)
    assert decode_all("gzip, br", blob, 4096) == BODY
    blob = gzip.compress(_zstd(zlib.compress(BODY)))
    assert decode_all("deflate, zstd, gzip", blob, 333) == BODY
    with pytest.raises(DecodingError):
        decode_all("br, gzip", brotli.compress(gzip.compress(BODY), quality=5), 4096)


def test_identity_unknown_and_case() -> None:
    assert make_decoder(None) is None
    assert make_decoder("") is None
    assert make_decoder("identity") is None
    assert make_decoder("compress") is None  # unknown here: pass the raw bytes through
    assert make_decoder("gzip, snappy") is None
    assert decode_all(" GZIP ", gzip.compress(b"abc"), 10) == b"abc"
    assert decode_all("identity, gzip", gzip.compress(b"abc"), 10) == b"abc"


def test_gzip_multiple_members_and_padding() -> None:
    blob = gzip.compress(b"first ") + gzip.compress(b"second")
    assert decode_all("gzip", blob, 5) == b"first second"
    # Trailing zero padding after the stream (seen from some servers) is ignored.
    assert decode_all("gzip", gzip.compress(b"abc") + b"\0" * 8, 3) == b"abc"


def test_zstd_multiple_frames() -> None:
    blob = _zstd(b"one ") + _zstd(b"two")
    assert decode_all("zstd", blob, 3) == b"one two"


TEXT = b"".join(b"line %06d of some text\n" % i for i in range(5000))


@pytest.mark.parametrize("where", ["header", "middle"])
@pytest.mark.parametrize("name", ["gzip", "deflate", "br", "zstd"])
def test_corrupt_data_is_a_decoding_error(name: str, where: str) -> None:
    if name == "zstd":
        encode: Callable[[bytes], bytes] = zstandard.ZstdCompressor(write_checksum=True).compress
    else:
        encode = ENCODERS[name]
    blob = bytearray(encode(TEXT))
    start = 0 if where == "header" else len(blob) // 2
    for i in range(start, start + 4):
        blob[i] ^= 0xA5
    with pytest.raises(DecodingError):
        decode_all(name, bytes(blob), 1000)


@pytest.mark.parametrize("name", ["gzip", "deflate", "br", "zstd"])
def test_truncated_stream_is_a_decoding_error(name: str) -> None:
    blob = ENCODERS[name](BODY)
    with pytest.raises(DecodingError, match="truncated"):
        decode_all(name, blob[: len(blob) // 2], 4096)


def test_empty_body_with_encoding() -> None:
    # A HEAD or 204 answer names an encoding but has no body: nothing to decode, no error.
    for name in ("gzip", "deflate", "br", "zstd"):
        d = make_decoder(name)
        assert d is not None
        assert d.decode(b"") == b""
        assert d.flush() == b""


def test_max_size() -> None:
    blob = gzip.compress(BODY)
    assert decode_all("gzip", blob, 4096, max_size=len(BODY)) == BODY
    with pytest.raises(DecodingError, match="max_size"):
        decode_all("gzip", blob, 4096, max_size=len(BODY) - 1)


def test_ratio_limit_spares_small_and_normal_bodies() -> None:
    # 1 MB of zeros compresses ~1000:1, but stays under the grace size: fine.
    zeros = bytes(1_000_000)
    assert decode_all("gzip", gzip.compress(zeros), 4096) == zeros
    # Ordinary text at a few :1 is far from any ratio limit.
    assert decode_all("gzip", gzip.compress(BODY), 4096) == BODY
    # Explicitly unlimited.
    big = bytes(decoders.RATIO_GRACE + 1_000_000)
    assert len(decode_all("gzip", gzip.compress(big), 1 << 16, max_ratio=None)) == len(big)


def _gzip_of_zeros(size: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [c.compress(block) for _ in range(size >> 20)]
    parts.append(c.flush())
    return b"".join(parts)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A few KB of gzip-of-gzip that expands to 4 GiB of zeros."""
    inner = _gzip_of_zeros(64 << 20)  # 64 MiB -> ~65 KB
    # Repeating the inner member 64 times is still a valid gzip stream (multi-member): 4 GiB.
    return gzip.compress(inner * 64, 9)


def test_decompression_bomb_fails_fast_with_small_memory(bomb: bytes) -> None:
    assert len(bomb) < 16 * 1024
    tracemalloc.start()
    # CPU time of this thread (the decoding is all here): a busy machine stretches wall time, not this.
    started = time.thread_time()
    d = make_decoder("gzip, gzip")
    assert d is not None
    produced = 0
    with pytest.raises(DecodingError, match="bomb") as info:
        for i in range(0, len(bomb), 1024):
            produced += len(d.decode(bomb[i : i + 1024]))
        d.flush()
    elapsed = time.thread_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 2.0, elapsed
    assert peak < 48 * 1024 * 1024, peak
    assert produced <= decoders.RATIO_GRACE
    assert "ratio" in str(info.value)


def test_bomb_with_ratio_disabled_hits_max_size(bomb: bytes) -> None:
    d = make_decoder("gzip, gzip", max_ratio=None, max_size=32 * 1024 * 1024)
    assert d is not None
    with pytest.raises(DecodingError, match="max_size"):
        d.decode(bomb)


@pytest.mark.parametrize("name", ["br", "zstd"])
def test_bomb_other_codecs(name: str) -> None:
    # 256 MiB of zeros: brotli and zstd squeeze this to a few hundred bytes.
    if name == "br":
        blob = brotli.compress(bytes(256 << 20), quality=1)
    else:
        blob = zstandard.ZstdCompressor(level=1).compress(bytes(256 << 20))
    assert len(blob) < 64 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    d = make_decoder(name)
    assert d is not None
    with pytest.raises(DecodingError, match="bomb"):
        d.decode(blob)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 48 * 1024 * 1024, peak
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB


def test_output_is_bounded_per_step() -> None:
    # One small input chunk of a highly compressed stream does not come out all at once inside
    # a codec: each piece a codec hands on is at most about one output step.
    codec = decoders._ZlibCodec("gzip")
    pieces = [len(p) for p in codec.feed(gzip.compress(bytes(8 << 20)))]
    assert sum(pieces) == 8 << 20
    assert max(pieces) <= decoders.OUTPUT_STEP


def test_accept_encoding_lists_installed() -> None:
    assert accept_encoding() == "gzip, deflate, br, zstd"
    decoders._available["brotli"] = False
    decoders._accept = None
    decoders._parsed.clear()
    try:
        assert accept_encoding() == "gzip, deflate, zstd"
        assert make_decoder("br") is None
    finally:
        decoders._available.pop("brotli")
        decoders._accept = None
        decoders._parsed.clear()
    assert accept_encoding() == "gzip, deflate, br, zstd"


# -- properties ----------------------------------------------------------------------------------



@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=5000).map(lambda b: b * 3),
    name=st.sampled_from(["gzip", "deflate", "br", "zstd"]),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
)
def test_any_split_decodes_the_same(data: bytes, name: str, cuts: list[int]) -> None:
    blob = {"gzip": gzip.compress, "deflate": _deflate_raw, "br": brotli.compress, "zstd": _zstd}[name](data)
    points = sorted({min(c, len(blob)) for c in cuts} | {0, len(blob)})
    d = make_decoder(name)
    assert d is not None
    out = b"".join(d.decode(blob[a:b]) for a, b in itertools.pairwise(points)) + d.flush()
    assert out == data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["gzip", "deflate", "br", "zstd", "gzip, br"]))
def test_garbage_raises_only_decoding_error(garbage: bytes, name: str) -> None:
    d = make_decoder(name)
    assert d is not None
    try:
        d.decode(garbage)
        d.flush()
    except DecodingError:
        pass
