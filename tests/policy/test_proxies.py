"""Proxy choice: parsing proxy URLs, the environment, no_proxy rules, selection."""

from __future__ import annotations

import pytest

from netwire.errors import InvalidURL
from netwire.http.policy.auth import basic_auth_header
from netwire.http.policy.proxies import (
    Proxy,
    effective_settings,
    host_bypasses,
    no_proxy_from_env,
    proxies_from_env,
    proxy_authorization,
    select_proxy,
    should_bypass,
)
from netwire.url import URL


def test_proxy_from_url() -> None:
    p = Proxy.from_url("http://proxy.test:3128")
    assert (p.kind, p.host, p.port, p.auth) == ("http", "proxy.test", 3128, None)
    assert Proxy.from_url("proxy.test:3128") == p  # no scheme: http, as in the environment
    assert Proxy.from_url("https://proxy.test").port == 443
    assert Proxy.from_url("http://proxy.test").port == 80
    s = Proxy.from_url("socks5h://[::1]")
    assert (s.kind, s.host, s.port) == ("socks5h", "::1", 1080)
    assert Proxy.from_url("socks://127.0.0.1:9050").kind == "socks5h"
    assert Proxy.from_url("socks5://127.0.0.1").kind == "socks5"
    with pytest.raises(InvalidURL, match="scheme"):
        Proxy.from_url("ftp://proxy.test")
    with pytest.raises(InvalidURL):
        Proxy.from_url("http://")


def test_proxy_credentials_are_percent_decoded_and_kept_out_of_the_url() -> None:
    p = Proxy.from_url("http://us%40er:p%3Aw%20%C3%A9%zz@proxy.test:8080")
    assert p.auth == ("us@er", "p:w é%zz")
    assert "us" not in str(p.url) and "@" not in str(p.url)
    assert "p:w" not in repr(p)
    assert proxy_authorization(p) == basic_auth_header("us@er", "p:w é%zz")
    assert proxy_authorization(Proxy.from_url("http://proxy.test")) is None
    # Explicit credentials win over the URL's.
    assert Proxy.from_url("http://a:b@proxy.test", auth=("c", "d")).auth == ("c", "d")
    assert Proxy.from_url("http://user@proxy.test").auth == ("user", "")


def test_proxies_from_env_lower_case_wins() -> None:
    env = {
        "HTTP_PROXY": "http://upper:1",
        "http_proxy": "http://lower:2",
        "HTTPS_PROXY": "http://secure:3",
        "ALL_PROXY": "socks5h://all:4",
        "FTP_PROXY": "http://ftp:5",
    }
    found = proxies_from_env(env)
    assert set(found) == {"http", "https", "all"}
    assert found["http"].url.hostname == "lower"
    assert found["https"].url.hostname == "secure"
    assert found["all"].kind == "socks5h"
    # A lower-case variable set but empty switches the proxy off, even with an upper-case one.
    assert "http" not in proxies_from_env({"http_proxy": "", "HTTP_PROXY": "http://upper:1"})


def test_cgi_environment_ignores_upper_case_http_proxy() -> None:
    # httpoxy (CVE-2016-1000110): in CGI, HTTP_PROXY can come from a "Proxy:" request header.
    env = {"REQUEST_METHOD": "GET", "HTTP_PROXY": "http://attacker:1", "HTTPS_PROXY": "http://ok:2"}
    found = proxies_from_env(env)
    assert "http" not in found
    assert found["https"].url.hostname == "ok"
    env["http_proxy"] = "http://admin-set:3"
    assert proxies_from_env(env)["http"].url.hostname == "admin-set"


def test_bad_env_proxy_is_an_error() -> None:
    with pytest.raises(InvalidURL, match="https_proxy"):
        proxies_from_env({"https_proxy": "gopher://x"})


def test_no_proxy_from_env() -> None:
    assert no_proxy_from_env({"NO_PROXY": "a.test"}) == "a.test"
    assert no_proxy_from_env({"no_proxy": "b.test", "NO_PROXY": "a.test"}) == "b.test"
    assert no_proxy_from_env({}) is None
    assert no_proxy_from_env({"no_proxy": "", "NO_PROXY": "a.test"}) is None  # lower case wins
    # Kept as written, as urllib keeps it: " *" is not the catch-all.
    assert no_proxy_from_env({"no_proxy": " *"}) == " *"
    _, no_proxy = effective_settings(None, None, environ={"no_proxy": " *", "http_proxy": "http://p:1"})
    assert no_proxy == " *" and not should_bypass(URL("http://x.test/"), no_proxy)


@pytest.mark.parametrize(
    ("url", "no_proxy", "bypass"),
    [
        # domain suffix, with or without a leading dot
        ("http://example.com/", "example.com", True),
        ("http://www.example.com/", "example.com", True),
        ("http://www.example.com/", ".example.com", True),
        ("http://example.com/", ".example.com", True),
        ("http://notexample.com/", "example.com", False),
        ("http://example.com.evil.test/", "example.com", False),
        # urllib knows no "*." prefix nor trailing-dot equivalence: neither does netwire.
        ("http://a.b.example.com/", "*.example.com", False),
        ("http://EXAMPLE.com/", "Example.COM", True),
        ("http://EXAMPLE.com./", "Example.COM", False),
        # exact host
        ("http://localhost:8080/", "localhost", True),
        ("http://localhost2/", "localhost", False),
        # IP addresses and CIDR blocks, v4 and v6
        ("http://127.0.0.1:5000/", "127.0.0.1", True),
        ("http://127.0.0.2/", "127.0.0.1", False),
        ("http://10.1.2.3/", "10.0.0.0/8", True),
        ("http://11.1.2.3/", "10.0.0.0/8", False),
        ("http://192.168.1.77/", "192.168.1.0/24", True),
        ("http://[::1]:8080/", "::1", True),
        ("http://[::1]/", "[::1]", True),
        ("http://[fd00::5]/", "fd00::/8", True),
        ("http://[fe80::5]/", "fd00::/8", False),
        ("http://10.0.0.1/", "fd00::/8", False),
        ("http://host.test/", "10.0.0.0/8", False),  # a name is not resolved to match an IP rule
        # port-qualified entries
        ("http://example.com:8080/", "example.com:8080", True),
        ("http://example.com:8081/", "example.com:8080", False),
        ("http://example.com/", "example.com:80", True),
        ("https://example.com/", "example.com:80", False),
        ("http://[::1]:8080/", "[::1]:8080", True),
        ("http://[::1]:9090/", "[::1]:8080", False),
        ("http://127.0.0.1:8080/", "127.0.0.1:8080", True),
        # wildcard, lists, junk
        ("http://anything.test/", "*", True),
        ("http://b.test/", "a.test, b.test", True),
        ("http://b.test/", "a.test b.test", False),  # commas separate, as in urllib
        # "*" is special only as the whole value (urllib).
        ("http://anything.test/", "*, internal.test", False),
        ("http://internal.test/", "*, internal.test", True),
        ("http://anything.test/", "internal.test,*", False),
        ("http://c.test/", "a.test,,b.test, ,", False),
        ("http://c.test/", "", False),
        ("http://c.test/", "10.0.0.0/99, [broken, c.test", True),
    ],
)
def test_should_bypass(url: str, no_proxy: str, bypass: bool) -> None:
    assert should_bypass(URL(url), no_proxy) is bypass


def test_select_proxy() -> None:
    proxies: dict[str, Proxy | str | None] = {
        "http": "http://p-http:1",
        "https": Proxy.from_url("http://p-https:2"),
        "all": "socks5h://p-all:3",
        "https://special.test": "http://p-special:4",
        "all://direct.test": None,
    }
    def pick(url: str, no_proxy: str | None = None) -> Proxy | None:
        return select_proxy(URL(url), proxies, no_proxy)

    assert pick("http://a.test/").url.hostname == "p-http"  # type: ignore[union-attr]
    assert pick("https://a.test/").url.hostname == "p-https"  # type: ignore[union-attr]
    assert pick("https://special.test/").url.hostname == "p-special"  # type: ignore[union-attr]
    assert pick("http://direct.test/") is None
    assert pick("http://a.test/", "a.test") is None
    assert select_proxy(URL("https://x.test/"), {"all": "socks5://s:1"}).kind == "socks5"  # type: ignore[union-attr]
    assert select_proxy(URL("https://x.test/"), {"http": "http://p:1"}) is None
    assert select_proxy(URL("https://x.test/"), {}) is None
    assert select_proxy(URL("http+unix://%2Ftmp%2Fs.sock/"), {"all": "http://p:1"}) is None


def test_explicit_settings_win_over_environment() -> None:
    env = {"https_proxy": "http://env:1", "no_proxy": "internal.test"}
    proxies, no_proxy = effective_settings(None, None, environ=env)
    assert select_proxy(URL("https://x.test/"), proxies, no_proxy).url.hostname == "env"  # type: ignore[union-attr]
    assert select_proxy(URL("https://internal.test/"), proxies, no_proxy) is None
    # An explicit proxy replaces the environment's, and the environment's no_proxy does not veto it.
    proxies, no_proxy = effective_settings({"all": "http://mine:2"}, None, environ=env)
    assert select_proxy(URL("https://internal.test/"), proxies, no_proxy).url.hostname == "mine"  # type: ignore[union-attr]
    # An explicit empty mapping: no proxy at all, whatever the environment says.
    proxies, no_proxy = effective_settings({}, None, environ=env)
    assert select_proxy(URL("https://x.test/"), proxies, no_proxy) is None
    # An explicit no_proxy wins over the environment's.
    proxies, no_proxy = effective_settings(None, "x.test", environ=env)
    assert select_proxy(URL("https://x.test/"), proxies, no_proxy) is None
    assert select_proxy(URL("https://internal.test/"), proxies, no_proxy).url.hostname == "env"  # type: ignore[union-attr]
    # trust_env=False: the environment is not read at all.
    assert effective_settings(None, None, trust_env=False, environ=env) == ({}, None)


def test_verbatim_proxy_authorization() -> None:
    p = Proxy.from_url("http://u:p@proxy.test:3128")
    assert proxy_authorization(p) == basic_auth_header("u", "p")
    bearer = p.with_authorization("Bearer t0k")
    assert proxy_authorization(bearer) == "Bearer t0k"  # any scheme, as given; wins over auth
    assert bearer.pool_key != p.pool_key  # tunnels opened with other credentials are not shared
    assert bearer.with_authorization("Bearer t0k") is bearer
    assert "t0k" not in repr(bearer) and "***" in repr(bearer)
    # What is tunnelled (the header then goes to the CONNECT, not to the origin).
    assert p.tunnels("https") and not p.tunnels("http")
    assert Proxy.from_url("https://proxy.test").tunnels("https")
    assert not Proxy.from_url("https://proxy.test").tunnels("http")
    assert Proxy.from_url("socks5h://proxy.test").tunnels("http")


# -- no_proxy against the running interpreter's urllib ----------------------------------------------

# (host as urllib's Request.host has it, no_proxy): netwire must answer as urllib does.
_SAME_AS_URLLIB = [
    ("example.com", "example.com"),
    ("www.example.com", "example.com"),
    ("www.example.com", ".example.com"),
    ("www.example.com", "..example.com"),
    ("example.com", ".example.com"),
    ("notexample.com", "example.com"),
    ("example.com.evil.test", "example.com"),
    ("EXAMPLE.com", " Example.COM "),
    ("example.com.", "example.com"),
    ("example.com", "example.com."),
    ("a.b.example.com", "*.example.com"),
    ("example.com:8080", "example.com"),
    ("example.com:8080", "example.com:8080"),
    ("www.example.com:8080", "example.com:8080"),
    ("example.com:8081", "example.com:8080"),
    ("example.com", "example.com:8080"),
    ("localhost", "localhost"),
    ("localhost2", "localhost"),
    ("anything.test", "*"),
    ("anything.test", " *"),
    ("anything.test", "*,"),
    ("anything.test", "*, internal.test"),
    ("internal.test", "*, internal.test"),
    ("anything.test", "internal.test,*"),
    ("b.test", "a.test, b.test"),
    ("b.test", "a.test b.test"),
    ("b.test", "a.test\tb.test"),
    ("b.test", "a.test,\tb.test\n"),
    ("c.test", "a.test,,b.test, ,"),
    ("c.test", ""),
    ("c.test", ","),
    # Control characters in the host are not cleaned away: no match by a newline trick.
    ("example.com\n", "example.com"),
    ("example.com\r\n", "example.com"),
    ("example.com\t", "example.com"),
    (" example.com", "example.com"),
    ("example.com\n:80", "example.com"),
    ("example.com:80\n", "example.com"),
    ("127.0.0.1\n", "127.0.0.1"),
    ("evil.test\n.example.com", "example.com"),  # urllib matches this suffix too
    # IP literals, compared as text by urllib; netwire agrees on these.
    ("127.0.0.1", "127.0.0.1"),
    ("127.0.0.1:5000", "127.0.0.1"),
    ("127.0.0.2", "127.0.0.1"),
    ("10.0.0.1", "0.0.1"),
    ("[::1]", "[::1]"),
    ("[::1]:8080", "[::1]:8080"),
    ("[::1]:9090", "[::1]:8080"),
    ("[::1]:8080", "[::1]"),
    ("host.test", "10.0.0.0/8"),
]

# netwire's additions: IP addresses compared as addresses, CIDR blocks. urllib says no to these.
_NETWIRE_ADDITIONS = [
    ("[::1]", "::1"),
    ("[::1]:8080", "::1"),
    ("[0:0::1]", "::1"),
    ("10.1.2.3", "10.0.0.0/8"),
    ("192.168.1.77:8080", "192.168.1.0/24"),
    ("[fd00::5]", "fd00::/8"),
    ("[fd00::5]:443", "fd00::/8"),
]


@pytest.mark.parametrize(("host", "no_proxy"), _SAME_AS_URLLIB)
def test_host_bypasses_matches_urllib(host: str, no_proxy: str) -> None:
    import urllib.request

    expected = urllib.request.proxy_bypass_environment(host, {"no": no_proxy})
    assert host_bypasses(host, no_proxy) is expected


@pytest.mark.parametrize(("host", "no_proxy"), _NETWIRE_ADDITIONS)
def test_host_bypasses_ip_additions(host: str, no_proxy: str) -> None:
    import urllib.request

    assert urllib.request.proxy_bypass_environment(host, {"no": no_proxy}) is False
    assert host_bypasses(host, no_proxy) is True
    # The same through a URL (the clients' path).
    assert should_bypass(URL(f"http://{host}/"), no_proxy) is True


@pytest.mark.parametrize(("host", "no_proxy"), [(h, n) for h, n in _SAME_AS_URLLIB if h.isprintable() and " " not in h])
def test_should_bypass_matches_urllib(host: str, no_proxy: str) -> None:
    # Hosts a URL can carry, in the form it keeps them (lower case; default ports dropped).
    import urllib.request

    url = URL(f"http://{host}/")
    expected = urllib.request.proxy_bypass_environment(url.host, {"no": no_proxy})
    assert should_bypass(url, no_proxy) is expected
