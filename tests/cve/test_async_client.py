"""The same CVE classes through ``netwire.aio.AsyncClient``: it shares the sans-IO parser, the
request encoder, the decoders and the redirect policy with the sync client, and these tests
check that its own I/O loop keeps what they guarantee."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from netwire.errors import DecodingError, InvalidURL, LocalProtocolError, ProtocolError
from netwire.http.aio import AsyncClient
from tests.servers.faults import ReadRequest, Send, Serve, Start, WaitForClose, response

pytestmark = pytest.mark.timeout(30)

T = TypeVar("T")


def run(fn: Callable[[AsyncClient], Awaitable[T]], **options: Any) -> T:
    async def go() -> T:
        async with AsyncClient(timeout=5, **options) as c:
            return await fn(c)

    return asyncio.run(go())


def test_cve_2019_9740_cve_2019_9947_async(fault_server: Start) -> None:
    srv = fault_server(Serve(response(b"ok")))

    async def go(c: AsyncClient) -> int:
        r = await c.get(f"http://127.0.0.1:{srv.port}/p HTTP/1.1\r\nX-Injected: 1\r\n?q=1\r\nX-Injected: 2")
        return r.status

    assert run(go) == 200
    (req,) = srv.requests
    assert not any(k.lower() == "x-injected" for k, _ in req.headers)
    assert not any(ch in req.target for ch in " \r\n")


def test_cve_2019_18348_async(fault_server: Start) -> None:
    srv = fault_server(Serve(response(b"ok")))

    async def go(c: AsyncClient) -> None:
        await c.get(f"http://127.0.0.1\r\nX-Injected: 1\r\n:{srv.port}/")

    with pytest.raises(InvalidURL):
        run(go)
    assert not srv.requests


@pytest.mark.parametrize(("method", "headers"), [("GET\r\nX-Injected: 1", {}), ("GET", {"X-A": "v\r\nX-Injected: 1"}),
                                                   ("GET", {"X-A\r\nX-Injected": "1"})])
def test_cve_2020_26116_async(fault_server: Start, method: str, headers: dict[str, str]) -> None:
    srv = fault_server(Serve(response(b"ok")))

    async def go(c: AsyncClient) -> None:
        await c.request(method, srv.url("/"), headers=headers)

    with pytest.raises(LocalProtocolError):
        run(go)
    assert not srv.requests


def test_cve_2021_3737_async(fault_server: Start) -> None:
    srv = fault_server([ReadRequest(), Send(b"HTTP/1.1 100 Continue\r\n\r\n" * 100_000), WaitForClose()])

    async def go(c: AsyncClient) -> None:
        await c.get(srv.url("/"))

    with pytest.raises(ProtocolError, match="max_informational"):
        run(go)


def test_endless_header_section_async(fault_server: Start) -> None:
    srv = fault_server([ReadRequest(), Send(b"HTTP/1.1 200 OK\r\n" + b"X-Endless: v\r\n" * 300_000), WaitForClose()])

    async def go(c: AsyncClient) -> None:
        await c.get(srv.url("/"))

    with pytest.raises(ProtocolError, match=r"max_header_bytes|max_header_count"):
        run(go)


def test_decompression_bomb_async(fault_server: Start) -> None:
    wire = gzip.compress(gzip.compress(bytes(256 * 1024 * 1024), 9, mtime=0), 9, mtime=0)
    srv = fault_server(Serve(response(wire, headers=[("Content-Encoding", "gzip, gzip")])))

    async def go(c: AsyncClient) -> None:
        await c.get(srv.url("/"))

    with pytest.raises(DecodingError, match="bomb"):
        run(go)


def test_smuggled_response_not_read_async(fault_server: Start) -> None:
    smuggled = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    srv = fault_server([[ReadRequest(), Send(first + smuggled), WaitForClose()], [Serve(response(b"good"))]])

    async def go(c: AsyncClient) -> tuple[bytes, bytes]:
        a = await c.get(srv.url("/1"))
        b = await c.get(srv.url("/2"))
        return a.content, b.content

    assert run(go) == (b"hello", b"good")
    assert srv.connections == 2
