"""The basic URL parser: the URL Standard's state machine, one state per branch.

:func:`_basic_parse` is the standard's algorithm as one function, state by state, so that it can
be read beside the specification; it stays whole here. It works on a mutable record
(:class:`_Rec`), with a base record, and with the state overrides the URL setters use. Its
helpers (character classes, drive letters, path shortening) live in this module too, so the hot
loop finds them as module globals; the percent-encode sets and the host parser are imported by
name for the same reason (one dictionary lookup, never an attribute lookup on another module).
"""

from __future__ import annotations

import re
from typing import Final

from ._host import _Fail, _parse_host
from ._percent import (
    _C0_RE,
    _C0_T,
    _FRAGMENT_RE,
    _FRAGMENT_T,
    _PATH_RE,
    _PATH_T,
    _QUERY_RE,
    _QUERY_T,
    _SPECIAL_QUERY_RE,
    _SPECIAL_QUERY_T,
    _USERINFO_RE,
    _USERINFO_T,
    _encode,
    _usv,
)

#: The special schemes and their default ports (``file`` has none).
DEFAULT_PORTS: Final[dict[str, int | None]] = {
    "ftp": 21,
    "file": None,
    "http": 80,
    "https": 443,
    "ws": 80,
    "wss": 443,
}
SPECIAL_SCHEMES: Final[frozenset[str]] = frozenset(DEFAULT_PORTS)


# --------------------------------------------------------------------------------------------
# The basic URL parser


class _Rec:
    """A mutable URL record, what the state machine works on."""

    __slots__ = ("fragment", "host", "password", "path", "port", "query", "scheme", "username")

    def __init__(self) -> None:
        self.scheme = ""
        self.username = ""
        self.password = ""
        self.host: str | None = None
        self.port: int | None = None
        self.path: list[str] | str = []
        self.query: str | None = None
        self.fragment: str | None = None


_EOF: Final = "<EOF>"  # never equal to, nor contained in, a one-character string

# States
_S_SCHEME_START = 1
_S_SCHEME = 2
_S_NO_SCHEME = 3
_S_SPECIAL_RELATIVE_OR_AUTHORITY = 4
_S_PATH_OR_AUTHORITY = 5
_S_RELATIVE = 6
_S_RELATIVE_SLASH = 7
_S_SPECIAL_AUTHORITY_SLASHES = 8
_S_SPECIAL_AUTHORITY_IGNORE_SLASHES = 9
_S_AUTHORITY = 10
_S_HOST = 11
_S_HOSTNAME = 12
_S_PORT = 13
_S_FILE = 14
_S_FILE_SLASH = 15
_S_FILE_HOST = 16
_S_PATH_START = 17
_S_PATH = 18
_S_OPAQUE_PATH = 19
_S_QUERY = 20
_S_FRAGMENT = 21

_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_TAB_NL_RE = re.compile("[\t\n\r]")
_PATH_END_SPECIAL = re.compile(r"[/\\?#]")
_PATH_END = re.compile(r"[/?#]")
_QUERY_OR_FRAGMENT = re.compile(r"[?#]")
_SCHEME_RUN_RE = re.compile(r"[A-Za-z0-9+.\-]*")
_HOST_END_SPECIAL = re.compile(r"[:/\\?#\[]")
_HOST_END = re.compile(r"[:/?#\[]")
_SINGLE_DOT = frozenset((".", "%2e", "%2E"))
_DOUBLE_DOT = frozenset(("..", ".%2e", ".%2E", "%2e.", "%2E.", "%2e%2e", "%2E%2E", "%2e%2E", "%2E%2e"))


def _is_drive(s: str) -> bool:
    return len(s) == 2 and s[0] in _ALPHA and s[1] in ":|"


def _is_normalized_drive(s: str) -> bool:
    return len(s) == 2 and s[0] in _ALPHA and s[1] == ":"


def _starts_with_drive(s: str, p: int) -> bool:
    return (
        len(s) - p >= 2
        and s[p] in _ALPHA
        and s[p + 1] in ":|"
        and (len(s) - p == 2 or s[p + 2] in "/\\?#")
    )


def _shorten(url: _Rec) -> None:
    path = url.path
    assert isinstance(path, list)
    if url.scheme == "file" and len(path) == 1 and _is_normalized_drive(path[0]):
        return
    if path:
        path.pop()


def _basic_parse(
    inp: str,
    base: _Rec | None = None,
    url: _Rec | None = None,
    override: int = 0,
) -> _Rec:
    """The basic URL parser. Raises _Fail on failure; with an override, returns ``url``."""
    if url is None:
        url = _Rec()
        inp = inp.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f"
                        "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
    if "\t" in inp or "\n" in inp or "\r" in inp:
        inp = _TAB_NL_RE.sub("", inp)
    inp = _usv(inp)
    state = override or _S_SCHEME_START
    buf = ""
    brackets = False
    n = len(inp)
    p = 0
    special = url.scheme in SPECIAL_SCHEMES
    while True:
        c = inp[p] if p < n else _EOF
        if state == _S_SCHEME_START:
            if c in _ALPHA:
                buf += c.lower()
                state = _S_SCHEME
            elif not override:
                state = _S_NO_SCHEME
                p -= 1
            else:
                raise _Fail("a scheme must start with a letter")
        elif state == _S_SCHEME:
            end = _SCHEME_RUN_RE.match(inp, p).end()  # type: ignore[union-attr]  # '*' always matches
            if end > p:
                buf += inp[p:end].lower()
                p = end
                c = inp[p] if p < n else _EOF
            if c == ":":
                if override:
                    if special != (buf in SPECIAL_SCHEMES):
                        return url
                    if (url.username or url.password or url.port is not None) and buf == "file":
                        return url
                    if url.scheme == "file" and url.host == "":
                        return url
                url.scheme = buf
                special = buf in SPECIAL_SCHEMES
                if override:
                    if url.port is not None and url.port == DEFAULT_PORTS.get(buf):
                        url.port = None
                    return url
                buf = ""
                if url.scheme == "file":
                    state = _S_FILE
                elif special and base is not None and base.scheme == url.scheme:
                    state = _S_SPECIAL_RELATIVE_OR_AUTHORITY
                elif special:
                    state = _S_SPECIAL_AUTHORITY_SLASHES
                elif inp.startswith("/", p + 1):
                    state = _S_PATH_OR_AUTHORITY
                    p += 1
                else:
                    url.path = ""
                    state = _S_OPAQUE_PATH
            elif not override:
                buf = ""
                state = _S_NO_SCHEME
                p = -1
            else:
                raise _Fail("invalid character in scheme")
        elif state == _S_NO_SCHEME:
            if base is None:
                raise _Fail(f"{inp!r} is relative and there is no base URL")
            if isinstance(base.path, str):
                if c != "#":
                    raise _Fail(f"{inp!r} is relative and the base URL cannot be a base")
                url.scheme = base.scheme
                special = url.scheme in SPECIAL_SCHEMES
                url.path = base.path
                url.query = base.query
                url.fragment = ""
                state = _S_FRAGMENT
            elif base.scheme != "file":
                state = _S_RELATIVE
                p -= 1
            else:
                state = _S_FILE
                p -= 1
        elif state == _S_SPECIAL_RELATIVE_OR_AUTHORITY:
            if c == "/" and inp.startswith("/", p + 1):
                state = _S_SPECIAL_AUTHORITY_IGNORE_SLASHES
                p += 1
            else:
                state = _S_RELATIVE
                p -= 1
        elif state == _S_PATH_OR_AUTHORITY:
            if c == "/":
                state = _S_AUTHORITY
            else:
                state = _S_PATH
                p -= 1
        elif state == _S_RELATIVE:
            assert base is not None
            url.scheme = base.scheme
            special = url.scheme in SPECIAL_SCHEMES
            if c == "/" or (special and c == "\\"):
                state = _S_RELATIVE_SLASH
            else:
                url.username = base.username
                url.password = base.password
                url.host = base.host
                url.port = base.port
                url.path = list(base.path)
                url.query = base.query
                if c == "?":
                    url.query = ""
                    state = _S_QUERY
                elif c == "#":
                    url.fragment = ""
                    state = _S_FRAGMENT
                elif c != _EOF:
                    url.query = None
                    _shorten(url)
                    state = _S_PATH
                    p -= 1
        elif state == _S_RELATIVE_SLASH:
            if special and (c == "/" or c == "\\"):
                state = _S_SPECIAL_AUTHORITY_IGNORE_SLASHES
            elif c == "/":
                state = _S_AUTHORITY
            else:
                assert base is not None
                url.username = base.username
                url.password = base.password
                url.host = base.host
                url.port = base.port
                state = _S_PATH
                p -= 1
        elif state == _S_SPECIAL_AUTHORITY_SLASHES:
            if c == "/" and inp.startswith("/", p + 1):
                state = _S_SPECIAL_AUTHORITY_IGNORE_SLASHES
                p += 1
            else:
                state = _S_SPECIAL_AUTHORITY_IGNORE_SLASHES
                p -= 1
        elif state == _S_SPECIAL_AUTHORITY_IGNORE_SLASHES:
            if c != "/" and c != "\\":
                state = _S_AUTHORITY
                p -= 1
        elif state == _S_AUTHORITY:
            # Only ever entered with an empty buffer: take the whole authority at once. Every '@'
            # but the last belongs to the userinfo (as "%40"), the first ':' in it starts the
            # password: the same as the standard's character-by-character rules.
            m = (_PATH_END_SPECIAL if special else _PATH_END).search(inp, p)
            end = m.start() if m is not None else n
            at = inp.rfind("@", p, end)
            if at >= 0:
                user, _, pw = inp[p:at].partition(":")
                url.username = _encode(user, _USERINFO_T, _USERINFO_RE)
                url.password = _encode(pw, _USERINFO_T, _USERINFO_RE)
                if at + 1 == end:
                    raise _Fail("credentials without a host")
                p = at
            else:
                p -= 1
            state = _S_HOST
        elif state in (_S_HOST, _S_HOSTNAME):
            if not override and not brackets and c != _EOF:
                m = (_HOST_END_SPECIAL if special else _HOST_END).search(inp, p)
                end = m.start() if m is not None else n
                if end > p:
                    buf += inp[p:end]
                    p = end
                    c = inp[p] if p < n else _EOF
            if override and url.scheme == "file":
                p -= 1
                state = _S_FILE_HOST
            elif c == ":" and not brackets:
                if buf == "":
                    raise _Fail("empty host")
                if override == _S_HOSTNAME:
                    raise _Fail("a hostname cannot carry a port")
                url.host = _parse_host(buf, not special)
                buf = ""
                state = _S_PORT
            elif c == _EOF or c == "/" or c == "?" or c == "#" or (special and c == "\\"):
                p -= 1
                if special and buf == "":
                    raise _Fail("empty host")
                if override and buf == "" and (url.username or url.password or url.port is not None):
                    return url
                url.host = _parse_host(buf, not special)
                buf = ""
                state = _S_PATH_START
                if override:
                    return url
            else:
                if c == "[":
                    brackets = True
                elif c == "]":
                    brackets = False
                buf += c
        elif state == _S_PORT:
            if c in _DIGITS:
                buf += c
            elif c == _EOF or c == "/" or c == "?" or c == "#" or (special and c == "\\") or override:
                if buf:
                    port = int(buf)
                    if port > 65535:
                        raise _Fail(f"port {buf} is out of range")
                    url.port = None if DEFAULT_PORTS.get(url.scheme) == port else port
                    buf = ""
                    if override:
                        return url
                if override:
                    raise _Fail("invalid port")
                state = _S_PATH_START
                p -= 1
            else:
                raise _Fail(f"invalid character {c!r} in port")
        elif state == _S_FILE:
            url.scheme = "file"
            special = True
            url.host = ""
            if c == "/" or c == "\\":
                state = _S_FILE_SLASH
            elif base is not None and base.scheme == "file":
                url.host = base.host
                url.path = list(base.path)
                url.query = base.query
                if c == "?":
                    url.query = ""
                    state = _S_QUERY
                elif c == "#":
                    url.fragment = ""
                    state = _S_FRAGMENT
                elif c != _EOF:
                    url.query = None
                    if not _starts_with_drive(inp, p):
                        _shorten(url)
                    else:
                        url.path = []
                    state = _S_PATH
                    p -= 1
            else:
                state = _S_PATH
                p -= 1
        elif state == _S_FILE_SLASH:
            if c == "/" or c == "\\":
                state = _S_FILE_HOST
            else:
                if base is not None and base.scheme == "file":
                    url.host = base.host
                    if (
                        not _starts_with_drive(inp, p)
                        and isinstance(base.path, list)
                        and base.path
                        and _is_normalized_drive(base.path[0])
                    ):
                        assert isinstance(url.path, list)
                        url.path.append(base.path[0])
                state = _S_PATH
                p -= 1
        elif state == _S_FILE_HOST:
            if c == _EOF or c == "/" or c == "\\" or c == "?" or c == "#":
                p -= 1
                if not override and _is_drive(buf):
                    # The Windows drive letter quirk: buf is kept and becomes the first segment.
                    state = _S_PATH
                elif buf == "":
                    url.host = ""
                    if override:
                        return url
                    state = _S_PATH_START
                else:
                    host = _parse_host(buf, not special)
                    if host == "localhost":
                        host = ""
                    url.host = host
                    if override:
                        return url
                    buf = ""
                    state = _S_PATH_START
            else:
                buf += c
        elif state == _S_PATH_START:
            if special:
                state = _S_PATH
                if c != "/" and c != "\\":
                    p -= 1
            elif not override and c == "?":
                url.query = ""
                state = _S_QUERY
            elif not override and c == "#":
                url.fragment = ""
                state = _S_FRAGMENT
            elif c != _EOF:
                state = _S_PATH
                if c != "/":
                    p -= 1
            elif override and url.host is None:
                assert isinstance(url.path, list)
                url.path.append("")
        elif state == _S_PATH:
            if not override and c != _EOF:
                # Take the whole segment at once rather than one character per turn.
                m = (_PATH_END_SPECIAL if special else _PATH_END).search(inp, p)
                end = m.start() if m is not None else n
                if end > p:
                    buf += _encode(inp[p:end], _PATH_T, _PATH_RE)
                    p = end
                    c = inp[p] if p < n else _EOF
            if (
                c == _EOF
                or c == "/"
                or (special and c == "\\")
                or (not override and (c == "?" or c == "#"))
            ):
                slash = c == "/" or (special and c == "\\")
                path = url.path
                assert isinstance(path, list)
                if buf in _DOUBLE_DOT:
                    _shorten(url)
                    if not slash:
                        path.append("")
                elif buf in _SINGLE_DOT:
                    if not slash:
                        path.append("")
                else:
                    if url.scheme == "file" and not path and _is_drive(buf):
                        buf = buf[0] + ":"
                    path.append(buf)
                buf = ""
                if c == "?":
                    url.query = ""
                    state = _S_QUERY
                elif c == "#":
                    url.fragment = ""
                    state = _S_FRAGMENT
            else:
                buf += _encode(c, _PATH_T, _PATH_RE)
        elif state == _S_OPAQUE_PATH:
            m = _QUERY_OR_FRAGMENT.search(inp, p)
            end = m.start() if m is not None else n
            chunk = inp[p:end]
            trailing_space = end < n and chunk.endswith(" ")
            if trailing_space:
                chunk = chunk[:-1]
            assert isinstance(url.path, str)
            url.path += _encode(chunk, _C0_T, _C0_RE) + ("%20" if trailing_space else "")
            p = end
            c = inp[p] if p < n else _EOF
            if c == "?":
                url.query = ""
                state = _S_QUERY
            elif c == "#":
                url.fragment = ""
                state = _S_FRAGMENT
            else:
                break
        elif state == _S_QUERY:
            end = n if override else inp.find("#", p)
            if end < 0:
                end = n
            if special:
                url.query = (url.query or "") + _encode(inp[p:end], _SPECIAL_QUERY_T, _SPECIAL_QUERY_RE)
            else:
                url.query = (url.query or "") + _encode(inp[p:end], _QUERY_T, _QUERY_RE)
            p = end
            if p < n:
                url.fragment = ""
                state = _S_FRAGMENT
            else:
                break
        elif state == _S_FRAGMENT:
            url.fragment = (url.fragment or "") + _encode(inp[p:], _FRAGMENT_T, _FRAGMENT_RE)
            break
        if p >= n:
            break
        p += 1
    return url
