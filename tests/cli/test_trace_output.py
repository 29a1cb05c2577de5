"""``netwire get -v`` built on the client's public trace hook, and retries told on stderr even
without ``-v`` (as curl does): each as a real subprocess against loopback peers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.servers.echo import EchoServer
from tests.servers.nginx import FilesServer
from tests.servers.proxies import ServerProcess


def test_retries_are_told_without_verbose(cli: Any, unused_port: int) -> None:
    r = cli(["get", "--retry", "2", f"http://127.0.0.1:{unused_port}/"])
    assert r.rc == 7
    lines = [line for line in r.err.splitlines() if line.startswith("netwire: retrying in ")]
    assert len(lines) == 2, r.err
    assert re.fullmatch(r"netwire: retrying in \d+\.\d s \(2 left\): .*Connection refused\)?", lines[0]), lines[0]
    assert "(1 left)" in lines[1]
    assert r.err.index(lines[1]) < r.err.index("connect error")  # then the final failure


def test_silent_hides_the_retry_notes(cli: Any, unused_port: int) -> None:
    r = cli(["get", "-s", "--retry", "1", f"http://127.0.0.1:{unused_port}/"])
    assert r.rc == 7 and "retrying" not in r.err


def test_verbose_shows_each_failed_attempt(cli: Any, unused_port: int) -> None:
    r = cli(["get", "-v", "--retry", "1", f"http://127.0.0.1:{unused_port}/"])
    assert r.rc == 7
    assert "* attempt 1 failed: " in r.err and "netwire: retrying in " in r.err
    assert "> GET " not in r.err  # nothing went on the wire: no request block is printed


def test_verbose_through_a_proxy_shows_the_absolute_form(
    cli: Any, tinyproxy_server: ServerProcess, echo_server: EchoServer
) -> None:
    r = cli(["get", "-v", "-x", tinyproxy_server.url, echo_server.url + "/via?q=1"])
    assert r.rc == 0, r.err
    assert f"* connected to proxy 127.0.0.1:{tinyproxy_server.port} at 127.0.0.1 port " in r.err
    assert f"> GET {echo_server.url}/via?q=1 HTTP/1.1\n" in r.err


def test_verbose_shows_the_connect_exchange_and_tls(
    cli: Any, tinyproxy_server: ServerProcess, tls_echo_server: EchoServer, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    tls_echo_server.ca.cert_pem.write_to_path(str(ca))
    target = f"localhost:{tls_echo_server.port}"
    r = cli(["get", "-v", "--cacert", str(ca), "-x", tinyproxy_server.url, f"https://{target}/tunnelled"])
    assert r.rc == 0, r.err
    err = r.err
    assert f"> CONNECT {target} HTTP/1.1\n" in err
    assert f"* proxy tunnel to {target}: 200 " in err
    assert re.search(r"\* TLS TLSv1\.\d, cipher \S+, ALPN \S+, handshake \d+\.\d+ ms", err), err
    assert "> GET /tunnelled HTTP/1.1\n" in err
    assert err.index("> CONNECT") < err.index("* TLS") < err.index("> GET /tunnelled")


def test_verbose_follows_a_redirect_aloud(cli: Any, files_nginx: FilesServer) -> None:
    r = cli(["get", "-v", "-L", files_nginx.url("/sub")])  # nginx answers 301 to /sub/
    assert r.rc == 0, r.err
    assert f"* following redirect to {files_nginx.url('/sub/')}\n" in r.err
