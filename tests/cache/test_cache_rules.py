"""The cache's rules (netwire.cache), pure: no server, a clock passed in."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from netwire.http.cache import (
    CacheEntry,
    MemoryCache,
    Plan,
    conditional,
    current_age,
    freshness_lifetime,
    parse_cache_control,
    refresh,
    select,
    storable,
    usable,
)
from netwire.models import Headers, Request, Response
from netwire.url import URL

T0 = 1_700_000_000.0
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"  # T0


def entry(*headers: tuple[str, str], status: int = 200, at: float = T0, vary: dict[str, str] | None = None) -> CacheEntry:
    return CacheEntry("http://a.test/", status, "OK", "1.1", [("Date", DATE), *headers], b"body", at, at, vary or {})


def req(*headers: tuple[str, str], method: str = "GET") -> Request:
    return Request(method, URL("http://a.test/"), headers=Headers(list(headers)))


def resp(status: int, *headers: tuple[str, str]) -> Response:
    return Response(status, headers=Headers(list(headers)))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["max-age=60, public"], {"max-age": "60", "public": None}),
        (['no-cache="Set-Cookie, X-A", max-age=5'], {"no-cache": "Set-Cookie, X-A", "max-age": "5"}),
        (["MAX-AGE=1", "max-age=2"], {"max-age": "1"}),
        ([" , ,private,,"], {"private": None}),
        (['x="a\\"b"'], {"x": 'a"b'}),
    ],
)
def test_parse_cache_control(values: list[str], expected: dict[str, str | None]) -> None:
    assert parse_cache_control(values) == expected


def test_freshness_lifetime_order() -> None:
    assert freshness_lifetime(entry(("Cache-Control", "max-age=60"), ("Expires", "Tue, 14 Nov 2023 23:13:20 GMT"))) == 60
    assert freshness_lifetime(entry(("Expires", "Tue, 14 Nov 2023 23:13:20 GMT"))) == 3600
    assert freshness_lifetime(entry(("Expires", "0"))) == 0  # invalid: already expired
    assert freshness_lifetime(entry(("Cache-Control", "s-maxage=600"))) == 0  # a private cache ignores it
    assert freshness_lifetime(entry(("Cache-Control", "max-age=bogus"))) == 0
    # Heuristic: 10% of Date - Last-Modified (1000 s), only for heuristically cacheable statuses.
    lm = ("Last-Modified", "Tue, 14 Nov 2023 21:56:40 GMT")
    assert freshness_lifetime(entry(lm)) == pytest.approx(100)
    assert freshness_lifetime(entry(lm, status=302)) == 0
    assert freshness_lifetime(entry(lm, ("Cache-Control", "public"), status=302)) == pytest.approx(100)
    assert freshness_lifetime(entry(("Last-Modified", "Thu, 01 Jan 1970 00:00:00 GMT"))) == 86400  # capped


def test_current_age() -> None:
    e = entry(("Age", "30"))
    assert current_age(e, T0) == 30
    assert current_age(e, T0 + 10) == 40
    late = CacheEntry("http://a.test/", 200, "OK", "1.1", [("Date", DATE)], b"", T0 + 5, T0 + 50)
    assert current_age(late, T0 + 50) == 50  # apparent age (response_time - Date) wins over the delay


def test_usable() -> None:
    fresh = entry(("Cache-Control", "max-age=60"))
    assert usable(fresh, Plan(req()), T0 + 59)
    assert not usable(fresh, Plan(req()), T0 + 61)
    assert usable(fresh, Plan(req(("Cache-Control", "max-stale=5"))), T0 + 64)
    assert not usable(fresh, Plan(req(("Cache-Control", "max-stale=5"))), T0 + 66)
    assert usable(fresh, Plan(req(("Cache-Control", "max-stale"))), T0 + 10_000)
    assert not usable(fresh, Plan(req(("Cache-Control", "min-fresh=30"))), T0 + 31)
    assert not usable(fresh, Plan(req(("Cache-Control", "max-age=10"))), T0 + 11)
    assert not usable(fresh, Plan(req(("Cache-Control", "no-cache"))), T0)
    assert not usable(fresh, Plan(req(("Pragma", "no-cache"))), T0)
    assert usable(fresh, Plan(req(("Pragma", "no-cache"), ("Cache-Control", "max-stale"))), T0)  # CC wins
    must = entry(("Cache-Control", "max-age=60, must-revalidate"))
    assert not usable(must, Plan(req(("Cache-Control", "max-stale"))), T0 + 61)
    assert not usable(entry(("Cache-Control", "max-age=60, no-cache")), Plan(req()), T0)
    immutable = entry(("Cache-Control", "max-age=60, immutable"))
    assert usable(immutable, Plan(req(("Cache-Control", "no-cache"))), T0 + 1)
    assert not usable(immutable, Plan(req(("Cache-Control", "no-cache"))), T0 + 61)


def test_select_by_vary() -> None:
    en = entry(("Vary", "Accept-Language"), vary={"accept-language": "en"})
    de = entry(("Vary", "Accept-Language"), vary={"accept-language": "de"})
    assert select([en, de], req(("Accept-Language", "de"))) is de
    assert select([en, de], req(("Accept-Language", "fr"))) is None
    assert select([en], req()) is None
    assert select([entry(("Vary", "*"))], req()) is None
    # Whitespace inside a value is normalised.
    spaced = entry(("Vary", "Accept"), vary={"accept": "a, b"})
    assert select([spaced], req(("Accept", "a,   b"))) is spaced


def test_conditional_and_refresh() -> None:
    e = entry(("ETag", '"x"'), ("Last-Modified", DATE), ("Content-Length", "4"), ("X-Old", "1"))
    sent = conditional(req(), e)
    assert sent is not None
    assert sent.headers["if-none-match"] == '"x"' and sent.headers["if-modified-since"] == DATE
    assert conditional(req(), entry()) is None
    fresh = refresh(
        e,
        Headers([("ETag", '"x"'), ("Content-Length", "0"), ("Cache-Control", "max-age=5"), ("Connection", "close")]),
        T0 + 100,
        T0 + 101,
    )
    assert fresh.field("content-length") == "4"  # never taken from a 304
    assert fresh.field("cache-control") == "max-age=5" and fresh.field("x-old") == "1"
    assert fresh.field("connection") is None
    assert (fresh.request_time, fresh.response_time, fresh.body) == (T0 + 100, T0 + 101, b"body")


@pytest.mark.parametrize(
    ("request_headers", "status", "response_headers", "expected"),
    [
        ((), 200, [("Cache-Control", "max-age=60")], True),
        ((), 200, [("ETag", '"a"')], True),
        ((), 200, [], False),  # nothing to make it fresh, nothing to revalidate it with
        ((), 200, [("Cache-Control", "no-store, max-age=60")], False),
        ((("Cache-Control", "no-store"),), 200, [("Cache-Control", "max-age=60")], False),
        ((), 200, [("Cache-Control", "private, max-age=60")], True),
        ((), 206, [("Cache-Control", "max-age=60")], False),
        ((), 302, [("ETag", '"a"')], False),  # not heuristically cacheable, no explicit freshness
        ((), 302, [("Cache-Control", "max-age=60")], True),
        ((), 200, [("Cache-Control", "max-age=60"), ("Vary", "*")], False),
        ((("Authorization", "Basic eDp5"),), 200, [("Cache-Control", "max-age=60")], False),
        ((("Authorization", "Basic eDp5"),), 200, [("Cache-Control", "public, max-age=60")], True),
        ((("Authorization", "Basic eDp5"),), 200, [("Cache-Control", "s-maxage=60, max-age=60")], True),
        ((("Authorization", "Basic eDp5"),), 200, [("Cache-Control", "must-revalidate"), ("ETag", '"a"')], True),
        ((("Range", "bytes=0-1"),), 200, [("Cache-Control", "max-age=60")], False),
    ],
)
def test_storable(
    request_headers: tuple[tuple[str, str], ...], status: int, response_headers: list[tuple[str, str]], expected: bool
) -> None:
    request = req(*request_headers)
    assert storable(request, Plan(request), resp(status, *response_headers)) is expected


def test_head_and_post_responses_are_not_stored() -> None:
    for method in ("HEAD", "POST"):
        request = req(method=method)
        assert not storable(request, Plan(request), resp(200, ("Cache-Control", "max-age=60")))


def test_memory_cache_replaces_a_variant_and_keeps_its_size() -> None:
    store = MemoryCache()
    a = entry(vary={"accept": "a"})
    store.put("k", a)
    store.put("k", entry(vary={"accept": "b"}))
    store.put("k", entry(vary={"accept": "a"}))
    assert len(store) == 2 and store.size == 2 * a.size
    store.delete("k")
    assert len(store) == 0 and store.size == 0


def test_entry_round_trips_through_meta() -> None:
    e = entry(("ETag", '"x"'), vary={"accept": "a"})
    assert CacheEntry.from_meta(e.meta(), e.body) == e


def test_sqlite_file_is_private_and_bad_paths_fail_early(tmp_path: Path) -> None:
    from netwire.cache import SqliteCache

    path = tmp_path / "c.sqlite"
    SqliteCache(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(OSError):
        SqliteCache(tmp_path / "missing" / "c.sqlite")


def test_stale_while_revalidate_window() -> None:
    from netwire.http.cache import marked_stale, stale_while_revalidate

    swr = entry(("Cache-Control", "max-age=60, stale-while-revalidate=30"))
    assert not usable(swr, Plan(req()), T0 + 70)
    assert stale_while_revalidate(swr, Plan(req()), T0 + 70)
    assert stale_while_revalidate(swr, Plan(req()), T0 + 90)
    assert not stale_while_revalidate(swr, Plan(req()), T0 + 91)  # past the window
    assert not stale_while_revalidate(marked_stale(swr), Plan(req()), T0 + 70)  # served stale once already
    assert not stale_while_revalidate(swr, Plan(req(("Cache-Control", "no-cache"))), T0 + 70)
    assert not stale_while_revalidate(swr, Plan(req(("Cache-Control", "max-age=65"))), T0 + 70)
    must = entry(("Cache-Control", "max-age=60, must-revalidate, stale-while-revalidate=30"))
    assert not stale_while_revalidate(must, Plan(req()), T0 + 70)
    assert not stale_while_revalidate(entry(("Cache-Control", "max-age=60")), Plan(req()), T0 + 70)


def test_a_marked_entry_is_stale_whatever_its_age() -> None:
    from netwire.http.cache import marked_stale

    fresh = entry(("Cache-Control", "max-age=60"))
    marked = marked_stale(fresh)
    assert usable(fresh, Plan(req()), T0 + 1) and not usable(marked, Plan(req()), T0 + 1)
    assert usable(marked, Plan(req(("Cache-Control", "max-stale"))), T0 + 1)  # as any stale response
    assert CacheEntry.from_meta(marked.meta(), marked.body) == marked


def test_head_matches() -> None:
    from netwire.http.cache import head_matches

    e = entry(("ETag", '"v1"'), ("Last-Modified", "Tue, 14 Nov 2023 21:56:40 GMT"))
    assert head_matches(e, Headers([("ETag", '"v1"'), ("Content-Length", "4")]))
    assert head_matches(e, Headers([("ETag", 'W/"v1"')]))
    assert head_matches(e, Headers([("Last-Modified", "Tue, 14 Nov 2023 21:56:40 GMT")]))
    assert not head_matches(e, Headers([("ETag", '"v2"')]))
    assert not head_matches(e, Headers([("ETag", '"v1"'), ("Content-Length", "5")]))
    assert not head_matches(e, Headers([("Last-Modified", "Tue, 14 Nov 2023 21:56:41 GMT")]))
    assert not head_matches(e, Headers([("Content-Length", "4")]))  # no validator: nothing says it is the same


def test_refresh_keeps_what_a_304_may_not_change() -> None:
    e = entry(("ETag", '"v1"'), ("Content-Length", "4"), ("X-Old", "1"), ("Cache-Control", "max-age=1"))
    new = refresh(
        e,
        Headers([("Cache-Control", "max-age=60"), ("Content-Length", "0"), ("Connection", "x-hop"), ("X-Hop", "h")]),
        T0 + 5,
        T0 + 6,
    )
    assert new.field("cache-control") == "max-age=60" and new.field("content-length") == "4"
    assert new.field("x-old") == "1" and new.field("x-hop") is None and new.field("connection") is None
    assert new.body == e.body and new.response_time == T0 + 6 and freshness_lifetime(new) == 60
