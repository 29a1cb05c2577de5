"""Decompression bombs: a few kilobytes on the wire that would decode to gigabytes.

netwire's decoders work in bounded steps and check a size limit (``max_decoded_size``) and a
ratio limit (200:1 once 8 MiB are decoded) after every step, so a bomb is a DecodingError after
at most a few megabytes, with memory bounded by that, for every coding and for stacks of them.
Served by a loopback server with the matching Content-Encoding.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from collections.abc import Callable

import pytest

import netwire
from netwire.errors import DecodingError
from netwire.http.decoders import RATIO_GRACE, Decoder
from tests.servers.faults import ReadRequest, Send, Serve, Start, WaitForClose, response

pytestmark = pytest.mark.timeout(60)

ZEROS = 256 * 1024 * 1024  # what each bomb decodes to (one layer)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def _br(data: bytes) -> bytes:
    import brotli  # type: ignore[import-untyped, unused-ignore]

    return bytes(brotli.compress(data, quality=5))


def _zstd(data: bytes) -> bytes:
    import zstandard

    return bytes(zstandard.ZstdCompressor(level=3).compress(data))


CODECS: dict[str, Callable[[bytes], bytes]] = {"gzip": _gzip, "deflate": _deflate, "br": _br, "zstd": _zstd}
_cache: dict[str, bytes] = {}


def bomb(stack: str) -> bytes:
    """256 MiB of zeros encoded with ``stack`` (e.g. "gzip, gzip"), built once per session."""
    if stack not in _cache:
        data = bytes(ZEROS)
        for coding in stack.split(", "):
            data = CODECS[coding](data)
        _cache[stack] = data
    return _cache[stack]


STACKS = ["gzip", "deflate", "br", "zstd", "gzip, gzip", "br, gzip", "zstd, deflate"]


@pytest.mark.parametrize("stack", STACKS)
def test_decompression_bomb_decoder(stack: str) -> None:
    wire = bomb(stack)
    assert len(wire) < ZEROS // 200  # it is a bomb
    decoder = Decoder(stack.split(", "))
    out = 0
    with pytest.raises(DecodingError, match=r"bomb|max_size"):
        for i in range(0, len(wire), 16384):
            out += len(decoder.decode(wire[i : i + 16384]))
        out += len(decoder.flush())
    # Stopped within a few steps of the ratio limit's grace, far from the 256 MiB.
    assert out < RATIO_GRACE + 4 * 1024 * 1024


@pytest.mark.parametrize("stack", STACKS)
def test_decompression_bomb_client(fault_server: Start, stack: str) -> None:
    wire = bomb(stack)
    srv = fault_server(Serve(response(wire, headers=[("Content-Encoding", stack)])))
    tracemalloc.start()
    try:
        with netwire.Client(timeout=10) as c:
            started = time.monotonic()
            with pytest.raises(DecodingError, match="bomb"):
                c.get(srv.url("/"))
            assert time.monotonic() - started < 10
            # Nothing is left in use: a connection whose response was framed completely (a
            # small bomb arrives whole) may wait idle for reuse, a cut-short one is closed.
            assert c.pool.open_count() == c.pool.idle_count() <= 1
            with pytest.raises(DecodingError, match="bomb"):
                c.get(srv.url("/"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB held while refusing a bomb"


def test_decompression_bomb_streamed(fault_server: Start) -> None:
    wire = bomb("gzip, gzip")
    srv = fault_server([ReadRequest(), Send(response(wire, headers=[("Content-Encoding", "gzip, gzip")])), WaitForClose()])
    with netwire.Client(timeout=10) as c, c.stream("GET", srv.url("/")) as r:
        got = 0
        with pytest.raises(DecodingError):
            for chunk in r.iter_bytes():
                got += len(chunk)
        assert got < RATIO_GRACE + 4 * 1024 * 1024


def test_max_decoded_size(fault_server: Start) -> None:
    text = b"".join(b"line %d of an ordinary text\n" % i for i in range(100_000))  # ~3 MB, ratio ~5
    srv = fault_server(Serve(response(_gzip(text), headers=[("Content-Encoding", "gzip")])))
    with netwire.Client(timeout=10, max_decoded_size=1024 * 1024) as c, pytest.raises(DecodingError, match="max_size"):
        c.get(srv.url("/"))
    with netwire.Client(timeout=10) as c:
        assert c.get(srv.url("/")).content == text  # control: within the limits it decodes


def test_regular_compressible_body_is_not_a_bomb(fault_server: Start) -> None:
    # 4 MiB of zeros (ratio ~1000) stays under the ratio grace: harmless, decoded.
    body = bytes(4 * 1024 * 1024)
    srv = fault_server(Serve(response(_gzip(body), headers=[("Content-Encoding", "gzip")])))
    with netwire.Client(timeout=10) as c:
        assert c.get(srv.url("/")).content == body


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_corrupt_and_truncated_bodies(fault_server: Start, coding: str) -> None:
    good = CODECS[coding](b"hello world " * 1000)
    for wire in (good[: len(good) // 2], b"\x00garbage" + good[8:]):
        srv = fault_server([ReadRequest(), Send(response(wire, headers=[("Content-Encoding", coding)])), WaitForClose()])
        with netwire.Client(timeout=5) as c, pytest.raises(DecodingError):
            c.get(srv.url("/"))
