"""The sync body's pending bytes: a body that came with its head is handed over as it is, and
pieces that arrive together (many chunks in one read) are read in any sizes, whole, into a
buffer or by iteration, always the same bytes, and the connection is reused afterwards.

``ResponseBody`` keeps the one piece it got as bytes (no copy) and turns to a bytearray only
when a second piece joins or a read takes part of it: these pin both shapes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import netwire
from tests.servers.raw import RawRecorder

BODY = bytes(range(256)) * 3
# Many chunks in one reply: the parser gives several Data events from one read.
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
    b"%x\r\n%b\r\n" % (len(piece), piece) for piece in (BODY[i : i + 7] for i in range(0, len(BODY), 7))
) + b"0\r\n\r\n"
SIZED = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(BODY), BODY)


def _read_in(response: netwire.Response, how: str) -> bytes:
    if how == "whole":
        return response.read()
    if how == "small reads":
        parts = []
        while chunk := response.read(5):
            parts.append(chunk)
        return b"".join(parts)
    if how == "readinto":
        out = bytearray()
        buf = bytearray(11)
        while n := response.readinto(buf):
            out += buf[:n]
        return bytes(out)
    if how == "one then rest":
        return response.read(1) + response.read()
    return b"".join(response.iter_bytes(13))


@pytest.mark.parametrize("reply", [CHUNKED, SIZED], ids=["many chunks", "content-length"])
@pytest.mark.parametrize("how", ["whole", "small reads", "readinto", "one then rest", "iter_bytes"])
def test_pieces_read_in_any_sizes_give_the_body(
    recorder: Callable[..., RawRecorder], reply: bytes, how: str
) -> None:
    server = recorder(reply)
    with netwire.Client() as client:
        for _ in range(2):  # the second on the same connection: the first was read to its end
            with client.stream("GET", server.url("/")) as response:
                assert _read_in(response, how) == BODY
        assert client.get(server.url("/")).content == BODY
    assert server.connections == 1
