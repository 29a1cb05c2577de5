"""The public trace hook (``Client(trace=...)``, ``extensions["trace"]``) and the ``netwire.http``
logger built on it: the events of a plain GET, through tinyproxy (absolute form and CONNECT),
over TLS, with retries and redirects, on the sync client and the async one (asyncio, uvloop)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import netwire
from netwire.http.trace import REDACTED, TraceEvent
from tests.drivers import Driver
from tests.servers.echo import EchoServer, PolicyServer, start_policy_server
from tests.servers.ports import free_port
from tests.servers.proxies import ServerProcess

Face = Callable[..., Driver]


@pytest.fixture(scope="module")
def policy_server() -> Any:
    server = start_policy_server()
    yield server
    server.stop()


def _names(events: list[TraceEvent]) -> list[str]:
    return [e.name for e in events]


def _one(events: list[TraceEvent], name: str) -> TraceEvent:
    found = [e for e in events if e.name == name]
    assert len(found) == 1, (name, _names(events))
    return found[0]


def test_plain_get_events(face: Face, echo_server: EchoServer) -> None:
    events: list[TraceEvent] = []
    d = face(trace=events.append)
    r = d.get(echo_server.url + "/first?x=1", headers={"Authorization": "Bearer s3cret", "X-Probe": "1"})
    assert r.status == 200
    names = _names(events)
    # DNS only where a name is resolved (the sync client asks the resolver even for a literal IP).
    assert [n for n in names if n != "dns"] == [
        "connect", "pool.acquire", "request.head", "request.body", "response.head", "response.body", "pool.release",
    ]
    connect = _one(events, "connect")
    assert connect.info["address"] == f"127.0.0.1:{echo_server.port}" and connect.info["family"] == "IPv4"
    assert connect.info["proxy"] is None and connect.elapsed >= 0
    assert _one(events, "pool.acquire").info["reused"] is False
    head = _one(events, "request.head")
    assert head.info["request_line"] == "GET /first?x=1 HTTP/1.1" and head.info["target"] == "/first?x=1"
    fields = dict(head.info["headers"])
    assert fields["Authorization"] == REDACTED and fields["X-Probe"] == "1"
    assert _one(events, "request.body").info["bytes"] == 0
    answer = _one(events, "response.head")
    assert (answer.info["status"], answer.info["reason"], answer.info["http_version"]) == (200, "OK", "1.1")
    body = _one(events, "response.body")
    assert body.info["bytes"] == len(r.content) and body.info["complete"] is True
    release = _one(events, "pool.release")
    assert release.info["kept"] is True
    assert all(e.start > 0 and e.elapsed >= 0 for e in events)
    # The connection is reused: no connect, acquire says so.
    events.clear()
    d.get(echo_server.url + "/second")
    assert "connect" not in _names(events) and _one(events, "pool.acquire").info["reused"] is True


def test_request_extension_replaces_the_clients_hook(face: Face, echo_server: EchoServer) -> None:
    client_events: list[TraceEvent] = []
    own: list[TraceEvent] = []
    d = face(trace=client_events.append)
    req = d.client.build_request("GET", echo_server.url + "/own")
    req.extensions["trace"] = own.append
    sent = d.client.send(req)
    r = sent if isinstance(sent, netwire.Response) else d.run(sent)  # type: ignore[attr-defined]
    assert r.status == 200
    assert "response.head" in _names(own) and client_events == []


def test_closed_connection_says_why(face: Face, one_shot: Any) -> None:
    server = one_shot(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    events: list[TraceEvent] = []
    face(trace=events.append).get(f"http://127.0.0.1:{server.port}/")
    release = _one(events, "pool.release")
    assert release.info["kept"] is False and "ends the connection" in release.info["why"]


def test_through_an_http_proxy_the_target_is_absolute(
    face: Face, tinyproxy_server: ServerProcess, echo_server: EchoServer
) -> None:
    events: list[TraceEvent] = []
    d = face(trace=events.append, proxy=tinyproxy_server.url)
    assert d.get(echo_server.url + "/via").status == 200
    head = _one(events, "request.head")
    assert head.info["target"] == f"{echo_server.url}/via"
    assert head.info["request_line"] == f"GET {echo_server.url}/via HTTP/1.1"
    assert _one(events, "connect").info["proxy"] == f"127.0.0.1:{tinyproxy_server.port}"


def test_connect_tunnel_and_tls(face: Face, tinyproxy_server: ServerProcess, tls_echo_server: EchoServer) -> None:
    events: list[TraceEvent] = []
    d = face(trace=events.append, proxy=tinyproxy_server.url, verify=tls_echo_server.client_context())
    url = f"https://localhost:{tls_echo_server.port}/tunnelled"
    assert d.get(url).status == 200
    names = _names(events)
    assert names.index("connect") < names.index("proxy.connect") < names.index("tls") < names.index("request.head")
    tunnel = _one(events, "proxy.connect")
    assert tunnel.info["request_line"] == f"CONNECT localhost:{tls_echo_server.port} HTTP/1.1"
    assert tunnel.info["status"] == 200
    tls = _one(events, "tls")
    assert tls.info["version"].startswith("TLSv1.") and tls.info["cipher"]
    assert "alpn" in tls.info  # None here: the echo server offers no ALPN
    assert tls.info["server_name"] == "localhost"
    assert _one(events, "request.head").info["target"] == "/tunnelled"  # origin form inside the tunnel


def test_tls_direct(face: Face, tls_echo_server: EchoServer) -> None:
    events: list[TraceEvent] = []
    d = face(trace=events.append, verify=tls_echo_server.client_context())
    assert d.get(f"https://localhost:{tls_echo_server.port}/").status == 200
    dns = _one(events, "dns")
    assert dns.info["host"] == "localhost" and dns.info["addresses"]
    tls = _one(events, "tls")
    assert tls.info["version"].startswith("TLSv1.") and tls.elapsed > 0
    assert tls.info["ssl_object"].getpeercert()  # the peer certificate, for who wants it


def test_retry_events_and_attempts(face: Face, policy_server: PolicyServer) -> None:
    events: list[TraceEvent] = []
    d = face(trace=events.append, retries=netwire.Retry(3, backoff_factor=0, jitter=0))
    key = f"trace-{d.kind}"
    r = d.get(f"{policy_server.url}/retry-after/{key}?fail=2&after=0&status=503")
    assert r.status == 200 and r.attempts == 3
    retries = [e for e in events if e.name == "retry"]
    assert [e.info["attempt"] for e in retries] == [1, 2]
    assert [e.info["retries_left"] for e in retries] == [3, 2]
    assert retries[0].info["reason"] == "status 503" and retries[0].info["delay"] == 0


def test_no_retry_is_one_attempt(face: Face, echo_server: EchoServer) -> None:
    assert face().get(echo_server.url + "/").attempts == 1


def test_retry_after_a_refused_connect(face: Face) -> None:
    events: list[TraceEvent] = []
    d = face(trace=events.append, retries=netwire.Retry(2, backoff_factor=0, jitter=0))
    with pytest.raises(netwire.ConnectError):
        d.get(f"http://127.0.0.1:{free_port()}/")
    retries = [e for e in events if e.name == "retry"]
    assert [e.info["attempt"] for e in retries] == [1, 2]
    assert "refused" in retries[0].info["reason"].lower()


def test_redirect_event(face: Face, policy_server: PolicyServer) -> None:
    events: list[TraceEvent] = []
    d = face(trace=events.append)
    key = f"trace-redirect-{d.kind}"
    r = d.get(f"{policy_server.url}/redirect/{key}?code=302")
    assert r.status == 200
    redirect = _one(events, "redirect")
    assert redirect.info == {"status": 302, "location": f"{policy_server.url}/hits/{key}", "method": "GET"}
    assert _names(events).count("request.head") == 2


# -- logging ---------------------------------------------------------------------------------------


def test_debug_log_lines_without_credentials(
    face: Face, policy_server: PolicyServer, caplog: pytest.LogCaptureFixture
) -> None:
    d = face(auth=("user", "pw-s3cret"), cookies={"session": "cookie-s3cret"})
    key = f"log-{d.kind}"
    with caplog.at_level(logging.DEBUG, logger="netwire"):
        r = d.get(f"{policy_server.url}/redirect/{key}?code=302", headers={"Proxy-Authorization": "Basic cHJveHk="})
    assert r.status == 200
    text = caplog.text
    assert all(rec.name == "netwire.http" for rec in caplog.records)
    assert f"request: GET /redirect/{key}?code=302 HTTP/1.1" in text
    assert "response: HTTP/1.1 302 Redirect" in text and "response: HTTP/1.1 200 OK" in text
    assert f"redirect 302 to {policy_server.url}/hits/{key}" in text
    assert "connection to" in text and "opened" in text
    for secret in ("pw-s3cret", "cookie-s3cret", "cHJveHk=", "dXNlcjpwdy1zM2NyZXQ="):
        assert secret not in text


def test_logging_off_costs_no_hook(echo_server: EchoServer) -> None:
    with netwire.Client() as client:
        route = client._route_for(netwire.http.clientbase.UNSET, False, netwire.http.clientbase.UNSET)
        assert route.trace is None  # nothing to call per event when nobody listens


def test_redact_url() -> None:
    from netwire.http.trace import redact_url

    assert redact_url("http://u:pw@h:1/p?q#f") == f"http://u:{REDACTED}@h:1/p?q#f"
    assert redact_url("http://h/p@x") == "http://h/p@x"
    assert redact_url("http://u@h/") == "http://u@h/"


def test_socks5_event(face: Face, dante_server: ServerProcess, echo_server: EchoServer) -> None:
    events: list[TraceEvent] = []
    d = face(trace=events.append, proxy=f"socks5h://{dante_server.host}:{dante_server.port}")
    assert d.get(echo_server.url + "/socks").status == 200
    socks = _one(events, "socks5")
    assert socks.info == {
        "proxy": f"{dante_server.host}:{dante_server.port}",
        "target": f"127.0.0.1:{echo_server.port}",
        "remote_dns": True,
    }
    assert _names(events).index("socks5") < _names(events).index("request.head")


def test_userinfo_in_a_redirect_is_never_traced_nor_logged(
    face: Face, one_shot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = one_shot(
        lambda head: b"HTTP/1.1 302 Found\r\nLocation: http://user:pw-s3cret@127.0.0.1:1/next\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    events: list[TraceEvent] = []
    d = face(trace=events.append, retries=None)
    with caplog.at_level(logging.DEBUG, logger="netwire"), pytest.raises(netwire.NetwireError):
        d.get(f"http://127.0.0.1:{server.port}/")
    redirect = _one(events, "redirect")
    assert redirect.info["location"] == f"http://user:{REDACTED}@127.0.0.1:1/next"
    assert "redirect 302 to http://user:[redacted]@127.0.0.1:1/next" in caplog.text
    assert "pw-s3cret" not in caplog.text and "pw-s3cret" not in repr(events)


def test_release_into_a_full_pool_says_closed(face: Face, echo_server: EchoServer) -> None:
    events: list[TraceEvent] = []
    d = face(trace=events.append, limits=netwire.Limits(max_idle_per_host=0))
    assert d.get(echo_server.url + "/full").status == 200
    release = _one(events, "pool.release")
    assert release.info["kept"] is False and release.info["why"] == "the pool is full or closed"


def test_tls_in_tls_through_an_https_proxy(
    face: Face, tinyproxy_server: ServerProcess, tls_echo_server: EchoServer
) -> None:
    from tests.servers.proxies import start_relay

    relay = start_relay((tinyproxy_server.host, tinyproxy_server.port), ca=tls_echo_server.ca)
    try:
        events: list[TraceEvent] = []
        d = face(trace=events.append, proxy=f"https://{relay.host}:{relay.port}", verify=tls_echo_server.client_context())
        assert d.get(f"https://localhost:{tls_echo_server.port}/inner").status == 200
        names = _names(events)
        assert names.index("connect") < names.index("proxy.connect") < names.index("request.head")
        assert _one(events, "proxy.connect").info["status"] == 200
        inner = [e for e in events if e.name == "tls" and e.info["server_name"] == "localhost"]
        assert len(inner) == 1 and inner[0].info["version"].startswith("TLSv1.")
    finally:
        relay.stop()


def test_a_refused_connect_is_traced_with_the_proxys_status(
    face: Face, tinyproxy_server: ServerProcess, echo_server: EchoServer
) -> None:
    # tinyproxy allows CONNECT only to the TLS server's port: a CONNECT elsewhere is refused,
    # and both clients say so in one proxy.connect event (http/tunnels.py: traced_tunnel).
    events: list[TraceEvent] = []
    d = face(trace=events.append, proxy=tinyproxy_server.url, verify=False)
    with pytest.raises(netwire.ProxyError):
        d.get(f"https://127.0.0.1:{echo_server.port}/")
    tunnel = _one(events, "proxy.connect")
    assert tunnel.info["status"] == 403
    assert tunnel.info["target"] == f"127.0.0.1:{echo_server.port}"
    assert "request.head" not in _names(events)
