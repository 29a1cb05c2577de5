"""Property tests of the sans-IO framing: however the bytes are split, the same messages come out."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netwire.errors import ProtocolError
from netwire.sockets.framing import ReceiveBuffer, encode_frame, encode_line


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


lines = st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=20)
frames = st.lists(st.binary(max_size=300), max_size=15)
cuts = st.lists(st.integers(min_value=0, max_value=10_000), max_size=30)


@given(lines, cuts, st.sampled_from([b"\n", b"\r\n", b"\0", b"END"]))
def test_lines_survive_any_split(msgs: list[bytes], where: list[int], delim: bytes) -> None:
    msgs = [m.replace(delim[:1], b"") for m in msgs]
    wire = b"".join(encode_line(m, delim) for m in msgs)
    buf = ReceiveBuffer()
    out = []
    for piece in _split(wire, where):
        buf.feed(piece)
        while (line := buf.take_until(delim, 1000)) is not None:
            out.append(line[: -len(delim)])
    assert out == msgs
    assert len(buf) == 0


@given(frames, cuts)
def test_frames_survive_any_split(msgs: list[bytes], where: list[int]) -> None:
    wire = b"".join(encode_frame(m) for m in msgs)
    buf = ReceiveBuffer()
    out = []
    for piece in _split(wire, where):
        buf.feed(piece)
        while (frame := buf.take_frame(1000)) is not None:
            out.append(frame)
    assert out == msgs


@given(st.integers(min_value=1, max_value=200), cuts)
def test_line_limit_is_enforced_whatever_the_split(limit: int, where: list[int]) -> None:
    wire = b"x" * (limit + 5) + b"\n"
    buf = ReceiveBuffer()
    with pytest.raises(ProtocolError):
        for piece in _split(wire, where):
            buf.feed(piece)
            buf.take_until(b"\n", limit)
