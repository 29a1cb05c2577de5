"""netwire.parse against this interpreter's urllib.parse: the same results on the same inputs.

The allowed differences are two security fixes of later CPython releases (see netwire.parse's
docstring): CVE-2025-0938, for a netloc holding brackets netwire raises ValueError exactly when the
fixed rule says so; gh-67693, urlunsplit() keeps an empty authority before a "//" path. On an
interpreter without the gh-67693 fix (3.11 before 3.11.10, 3.12 before 3.12.4) urllib's
urlunsplit is replaced, for this module's tests, by the fixed rule (``fixed_urlunsplit``), which
urljoin() and geturl() then use too; test_gh67693_* show the raw difference.
"""

from __future__ import annotations

import ipaddress
import random
import re
import sys
import urllib.parse as U
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netwire.parse as N

RAW_URLUNSPLIT = U.urlunsplit  # the interpreter's own, before the fixture below
URLLIB_HAS_GH67693 = RAW_URLUNSPLIT(("", "", "//p", "", "")) == "////p"


def fixed_urlunsplit(components: Any) -> Any:
    """urlunsplit() as the CPython releases with the gh-67693 fix define it (the test's oracle)."""
    scheme, netloc, url, query, fragment, coerce = U._coerce_args(*components)  # type: ignore[attr-defined]
    if netloc:
        url = "//" + netloc + (url if not url or url[:1] == "/" else "/" + url)
    elif url[:2] == "//" or (scheme and scheme in U.uses_netloc and (not url or url[:1] == "/")):
        url = "//" + url
    url = (scheme + ":" if scheme else "") + url
    url += ("?" + query if query else "") + ("#" + fragment if fragment else "")
    return coerce(url)


@pytest.fixture(autouse=True, scope="module")
def _urllib_with_gh67693_fix() -> Any:
    if URLLIB_HAS_GH67693:
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(U, "urlunsplit", fixed_urlunsplit)
        yield

# ---- a deterministic corpus of real-world-shaped URLs, relative references and query strings

SCHEMES = ["http", "https", "HTTP", "ftp", "file", "ws", "wss", "mailto", "git+ssh", "svn", "data", "tel", "urn",
           "javascript", "sip", "news", "custom-app", "s3", "blob"]
HOSTS = ["example.com", "www.Example.COM", "127.0.0.1", "[::1]", "[2001:db8::7]", "[fe80::1%25eth0]", "localhost",
         "xn--bcher-kva.de", "bücher.de", "sub.domain.co.uk", "10.0.0.1", "0x7f.1", "a", "", "[v1.fe]", "[::ffff:1.2.3.4]",
         "host_name", "UPPER.case", "münchen.de"]
USERINFO = ["", "user@", "user:pass@", ":@", "us%40er:p%3Ass@", "a:b:c@", "@", "user:@"]
PORTS = ["", ":80", ":443", ":8080", ":", ":0", ":65535", ":65536", ":abc", ":-1", ": 80"]
PATHS = ["", "/", "/index.html", "/a/b/c", "/a/./b/../c", "/%7Euser/", "/path with space", "/;params",
         "/a;b/c;d", "/ü/ñ", "//double", "/a//b", "/..", "/.", "/a/b/", "/C:/x", "/search", "/%2e%2E/x"]
QUERIES = ["", "?", "?q=1", "?a=1&b=2", "?a=1;b=2", "?x=%20y+z", "?utf=%C3%BC", "?empty=&=v&k", "?a[]=1&a[]=2",
           "?q=a%zz", "?%", "?+=+", "?a=b=c", "?&&", "?q=hello world"]
FRAGMENTS = ["", "#", "#top", "#a?b", "#%20x", "#frag#ment", "#ü"]
RELATIVE = ["g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x", "g;x?y#s", "", ".", "./",
            "..", "../", "../g", "../..", "../../", "../../g", "../../../g", "/./g", "/../g", "g.", ".g", "g..", "..g",
            "./../g", "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y", "http:g", "https://other.org/x",
            "mailto:x@y", "a/b/c/../../d", "  /lead", "\t/tab", "%2e%2e/x", "//[::1]/p", "?#", "file:///etc/passwd"]
QS = ["", "a=1", "a=1&b=2", "a=1&a=2", "a", "a=", "=b", "&", "a=1&&b=2", "a+b=c+d", "a%20b=c%2Bd", "k=%C3%BC",
      "k=%FF", "k=%zz", "a=1;b=2", "x=%e2%82%ac", "a=b=c", "%=%", "+", "a==", "q=1&q=2&q=3", "é=ü", "a=%2", "a=%"]


def urls(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        scheme = rng.choice(SCHEMES)
        if rng.random() < 0.85:
            text = f"{scheme}://{rng.choice(USERINFO)}{rng.choice(HOSTS)}{rng.choice(PORTS)}"
        else:
            text = f"{scheme}:"
        text += rng.choice(PATHS) + rng.choice(QUERIES) + rng.choice(FRAGMENTS)
        r = rng.random()
        if r < 0.03:
            text = " \x00" + text
        elif r < 0.06:
            text = text[:5] + "\t" + text[5:] + "\n"
        out.append(text)
    return out


def relatives(n: int, seed: int = 2) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(RELATIVE) + (rng.choice(QUERIES) if rng.random() < 0.2 else "") for _ in range(n)]


SETTINGS = settings(max_examples=400, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:  # the kind of failure must match too
        return ("raise", type(exc).__name__)
    return ("ok", type(result).__name__, result)


def fixed_release_rejects(netloc: str) -> bool:
    """The bracket rule of the CPython releases that fixed CVE-2024-11168 and CVE-2025-0938."""
    if ("[" in netloc) != ("]" in netloc):
        return True
    if "[" not in netloc:
        return False
    hostinfo = netloc.rpartition("@")[2]
    before, bracket, inside = hostinfo.partition("[")
    if bracket:
        if before:
            return True
        host, _, after = inside.partition("]")
        if after and not after.startswith(":"):
            return True
    else:
        host = hostinfo.partition(":")[0]
    if host.startswith("v"):
        return re.fullmatch(r"v[a-fA-F0-9]+\..+", host, re.DOTALL) is None
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv4Address)
    except ValueError:
        return True


def raw_netloc(url: str) -> str | None:
    """The netloc urlsplit would cut out (without validating it), or None."""
    text = url.lstrip("".join(map(chr, range(0x21)))).replace("\t", "").replace("\r", "").replace("\n", "")
    m = re.match(r"[A-Za-z][A-Za-z0-9+\-.]*:", text)
    if m:
        text = text[m.end():]
    if not text.startswith("//"):
        return None
    return re.split(r"[/?#]", text[2:], maxsplit=1)[0]


def check_split(url: Any, scheme: Any = "", allow_fragments: bool = True) -> None:
    for name in ("urlsplit", "urlparse"):
        ours = outcome(getattr(N, name), url, scheme, allow_fragments)
        theirs = outcome(getattr(U, name), url, scheme, allow_fragments)
        text = url.decode("ascii", "replace") if isinstance(url, (bytes, bytearray)) else url
        netloc = raw_netloc(text)
        if ours != theirs:
            # Only the documented security difference may separate us.
            assert netloc is not None and ("[" in netloc or "]" in netloc), (url, ours, theirs)
            assert (ours[0] == "raise") == fixed_release_rejects(netloc), (url, ours, theirs)
            if ours[0] == "raise":
                assert ours[1] == "ValueError"
            continue
        if ours[0] != "ok":
            continue
        mine, ref = ours[2], theirs[2]
        assert repr(mine) == repr(ref)
        for attr in ("username", "password", "hostname", "port"):
            assert outcome(getattr, mine, attr) == outcome(getattr, ref, attr), (url, attr)
        assert outcome(mine.geturl) == outcome(ref.geturl)
        assert outcome(N.urlunsplit if name == "urlsplit" else N.urlunparse, tuple(mine)) == outcome(
            U.urlunsplit if name == "urlsplit" else U.urlunparse, tuple(ref))
        assert mine._replace(path=ref.path[:0]) == ref._replace(path=ref.path[:0])
        if isinstance(url, str):
            assert outcome(mine.encode, "utf-8") == outcome(ref.encode, "utf-8")
        else:
            assert outcome(mine.decode, "latin-1") == outcome(ref.decode, "latin-1")
    ours, theirs = outcome(N.urldefrag, url), outcome(U.urldefrag, url)
    if ours != theirs:
        assert netloc is not None and ("[" in netloc or "]" in netloc)
        assert (ours[0] == "raise") == fixed_release_rejects(netloc)


def check_join(base: Any, rel: Any, allow_fragments: bool = True) -> None:
    ours = outcome(N.urljoin, base, rel, allow_fragments)
    theirs = outcome(U.urljoin, base, rel, allow_fragments)
    if ours != theirs:
        netlocs = [raw_netloc(x.decode("latin-1") if isinstance(x, bytes) else x) for x in (base, rel)]
        assert any(n is not None and ("[" in n or "]" in n) for n in netlocs), (base, rel, ours, theirs)
        assert ours[0] == "raise" or theirs[0] == "raise", (base, rel, ours, theirs)


CORPUS = urls(2500)
BASES = [*urls(60, seed=7), "http://a/b/c/d;p?q", "https://example.com/dir/file.html?x=1#top", "file:///tmp/a/b"]
RELS = relatives(400)


def test_corpus_split_counts() -> None:
    assert len(CORPUS) == 2500
    for url in CORPUS:
        check_split(url)
        check_split(url, "https", False)
    for url in CORPUS[:600]:
        if url.isascii():
            check_split(url.encode("ascii"))
            check_split(bytearray(url.encode("ascii")), b"http")


def test_corpus_join() -> None:
    for i, rel in enumerate(RELS):
        base = BASES[i % len(BASES)]
        check_join(base, rel)
        check_join(base, rel, False)
        if base.isascii() and rel.isascii():
            check_join(base.encode(), rel.encode())
    for url in CORPUS[:500]:
        check_join("http://a/b/c/d;p?q", url)


URL_ALPHABET = st.sampled_from([*"aZ09:/?#[]@!$&'()*+,;=%-._~ \t\n\x00\x7féü\u3002\uff03", "//", "://", "%2e", "..", "[::1]", "http"])
url_text = st.lists(URL_ALPHABET, max_size=30).map("".join)
structured = st.builds(
    lambda s, u, h, p, path, q, f: f"{s}://{u}{h}{p}{path}{q}{f}",
    st.sampled_from(["http", "HTTPS", "ftp", "x-y", "", "1a"]),
    st.sampled_from(["", "u@", "u:p@", "[x]@"]),
    st.sampled_from(["h", "H.example", "[::1]", "[::1]x", "x[::1]", "[v7.x]", "[1.2.3.4]", "[", "]", "é.com", "\u2102.com", "a\uff03b"]),
    st.sampled_from(["", ":1", ":99999", ":x", ":"]),
    url_text, st.sampled_from(["", "?a=b", "?#"]), st.sampled_from(["", "#f", "#"]),
)


@SETTINGS
@given(st.one_of(url_text, structured), st.sampled_from(["", "http", "x"]), st.booleans())
def test_hypothesis_split(url: str, scheme: str, allow_fragments: bool) -> None:
    check_split(url, scheme, allow_fragments)
    if url.isascii():
        check_split(url.encode("ascii"), scheme.encode("ascii"), allow_fragments)


@SETTINGS
@given(st.one_of(url_text, structured), st.one_of(url_text, st.sampled_from(RELS)))
def test_hypothesis_join(base: str, rel: str) -> None:
    check_join(base, rel)


@SETTINGS
@given(st.text(max_size=20), st.sampled_from(["", "/", ":/?", "é", b"~ "]), st.sampled_from([None, "latin-1", "ascii"]),
       st.sampled_from([None, "strict", "replace", "ignore"]))
def test_hypothesis_quote(text: str, safe: Any, encoding: Any, errors: Any) -> None:
    for fn in ("quote", "quote_plus"):
        assert outcome(getattr(N, fn), text, safe, encoding, errors) == outcome(getattr(U, fn), text, safe, encoding, errors)
    data = text.encode("utf-8", "surrogatepass")
    assert outcome(N.quote_from_bytes, data, safe) == outcome(U.quote_from_bytes, data, safe)
    assert outcome(N.quote, data, safe) == outcome(U.quote, data, safe)
    assert outcome(N.quote_plus, data, safe) == outcome(U.quote_plus, data, safe)


escaped = st.lists(st.sampled_from(["%", "%2", "%20", "%C3%BC", "%c3", "%FF", "%zz", "+", "a", "é", "%E2%82", "%AC", " ", "\x00"]),
                   max_size=12).map("".join)


@SETTINGS
@given(st.one_of(escaped, st.text(max_size=15)), st.sampled_from(["utf-8", "latin-1", "ascii", "utf-16"]),
       st.sampled_from(["replace", "strict", "ignore"]))
def test_hypothesis_unquote(text: str, encoding: str, errors: str) -> None:
    assert outcome(N.unquote, text, encoding, errors) == outcome(U.unquote, text, encoding, errors)
    assert outcome(N.unquote_plus, text, encoding, errors) == outcome(U.unquote_plus, text, encoding, errors)
    assert outcome(N.unquote_to_bytes, text) == outcome(U.unquote_to_bytes, text)
    data = text.encode("utf-8", "surrogatepass")
    assert outcome(N.unquote_to_bytes, data) == outcome(U.unquote_to_bytes, data)
    assert outcome(N.unquote, data, encoding, errors) == outcome(U.unquote, data, encoding, errors)


query_text = st.lists(st.sampled_from([*QS, "&", ";", "=", "+", "%41", "é"]), max_size=6).map("".join)


@SETTINGS
@given(query_text, st.booleans(), st.booleans(), st.sampled_from([None, 0, 1, 3, 10]), st.sampled_from(["&", ";", "=", "ab"]),
       st.sampled_from(["utf-8", "latin-1"]))
def test_hypothesis_parse_qs(qs: str, keep: bool, strict: bool, max_fields: Any, sep: str, encoding: str) -> None:
    kwargs = dict(keep_blank_values=keep, strict_parsing=strict, encoding=encoding, errors="replace",
                  max_num_fields=max_fields, separator=sep)
    assert outcome(N.parse_qsl, qs, **kwargs) == outcome(U.parse_qsl, qs, **kwargs)
    assert outcome(N.parse_qs, qs, **kwargs) == outcome(U.parse_qs, qs, **kwargs)
    if qs.isascii():
        kwargs["separator"] = sep.encode()
        assert outcome(N.parse_qsl, qs.encode(), **kwargs) == outcome(U.parse_qsl, qs.encode(), **kwargs)


pair_value = st.one_of(st.text(max_size=6), st.binary(max_size=4), st.integers(), st.lists(st.text(max_size=3), max_size=3),
                       st.tuples(st.integers()), st.none())


@SETTINGS
@given(st.lists(st.tuples(st.one_of(st.text(max_size=5), st.binary(max_size=3), st.integers()), pair_value), max_size=5),
       st.booleans(), st.sampled_from(["", "/", "é[]"]), st.sampled_from([None, "latin-1"]), st.sampled_from(["quote", "quote_plus"]),
       st.booleans())
def test_hypothesis_urlencode(pairs: list[Any], doseq: bool, safe: str, encoding: Any, via: str, as_dict: bool) -> None:
    query: Any = dict((k if not isinstance(k, list) else str(k), v) for k, v in pairs) if as_dict else pairs
    ours = outcome(N.urlencode, query, doseq, safe, encoding, "replace", getattr(N, via))
    theirs = outcome(U.urlencode, query, doseq, safe, encoding, "replace", getattr(U, via))
    assert ours == theirs


def test_result_types_and_lists() -> None:
    assert N.uses_relative == U.uses_relative
    if sys.version_info >= (3, 12):
        assert N.uses_netloc == U.uses_netloc and N.uses_netloc[-1] == "itms-services"
    else:
        # werkzeug (loaded by the pytest-httpbin plugin) appends "itms-services" to urllib's list.
        assert N.uses_netloc == [s for s in U.uses_netloc if s != "itms-services"]
    assert N.uses_params == U.uses_params
    assert N.uses_query == U.uses_query
    assert N.uses_fragment == U.uses_fragment
    assert N.non_hierarchical == U.non_hierarchical
    assert N.scheme_chars == U.scheme_chars
    r = N.urlsplit("http://u:p@[::1]:8080/p?q#f")
    assert type(r.encode()) is N.SplitResultBytes and r.encode().decode() == r
    assert r._replace(netloc="x").geturl() == "http://x/p?q#f"
    assert N.urldefrag(b"http://a/b#c") == (b"http://a/b", b"c") and type(N.urldefrag(b"a#b")) is N.DefragResultBytes
    assert N.urldefrag("a#b").geturl() == "a#b" and N.urldefrag("a").encode() == (b"a", b"")
    p = N.urlparse("http://h/p;x?q")
    assert type(p) is N.ParseResult and p.params == "x" and p.encode().geturl() == b"http://h/p;x?q"
    with pytest.raises(ValueError):
        N.urlsplit("http://h:99999").port  # noqa: B018
    with pytest.raises(TypeError):
        N.urljoin("http://a", b"b")
    assert N.unwrap("<URL:http://a/>") == U.unwrap("<URL:http://a/>")


@pytest.mark.parametrize(
    "url",
    ["http://[::1]x/", "http://x[::1]/", "http://[::1]a:80/", "http://u@x[::1]:8/", "http://[::1]:80/", "http://[v1.x]/"],
)
def test_security_difference(url: str) -> None:
    """CVE-2025-0938: data around a bracketed host is refused (3.11.7 accepted some of these)."""
    netloc = raw_netloc(url)
    assert netloc is not None
    if fixed_release_rejects(netloc):
        with pytest.raises(ValueError, match=r"Invalid IPv6 URL|invalid|appear"):
            N.urlsplit(url)
    else:
        assert N.urlsplit(url) == U.urlsplit(url)


# ---- gh-67693, and the results issue 13 found differing on CPython 3.13.0


def test_gh67693_fix_on_every_version() -> None:
    """A "//" path without a netloc is not turned into a host, whatever the interpreter."""
    assert N.urlunsplit(("", "", "//evil.example/x", "", "")) == "////evil.example/x"
    assert N.urlsplit(N.urlunsplit(("http", "", "//evil.example/x", "", ""))).netloc == ""
    assert N.urlunparse(("file", "", "//srv/share", "", "", "")) == "file:////srv/share"
    assert N.urlunsplit(N.urlsplit("a", scheme="http")) == "http:a"
    assert N.urlunsplit(("http", "", "", "q", "")) == "http://?q"
    assert N.urlunsplit((b"http", b"", b"/p", b"", b"")) == b"http:///p"
    assert N.urljoin("ftp:/path with space?empty=&=v&k#", "./../g") == "ftp:g"
    assert N.urljoin("file:", "////unc/as/path") == "file:////unc/as/path"


def test_gh67693_difference_is_only_where_urllib_lacks_the_fix() -> None:
    raw = RAW_URLUNSPLIT
    cases = [("", "", "//evil.example/x", "", ""), ("http", "", "a", "", ""), ("http", "", "/a", "", ""),
             ("ftp", "", "g", "", ""), ("", "h", "p", "", ""), ("mailto", "", "a@b", "", "")]
    for parts in cases:
        if URLLIB_HAS_GH67693:
            assert N.urlunsplit(parts) == raw(parts)
        else:
            assert N.urlunsplit(parts) == fixed_urlunsplit(parts)
    if not URLLIB_HAS_GH67693:
        assert RAW_URLUNSPLIT(("", "", "//evil.example/x", "", "")) == "//evil.example/x"  # the bug
    if sys.version_info >= (3, 13):
        assert URLLIB_HAS_GH67693


def test_parse_qsl_bytes_follow_the_interpreter() -> None:
    """3.13 decodes a bytes query to raw bytes; 3.11 and 3.12 read it as ASCII text."""
    if sys.version_info >= (3, 13):
        assert N.parse_qsl(b"k=%C3%BC", separator=b"&") == [(b"k", b"\xc3\xbc")]
        assert N.parse_qsl(b"k=\xff+x") == [(b"k", b"\xff x")]
        assert N.parse_qs(bytearray(b"a=1&a=%00")) == {b"a": [b"1", b"\x00"]}
        with pytest.raises(TypeError):
            N.parse_qsl(5)
        with pytest.raises(ValueError, match="Separator"):
            N.parse_qsl("a=1", separator=bytearray(b"&"))
    else:
        with pytest.raises(UnicodeEncodeError):
            N.parse_qsl(b"k=%C3%BC", separator=b"&")
        with pytest.raises(UnicodeDecodeError):
            N.parse_qsl(b"k=\xff")
        assert N.parse_qsl("a=1", separator=bytearray(b"&")) == [("a", "1")]
    for args in [(b"k=%C3%BC",), (b"k=\xff",), (b"",), (b"a=1;b=2", False, False, "utf-8", "replace", None, ";"),
                 ("a=1&b", True), (b"a&b=", True, False, "utf-8", "replace", 2), (bytearray(b"x=%41"),)]:
        assert outcome(N.parse_qsl, *args) == outcome(U.parse_qsl, *args), args


def test_unquote_to_bytes_of_a_bytearray_follows_the_interpreter() -> None:
    data = bytearray(b"abc")
    ours, theirs = N.unquote_to_bytes(data), U.unquote_to_bytes(data)
    assert type(ours) is type(theirs) and ours == theirs
    assert type(ours) is (bytes if sys.version_info >= (3, 12) else bytearray)
