"""urllib.parse's public API, with urllib.parse's results, written for netwire.

Drop-in: ``from netwire import parse as urlparse_module`` and call ``urlsplit``, ``urljoin``,
``quote``, ``parse_qsl``... exactly as with :mod:`urllib.parse`. The results are the same
(named tuples with ``geturl()``, ``hostname``, ``port``, ``username``, ``password``,
``encode``/``decode``), str in gives str out and bytes in gives bytes out.

The results are those of the running interpreter's urllib.parse (CPython 3.11, 3.12 and 3.13
differ in a few places: ``parse_qsl`` on bytes, ``unquote_to_bytes`` of a bytearray,
``uses_netloc``; each is followed by a ``sys.version_info`` check), except for security fixes
that later CPython releases carry: those apply on every version.

* ``urlsplit``/``urlparse``: a netloc holding a bracketed host must have nothing but userinfo
  before the ``[`` and nothing but ``:port`` after the ``]`` (CVE-2025-0938, CPython 3.13.2,
  3.12.9, 3.11.12); otherwise ``ValueError("Invalid IPv6 URL")``.
* ``urlunsplit``/``urlunparse`` (and so ``urljoin`` and ``geturl()``): a path starting with
  ``//`` and no netloc keeps an empty authority (``////evil.example/x``), so it is not re-read
  as a host; ``http:a`` is not turned into ``http:///a`` (gh-67693, CPython 3.13.0, 3.12.4,
  3.11.10).

The older fixes (leading C0 control and space stripped, CVE-2023-24329; tab and newline
removed, CVE-2022-0391; bracketed hosts validated, CVE-2024-11168) are in every supported
interpreter already and behave identically. The deprecated ``split*`` helpers, ``to_bytes`` and
(before 3.14) ``Quoter`` are here too, with urllib's DeprecationWarning texts.

These are not the WHATWG rules: for those, use :class:`netwire.url.URL`.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, AnyStr, Final, Generic, NamedTuple, Protocol, cast, overload

from ._mypyc import python_class

# Exactly urllib.parse's list (the same on CPython 3.11-3.13), so ``from netwire.parse import *``
# binds the same names as ``from urllib.parse import *``. The other public names (``uses_*``,
# ``scheme_chars``, ``unwrap``, the deprecated ``split*`` helpers...) are importable by name.
__all__ = [
    "urlparse", "urlunparse", "urljoin", "urldefrag", "urlsplit", "urlunsplit", "urlencode", "parse_qs",
    "parse_qsl", "quote", "quote_plus", "quote_from_bytes", "unquote", "unquote_plus", "unquote_to_bytes",
    "DefragResult", "ParseResult", "SplitResult", "DefragResultBytes", "ParseResultBytes", "SplitResultBytes",
]

#: Schemes whose URLs are resolved relative to a base by :func:`urljoin`.
uses_relative: list[str] = ["", "ftp", "http", "gopher", "nntp", "imap", "wais", "file", "https", "shttp",
                            "mms", "prospero", "rtsp", "rtsps", "rtspu", "sftp", "svn", "svn+ssh", "ws",
                            "wss"]
#: Schemes that have a ``//netloc`` part.
uses_netloc: list[str] = ["", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms",
                          "https", "shttp", "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn",
                          "svn+ssh", "sftp", "nfs", "git", "git+ssh", "ws", "wss"]
if sys.version_info >= (3, 12):
    # CPython 3.12 added Apple's over-the-air install scheme (gh-104139); it changes what
    # urlunsplit() writes for it, so follow the running interpreter.
    uses_netloc.append("itms-services")
#: Schemes whose last path segment may carry ``;params`` (split out by :func:`urlparse`).
uses_params: list[str] = ["", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtsps",
                          "rtspu", "sip", "sips", "mms", "sftp", "tel"]
#: Kept for compatibility; not used by the functions.
non_hierarchical: list[str] = ["gopher", "hdl", "mailto", "news", "telnet", "wais", "imap", "snews", "sip",
                               "sips"]
uses_query: list[str] = ["", "http", "wais", "imap", "https", "shttp", "mms", "gopher", "rtsp", "rtsps",
                         "rtspu", "sip", "sips"]
uses_fragment: list[str] = ["", "ftp", "hdl", "http", "gopher", "news", "nntp", "wais", "https", "shttp",
                            "snews", "file", "prospero"]
if sys.version_info < (3, 11, 4):
    # rtsps joined the scheme lists in CPython 3.11.4 (gh-104554); Debian 12's python3 is 3.11.2.
    for _schemes in (uses_relative, uses_netloc, uses_params, uses_query):
        _schemes.remove("rtsps")
    del _schemes
#: The characters a scheme may hold.
scheme_chars: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."

_C0_OR_SPACE: Final = "".join(map(chr, range(0x21)))
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")


# --------------------------------------------------------------------------------------------
# str / bytes coercion: bytes are handled as ASCII text and the results encoded back.


def _identity(obj: Any) -> Any:
    return obj


def _to_ascii_bytes(obj: Any) -> Any:
    return obj.encode("ascii", "strict")


def _coerce(*args: Any) -> tuple[Any, ...]:
    """Return the args as str plus the function turning a result back into the caller's type."""
    is_str = isinstance(args[0], str)
    for arg in args[1:]:
        # An empty value of the other type is accepted (e.g. scheme='' with bytes).
        if arg and isinstance(arg, str) != is_str:
            raise TypeError("Cannot mix str and non-str arguments")
    if is_str:
        return (*args, _identity)
    return (*(a.decode("ascii", "strict") if a else "" for a in args), _to_ascii_bytes)


# --------------------------------------------------------------------------------------------
# Result types


@python_class  # compiled build: tuple subclasses with mixins stay Python classes
class _StrResult:
    __slots__ = ()
    _encoded_counterpart: Any

    def encode(self, encoding: str = "ascii", errors: str = "strict") -> Any:
        """The same result with every field encoded to bytes."""
        return self._encoded_counterpart(*(x.encode(encoding, errors) for x in self))  # type: ignore[attr-defined]


@python_class
class _BytesResult:
    __slots__ = ()
    _decoded_counterpart: Any

    def decode(self, encoding: str = "ascii", errors: str = "strict") -> Any:
        """The same result with every field decoded to str."""
        return self._decoded_counterpart(*(x.decode(encoding, errors) for x in self))  # type: ignore[attr-defined]


@python_class
class _NetlocMixin(Generic[AnyStr]):
    """``username``, ``password``, ``hostname`` and ``port``, read from ``netloc``."""

    __slots__ = ()
    netloc: AnyStr

    # The bodies below read netloc as Any: one body serves str and bytes alike. mypy checks a
    # constrained generic body once per constraint, but mypyc (the compiled build) checks it once
    # with AnyStr unexpanded and rejects the isinstance-chosen separators.
    def _split_userinfo(self) -> tuple[AnyStr | None, AnyStr | None]:
        netloc: Any = self.netloc
        at, colon = ("@", ":") if isinstance(netloc, str) else (b"@", b":")
        userinfo, found, _ = netloc.rpartition(at)
        if not found:
            return None, None
        user, has_pw, pw = userinfo.partition(colon)
        return cast("tuple[AnyStr | None, AnyStr | None]", (user, (pw if has_pw else None)))

    def _split_hostinfo(self) -> tuple[AnyStr, AnyStr | None]:
        netloc: Any = self.netloc
        at: Any
        lb: Any
        rb: Any
        colon: Any
        if isinstance(netloc, str):
            at, lb, rb, colon = "@", "[", "]", ":"
        else:
            at, lb, rb, colon = b"@", b"[", b"]", b":"
        hostinfo = netloc.rpartition(at)[2]
        _, bracket, inside = hostinfo.partition(lb)
        if bracket:
            host, _, rest = inside.partition(rb)
            port = rest.partition(colon)[2]
        else:
            host, _, port = hostinfo.partition(colon)
        return cast("tuple[AnyStr, AnyStr | None]", (host, (port or None)))

    @property
    def username(self) -> AnyStr | None:
        """The user name from the netloc, or None."""
        return self._split_userinfo()[0]

    @property
    def password(self) -> AnyStr | None:
        """The password from the netloc, or None."""
        return self._split_userinfo()[1]

    @property
    def hostname(self) -> AnyStr | None:
        """The host, lower-cased (an IPv6 zone id keeps its case), without brackets; or None."""
        host: Any = self._split_hostinfo()[0]
        if not host:
            return None
        pct = "%" if isinstance(host, str) else b"%"
        name, sep, zone = host.partition(pct)
        return cast("AnyStr", name.lower() + sep + zone)

    @property
    def port(self) -> int | None:
        """The port as an int, or None; ValueError when it is not a number in 0-65535."""
        text = self._split_hostinfo()[1]
        if text is None:
            return None
        if not (text.isdigit() and text.isascii()):
            raise ValueError(f"Port could not be cast to integer value as {text!r}")
        number = int(text)
        if not 0 <= number <= 65535:
            raise ValueError("Port out of range 0-65535")
        return number


# Generic over str/bytes, so that a type checker knows ``urlsplit(...).netloc`` is a str.
class _DefragBase(NamedTuple, Generic[AnyStr]):
    url: AnyStr
    fragment: AnyStr


class _SplitBase(NamedTuple, Generic[AnyStr]):
    scheme: AnyStr
    netloc: AnyStr
    path: AnyStr
    query: AnyStr
    fragment: AnyStr


class _ParseBase(NamedTuple, Generic[AnyStr]):
    scheme: AnyStr
    netloc: AnyStr
    path: AnyStr
    params: AnyStr
    query: AnyStr
    fragment: AnyStr


@python_class
class DefragResult(_DefragBase[str], _StrResult):
    """``(url, fragment)`` as returned by :func:`urldefrag`."""

    __slots__ = ()

    def geturl(self) -> str:
        """The URL with its fragment put back."""
        return self.url + "#" + self.fragment if self.fragment else self.url


@python_class
class ResultBase(_NetlocMixin[str], _StrResult):
    """The common base of :class:`SplitResult` and :class:`ParseResult` (urllib keeps this name,
    undocumented, for code that subclasses it or tests ``isinstance``)."""

    __slots__ = ()


@python_class
class SplitResult(_SplitBase[str], ResultBase):
    """``(scheme, netloc, path, query, fragment)`` as returned by :func:`urlsplit`."""

    __slots__ = ()

    def geturl(self) -> str:
        """The URL put back together (:func:`urlunsplit`)."""
        return cast(str, urlunsplit(self))


@python_class
class ParseResult(_ParseBase[str], ResultBase):
    """``(scheme, netloc, path, params, query, fragment)`` as returned by :func:`urlparse`."""

    __slots__ = ()

    def geturl(self) -> str:
        """The URL put back together (:func:`urlunparse`)."""
        return cast(str, urlunparse(self))


@python_class
class DefragResultBytes(_DefragBase[bytes], _BytesResult):
    """The bytes twin of :class:`DefragResult`."""

    __slots__ = ()

    def geturl(self) -> bytes:
        """The URL with its fragment put back."""
        return self.url + b"#" + self.fragment if self.fragment else self.url


@python_class
class SplitResultBytes(_SplitBase[bytes], _NetlocMixin[bytes], _BytesResult):
    """The bytes twin of :class:`SplitResult`."""

    __slots__ = ()

    def geturl(self) -> bytes:
        """The URL put back together (:func:`urlunsplit`)."""
        return cast(bytes, urlunsplit(self))


@python_class
class ParseResultBytes(_ParseBase[bytes], _NetlocMixin[bytes], _BytesResult):
    """The bytes twin of :class:`ParseResult`."""

    __slots__ = ()

    def geturl(self) -> bytes:
        """The URL put back together (:func:`urlunparse`)."""
        return cast(bytes, urlunparse(self))


for _str_cls, _bytes_cls in (
    (DefragResult, DefragResultBytes),
    (SplitResult, SplitResultBytes),
    (ParseResult, ParseResultBytes),
):
    _str_cls._encoded_counterpart = _bytes_cls
    _bytes_cls._decoded_counterpart = _str_cls
del _str_cls, _bytes_cls


# --------------------------------------------------------------------------------------------
# Splitting and joining


def _check_bracketed_host(host: str) -> None:
    if host.startswith("v"):
        if re.fullmatch(r"v[a-fA-F0-9]+\..+", host, re.DOTALL) is None:
            raise ValueError("IPvFuture address is invalid")
        return
    import ipaddress

    if isinstance(ipaddress.ip_address(host), ipaddress.IPv4Address):
        raise ValueError("An IPv4 address cannot be in brackets")


def _check_brackets(netloc: str) -> None:
    has_open = "[" in netloc
    if has_open != ("]" in netloc):
        raise ValueError("Invalid IPv6 URL")
    if not has_open:
        return
    hostinfo = netloc.rpartition("@")[2]
    before, bracket, inside = hostinfo.partition("[")
    if bracket:
        # CVE-2025-0938: nothing may stand before the bracket, nor between it and ":port".
        if before:
            raise ValueError("Invalid IPv6 URL")
        host, _, after = inside.partition("]")
        if after and after[0] != ":":
            raise ValueError("Invalid IPv6 URL")
    else:
        host = hostinfo.partition(":")[0]
    _check_bracketed_host(host)


def _check_nfkc(netloc: str) -> None:
    # bpo-36216: a character that NFKC-normalises to one of /?#@: would move the netloc's
    # boundaries for whoever normalises later.
    if netloc.isascii():
        return
    import unicodedata

    bare = netloc.replace("@", "").replace(":", "").replace("#", "").replace("?", "")
    normalized = unicodedata.normalize("NFKC", bare)
    if normalized == bare:
        return
    for ch in "/?#@:":
        if ch in normalized:
            raise ValueError(f"netloc '{netloc}' contains invalid characters under NFKC normalization")


def _netloc_end(url: str, start: int) -> int:
    end = len(url)
    for ch in "/?#":
        i = url.find(ch, start, end)
        if i >= 0:
            end = i
    return end


def _urlsplit(url: Any, scheme: Any = "", allow_fragments: bool = True) -> Any:
    """Split a URL into ``(scheme, netloc, path, query, fragment)``.

    ``scheme`` is the default when the URL has none; with ``allow_fragments`` false a ``#``
    stays in the path or query. Percent-escapes are not decoded.
    """
    if type(url) is str and type(scheme) is str:
        coerce = None
    else:
        url, scheme, coerce = _coerce(url, scheme)
    url = url.lstrip(_C0_OR_SPACE)
    scheme = scheme.strip(_C0_OR_SPACE)
    if "\t" in url or "\n" in url or "\r" in url:
        url = url.replace("\t", "").replace("\r", "").replace("\n", "")
    if "\t" in scheme or "\n" in scheme or "\r" in scheme:
        scheme = scheme.replace("\t", "").replace("\r", "").replace("\n", "")
    m = _SCHEME_RE.match(url)
    if m is not None:
        end = m.end()
        scheme = url[: end - 1].lower()
        url = url[end:]
    netloc = query = fragment = ""
    if url[:2] == "//":
        end = _netloc_end(url, 2)
        netloc = url[2:end]
        url = url[end:]
        if "[" in netloc or "]" in netloc:
            _check_brackets(netloc)
    if allow_fragments and "#" in url:
        url, _, fragment = url.partition("#")
    if "?" in url:
        url, _, query = url.partition("?")
    if netloc and not netloc.isascii():
        _check_nfkc(netloc)
    # tuple.__new__ skips the namedtuple's Python-level __new__.
    result = _tuple_new(SplitResult, (scheme, netloc, url, query, fragment))
    return result if coerce is None else coerce(result)


_tuple_new = tuple.__new__


class _CachedSplit(Protocol):
    """The type of :func:`urlsplit`: the overloads, and the cache's ``cache_clear``."""

    @overload
    def __call__(self, url: str, scheme: str = "", allow_fragments: bool = True) -> SplitResult: ...
    @overload
    def __call__(self, url: bytes | bytearray, scheme: bytes | bytearray | str = "",
                 allow_fragments: bool = True) -> SplitResultBytes: ...
    def __call__(self, url: Any, scheme: Any = "", allow_fragments: bool = True) -> Any: ...
    def cache_clear(self) -> None: ...


# The cache wraps the public function itself (as in urllib), so a hit costs one C call. Typed
# through a Protocol rather than an `if TYPE_CHECKING:` stub: the compiled build (mypyc) compiles
# only the type checker's branch.
urlsplit: Final[_CachedSplit] = cast(_CachedSplit, functools.lru_cache(typed=True)(_urlsplit))
_split = urlsplit


def clear_cache() -> None:
    """Empty the caches of :func:`urlsplit` and :func:`quote` (urllib has the same helper)."""
    urlsplit.cache_clear()
    _QUOTERS.clear()


def _split_params(path: str) -> tuple[str, str]:
    start = path.rfind("/")
    i = path.find(";", start if start >= 0 else 0)
    if i < 0:
        return path, ""
    return path[:i], path[i + 1 :]


@overload
def urlparse(url: str, scheme: str = "", allow_fragments: bool = True) -> ParseResult: ...
@overload
def urlparse(url: bytes | bytearray, scheme: bytes | bytearray | str = "",
             allow_fragments: bool = True) -> ParseResultBytes: ...
def urlparse(url: Any, scheme: Any = "", allow_fragments: bool = True) -> Any:
    """Split a URL into ``(scheme, netloc, path, params, query, fragment)``.

    ``params`` is what follows a ``;`` in the last path segment, for the schemes in
    :data:`uses_params`.
    """
    if type(url) is str and type(scheme) is str:
        coerce = None
    else:
        url, scheme, coerce = _coerce(url, scheme)
    s, netloc, path, query, fragment = _split(url, scheme, allow_fragments)
    if s in uses_params and ";" in path:
        path, params = _split_params(path)
    else:
        params = ""
    result = ParseResult(s, netloc, path, params, query, fragment)
    return result if coerce is None else coerce(result)


def urlunsplit(components: Iterable[Any]) -> Any:
    """Join a 5-item ``(scheme, netloc, path, query, fragment)`` back into a URL."""
    scheme, netloc, url, query, fragment, coerce = _coerce(*components)
    # gh-67693 (a security fix of CPython 3.12.4 / 3.11.10 / 3.13.0, kept here on every
    # version): without a netloc, a path starting with "//" keeps an empty authority in front,
    # so that "//evil.example/x" stays a path instead of becoming a host when re-parsed; and
    # "//" is added for a netloc-using scheme only when the path is empty or absolute
    # (``http:a`` rather than ``http:///a``).
    if netloc:
        if url and url[0] != "/":
            url = "/" + url
        url = "//" + netloc + url
    elif url[:2] == "//" or (scheme and scheme in uses_netloc and (not url or url[0] == "/")):
        url = "//" + url
    if scheme:
        url = scheme + ":" + url
    if query:
        url += "?" + query
    if fragment:
        url += "#" + fragment
    return coerce(url)


def urlunparse(components: Iterable[Any]) -> Any:
    """Join a 6-item ``(scheme, netloc, path, params, query, fragment)`` back into a URL."""
    scheme, netloc, url, params, query, fragment, coerce = _coerce(*components)
    if params:
        url = f"{url};{params}"
    return coerce(urlunsplit((scheme, netloc, url, query, fragment)))


def urljoin(base: Any, url: Any, allow_fragments: bool = True) -> Any:
    """Resolve ``url`` against ``base`` the way urllib.parse does (RFC 3986 with its quirks)."""
    if not base:
        return url
    if not url:
        return base
    base, url, coerce = _coerce(base, url)
    bscheme, bnetloc, bpath, bquery, _ = _split(base, "", allow_fragments)
    if bscheme in uses_params and ";" in bpath:
        bpath, bparams = _split_params(bpath)
    else:
        bparams = ""
    scheme, netloc, path, query, fragment = _split(url, bscheme, allow_fragments)
    if scheme in uses_params and ";" in path:
        path, params = _split_params(path)
    else:
        params = ""
    if scheme != bscheme or scheme not in uses_relative:
        return coerce(url)
    if scheme in uses_netloc:
        if netloc:
            return coerce(urlunparse((scheme, netloc, path, params, query, fragment)))
        netloc = bnetloc
    if not path and not params:
        return coerce(urlunparse((scheme, netloc, bpath, bparams, query or bquery, fragment)))
    if path[:1] == "/":
        segments = path.split("/")
    else:
        base_segments = bpath.split("/")
        if base_segments[-1]:
            base_segments.pop()
        segments = base_segments + path.split("/")
        # Empty inner segments collapse when merging with the base path (urllib's behaviour).
        segments[1:-1] = [s for s in segments[1:-1] if s]
    resolved: list[str] = []
    for seg in segments:
        if seg == "..":
            if resolved:
                resolved.pop()
        elif seg != ".":
            resolved.append(seg)
    if segments[-1] in (".", ".."):
        resolved.append("")
    return coerce(urlunparse((scheme, netloc, "/".join(resolved) or "/", params, query, fragment)))


def urldefrag(url: Any) -> Any:
    """Split off the fragment: ``DefragResult(url_without_fragment, fragment)``."""
    url, coerce = _coerce(url)
    if "#" in url:
        s, n, p, a, q, frag = urlparse(url)
        defrag = urlunparse((s, n, p, a, q, ""))
    else:
        frag = ""
        defrag = url
    return coerce(DefragResult(defrag, frag))


# --------------------------------------------------------------------------------------------
# Quoting

_ALWAYS_SAFE: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_HEX_PAIRS: Final = {
    (a + b).encode(): bytes.fromhex(a + b) for a in "0123456789ABCDEFabcdef" for b in "0123456789ABCDEFabcdef"
}


_Quoter = tuple[re.Pattern[bytes], re.Pattern[str], list[str]]
_QUOTERS: dict[str | bytes, _Quoter] = {}


def _quoter(safe: str | bytes) -> _Quoter:
    """For one ``safe`` argument: the byte pattern finding work, its str twin, the byte table."""
    quoter = _QUOTERS.get(safe)
    if quoter is None:
        if isinstance(safe, str):
            safe_bytes = safe.encode("ascii", "ignore")
        else:
            safe_bytes = bytes(c for c in safe if c < 128)
        allowed = _ALWAYS_SAFE.union(safe_bytes)
        cls = b"".join(re.escape(bytes((b,))) for b in sorted(allowed))
        table = [chr(b) if b in allowed else f"%{b:02X}" for b in range(256)]
        quoter = (re.compile(b"[^" + cls + b"]"), re.compile("[^" + cls.decode("ascii") + "]"), table)
        if len(_QUOTERS) >= 256:
            _QUOTERS.clear()
        _QUOTERS[safe] = quoter
    return quoter


def quote_from_bytes(bs: bytes | bytearray, safe: str | bytes | bytearray = "/") -> str:
    """Percent-encode bytes; always returns an ASCII str. ``quote_from_bytes(b'a b') == 'a%20b'``."""
    if not isinstance(bs, (bytes, bytearray)):
        raise TypeError("quote_from_bytes() expected bytes")
    if not bs:
        return ""
    pattern, _, table = _quoter(safe if isinstance(safe, (str, bytes)) else bytes(safe))
    if pattern.search(bs) is None:
        return bs.decode()
    return "".join([table[b] for b in bs])


def quote(
    string: str | bytes | bytearray,
    safe: str | bytes | bytearray = "/",
    encoding: str | None = None,
    errors: str | None = None,
) -> str:
    """Percent-encode everything but letters, digits, ``_.-~`` and ``safe`` (default ``/``).

    A str is encoded first (``encoding`` default UTF-8, ``errors`` default strict); bytes must not
    come with ``encoding`` or ``errors``.
    """
    if isinstance(string, str):
        if not string:
            return string
        pattern, str_pattern, table = _quoter(safe if isinstance(safe, (str, bytes)) else bytes(safe))
        if encoding is None:
            if string.isascii():
                # UTF-8 leaves ASCII as it is: look for work on the str itself.
                if str_pattern.search(string) is None:
                    return string
                return "".join([table[b] for b in string.encode("ascii")])
            encoding = "utf-8"
        data = string.encode(encoding, "strict" if errors is None else errors)
        if pattern.search(data) is None:
            return data.decode()
        return "".join([table[b] for b in data])
    if encoding is not None:
        raise TypeError("quote() doesn't support 'encoding' for bytes")
    if errors is not None:
        raise TypeError("quote() doesn't support 'errors' for bytes")
    return quote_from_bytes(string, safe)


def quote_plus(
    string: str | bytes | bytearray,
    safe: str | bytes | bytearray = "",
    encoding: str | None = None,
    errors: str | None = None,
) -> str:
    """Like :func:`quote`, but a space becomes ``+`` (HTML forms) and ``safe`` defaults to ''."""
    if isinstance(string, str):
        has_space = " " in string
    else:
        has_space = b" " in string
    if not has_space:
        return quote(string, safe, encoding, errors)
    space: Any = " " if isinstance(safe, str) else b" "
    return quote(string, safe + space, encoding, errors).replace(" ", "+")


def unquote_to_bytes(string: str | bytes | bytearray) -> bytes:
    """Decode %xx escapes into bytes: ``unquote_to_bytes('a%20b') == b'a b'``."""
    if not string:
        string.split  # noqa: B018 - raise AttributeError for a non-string, as urllib does
        return b""
    data = cast(bytes, string.encode("utf-8") if isinstance(string, str) else string)
    pieces = data.split(b"%")
    if len(pieces) == 1:
        # A bytearray without escapes comes back as itself on 3.11, as bytes from 3.12 on,
        # as urllib.parse does on each.
        return bytes(data) if _UNQUOTE_ALWAYS_BYTES else data
    out = [pieces[0]]
    for piece in pieces[1:]:
        byte = _HEX_PAIRS.get(piece[:2])
        if byte is None:
            out.append(b"%")
            out.append(piece)
        else:
            out.append(byte)
            out.append(piece[2:])
    return b"".join(out)


_UNQUOTE_ALWAYS_BYTES: Final = sys.version_info >= (3, 12)
_ASCII_RUN_RE = re.compile("[\x00-\x7f]+")


def unquote(string: str | bytes, encoding: str = "utf-8", errors: str = "replace") -> str:
    """Decode %xx escapes: ``unquote('a%20b') == 'a b'``; bad UTF-8 becomes U+FFFD by default."""
    if isinstance(string, bytes):
        return unquote_to_bytes(string).decode(encoding, errors)
    if "%" not in string:
        string.split  # noqa: B018 - a non-string fails here, as in urllib
        return string
    return _unquote_runs(string, "utf-8" if encoding is None else encoding, "replace" if errors is None else errors)


def _unquote_runs(string: str, encoding: str, errors: str) -> str:
    # Every ASCII run is decoded as a whole (escapes and literal characters together), as urllib
    # does, so multi-byte encodings see the same byte sequences. (A separate function: the
    # closure's cells would slow down unquote's common no-'%' case.)
    return _ASCII_RUN_RE.sub(lambda m: unquote_to_bytes(m.group()).decode(encoding, errors), string)


def unquote_plus(string: str, encoding: str = "utf-8", errors: str = "replace") -> str:
    """Like :func:`unquote`, and ``+`` becomes a space (HTML form values)."""
    return unquote(string.replace("+", " "), encoding, errors)


# --------------------------------------------------------------------------------------------
# Query strings


def parse_qsl(
    qs: Any,
    keep_blank_values: bool = False,
    strict_parsing: bool = False,
    encoding: str = "utf-8",
    errors: str = "replace",
    max_num_fields: int | None = None,
    # Any: a separator of another type is a ValueError below, as in urllib (the compiled build
    # would refuse it with a TypeError at the call if the annotation named the types).
    separator: Any = "&",
) -> list[tuple[Any, Any]]:
    """Parse a query string into a list of ``(name, value)`` pairs, in order.

    A bytes query gives bytes pairs. From Python 3.13 on (as urllib.parse there), their escapes
    are decoded to raw bytes (``b"k=%C3%BC"`` gives ``(b"k", b"\\xc3\\xbc")``, ``encoding`` and
    ``errors`` unused); before, the bytes are read as ASCII text and the decoded pairs encoded
    back to ASCII, as urllib.parse there does.
    """
    if _QS_BYTES_AS_BYTES:
        return _parse_qsl_bytes_aware(qs, keep_blank_values, strict_parsing, encoding, errors, max_num_fields,
                                      separator)
    qs, coerce = _coerce(qs)
    separator, _ = _coerce(separator)
    if not separator or not isinstance(separator, (str, bytes)):
        raise ValueError("Separator must be of type string or bytes.")
    if max_num_fields is not None:
        fields = 1 + qs.count(separator) if qs else 0
        if max_num_fields < fields:
            raise ValueError("Max number of fields exceeded")
    pairs: list[tuple[Any, Any]] = []
    if not qs:
        return pairs
    for field in qs.split(separator):
        if not field and not strict_parsing:
            continue
        name, eq, value = field.partition("=")
        if not eq:
            if strict_parsing:
                raise ValueError(f"bad query field: {field!r}")
            if not keep_blank_values:
                continue
        if value or keep_blank_values:
            if "+" in name:
                name = name.replace("+", " ")
            if "+" in value:
                value = value.replace("+", " ")
            pairs.append((coerce(unquote(name, encoding, errors)), coerce(unquote(value, encoding, errors))))
    return pairs


#: urllib.parse's parse_qsl works on bytes as bytes from CPython 3.13 on (gh-74668).
_QS_BYTES_AS_BYTES: Final = sys.version_info >= (3, 13)


def _parse_qsl_bytes_aware(
    qs: Any,
    keep_blank_values: bool,
    strict_parsing: bool,
    encoding: str,
    errors: str,
    max_num_fields: int | None,
    separator: Any,
) -> list[tuple[Any, Any]]:
    # The separator is checked as given: a bytearray one is refused, as in 3.13.
    if not separator or not isinstance(separator, (str, bytes)):
        raise ValueError("Separator must be of type string or bytes.")
    unquote_field: Callable[[Any], Any]
    if isinstance(qs, str):
        eq: Any = "="
        if not isinstance(separator, str):
            separator = str(separator, "ascii")

        def unquote_field(text: Any) -> Any:
            return unquote_plus(text, encoding, errors)
    else:
        if not qs:
            return []
        # memoryview() accepts only buffers: an int or a list of ints is a TypeError here,
        # not a zero-filled or list-built bytes.
        qs = bytes(memoryview(qs))
        eq = b"="
        if isinstance(separator, str):
            separator = bytes(separator, "ascii")

        def unquote_field(text: Any) -> Any:
            return unquote_to_bytes(text.replace(b"+", b" "))
    if not qs:
        return []
    if max_num_fields is not None and max_num_fields < 1 + qs.count(separator):
        raise ValueError("Max number of fields exceeded")
    pairs: list[tuple[Any, Any]] = []
    for field in qs.split(separator):
        if not field and not strict_parsing:
            continue
        name, has_eq, value = field.partition(eq)
        if not has_eq and strict_parsing:
            raise ValueError(f"bad query field: {field!r}")
        if value or keep_blank_values:
            pairs.append((unquote_field(name), unquote_field(value)))
    return pairs


def parse_qs(
    qs: Any,
    keep_blank_values: bool = False,
    strict_parsing: bool = False,
    encoding: str = "utf-8",
    errors: str = "replace",
    max_num_fields: int | None = None,
    separator: str | bytes = "&",
) -> dict[Any, list[Any]]:
    """Parse a query string into ``{name: [values...]}``."""
    result: dict[Any, list[Any]] = {}
    for name, value in parse_qsl(qs, keep_blank_values, strict_parsing, encoding=encoding, errors=errors,
                                 max_num_fields=max_num_fields, separator=separator):
        if name in result:
            result[name].append(value)
        else:
            result[name] = [value]
    return result


def urlencode(
    query: Mapping[Any, Any] | Iterable[tuple[Any, Any]],
    doseq: bool = False,
    safe: str | bytes = "",
    encoding: str | None = None,
    errors: str | None = None,
    quote_via: Callable[..., str] = quote_plus,
) -> str:
    """Encode a mapping or a sequence of pairs as ``name=value&...`` (form encoding by default).

    With ``doseq``, a value that is a sequence (not str/bytes) gives one pair per element.
    """
    items: Iterable[tuple[Any, Any]]
    if hasattr(query, "items"):
        items = query.items()
    else:
        try:
            if len(query) and not isinstance(query[0], tuple):  # type: ignore[arg-type,index]
                raise TypeError
        except TypeError as err:
            raise TypeError("not a valid non-string sequence or mapping object") from err
        items = query

    out: list[str] = []
    for k, v in items:
        key = quote_via(k, safe) if isinstance(k, bytes) else quote_via(str(k), safe, encoding, errors)
        if isinstance(v, bytes):
            out.append(key + "=" + quote_via(v, safe))
        elif isinstance(v, str) or not doseq:
            out.append(key + "=" + quote_via(str(v), safe, encoding, errors))
        else:
            try:
                len(v)
            except TypeError:
                out.append(key + "=" + quote_via(str(v), safe, encoding, errors))
            else:
                for element in v:
                    if isinstance(element, bytes):
                        out.append(key + "=" + quote_via(element, safe))
                    else:
                        out.append(key + "=" + quote_via(str(element), safe, encoding, errors))
    return "&".join(out)


def unwrap(url: str) -> str:
    """``unwrap('<URL:type://host/path>') == 'type://host/path'``."""
    url = str(url).strip()
    if url[:1] == "<" and url[-1:] == ">":
        url = url[1:-1].strip()
    if url[:4] == "URL:":
        url = url[4:].strip()
    return url


# --------------------------------------------------------------------------------------------
# urllib.parse's undocumented, deprecated helpers: still called by old crawler code, so they are
# here with the same results and the same DeprecationWarning text as CPython 3.11-3.13 (the
# text names urllib.parse, so filters written for urllib's warnings keep working).


def _deprecated(name: str, instead: str | None = "urlparse") -> None:
    message = f"urllib.parse.{name}() is deprecated as of 3.8"
    if instead is not None:
        message += f", use urllib.parse.{instead}() instead"
    # stacklevel 3: the warning points at the caller of the deprecated function.
    warnings.warn(message, DeprecationWarning, stacklevel=3)


def to_bytes(url: str) -> str:
    """Deprecated: check that ``url`` is ASCII and return it (UnicodeError otherwise)."""
    _deprecated("to_bytes", None)
    if isinstance(url, str) and not url.isascii():
        raise UnicodeError("URL " + repr(url) + " contains non-ASCII characters")
    return url


def splittype(url: str) -> tuple[str | None, str]:
    """Deprecated: ``splittype('type:opaquestring') == ('type', 'opaquestring')``."""
    _deprecated("splittype")
    colon = url.find(":")
    # The scheme is the text before the first ':', when it is not empty and holds no '/'.
    if colon > 0 and "/" not in url[:colon]:
        return url[:colon].lower(), url[colon + 1 :]
    return None, url


def splithost(url: str) -> tuple[str | None, str]:
    """Deprecated: ``splithost('//host[:port]/path') == ('host[:port]', '/path')``."""
    _deprecated("splithost")
    if url[:2] != "//":
        return None, url
    end = _netloc_end(url, 2)
    path = url[end:]
    if path and path[0] != "/":
        path = "/" + path
    return url[2:end], path


def splituser(host: str) -> tuple[str | None, str]:
    """Deprecated: ``splituser('user[:passwd]@host[:port]') == ('user[:passwd]', 'host[:port]')``."""
    _deprecated("splituser")
    user, at, rest = host.rpartition("@")
    return (user if at else None), rest


def splitpasswd(user: str) -> tuple[str, str | None]:
    """Deprecated: ``splitpasswd('user:passwd') == ('user', 'passwd')``."""
    _deprecated("splitpasswd")
    name, colon, password = user.partition(":")
    return name, (password if colon else None)


def splitport(host: str) -> tuple[str, str | None]:
    """Deprecated: ``splitport('host:port') == ('host', 'port')``; the port is a digit string or None."""
    _deprecated("splitport")
    head, colon, port = host.rpartition(":")
    # Only an all-ASCII-digit text after the last ':' is a port (an empty one too: "host:").
    if colon and (not port or (port.isascii() and port.isdigit())):
        return head, (port or None)
    return host, None


def splitnport(host: str, defport: int = -1) -> tuple[str, int | None]:
    """Deprecated: ``splitnport('host:80') == ('host', 80)``; ``defport`` without a ':', None for a bad port."""
    _deprecated("splitnport")
    head, colon, port = host.rpartition(":")
    if not colon:
        return port, defport
    if not port:
        return head, defport
    return head, (int(port) if port.isascii() and port.isdigit() else None)


def splitquery(url: str) -> tuple[str, str | None]:
    """Deprecated: ``splitquery('/path?query') == ('/path', 'query')`` (at the last '?')."""
    _deprecated("splitquery")
    path, mark, query = url.rpartition("?")
    return (path, query) if mark else (url, None)


def splittag(url: str) -> tuple[str, str | None]:
    """Deprecated: ``splittag('/path#tag') == ('/path', 'tag')`` (at the last '#')."""
    _deprecated("splittag")
    path, mark, tag = url.rpartition("#")
    return (path, tag) if mark else (url, None)


def splitattr(url: str) -> tuple[str, list[str]]:
    """Deprecated: ``splitattr('/path;a=1;b=2') == ('/path', ['a=1', 'b=2'])``."""
    _deprecated("splitattr")
    path, *attrs = url.split(";")
    return path, attrs


def splitvalue(attr: str) -> tuple[str, str | None]:
    """Deprecated: ``splitvalue('attr=value') == ('attr', 'value')``."""
    _deprecated("splitvalue", "parse_qsl")
    name, eq, value = attr.partition("=")
    return name, (value if eq else None)


@python_class  # compiled build: a dict subclass stays a Python class
class _LegacyQuoter(dict[int, str]):
    """A byte value -> its quoted text (the character itself when safe, else ``%XX``), filled on demand.

    What urllib.parse exposed as ``Quoter`` until Python 3.14 removed it.
    """

    def __init__(self, safe: Iterable[int]) -> None:
        super().__init__()
        self.safe = _ALWAYS_SAFE.union(safe)

    def __repr__(self) -> str:
        return f"<Quoter {dict(self)!r}>"

    def __missing__(self, b: int) -> str:
        text = chr(b) if b in self.safe else f"%{b:02X}"
        self[b] = text
        return text


_QUOTER_REMOVED: Final = sys.version_info >= (3, 14)


def _module_getattr(name: str) -> Any:
    # Deprecated in 3.11 and removed in 3.14, as in urllib.parse on each version.
    if name == "Quoter" and not _QUOTER_REMOVED:
        warnings.warn("Deprecated in 3.11. urllib.parse.Quoter will be removed in Python 3.14. "
                      "It was not intended to be a public API.", DeprecationWarning, stacklevel=2)
        return _LegacyQuoter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The module's __getattr__, hidden from type checkers (a module-level __getattr__ would make every
# misspelt ``netwire.parse.name`` type-check as Any) by setting it through globals(): an
# `if not TYPE_CHECKING:` def would be left out of the compiled build (mypyc compiles the checker's
# branch only).
globals()["__getattr__"] = _module_getattr
