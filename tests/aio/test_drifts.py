"""Two of issue 16's drifts between the sync and async clients, pinned on every face (sync,
asyncio, uvloop); the other eight are pinned where docs/architecture.md says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.drivers import Driver
from tests.servers.faults import Serve, response

Make = Callable[..., Driver]


def test_response_headers_carry_the_parsers_index(face: Make, fault_server: Any) -> None:
    # Both clients build headers with http/flow.py's response_fields: the parser's index is kept
    # (no second pass over the fields on the first lookup), and lookups see repeated fields.
    srv = fault_server([Serve(response(b"x", headers=[("X-A", "1"), ("x-a", "2")]))])
    r = face().get(srv.url("/"))
    assert r.headers.get_list("X-A") == ["1", "2"]
    assert r.headers._index is not None


def test_a_kept_alive_connection_counts_its_requests(face: Make, fault_server: Any) -> None:
    # Counted once per exchange, by the driver (it was the client in one twin, the pool in the other).
    srv = fault_server([Serve(response(b"again"))])
    c = face()
    for _ in range(3):
        assert c.get(srv.url("/")).content == b"again"
    idle = [conn for conns in c.client.pool._idle.values() for conn in conns]
    assert [conn.requests for conn in idle] == [3]
    assert srv.connections == 1
