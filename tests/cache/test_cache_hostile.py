"""The cache against a hostile or inconsistent server of our own (raw sockets on loopback):
a body cut short is never stored, a 304 about another representation is not merged, a store
that fails loses the entry and not the response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import netwire
from netwire.http.cache import CacheEntry, MemoryCache, cache_key
from tests.servers.raw import OneShotServer

OneShot = Callable[[Any], OneShotServer]

CUT = (
    b"HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: 1000\r\n\r\n" + b"x" * 400
)  # then the connection closes: 600 bytes short


def test_a_body_cut_short_is_never_stored(face: Any, one_shot: OneShot) -> None:
    server = one_shot(CUT)
    store = MemoryCache()
    f = face(cache=store)
    for _ in range(2):
        with pytest.raises(netwire.NetwireError):
            f.get(server.url + "/cut")
    assert len(store) == 0
    assert len(server.received) == 2  # the second request went to the server again


def test_a_streamed_body_cut_short_is_never_stored(face: Any, one_shot: OneShot) -> None:
    server = one_shot(CUT)
    store = MemoryCache()
    f = face(cache=store)
    with pytest.raises(netwire.NetwireError):
        f.stream_chunks("GET", server.url + "/cut")
    assert len(store) == 0


def _etags(head: bytes) -> bytes:
    """ETag "v1" first; asked with If-None-Match, a 304 naming "v2" (another representation);
    asked without, the new representation."""
    if b"if-none-match" in head.lower():
        return b'HTTP/1.1 304 Not Modified\r\nETag: "v2"\r\nCache-Control: no-cache\r\n\r\n'
    body = b"version 2" if b"x-second" in head.lower() else b"version 1"
    tag = b'"v2"' if body == b"version 2" else b'"v1"'
    return (
        b"HTTP/1.1 200 OK\r\nETag: " + tag + b"\r\nCache-Control: no-cache\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )


def test_a_304_for_another_representation_is_not_merged(face: Any, one_shot: OneShot) -> None:
    server = one_shot(_etags)
    store = MemoryCache()
    f = face(cache=store, headers={"X-Second": "1"})
    url = server.url + "/tag"
    store.put(
        cache_key(url),
        CacheEntry(url, 200, "OK", "1.1", [("ETag", '"v1"'), ("Cache-Control", "no-cache")], b"version 1", 0.0, 0.0),
    )
    r = f.get(url)
    # The 304 names "v2", the stored response is "v1": asked again without validators.
    assert r.status == 200 and r.content == b"version 2"
    assert [b"if-none-match" in h.lower() for h in server.received] == [True, False]
    (entry,) = store.get(cache_key(url))
    assert entry.body == b"version 2"


class BrokenStore(MemoryCache):
    def put(self, key: str, entry: CacheEntry) -> None:
        raise OSError("disk full")


def test_a_store_that_fails_loses_the_entry_not_the_response(face: Any, one_shot: OneShot) -> None:
    server = one_shot(b"HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 2\r\n\r\nok")
    f = face(cache=BrokenStore())
    with pytest.warns(RuntimeWarning, match="disk full"):
        r = f.get(server.url + "/x")
    assert r.content == b"ok"


def test_bad_cache_option() -> None:
    with pytest.raises(TypeError, match="cache must be"):
        netwire.Client(cache=42)
    with pytest.raises(ValueError, match=">= 0"):
        MemoryCache(max_size=-1)
