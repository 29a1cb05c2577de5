"""The cache against httpbin (pytest-httpbin's server on loopback): its /cache endpoints answer
304 to conditional requests, /response-headers sends the caching headers we ask for."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.peers


def test_cache_n_is_served_fresh(face: Any, httpbin: Any) -> None:
    f = face(cache=True)
    url = httpbin.url + "/cache/60"
    first = f.get(url)
    hit = f.get(url)
    assert first.extensions["cache"] == "stored" and hit.extensions["cache"] == "hit"
    assert hit.json()["url"] == url  # the stored body, served again
    assert "public" in hit.headers["cache-control"]


def test_cache_endpoint_is_revalidated(face: Any, httpbin: Any) -> None:
    # /cache sends Last-Modified and ETag (now) and answers 304 to any conditional request.
    f = face(cache=True)
    url = httpbin.url + "/cache"
    first = f.get(url)
    # Its Date may be a second past its Last-Modified: a heuristic lifetime of 0.1 s (10%), in
    # which a quick second request is rightly a hit. Past it, always a revalidation.
    time.sleep(0.2)
    again = f.get(url)
    assert first.extensions["cache"] == "stored"
    assert again.extensions["cache"] == "revalidated" and again.status == 200
    assert again.json() == first.json()


def test_etag_endpoint(face: Any, httpbin: Any) -> None:
    f = face(cache=True)
    url = httpbin.url + "/etag/abc"
    f.get(url)
    again = f.get(url)
    assert again.extensions["cache"] == "revalidated" and again.headers["etag"] == "abc"


@pytest.mark.parametrize(
    ("cache_control", "states"),
    [
        ("max-age=60", ["stored", "hit"]),
        ("no-store", ["miss", "miss"]),
        ("private, max-age=60", ["stored", "hit"]),
        ("s-maxage=60", ["miss", "miss"]),  # a private cache has no lifetime from s-maxage
    ],
)
def test_response_headers(face: Any, httpbin: Any, cache_control: str, states: list[str]) -> None:
    f = face(cache=True)
    url = httpbin.url + "/response-headers?Cache-Control=" + cache_control.replace(" ", "%20")
    assert [f.get(url).extensions["cache"] for _ in range(2)] == states


def test_vary_from_response_headers(face: Any, httpbin: Any) -> None:
    f = face(cache=True)
    url = httpbin.url + "/response-headers?Cache-Control=max-age=60&Vary=X-Variant"
    states = [f.get(url, headers={"X-Variant": v}).extensions["cache"] for v in ("a", "b", "a", "b")]
    assert states == ["stored", "stored", "hit", "hit"]


def test_post_invalidates(face: Any, httpbin: Any) -> None:
    f = face(cache=True)
    url = httpbin.url + "/response-headers?Cache-Control=max-age=60"
    other = httpbin.url + "/cache/60"
    f.get(url)
    f.get(other)
    assert f.request("POST", url).status == 200  # /response-headers takes POST too
    assert f.get(url).extensions["cache"] == "stored"  # invalidated: fetched and stored again
    assert f.get(other).extensions["cache"] == "hit"  # another URL: untouched
