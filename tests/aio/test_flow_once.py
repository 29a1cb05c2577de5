"""The send loop written once (netwire.flow): behaviours that used to differ between the sync and
the async client, now one behaviour, checked on Client, AsyncClient and AsyncClient on uvloop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import netwire
from netwire.errors import RobotsDisallowed
from tests.servers.faults import ReadRequest, Send, Serve, Sleep, response

pytestmark = pytest.mark.timeout(30)

Make = Callable[..., Any]
ROBOTS = b"User-agent: *\nDisallow: /private\n"


def test_robots_fetch_runs_under_the_clients_timeout(face: Make, fault_server: Any) -> None:
    # The sync client fetched robots.txt with a fixed 10 s timeout of its own, the async one with
    # the client's: now both use the client's, so a robots.txt slower than that is unreachable.
    srv = fault_server([[ReadRequest(), Sleep(1.5), Send(response(ROBOTS))], [Serve(response(b"page"))]])
    c = face(respect_robots=True, timeout=netwire.Timeout(0.5))
    started = time.monotonic()
    with pytest.raises(RobotsDisallowed, match="unreachable"):
        c.get(srv.url("/page"))
    assert time.monotonic() - started < 1.4
    assert [r.target for r in srv.requests] == ["/robots.txt"]


def test_a_no_store_robots_txt_is_fetched_for_each_request_and_obeyed(face: Make, fault_server: Any) -> None:
    robots = response(ROBOTS, headers=[("Cache-Control", "no-store")])
    srv = fault_server(Serve(robots))
    c = face(respect_robots=True, follow_redirects=False)
    with pytest.raises(RobotsDisallowed, match="Disallow: /private"):
        c.get(srv.url("/private"))
    assert c.get(srv.url("/robots.txt")).content == ROBOTS  # itself always allowed, not re-checked
    assert [r.target for r in srv.requests] == ["/robots.txt", "/robots.txt"]


def test_history_is_empty_without_redirects_and_filled_with_them(face: Make, httpbin: Any) -> None:
    c = face()
    assert c.get(str(httpbin.url) + "/get").history == []
    r = c.get(str(httpbin.url) + "/redirect/2")
    assert r.status == 200 and [h.status for h in r.history] == [302, 302]


def test_crawl_delay_counts_from_when_a_request_really_went_out(face: Make, fault_server: Any) -> None:
    # Crawl-delay 1 s, one connection. /a holds the connection 1.5 s; /b, booked for t=1 s,
    # waits for the pool until t=1.5 s and goes out then; /c must wait a whole second after
    # that (the slot is stamped again at send), not only until t=2 s (the async client did).
    robots = response(b"User-agent: *\nCrawl-delay: 1\n")
    slow = response(b"a" * 100)
    srv = fault_server(
        [
            [
                ReadRequest(),
                Send(robots),
                ReadRequest(),
                Send(slow[:-50]),
                Sleep(1.5),
                Send(slow[-50:]),
                Serve(response(b"ok")),
            ]
        ]
    )
    c = face(respect_robots=True, limits=netwire.Limits(max_connections=1))
    first = threading.Thread(target=c.get, args=(srv.url("/a"),))
    first.start()
    end = time.monotonic() + 5
    while len(srv.requests) < 2:  # /robots.txt, then /a
        assert time.monotonic() < end
        time.sleep(0.005)
    assert c.get(srv.url("/b")).status == 200
    started = time.monotonic()
    assert c.get(srv.url("/c")).status == 200
    assert time.monotonic() - started >= 0.85
    first.join(5)
    assert [r.target for r in srv.requests] == ["/robots.txt", "/a", "/b", "/c"]
