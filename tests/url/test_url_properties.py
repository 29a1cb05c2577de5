"""Properties of netwire.url.URL beyond the WPT tables: the shortcuts agree with the state machine
on generated input, the client's extras, immutability, URLSearchParams."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netwire.errors import InvalidURL
from netwire.url import URL, URLSearchParams
from netwire.url._url import _fast_parse, _medium_join, _medium_parse, _parse, _plain

SETTINGS = settings(max_examples=1000, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

PIECES = ["a", "Z", "0", "9", ".", "..", "/", "\\", ":", "@", "?", "#", "%", "%2e", "%41", "[", "]", "::1", " ", "\t",
          "\u00e9", "\ud800", "\u00df", "xn--", "-", "_", "~", "'", '"', "<", "^", "`", "{", "|", "0x", "1.2.3.4", "\x00",
          "=", "&", "+", "\u3002", "C:", "localhost", "255", "4294967296", "\u200d", "\u0661"]
tail = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)
prefix = st.sampled_from(["http://", "HTTPS://", "ws://", "ftp://", "file://", "http:", "http:/", "sc://", "sc:", "", "//",
                          "/", "?", "#", "http://u:p@", "https://[::1]", "http://1.2.3.4:8080", "mailto:", " http://"])
url_text = st.builds(lambda p, t: p + t, prefix, tail)
BASES = ["http://example.org/foo/bar", "https://u:p@h.example:8443/a/b/c?q#f", "http://h/", "file:///C:/x/y",
         "sc://host/path", "about:blank", "ftp://f.example/dir/"]


def outcome(fn: Any, *args: Any) -> str | None:
    try:
        result = fn(*args)
    except InvalidURL:
        return "<invalid>"
    return None if result is None else str(result)


@SETTINGS
@given(url_text)
def test_shortcuts_agree_with_state_machine(text: str) -> None:
    expected = outcome(_parse, text, None)
    assert outcome(URL, text) == expected
    fast = outcome(_fast_parse, text)
    assert fast is None or fast == expected
    if _plain(text):
        medium = outcome(_medium_parse, text)
        assert medium is None or medium == expected


@SETTINGS
@given(url_text, st.sampled_from(BASES))
def test_join_agrees_with_state_machine(text: str, base_text: str) -> None:
    base = URL(base_text)
    expected = outcome(_parse, text, base)
    assert outcome(URL, text, base) == expected
    assert outcome(base.join, text) == expected
    if _plain(text):
        medium = outcome(_medium_join, base, text)
        assert medium is None or medium == expected


@settings(SETTINGS, max_examples=300)
@given(url_text)
def test_serialisation_is_stable(text: str) -> None:
    try:
        url = URL(text, "http://example.org/foo/bar")
    except InvalidURL:
        return
    again = URL(url.href)
    assert again == url and hash(again) == hash(url)


def test_client_extras() -> None:
    url = URL("https://user:pw@Example.COM:8443/a/b?x=1#frag")
    assert url.scheme == "https" and url.protocol == "https:"
    assert url.effective_port == 8443 and url.port == "8443"
    assert url.request_target == "/a/b?x=1"
    assert url.host == "example.com:8443" and url.hostname == "example.com"
    assert url.origin == "https://example.com:8443"
    assert url.origin_tuple == ("https", "example.com", 8443)
    assert url.without_fragment().href == "https://user:pw@example.com:8443/a/b?x=1"
    v6 = URL("http://[::1]:8080")
    assert v6.hostname == "[::1]" and v6.host_for_socket == "::1" and v6.request_target == "/"
    assert v6.origin_tuple == ("http", "::1", 8080)
    assert URL("http://h").effective_port == 80 and URL("wss://h").effective_port == 443
    assert URL("ftp://h").effective_port == 21 and URL("ws://h:80").port == ""
    assert URL("sc://h/p").effective_port is None
    assert URL("http://h/p?").request_target == "/p?"


def test_immutable_hashable_picklable() -> None:
    url = URL("http://a/b")
    with pytest.raises(AttributeError):
        url.href = "http://x/"  # type: ignore[misc]
    assert {url: 1}[URL("HTTP://A/b")] == 1
    assert pickle.loads(pickle.dumps(url)) == url
    assert repr(url) == "URL('http://a/b')" and str(url) == "http://a/b"
    assert URL(url) is url and url != "http://a/b"


def test_replace_and_join() -> None:
    url = URL("http://example.com/a/b?x=1#f")
    assert url.replace(scheme="https", port=8443).href == "https://example.com:8443/a/b?x=1#f"
    assert url.replace(path="/c d", query=None, fragment=None).href == "http://example.com/c%20d"
    assert url.replace(port="x").href == url.href  # a refused value leaves the component
    assert url.replace(href="http://other/").href == "http://other/"
    with pytest.raises(InvalidURL):
        url.replace(href="nope")
    with pytest.raises(TypeError):
        url.replace(colour="red")
    assert url.join("../c?y#z").href == "http://example.com/c?y#z"
    assert url.join("//other.org").href == "http://other.org/"


def test_invalid_says_why() -> None:
    with pytest.raises(InvalidURL, match="out of range"):
        URL("http://h:70000/")
    with pytest.raises(ValueError, match="no base URL"):
        URL("/relative")
    with pytest.raises(InvalidURL, match="IPv6"):
        URL("http://[::1/")
    with pytest.raises(InvalidURL, match="international domain"):
        URL("http://\u0378.net/")
    with pytest.raises(TypeError):
        URL(b"http://a/")  # type: ignore[arg-type]


def test_search_params() -> None:
    url = URL("https://h/p?b=2&a=1&a=3&c=%20x+y#f")
    params = url.search_params
    assert params.get("a") == "1" and params.get_all("a") == ["1", "3"] and params.get("zz") is None
    assert params.get("c") == " x y" and params.has("b") and params.has("a", "3") and not params.has("a", "9")
    params.append("d", "é&=")
    params.set("a", "0")
    params.delete("b")
    params.sort()
    assert str(params) == "a=0&c=+x+y&d=%C3%A9%26%3D"
    new = url.with_search_params(params)
    assert new.href == "https://h/p?a=0&c=+x+y&d=%C3%A9%26%3D#f"
    assert url.search == "?b=2&a=1&a=3&c=%20x+y"  # the original is untouched
    assert url.replace(search_params={"k": "v"}).search == "?k=v"
    assert url.with_search_params(URLSearchParams()).href == "https://h/p#f"
    assert len(params) == 3 and params.size == 3 and "d" in params and next(iter(params)) == ("a", "0")
    assert URLSearchParams("?x=1") == URLSearchParams([("x", "1")])
    sorted_params = URLSearchParams([("\U0001f600", "1"), ("\ufb01", "2")])
    sorted_params.sort()  # UTF-16 code units: the surrogate pair (0xD83D...) sorts before U+FB01
    assert sorted_params.keys() == ["\U0001f600", "\ufb01"]


host_text = st.lists(st.sampled_from(["1", "2", "25", "255", "256", "0", "00", "01", "0x1", "a", "A", "-", "_", ".", "..", "9a"]),
                     min_size=1, max_size=8).map("".join)


@SETTINGS
@given(st.sampled_from(["http://", "HTTP://", "wss://", "ftp://"]), host_text,
       st.sampled_from(["", ":80", ":8080", ":08", ":", "/x", "/.", "?q", "#f", ":443/p", ":99999"]))
def test_fast_path_hosts_and_ports(prefix: str, host: str, rest: str) -> None:
    """The fast path's own host and port rules (IPv4 or domain, default and odd ports)."""
    text = prefix + host + rest
    fast = _fast_parse(text)
    if fast is not None:
        assert fast.href == outcome(_parse, text, None)


ipv6_text = st.lists(st.sampled_from(["::", ":", "0", "1", "ffff", "FFFF", "1.2.3.4", "256", ".", "0:0", "12345", "a"]),
                     max_size=9).map(lambda parts: "[" + "".join(parts) + "]")


@SETTINGS
@given(st.sampled_from(["http://", "HTTPS://", "ws://"]), ipv6_text, st.sampled_from(["", ":80", ":8080", "/p", "?q"]))
def test_fast_path_ipv6_hosts(prefix: str, host: str, rest: str) -> None:
    text = prefix + host + rest
    assert outcome(URL, text) == outcome(_parse, text, None)
    fast = _fast_parse(text)
    if fast is not None:
        assert fast.href == outcome(_parse, text, None)
