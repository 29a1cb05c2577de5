"""urllib.parse's deprecated helpers in netwire.parse: same results, same DeprecationWarning text.

Each case runs through both modules on the running interpreter and compares the outcome, the
warning's category and text, and that the warning points at the caller (this file).
"""

from __future__ import annotations

import sys
import urllib.parse as U
import warnings
from typing import Any

import pytest

import netwire.parse as N

CASES: dict[str, list[tuple[Any, ...]]] = {
    "splittype": [("http://x",), ("mailto:a",), ("/a:b",), (":x",), ("HTTP:x",), ("a/b:c",), ("",), ("x",), ("a\n:b",)],
    "splithost": [("//h:1/p",), ("//h?q",), ("//h#f",), ("/p",), ("//",), ("//h",), ("///x",), ("//h\n/x",)],
    "splituser": [("u:p@h",), ("h",), ("a@b@c",), ("@h",)],
    "splitpasswd": [("u:p",), ("u",), ("u:p:q",), (":",)],
    "splitport": [("h:80",), ("h",), ("h:",), ("h:x",), ("[::1]:8",), ("a:1:b",), ("h:\u0663",), ("h:1:",), (":1",),
                  ("h:\n1",), ("a\n:1",)],
    "splitnport": [("h:80",), ("h",), ("h:",), ("h:x",), ("h:\u0663",), (":",), ("a:b:1",), ("h", 8), ("h:", 8), ("h:x", 8)],
    "splitquery": [("/p?q",), ("/p",), ("/p?a?b",)],
    "splittag": [("/p#t",), ("/p",), ("a#b#c",)],
    "splitattr": [("/p;a=1;b",), ("/p",), ("",)],
    "splitvalue": [("a=b",), ("a",), ("a=b=c",), ("=",)],
    "to_bytes": [("abc",), ("\u00e9",), (b"raw",)],
}


def run(module: Any, name: str, args: tuple[Any, ...]) -> tuple[Any, list[tuple[str, str, str]]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Any = ("ok", getattr(module, name)(*args))
        except Exception as exc:
            result = ("raise", type(exc).__name__, str(exc))
    return result, [(w.category.__name__, str(w.message), w.filename) for w in caught]


@pytest.mark.parametrize("name", sorted(CASES))
def test_deprecated_helper_matches_urllib(name: str) -> None:
    for args in CASES[name]:
        ours, our_warnings = run(N, name, args)
        theirs, their_warnings = run(U, name, args)
        assert ours == theirs, (name, args)
        assert [w[:2] for w in our_warnings] == [w[:2] for w in their_warnings], (name, args)
        assert len(our_warnings) == 1 and our_warnings[0][0] == "DeprecationWarning"
        assert our_warnings[0][2] == __file__, "the warning must point at the caller"


def test_crawler_tutorial_idiom() -> None:
    """What old crawler code does with these helpers, through netwire.parse."""
    with pytest.warns(DeprecationWarning, match=r"splittype\(\) is deprecated as of 3.8"):
        scheme, rest = N.splittype("http://user:pw@Example.com:8080/a/b?x=1#top")
    with pytest.warns(DeprecationWarning):
        host, path = N.splithost(rest)
    with pytest.warns(DeprecationWarning):
        user, hostport = N.splituser(host or "")
    with pytest.warns(DeprecationWarning):
        hostname, port = N.splitport(hostport)
    with pytest.warns(DeprecationWarning):
        selector, query = N.splitquery(path)
    assert (scheme, user, hostname, port, selector, query) == ("http", "user:pw", "Example.com", "8080", "/a/b", "x=1#top")


def test_result_base_is_the_base_of_the_str_results() -> None:
    r = N.urlsplit("http://u@h:1/p")
    assert isinstance(r, N.ResultBase) and isinstance(N.urlparse("http://h/"), N.ResultBase)
    assert not isinstance(N.urlsplit(b"http://h/"), N.ResultBase)
    assert {"username", "password", "hostname", "port", "encode"} <= set(dir(N.ResultBase))
    assert issubclass(U.SplitResult, U.ResultBase)  # the shape copied


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="Quoter was removed in Python 3.14")
def test_quoter_deprecated_until_314() -> None:
    with pytest.warns(DeprecationWarning) as ours:
        quoter_cls = N.Quoter
    with pytest.warns(DeprecationWarning) as theirs:
        urllib_cls = U.Quoter
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours[0].filename == __file__
    q, ref = quoter_cls(b"/"), urllib_cls(b"/")
    assert [q[b] for b in range(256)] == [ref[b] for b in range(256)]
    assert repr(quoter_cls(b""))[:9] == "<Quoter {"


def test_quoter_follows_the_interpreter_on_removal() -> None:
    if sys.version_info >= (3, 14):
        with pytest.raises(AttributeError):
            N.Quoter  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        N.nope  # type: ignore[attr-defined]  # noqa: B018
