"""The sans-IO HTTP/2 core (netwire.http.h2_core.H2Core) against an in-memory h2 server: no
sockets, every byte handed over by the test."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import pytest

from netwire.errors import ConnectionTerminated, H2ProtocolError, LocalProtocolError, StreamReset
from netwire.http.h2_core import H2Core, H2Limits


class Pair:
    """A client core and an h2 server connected by hand."""

    def __init__(self, limits: H2Limits | None = None) -> None:
        self.core = H2Core("test", limits or H2Limits())
        self.server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
        self.server.initiate_connection()
        self.core.start()
        self.events: list[h2.events.Event] = []
        self.pump()

    def pump(self) -> None:
        for _ in range(10):
            out = self.core.data_to_send()
            if out:
                self.events += self.server.receive_data(out)
            back = self.server.data_to_send()
            if back:
                self.core.receive(back)
            if not out and not back:
                return

    def respond(self, sid: int, body: bytes = b"hi", headers: list[tuple[str, str]] | None = None) -> None:
        self.server.send_headers(sid, [(":status", "200"), *(headers or [("server", "test")])])
        self.server.send_data(sid, body, end_stream=True)
        self.pump()


def test_settings_windows_and_push_off() -> None:
    p = Pair()
    assert p.core.settings_received
    remote = p.server.remote_settings
    assert remote.enable_push == 0
    assert remote.initial_window_size == 4 * 1024 * 1024
    assert remote.max_header_list_size == 64 * 1024
    # The connection window was raised to 16 MiB (WINDOW_UPDATE on stream 0).
    assert p.server.outbound_flow_control_window == 16 * 1024 * 1024


def test_a_response_and_its_window_handed_back_as_consumed() -> None:
    p = Pair()
    stream = p.core.open_stream("GET", "https", "example.com", "/", [("Accept", "*/*"), ("Connection", "x")], True)
    p.pump()
    request = next(e for e in p.events if isinstance(e, h2.events.RequestReceived))
    names = [k for k, _ in request.headers]
    assert names[:4] == [b":method", b":scheme", b":authority", b":path"]
    assert b"accept" in names and b"connection" not in names
    body = b"z" * 100_000
    p.server.send_headers(stream.stream_id, [(":status", "200")])
    p.server.send_data(stream.stream_id, body[:16384])
    p.pump()
    window_before = p.server.remote_flow_control_window(stream.stream_id)
    assert stream.unacked == 16384
    p.core.consumed(stream, stream.unacked)
    p.pump()
    assert stream.unacked == 0
    assert p.server.remote_flow_control_window(stream.stream_id) >= window_before
    assert stream.head is not None and stream.head.status == 200 and stream.head.http_version == "2"


def test_identical_header_blocks_decode_the_same() -> None:
    # The repeat decoder hands back a remembered decoding only while the dynamic table stays
    # empty; h2's server indexes headers, so the second response refers to its table.
    p = Pair()
    heads = []
    for _ in range(3):
        s = p.core.open_stream("GET", "https", "example.com", "/", [], True)
        p.pump()
        p.respond(s.stream_id, headers=[("x-a", "1"), ("date", "today")])
        heads.append(s.head.headers if s.head else None)
    assert heads[0] == heads[1] == heads[2] == [("x-a", "1"), ("date", "today")]


def test_repeat_decoder_reuses_only_table_free_blocks() -> None:
    from hpack import Encoder, NeverIndexedHeaderTuple

    decoder = Pair().core.conn.decoder
    # Never-indexed literals leave the dynamic table alone: remembered, and the same each time.
    block = Encoder().encode([NeverIndexedHeaderTuple(":status", "200"), NeverIndexedHeaderTuple("x-b", "2")])
    first = list(decoder.decode(block))
    assert list(decoder.decode(block)) == first == [(":status", "200"), ("x-b", "2")]
    assert len(decoder._seen) == 1
    # Indexed literals fill the table: decoded every time, and right (the second block refers
    # to the entries the first added).
    indexing = Encoder()
    b1 = indexing.encode([(":status", "200"), ("x-c", "3")])
    b2 = indexing.encode([(":status", "200"), ("x-c", "3")])
    assert b1 != b2
    assert list(decoder.decode(b1)) == list(decoder.decode(b2)) == [(":status", "200"), ("x-c", "3")]
    assert len(decoder._seen) == 1


def test_outbound_header_with_newline_is_refused() -> None:
    p = Pair()
    with pytest.raises(LocalProtocolError, match="invalid characters"):
        p.core.open_stream("GET", "https", "example.com", "/", [("x-evil", "a\r\nb: c")], True)


def test_rst_stream_fails_one_stream_goaway_marks_the_later_ones_retriable() -> None:
    p = Pair()
    s1 = p.core.open_stream("GET", "https", "e.com", "/1", [], True)
    s2 = p.core.open_stream("GET", "https", "e.com", "/2", [], True)
    s3 = p.core.open_stream("GET", "https", "e.com", "/3", [], True)
    p.pump()
    p.server.reset_stream(s1.stream_id, 2)
    p.pump()
    assert isinstance(s1.error, StreamReset) and s1.error.error_code == 2
    assert s2.error is None and s3.error is None
    p.server.close_connection(0, last_stream_id=s2.stream_id)
    p.pump()
    assert isinstance(s3.error, ConnectionTerminated) and s3.error.retriable
    assert s2.error is None and not p.core.usable


def test_control_frame_flood_is_cut_off() -> None:
    p = Pair(H2Limits(max_control_frames=50))
    for _ in range(60):
        p.server.ping(b"12345678")
    with pytest.raises(H2ProtocolError, match="flood"):
        p.core.receive(p.server.data_to_send())
    assert p.core.error is not None


@pytest.mark.parametrize(
    "kwargs",
    [{"connection_window": 10}, {"stream_window": 0}, {"max_header_list_size": 0}, {"header_table_size": -1}],
)
def test_limits_are_checked(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        H2Limits(**kwargs)
