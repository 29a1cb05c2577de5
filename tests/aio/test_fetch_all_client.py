"""fetch_all(client=...): successive batches share one AsyncClient (pool, robots.txt cache) and
the caller's client stays open."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import netwire
from netwire.http.fetch import close_client, fetch_all
from tests.servers.robots import RobotsServer


@pytest.fixture
def site() -> Iterator[RobotsServer]:
    """A three-level site: / links to /a{i}, each /a{i} to /a{i}/b{j}; /private is disallowed."""
    server = RobotsServer()
    server.route("/robots.txt", 200, b"User-agent: *\nDisallow: /private\n")
    server.route("/", 200, b"/a0 /a1 /a2 /private")
    for i in range(3):
        server.route(f"/a{i}", 200, " ".join(f"/a{i}/b{j}" for j in range(3)).encode())
        for j in range(3):
            server.route(f"/a{i}/b{j}", 200, b"leaf")
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def test_a_crawl_with_one_fetch_all_per_level_fetches_robots_once(site: RobotsServer) -> None:
    client = netwire.AsyncClient(respect_robots=True)
    try:
        level = [site.origin + "/"]
        seen: list[str] = []
        refused: list[str] = []
        while level:
            next_level: list[str] = []
            for outcome in fetch_all(level, concurrency=4, client=client):
                if isinstance(outcome.error, netwire.RobotsDisallowed):
                    refused.append(outcome.url)
                    continue
                assert outcome.ok, outcome
                assert outcome.response is not None
                seen.append(outcome.url)
                body = outcome.response.content.decode()
                if body != "leaf":
                    next_level += [site.origin + path for path in body.split()]
            level = next_level
        assert len(seen) == 1 + 3 + 9 and refused == [site.origin + "/private"]
        # Three fetch_all calls, one robots.txt: the rules live in the shared client. (Each
        # call building its own client fetched it once per call.)
        assert site.hits["/robots.txt"] == 1
        # The caller's client was not closed by fetch_all: it still works, on its own loop.
        assert not client._closed
        again = list(fetch_all([site.origin + "/a0"], client=client))
        assert again[0].ok and site.hits["/robots.txt"] == 1
    finally:
        close_client(client)
    assert client._closed
    assert not any(t.name == "netwire-fetch_all-client" for t in threading.enumerate())


def test_fetch_all_reuses_the_callers_pooled_connections(site: RobotsServer) -> None:
    client = netwire.AsyncClient()
    try:
        for _ in range(3):
            assert all(o.ok for o in fetch_all([site.origin + "/a0"], client=client))
        assert client.pool.connections_opened == 1
    finally:
        close_client(client)


def test_options_go_to_the_client_not_fetch_all(site: RobotsServer) -> None:
    client = netwire.AsyncClient()
    try:
        with pytest.raises(TypeError, match=r"give the options \(timeout\) to the AsyncClient"):
            list(fetch_all([site.origin + "/"], client=client, timeout=3))
    finally:
        close_client(client)


def test_a_client_bound_to_another_loop_is_refused_clearly(site: RobotsServer) -> None:
    import asyncio

    async def use(client: netwire.AsyncClient) -> None:
        await client.get(site.origin + "/")

    client = netwire.AsyncClient()
    asyncio.run(use(client))
    with pytest.raises(RuntimeError, match="bound to another loop"):
        list(fetch_all([site.origin + "/"], client=client))
    close_client(client)


def test_leaving_early_cancels_the_rest_and_keeps_the_client(site: RobotsServer) -> None:
    client = netwire.AsyncClient()
    try:
        gen = fetch_all([site.origin + "/a1"] * 200, concurrency=4, client=client)
        first = [next(gen) for _ in range(3)]
        gen.close()
        assert all(o.ok for o in first)
        assert [o.ok for o in fetch_all([site.origin + "/"], client=client)] == [True]
    finally:
        close_client(client)
