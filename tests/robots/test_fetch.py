"""Fetching robots.txt over real loopback HTTP: statuses, redirects, size cap, and the cache."""

from __future__ import annotations

import socket
import threading
import time
import urllib.robotparser
from collections.abc import Iterator, Mapping

import pytest

import netwire
from netwire.robotparser import (
    MAX_BYTES,
    RobotFileParser,
    RobotsCache,
    client_fetcher,
    fetch_robots,
    robots_url,
)
from tests.servers.robots import ENDLESS, RobotsServer

RULES = (
    b"User-agent: *\nDisallow: /private\nAllow: /private/open\nCrawl-delay: 3\nRequest-rate: 2/10\n\n"
    b"User-agent: FooBot\nDisallow: /\n\nSitemap: http://example.com/sitemap.xml\n"
)


@pytest.fixture
def client() -> Iterator[netwire.Client]:
    with netwire.Client(timeout=5.0) as c:
        yield c


def _read(url: str, client: netwire.Client) -> RobotFileParser:
    rp = RobotFileParser(url, client=client, timeout=5.0)
    rp.read()
    return rp


def test_200_rules_apply(robots_server: RobotsServer, client: netwire.Client) -> None:
    url = robots_server.route("/robots.txt", 200, RULES)
    rp = _read(url, client)
    origin = robots_server.origin
    assert rp.mtime() > 0
    assert not rp.can_fetch("MyBot/1.0", origin + "/private/x")
    assert rp.can_fetch("MyBot/1.0", origin + "/private/open/x")
    assert rp.can_fetch("MyBot/1.0", origin + "/public")
    assert not rp.can_fetch("FooBot/2", origin + "/public")
    assert rp.crawl_delay("MyBot") == 3
    rate = rp.request_rate("MyBot")
    assert rate is not None and (rate.requests, rate.seconds) == (2, 10)
    assert rp.site_maps() == ["http://example.com/sitemap.xml"]
    assert rp.fetched is not None and rp.fetched.status == 200
    decision = rp.decide("MyBot", origin + "/private/x")
    assert (decision.allowed, decision.rule, decision.line) == (False, "Disallow: /private", 2)


def test_not_read_yet_disallows(robots_server: RobotsServer) -> None:
    rp = RobotFileParser(robots_server.origin + "/robots.txt")
    assert rp.mtime() == 0
    assert not rp.can_fetch("MyBot", robots_server.origin + "/anything")  # as urllib


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 429])
def test_4xx_allows_everything(robots_server: RobotsServer, client: netwire.Client, status: int) -> None:
    url = robots_server.route("/robots.txt", status, b"User-agent: *\nDisallow: /\n")
    rp = _read(url, client)
    assert rp.allow_all and not rp.disallow_all
    assert rp.can_fetch("MyBot", robots_server.origin + "/private")
    assert "everything is allowed" in rp.decide("MyBot", "/x").reason


@pytest.mark.parametrize("status", [401, 403])
def test_stdlib_differs_on_401_403(robots_server: RobotsServer, status: int) -> None:
    # The documented difference: urllib.robotparser disallows everything on 401/403.
    url = robots_server.route("/robots.txt", status, b"")
    stdlib = urllib.robotparser.RobotFileParser(url)
    stdlib.read()
    assert not stdlib.can_fetch("MyBot", robots_server.origin + "/page")
    with netwire.Client() as c:
        assert _read(url, c).can_fetch("MyBot", robots_server.origin + "/page")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_disallows_everything(robots_server: RobotsServer, client: netwire.Client, status: int) -> None:
    url = robots_server.route("/robots.txt", status, b"User-agent: *\nAllow: /\n")
    rp = _read(url, client)
    assert rp.disallow_all and not rp.allow_all
    assert not rp.can_fetch("MyBot", robots_server.origin + "/page")
    assert rp.mtime() > 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_network_failure_disallows_everything(client: netwire.Client) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/robots.txt"
    result = fetch_robots(url, client=client, timeout=2.0)
    assert result.status is None and result.error and result.verdict == "disallow-all"
    rp = RobotFileParser(url, client=client, timeout=2.0)
    rp.read()
    assert rp.disallow_all
    assert not rp.can_fetch("MyBot", url.replace("/robots.txt", "/page"))
    assert "unreachable" in rp.decide("MyBot", "/page").reason


def test_redirect_chain_of_five_is_followed(robots_server: RobotsServer, client: netwire.Client) -> None:
    robots_server.route("/final.txt", 200, b"User-agent: *\nDisallow: /secret\n")
    robots_server.redirect("/r5", "/final.txt", 308)
    robots_server.redirect("/r4", "r5", 307)  # relative to the current path
    robots_server.redirect("/r3", robots_server.origin + "/r4", 303)
    robots_server.redirect("/r2", "/r3", 302)
    robots_server.redirect("/robots.txt", "/r2", 301)
    result = fetch_robots(robots_server.origin + "/robots.txt", client=client)
    assert (result.status, result.redirects) == (200, 5)
    assert result.final_url == robots_server.origin + "/final.txt"
    rp = _read(robots_server.origin + "/robots.txt", client)
    assert not rp.can_fetch("MyBot", robots_server.origin + "/secret")
    assert rp.can_fetch("MyBot", robots_server.origin + "/open")


def test_more_than_five_redirects_means_unavailable(robots_server: RobotsServer, client: netwire.Client) -> None:
    robots_server.route("/final.txt", 200, b"User-agent: *\nDisallow: /\n")
    for i in range(6):
        robots_server.redirect(f"/hop{i}", f"/hop{i + 1}")
    robots_server.redirect("/hop6", "/final.txt")
    result = fetch_robots(robots_server.origin + "/hop0", client=client)
    assert result.status == 301 and result.redirects == 5 and result.verdict == "allow-all"
    assert robots_server.hits["/final.txt"] == 0
    assert robots_server.hits["/hop5"] == 1 and robots_server.hits["/hop6"] == 0


def test_redirect_loop_ends(robots_server: RobotsServer, client: netwire.Client) -> None:
    robots_server.redirect("/robots.txt", "/loop")
    robots_server.redirect("/loop", "/robots.txt")
    result = fetch_robots(robots_server.origin + "/robots.txt", client=client)
    assert result.verdict == "allow-all"
    assert sum(robots_server.hits.values()) == 6


def test_redirect_to_another_origin(robots_server: RobotsServer, client: netwire.Client) -> None:
    other = RobotsServer()
    other.thread.start()
    try:
        target = other.route("/robots.txt", 200, b"User-agent: *\nDisallow: /elsewhere\n")
        robots_server.redirect("/robots.txt", target, 302)
        rp = _read(robots_server.origin + "/robots.txt", client)
        # Rules apply in the context of the initial authority (RFC 9309 section 2.3.1.2).
        assert not rp.can_fetch("MyBot", robots_server.origin + "/elsewhere/x")
        assert other.hits["/robots.txt"] == 1
    finally:
        other.httpd.shutdown()
        other.httpd.server_close()


def test_ten_megabytes_only_first_500_kib_read(robots_server: RobotsServer, client: netwire.Client) -> None:
    filler = b"# " + b"x" * 98 + b"\n"
    body = b"User-agent: *\nDisallow: /early\n" + filler * 100_000 + b"Disallow: /late\n"
    assert len(body) > 10_000_000
    url = robots_server.route("/robots.txt", 200, body)
    started = time.perf_counter()
    rp = _read(url, client)
    assert time.perf_counter() - started < 5
    assert rp.fetched is not None and len(rp.fetched.body) == MAX_BYTES
    assert not rp.can_fetch("MyBot", robots_server.origin + "/early")
    assert rp.can_fetch("MyBot", robots_server.origin + "/late")  # beyond the limit: never seen


def test_endless_body_is_cut(robots_server: RobotsServer, client: netwire.Client) -> None:
    url = robots_server.route("/robots.txt", 200, ENDLESS)
    result = fetch_robots(url, client=client, timeout=5.0)
    assert result.status == 200 and len(result.body) == MAX_BYTES


def test_fetch_without_a_client(robots_server: RobotsServer) -> None:
    url = robots_server.route("/robots.txt", 200, b"User-agent: *\nDisallow: /x\n")
    rp = RobotFileParser(url)
    rp.read()
    assert not rp.can_fetch("a", robots_server.origin + "/x")


def test_user_agent_is_sent(robots_server: RobotsServer, client: netwire.Client) -> None:
    seen: list[str] = []
    handler = robots_server.httpd.RequestHandlerClass
    original = handler.do_GET  # type: ignore[attr-defined]

    def do_get(self: object) -> None:
        seen.append(self.headers.get("User-Agent", ""))  # type: ignore[attr-defined]
        original(self)

    handler.do_GET = do_get  # type: ignore[attr-defined]
    fetch_robots(robots_server.origin + "/robots.txt", client=client, user_agent="MyBot/1.0")
    assert seen == ["MyBot/1.0"]


# -- RobotsCache ----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fetcher(client: netwire.Client) -> tuple[list[str], object]:
    calls: list[str] = []

    def fetch(url: str) -> tuple[int, bytes, Mapping[str, str]]:
        calls.append(url)
        result = fetch_robots(url, client=client, timeout=5.0)
        if result.status is None:
            raise ConnectionError(result.error)
        return result.status, result.body, result.headers

    return calls, fetch


def test_cache_fetches_once_per_origin(robots_server: RobotsServer, client: netwire.Client) -> None:
    robots_server.route("/robots.txt", 200, RULES)
    calls, fetch = _fetcher(client)
    cache = RobotsCache(fetch)  # type: ignore[arg-type]
    origin = robots_server.origin
    for _ in range(20):
        assert not cache.check(origin + "/private/a", "MyBot")
        assert cache.check(origin + "/public", "MyBot").allowed
    assert cache.check(origin + "/private/open/1", "MyBot").rule == "Allow: /private/open"
    assert cache.crawl_delay(origin, "MyBot") == 3
    assert robots_server.hits["/robots.txt"] == 1 and calls == [origin + "/robots.txt"]


def test_cache_is_thread_safe(robots_server: RobotsServer, client: netwire.Client) -> None:
    robots_server.route("/robots.txt", 200, RULES)
    _, fetch = _fetcher(client)
    cache = RobotsCache(fetch)  # type: ignore[arg-type]
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(50):
            results.append(cache.check(robots_server.origin + "/private/x", "MyBot").allowed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [False] * 400
    assert robots_server.hits["/robots.txt"] == 1


def test_cache_ttl_and_max_age(robots_server: RobotsServer, client: netwire.Client) -> None:
    robots_server.route("/robots.txt", 200, b"User-agent: *\nDisallow: /a\n", {"Cache-Control": "public, max-age=60"})
    _, fetch = _fetcher(client)
    clock = FakeClock()
    cache = RobotsCache(fetch, ttl=3600, clock=clock)  # type: ignore[arg-type]
    page = robots_server.origin + "/a"
    assert not cache.check(page, "x")
    clock.now += 59
    assert not cache.check(page, "x")
    assert robots_server.hits["/robots.txt"] == 1
    robots_server.route("/robots.txt", 200, b"User-agent: *\nDisallow: /b\n")  # no Cache-Control now
    clock.now += 2
    assert cache.check(page, "x")
    assert robots_server.hits["/robots.txt"] == 2
    clock.now += 3599
    cache.check(page, "x")
    assert robots_server.hits["/robots.txt"] == 2
    clock.now += 2
    cache.check(page, "x")
    assert robots_server.hits["/robots.txt"] == 3


def test_cache_no_store_refetches(robots_server: RobotsServer, client: netwire.Client) -> None:
    robots_server.route("/robots.txt", 200, b"User-agent: *\nDisallow: /a\n", {"Cache-Control": "no-store"})
    _, fetch = _fetcher(client)
    cache = RobotsCache(fetch, clock=FakeClock())  # type: ignore[arg-type]
    for _ in range(3):
        assert not cache.check(robots_server.origin + "/a", "x")
    assert robots_server.hits["/robots.txt"] == 3


def test_cache_status_mapping(robots_server: RobotsServer, client: netwire.Client) -> None:
    _, fetch = _fetcher(client)
    clock = FakeClock()
    cache = RobotsCache(fetch, clock=clock, error_ttl=60)  # type: ignore[arg-type]
    page = robots_server.origin + "/page"
    robots_server.route("/robots.txt", 404)
    decision = cache.check(page, "x")
    assert decision.allowed and "404" in decision.reason
    cache.invalidate(robots_server.origin)
    robots_server.route("/robots.txt", 503)
    decision = cache.check(page, "x")
    assert not decision.allowed and "503" in decision.reason
    robots_server.route("/robots.txt", 200, b"User-agent: *\nAllow: /\n")
    assert not cache.check(page, "x")  # the 503 is remembered for error_ttl
    clock.now += 61
    assert cache.check(page, "x")
    assert robots_server.hits["/robots.txt"] == 3


def test_cache_network_failure(client: netwire.Client) -> None:
    _, fetch = _fetcher(client)
    cache = RobotsCache(fetch)  # type: ignore[arg-type]
    origin = f"http://127.0.0.1:{_closed_port()}"
    decision = cache.check(origin + "/page", "x")
    assert not decision.allowed and "unreachable" in decision.reason
    assert cache.crawl_delay(origin, "x") is None


def test_cache_robots_txt_itself_needs_no_fetch() -> None:
    def fetch(url: str) -> tuple[int, bytes, Mapping[str, str]]:
        raise AssertionError("must not fetch")

    cache = RobotsCache(fetch)
    assert cache.check("http://127.0.0.1:9/robots.txt", "x").allowed


def test_cache_origins_are_separate(robots_server: RobotsServer, client: netwire.Client) -> None:
    robots_server.route("/robots.txt", 200, b"User-agent: *\nDisallow: /\n")
    calls, fetch = _fetcher(client)
    cache = RobotsCache(fetch)  # type: ignore[arg-type]
    port = robots_server.port
    assert not cache.check(f"http://127.0.0.1:{port}/a", "x")
    assert not cache.check(f"HTTP://127.0.0.1:{port}/b?c#d", "x")
    assert calls == [f"http://127.0.0.1:{port}/robots.txt"]
    assert robots_url("https://user@Example.COM:443/a/b?c") == "https://example.com/robots.txt"


def test_cache_remembers_a_bounded_number_of_origins() -> None:
    calls: list[str] = []

    def fetch(url: str) -> tuple[int, bytes, Mapping[str, str]]:
        calls.append(url)  # no network: this test is about the bookkeeping only
        return 200, b"User-agent: *\nDisallow: /x\n", {}

    cache = RobotsCache(fetch, max_origins=2)
    origins = ["http://a.test", "http://b.test", "http://c.test"]
    for origin in origins:
        assert not cache.check(origin + "/x", "bot")
    assert len(calls) == 3
    cache.check(origins[2] + "/x", "bot")
    cache.check(origins[1] + "/x", "bot")
    assert len(calls) == 3  # the two newest are still cached
    cache.check(origins[0] + "/x", "bot")
    assert calls[3:] == ["http://a.test/robots.txt"]  # the oldest had been dropped


def test_client_fetcher_feeds_the_cache(robots_server: RobotsServer, client: netwire.Client) -> None:
    robots_server.route("/start", 200, b"User-agent: *\nDisallow: /x\nCrawl-delay: 5\n")
    robots_server.redirect("/robots.txt", "/start")
    cache = RobotsCache(client_fetcher(client, timeout=5.0, user_agent="MyBot/1.0"))
    assert not cache.check(robots_server.origin + "/x", "MyBot")
    assert cache.crawl_delay(robots_server.origin, "MyBot") == 5
    assert robots_server.hits["/robots.txt"] == 1 and robots_server.hits["/start"] == 1
    refused = f"http://127.0.0.1:{_closed_port()}"
    assert "ConnectError" in cache.check(refused + "/page", "MyBot").reason
