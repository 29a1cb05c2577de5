"""Issue 14, item 8: a robots.txt Crawl-delay is capped and counts against the total deadline.

With ``respect_robots=True``, ``Crawl-delay: 3600`` and ``Timeout(5, total=2)`` still slept
after 8 s (sync and async), and ``Crawl-delay: 1e300`` raised ``OverflowError`` in the sync
client. Now the delay is cut to ``max_crawl_delay`` (default 60 s), and a wait that would end
past the total deadline is a ``TotalTimeout`` (a builtin ``TimeoutError``) at once.

The site is a loopback server answering every path with the same robots.txt body, so
``/robots.txt`` sets the delay and the pages are plain 200s.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from typing import Any

import pytest

import netwire
from netwire.errors import TotalTimeout
from tests.servers.faults import response
from tests.servers.raw import RawRecorder

pytestmark = pytest.mark.timeout(30)


def _site(recorder: Callable[..., RawRecorder], delay: str) -> RawRecorder:
    return recorder(response(f"User-agent: *\nCrawl-delay: {delay}\nAllow: /\n".encode()))


def _targets(site: RawRecorder) -> list[bytes]:
    return [raw.split(b" ")[1] for raw in site.take()]


@pytest.mark.parametrize("delay", ["3600", "1e300"])
def test_crawl_delay_past_total_deadline_fails_at_once(
    face: Callable[..., Any], recorder: Callable[..., RawRecorder], delay: str
) -> None:
    site = _site(recorder, delay)
    c = face(respect_robots=True, timeout=netwire.Timeout(5, total=2))
    assert c.get(site.url("/a")).status == 200  # the first request does not wait
    started = time.monotonic()
    with pytest.raises(TotalTimeout, match="Crawl-delay") as info:
        c.get(site.url("/b"))
    assert time.monotonic() - started < 1.0
    assert isinstance(info.value, builtins.TimeoutError)
    assert _targets(site) == [b"/robots.txt", b"/a"]  # /b was never sent


@pytest.mark.parametrize("delay", ["3600", "1e300"])
def test_crawl_delay_cut_to_max_crawl_delay(
    face: Callable[..., Any], recorder: Callable[..., RawRecorder], delay: str
) -> None:
    site = _site(recorder, delay)
    c = face(respect_robots=True, max_crawl_delay=0.4)
    c.get(site.url("/a"))
    started = time.monotonic()
    assert c.get(site.url("/b")).status == 200
    waited = time.monotonic() - started
    assert 0.3 <= waited < 3.0
    assert _targets(site) == [b"/robots.txt", b"/a", b"/b"]


def test_crawl_delay_within_total_is_waited(face: Callable[..., Any], recorder: Callable[..., RawRecorder]) -> None:
    """The wait counts against ``total`` but is not refused when it fits."""
    site = _site(recorder, "0.5")
    c = face(respect_robots=True, timeout=netwire.Timeout(5, total=3))
    c.get(site.url("/a"))
    started = time.monotonic()
    assert c.get(site.url("/b")).status == 200
    assert 0.4 <= time.monotonic() - started < 2.5


def test_default_cap_is_sixty_seconds() -> None:
    from netwire.http.clientbase import DEFAULT_MAX_CRAWL_DELAY

    with netwire.Client(respect_robots=True) as c:
        assert c.max_crawl_delay == 60.0 == DEFAULT_MAX_CRAWL_DELAY
        assert c._book_crawl_slot("http://o.example", 3600, None) == 0.0
        assert 59.0 < c._book_crawl_slot("http://o.example", 3600, None) <= 60.0
        assert 0.0 <= c._book_crawl_slot("http://n.example", float("nan"), None) <= 60.0
        assert 59.0 < c._book_crawl_slot("http://n.example", float("nan"), None) <= 60.0


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_max_crawl_delay_must_be_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="max_crawl_delay"):
        netwire.Client(max_crawl_delay=bad)
