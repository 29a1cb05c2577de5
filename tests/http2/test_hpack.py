"""netwire's HPACK decoder (``netwire.http.hpack``) against the published corpus and ``hpack``.

* The hpack-test-case stories under ``data/hpack`` (eight encoders; see its SOURCE.md): every
  header block decodes, in order and sharing one context per story, to the published headers.
* Hypothesis: header lists encoded by the ``hpack`` package's encoder (indexing, never-indexed
  fields, Huffman on or off, table size changes) decode to what it encoded, as its own decoder
  says; arbitrary bytes give a header list or an HPACKError, never another exception.
* The RFC 7541 rules: Huffman padding and EOS, table indices, size updates (position, count,
  bound, the one our smaller SETTINGS calls for), integer overflow, truncation, the header
  list size limit (an "HPACK bomb" stops early), entries larger than the table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hpack
import pytest
from hpack import HeaderTuple, NeverIndexedHeaderTuple
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netwire
from netwire.http.hpack import (
    STATIC_TABLE,
    Decoder,
    HeaderListTooLarge,
    HPACKError,
    huffman_codes,
    huffman_decode,
)
from tests.servers.h2_hostile import H2HostileServer

DATA = Path(__file__).parent / "data" / "hpack"
STORIES = sorted(DATA.glob("*/story_*.json"))


def test_the_corpus_is_there() -> None:
    assert len(STORIES) == 24 and (DATA / "LICENSE").exists()


@pytest.mark.parametrize("path", STORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_published_stories_decode(path: Path) -> None:
    decoder = Decoder()
    for case in json.loads(path.read_text())["cases"]:
        size = case.get("header_table_size")
        if size is not None:  # our SETTINGS_HEADER_TABLE_SIZE, acknowledged before this block
            decoder.max_allowed_table_size = size
        want = [(k.encode(), v.encode()) for field in case["headers"] for k, v in field.items()]
        assert decoder.decode(bytes.fromhex(case["wire"])) == want, f"{path.name} seqno {case['seqno']}"
        assert decoder.table_size <= decoder.max_table_size


# -- the tables ------------------------------------------------------------------------------------


def test_static_table_and_huffman_code_are_rfc_7541s() -> None:
    from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
    from hpack.table import HeaderTable

    assert STATIC_TABLE == HeaderTable.STATIC_TABLE
    assert huffman_codes() == list(zip(REQUEST_CODES, REQUEST_CODES_LENGTH, strict=True))
    # RFC 7541 C.4.1 and C.6.1
    assert huffman_decode(bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ff")) == b"www.example.com"
    assert huffman_decode(bytes.fromhex("d07abe941054d444a8200595040b8166e082a62d1bff")) == (
        b"Mon, 21 Oct 2013 20:13:21 GMT"
    )
    assert huffman_decode(b"") == b""


def test_rfc_7541_c3_requests_share_a_table() -> None:
    decoder = Decoder()
    assert decoder.decode(bytes.fromhex("828684410f7777772e6578616d706c652e636f6d")) == [
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":path", b"/"),
        (b":authority", b"www.example.com"),
    ]
    assert decoder.decode(bytes.fromhex("828684be58086e6f2d6361636865")) == [
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":path", b"/"),
        (b":authority", b"www.example.com"),
        (b"cache-control", b"no-cache"),
    ]
    assert decoder.table_size == 110


# -- the rules -----------------------------------------------------------------------------------


def huff(text: bytes) -> bytes:
    return hpack.huffman.HuffmanEncoder(
        hpack.huffman_constants.REQUEST_CODES, hpack.huffman_constants.REQUEST_CODES_LENGTH
    ).encode(text)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"\x80", "table index 0"),
        (b"\xbe", "table index 62, beyond"),  # the dynamic table is empty
        (b"\x00\x81\xff", "EOS|padding"),  # 8 one-bits: padding longer than 7 bits
        (b"\x00\x84\xff\xff\xff\xff", "EOS"),  # 30 one-bits decode EOS
        (b"\x00\x81\x00", "padding"),  # '0' (5 bits 00000) then 000 padding: not EOS's prefix
        (b"\x00\x05abc", "longer than the rest"),
        (b"\x00", "ends before a string"),
        (b"\x1f", "ends inside an integer"),
        (b"\x1f\xff\xff\xff\xff\xff\xff", "continuation octets"),
        (b"\x1f\x80\x80\x80\x80\x7f", "too large"),
        (b"\x3f\xe2\x1f", "above the 4096 we allowed"),  # a size update to 4097
        (b"\x82\x20", "after a header field"),
        (b"\x20\x20\x20\x82", "more than two"),
    ],
)
def test_invalid_blocks_are_hpack_errors(block: bytes, message: str) -> None:
    with pytest.raises(HPACKError, match=message) as info:
        Decoder().decode(block)
    assert isinstance(info.value, netwire.errors.H2ProtocolError) and info.value.error_code == 0x9


def test_a_smaller_allowance_needs_a_size_update_first() -> None:
    decoder = Decoder()
    decoder.decode(b"\x40\x01a\x01b")  # indexed: the table holds one entry
    decoder.max_allowed_table_size = 0  # our SETTINGS_HEADER_TABLE_SIZE=0 was acknowledged
    with pytest.raises(HPACKError, match="does not start with the dynamic table size update"):
        decoder.decode(b"\x82")
    assert decoder.decode(b"\x20\x82") == [(b":method", b"GET")]
    assert decoder.table_size == 0 and not decoder.table
    decoder.max_allowed_table_size = 4096  # larger: nothing required
    assert decoder.decode(b"\x82") == [(b":method", b"GET")]


def test_size_updates_evict_and_big_entries_empty_the_table() -> None:
    decoder = Decoder()
    decoder.decode(b"\x40\x01a\x01b\x40\x01c\x01d")
    assert list(decoder.table) == [(b"c", b"d"), (b"a", b"b")] and decoder.table_size == 68
    decoder.decode(b"\x3f\x06")  # size update to 37: the older entry goes
    assert list(decoder.table) == [(b"c", b"d")]
    decoder.decode(b"\x40\x01e\x05fffff")  # 38 bytes > 37: the table empties, nothing added
    assert not decoder.table and decoder.table_size == 0
    with pytest.raises(HPACKError, match="beyond the table"):
        decoder.decode(b"\xbe")


def test_header_list_limit_stops_an_hpack_bomb_early() -> None:
    decoder = Decoder(max_header_list_size=64 * 1024)
    value = b"v" * 4000
    decoder.decode(b"\x40\x01x" + bytes(hpack.hpack.encode_integer(len(value), 7)) + value)
    bomb = b"\xbe" * 100_000  # 100,000 references to a 4 KB entry: 400 MB decoded
    with pytest.raises(HeaderListTooLarge, match="max_header_list_size"):
        decoder.decode(bomb)


def test_the_client_refuses_a_server_header_block_that_is_not_hpack() -> None:
    """Wired into h2: a bad block from a server is a typed H2ProtocolError on the request."""
    with H2HostileServer() as server:
        client = netwire.Client(http2="prior-knowledge", timeout=10)
        with pytest.raises(netwire.errors.H2ProtocolError, match="header block"):
            client.get(server.url("/bad-hpack"))
        client.close()


# -- against the hpack package -----------------------------------------------------------------------

names = st.sampled_from([b"content-type", b"date", b"x-a", b"set-cookie", b"server", b"accept", b":status"]) | st.binary(
    min_size=1, max_size=30
).map(lambda b: bytes(c % 26 + 97 for c in b))
values = st.binary(max_size=200)
fields = st.tuples(names, values, st.sampled_from(["plain", "never", "tuple"]))
blocks = st.lists(fields, max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(blocks, st.booleans(), st.sampled_from([None, 0, 100, 256, 4096]))),
    st.sampled_from([256, 4096]),
)
def test_round_trip_with_the_hpack_package(script: list[tuple[Any, bool, int | None]], allowed: int) -> None:
    encoder = hpack.Encoder()
    ours = Decoder(max_header_list_size=10**9, max_allowed_table_size=allowed)
    theirs = hpack.Decoder(max_header_list_size=10**9)  # (it checks the allowance after a block: not here)
    if allowed < 4096:
        encoder.header_table_size = allowed  # as after our SETTINGS: the encoder must signal it
    for block, huffman, resize in script:
        if resize is not None and resize <= allowed:
            encoder.header_table_size = resize
        headers = [
            NeverIndexedHeaderTuple(n, v) if kind == "never" else HeaderTuple(n, v) if kind == "tuple" else (n, v)
            for n, v, kind in block
        ]
        wire = encoder.encode(headers, huffman=huffman)
        got = ours.decode(wire)
        assert got == [(n, v) for n, v, _ in block]
        assert got == [tuple(h) for h in theirs.decode(wire, raw=True)]
        assert ours.table_size == theirs.header_table._current_size


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([0, 4096]))
def test_arbitrary_bytes_decode_or_fail_cleanly(data: bytes, allowed: int) -> None:
    decoder = Decoder(max_header_list_size=4096, max_allowed_table_size=allowed)
    try:
        decoder.decode(data)
        decoder.decode(data)  # and again, on whatever table the first left
    except HPACKError:
        pass
    assert decoder.table_size <= decoder.max_table_size <= max(allowed, 4096)
