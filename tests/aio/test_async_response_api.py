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
