"""AsyncResponse's reading API: the sync methods refuse an unread async body without spoiling it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import netwire
from netwire.errors import StreamError


@pytest.mark.parametrize("call", ["iter_bytes", "read", "readinto", "content", "text", "iter"])
def test_sync_reads_refuse_an_unread_body_and_leave_it_readable(httpbin: Any, call: str) -> None:
    async def main() -> bytes:
        async with netwire.AsyncClient() as client, client.stream("GET", httpbin.url + "/bytes/3000?seed=1") as r:
            with pytest.raises(StreamError, match="aread"):
                if call == "iter_bytes":
                    r.iter_bytes()
                elif call == "read":
                    r.read()
                elif call == "readinto":
                    r.readinto(bytearray(10))
                elif call == "content":
                    _ = r.content
                elif call == "text":
                    _ = r.text
                else:
                    iter(r)
            assert not r.closed
            return b"".join([chunk async for chunk in r.aiter_bytes()])

    body = asyncio.run(main())
    assert len(body) == 3000


def test_after_aread_the_sync_api_serves_the_content(httpbin: Any) -> None:
    async def main() -> netwire.AsyncResponse:
        async with netwire.AsyncClient() as client:
            return await client.get(httpbin.url + "/bytes/100?seed=2")

    r = asyncio.run(main())
    assert len(r.content) == 100
    assert b"".join(r.iter_bytes(30)) == r.content and r.read() == r.content


def test_a_received_response_has_every_field_a_response_has(aio_nginx: Any) -> None:
    # AsyncResponse.__init__ sets Response's fields itself on the hot path (no super() call):
    # a slot Response gains must be set there too, and with Response's values.
    async def main() -> netwire.AsyncResponse:
        async with netwire.AsyncClient() as client:
            return await client.get(aio_nginx.url("/small"))

    r = asyncio.run(main())
    assert r.request is not None
    slots = [name for cls in type(r).__mro__ for name in getattr(cls, "__slots__", ())]
    assert "status" in slots and "_abody" in slots
    assert [name for name in slots if not hasattr(r, name)] == []
    assert (r.status, r.reason, r.http_version, r.attempts, r.history, r.url) == (200, "OK", "1.1", 1, [], r.request.url)
    assert r.raw is r._stream is r._abody and r._failed is None and r._encoding is None
    assert r.content == b"s" * 128 and r.closed and r.extensions["connection_reused"] is False
