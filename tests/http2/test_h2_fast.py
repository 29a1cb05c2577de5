"""The HTTP/2 fast paths (issue 17's performance work) keep h2's behaviour.

* The frame reader (``h2_core._fast_frames``): on any sequence of frames, cut anywhere, it yields
  the frames h2's own FrameBuffer yields (compared re-serialized, byte for byte), refuses the
  same bad input, and refuses an oversized frame from its header alone.
* The request HPACK encoder (``h2_core._caching_encoder``): what it encodes decodes (with the
  ``hpack`` package's decoder, and nginx in the peer tests) to the fields given, it never touches
  the dynamic table, never indexes credentials, and signals table size changes.
* AsyncClient: requests started in one loop turn share one write (HEADERS coalesced).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import h2.config
import h2.connection
import h2.exceptions
import pytest
from hpack import Decoder, NeverIndexedHeaderTuple
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    ExtensionFrame,
    Frame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netwire
from netwire.errors import H2ProtocolError
from netwire.http.h2_core import H2Core, _caching_encoder, _fast_frames
from tests.servers.h2 import SMALL
from tests.servers.nginx import Nginx

MAX_FRAME = 16384


def fast_reader() -> Any:
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    _fast_frames(conn)
    conn.incoming_buffer.max_frame_size = MAX_FRAME
    return conn.incoming_buffer


def h2_reader() -> Any:
    from h2.frame_buffer import FrameBuffer

    buffer = FrameBuffer(server=False)
    buffer.max_frame_size = MAX_FRAME
    return buffer


def read_all(buffer: Any, pieces: list[bytes]) -> tuple[list[Any], str | None]:
    """Feed ``pieces`` one by one; the frames read and the error met, if any.

    Frames are compared re-serialized, except unpadded DATA frames: the fast reader joins those
    of one stream that arrive together (before END_STREAM), so each run of them counts as one
    ``(stream id, payload, end_stream)`` here, whichever reader and however the bytes were cut.
    """
    out: list[Any] = []

    def add(frame: Frame) -> None:
        if isinstance(frame, DataFrame) and "PADDED" not in frame.flags:
            last = out[-1] if out else None
            if isinstance(last, tuple) and last[0] == frame.stream_id and not last[2]:
                out[-1] = (last[0], last[1] + frame.data, "END_STREAM" in frame.flags)
                return
            out.append((frame.stream_id, frame.data, "END_STREAM" in frame.flags))
            return
        out.append(frame.serialize())

    try:
        for piece in pieces:
            buffer.add_data(piece)
            for frame in buffer:
                add(frame)
    except (h2.exceptions.ProtocolError, h2.exceptions.FrameTooLargeError) as exc:
        return out, type(exc).__name__
    return out, None


stream_ids = st.sampled_from([1, 3]) | st.integers(min_value=1, max_value=2**31 - 1)  # runs of one stream, too
payloads = st.binary(max_size=300)


@st.composite
def frames(draw: st.DrawFn) -> list[Frame]:
    """One frame, or a header block split into HEADERS + CONTINUATION frames."""
    kind = draw(st.sampled_from(["data", "padded", "headers", "split", "ping", "settings", "window", "rst", "prio", "ext"]))
    sid = draw(stream_ids)
    if kind in ("data", "padded"):
        f: Frame = DataFrame(sid, draw(payloads))
        if draw(st.booleans()):
            f.flags.add("END_STREAM")
        if kind == "padded":
            f.flags.add("PADDED")
            f.pad_length = draw(st.integers(0, 20))  # type: ignore[attr-defined]
        return [f]
    if kind == "headers":
        h = HeadersFrame(sid, draw(payloads))
        h.flags.add("END_HEADERS")
        for flag in draw(st.sets(st.sampled_from(["END_STREAM", "PRIORITY"]))):
            h.flags.add(flag)
        if "PRIORITY" in h.flags:
            h.depends_on = draw(st.integers(0, 2**31 - 1))
            h.stream_weight = draw(st.integers(0, 255))
        return [h]
    if kind == "split":
        parts = draw(st.lists(payloads, min_size=2, max_size=4))
        out: list[Frame] = [HeadersFrame(sid, parts[0])]
        for part in parts[1:]:
            out.append(ContinuationFrame(sid, part))
        out[-1].flags.add("END_HEADERS")
        return out
    if kind == "ping":
        return [PingFrame(0, draw(st.binary(min_size=8, max_size=8)))]
    if kind == "settings":
        return [SettingsFrame(0, {0x3: draw(st.integers(0, 1000))})]
    if kind == "window":
        return [WindowUpdateFrame(draw(st.sampled_from([0, sid])), window_increment=draw(st.integers(1, 2**31 - 1)))]
    if kind == "rst":
        return [RstStreamFrame(sid, error_code=draw(st.integers(0, 13)))]
    if kind == "prio":
        return [PriorityFrame(sid, depends_on=draw(st.integers(0, 2**31 - 1)), stream_weight=draw(st.integers(0, 255)))]
    return [Raw(draw(st.integers(0x20, 0xFF)), sid, draw(payloads))]


class Raw(ExtensionFrame):
    """A frame of an unknown type (hyperframe's ExtensionFrame.serialize leaves the body length out)."""

    def __init__(self, kind: int, sid: int, body: bytes) -> None:
        super().__init__(type=kind, stream_id=sid, body=body)

    def serialize(self) -> bytes:
        return len(self.body).to_bytes(3, "big") + bytes((self.type, 0)) + self.stream_id.to_bytes(4, "big") + self.body


def cut(data: bytes, points: list[int]) -> list[bytes]:
    marks = sorted({p % (len(data) + 1) for p in points})
    edges = [0, *marks, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames(), min_size=1, max_size=12), st.lists(st.integers(0, 10_000), max_size=8))
def test_frame_reader_reads_what_h2_reads_however_the_bytes_are_cut(blocks: list[list[Frame]], points: list[int]) -> None:
    wire = b"".join(f.serialize() for block in blocks for f in block)
    expected = read_all(h2_reader(), [wire])
    assert read_all(fast_reader(), cut(wire, points)) == expected
    assert read_all(fast_reader(), [wire[i : i + 1] for i in range(len(wire))]) == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 300), max_size=5))
def test_frame_reader_on_garbage_fails_like_h2(noise: bytes, points: list[int]) -> None:
    expected = read_all(h2_reader(), [noise])
    got = read_all(fast_reader(), cut(noise, points))
    # Same frames, and an error where h2 has one (an oversized frame may be refused earlier).
    assert got[0] == expected[0][: len(got[0])]
    if expected[1] is not None:
        assert got[1] is not None


def test_interleaved_frame_inside_a_header_block_is_refused() -> None:
    wire = HeadersFrame(1, b"abc").serialize() + DataFrame(1, b"x").serialize()
    assert read_all(fast_reader(), [wire]) == ([], "ProtocolError")


def test_oversized_frame_is_refused_from_its_header_alone() -> None:
    # 9 bytes announcing a 1 MiB DATA frame: refused before any of its body is buffered.
    core = H2Core("test")
    core.start()
    core.data_to_send()
    with pytest.raises(H2ProtocolError, match="larger than MAX_FRAME_SIZE"):
        core.receive((1 << 20).to_bytes(3, "big") + b"\x00\x00\x00\x00\x00\x01")


def test_data_frames_of_a_stream_arriving_together_are_one() -> None:
    wire = b"".join(DataFrame(1, bytes([i]) * 1000).serialize() for i in range(5))
    wire += DataFrame(3, b"other").serialize()
    end = DataFrame(1, b"end")
    end.flags.add("END_STREAM")
    wire += end.serialize() + DataFrame(1, b"after the end").serialize()
    buffer = fast_reader()
    buffer.add_data(wire)
    got = [(f.stream_id, f.data, sorted(f.flags), f.flow_controlled_length) for f in buffer]
    first = b"".join(bytes([i]) * 1000 for i in range(5))
    assert got == [
        (1, first, [], 5000),
        (3, b"other", [], 5),
        (1, b"end", ["END_STREAM"], 3),
        (1, b"after the end", [], 13),  # not joined across END_STREAM: h2 refuses it on its own
    ]


def test_data_frame_repr_leaves_the_payload_out() -> None:
    buffer = fast_reader()
    buffer.add_data(DataFrame(1, b"\xab" * MAX_FRAME).serialize())
    (frame,) = list(buffer)
    assert isinstance(frame, DataFrame) and frame.data == b"\xab" * MAX_FRAME
    assert repr(frame) == f"DataFrame(stream_id=1, flags=[]): <{MAX_FRAME} bytes>"


def test_reads_go_straight_into_the_reader_and_big_runs_are_lent() -> None:
    """The driver reads into the frame reader's own buffer (reserve/commit: no copy in
    between); a big DATA run is lent as views of it, the buffer is never written while one
    lives, and it is reused once they are gone."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    _fast_frames(conn)
    buffer: Any = conn.incoming_buffer
    buffer.max_frame_size = MAX_FRAME
    buffer.lend = True
    payload = [bytes([i]) * MAX_FRAME for i in range(64)]  # 1 MiB on stream 1
    wire = b"".join(DataFrame(1, p).serialize() for p in payload)
    tail = DataFrame(3, b"next").serialize()  # another stream: a run of its own

    def read(data: bytes) -> None:
        with buffer.reserve(len(data)) as room:
            room[:] = data
        buffer.commit(len(data))

    read(wire + tail[:5])  # a partial frame stays behind
    (frame,) = list(buffer)
    first = buffer._data
    assert type(frame.data).__name__ == "Pieces" and len(frame.data) == len(payload) * MAX_FRAME
    assert b"".join(frame.data.views) == b"".join(payload)
    views = frame.data.views
    read(tail[5:] + wire)  # the views are alive: the next read goes to another buffer
    assert buffer._data is not first
    assert b"".join(views) == b"".join(payload)  # untouched
    frames = list(buffer)
    assert frames[0].data == b"next"
    assert bytes(frames[1].data) == b"".join(payload)
    second = buffer._data
    del views, frame, frames
    read(wire)  # the first buffer's views are gone: it is taken again, no fresh megabyte
    assert buffer._data is first
    assert bytes(next(buffer).data) == b"".join(payload)
    assert second is not first


def test_small_runs_and_unlent_readers_copy() -> None:
    buffer = fast_reader()
    buffer.add_data(b"".join(DataFrame(1, b"x" * MAX_FRAME).serialize() for _ in range(16)))
    (frame,) = list(buffer)
    assert type(frame.data) is bytes and len(frame.data) == 16 * MAX_FRAME


# -- the request HPACK encoder -------------------------------------------------------------------

names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20)
values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.tuples(names | st.sampled_from(["accept", "cookie", "authorization", ":path"]), values), max_size=10), min_size=1, max_size=4))
def test_encoded_blocks_decode_to_the_fields_every_time(blocks: list[list[tuple[str, str]]]) -> None:
    encoder = _caching_encoder()
    decoder = Decoder()
    for fields in blocks + blocks:  # the second round comes from the cache
        block = encoder.encode(fields)
        assert decoder.decode(block) == fields
        assert not encoder.header_table.dynamic_entries and not decoder.header_table.dynamic_entries


def test_credentials_are_never_indexed_nor_remembered() -> None:
    encoder = _caching_encoder()
    fields = [(":method", "GET"), ("authorization", "Basic c2VjcmV0"), ("cookie", "a=b"), ("accept", "*/*")]
    decoded = Decoder().decode(encoder.encode(fields))
    assert [type(h) is NeverIndexedHeaderTuple for h in decoded] == [False, True, True, False]
    assert all(name not in ("authorization", "cookie") for name, _ in encoder._fields)


def test_the_cache_is_bounded() -> None:
    encoder = _caching_encoder()
    for i in range(2000):
        encoder.encode([(":path", f"/page/{i}")])
    assert len(encoder._fields) <= 512


def test_a_table_size_change_is_signalled_first() -> None:
    encoder = _caching_encoder()
    decoder = Decoder()
    fields = [(":method", "GET"), ("user-agent", "netwire")]
    decoder.decode(encoder.encode(fields))
    encoder.header_table_size = 0  # what h2 does on the server's SETTINGS_HEADER_TABLE_SIZE=0
    block = encoder.encode(fields)
    assert block[0] == 0x20  # dynamic table size update to 0
    assert decoder.decode(block) == fields and decoder.header_table.maxsize == 0


def test_repeated_requests_leave_the_dynamic_table_empty() -> None:
    # h2's own encoder indexed every field: the table filled and each block depended on the last.
    core = H2Core("test")
    core.start()
    fields = [("User-Agent", "netwire"), ("Accept", "*/*")]
    core.open_stream("GET", "https", "example.com", "/", fields, True)
    first = core.data_to_send()
    core.open_stream("GET", "https", "example.com", "/", fields, True)
    second = core.data_to_send()
    assert first[-len(second) + 9 :] == second[9:]  # the same header block, stream id aside
    assert not core.conn.encoder.header_table.dynamic_entries


# -- AsyncClient: one write per loop turn ---------------------------------------------------------


class CountingTransport:
    """The connection's real transport, counting the writes made to it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        self.inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_async_requests_in_flight_share_their_writes(h2_nginx: Nginx, ca_file: str) -> None:
    url = f"https://127.0.0.1:{h2_nginx.port}/small"

    async def go() -> tuple[int, int]:
        async with netwire.AsyncClient(http2=True, verify=ca_file) as client:
            await client.get(url)
            (conn,) = client._h2pool.connections()  # type: ignore[union-attr]
            counting = conn.transport = CountingTransport(conn.transport)

            async def worker() -> int:
                n = 0
                for _ in range(10):
                    n += (await client.get(url)).content == SMALL
                return n

            done = sum(await asyncio.gather(*(worker() for _ in range(20))))
            return done, counting.writes

    done, writes = asyncio.run(go())
    assert done == 200
    # One write per request before (a task ending its stream flushed the HEADERS another
    # task had just queued); now the requests of a loop turn go out together.
    assert writes <= 200 // 3, writes
