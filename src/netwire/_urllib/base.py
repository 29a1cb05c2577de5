"""The urllib face's ground floor: :class:`Request`, :class:`BaseHandler` and small helpers.

``Request`` is urllib.request's request object (URL split the urllib way, headers kept as urllib
keeps them); ``BaseHandler`` is the root every handler derives from. Beside them: the user agent
and the "no timeout given" marker, urllib's private URL-splitting helpers (``_splittype`` and
friends, with the same results), ``request_host``, ``url2pathname``/``pathname2url`` and
``_discard`` (drain and close a response nobody will read). Every other ``_urllib`` module
imports this one; it imports none of them.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
from collections.abc import Mapping
from typing import Any

from ..parse import quote, unquote, unwrap, urlparse
from ..response import HTTPResponse

__version__ = f"{sys.version_info[0]}.{sys.version_info[1]}"
# The same User-Agent as urllib's: servers that look at it answer the same way.
USER_AGENT = f"Python-urllib/{__version__}"

# urllib's "no timeout given" marker: the socket default timeout (None unless
# socket.setdefaulttimeout() was called) applies.
_GLOBAL_DEFAULT_TIMEOUT: Any = socket._GLOBAL_DEFAULT_TIMEOUT  # type: ignore[attr-defined]

# -- urllib's URL-splitting helpers (the same results as urllib.parse's private _split*) ---------

_TYPE_RE = re.compile(r"([^/:]+):(.*)", re.DOTALL)
_HOST_RE = re.compile(r"//([^/#?]*)(.*)", re.DOTALL)
_PORT_RE = re.compile(r"(.*):([0-9]*)", re.DOTALL)
_CUT_PORT_RE = re.compile(r":\d+$", re.ASCII)


def _splittype(url: str) -> tuple[str | None, str]:
    m = _TYPE_RE.match(url)
    if m:
        scheme, data = m.groups()
        return scheme.lower(), data
    return None, url


def _splithost(url: str) -> tuple[str | None, str]:
    m = _HOST_RE.match(url)
    if m:
        host_port, path = m.groups()
        if path and path[0] != "/":
            path = "/" + path
        return host_port, path
    return None, url


def _splittag(url: str) -> tuple[str, str | None]:
    path, delim, tag = url.rpartition("#")
    if delim:
        return path, tag
    return url, None


def _splitport(host: str) -> tuple[str, str | None]:
    m = _PORT_RE.fullmatch(host)
    if m:
        host, port = m.groups()
        if port:
            return host, port
    return host, None


def _splituser(host: str) -> tuple[str | None, str]:
    user, delim, host = host.rpartition("@")
    return (user if delim else None), host


def _splitpasswd(user: str) -> tuple[str, str | None]:
    user, delim, passwd = user.partition(":")
    return user, (passwd if delim else None)


def _splitattr(url: str) -> tuple[str, list[str]]:
    words = url.split(";")
    return words[0], words[1:]


def _splitvalue(attr: str) -> tuple[str, str | None]:
    attr, delim, value = attr.partition("=")
    return attr, (value if delim else None)


def request_host(request: Request) -> str:
    """The request-host of RFC 2965 (host without port, lower case), as urllib computes it."""
    host = urlparse(request.full_url)[1]
    if host == "":
        host = request.get_header("Host", "")
    return _CUT_PORT_RE.sub("", host, count=1).lower()


# -- Request ---------------------------------------------------------------------------------------


class Request:
    """A URL request: ``urllib.request.Request``'s API.

    ``full_url`` (settable), ``type``, ``host``, ``selector``, ``data`` (setting it drops a
    computed Content-Length), ``method``/``get_method()``, headers kept as urllib keeps them
    (names ``capitalize()``d), and ``origin_req_host``/``unverifiable`` for cookie policy.
    """

    timeout: Any = None

    def __init__(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, Any] = {},  # urllib's signature; never mutated
        origin_req_host: str | None = None,
        unverifiable: bool = False,
        method: str | None = None,
    ) -> None:
        self.full_url = url
        self.headers: dict[str, Any] = {}
        self.unredirected_hdrs: dict[str, Any] = {}
        self._data: Any = None
        self.data = data
        self._tunnel_host: str | None = None
        self._proxy: tuple[str, str] | None = None
        for key, value in headers.items():
            self.add_header(key, value)
        self._origin_req_host = origin_req_host
        self.unverifiable = unverifiable
        if method:
            self.method = method

    @property
    def origin_req_host(self) -> str:
        """The request-host of the origin transaction (computed from the URL when not given)."""
        if self._origin_req_host is None:
            self._origin_req_host = request_host(self)
        return self._origin_req_host

    @origin_req_host.setter
    def origin_req_host(self, value: str) -> None:
        self._origin_req_host = value

    @property
    def full_url(self) -> str:
        if self.fragment:
            return f"{self._full_url}#{self.fragment}"
        return self._full_url

    @full_url.setter
    def full_url(self, url: str) -> None:
        self._full_url, self.fragment = _splittag(unwrap(url))
        self._parse()

    @full_url.deleter
    def full_url(self) -> None:
        self._full_url = None  # type: ignore[assignment]
        self.fragment = None
        self.selector = ""

    @property
    def data(self) -> Any:
        return self._data

    @data.setter
    def data(self, data: Any) -> None:
        if data is not self._data:
            self._data = data
            # The Content-length computed for the old body would be wrong for the new one.
            if self.has_header("Content-length"):
                self.remove_header("Content-length")

    @data.deleter
    def data(self) -> None:
        self.data = None

    def _parse(self) -> None:
        scheme, rest = _splittype(self._full_url)
        if scheme is None:
            raise ValueError(f"unknown url type: {self.full_url!r}")
        self.type = scheme
        host, self.selector = _splithost(rest)
        self.host = unquote(host) if host else host

    def get_method(self) -> str:
        """``method`` if set, else POST when there is data and GET when not."""
        method = getattr(self, "method", None)
        if method is not None:
            return str(method)
        return "POST" if self.data is not None else "GET"

    def get_full_url(self) -> str:
        return self.full_url

    def set_proxy(self, host: str, type: str) -> None:
        """Send this request through the proxy at ``host`` (host:port) of scheme ``type``."""
        if self.type == "https" and not self._tunnel_host:
            self._tunnel_host = self.host
            # urllib tunnels https through a plain HTTP proxy whatever ``type`` says (a proxy
            # written "proxy:3128" gets the request's own scheme as its type, "https").
            type = "http"
        else:
            self.type = type
            self.selector = self.full_url
        self.host = host
        self._proxy = (type, host)

    def has_proxy(self) -> bool:
        return self.selector == self.full_url

    def add_header(self, key: str, val: Any) -> None:
        self.headers[key.capitalize()] = val

    def add_unredirected_header(self, key: str, val: Any) -> None:
        self.unredirected_hdrs[key.capitalize()] = val

    def has_header(self, header_name: str) -> bool:
        return header_name in self.headers or header_name in self.unredirected_hdrs

    def get_header(self, header_name: str, default: Any = None) -> Any:
        return self.headers.get(header_name, self.unredirected_hdrs.get(header_name, default))

    def remove_header(self, header_name: str) -> None:
        self.headers.pop(header_name, None)
        self.unredirected_hdrs.pop(header_name, None)

    def header_items(self) -> list[tuple[str, Any]]:
        return list({**self.unredirected_hdrs, **self.headers}.items())

    def __repr__(self) -> str:
        return f"<netwire.request.Request {self.get_method()} {self.full_url}>"


# -- handlers --------------------------------------------------------------------------------------


class BaseHandler:
    """Base of handlers; ``handler_order`` sorts them (lower runs first)."""

    handler_order = 500
    parent: Any = None

    def add_parent(self, parent: Any) -> None:
        self.parent = parent

    def close(self) -> None:
        """Nothing to release by default."""

    def __lt__(self, other: Any) -> bool:
        if not hasattr(other, "handler_order"):
            # Preserve urllib's rule: handlers without an order go last.
            return True
        return bool(self.handler_order < other.handler_order)


def _discard(fp: Any) -> None:
    """Read a small rest of a response (so its connection can be reused) and close it."""
    if fp is None:
        return
    try:
        if isinstance(fp, HTTPResponse):
            fp._prefetch()
    except OSError:
        pass
    with contextlib.suppress(Exception):
        fp.close()


# -- local paths in file: URLs ---------------------------------------------------------------------


if os.name == "nt":

    def url2pathname(url: str) -> str:
        """The local path of a ``file:`` URL path (``///C:/dir/f`` or ``/C|/dir/f``)."""
        path = unquote(url)
        if path[:3] == "///":
            path = path[2:]
        if len(path) >= 3 and path[0] == "/" and path[2] in ":|" and path[1].isalpha():
            path = path[1] + ":" + path[3:]
        return path.replace("/", "\\")

    def pathname2url(pathname: str) -> str:
        """The URL path of a local path (``C:\\dir\\f`` -> ``///C:/dir/f``)."""
        path = pathname.replace("\\", "/")
        if len(path) >= 2 and path[1] == ":":
            return "///" + path[:2] + quote(path[2:])
        return quote(path)

else:

    # CPython names this parameter ``url`` on Windows (nturl2path) and ``pathname`` elsewhere.
    def url2pathname(pathname: str) -> str:  # type: ignore[misc]
        """The local path of a ``file:`` URL path (percent-decoded)."""
        return unquote(pathname)

    def pathname2url(pathname: str) -> str:
        """The URL path of a local path (percent-encoded)."""
        return quote(pathname)
