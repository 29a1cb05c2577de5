"""Every failure kind has its own documented exit code (netwire.cli.output), checked on the real command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from netwire.cli import output
from tests.cli.clitools import run_piped
from tests.servers.faults import Action, Close, FaultServer, ReadRequest, Send, Sleep, response
from tests.servers.raw import SilentServer
from tests.servers.raw import full_backlog as raw_full_backlog


def test_the_table_is_stable() -> None:
    # Scripts depend on these numbers: changing one is a breaking change.
    assert {name: getattr(output, name) for name in dir(output) if name.startswith("EXIT_") and name != "EXIT_CODES"} == {
        "EXIT_OK": 0, "EXIT_OTHER": 1, "EXIT_USAGE": 2, "EXIT_URL": 3, "EXIT_PROXY": 5, "EXIT_DNS": 6,
        "EXIT_CONNECT": 7, "EXIT_PROTOCOL": 8, "EXIT_ROBOTS": 9, "EXIT_PARTIAL": 18, "EXIT_HTTP_ERROR": 22,
        "EXIT_WRITE": 23, "EXIT_READ_FILE": 26, "EXIT_TIMEOUT": 28, "EXIT_RANGE": 33, "EXIT_TLS": 35,
        "EXIT_REDIRECTS": 47, "EXIT_RECV": 56, "EXIT_DECODING": 61, "EXIT_INTERRUPTED": 130,
    }
    assert sorted(output.EXIT_CODES) == sorted(
        getattr(output, n) for n in dir(output) if n.startswith("EXIT_") and n != "EXIT_CODES"
    )


def test_ok_on_a_404_without_fail(cli: Any, httpbin: Any) -> None:
    assert cli(["get", httpbin.url + "/status/404"]).rc == 0


def test_http_error_with_fail(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "--fail", httpbin.url + "/status/503"])
    assert r.rc == 22 and "503" in r.err and r.stdout == b""


def test_dns_failure(stub_resolver: dict[str, str]) -> None:
    r = run_piped(["get", "http://no-such-host.invalid/"], env=stub_resolver)
    assert r.rc == 6 and "DNS error" in r.err and "no-such-host.invalid" in r.err
    r = run_piped(["get", "-v", "http://no-such-host.invalid/"], env=stub_resolver)
    assert r.rc == 6


def test_connect_refused(cli: Any, unused_port: int) -> None:
    r = cli(["get", f"http://127.0.0.1:{unused_port}/"])
    assert r.rc == 7 and "connect error" in r.err


def test_tls_failure(cli: Any, httpbin_secure: Any) -> None:
    r = cli(["get", httpbin_secure.url + "/get"])
    assert r.rc == 35 and "TLS error" in r.err


def test_tls_to_a_plain_http_server(cli: Any, httpbin: Any) -> None:
    r = cli(["get", httpbin.url.replace("http://", "https://") + "/get"])
    assert r.rc == 35


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers."""
    srv = SilentServer()
    yield srv.port
    srv.close()


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listening port whose accept queue is full: Linux drops further SYNs, so connects hang."""
    with raw_full_backlog() as listener:
        yield listener.getsockname()[1]


def test_connect_timeout(cli: Any, full_backlog: int) -> None:
    r = cli(["get", "--connect-timeout", "0.3", f"http://127.0.0.1:{full_backlog}/"])
    assert r.rc == 28 and "connecting to 127.0.0.1" in r.err and "0.3 s" in r.err


def test_read_timeout(cli: Any, silent_server: int) -> None:
    r = cli(["get", "--timeout", "0.3", f"http://127.0.0.1:{silent_server}/"])
    assert r.rc == 28 and "timeout error" in r.err


def test_max_time(cli: Any, silent_server: int) -> None:
    r = cli(["get", "-m", "0.3", f"http://127.0.0.1:{silent_server}/"])
    assert r.rc == 28


def test_protocol_error(cli: Any) -> None:
    script: list[Action] = [ReadRequest(), Send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), Close()]
    with FaultServer(script) as srv:
        r = cli(["get", srv.url("/")])
    assert r.rc == 8 and "protocol error" in r.err


def test_body_cut_short(cli: Any, tmp_path: Path) -> None:
    script: list[Action] = [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 300), Close()]
    with FaultServer(script) as srv:
        r = cli(["get", srv.url("/")])
    assert r.rc == 18 and r.stdout == b"x" * 300
    out = tmp_path / "cut.bin"
    with FaultServer(script) as srv:
        r = cli(["get", "-o", str(out), srv.url("/")])
    assert r.rc == 18 and "partial file kept" in r.err and out.read_bytes() == b"x" * 300


def test_connection_reset(cli: Any) -> None:
    from tests.servers.faults import Reset

    script: list[Action] = [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc"), Sleep(0.1), Reset()]
    with FaultServer(script) as srv:
        r = cli(["get", srv.url("/")])
    assert r.rc == 56 and "receive error" in r.err


def test_too_many_redirects(cli: Any, httpbin: Any) -> None:
    assert cli(["get", "-L", "--max-redirs", "1", httpbin.url + "/redirect/2"]).rc == 47


def test_malformed_url(cli: Any) -> None:
    r = cli(["get", "http://exa mple.com/"])
    assert r.rc == 3 and "URL error" in r.err


def test_unreadable_body_file(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    r = cli(["post", httpbin.url + "/post", "-d", f"@{tmp_path / 'missing'}"])
    assert r.rc == 26 and "cannot read" in r.err
    r = cli(["post", httpbin.url + "/post", "-F", f"f=@{tmp_path / 'missing'}"])
    assert r.rc == 26


def test_unwritable_output(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    r = cli(["get", "-o", str(tmp_path / "no" / "such" / "dir"), httpbin.url + "/get"])
    assert r.rc == 23 and "write error" in r.err


def test_usage_errors(cli: Any, httpbin: Any) -> None:
    assert cli(["get", "-H", "no colon", httpbin.url]).rc == 2
    assert cli(["get", httpbin.url, "justaword"]).rc == 2
    assert cli(["get", httpbin.url, "n:={bad"]).rc == 2
    assert cli(["get", "--no-such-option", httpbin.url]).rc == 2
    assert cli(["get"]).rc == 2


def test_robots_disallowed(cli: Any, httpbin: Any) -> None:
    assert cli(["get", "--respect-robots", httpbin.url + "/deny"]).rc == 9


def test_bad_content_encoding(cli: Any) -> None:
    body = b"this is not gzip at all"
    script: list[Action] = [ReadRequest(), Send(response(body, headers=[("Content-Encoding", "gzip")])), Close()]
    with FaultServer(script) as srv:
        r = cli(["get", srv.url("/")])
    assert r.rc == 61 and "decoding error" in r.err


def test_proxy_refusal(cli: Any) -> None:
    script: list[Action] = [ReadRequest(), Send(response(b"no", status=403, reason="Forbidden")), Close()]
    with FaultServer(script) as proxy:
        r = cli(["get", "-x", proxy.url("").rstrip("/"), "https://origin.test/"])
    assert r.rc == 5 and "proxy error" in r.err
