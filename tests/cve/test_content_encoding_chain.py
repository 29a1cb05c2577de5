"""Unbounded Content-Encoding chains (CVE-2022-32206 in curl, CVE-2025-66418 in urllib3).

``Content-Encoding: br, br, ...`` with 80,000 codings fits in a response head; netwire built a
decoder for each before reading the 1-byte body (half a GB for br), and a real 990-layer gzip
body hit Python's recursion limit, the chain recursing once per layer. Now more than
``decoders.MAX_CODINGS`` (5) codings is a DecodingError, decided from the header alone with
no decoder built, and a chain is walked by a loop whatever its depth (for a caller who raises
the limit). Sync and async clients, against a hostile loopback server.
"""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
from typing import Any

import pytest

import netwire
from netwire.errors import DecodingError
from netwire.http import decoders
from netwire.http.aio import AsyncClient
from tests.servers.faults import Serve, Start, response

pytestmark = pytest.mark.timeout(60)

PAYLOAD = b"the innermost layer\n"


def _layers(n: int) -> bytes:
    data = PAYLOAD
    for _ in range(n):
        data = gzip.compress(data, compresslevel=1, mtime=0)
    return data


def _get(kind: str, url: str, **options: Any) -> bytes:
    """GET ``url`` and read the body with the sync or the async client; the pool must end clean."""
    if kind == "sync":
        with netwire.Client(timeout=10, **options) as c:
            try:
                return c.get(url).content
            finally:
                assert c.pool.open_count() == c.pool.idle_count()

    async def go() -> bytes:
        async with AsyncClient(timeout=10, **options) as c:
            r = await c.get(url)
            return r.content

    return asyncio.run(go())


def _many_fields(coding: str, total: int) -> list[tuple[str, str]]:
    # One field holds at most 16 KiB (the line limit): spread the codings over several fields,
    # which a recipient must read as one comma-separated list (RFC 9110 5.3).
    per_field = 16_000 // (len(coding) + 1)
    fields = []
    while total > 0:
        n = min(per_field, total)
        fields.append(("Content-Encoding", ",".join([coding] * n)))
        total -= n
    return fields


@pytest.mark.parametrize("kind", ["sync", "async"])
# As many codings as fit in the 256 KiB head limit: 80,000 "br", 40,000 "gzip" or "zstd".
@pytest.mark.parametrize(("coding", "count"), [("br", 80_000), ("gzip", 40_000), ("zstd", 40_000)])
def test_content_encoding_chain_80000_codings(fault_server: Start, kind: str, coding: str, count: int) -> None:
    fields = _many_fields(coding, count)
    srv = fault_server(Serve(response(b"x", headers=fields)))
    tracemalloc.start()
    try:
        with pytest.raises(DecodingError, match="more than max_codings=5 codings"):
            _get(kind, srv.url("/"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The head itself is ~240 KB; the decoders for it were hundreds of MB.
    assert peak < 16 * 1024 * 1024, f"{peak / 2**20:.0f} MiB for a {count}-coding header"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_content_encoding_chain_990_gzip_layers_refused(fault_server: Start, kind: str) -> None:
    body = _layers(990)
    srv = fault_server(Serve(response(body, headers=[("Content-Encoding", ", ".join(["gzip"] * 990))])))
    with pytest.raises(DecodingError, match="max_codings"):
        _get(kind, srv.url("/"))


def test_content_encoding_chain_990_gzip_layers_decoded_iteratively(monkeypatch: pytest.MonkeyPatch) -> None:
    # A caller who trusts its server may raise the limit: then 990 layers decode, by a loop
    # (it was a RecursionError), fed in small pieces and flushed.
    monkeypatch.setattr(decoders, "MAX_CODINGS", 1000, raising=False)
    body = _layers(990)
    decoder = decoders.Decoder(["gzip"] * 990)
    out = b"".join(decoder.decode(body[i : i + 512]) for i in range(0, len(body), 512))
    assert out + decoder.flush() == PAYLOAD
    decoder = decoders.make_decoder(", ".join(["gzip"] * 990))
    assert decoder is not None
    assert decoder.decode(body) + decoder.flush() == PAYLOAD


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_content_encoding_chain_limit_edges(fault_server: Start, kind: str) -> None:
    five = ", ".join(["gzip"] * 5)
    srv = fault_server(Serve(response(_layers(5), headers=[("Content-Encoding", five + ", identity")])))
    assert _get(kind, srv.url("/")) == PAYLOAD  # five (identity not counted) still decode
    six = ", ".join(["gzip"] * 6)
    srv = fault_server(Serve(response(_layers(6), headers=[("Content-Encoding", six)])))
    with pytest.raises(DecodingError, match="max_codings=5"):
        _get(kind, srv.url("/"))


def test_content_encoding_chain_header_parse_is_bounded() -> None:
    # The header is read only until the limit is passed: no list of 80,000 names.
    header = ",".join(["br"] * 80_000)
    decoder = decoders.make_decoder(header)
    assert decoder is not None and len(decoder.encodings) == decoders.MAX_CODINGS + 1
    assert header not in decoders._parsed  # a refused stack takes no cache slot
    with pytest.raises(DecodingError):
        decoder.flush()
    # A stack the caller allows explicitly.
    assert decoders.make_decoder("gzip, gzip", max_codings=1) is not None
    with pytest.raises(DecodingError, match="max_codings=1"):
        decoders.make_decoder("gzip, gzip", max_codings=1).decode(_layers(2))  # type: ignore[union-attr]
