"""HTTP/2 against real peers (nginx over TLS and h2c, hypercorn), on every client face.

The send loop is the HTTP/1.1 one: redirects, cookies, decompression and streaming must behave
the same over HTTP/2, on the sync Client, AsyncClient on asyncio and on uvloop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

import netwire
from tests.drivers import AsyncDriver, Driver
from tests.servers.h2 import BIG, SMALL, Hypercorn, pattern
from tests.servers.nginx import Nginx

Face = Callable[..., Driver]


def tls_url(server: Nginx, path: str) -> str:
    return f"https://127.0.0.1:{server.port}{path}"


def test_alpn_picks_h2_and_the_response_says_http2(face: Face, h2_nginx: Nginx, ca_file: str) -> None:
    client = face(http2=True, verify=ca_file)
    r = client.get(tls_url(h2_nginx, "/hello"))
    assert (r.status, r.http_version, r.content) == (200, "2", b"hello from nginx\n")
    assert r.headers["content-type"] == "text/plain"


def test_without_http2_the_client_stays_on_http11(face: Face, h2_nginx: Nginx, ca_file: str) -> None:
    r = face(verify=ca_file).get(tls_url(h2_nginx, "/hello"))
    assert r.http_version == "1.1"


def test_server_without_h2_falls_back_to_http11_by_alpn(face: Face, h1_tls_nginx: Nginx, ca_file: str) -> None:
    client = face(http2=True, verify=ca_file)
    for _ in range(3):  # the first on the connection ALPN gave, then from the ordinary pool
        r = client.get(tls_url(h1_tls_nginx, "/hello"))
        assert (r.status, r.http_version, r.content) == (200, "1.1", b"hello over http/1.1\n")
    assert client.open_count() == 1


def test_redirect_cookies_and_gzip_work_unchanged(face: Face, h2_nginx: Nginx, ca_file: str) -> None:
    client = face(http2=True, verify=ca_file)
    r = client.get(tls_url(h2_nginx, "/redirect"))
    assert (r.status, r.http_version, r.content) == (200, "2", b"hello from nginx\n")
    assert [h.status for h in r.history] == [302]
    client.get(tls_url(h2_nginx, "/setcookie"))
    assert any(c.name == "h2" for c in client.client.cookies)  # type: ignore[union-attr]
    r = client.get(tls_url(h2_nginx, "/gz/text.txt"))
    assert r.headers.get("content-encoding") == "gzip"
    assert r.content.startswith(b"line 00000 of text nginx compresses\n") and len(r.content) == 2000 * 36


def test_big_body_whole_and_streamed(face: Face, h2_nginx: Nginx, ca_file: str) -> None:
    client = face(http2=True, verify=ca_file)
    assert client.get(tls_url(h2_nginx, "/big")).content == BIG
    r, chunks = client.stream_chunks("GET", tls_url(h2_nginx, "/big"), chunk_size=65536)
    assert r.http_version == "2" and b"".join(chunks) == BIG


def test_request_bodies_reach_the_server(face: Face, hypercorn_tls: Hypercorn, ca_file: str) -> None:
    client = face(http2=True, verify=ca_file)
    for body in (b"", b"x" * 10, b"y" * 300_000, [b"a" * 70_000, b"b" * 70_000]):
        r = client.request("POST", hypercorn_tls.url("/echo"), content=body)
        seen = json.loads(r.content)
        size = sum(map(len, body)) if isinstance(body, list) else len(body)
        assert (r.http_version, seen["http_version"], seen["body_length"]) == ("2", "2", size)
        names = [k for k, _ in seen["headers"]]
        # (hypercorn adds host from :authority, as ASGI asks; what HTTP/2 forbids never arrives)
        assert not {"connection", "transfer-encoding", "expect", "keep-alive"} & set(names)


def test_hypercorn_streams_a_body_larger_than_the_windows(face: Face, hypercorn_tls: Hypercorn, ca_file: str) -> None:
    # 6 MiB: more than the 4 MiB stream window, so the window must be handed back as it is read.
    client = face(http2=True, verify=ca_file)
    r = client.get(hypercorn_tls.url("/stream?n=6144"))
    assert (r.status, r.http_version, len(r.content)) == (200, "2", 6144 * 1024)


@pytest.mark.parametrize("piece", [10007, 16384, 1000])
def test_big_bodies_in_odd_frames_arrive_exactly(face: Face, hypercorn_tls: Hypercorn, ca_file: str, piece: int) -> None:
    """9 MiB with a Content-Length in frames of odd sizes: the sync client's whole-body reader
    copies frame pieces into steps of 4 MiB, then 64 MiB (a step ends inside a frame; the next
    must go on from there), and streamed reads see the same bytes."""
    client = face(http2=True, verify=ca_file)
    url = hypercorn_tls.url(f"/pattern?n={9 * 1024 * 1024 + 3}&piece={piece}")
    want = pattern(9 * 1024 * 1024 + 3)
    r = client.get(url)
    assert r.http_version == "2" and len(r.content) == len(want) and r.content == want
    r, chunks = client.stream_chunks("GET", url, chunk_size=100_000)
    assert b"".join(chunks) == want


def test_h2c_prior_knowledge(face: Face, h2c_nginx: Nginx, hypercorn_h2c: Hypercorn) -> None:
    client = face(http2="prior-knowledge")
    r = client.get(f"http://127.0.0.1:{h2c_nginx.port}/small")
    assert (r.status, r.http_version, r.content) == (200, "2", SMALL)
    r = client.get(hypercorn_h2c.url("/echo"))
    assert json.loads(r.content)["http_version"] == "2"


def test_http2_true_keeps_cleartext_on_http11(face: Face, hypercorn_h2c: Hypercorn) -> None:
    # http2=True offers h2 only by ALPN: plain http:// stays HTTP/1.1 (hypercorn speaks both).
    r = face(http2=True).get(hypercorn_h2c.url("/echo"))
    assert (r.http_version, json.loads(r.content)["http_version"]) == ("1.1", "1.1")


def test_200_concurrent_gets_share_at_most_two_connections(h2_nginx: Nginx, ca_file: str) -> None:
    # nginx allows 128 streams per connection (http2_max_concurrent_streams): 200 requests in
    # flight need 2 connections at most. nginx's access log names each request's connection.
    async def go() -> tuple[set[int], list[Any]]:
        async with netwire.AsyncClient(http2=True, verify=ca_file) as client:
            rs = await asyncio.gather(*(client.get(tls_url(h2_nginx, "/small")) for _ in range(200)))
            return {r.status for r in rs}, [r.http_version for r in rs]

    offset = h2_nginx.log_size()
    statuses, versions = asyncio.run(go())
    assert statuses == {200} and set(versions) == {"2"}
    lines = h2_nginx.log_since(offset, 200)
    assert len(lines) == 200
    assert 1 <= len({line[0] for line in lines}) <= 2


def test_threads_sharing_a_client_multiplex_on_one_connection(h2_nginx: Nginx, ca_file: str) -> None:
    offset = h2_nginx.log_size()
    with netwire.Client(http2=True, verify=ca_file) as client:
        client.get(tls_url(h2_nginx, "/small"))  # the connection exists before the threads start
        results: list[bytes] = []
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(10):
                    results.append(client.get(tls_url(h2_nginx, "/small")).content)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors and results == [SMALL] * 200
    lines = h2_nginx.log_since(offset, 201)
    assert len({line[0] for line in lines}) == 1


def test_stream_closed_early_cancels_only_that_stream(face: Face, h2_nginx: Nginx, ca_file: str) -> None:
    client = face(http2=True, verify=ca_file)
    client.hold(tls_url(h2_nginx, "/big"))  # opened, never read
    r = client.get(tls_url(h2_nginx, "/small"))
    assert r.content == SMALL and r.extensions["connection_reused"] is True


def test_aio_pool_counts_the_h2_connection(h2_nginx: Nginx, ca_file: str) -> None:
    driver = AsyncDriver("async", http2=True, verify=ca_file)
    try:
        for _ in range(5):
            driver.get(tls_url(h2_nginx, "/small"))
        assert driver.open_count() == 1
        assert len(driver.client._h2pool.connections()) == 1  # type: ignore[union-attr]
    finally:
        driver.close()


def test_missing_h2_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "h2", None)
    monkeypatch.setitem(sys.modules, "h2.connection", None)
    for cls in (netwire.Client, netwire.AsyncClient):
        with pytest.raises(netwire.errors.MissingDependency, match=r"pip install 'netwire\[http2\]'"):
            cls(http2=True)
        cls(http2=False)


def test_http2_option_is_checked() -> None:
    with pytest.raises(ValueError, match="http2 must be"):
        netwire.Client(http2="yes")


def test_head_and_no_content(face: Face, h2_nginx: Nginx, ca_file: str) -> None:
    client = face(http2=True, verify=ca_file)
    r = client.request("HEAD", tls_url(h2_nginx, "/small"))
    assert (r.status, r.http_version, r.content, r.headers["content-length"]) == (200, "2", b"", "128")
    assert client.get(tls_url(h2_nginx, "/small")).content == SMALL  # the connection goes on


def test_nginx_ending_connections_with_goaway(tmp_path_factory: pytest.TempPathFactory, ca_file: str) -> None:
    # nginx answers 10 requests per connection, then GOAWAY (keepalive_requests, which bounds
    # HTTP/2 connections too): the streams in flight finish, the next go to a new connection.
    from dataclasses import replace

    from tests.servers.h2 import h2_nginx_site
    from tests.servers.nginx import start_nginx

    site = h2_nginx_site(tmp_path_factory.mktemp("h2goaway"))
    server = start_nginx(replace(site, locations="keepalive_requests 10;" + site.locations))
    try:

        async def go() -> list[int]:
            async with netwire.AsyncClient(http2=True, verify=ca_file) as client:
                statuses = []
                for _ in range(5):
                    rs = await asyncio.gather(*(client.get(tls_url(server, "/small")) for _ in range(8)))
                    statuses += [r.status for r in rs]
                return statuses

        offset = server.log_size()
        assert asyncio.run(go()) == [200] * 40
        with netwire.Client(http2=True, verify=ca_file) as client:
            assert all(client.get(tls_url(server, "/small")).content == SMALL for _ in range(25))
        lines = server.log_since(offset, 65)
        assert len(lines) == 65 and len({line[0] for line in lines}) >= 7
    finally:
        server.stop()


def test_cancelling_one_task_resets_only_its_stream(hypercorn_tls: Hypercorn, ca_file: str) -> None:
    async def go() -> tuple[int, bool]:
        async with netwire.AsyncClient(http2=True, verify=ca_file) as client:
            await client.get(hypercorn_tls.url("/echo"))
            slow = asyncio.create_task(client.get(hypercorn_tls.url("/stream?n=20000")))  # 20 MiB
            other = asyncio.create_task(client.get(hypercorn_tls.url("/stream?n=512")))
            await asyncio.sleep(0.05)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            r = await other
            again = await client.get(hypercorn_tls.url("/echo"))
            return len(r.content), bool(again.extensions["connection_reused"])

    size, reused = asyncio.run(go())
    assert size == 512 * 1024 and reused
