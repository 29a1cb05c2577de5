"""The HTTP cache against nginx, on every client (sync, asyncio, uvloop): what reached the
server is counted from nginx's access log (the ``hits`` fixture)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

import pytest

import netwire
from netwire.http.cache import MemoryCache, cache_key, freshness_lifetime
from tests.cache.conftest import BIG
from tests.drivers import Driver, make_driver
from tests.servers.nginx import Nginx

pytestmark = pytest.mark.nginx

Seen = Callable[[str], Callable[[], list[str]]]


def age(store: MemoryCache, url: str, seconds: float) -> None:
    """Make every entry stored for ``url`` ``seconds`` older (as if stored that long ago)."""
    key = cache_key(url)
    for entry in store.get(key):
        store.put(
            key,
            dataclasses.replace(
                entry, request_time=entry.request_time - seconds, response_time=entry.response_time - seconds
            ),
        )


def test_fresh_response_served_without_the_network(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/fresh/a.txt")
    seen = hits("/fresh/a.txt")
    first = f.get(url)
    second = f.get(url)
    assert first.extensions["cache"] == "stored"
    assert second.extensions["cache"] == "hit"
    assert second.status == 200 and second.content == b"fresh a\n"
    assert second.headers["age"].isdigit()
    assert second.headers["cache-control"] == "max-age=3600"
    assert seen() == ["200"]


def test_etag_revalidation_serves_the_stored_body(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/etag/a.txt")
    seen = hits("/etag/a.txt")
    assert f.get(url).extensions["cache"] == "stored"
    again = f.get(url)
    assert again.extensions["cache"] == "revalidated"
    assert again.status == 200 and again.content == b"etag a\n"
    assert seen() == ["200", "304"]  # Cache-Control: no-cache: asked every time, answered 304


def test_last_modified_revalidation(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/lm/a.txt")
    seen = hits("/lm/a.txt")
    f.get(url)
    again = f.get(url)
    assert "etag" not in again.headers  # only If-Modified-Since could validate it
    assert again.extensions["cache"] == "revalidated" and again.content == b"last-modified a\n"
    assert seen() == ["200", "304"]


def test_a_304_updates_the_stored_headers(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    store = MemoryCache()
    f = face(cache=store)
    url = cache_nginx.url("/etag/a.txt")
    f.get(url)
    key = cache_key(url)
    (entry,) = store.get(key)
    # Pretend the stored response said something else: the 304's fields must replace these.
    headers = [(k, v) for k, v in entry.headers if k.lower() not in ("cache-control", "date")]
    headers += [("Cache-Control", "max-age=0"), ("Date", "Mon, 01 Jan 2001 00:00:00 GMT"), ("X-Kept", "1")]
    store.put(key, dataclasses.replace(entry, headers=headers))
    seen = hits("/etag/a.txt")
    served = f.get(url)
    assert seen() == ["304"]
    (updated,) = store.get(key)
    assert updated.field("cache-control") == "no-cache"  # from the 304
    assert updated.field("date") != "Mon, 01 Jan 2001 00:00:00 GMT"
    assert updated.field("x-kept") == "1"  # not in the 304: kept
    assert updated.body == b"etag a\n"
    assert served.headers["cache-control"] == "no-cache" and served.content == b"etag a\n"


def test_must_revalidate_is_never_served_stale(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    store = MemoryCache()
    f = face(cache=store)
    must, fresh = cache_nginx.url("/must/a.txt"), cache_nginx.url("/fresh/b.txt")
    f.get(must)
    f.get(fresh)
    age(store, must, 60)
    age(store, fresh, 7200)
    seen_must, seen_fresh = hits("/must/a.txt"), hits("/fresh/b.txt")
    # The request accepts stale responses; only the one without must-revalidate may be one.
    stale_ok = {"Cache-Control": "max-stale"}
    assert f.get(fresh, headers=stale_ok).extensions["cache"] == "hit"
    assert f.get(must, headers=stale_ok).extensions["cache"] == "revalidated"
    assert seen_fresh() == []
    assert seen_must() == ["304"]


def test_a_stale_response_is_revalidated(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    store = MemoryCache()
    f = face(cache=store)
    url = cache_nginx.url("/fresh/a.txt")
    f.get(url)
    age(store, url, 7200)
    seen = hits("/fresh/a.txt")
    again = f.get(url)
    assert again.extensions["cache"] == "revalidated"
    assert seen() == ["304"]
    assert f.get(url).extensions["cache"] == "hit"  # the 304 made it fresh again


def test_no_store_is_not_stored(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    store = MemoryCache()
    f = face(cache=store)
    url = cache_nginx.url("/nostore/a.txt")
    seen = hits("/nostore/a.txt")
    assert [f.get(url).extensions["cache"] for _ in range(2)] == ["miss", "miss"]
    assert seen() == ["200", "200"]
    assert len(store) == 0
    # A request's no-store: its response is not stored either.
    assert f.get(cache_nginx.url("/fresh/a.txt"), headers={"Cache-Control": "no-store"}).extensions["cache"] == "miss"
    assert len(store) == 0


def test_request_no_cache_revalidates_unless_immutable(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    fresh, immutable = cache_nginx.url("/fresh/a.txt"), cache_nginx.url("/immutable/a.txt")
    f.get(fresh)
    f.get(immutable)
    seen_fresh, seen_immutable = hits("/fresh/a.txt"), hits("/immutable/a.txt")
    reload = {"Cache-Control": "no-cache"}
    assert f.get(fresh, headers=reload).extensions["cache"] == "revalidated"
    assert f.get(immutable, headers=reload).extensions["cache"] == "hit"
    assert f.get(fresh, headers={"Pragma": "no-cache"}).extensions["cache"] == "revalidated"
    assert f.get(fresh, headers={"Cache-Control": "max-age=0"}).extensions["cache"] == "revalidated"
    assert seen_fresh() == ["304", "304", "304"]
    assert seen_immutable() == []


def test_private_and_heuristic_responses_are_stored(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    store = MemoryCache()
    f = face(cache=store)
    paths = ["/private/a.txt", "/heuristic/old.txt"]
    for path in paths:
        f.get(cache_nginx.url(path))
    seen = [hits(p) for p in paths]
    for path in paths:
        assert f.get(cache_nginx.url(path)).extensions["cache"] == "hit"
    assert [s() for s in seen] == [[], []]
    # Last-Modified 100 days before Date: 10% is 10 days, capped at one day; 10 s before: 1 s.
    # "10 s before" from now: the session fixture's stamp is minutes old by the time a busy (or
    # parallel) run gets here, and the lifetime grew with it (2.8 s seen).
    now = time.time()
    os.utime(cache_nginx.root / "heuristic/new.txt", (now - 10, now - 10))
    f.get(cache_nginx.url("/heuristic/new.txt"))
    (old,) = store.get(cache_key(cache_nginx.url("/heuristic/old.txt")))
    (new,) = store.get(cache_key(cache_nginx.url("/heuristic/new.txt")))
    assert freshness_lifetime(old) == 86400
    assert 0.5 <= freshness_lifetime(new) <= 2


def test_vary_keeps_one_response_per_variant(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/vary/a.txt")
    seen = hits("/vary/a.txt")
    en, de = {"Accept-Language": "en"}, {"Accept-Language": "de"}
    states = [f.get(url, headers=h).extensions["cache"] for h in (en, en, de, en, de)]
    assert states == ["stored", "hit", "stored", "hit", "hit"]
    assert seen() == ["200", "200"]


def test_vary_star_is_never_served(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/varystar/a.txt")
    seen = hits("/varystar/a.txt")
    assert [f.get(url).extensions["cache"] for _ in range(2)] == ["miss", "miss"]
    assert seen() == ["200", "200"]


def test_an_unsafe_method_invalidates_the_url(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/inv/a.txt")
    f.get(url)
    assert f.get(url).extensions["cache"] == "hit"
    seen = hits("/inv/a.txt")
    assert f.request("POST", url, content=b"x").status == 200
    assert f.get(url).extensions["cache"] == "stored"
    assert seen() == ["200", "200"]  # the POST, then the GET that had to go to nginx again


def test_authorization_responses_are_stored_only_when_public(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    private, public = cache_nginx.url("/fresh/a.txt"), cache_nginx.url("/public/a.txt")
    seen_private, seen_public = hits("/fresh/a.txt"), hits("/public/a.txt")
    for _ in range(2):
        f.get(private, auth=("user", "secret"))
        f.get(public, auth=("user", "secret"))
    assert seen_private() == ["200", "200"]
    assert seen_public() == ["200"]


def test_set_cookie_is_not_applied_again_from_the_cache(face: Any, cache_nginx: Nginx) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/cookie/a.txt")
    f.get(url)
    assert [c.name for c in f.client.cookies] == ["visit"]
    f.client.cookies.clear()
    hit = f.get(url)
    assert hit.extensions["cache"] == "hit" and hit.headers["set-cookie"].startswith("visit=1")
    assert list(f.client.cookies) == []  # the stored Set-Cookie was processed once, when it arrived


def test_head_is_answered_from_a_stored_get(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/fresh/a.txt")
    seen = hits("/fresh/a.txt")
    f.get(url)
    head = f.request("HEAD", url)
    assert head.extensions["cache"] == "hit" and head.content == b"" and head.headers["content-length"] == "8"
    assert seen() == ["200"]


def test_gzip_bodies_are_stored_as_received_and_decoded_on_hits(face: Any, cache_nginx: Nginx) -> None:
    store = MemoryCache()
    f = face(cache=store)
    url = cache_nginx.url("/gz/text.txt")
    first = f.get(url, headers={"Accept-Encoding": "gzip"})
    hit = f.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert hit.extensions["cache"] == "hit" and hit.content == b"compressible line of text\n" * 400
    (entry,) = store.get(cache_key(url))
    assert entry.body[:2] == b"\x1f\x8b"  # stored compressed, as it came


def _stream_partly(f: Driver, url: str) -> None:
    """Open a streamed GET, read one piece of the body, and close it."""
    if f.kind == "sync":
        with f.client.stream("GET", url) as r:
            assert r.read(1000)
        return

    async def go() -> None:
        async with f.client.stream("GET", url) as r:
            async for _chunk in r.aiter_bytes():
                break

    f.run(go())  # type: ignore[union-attr]


def test_a_streamed_body_is_stored_only_when_read_to_the_end(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    store = MemoryCache()
    f = face(cache=store)
    url = cache_nginx.url("/fresh/big.bin")
    seen = hits("/fresh/big.bin")
    _stream_partly(f, url)
    assert store.get(cache_key(url)) == []
    response, chunks = f.stream_chunks("GET", url)
    assert b"".join(chunks) == BIG and response.extensions["cache"] == "stored"
    hit, chunks = f.stream_chunks("GET", url)
    assert hit.extensions["cache"] == "hit" and b"".join(chunks) == BIG
    assert seen() == ["200", "200"]


def test_size_bounds(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    small = MemoryCache(max_entry_size=100_000)
    f = face(cache=small)
    url = cache_nginx.url("/fresh/big.bin")
    seen = hits("/fresh/big.bin")
    assert [f.get(url).extensions["cache"] for _ in range(2)] == ["miss", "miss"]  # 256 KiB > the entry bound
    assert seen() == ["200", "200"]
    # A total bound of about two pages: the least recently used goes.
    lru = MemoryCache(max_size=2600)
    g = face(cache=lru)
    pages = [cache_nginx.url(f"/pages/{i}.html") for i in range(3)]
    g.get(pages[0])
    g.get(pages[1])
    g.get(pages[0])  # now pages[1] is the least recently used
    g.get(pages[2])
    assert lru.size <= 2600
    assert [bool(lru.get(cache_key(p))) for p in pages] == [True, False, True]


def test_sqlite_cache_survives_the_client(face: Any, cache_nginx: Nginx, hits: Seen, tmp_path: Any) -> None:
    path = tmp_path / "cache.sqlite"
    url = cache_nginx.url("/fresh/b.txt")
    seen = hits("/fresh/b.txt")
    again = face(cache=path)
    first = make_driver(again.kind, cache=str(path))  # closed here: its store is closed with it
    assert first.get(url).extensions["cache"] == "stored"
    first.close()
    hit = again.get(url)
    assert hit.extensions["cache"] == "hit" and hit.content == b"fresh b\n"
    etag = cache_nginx.url("/etag/a.txt")
    again.get(etag)
    assert again.get(etag).extensions["cache"] == "revalidated"
    assert seen() == ["200"]


def test_sqlite_cache_shared_by_threads(cache_nginx: Nginx, hits: Seen, tmp_path: Any) -> None:
    import threading

    path = tmp_path / "shared.sqlite"
    urls = [cache_nginx.url(f"/pages/{i}.html") for i in range(100, 140)]
    errors: list[BaseException] = []
    states: list[str] = []

    def crawl(client: netwire.Client) -> None:
        try:
            for _ in range(2):
                for url in urls:
                    r = client.get(url)
                    assert r.status == 200 and r.content.startswith(b"<p>")
                    states.append(r.extensions["cache"])
        except BaseException as exc:
            errors.append(exc)

    # Two clients, each with its own SqliteCache on the same file (as two processes would), four threads each.
    clients = [netwire.Client(cache=path) for _ in range(2)]
    try:
        threads = [threading.Thread(target=crawl, args=(c,)) for c in clients for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for c in clients:
            c.close()
    assert errors == []
    assert len(states) == 8 * 2 * len(urls)
    assert states.count("hit") >= len(states) // 2  # every second round at least is served from the file
    store = netwire.cache.SqliteCache(path)
    try:
        assert len(store) == len(urls)
    finally:
        store.close()


def test_sqlite_cache_shared_by_processes(cache_nginx: Nginx, tmp_path: Any) -> None:
    import subprocess
    import sys

    path = tmp_path / "procs.sqlite"
    script = (
        "import sys, netwire\n"
        "with netwire.Client(cache=sys.argv[1]) as c:\n"
        "    for i in range(200, 260):\n"
        "        assert c.get(sys.argv[2] + f'/pages/{i}.html').status == 200\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), cache_nginx.base_url]) for _ in range(3)
    ]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    store = netwire.cache.SqliteCache(path)
    try:
        assert len(store) == 60
    finally:
        store.close()


def test_no_cache_means_no_cache_extension(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face()
    url = cache_nginx.url("/fresh/a.txt")
    seen = hits("/fresh/a.txt")
    assert "cache" not in f.get(url).extensions
    f.get(url)
    assert seen() == ["200", "200"]


def test_cache_is_fast_path_free_when_off() -> None:
    from netwire.flow import is_plain

    with netwire.Client() as plain, netwire.Client(cache=True) as cached:
        assert is_plain(plain, None)
        assert not is_plain(cached, None)


def test_elapsed_time_of_a_hit_is_small(face: Any, cache_nginx: Nginx) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/fresh/a.txt")
    f.get(url)
    started = time.monotonic()
    for _ in range(50):
        assert f.get(url).extensions["cache"] == "hit"
    assert time.monotonic() - started < 5


def test_a_redirect_is_stored_and_followed_from_the_cache(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    seen_moved, seen_target = hits("/moved"), hits("/fresh/a.txt")
    first = f.get(cache_nginx.url("/moved"))
    again = f.get(cache_nginx.url("/moved"))
    assert first.history[0].extensions["cache"] == "stored"
    assert [r.extensions["cache"] for r in again.history] == ["hit"]
    assert again.extensions["cache"] == "hit" and again.content == b"fresh a\n"
    assert seen_moved() == ["301"] and seen_target() == ["200"]


def test_only_if_cached_answers_504_when_nothing_is_stored(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    f = face(cache=True)
    url = cache_nginx.url("/fresh/b.txt")
    seen = hits("/fresh/b.txt")
    offline = {"Cache-Control": "only-if-cached"}
    assert f.get(url, headers=offline).status == 504
    f.get(url)
    assert f.get(url, headers=offline).extensions["cache"] == "hit"
    assert seen() == ["200"]
