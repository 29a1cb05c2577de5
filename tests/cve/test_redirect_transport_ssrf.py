"""Issue 14, item 1: a redirect must never change transport (SSRF into a local Unix socket).

Any web origin could answer ``307 Location: http+unix://%2Fvar%2Frun%2Fdocker.sock/...`` and
netwire's clients (and ``netwire get -L``, and the robots.txt fetch of ``respect_robots=True``
even with redirects off) followed it, replaying a POST body into the socket and returning the
daemon's answer. The rule now (``netwire.policy.redirects.check_redirect``, used by every
redirect netwire follows): ``http+unix`` only from ``http+unix`` on the same socket path, and no
scheme change but http -> https (https -> http only with ``allow_downgrade``).

The origin is a real loopback HTTP(S) server; the "daemon" a real HTTP server on a Unix socket,
which the positive controls reach directly, so "not reached" means refused, not unreachable.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import netwire
from netwire.errors import RobotsDisallowed, UnsafeRedirect
from netwire.robotparser import fetch_robots
from netwire.url import URL
from tests.cli.clitools import run_piped
from tests.servers.faults import Serve, Start, response
from tests.servers.raw import UnixVictim
from tests.servers.tls import TLSServer, session_ca

pytestmark = pytest.mark.timeout(30)


def _redirect(status: int, location: str) -> bytes:
    return response(b"", status=status, reason="Redirect", headers=[("Location", location)])


def test_victim_is_reachable_directly(face: Callable[..., Any], victim: UnixVictim) -> None:
    """Positive control: the client can talk to the socket when the caller asks for it."""
    r = face().request("POST", victim.url(), content=b'{"Image":"alpine"}')
    assert r.status == 201 and victim.connections == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_http_redirect_into_unix_socket_refused(
    face: Callable[..., Any], victim: UnixVictim, fault_server: Start, status: int
) -> None:
    origin = fault_server(Serve(_redirect(status, victim.url())))
    with pytest.raises(UnsafeRedirect, match="changes transport"):
        face().request("POST", origin.url("/hook"), content=b'{"Image":"alpine","Privileged":true}')
    assert len(origin.requests) == 1
    assert victim.connections == 0 and victim.requests == []


def test_https_redirect_into_unix_socket_refused(
    face: Callable[..., Any], victim: UnixVictim, tls_server: Callable[[ssl.SSLContext], TLSServer], tmp_path: Path
) -> None:
    """The old downgrade guard compared the target with "http" only: https -> http+unix passed."""
    ca = session_ca()
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    srv = tls_server(server_ctx)
    srv.reply = _redirect(307, victim.url())
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with pytest.raises(UnsafeRedirect, match="changes transport"):
        face(verify=str(ca_file)).request("POST", srv.url("/hook"), content=b"{}")
    assert srv.handshakes and not srv.handshakes[0].startswith("error")
    assert victim.connections == 0


def test_robots_txt_redirect_into_unix_socket_refused(
    face: Callable[..., Any], victim: UnixVictim, fault_server: Start
) -> None:
    """respect_robots fetched robots.txt following redirects itself, even with follow_redirects=False."""
    origin = fault_server(Serve(_redirect(302, victim.url("/robots.txt"))))
    c = face(respect_robots=True, follow_redirects=False)
    with pytest.raises(RobotsDisallowed, match="unreachable"):
        c.get(origin.url("/page"))
    assert [r.target for r in origin.requests] == ["/robots.txt"]
    assert victim.connections == 0


def test_fetch_robots_redirect_into_unix_socket_refused(victim: UnixVictim, fault_server: Start) -> None:
    origin = fault_server(Serve(_redirect(301, victim.url("/robots.txt"))))
    result = fetch_robots(origin.url("/robots.txt"), timeout=5)
    assert result.status is None and isinstance(result.exception, UnsafeRedirect)
    assert victim.connections == 0


def test_cli_location_into_unix_socket_refused(victim: UnixVictim, fault_server: Start) -> None:
    origin = fault_server(Serve(_redirect(307, victim.url())))
    r = run_piped(["get", "-L", "-d", '{"Image":"alpine"}', origin.url("/hook")])
    assert r.rc == 47, r.err  # EXIT_REDIRECTS: an unsafe redirect
    assert "changes transport" in r.err
    assert victim.connections == 0 and "pwned" not in r.out


def test_unix_socket_redirect_within_same_socket_followed(face: Callable[..., Any]) -> None:
    """Positive control for the rule: a Unix-socket origin may still redirect within its own socket."""
    victim = UnixVictim()
    victim.reply = _redirect(302, "/landed")
    try:
        c = face(max_redirects=2)
        with pytest.raises(netwire.TooManyRedirects):  # it keeps following on the same socket
            c.get(victim.url("/start"))
        assert len(victim.requests) == 3
        assert victim.requests[1].startswith(b"GET /landed HTTP/1.1\r\n")
    finally:
        victim.close()


SOCK = "http+unix://%2Fvar%2Frun%2Fdocker.sock"


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("http://a.example/", "https://b.example/", True),
        ("http://a.example/", "http://b.example/", True),
        ("https://a.example/", "https://b.example/", True),
        ("https://a.example/", "http://a.example/", False),
        ("http://a.example/", SOCK + "/v1.43/containers/create", False),
        ("https://a.example/", SOCK + "/v1.43/containers/create", False),
        (SOCK + "/a", SOCK + "/b", True),
        (SOCK + "/a", "http+unix://%2Ftmp%2Fother.sock/b", False),
        (SOCK + "/a", "http://a.example/", False),
        (SOCK + "/a", "https://a.example/", False),
        ("http://a.example/", "ftp://a.example/f", False),
        ("http://a.example/", "file:///etc/passwd", False),
        ("https://a.example/", "wss://a.example/", False),
    ],
)
def test_check_redirect_rule(source: str, target: str, allowed: bool) -> None:
    from netwire.http.policy.redirects import check_redirect

    if allowed:
        check_redirect(URL(source), URL(target))
    else:
        with pytest.raises(UnsafeRedirect):
            check_redirect(URL(source), URL(target))


def test_check_redirect_downgrade_only_when_allowed() -> None:
    from netwire.http.policy.redirects import check_redirect

    check_redirect(URL("https://a.example/"), URL("http://a.example/"), allow_downgrade=True)
    with pytest.raises(UnsafeRedirect):
        check_redirect(URL("https://a.example/"), URL(SOCK + "/x"), allow_downgrade=True)
