"""Credentials in the URL (``http://user:pw@host/``) are Basic auth for that origin only.

Against httpbin's ``/basic-auth/<user>/<password>`` (pytest-httpbin) on every client (``face``),
a raw recorder as the other origin of a redirect, tinyproxy behind a recording relay, and the
``netwire`` command as a subprocess.
"""

from __future__ import annotations

import base64
import urllib.parse as std_parse  # tests only: building the redirect-to query
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.cli.clitools import run_piped
from tests.drivers import Driver
from tests.servers.proxies import Relay, ServerProcess, start_relay
from tests.servers.raw import RawRecorder


def with_userinfo(url: str, userinfo: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{userinfo}@{rest}"


def test_url_credentials_are_sent_as_basic_auth(face: Callable[..., Driver], httpbin: Any) -> None:
    r = face().get(with_userinfo(httpbin.url, "user:pw") + "/basic-auth/user/pw")
    # Before: the userinfo was dropped, and httpbin answered 401.
    assert r.status == 200, r.content
    assert r.json() == {"authenticated": True, "user": "user"}


def test_url_credentials_are_percent_decoded(face: Callable[..., Driver], httpbin: Any) -> None:
    # "us@er" / "p:ss é" in the URL must be escaped; the header carries the decoded bytes.
    r = face().get(with_userinfo(httpbin.url, "us%40er:p%3Ass%20%C3%A9") + "/basic-auth/us%40er/p%3Ass%20%C3%A9")
    assert r.status == 200, r.content


def test_an_explicit_auth_wins_over_the_url(face: Callable[..., Driver], httpbin: Any) -> None:
    url = with_userinfo(httpbin.url, "wrong:creds") + "/basic-auth/user/pw"
    assert face().get(url).status == 401
    assert face().get(url, auth=("user", "pw")).status == 200
    assert face(auth=("user", "pw")).get(url).status == 200


def test_a_same_origin_redirect_keeps_them(face: Callable[..., Driver], httpbin: Any) -> None:
    url = with_userinfo(httpbin.url, "user:pw") + "/redirect-to?url=/basic-auth/user/pw"
    r = face().get(url)
    assert r.status == 200 and len(r.history) == 1


def test_a_redirect_to_another_origin_does_not_carry_them(
    face: Callable[..., Driver], httpbin: Any, recorder: Callable[..., RawRecorder]
) -> None:
    other = recorder()
    query = std_parse.urlencode({"url": other.url("/landing")})
    r = face().get(with_userinfo(httpbin.url, "user:pw") + "/redirect-to?" + query)
    assert r.status == 200 and len(r.history) == 1
    [sent] = other.take()
    assert sent.startswith(b"GET /landing HTTP/1.1\r\n")
    assert b"authorization" not in sent.lower() and b"user" not in sent


@pytest.fixture
def relay(tinyproxy_server: ServerProcess) -> Iterator[Relay]:
    r = start_relay((tinyproxy_server.host, tinyproxy_server.port))  # records what the client sends
    yield r
    r.stop()


def test_through_a_proxy_the_request_line_has_no_userinfo(
    face: Callable[..., Driver], httpbin: Any, relay: Relay
) -> None:
    url = with_userinfo(httpbin.url, "user:pw") + "/basic-auth/user/pw"
    r = face(proxy=relay.url, trust_env=False).get(url)
    assert r.status == 200, r.content  # tinyproxy forwarded the Authorization to httpbin
    [head] = relay.heads()
    line = head.split(b"\r\n", 1)[0]
    assert line == f"GET {httpbin.url}/basic-auth/user/pw HTTP/1.1".encode()
    assert b"user:pw" not in head and b"@" not in line
    token = base64.b64encode(b"user:pw")
    assert b"Authorization: Basic " + token in head  # for the origin, not the proxy
    assert b"proxy-authorization" not in head.lower()


def test_the_command_line_uses_them(httpbin: Any) -> None:
    result = run_piped(["get", with_userinfo(httpbin.url, "user:pw") + "/basic-auth/user/pw"])
    assert result.rc == 0, result.err
    assert b'"authenticated": true' in result.stdout
