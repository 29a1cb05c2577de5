"""What a revisit costs, and the RFC pieces around it, against nginx on every client (sync,
asyncio, uvloop): ``stale-while-revalidate`` (RFC 5861), a HEAD's 200 refreshing the stored GET
response (RFC 9111 4.3.5), and the sqlite store's cheap paths (a lookup that needs no cache
thread, a 304 that leaves the stored body alone)."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import netwire
from netwire.http.cache import PEEK_MAX_BODY, CacheEntry, MemoryCache, SqliteCache, cache_key
from tests.cache.test_cache_nginx import Seen, age
from tests.servers.nginx import Nginx

pytestmark = pytest.mark.nginx


class CountingSqlite(SqliteCache):
    """An sqlite store that records which thread each ``get`` ran on."""

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(path, **options)
        self.gets: list[str] = []

    def get(self, key: str) -> list[CacheEntry]:
        self.gets.append(threading.current_thread().name)
        return super().get(key)


def settle(f: Any) -> None:
    """Wait until the client's store writes queued on its cache thread (async, sqlite) are done."""
    deadline = time.monotonic() + 10
    while f.client._cache_queued:
        assert time.monotonic() < deadline, "a store write never ran"
        time.sleep(0.005)


# -- stale-while-revalidate ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_stale_while_revalidate_serves_stale_once_then_revalidates(
    face: Any, cache_nginx: Nginx, hits: Seen, tmp_path: Path, kind: str
) -> None:
    store: Any = MemoryCache() if kind == "memory" else SqliteCache(tmp_path / "swr.sqlite")
    f = face(cache=store)
    url = cache_nginx.url("/swr/a.txt")
    seen = hits("/swr/a.txt")
    assert f.get(url).extensions["cache"] == "stored"
    settle(f)
    age(store, url, 40)  # stale by 10 s, well inside the 60 s window
    stale = f.get(url)
    assert stale.extensions["cache"] == "stale"
    assert stale.status == 200 and stale.content == b"stale while revalidate a\n"
    assert int(stale.headers["age"]) >= 40
    assert seen() == ["200"]  # served without the network
    # Served stale once: the next request revalidates (and the 304 makes it fresh again).
    again = f.get(url)
    assert again.extensions["cache"] == "revalidated" and again.content == b"stale while revalidate a\n"
    assert f.get(url).extensions["cache"] == "hit"
    assert seen() == ["200", "304"]


def test_stale_while_revalidate_ends_with_its_window(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    store = MemoryCache()
    f = face(cache=store)
    url = cache_nginx.url("/swr/a.txt")
    seen = hits("/swr/a.txt")
    f.get(url)
    age(store, url, 120)  # stale for 90 s: past the 60 s window
    assert f.get(url).extensions["cache"] == "revalidated"
    assert seen() == ["200", "304"]


def test_stale_while_revalidate_yields_to_must_revalidate_and_no_cache(
    face: Any, cache_nginx: Nginx, hits: Seen
) -> None:
    store = MemoryCache()
    f = face(cache=store)
    must = cache_nginx.url("/swr/must.txt")
    plain = cache_nginx.url("/swr/a.txt")
    seen_must = hits("/swr/must.txt")
    seen_plain = hits("/swr/a.txt")
    f.get(must)
    f.get(plain)
    age(store, must, 40)
    age(store, plain, 40)
    assert f.get(must).extensions["cache"] == "revalidated"  # must-revalidate: never served stale
    reload = f.get(plain, headers={"Cache-Control": "no-cache"})
    assert reload.extensions["cache"] == "revalidated"  # the request wants a validated answer
    assert seen_must() == ["200", "304"]
    assert seen_plain() == ["200", "304"]


# -- HEAD refreshes the stored GET response (RFC 9111 4.3.5) -------------------------------------


def test_a_head_200_refreshes_the_stored_get_headers(face: Any, cache_nginx: Nginx, hits: Seen) -> None:
    store = MemoryCache()
    f = face(cache=store)
    url = cache_nginx.url("/head/same.txt")
    seen = hits("/head/same.txt")
    first = f.get(url)
    assert first.extensions["cache"] == "stored"
    served_first = first.headers["x-served"]
    # A HEAD that must go to the server (max-age=0): nginx answers 200 (it never says 304 here),
    # same ETag and length, a new X-Served.
    head = f.request("HEAD", url, headers={"Cache-Control": "max-age=0"})
    assert head.status == 200 and head.headers["x-served"] != served_first
    (entry,) = store.get(cache_key(url))
    assert entry.field("x-served") == head.headers["x-served"]
    assert entry.body == b"head same\n"
    hit = f.get(url)
    assert hit.extensions["cache"] == "hit" and hit.headers["x-served"] == head.headers["x-served"]
    assert hit.content == b"head same\n"
    assert seen() == ["200", "200"]  # the GET and the HEAD; the last GET was a hit


def test_a_head_200_describing_another_response_marks_it_stale(
    face: Any, cache_nginx: Nginx, hits: Seen
) -> None:
    store = MemoryCache()
    f = face(cache=store)
    url = cache_nginx.url("/head/changed.txt")
    path = cache_nginx.root / "head/changed.txt"
    seen = hits("/head/changed.txt")
    try:
        assert f.get(url).content == b"head changed\n"
        path.write_bytes(b"head changed: a longer new version\n")  # a new ETag and length
        head = f.request("HEAD", url, headers={"Cache-Control": "max-age=0"})
        assert head.status == 200
        (entry,) = store.get(cache_key(url))
        assert entry.stale  # fresh for an hour, but the server describes another response now
        again = f.get(url)
        assert again.extensions["cache"] == "stored"  # revalidated: the new version, not a hit
        assert again.content == b"head changed: a longer new version\n"
        assert seen() == ["200", "200", "200"]
    finally:
        path.write_bytes(b"head changed\n")


# -- the sqlite store's cheap paths ----------------------------------------------------------------


def test_sqlite_fresh_hits_need_no_get_and_no_cache_thread(
    face: Any, cache_nginx: Nginx, hits: Seen, tmp_path: Path
) -> None:
    store = CountingSqlite(tmp_path / "peek.sqlite")
    f = face(cache=store)
    url = cache_nginx.url("/fresh/a.txt")
    seen = hits("/fresh/a.txt")
    assert f.get(url).extensions["cache"] == "stored"
    settle(f)
    store.gets.clear()
    for _ in range(5):
        r = f.get(url)
        assert r.extensions["cache"] == "hit" and r.content == b"fresh a\n"
    assert store.gets == []  # answered by peek, inline: no blocking get, no hop to the cache thread
    assert seen() == ["200"]


def test_sqlite_big_bodies_are_read_by_get(face: Any, cache_nginx: Nginx, tmp_path: Path) -> None:
    store = CountingSqlite(tmp_path / "big.sqlite", memo_size=0)  # (one in the memo needs no read at all)
    f = face(cache=store)
    url = cache_nginx.url("/fresh/big.bin")
    f.get(url)
    settle(f)
    store.gets.clear()
    r = f.get(url)
    assert r.extensions["cache"] == "hit" and len(r.content) == 256 * 1024 > PEEK_MAX_BODY
    assert len(store.gets) == 1  # too big to read on the event loop: the get, on the cache thread


def test_sqlite_304_updates_the_fields_and_leaves_the_body(
    face: Any, cache_nginx: Nginx, hits: Seen, tmp_path: Path
) -> None:
    path = tmp_path / "304.sqlite"
    store = SqliteCache(path)
    f = face(cache=store)
    url = cache_nginx.url("/etag/a.txt")
    f.get(url)
    settle(f)
    db = sqlite3.connect(path)
    ((body_id, headers, first_time),) = db.execute("SELECT body, headers, response_time FROM responses").fetchall()
    db.execute(
        "UPDATE responses SET headers = ? WHERE body = ?", (headers.replace("no-cache", "no-cache, x-old"), body_id)
    )
    db.commit()
    again = f.get(url)
    assert again.extensions["cache"] == "revalidated" and again.content == b"etag a\n"
    settle(f)  # (the async client's write is queued on its cache thread)
    store.close()  # (writes the refresh it holds back: see test_sqlite_refreshes_are_written_together)
    ((new_id, new_headers, new_time),) = db.execute("SELECT body, headers, response_time FROM responses").fetchall()
    assert new_id == body_id  # the body row was not rewritten
    assert "x-old" not in new_headers  # the 304's Cache-Control replaced the stored one
    assert new_time >= first_time
    assert db.execute("SELECT COUNT(*) FROM bodies").fetchone() == (1,)
    db.close()


def test_sqlite_peek_never_waits_for_a_lock(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    store = SqliteCache(path)
    entry = CacheEntry("http://x/", 200, "OK", "1.1", [("Cache-Control", "max-age=60")], b"body", 1.0, 1.0)
    store.put("http://x/", entry)
    assert [e.body for e in store.peek("http://x/") or []] == [b"body"]
    store.close()
    # Another process holding the file exclusively (as a writer in exclusive locking mode does).
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        # The same store reopened without its __init__ (which would wait busy_timeout for the lock).
        again = SqliteCache.__new__(SqliteCache)
        again.__dict__.update(store.__dict__, _closed=False, _idle=[], _peeker=None, _peek_lock=threading.Lock())
        started = time.monotonic()
        assert again.peek("http://x/") is None  # locked: no answer...
        assert time.monotonic() - started < again.busy_timeout / 2  # ...and no wait
        again.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_sqlite_file_of_the_first_layout_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE entries (key TEXT NOT NULL, variant TEXT NOT NULL, stored REAL NOT NULL,"
        " size INTEGER NOT NULL, meta TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (key, variant));"
        "CREATE TABLE total (id INTEGER PRIMARY KEY CHECK (id = 0), bytes INTEGER NOT NULL);"
        "INSERT INTO total VALUES (0, 123);"
    )
    db.close()
    store = SqliteCache(path)
    assert len(store) == 0 and store.size == 0
    entry = CacheEntry("http://x/", 200, "OK", "1.1", [("ETag", '"a"')], b"body", 1.0, 1.0)
    store.put("http://x/", entry)
    assert store.get("http://x/") == [entry]
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (3,)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'entries'").fetchall() == []
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(ValueError, match="newer netwire"):
        SqliteCache(path)


def test_sqlite_store_round_trips_odd_fields(tmp_path: Path) -> None:
    store = SqliteCache(tmp_path / "fields.sqlite")
    headers = [("X-Colon", "a: b: c"), ("X-Empty", ""), ("X-Space", "  padded "), ("Vary", "Accept")]
    entry = CacheEntry("http://x/", 203, "Odd", "1.0", headers, b"\x00\xff", 1.5, 2.5, {"accept": "a/b"}, True)
    store.put("http://x/", entry)
    assert store.get("http://x/") == [entry] == store.peek("http://x/")
    store.update("http://x/", dataclasses.replace(entry, headers=headers[:1], stale=False))
    (got,) = store.get("http://x/")
    assert got.headers == headers[:1] and not got.stale and got.body == b"\x00\xff"
    store.close()


def test_sqlite_size_follows_updates(tmp_path: Path) -> None:
    store = SqliteCache(tmp_path / "size.sqlite")
    entry = CacheEntry("http://x/", 200, "OK", "1.1", [("ETag", '"a"')], b"b" * 100, 1.0, 1.0)
    store.put("http://x/", entry)
    before = store.size
    bigger = CacheEntry("http://x/", 200, "OK", "1.1", [("ETag", '"a"'), ("X-More", "m" * 50)], entry.body, 2.0, 2.0)
    store.update("http://x/", bigger)
    assert store.size == before + bigger.size - entry.size
    store.delete("http://x/")
    assert store.size == 0 and len(store) == 0
    store.close()


def test_client_sqlite_cache_still_works_after_close_of_peek(cache_nginx: Nginx, tmp_path: Path) -> None:
    path = tmp_path / "closed.sqlite"
    with netwire.Client(cache=path) as client:
        client.get(cache_nginx.url("/fresh/b.txt"))
        assert client.get(cache_nginx.url("/fresh/b.txt")).extensions["cache"] == "hit"
    store = SqliteCache(path)
    store.close()
    assert store.peek("http://x/") is None
    with pytest.raises(RuntimeError, match="closed"):
        store.get("http://x/")


def test_sqlite_parsed_rows_never_hide_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "two.sqlite"
    mine, other = SqliteCache(path), SqliteCache(path)
    entry = CacheEntry("http://x/", 200, "OK", "1.1", [("ETag", '"a"'), ("Cache-Control", "max-age=60")], b"v1", 1.0, 1.0)
    mine.put("http://x/", entry)
    assert [e.field("etag") for e in mine.get("http://x/")] == ['"a"']  # parsed, and kept parsed
    # Another process: the same times, a new field (a plug-in's update), then a new body.
    other.update("http://x/", dataclasses.replace(entry, headers=[("ETag", '"b"'), ("Cache-Control", "max-age=60")]))
    assert [e.field("etag") for e in mine.get("http://x/")] == ['"b"'] == [e.field("etag") for e in mine.peek("http://x/") or []]
    other.put("http://x/", dataclasses.replace(entry, body=b"v2"))
    assert [(e.field("etag"), e.body) for e in mine.get("http://x/")] == [('"a"', b"v2")]
    other.delete("http://x/")
    assert mine.get("http://x/") == [] and mine.peek("http://x/") == []
    mine.close()
    other.close()


def test_sqlite_parsed_rows_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import netwire.http.cache as cache_module

    monkeypatch.setattr(cache_module, "PARSED_MEMO_SIZE", 2000)
    store = SqliteCache(tmp_path / "bound.sqlite")
    for i in range(50):
        e = CacheEntry(f"http://x/{i}", 200, "OK", "1.1", [("X-Pad", "p" * 300)], b"b", 1.0, 1.0)
        store.put(e.url, e)
        assert store.get(e.url)[0].field("x-pad") == "p" * 300
    assert store._memo._size <= 2000 and 0 < len(store._memo._entries) < 50
    store.close()


def test_sqlite_memo_answers_a_revisit_with_one_tiny_read(tmp_path: Path) -> None:
    """A row this store wrote or read is answered from its memo after one read of the file's
    generation (not the row, not its body); its own writes keep the memo, another's empty it."""
    path = tmp_path / "memo.sqlite"
    mine, other = SqliteCache(path), SqliteCache(path)
    a = CacheEntry("http://x/a", 200, "OK", "1.1", [("Cache-Control", "max-age=60")], b"a" * 50_000, 1.0, 1.0)
    b = dataclasses.replace(a, url="http://x/b", body=b"b")
    mine.put(a.url, a)
    mine.put(b.url, b)  # a write of ours: the memo of a stays good
    statements: list[str] = []
    assert mine.peek(a.url) == [a]  # (opens the peek connection)
    assert mine._peeker is not None
    mine._peeker.connection.set_trace_callback(statements.append)
    for _ in range(3):
        assert [e.body for e in mine.peek(a.url) or []] == [a.body]
    assert statements == ["SELECT generation FROM total WHERE id = 0"] * 3
    # Another process writes: the generation moves, the row is read again (and seen changed).
    other.update(a.url, dataclasses.replace(a, headers=[("Cache-Control", "max-age=99")]))
    statements.clear()
    assert [e.field("cache-control") for e in mine.peek(a.url) or []] == ["max-age=99"]
    assert len(statements) == 2 and "FROM responses" in statements[1]
    mine.close()
    other.close()


def test_a_lookup_that_raced_a_write_of_ours_keeps_the_memo(tmp_path: Path) -> None:
    """AsyncClient's event loop reads the file's generation, then the cache thread's put of
    another page commits and ends: the lookup, holding the older generation, misses, but must
    not start the memo over at that older generation (it did: a 1,000-page revisit right after
    the crawl then read half its rows from the file, 3x the CPU of a memo hit)."""
    path = tmp_path / "race.sqlite"
    store = SqliteCache(path)
    a = CacheEntry("http://x/a", 200, "OK", "1.1", [("Cache-Control", "max-age=60")], b"a", 1.0, 1.0)
    store.put(a.url, a)
    before = store._memo.generation  # what the loop read, before the next write
    store.put("http://x/b", dataclasses.replace(a, url="http://x/b", body=b"b"))  # the cache thread's
    assert store._memo.get("http://x/a", before) is None  # a miss, answered from the file
    statements: list[str] = []
    assert store.peek(a.url) == [a]  # (opens the peek connection)
    assert store._peeker is not None
    store._peeker.connection.set_trace_callback(statements.append)
    assert store.peek(a.url) == [a] and store.peek("http://x/b") is not None
    assert statements == ["SELECT generation FROM total WHERE id = 0"] * 2  # both still in the memo
    store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_304_revalidation_takes_the_lean_lane_and_keeps_the_connection(
    face: Any, cache_nginx: Nginx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A stale stored page with validators, the client doing nothing else (no auth, retries,
    robots.txt): one conditional request sent by the driver without the send loop, its 304
    drained (the connection reused for the next request), the stored body served refreshed."""
    from netwire.http import flow

    store: Any = MemoryCache() if kind == "memory" else SqliteCache(tmp_path / "lean.sqlite")
    f = face(cache=store)
    urls = [cache_nginx.url(f"/etag/a.txt?{i}") for i in range(3)]  # (no-cache: every revisit is a 304)
    first = cache_nginx.log_size()
    for url in urls:
        assert f.get(url).extensions["cache"] == "stored"
    settle(f)
    # nginx logs a request after sending its response: wait for the three 200s' lines, or the
    # last one may land after the offset below (it did, once, in CI).
    assert len(cache_nginx.log_since(first, expected_lines=3)) >= 3
    loops: list[object] = []
    real = flow.send_flow
    monkeypatch.setattr(flow, "send_flow", lambda *a, **k: loops.append(a) or real(*a, **k))
    offset = cache_nginx.log_size()
    for url in urls:
        r = f.get(url)
        assert r.extensions["cache"] == "revalidated" and r.status == 200 and r.content == b"etag a\n"
        assert "age" in r.headers and r.headers["cache-control"] == "no-cache"
        settle(f)
    assert loops == []  # no generator: the driver's lean lane
    lines = [line for line in cache_nginx.log_since(offset, expected_lines=3) if line[3].startswith("/etag/a.txt?")]
    assert [line[4] for line in lines] == ["304"] * 3
    assert len({line[0] for line in lines}) == 1  # one connection: each 304 was drained, not dropped


def test_sqlite_refreshes_are_written_together(tmp_path: Path) -> None:
    """304 refreshes of rows the store knows are held back and written in one transaction (seen
    by the store at once, by another process once written); a stale mark goes out at once; a
    held refresh never lands on a row another process replaced meanwhile."""
    path = tmp_path / "batch.sqlite"
    mine, other = SqliteCache(path, refresh_batch=3), SqliteCache(path)
    entries = [
        CacheEntry(f"http://x/{i}", 200, "OK", "1.1", [("ETag", '"a"'), ("Cache-Control", "no-cache")], b"v1", 1.0, 1.0)
        for i in range(4)
    ]
    for e in entries:
        mine.put(e.url, e)
    refreshed = [dataclasses.replace(e, request_time=5.0, response_time=5.0) for e in entries]
    mine.update(entries[0].url, refreshed[0])
    mine.update(entries[1].url, refreshed[1])
    assert mine.get(entries[0].url) == [refreshed[0]] == mine.peek(entries[0].url)  # seen by this store
    assert other.get(entries[0].url) == [entries[0]]  # not yet written
    # Another process replaces row 1 meanwhile: the held refresh of the old one must not land on it.
    replaced = dataclasses.replace(entries[1], body=b"v2", response_time=3.0)
    other.put(replaced.url, replaced)
    mine.update(entries[2].url, refreshed[2])  # the third: all written, in one transaction
    assert other.get(entries[0].url) == [refreshed[0]] and other.get(entries[2].url) == [refreshed[2]]
    assert other.get(entries[1].url) == [replaced] == mine.get(entries[1].url)
    # A stale mark is for every process at once.
    mine.update(entries[3].url, rules_marked_stale(entries[3]))
    assert [e.stale for e in other.get(entries[3].url)] == [True]
    # Held at close: written.
    mine.update(entries[0].url, dataclasses.replace(refreshed[0], response_time=9.0))
    mine.close()
    assert [e.response_time for e in other.get(entries[0].url)] == [9.0]
    other.close()


def rules_marked_stale(entry: CacheEntry) -> CacheEntry:
    from netwire.http.cache import marked_stale

    return marked_stale(entry)
