"""urlsplit parser differentials: CVE-2022-0391, CVE-2023-24329, CVE-2024-11168, CVE-2025-0938.

Each was a way for a URL to mean one thing to a validator built on ``urllib.parse`` and another
to the code that fetched it. netwire.parse carries every fix (including CVE-2025-0938, which
this interpreter's urllib lacks), netwire.url.URL follows the WHATWG rules that were the
reference for those fixes, and the Client fetches exactly what URL says: the host a request
reaches is checked on a real loopback server.
"""

from __future__ import annotations

import pytest

import netwire
import netwire.parse as N
from netwire.errors import InvalidURL
from netwire.url import URL
from tests.servers.faults import Serve, Start, response

pytestmark = pytest.mark.timeout(20)


# -- CVE-2022-0391: tab, CR and LF inside a URL are removed, not kept as part of a component

@pytest.mark.parametrize(
    ("url", "scheme", "netloc", "path"),
    [
        ("https://www.python.org/\tjavascript:alert(1)\n", "https", "www.python.org", "/javascript:alert(1)"),
        ("java\nscript:alert(1)", "javascript", "", "alert(1)"),
        ("ht\ttp://ex\rample.com/p\na\tth", "http", "example.com", "/path"),
        ("http://exa\nmple.com:8\t0/", "http", "example.com:80", "/"),
    ],
)
def test_cve_2022_0391_tab_and_newline_removed(url: str, scheme: str, netloc: str, path: str) -> None:
    parts = N.urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (scheme, netloc, path)
    assert "\t" not in parts.geturl() and "\n" not in parts.geturl() and "\r" not in parts.geturl()
    assert N.urlparse(url).scheme == scheme
    u = URL(url)
    assert u.scheme == scheme and not any(c in u.href for c in "\t\r\n")


def test_cve_2022_0391_client_sends_the_cleaned_path(fault_server: Start) -> None:
    srv = fault_server(Serve(response(b"ok")))
    with netwire.Client(timeout=3) as c:
        c.get(f"http://127.0.0.1:{srv.port}/a\tb\nc\r?q=\t1")
    (req,) = srv.requests
    assert req.target == "/abc?q=1"


# -- CVE-2023-24329: leading C0 controls and spaces are stripped, so scheme blocklists hold

@pytest.mark.parametrize("prefix", [" ", "\x00", "\x1f", " \x00\x1f\x0b\x0c", "\x08 \x01", "\t\n "])
@pytest.mark.parametrize(("url", "scheme"), [("javascript:alert(1)", "javascript"), ("file:///etc/passwd", "file"),
                                             ("data:text/html,<script>", "data")])
def test_cve_2023_24329_leading_controls_stripped(prefix: str, url: str, scheme: str) -> None:
    parts = N.urlsplit(prefix + url)
    assert parts.scheme == scheme
    assert N.urlparse((prefix + url).encode()).scheme == scheme.encode()
    assert URL(prefix + url).scheme == scheme
    # The client refuses what is not http(s), however it is dressed up.
    with netwire.Client() as c, pytest.raises(InvalidURL, match=scheme):
        c.get(prefix + url)


def test_cve_2023_24329_client_reaches_the_stripped_url(fault_server: Start) -> None:
    srv = fault_server(Serve(response(b"ok")))
    with netwire.Client(timeout=3) as c:
        assert c.get(f" \x00\x1f http://127.0.0.1:{srv.port}/x ").content == b"ok"
    assert [r.target for r in srv.requests] == ["/x"]


# -- CVE-2024-11168: what is in brackets must be an IPv6 address (or IPvFuture)

@pytest.mark.parametrize(
    "url",
    ["http://[1.2.3.4]/", "http://[a]/", "http://[::1/", "http://::1]/", "http://[::1]]/", "http://[[::1]/",
     "http://[example.com]/", "http://user@[127.0.0.1]:80/"],
)
def test_cve_2024_11168_bracketed_host_must_be_ipv6(url: str) -> None:
    with pytest.raises(ValueError):
        N.urlsplit(url)
    with pytest.raises(InvalidURL):
        URL(url)
    with netwire.Client() as c, pytest.raises(InvalidURL):
        c.get(url)


@pytest.mark.parametrize("url", ["http://[::1]/", "http://[::1]:8080/p", "http://u:p@[2001:db8::7]/", "http://[::ffff:1.2.3.4]/"])
def test_cve_2024_11168_valid_ipv6_accepted(url: str) -> None:
    assert N.urlsplit(url).hostname is not None
    assert URL(url).hostname.startswith("[")


# -- CVE-2025-0938: nothing but userinfo before "[" and nothing but ":port" after "]"

@pytest.mark.parametrize(
    "url",
    ["http://prefix[::1]/", "http://[::1]suffix/", "http://[::1]x:80/", "http://a[::1]b/", "http://user@host[::1]/",
     "http://[::1]prefix.example.com/", "http://evil.com[::1]/", "http://[::1].evil.com/"],
)
def test_cve_2025_0938_brackets_with_junk_around(url: str) -> None:
    with pytest.raises(ValueError, match="Invalid IPv6 URL"):
        N.urlsplit(url)
    with pytest.raises(ValueError):
        N.urlparse(url)
    with pytest.raises(ValueError):
        N.urljoin("http://base/", url)
    with pytest.raises(InvalidURL):
        URL(url)


# -- the client fetches the host URL names, even where RFC 3986 and WHATWG part ways

TRICKY = [
    # (URL template, the path the server must receive)
    ("http://127.0.0.1:{port}\\@evil.example/", "/@evil.example/"),
    ("http://127.0.0.1:{port}/\\..\\x", "/x"),
    ("http://a@b@127.0.0.1:{port}/", "/"),
    ("http://127.0.0.1:{port}#@evil.example/", "/"),
    ("http://127.0.0.1:{port}?@evil.example/", "/?@evil.example/"),
    ("http://0x7f.0.0.1:{port}/hex", "/hex"),
    ("http://2130706433:{port}/decimal", "/decimal"),
    ("http://127.1:{port}/short", "/short"),
    ("HTTP://127.0.0.1:{port}/./a/../b", "/b"),
]


@pytest.mark.parametrize(("template", "path"), TRICKY)
def test_client_reaches_the_host_url_names(fault_server: Start, template: str, path: str) -> None:
    srv = fault_server(Serve(response(b"ok")))
    url = template.format(port=srv.port)
    assert URL(url).hostname == "127.0.0.1"
    with netwire.Client(timeout=3) as c:
        assert c.get(url).content == b"ok"
    (req,) = srv.requests
    assert req.target == path
    assert req.header("host") == f"127.0.0.1:{srv.port}"


def test_known_rfc3986_vs_whatwg_difference_is_documented() -> None:
    # netwire.parse answers as urllib does (RFC 3986 splitting); URL as browsers do. A backslash
    # is where they disagree: validate and fetch with the same one (SECURITY.md says so).
    url = "http://127.0.0.1\\@evil.example/"
    assert N.urlsplit(url).hostname == "evil.example"
    assert URL(url).hostname == "127.0.0.1"
