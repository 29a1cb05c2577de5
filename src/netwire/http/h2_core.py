"""The HTTP/2 connection core shared by the sync and the async client: no I/O, no clock.

:class:`H2Core` wraps one client-side ``h2.connection.H2Connection`` (the sans-IO frame layer
and HPACK of the ``h2`` package, the ``netwire[http2]`` extra) and turns its events into
netwire's own terms, per stream: a :class:`~netwire.http11.ResponseHead`, body chunks,
trailers, the end, or a typed error. Its drivers (:mod:`netwire.http.h2_connection` for
threads, :mod:`netwire.http.aio_h2_connection` for asyncio) feed it the bytes they read,
write what :meth:`H2Core.data_to_send` returns, and wait; every protocol decision is here once.

What it settles, and why:

* **Windows sized for throughput.** The default 64 KiB windows cap a stream at one window per
  round trip; the connection window is raised to :attr:`H2Limits.connection_window` (16 MiB)
  and each stream's to :attr:`H2Limits.stream_window` (4 MiB). Received data is acknowledged
  only as the caller consumes it (:meth:`H2Core.consumed`), so a slow reader holds the
  server back instead of buffering without bound: the windows are the memory bound.
* **Server push refused** (``ENABLE_PUSH=0``): a PUSH_PROMISE is then a protocol error.
* **Limits against a hostile server** (SECURITY.md): the header list size and HPACK table
  size we advertise are enforced by the decoder; ``h2`` refuses a header block spread over more
  than 64 CONTINUATION frames and any frame above our MAX_FRAME_SIZE; a flood of control
  frames (SETTINGS, PING, PRIORITY, unknown types) with no stream progress between them is cut
  off at :attr:`H2Limits.max_control_frames`. Each is an :class:`~netwire.errors.H2ProtocolError`
  that fails the connection (with a GOAWAY saying why).
* **GOAWAY**: streams above ``last_stream_id`` were never processed: they fail with a
  :class:`~netwire.errors.ConnectionTerminated` marked ``retriable`` (the drivers resend them on
  a new connection); the others may still complete. **RST_STREAM** fails its stream only
  (:class:`~netwire.errors.StreamReset`).

May import: ``errors``, ``http11`` (ResponseHead), ``h2`` (lazily, so netwire imports without it).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ..errors import ConnectionTerminated, H2ProtocolError, LocalProtocolError, MissingDependency, StreamReset
from .http11 import Informational, ResponseHead

if TYPE_CHECKING:
    from collections.abc import Callable

    from h2.connection import H2Connection
    from h2.events import ConnectionTerminated as _GoAway
    from h2.stream import H2Stream as _StreamState
    from h2.stream import H2StreamStateMachine, StreamClosedBy, StreamState
    from hyperframe.frame import DataFrame, HeadersFrame

    from ..url import URL

try:
    from h2.exceptions import H2Error as _H2Error
except ImportError:  # the extra is not installed: H2Core refuses to start anyway
    _H2Error = Exception  # type: ignore[assignment,misc]

__all__ = ["H2_VERSION", "DEFAULT_H2_LIMITS", "H2Core", "H2Limits", "H2Stream", "require_h2", "retriable"]

H2_VERSION = "2"
"""``Response.http_version`` of a response received over HTTP/2 (HTTP/1.1's is ``"1.1"``)."""

# RFC 9113 section 7 error codes used here.
_NO_ERROR = 0x0
_PROTOCOL_ERROR = 0x1
_INTERNAL_ERROR = 0x2
_REFUSED_STREAM = 0x7
_CANCEL = 0x8
_ENHANCE_YOUR_CALM = 0xB
# Stream ids are 31 bits; a connection close to running out is not given new streams.
_LAST_STREAM_ID = 2**31 - 1

# Headers that are connection-specific in HTTP/1.1 and forbidden in HTTP/2 (RFC 9113 8.2.2).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "expect", "te"}
)


# A field value must not hold CR, LF or NUL (RFC 9113 8.2.1); a name is a lower-case token
# (pseudo-header names start with a colon).
_FIELD_OK = re.compile(r"[^\r\n\x00]*\Z").match
_NAME_OK = re.compile(r":?[!#$%&'*+\-.^_`|~0-9a-z]+\Z").match


@dataclass(frozen=True)
class H2Limits:
    """HTTP/2 settings and limits (``Client(http2_limits=...)``); defaults in SECURITY.md."""

    connection_window: int = 16 * 1024 * 1024
    """Receive window of the whole connection (bytes): the most body data buffered, unread, per connection."""
    stream_window: int = 4 * 1024 * 1024
    """Initial receive window of each stream (SETTINGS_INITIAL_WINDOW_SIZE)."""
    max_header_list_size: int = 64 * 1024
    """The largest decoded response header list (SETTINGS_MAX_HEADER_LIST_SIZE, RFC 9113 6.5.2)."""
    header_table_size: int = 4096
    """The HPACK dynamic table the server may make us keep (SETTINGS_HEADER_TABLE_SIZE)."""
    max_control_frames: int = 1000
    """SETTINGS, PING, PRIORITY and unknown frames accepted in a row without stream progress."""
    max_concurrent_streams: int = 1000
    """Streams netwire opens on one connection at most, whatever larger number the server allows."""

    def __post_init__(self) -> None:
        if not 65535 <= self.connection_window <= 2**31 - 1:
            raise ValueError(f"connection_window must be in 65535..2**31-1, not {self.connection_window}")
        if not 1 <= self.stream_window <= 2**31 - 1:
            raise ValueError(f"stream_window must be in 1..2**31-1, not {self.stream_window}")
        for name in ("max_header_list_size", "max_control_frames", "max_concurrent_streams"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.header_table_size < 0:
            raise ValueError("header_table_size must be >= 0")


DEFAULT_H2_LIMITS = H2Limits()


def require_h2() -> None:
    """Raise :class:`~netwire.errors.MissingDependency` unless the ``h2`` package is importable."""
    try:
        import h2.connection  # noqa: F401
    except ImportError as exc:
        raise MissingDependency(
            "HTTP/2 needs the h2 package: pip install 'netwire[http2]' (or pass http2=False)"
        ) from exc


class H2Stream:
    """What arrived on one stream so far; read by the drivers, written by :class:`H2Core`."""

    __slots__ = (
        "buffered",
        "chunks",
        "done",
        "error",
        "head",
        "interim",
        "progress",
        "received_any",
        "stream_id",
        "trailers",
        "unacked",
    )

    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id
        self.head: ResponseHead | None = None
        # Body pieces not yet taken: bytes, or views of the frame reader's buffer (see Pieces).
        self.chunks: list[bytes | memoryview] = []
        self.buffered = 0
        self.unacked = 0  # flow-controlled bytes received and not yet handed back to the server
        self.done = False
        self.trailers: list[tuple[str, str]] = []
        self.error: BaseException | None = None
        self.interim: list[Informational] = []
        self.received_any = False
        # Bumped at each arrival for this stream: a read timeout restarts on it (control frames
        # on the connection do not count: a trickle of PINGs must not keep a stalled stream alive).
        self.progress = 0

    def __repr__(self) -> str:
        return f"<H2Stream {self.stream_id} done={self.done} error={self.error!r}>"


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class H2Core:
    """One HTTP/2 client connection's protocol state (see the module docstring).

    The driver calls :meth:`start`, then :meth:`receive` with each read, and writes
    :meth:`data_to_send` after every call. ``where`` names the peer in error messages.
    """

    def __init__(self, where: str, limits: H2Limits = DEFAULT_H2_LIMITS) -> None:
        require_h2()
        from h2.config import H2Configuration
        from h2.connection import H2Connection
        from h2.settings import SettingCodes, Settings

        self.where = where
        self.limits = limits
        # Outbound headers are checked here (open_stream), more cheaply than h2 does it field by
        # field.
        config = H2Configuration(
            client_side=True,
            header_encoding=None,
            # What the server sends is checked once per distinct header block by our decoder
            # (_h2_decoder, _check_fields) and _head/_trailers, not field by field by h2's
            # chain of generators on every response (a tenth of the CPU of a small GET).
            validate_inbound_headers=False,
            # h2's inbound normalisation only joins several ``cookie`` fields into one, moved to
            # the end: a rule for requests (RFC 9113 8.2.3) that a server's response has no use
            # for; off, a response's fields keep their order, as over HTTP/1.1, and h2 runs no
            # generator per field.
            normalize_inbound_headers=False,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        conn: H2Connection = H2Connection(config)
        conn.local_settings = Settings(
            client=True,
            initial_values={
                SettingCodes.ENABLE_PUSH: 0,
                SettingCodes.INITIAL_WINDOW_SIZE: limits.stream_window,
                SettingCodes.MAX_HEADER_LIST_SIZE: limits.max_header_list_size,
                SettingCodes.HEADER_TABLE_SIZE: limits.header_table_size,
                SettingCodes.MAX_CONCURRENT_STREAMS: 100,  # for pushes, which are off anyway
            },
        )
        # h2 applies our header limits to its HPACK decoder only once the server acknowledges
        # the SETTINGS; the first response may come before that: apply them from the start.
        conn.decoder = _h2_decoder(limits)
        conn.encoder = self._encoder = _caching_encoder()
        self._encoded: dict[tuple[str, str], bytes] = self._encoder._fields
        self._names: dict[str, str] = {}
        # Response heads by their decoded fields: (status, header section as text, lower-cased) (see _head).
        self._heads: dict[tuple[tuple[bytes, bytes], ...], tuple[int, str, str]] = {}
        # Whole request header blocks by (method, scheme, authority, path, *fields) (open_stream).
        self._blocks: dict[tuple[object, ...], bytes] = {}
        self._direct = _direct_headers(conn)
        self._credit = 0  # connection window consumed on ended streams, not yet given back
        # The server's SETTINGS_MAX_CONCURRENT_STREAMS, read from h2's settings (a property
        # chain) only when a SETTINGS frame changes it, not on every request.
        self._peer_max: int = conn.remote_settings.max_concurrent_streams
        # Never more than a sixteenth of the window held back, whatever window is configured.
        self._credit_batch = min(_CREDIT_BATCH, limits.connection_window // 16)
        fast = _fast_frames(conn)
        # The hot frames' own path around h2's per-frame dispatch (None: h2 takes them all).
        self._direct_in = _direct_receive(conn, *fast)
        _finish_after_goaway(conn)
        self.conn = conn
        self.streams: dict[int, H2Stream] = {}
        self.error: BaseException | None = None
        self.goaway: ConnectionTerminated | None = None
        self.settings_received = False
        self._control = 0

    # -- the connection ---------------------------------------------------------------------------

    def start(self) -> None:
        """Queue the connection preface, our SETTINGS and the connection window increase."""
        conn = self.conn
        conn.initiate_connection()
        extra = self.limits.connection_window - 65535
        if extra > 0:
            conn.increment_flow_control_window(extra)

    def data_to_send(self) -> bytes:
        return self.conn.data_to_send()

    @property
    def usable(self) -> bool:
        """Whether new streams may open here (no error, no GOAWAY, stream ids left)."""
        return self.error is None and self.goaway is None and self.conn.highest_outbound_stream_id < _LAST_STREAM_ID - 2

    @property
    def max_streams(self) -> int:
        """Concurrent streams allowed: the server's SETTINGS_MAX_CONCURRENT_STREAMS, within our cap."""
        return min(self._peer_max, self.limits.max_concurrent_streams)

    @property
    def active(self) -> int:
        """Streams in use by a caller (open, or with a response not yet taken to its end)."""
        return len(self.streams)

    def has_capacity(self) -> bool:
        return self.usable and len(self.streams) < self.max_streams

    def close(self) -> None:
        """Say goodbye (GOAWAY NO_ERROR) if the connection is still in good standing."""
        if self.error is None:
            try:
                self.conn.close_connection(_NO_ERROR)
            except _H2Error:  # already closed in h2's eyes: nothing to say
                pass

    def fail(self, error: BaseException) -> None:
        """The connection is unusable: every stream not yet ended fails with ``error``."""
        if self.error is None:
            self.error = error
        for stream in self.streams.values():
            if stream.error is None and not stream.done:
                stream.error = error
                stream.progress += 1

    def lost(self, reason: str) -> None:
        """The transport closed: streams still open fail (retriable if GOAWAY said so)."""
        goaway = self.goaway
        for stream in self.streams.values():
            if stream.error is None and not stream.done:
                if goaway is not None:
                    # Processed (or begun) by the server, per its GOAWAY, and never finished.
                    stream.error = ConnectionTerminated(
                        f"{goaway.message}; stream {stream.stream_id} was cut off when the connection closed",
                        error_code=goaway.error_code,
                        last_stream_id=goaway.last_stream_id,
                    )
                else:
                    stream.error = ConnectionTerminated(f"HTTP/2 connection to {self.where} {reason}")
                stream.progress += 1
        if self.error is None:
            self.error = ConnectionTerminated(f"HTTP/2 connection to {self.where} {reason}")

    # -- streams ----------------------------------------------------------------------------------

    def open_stream(
        self, method: str, scheme: str, authority: str, path: str, fields: list[tuple[str, str]], end: bool
    ) -> H2Stream:
        """Send a request's HEADERS on a new stream (``end``: no body follows)."""
        direct = self._direct
        if direct is not None:
            # A request like one sent before on this connection (a crawler's or a client's
            # repeated GET): its whole header block, remembered, instead of a look-up per field.
            key = (method, scheme, authority, path, *fields)
            block = self._blocks.get(key)
            if block is not None and not self._encoder.header_table.resized:
                conn = self.conn
                stream_id = conn.get_next_available_stream_id()
                direct(conn, stream_id, block, method, authority, end, self._peer_max)
                stream = H2Stream(stream_id)
                self.streams[stream_id] = stream
                return stream
        headers: list[tuple[str, str]] = [
            (":method", method),
            (":scheme", scheme),
            (":authority", authority),
            (":path", path),
        ]
        names = self._names
        for name, value in fields:
            lower = names.get(name)
            if lower is None:
                lower = self._name(name)
            if lower:
                headers.append((lower, value))
            elif name.lower() == "te" and value.strip().lower() == "trailers":
                headers.append(("te", "trailers"))  # the one TE value HTTP/2 allows
        conn = self.conn
        stream_id = conn.get_next_available_stream_id()
        # The header block, encoded by our encoder. A field it has not seen on this connection
        # is checked first (RFC 9113 8.2.1): it holds every field it ever encoded, so a field it
        # knows was checked when it was first sent, and h2's own outbound checks are off.
        cache = self._encoded
        known = cache.get
        parts: list[bytes] = []
        for field in headers:
            encoded = known(field)
            if encoded is None:
                name, value = field
                if not _FIELD_OK(value) or not _NAME_OK(name):
                    raise LocalProtocolError(
                        f"cannot send the header {name!r}: {value!r} over HTTP/2 (invalid characters)"
                    )
                encoded = self._encoder.field(name, value)
            parts.append(encoded)
        if direct is not None:
            resized = self._encoder.header_table.resized
            block = self._encoder.join(parts)  # with a table size update first, if resized
            direct(conn, stream_id, block, method, authority, end, self._peer_max)
            if all(field in cache for field in headers):
                # Every field was remembered, so none is a credential (never remembered, see
                # _caching_encoder). What is kept is the fields alone: a table size update
                # goes once, and a block is reused only when none is due.
                blocks = self._blocks
                if len(blocks) >= _BLOCKS_KEEP:
                    blocks.clear()  # ever-changing paths: start over rather than grow
                blocks[key] = b"".join(parts) if resized else block
        else:  # an h2 whose internals _direct_headers does not know: its public send_headers
            import h2.exceptions

            try:
                conn.send_headers(stream_id, headers, end_stream=end)
            except h2.exceptions.ProtocolError as exc:
                raise LocalProtocolError(f"cannot send this request over HTTP/2: {exc}") from exc
        stream = H2Stream(stream_id)
        self.streams[stream_id] = stream
        return stream

    def _name(self, name: str) -> str:
        """``name`` as sent over HTTP/2: lower case, or "" if it is a connection-specific field
        HTTP/2 forbids (RFC 9113 8.2.2). Remembered: requests repeat their names."""
        lower = name.lower()
        result = "" if lower in _HOP_BY_HOP else lower
        names = self._names
        if len(names) >= _NAMES_KEEP:
            names.clear()
        names[name] = result
        return result

    def send_window(self, stream: H2Stream) -> int:
        """How many body bytes may be sent on ``stream`` now (the smaller flow-control window)."""
        try:
            return max(self.conn.local_flow_control_window(stream.stream_id), 0)
        except _H2Error:  # the stream closed (reset): nothing more may be sent
            return 0

    def send_data(self, stream: H2Stream, data: memoryview) -> int:
        """Send as much of ``data`` as the windows allow; returns the byte count sent."""
        size = min(len(data), self.send_window(stream))
        if size <= 0:
            return 0
        conn = self.conn
        frame = conn.max_outbound_frame_size
        sent = 0
        while sent < size:
            step = min(frame, size - sent)
            conn.send_data(stream.stream_id, data[sent : sent + step].tobytes())
            sent += step
        return sent

    def end_body(self, stream: H2Stream) -> None:
        """The request body is complete (END_STREAM); nothing to say if the server already
        answered in full and closed the stream (it may, RFC 9113 8.1)."""
        if stream.done or stream.error is not None:
            return
        try:
            self.conn.end_stream(stream.stream_id)
        except _H2Error:  # closed by the server meanwhile
            if not stream.done:
                raise

    def answered(self, stream: H2Stream) -> bool:
        """Whether sending the request body is pointless: the whole response came (the server
        answered early, RFC 9113 8.1) or the stream failed."""
        return stream.done or stream.error is not None

    def consumed(self, stream: H2Stream, size: int) -> None:
        """The caller took ``size`` bytes of ``stream``'s body: give that window back to the server."""
        if size <= 0 or stream.unacked <= 0 or self.error is not None:
            return
        size = min(size, stream.unacked)
        stream.unacked -= size
        if stream.done:
            # The server ended this stream: only the connection's window is left to give back.
            # Many small responses each owe a few bytes; h2's acknowledgement costs a stream
            # look-up and window bookkeeping per call, so the credit is gathered and handed
            # over in one call per _CREDIT_BATCH bytes (a sliver of the connection window).
            credit = self._credit + size
            if credit < self._credit_batch:
                self._credit = credit
                return
            size, self._credit = credit, 0
        try:
            self.conn.acknowledge_received_data(size, stream.stream_id)
        except _H2Error:  # closed in h2's eyes: the connection window was credited
            pass

    def release(self, stream: H2Stream) -> bool:
        """The caller is done with ``stream``; True if it ended cleanly. One not ended yet is
        cancelled (RST_STREAM CANCEL) without disturbing the others."""
        stream_id = stream.stream_id
        self.streams.pop(stream_id, None)
        clean = stream.done and stream.error is None
        if self.error is not None:
            return clean
        if not stream.done and stream.error is None:
            try:
                self.conn.reset_stream(stream.stream_id, _CANCEL)
            except _H2Error:  # already closed on h2's side
                pass
        if stream.unacked:
            # Give the connection window back for what was received and never read.
            unacked, stream.unacked = stream.unacked, 0
            try:
                self.conn.acknowledge_received_data(unacked, stream.stream_id)
            except _H2Error:  # closed in h2's eyes already
                pass
        if self._direct is not None:
            # h2's send_headers forgets closed streams by scanning all of them on each call;
            # _direct_headers does not, so a stream is forgotten here, once closed, the same way
            # (its closer kept, for frames that may still arrive on it).
            conn: Any = self.conn
            state = conn.streams.get(stream_id)
            if state is not None and state.closed:
                del conn.streams[stream_id]
                conn._closed_streams[stream_id] = state.closed_by
        return clean

    # -- receiving --------------------------------------------------------------------------------

    def feed(self, data: bytes | memoryview) -> None:
        """Buffer bytes read from the peer (copied: ``data`` may be reused), to be parsed by the
        next :meth:`receive` (``receive(b"")`` parses what was fed)."""
        if self.error is None:
            self.conn.incoming_buffer.add_data(data)

    def lend_views(self) -> None:
        """Let big DATA runs reach the streams as views of the read buffer (see ``Pieces``)
        rather than copies: for a driver whose readers copy them out promptly."""
        frames: Any = self.conn.incoming_buffer
        frames.lend = True

    def read_into(self, size: int) -> memoryview:
        """A view of the frame reader's buffer with room for ``size`` bytes: the driver reads
        (decrypts) straight into it, then calls :meth:`commit`; no copy between the socket and
        the frame parser. Release the view (``with``) before the next call."""
        frames: Any = self.conn.incoming_buffer  # our Frames (see _fast_frames)
        return frames.reserve(size)  # type: ignore[no-any-return]

    def commit(self, size: int) -> None:
        """``size`` bytes were read into the last :meth:`read_into` view; parsed by the next
        :meth:`receive` (``receive(b"")``)."""
        if self.error is None:
            frames: Any = self.conn.incoming_buffer
            frames.commit(size)

    def receive(self, data: bytes | list[bytes]) -> None:
        """Feed bytes read from the peer (or several reads at once: the frames are then parsed
        in one pass, not one per TLS record); updates the streams. Raises H2ProtocolError (the
        connection is then failed, and a GOAWAY is queued)."""
        if self.error is not None:
            return
        import h2.exceptions

        conn = self.conn
        if isinstance(data, list):
            if not data:
                return
            for part in data[:-1]:
                conn.incoming_buffer.add_data(part)
            data = data[-1]
        try:
            if self._direct_in is not None:
                # The response HEADERS and DATA of open streams are taken here, each other
                # frame by h2 (see _direct_receive); the events those give are handled in order.
                control = self._direct_in(conn, self, data)
            else:
                control = self._on_events(conn.receive_data(data), self._control)
        except h2.exceptions.ProtocolError as exc:
            error = self._protocol_error(exc)
            self.fail(error)
            raise error from exc
        self._control = control
        if control > self.limits.max_control_frames:
            error = H2ProtocolError(
                f"{self.where} sent more than {self.limits.max_control_frames} HTTP/2 control frames "
                "(SETTINGS, PING, ...) without progress: a flood",
                error_code=_ENHANCE_YOUR_CALM,
            )
            try:
                conn.close_connection(_ENHANCE_YOUR_CALM)
            except _H2Error:  # closed in h2's eyes already
                pass
            self.fail(error)
            raise error

    def _on_events(self, events: list[Any], control: int) -> int:
        """Apply h2's ``events`` to the streams; returns the control-frame count (``control``
        before them) since the last stream progress."""
        import h2.events as ev

        conn = self.conn
        streams = self.streams
        for event in events:
            kind = type(event)
            if kind is ev.DataReceived:
                stream = streams.get(event.stream_id)
                size = event.flow_controlled_length
                if stream is None or stream.error is not None:
                    # A stream we gave up on: hand the window back at once.
                    if size:
                        try:
                            conn.acknowledge_received_data(size, event.stream_id)
                        except _H2Error:  # closed in h2's eyes already
                            pass
                    continue
                data = event.data
                if data:
                    if type(data) is Pieces:
                        stream.chunks += data.views
                    else:
                        stream.chunks.append(data)
                    stream.buffered += len(data)
                    control = 0
                stream.unacked += size
                stream.received_any = True
                stream.progress += 1
            elif kind is ev.ResponseReceived:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.head = self._head(event.headers, event.stream_id)
                    stream.received_any = True
                    stream.progress += 1
                control = 0
            elif kind is ev.StreamEnded:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.done = True
                    stream.progress += 1
                control = 0
            elif kind is ev.TrailersReceived:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    if any(k[:1] == b":" for k, _ in event.headers):
                        raise self._broken(f"a pseudo-header field in the trailers of stream {event.stream_id}")
                    stream.trailers = [(_text(k), _text(v)) for k, v in event.headers]
                    stream.progress += 1
            elif kind is ev.InformationalResponseReceived:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    head = self._head(event.headers, event.stream_id)
                    stream.interim.append(Informational(head.status, "", head.headers))
                    stream.received_any = True
                    stream.progress += 1
            elif kind is ev.StreamReset:
                stream = streams.get(event.stream_id)
                if stream is not None and not stream.done:
                    code = int(event.error_code)
                    stream.error = StreamReset(
                        f"{self.where} reset HTTP/2 stream {event.stream_id} ({_code_name(code)})", error_code=code
                    )
                    stream.progress += 1
            elif kind is ev.ConnectionTerminated:
                self._on_goaway(event)
            elif kind is ev.RemoteSettingsChanged:
                self.settings_received = True
                self._peer_max = conn.remote_settings.max_concurrent_streams
                control += 1
            elif kind is ev.WindowUpdated:
                pass  # the drivers look at the windows again after every receive
            else:  # PING, SETTINGS ack, PRIORITY, unknown frames, ALTSVC...
                control += 1
        return control

    def _response(
        self,
        stream_id: int,
        headers: list[tuple[bytes, bytes]],
        end: bool,
        state: _StreamState,
        sm: H2StreamStateMachine,
        closed: StreamState,
        by_end: StreamClosedBy,
    ) -> None:
        """A response head on a half-closed (local) stream, as h2's ``receive_headers`` would
        take it (see ``_direct_receive``), then as ``_on_events`` applies its events."""
        sm.headers_received = True
        if end:
            sm.state = closed
            sm.stream_closed_by = by_end
        state._initialize_content_length(headers)  # a bad or conflicting one: ProtocolError
        stream = self.streams.get(stream_id)
        if stream is not None:
            stream.head = self._head(headers, stream_id)
            stream.received_any = True
            stream.done = end
            stream.progress += 1

    def _data(
        self, frame: DataFrame, state: _StreamState, sm: H2StreamStateMachine, closed: StreamState, by_end: StreamClosedBy
    ) -> None:
        """A DATA frame (unpadded, see ``_fast_frames``) on a half-closed (local) stream whose
        response head came, as h2's ``_receive_data_frame`` would take it (see
        ``_direct_receive``), then as ``_on_events`` applies its DataReceived and StreamEnded."""
        conn = self.conn
        size = frame.body_len
        end = "END_STREAM" in frame.flags
        conn._inbound_flow_control_window_manager.window_consumed(size)  # overrun: FlowControlError
        state._inbound_window_manager.window_consumed(size)
        state._track_content_length(size, end)  # more or less than content-length: ProtocolError
        if end:
            sm.state = closed
            sm.stream_closed_by = by_end
        stream_id = frame.stream_id
        stream = self.streams.get(stream_id)
        if stream is None or stream.error is not None:
            # A stream we gave up on: hand the window back at once.
            if size:
                try:
                    conn.acknowledge_received_data(size, stream_id)
                except _H2Error:  # closed in h2's eyes already
                    pass
            return
        if size:
            data: object = frame.data  # bytes, or Pieces (see _fast_frames)
            if type(data) is Pieces:
                stream.chunks += data.views
            else:
                stream.chunks.append(cast("bytes", data))
            stream.buffered += size
            stream.unacked += size
        stream.received_any = True
        if end:
            stream.done = True
        stream.progress += 1

    def _head(self, headers: list[tuple[bytes, bytes]], stream_id: int) -> ResponseHead:
        # The same head again (a server's responses to one resource differ in their Date once a
        # second, and the decoder hands back the very same bytes objects for a block it saw):
        # its status and text fields, remembered by content, instead of decoding each field.
        key = tuple(headers)
        known = self._heads.get(key)
        if known is None:
            # _check_fields let through one :status at most, before the other fields.
            if not headers or headers[0][0] != b":status":
                raise self._broken(f"a response without :status on stream {stream_id}")
            value = headers[0][1]
            if len(value) != 3 or not value.isdigit():
                raise self._broken(f"the :status {value[:20]!r} on stream {stream_id}")
            # As the HTTP/1.1 parser's fast path hands a head over: the header section as text,
            # which the response's Headers answer look-ups from without building a list or an
            # index (ResponseHead.raw_fields). _check_fields made it safe to write so: names
            # are lower-case tokens without a colon, values hold no CR, LF or NUL and have no
            # white space at either end, so splitting the text gives the fields back as sent.
            raw = "".join([f"\r\n{name.decode('latin-1')}: {value.decode('latin-1')}" for name, value in headers[1:]])
            raw += "\r\n"
            known = (int(value), raw, raw.lower())
            heads = self._heads
            if len(heads) >= _HEADS_KEEP:
                heads.clear()
            heads[key] = known
        status, raw, low = known
        head = ResponseHead._lazy(status, "", H2_VERSION, raw, low)
        head.keep_alive = True
        return head

    def _broken(self, what: str) -> H2ProtocolError:
        """The server broke HTTP/2's rules (RFC 9113 8.3): the connection fails with a GOAWAY
        PROTOCOL_ERROR; the error to raise."""
        error = H2ProtocolError(f"{self.where} sent {what} over HTTP/2", error_code=_PROTOCOL_ERROR)
        try:
            self.conn.close_connection(_PROTOCOL_ERROR)
        except _H2Error:  # closed in h2's eyes already
            pass
        self.fail(error)
        return error

    def _on_goaway(self, event: _GoAway) -> None:
        code = int(event.error_code or 0)  # h2 types it Optional; a GOAWAY always carries one
        last = event.last_stream_id
        message = f"{self.where} ended the HTTP/2 connection (GOAWAY {_code_name(code)}, last stream {last})"
        extra = getattr(event, "additional_data", None)
        if extra:
            message += f": {extra[:200].decode('utf-8', 'replace')}"
        self.goaway = ConnectionTerminated(message, error_code=code, last_stream_id=last)
        for stream in self.streams.values():
            if stream.stream_id > (last or 0) and stream.error is None and not stream.done:
                # Never processed (RFC 9113 6.8): safe to send again on another connection.
                stream.error = ConnectionTerminated(
                    message + f"; stream {stream.stream_id} was not processed",
                    error_code=code,
                    last_stream_id=last,
                    retriable=True,
                )
                stream.progress += 1

    def _protocol_error(self, exc: Exception) -> H2ProtocolError:
        import h2.exceptions

        code = int(getattr(exc, "error_code", _PROTOCOL_ERROR) or _PROTOCOL_ERROR)
        if isinstance(exc, h2.exceptions.DenialOfServiceError):
            what = "a header block beyond the limits (max_header_list_size / HPACK table size)"
        elif isinstance(exc, h2.exceptions.FrameTooLargeError):
            what = "a frame larger than MAX_FRAME_SIZE"
        elif "continuation frames" in str(exc).lower():  # h2: "Too many continuation frames received."
            what = "a header block in too many CONTINUATION frames"
        else:
            what = "a protocol violation"
        return H2ProtocolError(f"{self.where} sent {what} over HTTP/2: {exc}", error_code=code)


_CREDIT_BATCH = 64 * 1024  # connection window credit gathered before it is handed back (consumed)
_NAMES_KEEP = 256  # request field names remembered lower-cased per connection (H2Core._name)
_BLOCKS_KEEP = 64  # whole request header blocks remembered per connection (H2Core.open_stream)
_HEADS_KEEP = 32  # response heads remembered in text per connection (H2Core._head)
_DECODED_KEEP = 32  # header blocks remembered per connection (see _h2_decoder)


# Connection-specific fields, forbidden in HTTP/2 (RFC 9113 8.2.2); ``te`` is checked apart.
_CONNECTION_FIELDS = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"})
# A field name: no controls, space, upper case, DEL or non-ASCII, and a colon only in front
# (RFC 9113 8.2.1); a value: no NUL, CR or LF.
_NAME_FINE = re.compile(rb":?[^\x00-\x20A-Z\x7f-\xff:]+\Z").match
_VALUE_BAD = re.compile(rb"[\x00\r\n]").search


def _check_fields(headers: list[tuple[bytes, bytes]]) -> None:
    """The field rules of RFC 9113 8.2 and 8.3 for a block a server sent us (a response head,
    an interim response or trailers: the one pseudo-header possible is ``:status``, once, first;
    whether it must be there is checked where the block's role is known, ``H2Core._head``).
    Raises h2's ProtocolError, which fails the connection as h2's own checks did."""
    from h2.exceptions import ProtocolError

    seen_field = False
    seen_status = False
    for name, value in headers:
        if not _NAME_FINE(name):
            raise ProtocolError(f"Received invalid header name {name[:100]!r}")
        if value and (_VALUE_BAD(value) or value[:1] in b" \t" or value[-1:] in b" \t"):
            raise ProtocolError(f"Received invalid header value {value[:100]!r} for {name[:100]!r}")
        if name[0] == 0x3A:  # b":"
            if name != b":status" or seen_status or seen_field:
                raise ProtocolError(f"Received pseudo-header field {name!r} out of place (only one :status, first)")
            seen_status = True
            continue
        seen_field = True
        if name in _CONNECTION_FIELDS:
            raise ProtocolError(f"Connection-specific header field present: {name!r}")
        if name == b"te" and value.lower() != b"trailers":
            raise ProtocolError(f"Invalid value for TE header: {value[:100]!r}")


def _h2_decoder(limits: H2Limits) -> Any:
    """netwire's HPACK decoder (:mod:`netwire.http.hpack`) in the place ``h2`` calls its own.

    It speaks the ``hpack`` package's interface to ``h2``: ``decode(block, raw=True)``, the
    ``max_header_list_size`` and ``max_allowed_table_size`` attributes h2 sets from our
    acknowledged SETTINGS, and hpack's exceptions, which h2 turns into a ProtocolError (an
    oversized list into a DenialOfServiceError). Our limits apply from the first block, not
    from the server's SETTINGS acknowledgement on.

    A block seen before is decoded once when that is certain to give the same headers: the
    dynamic table was empty before and after, and the block holds no table size update. Servers
    that never index response headers (nginx's default) send byte-identical blocks for
    identical heads (the Date changes once a second); such a block refers to nothing that
    changes, so its decoded list is reused. Anything touching the dynamic table is decoded
    every time.
    """
    from hpack.exceptions import HPACKDecodingError, OversizedHeaderListError

    from .hpack import Decoder, HeaderListTooLarge, HPACKError

    class H2Decoder:
        def __init__(self) -> None:
            self.inner = Decoder(
                max_header_list_size=limits.max_header_list_size,
                max_allowed_table_size=limits.header_table_size,
            )
            self._seen: dict[bytes, list[tuple[bytes, bytes]]] = {}

        @property
        def max_header_list_size(self) -> int:
            return self.inner.max_header_list_size

        @max_header_list_size.setter
        def max_header_list_size(self, size: int) -> None:
            self.inner.max_header_list_size = size
            self._seen.clear()  # remembered lists were checked against the old limit

        @property
        def max_allowed_table_size(self) -> int:
            return self.inner.max_allowed_table_size

        @max_allowed_table_size.setter
        def max_allowed_table_size(self, size: int) -> None:
            self.inner.max_allowed_table_size = size

        def decode(self, data: bytes, raw: bool = False) -> list[Any]:
            headers = self._decode(data)
            if raw:
                return headers
            return [(name.decode("utf-8"), value.decode("utf-8")) for name, value in headers]  # as hpack does

        def _decode(self, data: bytes) -> list[tuple[bytes, bytes]]:
            inner = self.inner
            key = None
            if not inner.table and data[:1] and data[0] & 0xE0 != 0x20:
                key = bytes(data)
                seen = self._seen.get(key)
                if seen is not None:
                    return list(seen)
            try:
                headers = inner.decode(data)
            except HeaderListTooLarge as exc:
                raise OversizedHeaderListError(str(exc)) from exc
            except HPACKError as exc:
                raise HPACKDecodingError(str(exc)) from exc
            _check_fields(headers)
            if key is not None and not inner.table:
                if len(self._seen) >= _DECODED_KEEP:
                    self._seen.clear()
                self._seen[key] = headers
                return list(headers)
            return headers

    return H2Decoder()


# The flags of a DATA frame with END_STREAM built by _fast_frames (one set, shared).
_END_STREAM_FLAGS = frozenset({"END_STREAM"})

# A DATA run this large (and most of its read buffer) is lent as views, not copied.
_LEND_AT = 128 * 1024


class Pieces:
    """The payload of DATA frames joined by the frame reader: views of its read buffer, in
    order (``len`` is their total, which is what h2 looks at)."""

    __slots__ = ("size", "views")

    def __init__(self, views: list[memoryview], size: int) -> None:
        self.views = views
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __bytes__(self) -> bytes:
        return b"".join(self.views)


def _fast_frames(conn: H2Connection) -> tuple[type, type]:
    """Give ``conn`` a frame reader that is cheaper per frame than h2's (measured: bench_h2).

    Per received frame, h2's FrameBuffer copies the frame twice (a bytearray slice, then
    ``tobytes``), deletes it from the front of its buffer, and builds a hyperframe object whose
    ``Flags`` set is made anew; h2 then logs ``repr(frame)``, which hexlifies the whole payload
    of a DATA frame (16 KiB) to keep 20 characters of it: a fifth of the CPU of a large
    download. This reader walks its buffer with an offset (compacted once per read), parses each
    frame header with one ``struct.unpack_from``, and builds the common frames directly: DATA
    without padding (one copy, a cheap repr; the unpadded DATA frames of one stream that arrived
    together become one, so h2's per-frame state machine and events run once per read, not once
    per 16 KiB) and a whole HEADERS block (no padding, priority or CONTINUATION). Every other frame, and anything inside a header block, goes through
    hyperframe's parser as before, so h2's checks (CONTINUATION limit, frame and stream
    association rules, padding) apply unchanged. A frame above MAX_FRAME_SIZE is refused from
    its header, before its body is buffered. Returns the classes of the DATA and HEADERS frames
    it builds (their hot path: ``_direct_receive``).
    """
    from h2.exceptions import FrameDataMissingError, ProtocolError
    from h2.frame_buffer import FrameBuffer
    from hyperframe.exceptions import InvalidDataError, InvalidFrameError
    from hyperframe.flags import Flags
    from hyperframe.frame import DataFrame, Frame, HeadersFrame

    header = struct.Struct(">HBBBL").unpack_from
    end_stream = _END_STREAM_FLAGS
    no_flags: frozenset[str] = frozenset()
    end_headers = ("END_HEADERS",)
    end_both = ("END_HEADERS", "END_STREAM")

    class _FastData(DataFrame):
        """A DATA frame built without hyperframe's parser; its repr leaves the payload out."""

        pad_length = 0  # never padded (a padded one goes through hyperframe's parser)

        def __repr__(self) -> str:
            return f"DataFrame(stream_id={self.stream_id}, flags={sorted(self.flags)!r}): <{len(self.data)} bytes>"

    class _FastHeaders(HeadersFrame):
        """A whole HEADERS block (END_HEADERS, no padding or priority) built without
        hyperframe's parser; ``end``: it carries END_STREAM. What is the same for every such
        frame is a class attribute, and hyperframe's ``Flags`` set is made only if something
        reads it (h2, for a frame the direct path leaves to it): not for a response head."""

        end = False
        pad_length = 0
        depends_on = 0
        stream_weight = 0
        exclusive = False

        @property
        def flags(self) -> Flags:
            made = self.__dict__.get("_flags")
            if made is None:
                made = self._flags = Flags(HeadersFrame.defined_flags)
                for name in end_both if self.end else end_headers:
                    made.add(name)
            return made

        @flags.setter
        def flags(self, value: Flags) -> None:
            self._flags = value

    new_data = _FastData.__new__
    new_headers = _FastHeaders.__new__

    class Frames(FrameBuffer):
        def __init__(self) -> None:
            super().__init__(server=False)
            # self._data[_pos:_end] is unparsed; the rest is room the driver reads into. It is
            # never resized in place (a driver's view of it may still be alive: asyncio's
            # transports hold the get_buffer view until their read returns), only replaced.
            self._pos = 0
            self._end = 0
            self._lent = False  # views of self._data went out as DATA: never write it again
            self._spares: list[bytearray] = []  # lent buffers, reused once their views are gone
            # Whether big DATA runs may be lent as views (H2Core.lend_views): for a driver whose
            # readers copy them out promptly, so the buffer comes back.
            self.lend = False

        def reserve(self, size: int) -> memoryview:
            """Room for ``size`` bytes after the unparsed ones, to read into (then :meth:`commit`)."""
            buf = self._data
            pos, end = self._pos, self._end
            if pos == end and not self._lent:
                pos = end = self._pos = self._end = 0
            if len(buf) - end < size:
                left = end - pos
                if self._lent:
                    fresh = self._spare(left + size, len(buf))
                    fresh[:left] = buf[pos:end]
                    self._spares.append(buf)
                    self._data = buf = fresh
                    self._lent = False
                elif len(buf) - left >= size:
                    buf[:left] = buf[pos:end]  # slide the partial frame to the front (same size)
                else:
                    # Doubling while small; past that, what is asked plus some slack (the
                    # drivers bound what they read before parsing: _BATCH, _READ_BUFFER).
                    need = left + size
                    bigger = bytearray(max(need, min(len(buf) * 2, need + 256 * 1024)))
                    bigger[:left] = buf[pos:end]
                    self._data = buf = bigger
                self._pos, self._end = 0, left
                end = left
            return memoryview(buf)[end : end + size]

        def _spare(self, size: int, usual: int) -> bytearray:
            """A buffer of at least ``size`` bytes (``usual`` if new): a lent one whose views are all gone (a
            consumer copies them out promptly: recycling it spares the page faults of a fresh
            megabyte per read), else a new one."""
            spares = self._spares
            for i, old in enumerate(spares):
                if len(old) >= size:
                    try:
                        old.append(0)  # a resize: refused while a view of it is alive
                    except BufferError:
                        continue
                    old.pop()
                    del spares[i]
                    return old
            if len(spares) >= 2:
                del spares[0]  # still lent: left to the views holding it
            return bytearray(max(size, usual))

        def commit(self, size: int) -> None:
            """``size`` bytes were read into the view :meth:`reserve` returned."""
            self._end += size

        def add_data(self, data: Any) -> None:
            size = len(data)
            with self.reserve(size) as view:
                view[:] = data
            self._end += size

        def __next__(self) -> Frame:
            buf = self._data
            size = self._end
            while True:
                pos = self._pos
                if size - pos < 9:
                    raise StopIteration
                high, low, kind, flags, stream_id = header(buf, pos)
                length = (high << 8) + low
                if length > self.max_frame_size:
                    self._validate_frame_length(length)  # raises FrameTooLargeError
                start = pos + 9
                end = start + length
                whole = size >= end
                stream_id &= 0x7FFFFFFF
                frame: Any
                if kind == 0 and not flags & 0x08 and stream_id and not self._headers_buffer:
                    if not whole:
                        raise StopIteration
                    # The DATA frames of this stream that follow, already here, join this one
                    # (up to the one with END_STREAM): h2 then accounts for them in one go,
                    # the same flow-control window consumed, and the caller gets one chunk.
                    spans = [(start, end)]
                    total = length
                    while not flags & 0x01 and size - end >= 9:
                        high, low, kind, next_flags, next_id = header(buf, end)
                        length = (high << 8) + low
                        if kind or next_flags & 0x08 or next_id & 0x7FFFFFFF != stream_id:
                            break
                        if length > self.max_frame_size or size - end - 9 < length:
                            break  # refused, or waited for, on its own
                        spans.append((end + 9, end + 9 + length))
                        total += length
                        end += 9 + length
                        flags = next_flags
                    frame = new_data(_FastData)
                    frame.stream_id = stream_id
                    frame.flags = end_stream if flags & 0x01 else no_flags
                    frame.body_len = total
                    if self.lend and total >= _LEND_AT and total >= len(buf) >> 1:
                        # Most of this buffer is one stream's body (a big download): lend views
                        # of it instead of copying; the buffer is then never written again
                        # (reserve() moves on to a new one), and lives while they do. Lending
                        # only when most of it is body bounds what a small view can pin.
                        view = memoryview(buf)
                        frame.data = Pieces([view[a:b] for a, b in spans], total)
                        self._lent = True
                    else:
                        with memoryview(buf) as view:
                            if len(spans) == 1:
                                frame.data = view[start:end].tobytes()
                            else:
                                frame.data = b"".join([view[a:b] for a, b in spans])
                    self._pos = end
                    return frame  # type: ignore[no-any-return]
                if kind == 1 and flags & 0x04 and not flags & 0x28 and stream_id and not self._headers_buffer:
                    # HEADERS with END_HEADERS, without PADDED (0x08) or PRIORITY (0x20).
                    if not whole:
                        raise StopIteration
                    frame = new_headers(_FastHeaders)
                    frame.stream_id = stream_id
                    if flags & 0x01:
                        frame.end = True
                    frame.body_len = length
                    frame.data = bytes(buf[start:end])
                    self._pos = end
                    return frame  # type: ignore[no-any-return]
                # Everything else: hyperframe's parser and h2's header-block rules. The header
                # is checked (stream association) before the body is waited for, as h2 does.
                try:
                    frame, _ = Frame.parse_frame_header(memoryview(bytes(buf[pos:start])))
                except (InvalidDataError, InvalidFrameError) as err:
                    raise ProtocolError(f"Received frame with invalid header: {err!s}") from err
                if not whole:
                    raise StopIteration
                try:
                    frame.parse_body(memoryview(bytes(buf[start:end])))
                except InvalidDataError as err:
                    raise ProtocolError("Received frame with non-compliant data") from err
                except InvalidFrameError as err:
                    raise FrameDataMissingError("Frame data missing or invalid") from err
                self._pos = end
                found = self._update_header_buffer(frame)
                if found is not None:
                    return found

    conn.incoming_buffer = Frames()
    conn._frame_dispatch_table[_FastData] = conn._receive_data_frame
    conn._frame_dispatch_table[_FastHeaders] = conn._receive_headers_frame
    return _FastData, _FastHeaders


def _direct_receive(
    conn: H2Connection, fast_data: type, fast_headers: type
) -> Callable[[H2Connection, H2Core, bytes | memoryview], int] | None:
    """The receive loop of ``H2Core.receive`` with its own path for the two frames every
    response is made of, or None if this h2 is not the one it was written against (``H2Core``
    then uses ``receive_data``, all frames through h2).

    Per frame, h2's ``_receive_frame`` logs the frame's repr (formatted even with logging off),
    dispatches on its class, runs the connection's and the stream's state machines (each input a
    dict look-up, a transition function and a new event object), and for HEADERS builds header
    validation flags and runs an (empty) generator chain over the fields; the events are then
    sorted out again by ``H2Core``: a fifth of the CPU of a small request with 20 in flight.

    Here a response HEADERS block (the first on its stream, not 1xx) and DATA arrive on a
    stream in the state a request without a body leaves it in (half-closed local), while the
    connection is open: exactly the inputs whose transitions are fixed in h2's tables (checked
    below, at set-up), so their effects are applied directly: the stream's flags and state,
    both flow-control windows, the content-length check (h2's own methods), the HPACK decoding
    (h2's wrapper, so its errors are the same), and the H2Stream updated as ``_on_events``
    does. Every other frame, and these in any other state (trailers, 1xx, a stream still
    sending its body, reset or closed, a connection after GOAWAY), go through h2's
    ``_receive_frame`` one by one and their events are applied in order; a ProtocolError
    queues the GOAWAY as h2's ``receive_data`` does.
    """
    try:
        import h2
        from h2.connection import ConnectionInputs, ConnectionState, H2ConnectionStateMachine, _decode_headers
        from h2.errors import ErrorCodes
        from h2.exceptions import ProtocolError
        from h2.stream import H2StreamStateMachine, StreamClosedBy, StreamInputs, StreamState, _transitions
        from h2.utilities import is_informational_response
        from hyperframe.exceptions import InvalidPaddingError
    except ImportError:
        return None
    if not str(getattr(h2, "__version__", "")).startswith("4."):
        return None
    table = H2ConnectionStateMachine._transitions
    open_ = ConnectionState.CLIENT_OPEN
    half = StreamState.HALF_CLOSED_LOCAL
    closed = StreamState.CLOSED
    expected = (
        table.get((open_, ConnectionInputs.RECV_DATA)) == (None, open_)
        and table.get((open_, ConnectionInputs.RECV_HEADERS)) == (None, open_)
        and _transitions.get((half, StreamInputs.RECV_DATA)) == (H2StreamStateMachine.data_received, half)
        and _transitions.get((half, StreamInputs.RECV_HEADERS)) == (H2StreamStateMachine.response_received, half)
        and _transitions.get((half, StreamInputs.RECV_END_STREAM)) == (H2StreamStateMachine.stream_ended, closed)
    )
    needed = ("_receive_frame", "_terminate_connection", "_inbound_flow_control_window_manager", "decoder")
    if not expected or not all(hasattr(conn, name) for name in needed):
        return None
    by_end = StreamClosedBy.RECV_END_STREAM

    def receive(conn: H2Connection, core: H2Core, data: bytes | memoryview) -> int:
        frames = conn.incoming_buffer
        if data:
            frames.add_data(data)
        frames.max_frame_size = conn.max_inbound_frame_size
        control = core._control
        h2_streams = conn.streams
        machine = conn.state_machine
        try:
            for frame in frames:
                kind = frame.__class__
                if (kind is fast_data or kind is fast_headers) and machine.state is open_:
                    state = h2_streams.get(frame.stream_id)
                    if state is not None and state.state_machine.state is half:
                        sm = state.state_machine
                        if kind is fast_data:
                            if sm.headers_received:
                                core._data(cast("DataFrame", frame), state, sm, closed, by_end)
                                if frame.body_len or frame.flags:  # data, or END_STREAM: progress
                                    control = 0
                                continue
                        else:
                            # Our decoder's list (h2 types it as any iterable of fields).
                            block = cast("HeadersFrame", frame)
                            headers = cast("list[tuple[bytes, bytes]]", _decode_headers(conn.decoder, block.data))
                            end: bool = block.end  # type: ignore[attr-defined]  # a _FastHeaders
                            if sm.headers_received or is_informational_response(headers):
                                # Trailers, an interim response: h2's own stream methods.
                                _, events = state.receive_headers(headers, end, None)
                                control = core._on_events(events, control)
                            else:
                                core._response(frame.stream_id, headers, end, state, sm, closed, by_end)
                                control = 0
                            continue
                control = core._on_events(conn._receive_frame(frame), control)
        except InvalidPaddingError as exc:
            conn._terminate_connection(ErrorCodes.PROTOCOL_ERROR)
            raise ProtocolError("Received frame with invalid padding.") from exc
        except ProtocolError as exc:
            conn._terminate_connection(exc.error_code)
            raise
        return control

    return receive


_FRAME_HEAD = struct.Struct(">BHBBL").pack  # a frame header: length (24 bits), type, flags, stream id


def _direct_headers(conn: H2Connection) -> Any:
    """A cheaper way than h2's ``send_headers`` to open a request stream, or None if this h2
    is not the one it was written against (``H2Core`` then uses ``send_headers``).

    Per request, h2's ``send_headers`` counts the open streams by scanning all of them (and
    forgets the closed ones), builds a HEADERS frame object and its ``Flags`` set, runs the
    field normaliser and validator generators (a no-op chain here: both are configured off),
    logs (formatting arguments even with logging off), and serialises: a third of the CPU of a
    small GET on a busy connection (bench_h2). This drives the same h2 state machines with the
    same inputs (the connection's SEND_HEADERS, the new stream's SEND_HEADERS and
    SEND_END_STREAM, so every later frame is judged by h2 as before) and writes the HEADERS
    frame (and CONTINUATIONs, for a block above the peer's MAX_FRAME_SIZE) itself, from the
    block our encoder made. The fields were checked by ``open_stream``; the stream count is
    checked exactly (h2's way) only when it could be at the peer's limit; closed streams are
    forgotten in ``H2Core.release``.
    """
    try:
        import h2
        from h2.connection import AllowedStreamIDs, ConnectionInputs
        from h2.exceptions import ProtocolError, TooManyStreamsError
        from h2.stream import StreamInputs
    except ImportError:
        return None
    # Private parts of h2 4.x (written against 4.4.1, checked byte for byte against send_headers by
    # tests/http2/test_h2_core.py): another major release takes the public path.
    if not str(getattr(h2, "__version__", "")).startswith("4."):
        return None
    needed = ("_begin_new_stream", "_data_to_send", "_closed_streams", "state_machine", "streams")
    if not all(hasattr(conn, name) for name in needed) or type(conn._data_to_send) is not bytearray:
        return None
    open_input = ConnectionInputs.SEND_HEADERS
    headers_input = StreamInputs.SEND_HEADERS
    end_input = StreamInputs.SEND_END_STREAM
    odd = AllowedStreamIDs.ODD
    # Where h2's tables say so (checked here), a new stream's inputs are applied directly: the
    # connection stays open on SEND_HEADERS; an idle stream becomes open (and ours: client, head
    # sent), then half-closed on END_STREAM, with no other effect (no event is kept anyway).
    from h2.connection import ConnectionState, H2ConnectionStateMachine
    from h2.stream import H2StreamStateMachine, StreamState, _transitions

    client_open = ConnectionState.CLIENT_OPEN
    idle, open_, half = StreamState.IDLE, StreamState.OPEN, StreamState.HALF_CLOSED_LOCAL
    plain = (
        H2ConnectionStateMachine._transitions.get((client_open, open_input)) == (None, client_open)
        and _transitions.get((idle, headers_input)) == (H2StreamStateMachine.request_sent, open_)
        and _transitions.get((open_, end_input)) == (None, half)
    )

    def send(conn: Any, stream_id: int, block: bytes, method: str, authority: str, end: bool, peer_max: int) -> None:
        try:
            if len(conn.streams) >= peer_max:
                count = conn.open_outbound_streams  # exact (and forgets closed streams), as h2 does
                if count + 1 > peer_max:
                    raise TooManyStreamsError(f"Max outbound streams is {peer_max}, {count} open")
            if not plain or conn.state_machine.state is not client_open:
                conn.state_machine.process_input(open_input)  # refused once the connection is closed
            stream = conn._begin_new_stream(stream_id, odd)
            machine = stream.state_machine
            if plain and machine.state is idle:
                machine.client = True  # what request_sent does
                machine.headers_sent = True
                machine.state = half if end else open_
            else:
                machine.process_input(headers_input)
                if end:
                    machine.process_input(end_input)
        except ProtocolError as exc:
            raise LocalProtocolError(f"cannot send this request over HTTP/2: {exc}") from exc
        # What h2's send_headers records on the stream: the method (a HEAD response's
        # content-length then does not announce a body) and the authority.
        stream.request_method = method.encode("utf-8")
        stream._authority = authority.encode("utf-8")
        out = conn._data_to_send
        size = len(block)
        limit = conn.max_outbound_frame_size
        flags = 0x01 if end else 0x00  # END_STREAM, on the HEADERS frame only
        if size <= limit:
            out += _FRAME_HEAD(size >> 16, size & 0xFFFF, 0x01, flags | 0x04, stream_id)  # END_HEADERS
            out += block
            return
        out += _FRAME_HEAD(limit >> 16, limit & 0xFFFF, 0x01, flags, stream_id)
        out += block[:limit]
        for start in range(limit, size, limit):
            piece = block[start : start + limit]
            last = 0x04 if start + limit >= size else 0x00
            out += _FRAME_HEAD(len(piece) >> 16, len(piece) & 0xFFFF, 0x09, last, stream_id)  # CONTINUATION
            out += piece

    return send


_ENCODED_KEEP = 512  # encoded header fields remembered per connection (see _caching_encoder)
# Never indexed (RFC 7541 6.2.3), and not remembered: credentials.
_SENSITIVE = frozenset({b"authorization", b"proxy-authorization", b"cookie"})


def _caching_encoder() -> Any:
    """An HPACK encoder that encodes each request field once per connection.

    h2's encoder indexes every field in its dynamic table, which makes each field's encoding
    depend on what was sent before, and costs a table search and insertion per field per
    request in pure Python. This one never adds to the dynamic table: a field is a static-table
    index, or a literal "without indexing" (with the static table's name index when there is
    one), Huffman-coded. Its bytes then depend on the field alone, so they are computed once
    and reused: the constant fields of a request (method, scheme, authority, user-agent,
    accept...) cost a dict look-up each. The header block is a few bytes larger than with
    indexing (the values are repeated), which matters little next to a TLS record. Table size
    changes the server asks for are still signalled first (the table stays empty, whatever size).
    """
    from hpack import Encoder
    from hpack.hpack import encode_integer
    from hpack.table import HeaderTable

    static = HeaderTable.STATIC_TABLE_MAPPING

    class CachingEncoder(Encoder):
        def __init__(self) -> None:
            super().__init__()
            self._fields: dict[tuple[Any, Any], bytes] = {}

        def encode(self, headers: Any, huffman: bool = True) -> bytes:
            block: list[bytes] = []
            fields = self._fields
            for name, value in headers:
                encoded = fields.get((name, value))
                if encoded is None:
                    encoded = self.field(name, value)
                block.append(encoded)
            return self.join(block)

        def join(self, parts: list[bytes]) -> bytes:
            """The header block of these encoded fields (after a table size update, if due)."""
            if self.header_table.resized:
                self.header_table.resized = False
                return self._encode_table_size_change() + b"".join(parts)
            return b"".join(parts)

        def field(self, name: Any, value: Any) -> bytes:
            """One field's encoding (remembered unless sensitive)."""
            raw_name = name if type(name) is bytes else str(name).encode("utf-8")
            raw_value = value if type(value) is bytes else str(value).encode("utf-8")
            sensitive = raw_name in _SENSITIVE
            found = static.get(raw_name)
            if found is not None and not sensitive:
                index = found[1].get(raw_value)
                if index is not None:
                    field = encode_integer(index, 7)
                    field[0] |= 0x80
                    encoded = bytes(field)
                    self._remember(name, value, encoded)
                    return encoded
            huff = self.huffman_coder.encode
            value_bytes = huff(raw_value)
            value_len = encode_integer(len(value_bytes), 7)
            value_len[0] |= 0x80
            flag = 0x10 if sensitive else 0x00  # never indexed / without indexing
            if found is not None:
                prefix = encode_integer(found[0], 4)
                prefix[0] |= flag
                encoded = b"".join((bytes(prefix), bytes(value_len), value_bytes))
            else:
                name_bytes = huff(raw_name)
                name_len = encode_integer(len(name_bytes), 7)
                name_len[0] |= 0x80
                encoded = b"".join((bytes((flag,)), bytes(name_len), name_bytes, bytes(value_len), value_bytes))
            if not sensitive:
                self._remember(name, value, encoded)
            return encoded

        def _remember(self, name: Any, value: Any, encoded: bytes) -> None:
            fields = self._fields
            if len(fields) >= _ENCODED_KEEP:
                fields.clear()  # a crawler's ever-changing paths: start over rather than grow
            fields[(name, value)] = encoded

    return CachingEncoder()


def _finish_after_goaway(conn: H2Connection) -> None:
    """Let ``conn`` finish its streams after a GOAWAY, as RFC 9113 6.8 allows.

    h2 closes its connection state machine on receiving GOAWAY and then refuses every frame,
    even the rest of the responses on streams the server said it processes (nginx sends a
    GOAWAY after ``http2_max_requests`` and finishes the streams in flight): those responses
    would be lost. This connection's table (a copy; h2's own is untouched) accepts, once
    closed, the frames that finish open streams, and what we answer them with; opening a new
    stream stays refused (``usable`` is False after a GOAWAY anyway).
    """
    from h2.connection import ConnectionInputs, ConnectionState

    machine = conn.state_machine
    table = dict(machine._transitions)
    closed = ConnectionState.CLOSED
    for name in (
        "RECV_HEADERS",
        "RECV_DATA",
        "RECV_WINDOW_UPDATE",
        "RECV_PING",
        "RECV_SETTINGS",
        "RECV_RST_STREAM",
        "RECV_PRIORITY",
        "RECV_ALTERNATIVE_SERVICE",
        "SEND_DATA",
        "SEND_WINDOW_UPDATE",
        "SEND_PING",
        "SEND_SETTINGS",
        "SEND_RST_STREAM",
    ):
        table.setdefault((closed, ConnectionInputs[name]), (None, closed))
    machine._transitions = table


_CODE_NAMES = {
    0x0: "NO_ERROR",
    0x1: "PROTOCOL_ERROR",
    0x2: "INTERNAL_ERROR",
    0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT",
    0x5: "STREAM_CLOSED",
    0x6: "FRAME_SIZE_ERROR",
    0x7: "REFUSED_STREAM",
    0x8: "CANCEL",
    0x9: "COMPRESSION_ERROR",
    0xA: "CONNECT_ERROR",
    0xB: "ENHANCE_YOUR_CALM",
    0xC: "INADEQUATE_SECURITY",
    0xD: "HTTP_1_1_REQUIRED",
}


def _code_name(code: int) -> str:
    return _CODE_NAMES.get(code, f"error {code:#x}")


def request_parts(url: URL, override: str | None) -> tuple[str, str, str]:
    """``(:scheme, :authority, :path)`` of a request to ``url`` (a netwire URL)."""
    scheme = "https" if url.scheme == "https" else "http"
    return scheme, url.host, override if override is not None else url.request_target

def retriable(exc: BaseException, stream: H2Stream) -> bool:
    """Whether a failed stream was certainly not processed by the server: GOAWAY above its id,
    or REFUSED_STREAM (RFC 9113 8.7), so it may be sent again whatever its method."""
    if isinstance(exc, ConnectionTerminated) and exc.retriable:
        return True
    return isinstance(exc, StreamReset) and exc.error_code == 0x7 and stream.head is None
