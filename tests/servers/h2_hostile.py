"""A hostile HTTP/2 server of our own on loopback (h2c, prior knowledge), built with ``h2``
server-side for the ordinary parts and raw frames for the attacks.

What a request gets depends on its path:

* ``/ok``: 200 "ok"; ``/slow``: 200 "slow" after 0.3 s; ``/upload``: "got N bytes" once the
  whole request body is in.
* ``/goaway-others``: while a ``/slow`` is pending on the connection, a GOAWAY whose
  ``last_stream_id`` is that ``/slow`` stream (this one and later ones were not processed),
  then ``/slow`` is answered and the connection closed; otherwise 200 "ok".
* ``/goaway-fail``: GOAWAY(INTERNAL_ERROR) naming this stream as processed, then close.
* ``/bye``: 200 "bye"; 0.15 s later GOAWAY(NO_ERROR) and close (a server ending an idle connection).
* ``/trailers``: 200 "body" and a trailer ``x-checksum: abc``.
* ``/reset``: RST_STREAM(INTERNAL_ERROR) on this stream only.
* ``/refuse-once``: RST_STREAM(REFUSED_STREAM) the first time (server-wide), then 200 "ok".
* ``/trickle``: a 200 head, then a PING every 0.1 s and never a body byte.
* ``/continuation``: HEADERS without END_HEADERS, then endless CONTINUATION frames.
* ``/huge-headers``: a 200 KB header block (HEADERS + CONTINUATION frames).
* ``/settings-flood`` / ``/ping-flood``: thousands of SETTINGS / PING frames.
* ``/big-frame``: a 200 head, then a DATA frame above the default MAX_FRAME_SIZE (16384).
* ``/hold``: never answered (the stream stays open); ``/late``: 200 "late" after 1 s;
  ``/drop-later``: never answered, and 0.3 s later the connection is dropped (no GOAWAY).

``initial_window`` sets the stream window the server advertises; with ``ack=False`` it never
opens it again (a request body stalls: the client's write deadline must fire). ``connections`` counts the
connections accepted; ``paths`` lists each request's path.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings

__all__ = ["H2HostileServer"]


def _frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream_id) + payload


_DATA, _HEADERS, _SETTINGS, _PING, _GOAWAY, _CONTINUATION = 0x0, 0x1, 0x4, 0x6, 0x7, 0x9
_END_STREAM, _END_HEADERS = 0x1, 0x4


class H2HostileServer:
    """See the module docstring. ``url(path)`` for the client; ``close()`` to stop."""

    def __init__(self, *, initial_window: int | None = None, ack: bool = True) -> None:
        self.initial_window = initial_window
        self.ack = ack
        self.connections = 0
        self.paths: list[str] = []
        self._refused = False
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stop = False
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name="h2-hostile").start()

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._stop = True
        self._listener.close()
        for s in list(self._socks):
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self) -> H2HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- serving ----------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            self._socks.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            _Conn(self, sock).run()
        except OSError:
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass


class _Conn:
    def __init__(self, server: H2HostileServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config)
        if server.initial_window is not None:
            self.h2.local_settings = h2.settings.Settings(
                client=False, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: server.initial_window}
            )
        self.slow: list[tuple[float, int]] = []  # (due, stream id)
        self.late: list[tuple[float, int]] = []  # /late: (due, stream id)
        self.drop_at: float | None = None  # /drop-later: when to drop the connection
        self.trickle: set[int] = set()
        self.uploads: dict[int, int] = {}  # /upload streams: bytes received so far
        self.close_after_slow = False
        self.bye: tuple[float, int] | None = None
        self.done = False

    def send(self, raw: bytes = b"") -> None:
        out = self.h2.data_to_send() + raw
        if out:
            self.sock.sendall(out)

    def linger(self, seconds: float = 5.0) -> None:
        """Read and drop what the client sends until it hangs up (or ``seconds`` pass).

        A server closing with the client's bytes (SETTINGS/PING ACKs) unread makes the kernel
        send RST, and an RST throws away what the client has not read yet: the client would see
        "connection reset" instead of the flood it must name. Real hostile peers linger too."""
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline and not self.server._stop:
                try:
                    if not self.sock.recv(65536):
                        return
                except TimeoutError:
                    continue
        except OSError:
            pass

    def respond(self, stream_id: int, body: bytes, status: int = 200) -> None:
        self.h2.send_headers(stream_id, [(":status", str(status)), ("content-length", str(len(body)))])
        self.h2.send_data(stream_id, body, end_stream=True)

    def run(self) -> None:
        h2c = self.h2
        h2c.initiate_connection()
        self.send()
        self.sock.settimeout(0.05)
        last_ping = 0.0
        while not self.done and not self.server._stop:
            try:
                data = self.sock.recv(65536)
                if not data:
                    return
            except TimeoutError:
                data = b""
            if data:
                try:
                    events = h2c.receive_data(data)
                except Exception:
                    return
                for event in events:
                    if isinstance(event, h2.events.RequestReceived):
                        self.on_request(event.stream_id, dict(event.headers))
                    elif isinstance(event, h2.events.DataReceived):
                        if self.server.ack:
                            h2c.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                        if event.stream_id in self.uploads:
                            self.uploads[event.stream_id] += len(event.data)
                    elif isinstance(event, h2.events.StreamEnded) and event.stream_id in self.uploads:
                        self.respond(event.stream_id, b"got %d bytes" % self.uploads.pop(event.stream_id))
                    elif isinstance(event, h2.events.StreamReset):
                        self.trickle.discard(event.stream_id)
                    if self.done:
                        return
                self.send()
            now = time.monotonic()
            for due, sid in list(self.slow):
                if now >= due:
                    self.slow.remove((due, sid))
                    self.respond(sid, b"slow")
                    self.send()
                    if self.close_after_slow and not self.slow:
                        time.sleep(0.05)
                        return
            for due, sid in list(self.late):
                if now >= due:
                    self.late.remove((due, sid))
                    self.respond(sid, b"late")
                    self.send()
            if self.drop_at is not None and now >= self.drop_at:
                return  # closed without a word
            if self.bye is not None and now >= self.bye[0]:
                self.send(_frame(_GOAWAY, 0, 0, struct.pack(">II", self.bye[1], 0)))
                return
            if self.trickle and now - last_ping >= 0.1:
                last_ping = now
                h2c.ping(b"trickle!")
                self.send()

    def on_request(self, sid: int, headers: dict[Any, Any]) -> None:
        path = headers[b":path"].decode()
        server = self.server
        with server._lock:
            server.paths.append(path)
        h2c = self.h2
        if path == "/upload":
            self.uploads[sid] = 0  # answered once the whole body is in
        elif path == "/slow":
            self.slow.append((time.monotonic() + 0.3, sid))
        elif path == "/late":
            self.late.append((time.monotonic() + 1.0, sid))
        elif path == "/hold":
            pass  # never answered
        elif path == "/drop-later":
            self.drop_at = time.monotonic() + 0.3
        elif path == "/goaway-others" and self.slow:
            # A raw GOAWAY: h2 would refuse to send the /slow answer after its own.
            self.send(_frame(_GOAWAY, 0, 0, struct.pack(">II", self.slow[0][1], 0)))
            self.close_after_slow = True
        elif path == "/goaway-fail":
            self.send(_frame(_GOAWAY, 0, 0, struct.pack(">II", sid, 2) + b"going down"))
            time.sleep(0.05)
            self.done = True
        elif path == "/bye":
            # Answer; 0.15 s later say goodbye and close, as a server ending an idle connection does.
            self.respond(sid, b"bye")
            self.bye = (time.monotonic() + 0.15, sid)
        elif path == "/trailers":
            h2c.send_headers(sid, [(":status", "200")])
            h2c.send_data(sid, b"body")
            h2c.send_headers(sid, [("x-checksum", "abc")], end_stream=True)
        elif path == "/reset":
            h2c.reset_stream(sid, error_code=2)
        elif path == "/refuse-once":
            with server._lock:
                refuse, server._refused = not server._refused, True
            if refuse:
                h2c.reset_stream(sid, error_code=7)
            else:
                self.respond(sid, b"ok")
        elif path == "/trickle":
            h2c.send_headers(sid, [(":status", "200")])
            self.trickle.add(sid)
        elif path == "/continuation":
            self.send()
            block = h2c.encoder.encode([(b":status", b"200")])
            self.sock.sendall(_frame(_HEADERS, 0, sid, block))
            filler = _frame(_CONTINUATION, 0, sid, b"\x40\x01a\x01b" * 20)  # literal headers, indexed
            try:
                for _ in range(100_000):
                    self.sock.sendall(filler)
            except OSError:
                pass
            self.done = True
        elif path == "/huge-headers":
            self.send()
            from hpack import Encoder

            block = Encoder().encode([(b":status", b"200")] + [(b"x-filler-%d" % i, b"v" * 1000) for i in range(200)])
            frames = [block[i : i + 16384] for i in range(0, len(block), 16384)]
            out = _frame(_HEADERS, 0, sid, frames[0])
            for i, piece in enumerate(frames[1:], 1):
                out += _frame(_CONTINUATION, _END_HEADERS if i == len(frames) - 1 else 0, sid, piece)
            try:
                self.sock.sendall(out)
            except OSError:
                pass
            self.linger()
            self.done = True
        elif path in ("/settings-flood", "/ping-flood"):
            self.send()
            one = _frame(_SETTINGS, 0, 0, b"") if path == "/settings-flood" else _frame(_PING, 0, 0, b"12345678")
            try:
                for _ in range(100):
                    self.sock.sendall(one * 100)
            except OSError:
                pass
            self.linger()
            self.done = True
        elif path.startswith("/head/"):
            # The header block given (hex, HPACK) as a whole response head, as is: whatever it holds.
            self.send(_frame(_HEADERS, _END_HEADERS | _END_STREAM, sid, bytes.fromhex(path[6:])))
        elif path.startswith("/trailers/"):
            # A good head and body, then the header block given (hex, HPACK) as trailers.
            from hpack import Encoder

            head = Encoder().encode([(b":status", b"200")])
            self.send(_frame(_HEADERS, _END_HEADERS, sid, head) + _frame(_DATA, 0, sid, b"body"))
            self.send(_frame(_HEADERS, _END_HEADERS | _END_STREAM, sid, bytes.fromhex(path[10:])))
        elif path == "/bad-hpack":
            self.send(_frame(_HEADERS, _END_HEADERS, sid, b"\x80"))  # static table index 0: invalid
        elif path == "/liar":
            # Claims an exabyte, sends 2 MiB and ends: a client reserving the claim runs out of memory.
            h2c.send_headers(sid, [(":status", "200"), ("content-length", str(10**18))])
            h2c.send_data(sid, b"L" * 16384)
            self.send()
            for _ in range(127):
                self.send(_frame(_DATA, 0, sid, b"L" * 16384))
            self.send(_frame(_DATA, 1, sid, b""))
        elif path == "/big-frame":
            h2c.send_headers(sid, [(":status", "200")])
            self.send(_frame(_DATA, 0, sid, b"z" * 20000))
        else:
            self.respond(sid, b"ok")
