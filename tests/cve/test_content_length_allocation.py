"""A claimed Content-Length is never allocated up front (CPython gh-119451's class).

A server that answers ``Content-Length: 9000000000000000000`` and sends 300 KB made the sync
client (and ``urlopen().read()``) ask for a 9 EB buffer before reading a byte: MemoryError, or
with a smaller lie gigabytes reserved for nothing. netwire now reads big Content-Length bodies
in bounded steps, so memory follows what arrives, and the cut body is an IncompleteResponse,
as it always was for AsyncClient. Served by a hostile loopback server.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Callable

import pytest

import netwire
import netwire.request
from netwire.http.aio import AsyncClient
from netwire.http.http11 import IncompleteResponse
from tests.servers.faults import Close, ReadRequest, Send, Serve, Start, WaitForClose, response

pytestmark = pytest.mark.timeout(60)

CLAIM = 9_000_000_000_000_000_000
BODY = bytes(range(256)) * 1200  # 300 KB: above the 256 KiB that takes the direct path
# Allocations the test tolerates: the received body a few times over, never the claim.
BOUND = 8 * 1024 * 1024


def _lying_server(fault_server: Start, claim: int = CLAIM) -> str:
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {claim}\r\n\r\n".encode()
    srv = fault_server([ReadRequest(), Send(head + BODY), Close()])
    return srv.url("/big")


def _peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(IncompleteResponse) as info:
            fn()
        assert "closed" in str(info.value) or "incomplete" in str(info.value).lower()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# 9 EB cannot be allocated (MemoryError); 2 GiB could, and would be reserved for 300 KB.
@pytest.mark.parametrize("claim", [CLAIM, 2**31])
def test_content_length_claim_client(fault_server: Start, claim: int) -> None:
    url = _lying_server(fault_server, claim)
    with netwire.Client(timeout=10) as c:
        peak = _peak(lambda: c.get(url))
        assert c.pool.open_count() == 0  # a cut body never goes back to the pool
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB allocated for a 300 KB body"


def test_content_length_claim_response_read(fault_server: Start) -> None:
    url = _lying_server(fault_server)
    with netwire.Client(timeout=10) as c, c.stream("GET", url) as r:
        assert r.headers["content-length"] == str(CLAIM)
        peak = _peak(r.read)
    assert peak < BOUND


def test_content_length_claim_urlopen(fault_server: Start) -> None:
    url = _lying_server(fault_server)
    with netwire.request.urlopen(url, timeout=10) as f:
        peak = _peak(f.read)
    assert peak < BOUND


def test_content_length_claim_async(fault_server: Start) -> None:
    url = _lying_server(fault_server)

    async def go() -> None:
        async with AsyncClient(timeout=10) as c:
            await c.get(url)

    assert _peak(lambda: asyncio.run(go())) < BOUND


@pytest.mark.parametrize("size", [256 * 1024 + 1, 3 * 1024 * 1024 + 17, 9 * 1024 * 1024 + 5])
def test_big_bodies_still_whole(fault_server: Start, size: int) -> None:
    # The reservation steps (4 MiB, then up to 16x) must not lose, reorder or duplicate a byte,
    # on a reused connection too.
    body = bytes(range(251)) * (size // 251) + b"x" * (size % 251)
    srv = fault_server(Serve(response(body)))
    with netwire.Client(timeout=10) as c:
        for _ in range(2):
            assert c.get(srv.url("/")).content == body
        assert netwire.request.urlopen(srv.url("/"), timeout=10).read() == body
    assert srv.connections <= 2


def test_honest_short_claim_is_incomplete(fault_server: Start) -> None:
    # A plausible claim (1 MiB) with half of it sent: still IncompleteResponse, with what arrived counted.
    half = b"h" * (512 * 1024)
    srv = fault_server([ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + half), WaitForClose(0.5)])
    with netwire.Client(timeout=10) as c, pytest.raises(IncompleteResponse):
        c.get(srv.url("/"))
