"""The sans-IO HTTP/2 core (netwire.http.h2_core.H2Core) against an in-memory h2 server: no
sockets, every byte handed over by the test."""

from __future__ import annotations

from collections.abc import Callable

import h2.config
import h2.connection
import h2.events
import h2.settings
import h2.stream
import hpack
import pytest
from hyperframe.frame import DataFrame, GoAwayFrame, HeadersFrame, PingFrame, RstStreamFrame, SettingsFrame

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


# -- receiving response HEADERS and DATA without h2's per-frame dispatch (h2_core._direct_receive) --


def _hblock(encoder: hpack.Encoder, fields: list[tuple[str, str]], sid: int = 1, *flags: str) -> bytes:
    frame = HeadersFrame(sid)
    frame.data = encoder.encode(fields)
    frame.flags.add("END_HEADERS")
    for flag in flags:
        frame.flags.add(flag)
    return frame.serialize()


def _data(body: bytes, sid: int = 1, end: bool = False, pad: int = 0) -> bytes:
    frame = DataFrame(sid)
    frame.data = body
    if end:
        frame.flags.add("END_STREAM")
    if pad:
        frame.flags.add("PADDED")
        frame.pad_length = pad
    return frame.serialize()


def _scenarios() -> dict[str, Callable[[hpack.Encoder], list[bytes]]]:
    ok = [(":status", "200"), ("server", "test")]

    def rst(code: int) -> bytes:
        frame = RstStreamFrame(1)
        frame.error_code = code
        return frame.serialize()

    pings = b"".join(PingFrame(0, opaque_data=i.to_bytes(8, "big")).serialize() for i in range(600))

    def goaway(last: int) -> bytes:
        frame = GoAwayFrame(0)
        frame.last_stream_id = last
        frame.error_code = 0
        return frame.serialize()

    return {
        "head and body": lambda e: [_hblock(e, ok) + _data(b"hello") + _data(b" world", end=True)],
        "head and body, one frame a read": lambda e: [_hblock(e, ok), _data(b"hello"), _data(b"", end=True)],
        "head ending the stream": lambda e: [_hblock(e, ok, 1, "END_STREAM")],
        "content-length kept": lambda e: [_hblock(e, [*ok, ("content-length", "5")]) + _data(b"12345", end=True)],
        "more than content-length": lambda e: [_hblock(e, [*ok, ("content-length", "5")]) + _data(b"123456")],
        "less than content-length": lambda e: [_hblock(e, [*ok, ("content-length", "5")]) + _data(b"12", end=True)],
        "bad content-length": lambda e: [_hblock(e, [*ok, ("content-length", "5x")])],
        "conflicting content-lengths": lambda e: [_hblock(e, [*ok, ("content-length", "5"), ("content-length", "6")])],
        "data before the head": lambda e: [_data(b"early")],
        "1xx then the head": lambda e: [_hblock(e, [(":status", "103"), ("link", "</a>")]) + _hblock(e, ok) + _data(b"x", end=True)],
        "1xx ending the stream": lambda e: [_hblock(e, [(":status", "100")], 1, "END_STREAM")],
        "trailers": lambda e: [_hblock(e, ok) + _data(b"x") + _hblock(e, [("x-sum", "1")], 1, "END_STREAM")],
        "trailers without END_STREAM": lambda e: [_hblock(e, ok) + _data(b"x") + _hblock(e, [("x-sum", "1")])],
        "data after the end": lambda e: [_hblock(e, ok, 1, "END_STREAM") + _data(b"late")],
        "head after the end": lambda e: [_hblock(e, ok, 1, "END_STREAM") + _hblock(e, ok)],
        "padded data": lambda e: [_hblock(e, ok) + _data(b"abc", end=True, pad=7)],
        "data beyond the stream window": lambda e: [_hblock(e, ok) + _data(b"z" * 16000) + _data(b"z" * 16000)],
        "reset after the head, then data": lambda e: [_hblock(e, ok) + rst(2) + _data(b"late")],
        "goaway, then the response": lambda e: [goaway(1) + _hblock(e, ok) + _data(b"x", end=True)],
        "goaway below the stream, then data": lambda e: [goaway(0) + _hblock(e, ok) + _data(b"x", end=True)],
        "head on a stream never opened": lambda e: [_hblock(e, ok, 3)],
        "data on a stream never opened": lambda e: [_hblock(e, ok) + _data(b"x", sid=3)],
        "bad HPACK": lambda e: [HeadersFrame(1, data=b"\xff\xff\xff\xff\xff\xff", flags=["END_HEADERS"]).serialize()],
        "no :status": lambda e: [_hblock(e, [("server", "test")], 1, "END_STREAM")],
        "a header field h2 forbids": lambda e: [_hblock(e, [*ok, ("connection", "close")], 1, "END_STREAM")],
        # Stream progress (the head; an empty DATA frame ending the stream) resets the count of
        # control frames in a row: 3 x 600 PINGs is no flood (the limit is 1000).
        "pings around progress": lambda e: [pings + _hblock(e, ok) + pings + _data(b"", end=True) + pings],
    }


def _outcome(direct: bool, scenario: str, body: bool = False, release: bool = False) -> tuple[object, ...]:
    core = H2Core("test", H2Limits(stream_window=20_000))
    if not direct:
        core._direct_in = None
    core.start()
    core.receive(SettingsFrame(0).serialize())
    s = core.open_stream("POST" if body else "GET", "https", "example.com", "/", [], not body)
    if release:
        core.release(s)
    core.data_to_send()
    error: tuple[object, ...] | None = None
    try:
        for read in _scenarios()[scenario](hpack.Encoder()):
            core.receive(read)
    except H2ProtocolError as exc:
        error = (type(exc), exc.error_code, str(exc))
    state = core.conn.streams.get(s.stream_id)
    # What came before a connection error in the same read is applied by the direct path (frame
    # by frame, as if each came in a read of its own) and not by h2's receive_data (all events or
    # none): the stream has ended or failed either way.
    progress = None if error else (
        None if s.head is None else (s.head.status, s.head.headers),
        b"".join(bytes(c) for c in s.chunks),
        s.buffered,
        s.unacked,
        s.done,
        s.received_any,
        None if s.error is None else (type(s.error), str(s.error)),
    )
    assert s.done or s.error is not None or not error or release  # nothing is left hanging
    return (
        error,
        progress,
        s.trailers,
        [(i.status, i.headers) for i in s.interim],
        None if state is None else (state.state_machine.state, state.state_machine.stream_closed_by),
        core.conn.state_machine.state,
        core.conn._inbound_flow_control_window_manager.current_window_size,
        core.goaway is not None,
        core.data_to_send(),  # GOAWAY, RST_STREAM, WINDOW_UPDATE: the same bytes
    )


@pytest.mark.parametrize("scenario", list(_scenarios()))
@pytest.mark.parametrize(("body", "release"), [(False, False), (True, False), (False, True)], ids=["get", "post", "released"])
def test_direct_receive_does_what_h2_does(scenario: str, body: bool, release: bool) -> None:
    # The same frames, through the direct path and through h2 alone: the same streams, errors,
    # h2 states, windows and bytes to send, for the hot frames and for every state they are
    # handed to h2 in (a stream still sending its body, released, reset, after GOAWAY).
    assert _outcome(True, scenario, body, release) == _outcome(False, scenario, body, release)


def test_direct_receive_takes_response_frames_without_h2s_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the server's SETTINGS goes through h2's _receive_frame: the HEADERS and the DATA of
    # the 20 responses are taken by the direct path (what makes a small response cheap).
    core = H2Core("test")
    core.start()
    through_h2: list[str] = []
    receive_frame = core.conn._receive_frame

    def counting(frame: object) -> object:
        through_h2.append(type(frame).__name__)
        return receive_frame(frame)

    monkeypatch.setattr(core.conn, "_receive_frame", counting)
    core.receive(SettingsFrame(0).serialize())
    streams = [core.open_stream("GET", "https", "example.com", "/", [], True) for _ in range(20)]
    encoder = hpack.Encoder()
    wire = b"".join(_hblock(encoder, [(":status", "200")], s.stream_id) + _data(b"x" * 128, s.stream_id, True) for s in streams)
    core.receive(wire)
    assert through_h2 == ["SettingsFrame"]
    assert all(s.done and s.head is not None and s.buffered == 128 for s in streams)


def test_a_bad_hpack_block_is_named_as_such() -> None:
    # An HPACK integer "longer than 5 continuation octets" is bad HPACK, not a header block in too
    # many CONTINUATION frames (which h2 reports as "Too many continuation frames received").
    error = _outcome(True, "bad HPACK")[0]
    assert isinstance(error, tuple)
    assert "CONTINUATION" not in error[2] and "a protocol violation" in error[2]


def test_a_repeated_request_reuses_its_whole_header_block(monkeypatch: pytest.MonkeyPatch) -> None:
    direct, reference = H2Core("test"), _h2_path(H2Core("test"))
    fields = [("User-Agent", "netwire"), ("Accept", "*/*")]
    for core in (direct, reference):
        core.start()
        core.data_to_send()
    direct.open_stream("GET", "https", "example.com", "/", fields, True)
    reference.open_stream("GET", "https", "example.com", "/", fields, True)
    assert direct.data_to_send() == reference.data_to_send()
    assert len(direct._blocks) == 1

    def no_field_encoding(*args: object) -> bytes:
        raise AssertionError("a remembered request was encoded field by field")

    monkeypatch.setattr(direct._encoder, "field", no_field_encoding)
    for _ in range(3):
        direct.open_stream("GET", "https", "example.com", "/", fields, True)
        reference.open_stream("GET", "https", "example.com", "/", fields, True)
        assert direct.data_to_send() == reference.data_to_send()


def test_a_remembered_block_follows_a_table_size_change_and_credentials_are_not_kept() -> None:
    # The server shrinks the HPACK table: the next header block starts with the size update
    # (once), remembered blocks or not; blocks with credentials are never remembered.
    direct, reference = H2Core("test"), _h2_path(H2Core("test"))
    settings = SettingsFrame(0)
    settings.settings[SettingsFrame.HEADER_TABLE_SIZE] = 0
    for core in (direct, reference):
        core.start()
        core.receive(SettingsFrame(0).serialize())
        core.data_to_send()
    secret = [("authorization", "Bearer x"), ("cookie", "a=1")]
    for round_ in range(4):
        if round_ == 2:
            for core in (direct, reference):
                core.receive(settings.serialize())
        for fields in ([], secret):
            direct.open_stream("GET", "https", "example.com", "/", fields, True)
            reference.open_stream("GET", "https", "example.com", "/", fields, True)
            assert direct.data_to_send() == reference.data_to_send()
    assert all("Bearer x" not in key for key in direct._blocks)
    assert list(direct._blocks) == [("GET", "https", "example.com", "/")]


def test_a_remembered_response_head_is_a_fresh_copy_each_time() -> None:
    # Heads are remembered by their decoded fields (H2Core._head): a caller changing its
    # response's fields does not change the next response's.
    p = Pair()
    heads = []
    for _ in range(3):
        s = p.core.open_stream("GET", "https", "example.com", "/", [], True)
        p.pump()
        p.respond(s.stream_id, headers=[("server", "test"), ("x-a", "1")])
        assert s.head is not None
        heads.append(s.head)
        s.head.headers.append(("x-changed", "by the caller"))
    assert [h.headers for h in heads] == [[("server", "test"), ("x-a", "1"), ("x-changed", "by the caller")]] * 3
    assert len(p.core._heads) == 1


def test_a_response_head_as_text_gives_the_fields_back_as_sent() -> None:
    # _head hands the header section over as text (ResponseHead.raw_fields, as the HTTP/1.1
    # parser's fast path does): the fields, their order, repeats, colons and empty values survive.
    from netwire.http.models import Headers

    p = Pair()
    fields = [("x-a", "1"), ("set-cookie", "a=1"), ("set-cookie", "b=2"), ("x-url", "http://h:1/p"), ("x-empty", "")]
    s = p.core.open_stream("GET", "https", "example.com", "/", [], True)
    p.pump()
    p.respond(s.stream_id, headers=fields)
    assert s.head is not None and s.head.raw_fields is not None
    headers = Headers._from_raw(s.head.raw_fields, s.head.raw_lower)
    assert headers["X-URL"] == "http://h:1/p" and headers["x-empty"] == "" and headers.get("X-A") == "1"
    assert headers.get_all("set-cookie") == ["a=1", "b=2"] and headers.get("x-missing") is None
    assert s.head.headers == fields and headers.multi_items() == fields
