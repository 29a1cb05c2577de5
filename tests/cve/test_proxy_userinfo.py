"""Issue 14, item 6: URL credentials must not go into the request line sent to an HTTP proxy.

``http://alice:s3cret@origin/private`` through an HTTP proxy was sent as
``GET http://alice:s3cret@origin/private HTTP/1.1``: the password landed in the proxy's logs
(and was the proxy's to read). The absolute-form target now carries no userinfo, as with curl,
requests and httpx. A raw recorder shows what a proxy receives; tinyproxy, a real proxy, shows
the request still reaches the origin and the password stays out of the proxy's log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.servers.proxies import ServerProcess, tinyproxy
from tests.servers.raw import RawRecorder

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def real_proxy() -> Iterator[ServerProcess]:
    with tinyproxy() as proxy:
        yield proxy


@pytest.mark.parametrize(
    ("userinfo", "path"),
    [("alice:s3cret", "/private?q=1"), ("alice", "/p"), (":s3cret", "/p"), ("al%40ce:s3%3Acret", "/p#frag")],
)
def test_absolute_form_target_has_no_userinfo(
    face: Callable[..., Any], recorder: Callable[..., RawRecorder], userinfo: str, path: str
) -> None:
    proxy = recorder()
    c = face(trust_env=False, proxy=proxy.url())
    c.get(f"http://{userinfo}@origin.invalid{path}")
    (raw,) = proxy.take()
    request_line = raw.split(b"\r\n", 1)[0]
    assert request_line == f"GET http://origin.invalid{path.split('#')[0]} HTTP/1.1".encode()
    assert b"s3cret" not in raw and b"s3%3Acret" not in raw


def test_origin_reached_through_tinyproxy_without_password_in_its_log(
    face: Callable[..., Any], recorder: Callable[..., RawRecorder], real_proxy: ServerProcess
) -> None:
    origin = recorder()
    c = face(trust_env=False, proxy=real_proxy.url)
    r = c.get(f"http://alice:s3cret@127.0.0.1:{origin.port}/private")
    assert r.status == 200 and r.content == b"ok"
    (raw,) = origin.take()
    assert raw.startswith(b"GET /private HTTP/1.1\r\n")
    log = real_proxy.output()
    assert f"127.0.0.1:{origin.port}/private" in log  # tinyproxy logs request lines: the test can fail
    assert "s3cret" not in log


def test_proxy_credentials_go_in_proxy_authorization_not_target(face: Callable[..., Any], recorder: Any) -> None:
    """The proxy's own credentials go in Proxy-Authorization, never in the target."""
    proxy = recorder()
    c = face(trust_env=False, proxy=f"http://pu:pp@127.0.0.1:{proxy.port}")
    c.get("http://origin.invalid/x")
    (raw,) = proxy.take()
    assert raw.startswith(b"GET http://origin.invalid/x HTTP/1.1\r\n")
    assert b"Proxy-Authorization: Basic cHU6cHA=\r\n" in raw
