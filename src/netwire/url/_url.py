"""The URL class: construction, the fast and medium paths, the setters, serialising.

:class:`URL` is immutable and hashable (two URLs are equal when their ``href`` is). Parsing runs
the standard's *basic URL parser* (``_parser``), with the host parser of ``_host`` and the
percent-encode sets of ``_percent``; ``str(url)`` is ``url.href``.

Parsing ``http(s)://host[:port]/path?query`` is the client's hot path, so two shortcuts come before
the state machine: a plain-ASCII special URL that needs no rewriting beyond lower-casing is
recognised with one regular expression (the fast path); any other special URL with an authority,
and any reference against a special base, is cut into components by a second one and each
component is processed in bulk (the medium path). Whatever either declines goes through the full
state machine. All three give identical results: the tests check that on the web-platform-tests
data and on generated input. The helpers they share are imported by name, so each costs one
global lookup, as when they lived in one module.

``URL.search_params`` hands out a fresh :class:`URLSearchParams` (``_search_params``); a changed
copy is put back with ``url.with_search_params(params)`` (or ``url.replace(search_params=params)``),
which returns a new URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ..errors import InvalidURL
from ._host import _Fail, _parse_host
from ._parser import (
    _DOUBLE_DOT,
    _S_FRAGMENT,
    _S_HOST,
    _S_HOSTNAME,
    _S_PATH_START,
    _S_PORT,
    _S_QUERY,
    _S_SCHEME_START,
    _SINGLE_DOT,
    DEFAULT_PORTS,
    SPECIAL_SCHEMES,
    _basic_parse,
    _Rec,
)
from ._percent import (
    _FRAGMENT_RE,
    _FRAGMENT_T,
    _PATH_RE,
    _PATH_T,
    _SPECIAL_QUERY_RE,
    _SPECIAL_QUERY_T,
    _USERINFO_RE,
    _USERINFO_T,
    _encode,
    _usv,
    python_class,
)
from ._search_params import URLSearchParams

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


@python_class  # compiled build: defines __new__ and is built by object.__new__
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
