"""Names once (issue 16 item 5): ``IncompleteResponse`` lives in the one error tree, and OSError ->
netwire error translation goes through one mapper, so every client words a failure alike."""

from __future__ import annotations

import errno
from collections.abc import Callable

import pytest

import netwire
from netwire.errors import (
    ConnectError,
    IncompleteResponse,
    ProtocolError,
    ProxyError,
    from_os_error,
    os_reason,
)
from tests.drivers import Driver
from tests.servers.ports import free_port


def test_incomplete_response_is_in_errors_and_the_old_path_works() -> None:
    from netwire.http.http11 import IncompleteResponse as from_http11
    from netwire.http11 import IncompleteResponse as old_path

    assert from_http11 is IncompleteResponse is old_path
    assert issubclass(IncompleteResponse, ProtocolError)
    e = IncompleteResponse("short", received=3, expected=10)
    assert (e.received, e.expected, e.nothing_received, str(e)) == (3, 10, False, "short")


def test_the_mapper_words_the_os_reason() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    e = from_os_error(ConnectError, "cannot connect to h:1", refused)
    assert type(e) is ConnectError and str(e) == "cannot connect to h:1: Connection refused" and e.reason is refused
    # asyncio's own wording of a refused connect gives way to the errno's text.
    aio = OSError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)")
    assert os_reason(aio) == "Connection refused"
    # ProxyError keeps its message as its reason (what urlopen shows), and a given why wins.
    p = from_os_error(ProxyError, "CONNECT h:1 via proxy: reading from the proxy failed", refused, why="x", reason=False)
    assert str(p) == "CONNECT h:1 via proxy: reading from the proxy failed: x" and p.reason == str(p)


def test_refused_reads_the_same_on_every_client(face: Callable[..., Driver]) -> None:
    port = free_port()
    with pytest.raises(netwire.ConnectError) as info:
        face().get(f"http://127.0.0.1:{port}/")
    assert "Connection refused" in str(info.value), str(info.value)
