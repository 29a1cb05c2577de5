"""``netwire robots`` and the robots part of ``netwire demo``, against loopback servers."""

from __future__ import annotations

import io
import socket

import pytest

from netwire.cli.demos import robots as robots_demo
from netwire.cli.main import main
from tests.servers.robots import RobotsServer

BODY = b"User-agent: *\nDisallow: /private\nAllow: /private/ok\nCrawl-delay: 2\nSitemap: http://h/s.xml\n"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["robots", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_allowed_exit_0(robots_server: RobotsServer, capsys: pytest.CaptureFixture[str]) -> None:
    robots_server.route("/robots.txt", 200, BODY)
    code, out, _ = _run(capsys, robots_server.origin + "/private/ok/1", "--agent", "MyBot/1.0")
    assert code == 0
    assert "allowed: " in out and "'Allow: /private/ok' (line 3)" in out
    assert "HTTP 200" in out and "product token 'MyBot'" in out


def test_disallowed_exit_1(robots_server: RobotsServer, capsys: pytest.CaptureFixture[str]) -> None:
    robots_server.route("/robots.txt", 200, BODY)
    code, out, _ = _run(capsys, robots_server.origin + "/private/x", "-v")
    assert code == 1
    assert "DISALLOWED: " in out and "'Disallow: /private' (line 2)" in out
    assert "crawl-delay: 2 s" in out and "sitemap: http://h/s.xml" in out


def test_no_matching_rule(robots_server: RobotsServer, capsys: pytest.CaptureFixture[str]) -> None:
    robots_server.route("/robots.txt", 200, BODY)
    code, out, _ = _run(capsys, robots_server.origin + "/public")
    assert code == 0 and "because: no rule matched" in out


def test_404_allows(robots_server: RobotsServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, robots_server.origin + "/anything")
    assert code == 0 and "HTTP 404" in out and "everything is allowed" in out


def test_503_disallows_with_http_error_code(robots_server: RobotsServer, capsys: pytest.CaptureFixture[str]) -> None:
    robots_server.route("/robots.txt", 503, b"down")
    code, out, _ = _run(capsys, robots_server.origin + "/page")
    assert code == 22 and "DISALLOWED" in out and "HTTP 503" in out


def test_redirect_is_reported(robots_server: RobotsServer, capsys: pytest.CaptureFixture[str]) -> None:
    robots_server.route("/real-robots.txt", 200, BODY)
    robots_server.redirect("/robots.txt", "/real-robots.txt")
    code, out, _ = _run(capsys, robots_server.origin + "/private/x")
    assert code == 1 and "after 1 redirect" in out and "served from: " in out


def test_connection_refused_exit_7(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, _ = _run(capsys, f"http://127.0.0.1:{port}/page", "--timeout", "2")
    assert code == 7 and "DISALLOWED" in out and "unreachable" in out


def test_bad_url_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "not a url")
    assert code == 2 and err


def test_local_file(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "robots.txt"
    path.write_bytes(b"User-agent: FooBot\nDisallow: /*.pdf$\n")
    code, out, _ = _run(capsys, "https://example.com/a.pdf", "--agent", "FooBot", "--file", str(path))
    assert code == 1 and "'Disallow: /*.pdf$' (line 2)" in out
    code, _, _ = _run(capsys, "https://example.com/a.pdf?x", "--agent", "FooBot", "--file", str(path))
    assert code == 0
    code, _, err = _run(capsys, "https://example.com/", "--file", str(path) + ".missing")
    assert code == 2 and "cannot read" in err


def test_demo_part() -> None:
    out = io.StringIO()
    robots_demo.run(out)
    text = out.getvalue()
    assert "HTTP 200" in text
    lines = {line.split()[1]: line for line in text.splitlines() if line.startswith("   MyCrawler") or
             line.startswith("   HungryBot")}
    assert "DISALLOWED" in lines["/private/orders"]
    assert "allowed" in lines["/private/press/launch.html"]
    assert "DISALLOWED" in lines["/docs/manual.pdf"]
    assert "allowed" in lines["/docs/manual.pdf?download=1"]
    assert "always allowed" in lines["/robots.txt"]
    assert "crawl-delay for MyCrawler: 2 s" in text
    assert "404" in text and "everything is allowed" in text


def test_sitemaps_lists_every_url(robots_server: RobotsServer, capsys: pytest.CaptureFixture[str]) -> None:
    o = robots_server.origin
    robots_server.route("/robots.txt", 200, f"User-agent: *\nSitemap: {o}/index.xml\n".encode())
    robots_server.route("/index.xml", 200, (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{o}/a.xml</loc></sitemap><sitemap><loc>{o}/gone.xml</loc></sitemap></sitemapindex>").encode())
    robots_server.route("/a.xml", 200, (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{o}/p1</loc><lastmod>2026-12-01</lastmod></url><url><loc>{o}/p2</loc></url>"
        "</urlset>").encode())
    code, out, err = _run(capsys, "--sitemaps", o + "/")
    # The URLs on stdout, one a line; the failed document on stderr, and the exit code of its
    # failure (22: an HTTP error status).
    assert out.splitlines() == [f"{o}/p1", f"{o}/p2"]
    assert f"sitemap {o}/gone.xml" in err and "404" in err and "2 URLs, 1 sitemap(s) failed" in err
    assert code == 22

    code, out, err = _run(capsys, "--sitemaps", "-v", o + "/a.xml")
    assert code == 0
    assert out.splitlines()[0] == f"{o}/p1\t2026-12-01\t{o}/a.xml"
