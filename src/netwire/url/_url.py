"""The URL type: parsing and serialising per the WHATWG URL Standard.

:class:`URL` is immutable and hashable (two URLs are equal when their ``href`` is). It implements
the standard's *basic URL parser* (every state, with a base URL and with the state overrides the
setters use), its host parser (domains through UTS #46, IPv4 in every accepted form, IPv6, opaque
hosts), its percent-encode sets and its serialiser. ``str(url)`` is ``url.href``.

Parsing ``http(s)://host[:port]/path?query`` is the client's hot path, so two shortcuts come before
the state machine: a plain-ASCII special URL that needs no rewriting beyond lower-casing is
recognised with one regular expression (the fast path); any other special URL with an authority,
and any reference against a special base, is cut into components by a second one and each
component is processed in bulk (the medium path). Whatever either declines goes through the full
state machine. All three give identical results: the tests check that on the web-platform-tests
data and on generated input.

:class:`URLSearchParams` is the standard's ``URLSearchParams`` as a standalone mutable list of
name/value pairs. ``URL.search_params`` hands out a fresh copy; a changed copy is put back with
``url.with_search_params(params)`` (or ``url.replace(search_params=params)``), which returns a new URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from ..errors import InvalidURL

__all__ = ["DEFAULT_PORTS", "SPECIAL_SCHEMES", "URL", "URLSearchParams"]

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
# Percent-encode sets (https://url.spec.whatwg.org/#percent-encoded-bytes). Each set is the
# ASCII bytes it adds to the C0 control set (bytes < 0x20 and > 0x7E are always encoded).

_FRAGMENT_SET = ' "<>`'
_QUERY_SET = ' "#<>'
_SPECIAL_QUERY_SET = _QUERY_SET + "'"
_PATH_SET = _QUERY_SET + "?^`{}"
_USERINFO_SET = _PATH_SET + "/:;=@[\\]|"
_COMPONENT_SET = _USERINFO_SET + "$%&+,"
_FORM_SET = _COMPONENT_SET + "!'()~"


_Escaper = Callable[["re.Match[str]"], str]


def _table(extra: str, space: str = "%20") -> tuple[_Escaper, re.Pattern[str]]:
    """For one set: a function escaping a matched run, and a regex matching runs to escape."""
    table = [chr(b) if 0x20 <= b < 0x7F and chr(b) not in extra else f"%{b:02X}" for b in range(256)]
    table[0x20] = space if " " in extra else " "

    def escape(m: re.Match[str]) -> str:
        return "".join([table[b] for b in m.group().encode("utf-8")])

    cls = "".join(re.escape(c) for c in extra)
    return escape, re.compile(f"(?:[^\\x20-\\x7e]|[{cls}])+" if cls else "[^\\x20-\\x7e]+")


_C0_T, _C0_RE = _table("")
_FRAGMENT_T, _FRAGMENT_RE = _table(_FRAGMENT_SET)
_QUERY_T, _QUERY_RE = _table(_QUERY_SET)
_SPECIAL_QUERY_T, _SPECIAL_QUERY_RE = _table(_SPECIAL_QUERY_SET)
_PATH_T, _PATH_RE = _table(_PATH_SET)
_USERINFO_T, _USERINFO_RE = _table(_USERINFO_SET)
_FORM_T, _FORM_RE = _table(_FORM_SET, space="+")


def _encode(s: str, escape: _Escaper, needs: re.Pattern[str]) -> str:
    """UTF-8 percent-encode ``s`` with one set (the text is already free of lone surrogates).

    Only the runs that need it are encoded: most components have none, or a few short ones.
    """
    if needs.search(s) is None:
        return s
    return needs.sub(escape, s)


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _usv(s: str) -> str:
    """Lone surrogates become U+FFFD, as a USVString conversion would do."""
    if s.isascii():
        return s
    return _SURROGATE_RE.sub("\ufffd", s)


_HEX = "0123456789abcdefABCDEF"
_PCT_RE = re.compile(b"%([0-9A-Fa-f]{2})")


def _percent_decode(data: bytes) -> bytes:
    if b"%" not in data:
        return data
    return _PCT_RE.sub(lambda m: bytes((int(m.group(1), 16),)), data)


# --------------------------------------------------------------------------------------------
# Hosts


class _Fail(Exception):
    """Internal: the parser returned failure; the message says why."""


_FORBIDDEN_HOST_RE = re.compile(r"[\x00\t\n\r #/:<>?@\[\\\]^|]")
_FORBIDDEN_DOMAIN_RE = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")


def _ipv4_number(part: str) -> int | None:
    if not part:
        return None
    radix = 10
    if part[:2] in ("0x", "0X"):
        radix, part = 16, part[2:]
    elif len(part) >= 2 and part[0] == "0":
        radix, part = 8, part[1:]
    if not part:
        return 0
    digits = "0123456789abcdefABCDEF" if radix == 16 else "01234567" if radix == 8 else "0123456789"
    for ch in part:
        if ch not in digits:
            return None
    return int(part, radix)


def _ends_in_number(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "":
        if len(parts) == 1:
            return False
        parts.pop()
    last = parts[-1]
    if last and last.isascii() and last.isdigit():
        return True
    return last[:2] in ("0x", "0X") and _ipv4_number(last) is not None


def _parse_ipv4(host: str) -> str:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        raise _Fail(f"IPv4 address {host!r} has more than four parts")
    numbers: list[int] = []
    for part in parts:
        n = _ipv4_number(part)
        if n is None:
            raise _Fail(f"IPv4 address {host!r} has a part that is not a number: {part!r}")
        numbers.append(n)
    for n in numbers[:-1]:
        if n > 255:
            raise _Fail(f"IPv4 address {host!r} has a part above 255")
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        raise _Fail(f"IPv4 address {host!r} is out of range")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n * 256 ** (3 - i)
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _parse_ipv6(text: str) -> str:
    """Parse the inside of ``[...]`` and return its canonical serialisation (no brackets)."""
    address = [0] * 8
    piece = 0
    compress: int | None = None
    p = 0
    n = len(text)

    def at(i: int) -> str:
        return text[i] if i < n else ""

    bad = f"invalid IPv6 address [{text}]"
    if at(0) == ":":
        if at(1) != ":":
            raise _Fail(bad)
        p = 2
        piece = 1
        compress = 1
    while p < n:
        if piece == 8:
            raise _Fail(bad + ": too many pieces")
        if text[p] == ":":
            if compress is not None:
                raise _Fail(bad + ": more than one '::'")
            p += 1
            piece += 1
            compress = piece
            continue
        value = length = 0
        while length < 4 and p < n and text[p] in _HEX:
            value = value * 16 + int(text[p], 16)
            p += 1
            length += 1
        c = at(p)
        if c == ".":
            if length == 0:
                raise _Fail(bad)
            p -= length
            if piece > 6:
                raise _Fail(bad + ": no room for an IPv4 part")
            seen = 0
            while p < n:
                v4: int | None = None
                if seen > 0:
                    if text[p] == "." and seen < 4:
                        p += 1
                    else:
                        raise _Fail(bad)
                if not at(p).isdigit() or not at(p).isascii():
                    raise _Fail(bad)
                while p < n and "0" <= text[p] <= "9":
                    d = ord(text[p]) - 48
                    if v4 is None:
                        v4 = d
                    elif v4 == 0:
                        raise _Fail(bad + ": leading zero in its IPv4 part")
                    else:
                        v4 = v4 * 10 + d
                    if v4 > 255:
                        raise _Fail(bad + ": IPv4 part above 255")
                    p += 1
                assert v4 is not None
                address[piece] = address[piece] * 0x100 + v4
                seen += 1
                if seen in (2, 4):
                    piece += 1
            if seen != 4:
                raise _Fail(bad + ": IPv4 part too short")
            break
        elif c == ":":
            p += 1
            if p >= n:
                raise _Fail(bad)
        elif c != "":
            raise _Fail(bad + f": unexpected {c!r}")
        address[piece] = value
        piece += 1
    if compress is not None:
        swaps = piece - compress
        piece = 7
        while piece != 0 and swaps > 0:
            j = compress + swaps - 1
            address[piece], address[j] = address[j], address[piece]
            piece -= 1
            swaps -= 1
    elif piece != 8:
        raise _Fail(bad + ": too few pieces")
    # Serialise: the first longest run (length > 1) of zero pieces becomes "::".
    best_start, best_len = -1, 1
    i = 0
    while i < 8:
        if address[i] == 0:
            j = i
            while j < 8 and address[j] == 0:
                j += 1
            if j - i > best_len:
                best_start, best_len = i, j - i
            i = j
        else:
            i += 1
    if best_start < 0:
        return ":".join(f"{x:x}" for x in address)
    head = ":".join(f"{x:x}" for x in address[:best_start])
    tail = ":".join(f"{x:x}" for x in address[best_start + best_len :])
    return f"{head}::{tail}"


def _domain_to_ascii(domain: str) -> str:
    if domain.isascii():
        # The standard's own shortcut: an ASCII domain is only lower-cased (no label checks).
        result = domain.lower()
    else:
        from ._idna import domain_to_ascii

        converted = domain_to_ascii(domain)
        if converted is None:
            raise _Fail(f"host {domain!r} is not a valid international domain name")
        result = converted
    if not result:
        raise _Fail("empty host")
    return result


_HOST_CACHE: dict[tuple[str, bool], str] = {}
_HOST_CACHE_MAX = 1024


def _parse_host(text: str, opaque: bool) -> str:
    """The host parser, with a small cache: a client meets the same few hosts again and again."""
    key = (text, opaque)
    host = _HOST_CACHE.get(key)
    if host is None:
        host = _parse_host_uncached(text, opaque)
        if len(_HOST_CACHE) >= _HOST_CACHE_MAX:
            _HOST_CACHE.clear()
        _HOST_CACHE[key] = host
    return host


def _parse_host_uncached(text: str, opaque: bool) -> str:
    """The host parser; returns the serialised host."""
    if text[:1] == "[":
        if text[-1:] != "]":
            raise _Fail(f"IPv6 host {text!r} lacks its closing ']'")
        return "[" + _parse_ipv6(text[1:-1]) + "]"
    if opaque:
        m = _FORBIDDEN_HOST_RE.search(text)
        if m is not None:
            raise _Fail(f"host {text!r} contains the forbidden character {m.group()!r}")
        return _encode(text, _C0_T, _C0_RE)
    if "%" in text:
        domain = _percent_decode(text.encode("utf-8")).decode("utf-8", "replace")
    else:
        domain = text
    ascii_domain = _domain_to_ascii(domain)
    m = _FORBIDDEN_DOMAIN_RE.search(ascii_domain)
    if m is not None:
        raise _Fail(f"host {ascii_domain!r} contains the forbidden character {m.group()!r}")
    if _ends_in_number(ascii_domain):
        return _parse_ipv4(ascii_domain)
    return ascii_domain


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


# --------------------------------------------------------------------------------------------
# The fast path: plain ASCII special URLs that need nothing beyond lower-casing scheme and host.

_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_FAST_RE = re.compile(
    r"(?P<scheme>[hH][tT][tT][pP][sS]?|[wW][sS][sS]?|[fF][tT][pP])://"
    # The host: a canonical dotted-quad IPv4 address, a domain whose last label cannot be read
    # as a number (it does not start with a digit), or a bracketed IPv6 address. Anything else
    # takes the long way.
    rf"(?P<host>(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET}(?![A-Za-z0-9_.\-])"
    r"|(?:[A-Za-z0-9_\-]*\.)*[A-Za-z_\-][A-Za-z0-9_\-]*\.?"
    r"|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{0,5}))?"
    r"(?P<path>/[!$-;=@-\[\]_a-z|~]*)?"
    r"(?:\?(?P<query>[!$-&(-;=?-~]*))?"
    r"(?:\#(?P<fragment>[!#-;=?-_a-~]*))?\Z"
)
_DOT_SEGMENT_RE = re.compile(r"/(?:\.|%2[eE]){1,2}(?=/|\Z)")


def _fast_parse(inp: str) -> URL | None:
    """Parse a plain special URL with one regex, or return None to defer to the state machine."""
    m = _FAST_RE.match(inp)
    if m is None:
        return None
    raw_scheme, raw_host, port_text, path, query, fragment = m.groups()
    scheme = raw_scheme.lower()
    if raw_host[0] == "[":
        try:
            host = _parse_host(raw_host, False)  # IPv6: canonical form, from the host cache
        except _Fail:
            return None
    else:
        host = raw_host.lower()
    same = path is not None and scheme == raw_scheme and host == raw_host
    if path is None:
        path = "/"
    elif ("/." in path or "%2" in path) and _DOT_SEGMENT_RE.search(path) is not None:
        return None
    port: int | None = None
    if port_text is not None:
        if port_text:
            port = int(port_text)
            if port > 65535:
                return None
            if port == DEFAULT_PORTS[scheme]:
                port = None
        # The input is its own serialisation unless the port text changes ("", default, "08").
        same = same and port is not None and port_text[0] != "0"
    return _new(scheme, "", "", host, port, path, False, query, fragment, inp if same else None)


_URL_CACHE: dict[str, URL] = {}
_URL_CACHE_MAX = 512


def _new(
    scheme: str,
    username: str,
    password: str,
    host: str | None,
    port: int | None,
    pathname: str,
    opaque: bool,
    query: str | None,
    fragment: str | None,
    href: str | None = None,
) -> URL:
    url = object.__new__(URL)
    url._scheme = scheme
    url._username = username
    url._password = password
    url._host = host
    url._port = port
    url._pathname = pathname
    url._opaque = opaque
    url._query = query
    url._fragment = fragment
    if href is not None:
        url._href = href
        return url
    if host is not None:
        if username or password:
            auth = username + (":" + password if password else "") + "@"
        else:
            auth = ""
        href = f"{scheme}://{auth}{host}" if port is None else f"{scheme}://{auth}{host}:{port}"
    elif not opaque and pathname[:2] == "//":
        href = scheme + ":/."
    else:
        href = scheme + ":"
    href += pathname
    if query is not None:
        href += "?" + query
    if fragment is not None:
        href += "#" + fragment
    url._href = href
    return url


def _from_rec(rec: _Rec) -> URL:
    path = rec.path
    if isinstance(path, str):
        return _new(rec.scheme, rec.username, rec.password, rec.host, rec.port, path, True, rec.query,
                    rec.fragment)
    pathname = "".join(["/" + seg for seg in path])
    return _new(rec.scheme, rec.username, rec.password, rec.host, rec.port, pathname, False,
                rec.query, rec.fragment)


def _to_rec(url: URL) -> _Rec:
    rec = _Rec()
    rec.scheme = url._scheme
    rec.username = url._username
    rec.password = url._password
    rec.host = url._host
    rec.port = url._port
    rec.path = url._pathname if url._opaque else url._path_list()
    rec.query = url._query
    rec.fragment = url._fragment
    return rec


def _parse(inp: str, base: URL | None) -> URL:
    try:
        return _from_rec(_basic_parse(inp, None if base is None else _to_rec(base)))
    except _Fail as exc:
        raise InvalidURL(f"invalid URL {inp!r}: {exc}") from None


# --------------------------------------------------------------------------------------------
# URL


class URL:
    """An absolute URL, parsed and serialised per the WHATWG URL Standard.

    ``URL(input, base=None)`` parses ``input``, against ``base`` when given (a string or a URL),
    and raises :class:`netwire.errors.InvalidURL` (a ``ValueError``) saying why it cannot. The
    object is immutable; :meth:`replace` and :meth:`join` return new URLs. Equality and hashing
    use :attr:`href`.

    The string attributes (``href``, ``protocol``, ``username``, ``password``, ``host``,
    ``hostname``, ``port``, ``pathname``, ``search``, ``hash``, ``origin``) read exactly as the
    standard's ``URL`` interface reads them, so ``port`` is a string ('' when absent); use
    :attr:`effective_port` for a number.
    """

    __slots__ = (
        "_fragment",
        "_host",
        "_href",
        "_opaque",
        "_password",
        "_pathname",
        "_port",
        "_query",
        "_scheme",
        "_username",
    )

    _scheme: str
    _username: str
    _password: str
    _host: str | None
    _port: int | None
    _pathname: str
    _opaque: bool
    _query: str | None
    _fragment: str | None
    _href: str

    def __new__(cls, input: str | URL, base: str | URL | None = None) -> URL:
        if isinstance(input, URL):
            if base is None:
                return input
            input = input._href
        elif not isinstance(input, str):
            raise TypeError(f"URL() wants a str, not {type(input).__name__}")
        if base is None:
            url = _URL_CACHE.get(input)
            if url is not None:
                return url
            url = _fast_parse(input)
            if url is None:
                if _plain(input):
                    url = _medium_parse(input)
                if url is None:
                    url = _parse(input, None)
            # URLs are immutable, so a client that requests the same URL again gets it for the
            # price of a dict lookup (a bounded cache: emptied when full).
            if len(_URL_CACHE) >= _URL_CACHE_MAX:
                _URL_CACHE.clear()
            _URL_CACHE[input] = url
            return url
        if not isinstance(base, URL):
            base = URL(base)
        return _join(base, input)

    # Immutable by construction: every public attribute is a read-only property, and the
    # private slots are written only in _new(). (A __setattr__ guard would cost a few microseconds
    # per URL on the client's hot path.)

    def __reduce__(self) -> tuple[Any, ...]:
        return (URL, (self._href,))

    def __copy__(self) -> URL:
        return self

    def __deepcopy__(self, memo: Any) -> URL:
        return self

    # ---- reading ---------------------------------------------------------------------------

    def __str__(self) -> str:
        return self._href

    def __repr__(self) -> str:
        return f"URL({self._href!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL):
            return self._href == other._href
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._href)

    @property
    def href(self) -> str:
        """The whole serialised URL."""
        return self._href

    @property
    def scheme(self) -> str:
        """The scheme without its colon, lower case: ``"https"``."""
        return self._scheme

    @property
    def protocol(self) -> str:
        """The scheme followed by a colon: ``"https:"``."""
        return self._scheme + ":"

    @property
    def username(self) -> str:
        """The percent-encoded user name, or ``""``."""
        return self._username

    @property
    def password(self) -> str:
        """The percent-encoded password, or ``""``."""
        return self._password

    @property
    def host(self) -> str:
        """``hostname`` followed by ``:port`` when the URL has a (non-default) port."""
        if self._host is None:
            return ""
        if self._port is None:
            return self._host
        return f"{self._host}:{self._port}"

    @property
    def hostname(self) -> str:
        """The serialised host (IPv6 addresses keep their brackets), or ``""``."""
        return self._host or ""

    @property
    def host_for_socket(self) -> str:
        """The host as ``getaddrinfo`` and TLS SNI want it: an IPv6 address without brackets."""
        host = self._host or ""
        if host[:1] == "[":
            return host[1:-1]
        return host

    @property
    def port(self) -> str:
        """The explicit port as a string, ``""`` when absent or the scheme's default."""
        return "" if self._port is None else str(self._port)

    @property
    def effective_port(self) -> int | None:
        """The explicit port, else the scheme's default port (http 80, https 443, ...), else None."""
        if self._port is not None:
            return self._port
        return DEFAULT_PORTS.get(self._scheme)

    @property
    def origin_tuple(self) -> tuple[str, str, int | None]:
        """``(scheme, host_for_socket, effective_port)``: what a connection pool keys on."""
        return (self._scheme, self.host_for_socket, self.effective_port)

    @property
    def pathname(self) -> str:
        """The serialised path (an opaque path as it is)."""
        return self._pathname

    @property
    def path_segments(self) -> tuple[str, ...]:
        """The path's segments (percent-encoded); an opaque path is one segment."""
        if self._opaque:
            return (self._pathname,)
        return tuple(self._path_list())

    @property
    def has_opaque_path(self) -> bool:
        """True for URLs such as ``mailto:x@y`` whose path is not a list of segments."""
        return self._opaque

    @property
    def query(self) -> str | None:
        """The query without its ``?``; None when the URL has none ('' for a bare ``?``)."""
        return self._query

    @property
    def fragment(self) -> str | None:
        """The fragment without its ``#``; None when the URL has none."""
        return self._fragment

    @property
    def search(self) -> str:
        """``"?"`` followed by the query, or ``""`` when the query is absent or empty."""
        return "?" + self._query if self._query else ""

    @property
    def hash(self) -> str:
        """``"#"`` followed by the fragment, or ``""`` when it is absent or empty."""
        return "#" + self._fragment if self._fragment else ""

    @property
    def search_params(self) -> URLSearchParams:
        """A fresh :class:`URLSearchParams` copy of the query; see :meth:`with_search_params`."""
        return URLSearchParams(self._query or "")

    @property
    def request_target(self) -> str:
        """The origin-form request target: path and query, e.g. ``"/a/b?x=1"`` (at least ``"/"``)."""
        path = self._pathname or "/"
        if self._query is None:
            return path
        return path + "?" + self._query

    @property
    def origin(self) -> str:
        """The serialised origin: ``"https://example.com:8443"``, or ``"null"`` for an opaque one."""
        scheme = self._scheme
        if scheme in ("http", "https", "ws", "wss", "ftp"):
            return f"{scheme}://{self.host}"
        if scheme == "blob":
            try:
                inner = URL(self._pathname)
            except InvalidURL:
                return "null"
            if inner._scheme in ("http", "https"):
                return inner.origin
        return "null"

    @property
    def is_special(self) -> bool:
        """True for the special schemes (http, https, ws, wss, ftp, file)."""
        return self._scheme in SPECIAL_SCHEMES

    def _path_list(self) -> list[str]:
        pathname = self._pathname
        return pathname[1:].split("/") if pathname else []

    # ---- deriving --------------------------------------------------------------------------

    def join(self, relative: str | URL) -> URL:
        """Resolve ``relative`` against this URL (the standard's parse with a base)."""
        if isinstance(relative, URL):
            return relative
        return _join(self, relative)

    def without_fragment(self) -> URL:
        """This URL with no fragment."""
        if self._fragment is None:
            return self
        return _new(self._scheme, self._username, self._password, self._host, self._port,
                    self._pathname, self._opaque, self._query, None)

    def with_search_params(self, params: URLSearchParams | Mapping[str, str] | Iterable[tuple[str, str]]) -> URL:
        """This URL with its query replaced by ``params`` serialised (no query when empty)."""
        if not isinstance(params, URLSearchParams):
            params = URLSearchParams(params)
        text = str(params)
        return _new(self._scheme, self._username, self._password, self._host, self._port,
                    self._pathname, self._opaque, text or None, self._fragment)

    def replace(self, **components: Any) -> URL:
        """A new URL with some components set, following the standard's setter rules.

        Keywords: ``href``, ``protocol`` (or ``scheme``), ``username``, ``password``, ``host``,
        ``hostname``, ``port`` (str, int or None), ``pathname`` (or ``path``), ``search`` (or
        ``query``), ``hash`` (or ``fragment``), ``search_params``. They are applied in that
        order. As with the standard's setters, a value the setter refuses leaves that component
        unchanged (e.g. ``port="x"``), except ``href``, which raises :class:`InvalidURL`.
        ``None`` for ``port``, ``search``/``query`` or ``hash``/``fragment`` removes it.
        """
        aliases = {"scheme": "protocol", "path": "pathname", "query": "search", "fragment": "hash"}
        wanted: dict[str, Any] = {}
        for key, value in components.items():
            name = aliases.get(key, key)
            if name not in _SETTERS and name not in ("href", "search_params"):
                raise TypeError(f"replace() got an unexpected keyword {key!r}")
            if name in wanted:
                raise TypeError(f"replace() got {name!r} twice")
            wanted[name] = value
        url = self
        if "href" in wanted:
            url = URL(str(wanted.pop("href")))
        rec: _Rec | None = None
        for name in _SETTERS:
            if name not in wanted:
                continue
            if rec is None:
                rec = _to_rec(url)
            _SETTERS[name](rec, wanted[name])
        if rec is not None:
            url = _from_rec(rec)
        if "search_params" in wanted:
            url = url.with_search_params(wanted["search_params"])
        return url


def _join(base: URL, inp: str) -> URL:
    if _plain(inp):
        got = _medium_join(base, inp)
        if got is not None:
            return got
    return _parse(inp, base)


# --------------------------------------------------------------------------------------------
# The medium path: special (non-file) URLs with an authority, and references against a special
# base, taken apart with one regex and each component processed in bulk. It covers everything
# the fast path refuses (IDNA and IPv6 hosts, userinfo, dot segments, characters to encode)
# except the input shapes whose reading depends on the state machine's finer rules (several
# '@', a missing host, backslashes after the scheme, file URLs...), which go to the full parser.

_MEDIUM_RE = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]*)://(?:([^/\\?#@]*)@)?"
    r"(\[[^/\\?#@\]]*\]|[^/\\?#@:\[\]]+)(?::([0-9]*))?"
    r"([/\\][^?#]*)?(?:\?([^#]*))?(?:#(.*))?\Z",
    re.S,
)
_REL_RE = re.compile(r"([^?#]*)(?:\?([^#]*))?(?:#(.*))?\Z", re.S)
_SCHEME_PREFIX_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_SLASHES_RE = re.compile(r"[/\\]")
_WEB_SCHEMES = frozenset(("http", "https", "ws", "wss", "ftp"))


def _plain(inp: str) -> bool:
    """No leading or trailing C0/space and no tab or newline: nothing to strip first."""
    return (
        inp != ""
        and inp[0] > " "
        and inp[-1] > " "
        and "\t" not in inp
        and "\n" not in inp
        and "\r" not in inp
    )


def _walk(path: list[str], text: str) -> None:
    """Run the path state over ``text`` (segments split on '/' or '\\'), appending to ``path``."""
    segments = _SLASHES_RE.split(text)
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if seg in _DOUBLE_DOT:
            if path:
                path.pop()
            if i == last:
                path.append("")
        elif seg in _SINGLE_DOT:
            if i == last:
                path.append("")
        else:
            path.append(_encode(seg, _PATH_T, _PATH_RE))


_ANY_DOT_SEGMENT_RE = re.compile(r"/(?:\.|%2[eE]){1,2}(?=/|\Z)")


def _pathname(text: str) -> str:
    """The serialised path of a special URL from its raw text (which starts with '/' or '\\')."""
    # Encoding never touches '/', '\\', '.' or '%', so it can come before the split.
    text = _encode(text, _PATH_T, _PATH_RE)
    if "\\" in text:
        text = text.replace("\\", "/")
    if ("/." in text or "/%" in text) and _ANY_DOT_SEGMENT_RE.search(text) is not None:
        path: list[str] = []
        _walk(path, text[1:])
        return "".join(["/" + seg for seg in path])
    return text


def _medium_parse(inp: str) -> URL | None:
    inp = _usv(inp)
    m = _MEDIUM_RE.match(inp)
    if m is None:
        return None
    scheme, userinfo, host, port_text, path_text, query, fragment = m.groups()
    scheme = scheme.lower()
    if scheme not in _WEB_SCHEMES:
        return None
    return _assemble(m, scheme, userinfo, host, port_text, path_text, query, fragment)


def _assemble(
    m: re.Match[str],
    scheme: str,
    userinfo: str | None,
    host: str,
    port_text: str | None,
    path_text: str | None,
    query: str | None,
    fragment: str | None,
) -> URL:
    try:
        username = password = ""
        if userinfo:
            user, _, pw = userinfo.partition(":")
            username = _encode(user, _USERINFO_T, _USERINFO_RE)
            password = _encode(pw, _USERINFO_T, _USERINFO_RE)
        hostname = _parse_host(host, False)
        port: int | None = None
        if port_text:
            port = int(port_text)
            if port > 65535:
                raise _Fail(f"port {port_text} is out of range")
            if port == DEFAULT_PORTS[scheme]:
                port = None
    except _Fail as exc:
        raise InvalidURL(f"invalid URL {m.string!r}: {exc}") from None
    pathname = _pathname(path_text) if path_text else "/"
    if query is not None:
        query = _encode(query, _SPECIAL_QUERY_T, _SPECIAL_QUERY_RE)
    if fragment is not None:
        fragment = _encode(fragment, _FRAGMENT_T, _FRAGMENT_RE)
    return _new(scheme, username, password, hostname, port, pathname, False, query, fragment)


def _medium_join(base: URL, inp: str) -> URL | None:
    """Resolve a reference against a special, non-file base without the state machine."""
    scheme = base._scheme
    if scheme not in _WEB_SCHEMES:
        return None
    m = _SCHEME_PREFIX_RE.match(inp)
    if m is not None:
        own = inp[: m.end() - 1].lower()
        if (own != scheme and own != "file") or inp.startswith("//", m.end()):
            # An absolute URL: the base plays no part.
            return _fast_parse(inp) or _medium_parse(inp)
        return None
    first = inp[0]
    if first == "/" or first == "\\":
        if inp[1:2] in ("/", "\\"):
            # Scheme-relative: the same as the absolute URL with the base's scheme.
            text = scheme + ":" + inp
            return _fast_parse(text) or _medium_parse(text)
        rel = _REL_RE.match(_usv(inp))
        assert rel is not None
        path_text, query, fragment = rel.groups()
        pathname = _pathname(path_text)
    elif first == "?" or first == "#":
        rel = _REL_RE.match(_usv(inp))
        assert rel is not None
        _, query, fragment = rel.groups()
        if query is None:
            query = base._query
        else:
            query = _encode(query, _SPECIAL_QUERY_T, _SPECIAL_QUERY_RE)
        if fragment is not None:
            fragment = _encode(fragment, _FRAGMENT_T, _FRAGMENT_RE)
        return _new(scheme, base._username, base._password, base._host, base._port, base._pathname, False,
                    query, fragment)
    else:
        rel = _REL_RE.match(_usv(inp))
        assert rel is not None
        path_text, query, fragment = rel.groups()
        # The base's directory followed by the reference: its segments are already encoded and
        # never dot segments, so the path state over the whole text pops the right ones.
        base_path = base._pathname
        pathname = _pathname(base_path[: base_path.rfind("/") + 1] + path_text)
    if query is not None:
        query = _encode(query, _SPECIAL_QUERY_T, _SPECIAL_QUERY_RE)
    if fragment is not None:
        fragment = _encode(fragment, _FRAGMENT_T, _FRAGMENT_RE)
    return _new(scheme, base._username, base._password, base._host, base._port, pathname, False, query,
                fragment)


# ---- setters (the URL interface's, on a record) -------------------------------------------


def _cannot_have_credentials(rec: _Rec) -> bool:
    return rec.host is None or rec.host == "" or rec.scheme == "file"


def _set_protocol(rec: _Rec, value: Any) -> None:
    try:
        _basic_parse(str(value) + ":", None, rec, _S_SCHEME_START)
    except _Fail:
        pass


def _set_username(rec: _Rec, value: Any) -> None:
    if not _cannot_have_credentials(rec):
        rec.username = _encode(_usv(str(value)), _USERINFO_T, _USERINFO_RE)


def _set_password(rec: _Rec, value: Any) -> None:
    if not _cannot_have_credentials(rec):
        rec.password = _encode(_usv(str(value)), _USERINFO_T, _USERINFO_RE)


def _state_setter(rec: _Rec, value: str, state: int) -> None:
    # As in the standard, the parser works on the record in place and a failure part-way keeps
    # what was already set (a host setter's host survives an out-of-range port).
    try:
        _basic_parse(value, None, rec, state)
    except _Fail:
        pass


def _set_host(rec: _Rec, value: Any) -> None:
    if not isinstance(rec.path, str):
        _state_setter(rec, str(value), _S_HOST)


def _set_hostname(rec: _Rec, value: Any) -> None:
    if not isinstance(rec.path, str):
        _state_setter(rec, str(value), _S_HOSTNAME)


def _set_port(rec: _Rec, value: Any) -> None:
    if _cannot_have_credentials(rec):
        return
    if value is None or value == "":
        rec.port = None
    else:
        _state_setter(rec, str(value), _S_PORT)


def _set_pathname(rec: _Rec, value: Any) -> None:
    if isinstance(rec.path, str):
        return
    rec.path = []
    _state_setter(rec, str(value), _S_PATH_START)


def _set_search(rec: _Rec, value: Any) -> None:
    if value is None or value == "":
        rec.query = None
        return
    text = str(value)
    if text[:1] == "?":
        text = text[1:]
    rec.query = ""
    _state_setter(rec, text, _S_QUERY)


def _set_hash(rec: _Rec, value: Any) -> None:
    if value is None or value == "":
        rec.fragment = None
        return
    text = str(value)
    if text[:1] == "#":
        text = text[1:]
    rec.fragment = ""
    _state_setter(rec, text, _S_FRAGMENT)


_SETTERS: Final = {
    "protocol": _set_protocol,
    "username": _set_username,
    "password": _set_password,
    "host": _set_host,
    "hostname": _set_hostname,
    "port": _set_port,
    "pathname": _set_pathname,
    "search": _set_search,
    "hash": _set_hash,
}


# --------------------------------------------------------------------------------------------
# URLSearchParams


def _form_decode(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    return _percent_decode(text.encode("utf-8")).decode("utf-8", "replace")


def _form_parse(query: str) -> list[tuple[str, str]]:
    """application/x-www-form-urlencoded parsing of a string."""
    pairs: list[tuple[str, str]] = []
    for part in _usv(query).split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_form_decode(name), _form_decode(value)))
    return pairs


def _form_encode(text: str) -> str:
    return _encode(_usv(text), _FORM_T, _FORM_RE)


class URLSearchParams:
    """An ordered, mutable list of name/value pairs: the standard's ``URLSearchParams``.

    Built from a query string (a leading ``?`` is dropped), a mapping, or an iterable of pairs.
    ``str(params)`` is the application/x-www-form-urlencoded serialisation. Being mutable, it is
    not tied to a URL: ``url.with_search_params(params)`` makes a URL with it.
    """

    __slots__ = ("_pairs",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self, init: str | Mapping[str, str] | Iterable[tuple[str, str]] | URLSearchParams | None = None
    ) -> None:
        self._pairs: list[tuple[str, str]]
        if init is None:
            self._pairs = []
        elif isinstance(init, str):
            self._pairs = _form_parse(init[1:] if init[:1] == "?" else init)
        elif isinstance(init, URLSearchParams):
            self._pairs = list(init._pairs)
        elif isinstance(init, Mapping):
            self._pairs = [(str(k), str(v)) for k, v in init.items()]
        else:
            pairs = []
            for item in init:
                pair = tuple(item)
                if len(pair) != 2:
                    raise TypeError("URLSearchParams wants pairs of (name, value)")
                pairs.append((str(pair[0]), str(pair[1])))
            self._pairs = pairs

    def append(self, name: str, value: str) -> None:
        """Add a pair at the end."""
        self._pairs.append((name, value))

    def delete(self, name: str, value: str | None = None) -> None:
        """Remove every pair with this name (and this value, when given)."""
        self._pairs = [
            (n, v) for n, v in self._pairs if not (n == name and (value is None or v == value))
        ]

    def get(self, name: str) -> str | None:
        """The value of the first pair with this name, or None."""
        for n, v in self._pairs:
            if n == name:
                return v
        return None

    def get_all(self, name: str) -> list[str]:
        """The values of every pair with this name, in order."""
        return [v for n, v in self._pairs if n == name]

    def has(self, name: str, value: str | None = None) -> bool:
        """Whether a pair with this name (and this value, when given) exists."""
        return any(n == name and (value is None or v == value) for n, v in self._pairs)

    def set(self, name: str, value: str) -> None:
        """Set the first pair with this name to ``value`` and remove the others (or append)."""
        out: list[tuple[str, str]] = []
        done = False
        for n, v in self._pairs:
            if n == name:
                if not done:
                    out.append((n, value))
                    done = True
            else:
                out.append((n, v))
        if not done:
            out.append((name, value))
        self._pairs = out

    def sort(self) -> None:
        """Stable sort by name, comparing UTF-16 code units as the standard says."""
        self._pairs.sort(key=lambda pair: pair[0].encode("utf-16-be", "surrogatepass"))

    @property
    def size(self) -> int:
        """The number of pairs."""
        return len(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._pairs))

    def __contains__(self, name: object) -> bool:
        return any(n == name for n, _ in self._pairs)

    def keys(self) -> list[str]:
        """The names, in order (with repeats)."""
        return [n for n, _ in self._pairs]

    def values(self) -> list[str]:
        """The values, in order."""
        return [v for _, v in self._pairs]

    def items(self) -> list[tuple[str, str]]:
        """The pairs, in order."""
        return list(self._pairs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URLSearchParams):
            return self._pairs == other._pairs
        return NotImplemented

    def __str__(self) -> str:
        return "&".join(_form_encode(n) + "=" + _form_encode(v) for n, v in self._pairs)

    def __repr__(self) -> str:
        return f"URLSearchParams({self._pairs!r})"
