"""Stream on real socket pairs and loopback TCP: framing across recv boundaries, EOF, timeouts."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from netwire.errors import ProtocolError, ReadError, ReadTimeout
from netwire.sockets.framing import ReceiveBuffer, encode_frame, encode_line
from netwire.sockets.stream import Stream


def _pair() -> tuple[Stream, socket.socket]:
    a, b = socket.socketpair()
    return Stream(a, timeout=2), b


def _dribble(sock: socket.socket, data: bytes, step: int = 1, pause: float = 0.001) -> threading.Thread:
    def run() -> None:
        for i in range(0, len(data), step):
            sock.sendall(data[i : i + step])
            time.sleep(pause)

    t = threading.Thread(target=run)
    t.start()
    return t


def test_recv_exactly_across_many_recvs() -> None:
    s, peer = _pair()
    with s, peer:
        t = _dribble(peer, b"abcdefghij" * 3, step=3)
        assert s.recv_exactly(7) == b"abcdefg"
        assert s.recv_exactly(23) == b"hij" + b"abcdefghij" * 2
        t.join()


def test_two_lines_in_one_recv_are_not_merged() -> None:
    s, peer = _pair()
    with s, peer:
        peer.sendall(b"one\ntwo\r\nthree")
        peer.shutdown(socket.SHUT_WR)
        assert s.recv_line() == b"one"
        assert s.recv_line() == b"two"
        with pytest.raises(ReadError, match="middle of a line"):
            s.recv_line()


def test_readline_behaves_like_a_file() -> None:
    s, peer = _pair()
    with s, peer:
        t = _dribble(peer, b"hello\nworld")
        t.join()
        peer.shutdown(socket.SHUT_WR)
        assert s.readline() == b"hello\n"
        assert s.readline() == b"world"
        assert s.readline() == b""


def test_recv_line_clean_eof_is_none() -> None:
    s, peer = _pair()
    with s, peer:
        peer.sendall(b"last\n")
        peer.shutdown(socket.SHUT_WR)
        assert list(s.iter_lines()) == [b"last"]
        assert s.recv_line() is None
        assert s.recv() == b""


def test_recv_until_limit_is_protocol_error() -> None:
    s, peer = _pair()
    with s, peer:
        peer.sendall(b"x" * 100)
        with pytest.raises(ProtocolError):
            s.recv_until(b"\r\n", max_size=50)


def test_readline_limit() -> None:
    s, peer = _pair()
    with s, peer:
        peer.sendall(b"y" * 5000 + b"\n")
        with pytest.raises(ProtocolError):
            s.readline(max_size=1000)


def test_recv_exactly_eof_is_read_error() -> None:
    s, peer = _pair()
    with s, peer:
        peer.sendall(b"12345")
        peer.shutdown(socket.SHUT_WR)
        with pytest.raises(ReadError, match="5 of 10"):
            s.recv_exactly(10)


def test_timeout_is_read_timeout_and_timeouterror() -> None:
    a, b = socket.socketpair()
    s = Stream(a, timeout=0.1)
    with s, b:
        b.sendall(b"half")
        t = time.monotonic()
        with pytest.raises(ReadTimeout) as info:
            s.recv_line()
        assert isinstance(info.value, TimeoutError)
        assert 0.08 < time.monotonic() - t < 1.5


def test_length_prefixed_messages_split_anywhere() -> None:
    s, peer = _pair()
    payloads = [b"", b"a", b"\n\n", bytes(range(256)) * 40]
    wire = b"".join(encode_frame(p) for p in payloads)
    with s, peer:
        t = _dribble(peer, wire, step=7, pause=0)
        assert [s.recv_message() for _ in payloads] == payloads
        t.join()
        peer.shutdown(socket.SHUT_WR)
        assert s.recv_message() is None


def test_frame_over_limit_and_truncated() -> None:
    s, peer = _pair()
    with s, peer:
        peer.sendall(encode_frame(b"z" * 100))
        with pytest.raises(ProtocolError, match="exceeds"):
            s.recv_message(max_size=10)
    s, peer = _pair()
    with s, peer:
        peer.sendall(encode_frame(b"z" * 100)[:50])
        peer.shutdown(socket.SHUT_WR)
        with pytest.raises(ReadError, match="middle of a frame"):
            s.recv_message()


def test_send_helpers_and_close_order(listener4: socket.socket) -> None:
    c = socket.create_connection(listener4.getsockname())
    conn, _ = listener4.accept()
    s = Stream(conn, timeout=2)
    s.send_line(b"hi")
    s.send_message(b"msg")
    c.sendall(b"unread bytes the server never reads")
    time.sleep(0.05)
    s.close()  # must not reset: the client still gets everything, then a clean EOF
    s.close()  # idempotent
    got = b""
    c.settimeout(2)
    while chunk := c.recv(100):
        got += chunk
    assert got == b"hi\n" + encode_frame(b"msg")
    c.close()


def test_encode_line_refuses_delimiter() -> None:
    with pytest.raises(ValueError):
        encode_line(b"a\nb")


def test_receive_buffer_scan_resumes() -> None:
    buf = ReceiveBuffer()
    for piece in (b"ab", b"c\r", b"\nrest"):
        buf.feed(piece)
    assert buf.take_until(b"\r\n", 100) == b"abc\r\n"
    assert buf.take_all() == b"rest"


def test_write_timeout_when_peer_never_reads() -> None:
    from netwire.errors import WriteTimeout

    a, b = socket.socketpair()
    s = Stream(a, timeout=0.2)
    with s, b:
        t = time.monotonic()
        with pytest.raises(WriteTimeout) as info:
            s.send_all(b"x" * 50_000_000)
        assert isinstance(info.value, TimeoutError)
        assert time.monotonic() - t < 5


def test_timeout_setter_applies() -> None:
    a, b = socket.socketpair()
    s = Stream(a, timeout=None)
    with s, b:
        s.timeout = 0.1
        assert s.timeout == 0.1
        with pytest.raises(ReadTimeout):
            s.recv_exactly(1)
