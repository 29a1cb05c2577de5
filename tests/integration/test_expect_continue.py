"""Expect: 100-continue against a loopback server that decides on the head alone."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

import netwire


class HeadJudge:
    """Reads a request head; if ``refuse``, answers 413 at once, else sends 100 then reads the body."""

    def __init__(self, refuse: bool, send_continue: bool = True) -> None:
        self.refuse = refuse
        self.send_continue = send_continue
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.head = b""
        self.body_received = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            self.head, _, rest = data.partition(b"\r\n\r\n")
            length = int(self.head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            if self.refuse:
                conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope")
                conn.settimeout(0.5)
                try:
                    while chunk := conn.recv(65536):
                        self.body_received += len(chunk)
                except OSError:
                    pass
                return
            if self.send_continue:
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            got = len(rest)
            while got < length:
                got += len(conn.recv(65536))
            self.body_received = got
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/upload"


@pytest.fixture
def body() -> Iterator[bytes]:
    yield b"x" * (3 * 1024 * 1024)


def test_large_body_waits_for_100_continue(body: bytes) -> None:
    srv = HeadJudge(refuse=False)
    with netwire.Client() as client:
        r = client.post(srv.url, content=body)
    srv.thread.join(5)
    assert r.status == 200 and r.content == b"ok"
    assert b"expect: 100-continue" in srv.head.lower()
    assert srv.body_received == len(body)


def test_server_refusing_on_the_head_gets_no_body(body: bytes) -> None:
    srv = HeadJudge(refuse=True)
    with netwire.Client() as client:
        r = client.post(srv.url, content=body)
        assert r.status == 413 and r.content == b"nope"
        assert client.pool.idle_count() == 0  # the announced body was never sent: not reusable
    srv.thread.join(5)
    assert srv.body_received == 0


def test_server_ignoring_expect_still_gets_the_body_after_a_short_wait(body: bytes) -> None:
    srv = HeadJudge(refuse=False, send_continue=False)
    with netwire.Client() as client:
        r = client.post(srv.url, content=body)
    srv.thread.join(5)
    assert r.status == 200
    assert srv.body_received == len(body)


def test_small_bodies_do_not_use_expect() -> None:
    srv = HeadJudge(refuse=False, send_continue=False)
    with netwire.Client() as client:
        assert client.post(srv.url, content=b"tiny").status == 200
    srv.thread.join(5)
    assert b"expect" not in srv.head.lower()
