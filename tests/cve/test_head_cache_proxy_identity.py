"""Issue 14, item 2: the request-head cache must not carry one proxy's credentials to another.

The cached head's key held ``proxy is not None``, not which proxy: after
``get(u, proxy="http://alice:s3cret@P1")``, ``get(u, proxy="http://P2")`` sent alice's
``Proxy-Authorization`` to P2, and an HTTP proxy then a SOCKS5 proxy sent the absolute-form line
and the HTTP proxy's credentials through the tunnel to the origin. The key now holds the proxy's
identity (kind, host, port, credentials).

The HTTP "proxies" are raw recorders (what a proxy receives is the point, and a real proxy
rewrites it); the SOCKS5 proxy is dante, in front of a recording origin. The property test
checks the general claim: for any sequence of (url, proxy, auth, headers), the bytes a client
sends equal those of clients with nothing cached (a fresh client per request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import netwire
from tests.servers.proxies import ServerProcess, dante
from tests.servers.raw import RawRecorder

pytestmark = pytest.mark.timeout(120)

URL = "http://origin.invalid/private?q=1"


@pytest.fixture(scope="module")
def socks() -> Iterator[ServerProcess]:
    with dante() as server:
        yield server


def _proxy_auth(raw: bytes) -> list[bytes]:
    return [line for line in raw.split(b"\r\n") if line.lower().startswith(b"proxy-authorization:")]


def test_credentials_of_one_proxy_not_sent_to_the_next(face: Callable[..., Any], recorder: Any) -> None:
    p1, p2 = recorder(), recorder()
    c = face(trust_env=False)
    c.get(URL, proxy=f"http://alice:s3cret@127.0.0.1:{p1.port}")
    c.get(URL, proxy=f"http://127.0.0.1:{p2.port}")
    (first,) = p1.take()
    (second,) = p2.take()
    assert _proxy_auth(first) == [b"Proxy-Authorization: Basic YWxpY2U6czNjcmV0"]  # the test can fail
    assert _proxy_auth(second) == []


def test_two_proxies_with_different_credentials(face: Callable[..., Any], recorder: Any) -> None:
    p1 = recorder()
    c = face(trust_env=False)
    c.get(URL, proxy=f"http://alice:s3cret@127.0.0.1:{p1.port}")
    c.get(URL, proxy=f"http://bob:hunter2@127.0.0.1:{p1.port}")
    first, second = p1.take()
    assert _proxy_auth(first) == [b"Proxy-Authorization: Basic YWxpY2U6czNjcmV0"]
    assert _proxy_auth(second) == [b"Proxy-Authorization: Basic Ym9iOmh1bnRlcjI="]


def test_http_proxy_then_socks5_sends_origin_form_without_proxy_credentials(
    face: Callable[..., Any], recorder: Any, socks: ServerProcess
) -> None:
    origin, p1 = recorder(), recorder()
    url = f"http://127.0.0.1:{origin.port}/private"
    c = face(trust_env=False)
    c.get(url, proxy=f"http://alice:s3cret@127.0.0.1:{p1.port}")
    c.get(url, proxy=socks.url)
    (via_http,) = p1.take()
    (via_socks,) = origin.take()
    assert via_http.startswith(f"GET {url} HTTP/1.1\r\n".encode())
    assert via_socks.startswith(b"GET /private HTTP/1.1\r\n")
    assert _proxy_auth(via_socks) == []


# -- the property: a cache changes no byte -----------------------------------------------------------

PATHS = ("/a", "/b?x=1", "/a#frag")
AUTHS = (None, ("user", "pw"))
HEADERS = ({}, {"X-Trace": "1"}, {"Proxy-Authorization": "Basic Y2FsbGVyOnNldA=="})
# None: direct; "p1": HTTP proxy with credentials; "p1b": the same proxy with others;
# "p2": another HTTP proxy without; "socks": dante (to the same origin).
PROXIES = (None, "p1", "p1b", "p2", "socks")
REQUEST = st.tuples(
    st.sampled_from(range(len(PATHS))),
    st.sampled_from(range(len(AUTHS))),
    st.sampled_from(range(len(HEADERS))),
    st.booleans(),  # userinfo in the URL
)


@st.composite
def plans(draw: st.DrawFn) -> list[tuple[int, str | None, int, int, bool]]:
    """Steps (path, proxy, auth, headers, userinfo) drawn from one or two requests, so the same
    request comes back through different proxies (what a head cache could mix up)."""
    requests = draw(st.lists(REQUEST, min_size=1, max_size=2))
    picks = draw(st.lists(st.tuples(st.integers(0, 1), st.sampled_from(PROXIES)), min_size=1, max_size=8))
    steps = []
    for i, proxy in picks:
        path, auth, headers, userinfo = requests[i % len(requests)]
        steps.append((path, proxy, auth, headers, userinfo))
    return steps


class _World:
    def __init__(self, socks: ServerProcess) -> None:
        self.origin, self.p1, self.p2 = RawRecorder(), RawRecorder(), RawRecorder()
        self.socks = socks

    def proxy(self, name: str | None) -> str | None:
        return {
            None: None,
            "p1": f"http://alice:s3cret@127.0.0.1:{self.p1.port}",
            "p1b": f"http://bob:hunter2@127.0.0.1:{self.p1.port}",
            "p2": f"http://127.0.0.1:{self.p2.port}",
            "socks": self.socks.url,
        }[name]

    def send(self, client: Any, step: tuple[int, str | None, int, int, bool]) -> None:
        path, proxy, auth, headers, userinfo = step
        url = f"http://{'carol:pw1@' if userinfo else ''}127.0.0.1:{self.origin.port}{PATHS[path]}"
        r = client.get(url, proxy=self.proxy(proxy), auth=AUTHS[auth], headers=HEADERS[headers])
        assert r.status == 200

    def take(self) -> dict[str, list[bytes]]:
        return {"origin": self.origin.take(), "p1": self.p1.take(), "p2": self.p2.take()}

    def close(self) -> None:
        for r in (self.origin, self.p1, self.p2):
            r.close()


@pytest.fixture(scope="module")
def world(socks: ServerProcess) -> Iterator[_World]:
    w = _World(socks)
    yield w
    w.close()


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=plans())
@example(steps=[(0, "p1", 0, 0, False), (0, "p2", 0, 0, False)])
@example(steps=[(1, "p1", 1, 1, True), (1, "socks", 1, 1, True)])
def test_bytes_sent_equal_those_of_a_client_without_cache(
    face: Callable[..., Any], world: _World, steps: list[tuple[int, str | None, int, int, bool]]
) -> None:
    world.take()
    client = face(trust_env=False, cookies=False)
    for step in steps:
        world.send(client, step)
    cached = world.take()
    for step in steps:
        with netwire.Client(trust_env=False, cookies=False) as fresh:  # nothing cached across requests
            world.send(fresh, step)
    assert cached == world.take()
