"""The sans-IO HTTP/2 core (netwire.http.h2_core.H2Core) against an in-memory h2 server: no
sockets, every byte handed over by the test."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import h2.settings
import h2.stream
import pytest
from hyperframe.frame import DataFrame

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


# -- opening streams without h2's send_headers (h2_core._direct_headers) --------------------------


def _h2_path(core: H2Core) -> H2Core:
    core._direct = None  # what H2Core does with an h2 whose internals it does not know
    return core


@pytest.mark.parametrize(
    ("method", "fields", "end"),
    [
        ("GET", [("User-Agent", "netwire"), ("Accept", "*/*"), ("TE", "trailers"), ("Connection", "close")], True),
        ("POST", [("content-type", "text/plain"), ("authorization", "Bearer x")], False),
        # A header block above the 16 KiB MAX_FRAME_SIZE: HEADERS then CONTINUATION frames.
        ("GET", [(f"x-big-{i}", "v" * 1000) for i in range(40)], True),
    ],
)
def test_direct_headers_write_the_bytes_h2_writes(method: str, fields: list[tuple[str, str]], end: bool) -> None:
    direct, reference = H2Core("test"), _h2_path(H2Core("test"))
    assert direct._direct is not None
    for core in (direct, reference):
        core.start()
        core.data_to_send()
    for path in ("/a", "/b", "/a"):
        a = direct.open_stream(method, "https", "example.com", path, fields, end)
        b = reference.open_stream(method, "https", "example.com", path, fields, end)
        assert a.stream_id == b.stream_id
        assert direct.data_to_send() == reference.data_to_send()
    state = direct.conn.streams[a.stream_id]
    assert state.state_machine.state == reference.conn.streams[b.stream_id].state_machine.state
    assert state.request_method == method.encode() and state._authority == b"example.com"


def test_a_head_response_with_content_length_and_no_body_ends_cleanly() -> None:
    # h2 lets a HEAD response announce a length it does not send only if it knows the method,
    # which send_headers recorded and _direct_headers must record too (an empty DATA frame
    # with END_STREAM makes h2 compare the length announced with the length received).
    p = Pair()
    s = p.core.open_stream("HEAD", "https", "example.com", "/", [], True)
    p.pump()
    p.server.send_headers(s.stream_id, [(":status", "200"), ("content-length", "1000")])
    p.server.send_data(s.stream_id, b"", end_stream=True)
    p.pump()
    assert s.done and s.error is None and p.core.error is None


def test_closed_streams_are_forgotten_and_late_frames_on_them_ignored() -> None:
    p = Pair()
    for _ in range(50):
        s = p.core.open_stream("GET", "https", "example.com", "/", [], True)
        p.pump()
        p.respond(s.stream_id)
        assert p.core.release(s)
    cancelled = p.core.open_stream("GET", "https", "example.com", "/slow", [], True)
    p.pump()
    assert not p.core.release(cancelled)  # RST_STREAM CANCEL, forgotten at once
    assert len(p.core.conn.streams) == 0
    # ... with how it closed, which h2's rules for frames arriving on it look at.
    assert p.core.conn._closed_streams[cancelled.stream_id] == h2.stream.StreamClosedBy.SEND_RST_STREAM
    # Data the server sent before it saw the RST_STREAM: ignored (h2 knows we reset that stream),
    # the connection is fine.
    data = DataFrame(cancelled.stream_id)
    data.data = b"late"
    p.core.receive(data.serialize())
    assert p.core.error is None
    ok = p.core.open_stream("GET", "https", "example.com", "/", [], True)
    p.pump()
    p.respond(ok.stream_id)
    assert ok.done and ok.error is None


def test_streams_beyond_the_peers_limit_are_refused() -> None:
    p = Pair()
    assert p.core.max_streams == 100  # what the h2 server announced first
    p.server.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 2})
    p.pump()
    assert p.core.max_streams == 2 and p.core.has_capacity()
    p.core.open_stream("GET", "https", "example.com", "/1", [], True)
    p.core.open_stream("GET", "https", "example.com", "/2", [], True)
    assert not p.core.has_capacity()
    with pytest.raises(LocalProtocolError, match="Max outbound streams is 2"):
        p.core.open_stream("GET", "https", "example.com", "/3", [], True)


def test_a_bad_field_is_refused_even_after_good_ones_were_sent() -> None:
    # Fields are checked when first encoded on a connection; a known field skips the check,
    # an invalid one is never remembered, so it is refused every time.
    p = Pair()
    good = [("x-a", "1"), ("accept", "*/*")]
    p.core.open_stream("GET", "https", "example.com", "/", good, True)
    for bad in ([("x-a", "1\n")], [("X-A\r", "1")], [("x-a", "1\x00")], [("bad name", "1")]):
        for _ in range(2):
            with pytest.raises(LocalProtocolError, match="invalid characters"):
                p.core.open_stream("GET", "https", "example.com", "/", good + bad, True)
    with pytest.raises(LocalProtocolError, match="invalid characters"):
        p.core.open_stream("GET", "https", "example.com", "/\r\nx", good, True)
    # Nothing was sent for the refused requests, and the connection still works.
    s = p.core.open_stream("GET", "https", "example.com", "/", good, True)
    p.pump()
    p.respond(s.stream_id)
    assert s.done and s.error is None
    assert [e.stream_id for e in p.events if isinstance(e, h2.events.RequestReceived)] == [1, s.stream_id]


@pytest.mark.parametrize("window", [65535, 16 * 1024 * 1024])
def test_credit_of_ended_streams_is_gathered_and_never_lost(window: int) -> None:
    # Windows handed back for streams that ended are batched (consumed): over many responses
    # of more than the whole connection window, none is lost, or the server could not send.
    p = Pair(H2Limits(connection_window=window, stream_window=65535))
    body = b"b" * 10_000
    total = 0
    while total < 3 * window:
        s = p.core.open_stream("GET", "https", "example.com", "/", [], True)
        p.pump()
        p.respond(s.stream_id, body)
        assert s.done and s.buffered == len(body)
        p.core.consumed(s, s.unacked)
        assert p.core.release(s)
        total += len(body)
    # What is held back is a sliver of the window (h2 itself gives credit back by halves).
    assert p.core._credit < max(window // 16, 1)
    assert p.server.outbound_flow_control_window >= window // 2 - window // 16 - len(body)


def test_response_fields_keep_their_order_and_repeats() -> None:
    # h2's inbound normalisation (off) joined repeated cookie fields and moved them last.
    p = Pair()
    s = p.core.open_stream("GET", "https", "example.com", "/", [], True)
    p.pump()
    fields = [("cookie", "a=1"), ("x-a", "1"), ("cookie", "b=2"), ("x-b", "2")]
    p.respond(s.stream_id, headers=fields)
    assert s.head is not None and s.head.headers == fields
