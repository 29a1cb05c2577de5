"""A chunked body whose last chunk (size 0) is followed by the close instead of the final CRLF:
every client returns the body (as http.client and curl do) and does not reuse the connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from netwire.errors import ProtocolError
from tests.servers.faults import Close, ReadRequest, Send

pytestmark = pytest.mark.timeout(60)

Make = Callable[..., Any]
HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def test_last_chunk_then_close_completes(face: Make, fault_server: Any) -> None:
    srv = fault_server([ReadRequest(), Send(HEAD + b"5\r\nhello\r\n6\r\n world\r\n0\r\n"), Close()])
    client = face()
    r = client.get(srv.url("/"))
    assert r.status == 200 and r.content == b"hello world"
    assert client.open_count() == 0  # not handed back to the pool


def test_cut_inside_a_chunk_still_fails(face: Make, fault_server: Any) -> None:
    srv = fault_server([ReadRequest(), Send(HEAD + b"5\r\nhel"), Close()])
    with pytest.raises(ProtocolError, match="chunked"):
        face().get(srv.url("/"))
