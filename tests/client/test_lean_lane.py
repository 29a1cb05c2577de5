"""The lean lane (a plain GET sent again and again) keeps every behaviour of the full path.

What it saves is work per request: the route and request head remembered per (method, URL,
header fields, proxies, target), a small body taken whole with its head, the connection handed
back in the same step. These tests pin that what the memo answers follows every change of what
it is keyed on, on every client (sync, async, uvloop), against a real server on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

import netwire
from tests.drivers import Driver
from tests.servers.echo import EchoServer, start_echo_server

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    server = start_echo_server()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _seen(response: netwire.Response) -> dict[str, str]:
    headers: dict[str, str] = json.loads(response.content)["headers"]
    return {k.lower(): v for k, v in headers.items()}


def test_a_request_sent_again_carries_the_headers_it_has_now(face: Callable[..., Driver], echo: EchoServer) -> None:
    client = face(headers={"X-Client": "one"})
    url = echo.url + "/same"
    assert _seen(client.get(url))["x-client"] == "one"
    assert _seen(client.get(url, headers={"X-Extra": "a"}))["x-extra"] == "a"
    assert _seen(client.get(url, headers={"X-Extra": "b"}))["x-extra"] == "b"
    seen = _seen(client.get(url))
    assert "x-extra" not in seen and seen["x-client"] == "one"  # the memo never mixes two requests up


def test_a_change_to_the_client_headers_reaches_the_next_request(echo: EchoServer) -> None:
    url = echo.url + "/same"
    with netwire.Client() as client:
        assert _seen(client.get(url))["user-agent"].startswith("netwire")
        client.headers["User-Agent"] = "changed/1"
        assert _seen(client.get(url))["user-agent"] == "changed/1"
        request = client.build_request("GET", url)
        request.headers["X-Late"] = "set after build_request"
        assert _seen(client.send(request))["x-late"] == "set after build_request"


def test_the_same_url_through_a_target_override_gets_its_own_head(echo: EchoServer) -> None:
    with netwire.Client() as client:
        assert json.loads(client.get(echo.url + "/p?a=1").content)["path"] == "/p?a=1"
        request = client.build_request("GET", echo.url + "/p?a=1")
        request.extensions["target"] = "/p?a=2"
        assert json.loads(client.send(request).content)["path"] == "/p?a=2"
        assert json.loads(client.get(echo.url + "/p?a=1").content)["path"] == "/p?a=1"


def test_a_small_body_hands_its_connection_back_with_the_head(face: Callable[..., Driver], echo: EchoServer) -> None:
    client = face()
    url = echo.url + "/small"
    for _ in range(3):
        assert client.get(url).status == 200
    assert client.open_count() == 1 and client.pool_idle() == 1  # one connection, reused, idle again
