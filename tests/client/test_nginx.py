"""The Client against a real nginx on loopback: keep-alive, connection counts, descriptors."""

from __future__ import annotations

import gc
import gzip
import threading
import zlib

import pytest

import netwire
from tests.servers.nginx import LARGE_BODY, SMALL_BODY, TEXT_BODY, Nginx
from tests.servers.ports import fd_identities

pytestmark = pytest.mark.timeout(60)


def test_1000_sequential_gets_use_one_connection(nginx: Nginx) -> None:
    offset = nginx.log_size()
    with netwire.Client(timeout=5) as c:
        for _ in range(1000):
            r = c.get(nginx.url("/small"))
            assert r.status == 200 and r.content == SMALL_BODY
        # The pool's own count...
        assert c.pool.connections_opened == 1
        assert c.pool.idle_count() == 1
    # ...and nginx's: every request on the same connection serial, numbered 1..1000 on it.
    lines = nginx.log_since(offset, expected_lines=1000)
    assert len(lines) == 1000
    assert len({line[0] for line in lines}) == 1
    assert [int(line[1]) for line in lines] == list(range(1, 1001))
    assert all(line[2:] == ["GET", "/small", "200"] for line in lines)


def test_10000_requests_leak_no_descriptors(nginx: Nginx) -> None:
    with netwire.Client(timeout=5) as warm:  # first use imports and caches what it needs
        warm.get(nginx.url("/small"))
    # Sockets of earlier tests that only the garbage collector would close must not close
    # during this one and hide a leak. (No collection afterwards: that would close a leak.)
    gc.collect()
    before = fd_identities()
    offset = nginx.log_size()
    c = netwire.Client(timeout=5)
    paths = ["/small", "/hello", "/nothing", "/close"]
    for i in range(10_000):
        path = paths[i % 4] if i % 50 == 0 else "/small"
        r = c.get(nginx.url(path))
        assert r.status in (200, 204)
    # Streams closed early and HEADs are part of the mix too.
    for _ in range(100):
        with c.stream("GET", nginx.url("/large")) as s:
            s.read(1000)
        c.head(nginx.url("/large"))
    opened = c.pool.connections_opened
    c.close()
    # Every descriptor opened since is closed again (compared by identity: an unrelated one an
    # earlier test's thread closed meanwhile must neither fail this nor hide a leak).
    leaked = fd_identities() - before
    assert not leaked, leaked
    # /close made nginx end its connection 50 times; early-closed streams close theirs (100).
    assert 1 + 50 <= opened <= 1 + 50 + 100 + 1
    lines = nginx.log_since(offset, expected_lines=10_200)
    assert len(lines) == 10_200
    assert len({line[0] for line in lines}) == opened


def test_large_download_read_and_readinto(nginx: Nginx) -> None:
    with netwire.Client(timeout=5) as c:
        assert c.get(nginx.url("/large")).content == LARGE_BODY
        with c.stream("GET", nginx.url("/large")) as r:
            buf = bytearray(64 * 1024)
            view = memoryview(buf)
            got = bytearray()
            while n := r.readinto(view):
                got += view[:n]
        assert bytes(got) == LARGE_BODY
        with c.stream("GET", nginx.url("/large")) as r:
            sizes = [len(chunk) for chunk in r.iter_bytes(chunk_size=100_000)]
        assert sum(sizes) == len(LARGE_BODY) and set(sizes[:-1]) == {100_000}
        # All three bodies were read to the end: one connection served them all.
        assert c.pool.connections_opened == 1


def test_chunked_response_from_nginx(nginx: Nginx) -> None:
    # nginx compresses on the fly without knowing the length: a chunked response.
    with netwire.Client(timeout=5) as c:
        for _ in range(3):
            r = c.get(nginx.url("/gz/text.txt"), headers={"Accept-Encoding": "gzip"})
            assert r.status == 200
            body = r.content
            if body[:2] == b"\x1f\x8b":  # the client handed us the coded body
                assert r.headers["content-encoding"] == "gzip"
                assert r.headers["transfer-encoding"] == "chunked"
                body = gzip.decompress(body)
            assert body == TEXT_BODY
        assert c.pool.connections_opened == 1


def test_chunked_response_raw_is_valid_gzip_when_streamed(nginx: Nginx) -> None:
    with (
        netwire.Client(timeout=5) as c,
        c.stream("GET", nginx.url("/gz/text.txt"), headers={"Accept-Encoding": "gzip"}) as r,
    ):
        raw = b"".join(r.iter_bytes())
    if raw[:2] == b"\x1f\x8b":
        raw = zlib.decompress(raw, 16 + zlib.MAX_WBITS)
    assert raw == TEXT_BODY


def test_head_204_and_connection_close(nginx: Nginx) -> None:
    offset = nginx.log_size()
    with netwire.Client(timeout=5) as c:
        r = c.head(nginx.url("/large"))
        assert r.status == 200 and int(r.headers["content-length"]) == len(LARGE_BODY) and r.content == b""
        r = c.get(nginx.url("/nothing"))
        assert r.status == 204 and r.content == b""
        assert c.pool.connections_opened == 1
        r = c.get(nginx.url("/close"))
        assert r.headers["connection"] == "close" and r.content == b"bye\n"
        assert c.pool.idle_count() == 0
        assert c.get(nginx.url("/hello")).content == b"hello from nginx\n"
        assert c.pool.connections_opened == 2
    conns = [line[0] for line in nginx.log_since(offset, expected_lines=4)]
    assert conns[0] == conns[1] == conns[2] != conns[3]


def test_stream_closed_early_does_not_return_a_dirty_connection(nginx: Nginx) -> None:
    with netwire.Client(timeout=5) as c:
        with c.stream("GET", nginx.url("/large")) as r:
            assert r.read(10) == LARGE_BODY[:10]
        assert c.pool.idle_count() == 0 and c.pool.open_count() == 0
        assert c.get(nginx.url("/small")).content == SMALL_BODY
        assert c.pool.connections_opened == 2


def test_redirect_on_the_same_connection(nginx: Nginx) -> None:
    with netwire.Client(timeout=5) as c:
        r = c.get(nginx.url("/redirect"))
        assert r.status == 200 and r.content == b"hello from nginx\n"
        assert [h.status for h in r.history] == [302]
        assert c.pool.connections_opened == 1


def test_threads_share_one_client(nginx: Nginx) -> None:
    errors: list[BaseException] = []
    with netwire.Client(timeout=5, limits=netwire.Limits(max_connections_per_host=4)) as c:

        def work() -> None:
            try:
                for _ in range(100):
                    assert c.get(nginx.url("/small")).content == SMALL_BODY
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        assert c.pool.connections_opened <= 4
        assert c.pool.open_count() <= 4
