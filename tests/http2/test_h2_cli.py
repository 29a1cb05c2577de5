"""``netwire get --http2 / --http1.1 / --http2-prior-knowledge`` against nginx; ``-v`` names the protocol."""

from __future__ import annotations

import pytest

from tests.cli.clitools import run_piped
from tests.servers.nginx import Nginx


@pytest.mark.parametrize(("flag", "alpn", "line"), [("--http2", "ALPN h2", "< HTTP/2 200"), ("--http1.1", "ALPN http/1.1", "< HTTP/1.1 200 OK")])
def test_get_over_tls_shows_the_protocol(h2_nginx: Nginx, ca_file: str, flag: str, alpn: str, line: str) -> None:
    r = run_piped(["get", flag, "-v", "--cacert", ca_file, f"https://localhost:{h2_nginx.port}/hello"])
    assert r.rc == 0, r.err
    assert r.out == "hello from nginx\n"
    assert alpn in r.err and line in r.err
    assert ("> GET /hello HTTP/2" in r.err) == (flag == "--http2")


def test_prior_knowledge_on_cleartext(h2c_nginx: Nginx) -> None:
    r = run_piped(["get", "--http2-prior-knowledge", "-i", f"http://127.0.0.1:{h2c_nginx.port}/hello"])
    assert r.rc == 0, r.err
    assert r.out.startswith("HTTP/2 200") and r.out.endswith("hello from nginx\n")


def test_http_versions_exclude_each_other() -> None:
    r = run_piped(["get", "--http2", "--http1.1", "http://127.0.0.1:9/"])
    assert r.rc != 0 and "not allowed with" in r.err
