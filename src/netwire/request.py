"""``urllib.request``'s twin: the same names, signatures and behaviour, over netwire's Client.

Change ``import urllib.request`` to ``import netwire.request`` (and ``urllib.error`` to
``netwire.error``) and the code runs unchanged, faster: ``urlopen`` sends every ``http:`` and
``https:`` request through one shared, pooled :class:`netwire.Client`, so repeated calls to the
same host reuse the connection where urllib opens a new one per call.

The opener machinery is urllib's documented protocol: an :class:`OpenerDirector` with handlers
(``<scheme>_open``, ``<scheme>_request``, ``<scheme>_response``, ``http_error_<code>``,
``handler_order``). Redirects, authentication and cookies are done by the handlers
(:class:`HTTPRedirectHandler`, the auth handlers, :class:`HTTPCookieProcessor`), not by the
Client (which runs with its own redirect, cookie and auth handling off), so subclasses that
override ``redirect_request`` or ``http_error_302`` keep working.

Where this module differs from urllib, it is on purpose; ``docs/urllib-migration.md`` lists
every difference and why.
"""

from __future__ import annotations

import atexit
import base64
import bisect
import contextlib
import hashlib
import io
import mimetypes
import os
import re
import socket
import ssl
import string
import sys
import tempfile
import threading
import time
import types
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .error import ContentTooShortError, HTTPError, URLError
from .errors import InvalidURL, ReadError, RequestError
from .http.client import Client
from .http.http11 import IncompleteResponse, ParserLimits
from .http.models import Headers, Limits, Timeout
from .http.models import Request as _NRequest
from .http.policy.auth import Challenge, DigestAuth, parse_www_authenticate
from .http.policy.proxies import Proxy, host_bypasses
from .parse import quote, unquote, unquote_to_bytes, unwrap, urljoin, urlparse, urlsplit, urlunparse
from .response import HTTPResponse, addclosehook, addinfourl, make_message
from .url import URL

__all__ = [
    "AbstractBasicAuthHandler",
    "AbstractDigestAuthHandler",
    "BaseHandler",
    "CacheFTPHandler",
    "DataHandler",
    "FTPHandler",
    "FileHandler",
    "HTTPBasicAuthHandler",
    "HTTPCookieProcessor",
    "HTTPDefaultErrorHandler",
    "HTTPDigestAuthHandler",
    "HTTPErrorProcessor",
    "HTTPHandler",
    "HTTPPasswordMgr",
    "HTTPPasswordMgrWithDefaultRealm",
    "HTTPPasswordMgrWithPriorAuth",
    "HTTPRedirectHandler",
    "HTTPSHandler",
    "OpenerDirector",
    "ProxyBasicAuthHandler",
    "ProxyDigestAuthHandler",
    "ProxyHandler",
    "Request",
    "UnknownHandler",
    "build_opener",
    "getproxies",
    "install_opener",
    "pathname2url",
    "url2pathname",
    "urlcleanup",
    "urlopen",
    "urlretrieve",
]

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


# -- the opener ------------------------------------------------------------------------------------


class OpenerDirector:
    """Runs a request through its handlers: request processors, openers, response processors, errors."""

    def __init__(self) -> None:
        self.addheaders: list[tuple[str, str]] = [("User-agent", USER_AGENT)]
        self.handlers: list[BaseHandler] = []
        self.handle_open: dict[str, list[BaseHandler]] = {}
        self.handle_error: dict[Any, Any] = {}
        self.process_response: dict[str, list[BaseHandler]] = {}
        self.process_request: dict[str, list[BaseHandler]] = {}

    def add_handler(self, handler: BaseHandler) -> None:
        """Register ``handler`` for every ``<scheme>_open/_request/_response`` and ``<scheme>_error_<kind>`` it has."""
        if not hasattr(handler, "add_parent"):
            raise TypeError(f"expected BaseHandler instance, got {type(handler)!r}")
        added = False
        for meth in dir(handler):
            if meth in ("redirect_request", "do_open", "proxy_open"):
                continue
            i = meth.find("_")
            if i <= 0:
                continue
            protocol, condition = meth[:i], meth[i + 1 :]
            kind: Any
            if condition.startswith("error"):
                j = condition.find("_") + i + 1
                kind = meth[j + 1 :]
                try:
                    kind = int(kind)
                except ValueError:
                    pass
                lookup = self.handle_error.setdefault(protocol, {})
            elif condition == "open":
                kind, lookup = protocol, self.handle_open
            elif condition == "response":
                kind, lookup = protocol, self.process_response
            elif condition == "request":
                kind, lookup = protocol, self.process_request
            else:
                continue
            handlers = lookup.setdefault(kind, [])
            if handlers:
                bisect.insort(handlers, handler)
            else:
                handlers.append(handler)
            added = True
        if added:
            bisect.insort(self.handlers, handler)
            handler.add_parent(self)

    def close(self) -> None:
        """Nothing to release: connections belong to the shared clients."""

    def _call_chain(self, chain: Mapping[Any, list[Any]], kind: Any, meth_name: str, *args: Any) -> Any:
        for handler in chain.get(kind, ()):
            result = getattr(handler, meth_name)(*args)
            if result is not None:
                return result
        return None

    def open(self, fullurl: str | Request, data: Any = None, timeout: Any = _GLOBAL_DEFAULT_TIMEOUT) -> Any:
        """Open ``fullurl`` (a URL or a Request) and return the response."""
        if isinstance(fullurl, str):
            req = Request(fullurl, data)
        else:
            req = fullurl
            if data is not None:
                req.data = data
        req.timeout = timeout
        protocol = req.type
        processors = self.process_request.get(protocol)
        if processors:
            meth_name = protocol + "_request"
            for processor in processors:
                req = getattr(processor, meth_name)(req)
        # The same audit event as urllib, so audit hooks watching URL opens see ours too.
        sys.audit("urllib.Request", req.full_url, req.data, req.headers, req.get_method())
        response = self._open(req, data)
        processors = self.process_response.get(protocol)
        if processors:
            meth_name = protocol + "_response"
            for processor in processors:
                response = getattr(processor, meth_name)(req, response)
        return response

    def _open(self, req: Request, data: Any = None) -> Any:
        handle_open = self.handle_open
        if "default" in handle_open:
            result = self._call_chain(handle_open, "default", "default_open", req)
            if result:
                return result
        protocol = req.type
        result = self._call_chain(handle_open, protocol, protocol + "_open", req)
        if result:
            return result
        return self._call_chain(handle_open, "unknown", "unknown_open", req)

    def error(self, proto: str, *args: Any) -> Any:
        """Dispatch an error: ``http_error_<code>`` for http/https, ``<proto>_error`` otherwise."""
        if proto in ("http", "https"):
            chain = self.handle_error.get("http", {})
            code = args[2]
            result = self._call_chain(chain, code, f"http_error_{code}", *args)
            if result:
                return result
            return self._call_chain(chain, "default", "http_error_default", *args)
        return self._call_chain(self.handle_error, proto, proto + "_error", *args)


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


class HTTPErrorProcessor(BaseHandler):
    """Turns a non-2xx response into a call of the opener's error handlers."""

    handler_order = 1000

    def http_response(self, request: Request, response: Any) -> Any:
        code = response.code
        if not 200 <= code < 300:
            response = self.parent.error("http", request, response, code, response.msg, response.info())
        return response

    https_response = http_response


class HTTPDefaultErrorHandler(BaseHandler):
    """Raises :class:`~netwire.error.HTTPError` for an error status no other handler took."""

    def http_error_default(self, req: Request, fp: Any, code: int, msg: str, hdrs: Any) -> Any:
        if isinstance(fp, HTTPResponse):
            # A small error body is read now, so its connection goes back to the pool even
            # if the caller never reads or closes the HTTPError.
            fp._prefetch()
        raise HTTPError(req.full_url, code, msg, hdrs, fp)


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


# Credentials a caller set for one origin. Proxy-Authorization too: when the next hop is
# proxied, ProxyHandler adds the proxy's credentials again; when it is not, they must not go
# to the origin server.
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")


_origins: dict[str, tuple[str, str, int | None]] = {}


def _origin_of(url: str) -> tuple[str, str, int | None]:
    origin = _origins.get(url)
    if origin is None:
        origin = _origin_uncached(url)
        if len(_origins) >= 256:
            _origins.clear()
        _origins[url] = origin
    return origin


def _origin_uncached(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443, "ftp": 21}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


class HTTPRedirectHandler(BaseHandler):
    """Follows 301/302/303/307/308 as urllib does (``max_redirections``, ``max_repeats``).

    Unlike urllib, Authorization, Cookie and Proxy-Authorization headers the caller set do not
    follow a redirect to another origin (they were meant for the first one), and a HEAD stays a HEAD.
    """

    max_repeats = 4
    max_redirections = 10
    inf_msg = (
        "The HTTP server returned a redirect error that would lead to an infinite loop.\n"
        "The last 30x error message was:\n"
    )

    def redirect_request(
        self, req: Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Request | None:
        """The Request to send for this redirect, None to let another handler try, or raise HTTPError."""
        m = req.get_method()
        if not ((code in (301, 302, 303, 307, 308) and m in ("GET", "HEAD")) or (code in (301, 302, 303) and m == "POST")):
            raise HTTPError(req.full_url, code, msg, headers, fp)
        newurl = newurl.replace(" ", "%20")
        cross_origin = _origin_of(req.full_url) != _origin_of(newurl)
        newheaders = {
            k: v
            for k, v in req.headers.items()
            if k.lower() not in ("content-length", "content-type")
            and not (cross_origin and k.lower() in _CREDENTIAL_HEADERS)
        }
        return Request(
            newurl,
            headers=newheaders,
            origin_req_host=req.origin_req_host,
            unverifiable=True,
            method="HEAD" if m == "HEAD" else "GET",
        )

    def http_error_302(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        if "location" in headers:
            newurl = headers["location"]
        elif "uri" in headers:
            newurl = headers["uri"]
        else:
            return None
        urlparts = urlparse(newurl)
        if urlparts.scheme not in ("http", "https", "ftp", ""):
            raise HTTPError(newurl, code, f"{msg} - Redirection to url '{newurl}' is not allowed", headers, fp)
        if not urlparts.path and urlparts.netloc:
            parts = list(urlparts)
            parts[2] = "/"
            newurl = urlunparse(parts)
        else:
            newurl = urlunparse(urlparts)
        # Location should be ASCII; a server sending Latin-1 gets it percent-encoded. (quote()
        # with every punctuation character safe changes nothing in a printable ASCII URL.)
        if not (newurl.isascii() and newurl.isprintable() and " " not in newurl):
            newurl = quote(newurl, encoding="iso-8859-1", safe=string.punctuation)
        newurl = urljoin(req.full_url, newurl)
        new = self.redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        visited: dict[str, int]
        if hasattr(req, "redirect_dict"):
            visited = new.redirect_dict = req.redirect_dict  # type: ignore[attr-defined]
            if visited.get(newurl, 0) >= self.max_repeats or len(visited) >= self.max_redirections:
                raise HTTPError(req.full_url, code, self.inf_msg + msg, headers, fp)
        else:
            visited = new.redirect_dict = req.redirect_dict = {}  # type: ignore[attr-defined]
        visited[newurl] = visited.get(newurl, 0) + 1
        fp.read()
        fp.close()
        return self.parent.open(new, timeout=req.timeout)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


# -- proxies ---------------------------------------------------------------------------------------


def _parse_proxy(proxy: str) -> tuple[str | None, str | None, str | None, str]:
    """(scheme, user, password, host:port) of a proxy URL or bare authority."""
    scheme, r_scheme = _splittype(proxy)
    if not r_scheme.startswith("/"):
        scheme = None
        authority = proxy
    else:
        if not r_scheme.startswith("//"):
            raise ValueError(f"proxy URL with no authority: {proxy!r}")
        at = r_scheme.find("@")
        end = r_scheme.find("/", at if at >= 0 else 2)
        authority = r_scheme[2:] if end == -1 else r_scheme[2:end]
    userinfo, hostport = _splituser(authority)
    user: str | None
    password: str | None
    if userinfo is not None:
        user, password = _splitpasswd(userinfo)
    else:
        user = password = None
    return scheme, user, password, hostport


def getproxies_environment() -> dict[str, str]:
    """Proxies from ``<scheme>_proxy`` variables (lower case wins), urllib's result shape.

    In a CGI script (REQUEST_METHOD set) ``HTTP_PROXY`` is ignored: a client controls it
    through its ``Proxy:`` header (httpoxy).
    """
    proxies: dict[str, str] = {}
    for name, value in os.environ.items():
        lname = name.lower()
        if value and lname.endswith("_proxy"):
            proxies[lname[:-6]] = value
    if "REQUEST_METHOD" in os.environ:
        proxies.pop("http", None)
    for name, value in os.environ.items():
        if name.endswith("_proxy"):
            lname = name.lower()
            if value:
                proxies[lname[:-6]] = value
            else:
                proxies.pop(lname[:-6], None)
    return proxies


def getproxies() -> dict[str, str]:
    """The proxies to use, keyed by scheme (``{"http": "http://proxy:3128", "no": "localhost"}``).

    Read from the environment on every platform (urllib also reads the Windows registry and
    macOS system settings; netwire does not).
    """
    return getproxies_environment()


def proxy_bypass_environment(host: str, proxies: Mapping[str, str] | None = None) -> bool:
    """True if ``no_proxy`` says to reach ``host`` (``host`` or ``host:port``) directly."""
    if proxies is None:
        proxies = getproxies_environment()
    return host_bypasses(host, proxies.get("no"))


proxy_bypass = proxy_bypass_environment


class ProxyHandler(BaseHandler):
    """Sends requests through the proxies in ``proxies`` (``{"http": "http://proxy:3128"}``).

    ``None`` reads them from the environment. Besides urllib's http/https proxies, a
    ``socks5://`` or ``socks5h://`` proxy URL works (netwire's Client speaks SOCKS5).
    """

    handler_order = 100

    def __init__(self, proxies: Mapping[str, str] | None = None) -> None:
        if proxies is None:
            proxies = getproxies()
        if not hasattr(proxies, "keys"):
            raise TypeError("proxies must be a mapping")
        self.proxies = proxies
        for type_, url in proxies.items():
            type_ = type_.lower()
            setattr(
                self,
                f"{type_}_open",
                lambda r, proxy=url, type=type_, meth=self.proxy_open: meth(r, proxy, type),
            )

    def proxy_open(self, req: Request, proxy: str, type: str) -> Any:
        orig_type = req.type
        proxy_type, user, password, hostport = _parse_proxy(proxy)
        if proxy_type is None:
            proxy_type = orig_type
        if req.host and proxy_bypass(req.host):
            return None
        if user and password:
            user_pass = f"{unquote(user)}:{unquote(password)}"
            creds = base64.b64encode(user_pass.encode()).decode("ascii")
            req.add_header("Proxy-authorization", "Basic " + creds)
        hostport = unquote(hostport)
        if proxy_type in ("socks5", "socks5h", "socks") and orig_type in ("http", "https"):
            # The Client tunnels through SOCKS itself: keep the request's scheme and handler.
            req._proxy = (proxy_type, hostport)
            return None
        req.set_proxy(hostport, proxy_type)
        if orig_type == proxy_type or orig_type == "https":
            return None
        return self.parent.open(req, timeout=req.timeout)


# -- HTTP and HTTPS --------------------------------------------------------------------------------

_CLIENT_LIMITS = Limits(
    # urllib opens as many connections as the caller has responses open: no pool ceiling here
    # (a bounded pool would make the 21st unread response block instead).
    max_connections=None,
    max_connections_per_host=None,
    max_idle_per_host=8,
    keepalive_expiry=30.0,
)
_clients: dict[Any, tuple[Any, Client]] = {}
_clients_lock = threading.Lock()
_MAX_CLIENTS = 16


_URLLIB_PARSER_LIMITS = ParserLimits(http09_status_as_10=True)


def _make_client(verify: Any) -> Client:
    client = Client(
        verify=verify,
        limits=_CLIENT_LIMITS,
        follow_redirects=False,  # HTTPRedirectHandler's job
        cookies=False,  # HTTPCookieProcessor's job
        trust_env=False,  # ProxyHandler's job
        decompress=False,  # urllib hands out the body as sent
        expect_continue=None,
        timeout=None,
        # http.client reads an "HTTP/0.9 200 OK" status line as 1.0 (embedded servers send it).
        parser_limits=_URLLIB_PARSER_LIMITS,
    )
    client.headers = Headers()  # every header comes from the Request, as urllib builds it
    return client


def _client_for(context: ssl.SSLContext | None) -> Client:
    """The shared Client for a TLS setting: one for the default, one per SSLContext."""
    key = None if context is None else id(context)
    entry = _clients.get(key)
    if entry is not None and entry[0] is context:
        return entry[1]
    with _clients_lock:
        entry = _clients.get(key)
        if entry is not None and entry[0] is context:
            return entry[1]
        if len(_clients) >= _MAX_CLIENTS:
            # Evict the oldest per-context client (dicts keep insertion order).
            for old_key in list(_clients):
                if old_key is not None:
                    _clients.pop(old_key)[1].close()
                    break
        client = _make_client(True if context is None else context)
        _clients[key] = (context, client)
        return client


@atexit.register
def _close_clients() -> None:
    with _clients_lock:
        for _, client in _clients.values():
            client.close()
        _clients.clear()


_timeouts: dict[Any, Timeout] = {}


def _timeout_of(value: Any) -> Timeout:
    if value is _GLOBAL_DEFAULT_TIMEOUT:
        value = socket.getdefaulttimeout()
    t = _timeouts.get(value)
    if t is None:
        t = Timeout(value)
        if len(_timeouts) < 64:
            _timeouts[value] = t
    return t


_urls: dict[str, URL] = {}


def _url_of(text: str) -> URL:
    url = _urls.get(text)
    if url is None:
        url = URL(text)
        if len(_urls) >= 256:
            _urls.clear()
        _urls[text] = url
    return url


_proxies: dict[tuple[str, str, Any], Proxy] = {}


def _proxy_of(kind: str, hostport: str, auth: tuple[str, str] | None) -> Proxy:
    key = (kind, hostport, auth)
    proxy = _proxies.get(key)
    if proxy is None:
        proxy = Proxy.from_url(f"{kind}://{hostport}", auth=auth)
        if len(_proxies) < 64:
            _proxies[key] = proxy
    return proxy


def _basic_credentials(value: str) -> tuple[str, str] | None:
    scheme, _, token = str(value).strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(token.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE_RE = re.compile(r"[\r\n\x00]")
_BAD_TARGET_RE = re.compile(r"[\x00-\x20\x7f]")
_METHODS_EXPECTING_BODY = frozenset(("PATCH", "POST", "PUT"))


# (name as given, value) -> (name as sent, validated value): the same few fields come back on
# every request, and title-casing plus validating them is most of a request's own cost here.
_fields: dict[tuple[str, str], tuple[str, str]] = {}


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bytes | bytearray):
        text = bytes(value).decode("latin-1")
    else:
        text = str(value)
    if _BAD_VALUE_RE.search(text) is not None:
        # urllib lets "\r\n " continuation lines through; netwire refuses any CR/LF (header injection).
        raise ValueError(f"Invalid header value {text!r} for header {name!r}")
    return text


def _text_file_chunks(data: Any) -> Iterator[bytes]:
    # http.client's rule for a file opened in text mode: its text is sent as ISO-8859-1.
    while True:
        block = data.read(8192)
        if not block:
            return
        yield block.encode("iso-8859-1")


def _bytes_chunks(chunks: Iterable[Any]) -> Iterator[bytes]:
    for chunk in chunks:
        if isinstance(chunk, str):
            # As with urllib: an iterable body must give bytes (a dict would send its keys).
            raise TypeError(f"an iterable request body must give bytes, not str ({chunk[:20]!r})")
        yield bytes(chunk)


def _body_of(data: Any) -> Any:
    """urllib's body types (bytes, a file, an iterable of bytes, a buffer) as the Client sends them."""
    if data is None or isinstance(data, bytes | bytearray):
        return data
    if isinstance(data, str):
        return data.encode("iso-8859-1")  # http.client's rule for a str body
    if hasattr(data, "read"):
        if isinstance(data, io.TextIOBase):
            return _text_file_chunks(data)
        return data
    try:
        return memoryview(data).cast("B").tobytes()
    except TypeError:
        pass
    return _bytes_chunks(data)


def _percent_encode_non_ascii(text: str) -> str:
    return "".join(c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in text)


_remote_disconnected: dict[bool, type[IncompleteResponse]] = {}


def _remote_disconnected_class() -> type[IncompleteResponse]:
    """netwire's IncompleteResponse that is also a ``ConnectionResetError`` and, when the
    program has loaded ``http.client``, an ``http.client.RemoteDisconnected``.

    urllib raises RemoteDisconnected when a server closes without answering, and retry code
    catches it as ``except (RemoteDisconnected, ConnectionResetError)``. netwire never imports
    http.client; but code that names RemoteDisconnected has imported it, so the class is taken
    from ``sys.modules`` then (only the real class makes ``except RemoteDisconnected`` work).
    """
    http_client = sys.modules.get("http.client")
    base: type[BaseException] = getattr(http_client, "RemoteDisconnected", ConnectionResetError)
    loaded = base is not ConnectionResetError
    cls = _remote_disconnected.get(loaded)
    if cls is None:

        class RemoteDisconnected(IncompleteResponse, base):  # type: ignore[valid-type,misc]
            """The server closed the connection without sending a response (urlopen's error)."""

            def __init__(self, message: str) -> None:
                IncompleteResponse.__init__(self, message, nothing_received=True)
                self.line = ""  # http.client's BadStatusLine attribute: the (absent) status line

        RemoteDisconnected.__module__ = __name__
        RemoteDisconnected.__qualname__ = "RemoteDisconnected"
        cls = _remote_disconnected[loaded] = RemoteDisconnected
    return cls


def _as_urlopen_error(exc: URLError) -> URLError:
    """The error ``urlopen`` raises for ``exc``, a failure of the Client, in urllib's shape."""
    cause: URLError = exc
    if isinstance(exc, ReadError) and isinstance(exc.reason, IncompleteResponse):
        cause = exc.reason  # a reused connection the server had closed, and the retry too
    if isinstance(cause, IncompleteResponse) and cause.nothing_received:
        # urllib raises http.client.RemoteDisconnected here (a ConnectionResetError).
        new = _remote_disconnected_class()(str(cause))
        new.request = getattr(exc, "request", None)
        new.__cause__ = exc
        exc = new
    if isinstance(exc, RequestError):
        # urllib's URLError(reason): args[0] is the reason (the socket error, ...), and
        # str() reads "<urlopen error [Errno 111] Connection refused>". netwire's own
        # message stays in ``message``.
        exc.args = (exc.reason,)
        exc._urlopen_form = True
    return exc


def _check_one_host(authority: str, url: URL, full_url: str) -> None:
    """Refuse a URL whose host urllib's parse (``authority``: Host header, what the caller's
    ``urllib.parse`` checks see) and the WHATWG parse (``url``: where we connect) read differently.

    ``http://evil.example\\.good.example/`` is host ``evil.example\\.good.example`` to urllib
    (it passes an ``endswith(".good.example")`` allow-list) but ``evil.example`` to WHATWG;
    sending one and connecting to the other would defeat the caller's check.
    """
    if "\\" not in authority:
        # Same host and port once both are normalised (case, IDNA, percent-decoding, default port)?
        try:
            if _url_of(f"{url.scheme}://{authority}/").host == url.host:
                return
        except ValueError:
            pass
    raise InvalidURL(
        f"the host of {full_url!r} reads as {authority!r} to urllib.parse but as {url.host!r} "
        "to the WHATWG URL parser; refusing to connect to one and name the other"
    )


# The handlers' debuglevel default: 0 up to CPython 3.11, None (http.client's class default)
# from 3.12 on; the same as the running urllib's, for code that inspects or passes it.
_DEBUGLEVEL_DEFAULT: int | None = 0 if sys.version_info < (3, 12) else None


class AbstractHTTPHandler(BaseHandler):
    """``http_request`` fills in Host, Content-type/length and the opener's headers;
    ``do_open`` sends the request through a shared netwire Client."""

    def __init__(self, debuglevel: int | None = _DEBUGLEVEL_DEFAULT) -> None:
        self._debuglevel = debuglevel if debuglevel is not None else 0

    def set_http_debuglevel(self, level: int) -> None:
        self._debuglevel = level

    def _get_content_length(self, request: Request) -> int | None:
        data = request.data
        if data is None:
            return 0 if request.get_method().upper() in _METHODS_EXPECTING_BODY else None
        if hasattr(data, "read"):
            return None
        try:
            return memoryview(data).nbytes
        except TypeError:
            pass
        if isinstance(data, str):
            return len(data)
        return None

    def do_request_(self, request: Request) -> Request:
        host = request.host
        if not host:
            raise URLError("no host given")
        if request.data is not None:
            data = request.data
            if isinstance(data, str):
                raise TypeError(
                    "POST data should be bytes, an iterable of bytes, or a file object. It cannot be of type str."
                )
            if not request.has_header("Content-type"):
                request.add_unredirected_header("Content-type", "application/x-www-form-urlencoded")
            if not request.has_header("Content-length") and not request.has_header("Transfer-encoding"):
                content_length = self._get_content_length(request)
                if content_length is not None:
                    request.add_unredirected_header("Content-length", str(content_length))
                else:
                    request.add_unredirected_header("Transfer-encoding", "chunked")
        sel_host = host
        if request.has_proxy():
            _scheme, sel = _splittype(request.selector)
            sel_host = _splithost(sel)[0] or host
        if not request.has_header("Host"):
            request.add_unredirected_header("Host", sel_host)
        for name, value in self.parent.addheaders:
            name = name.capitalize()
            if not request.has_header(name):
                request.add_unredirected_header(name, value)
        return request

    def _client(self, req: Request) -> Client:
        return _client_for(None)

    def do_open(self, http_class: Any, req: Request, **http_conn_args: Any) -> HTTPResponse:
        """Send ``req`` through the shared Client; the response body stays on its connection.

        ``http_class`` (an ``http.client`` connection class in urllib) is accepted and ignored.
        """
        host = req.host
        if not host:
            raise URLError("no host given")
        if "@" in host:
            # urllib cannot connect to "user:pw@host" either (a bad port, or a failed lookup);
            # netwire says why instead of sending the credentials in a Host header.
            raise InvalidURL(f"credentials in the URL are not used: {host!r}; use HTTPBasicAuthHandler")
        found = _BAD_TARGET_RE.search(host)
        if found is not None:
            # http.client's check and message (it raises its InvalidURL; this is netwire's).
            raise InvalidURL(f"URL can't contain control characters. {host!r} (found at least {found.group()!r})")
        method = req.get_method()
        if _TOKEN_RE.fullmatch(method) is None:
            raise ValueError(f"method can't contain control characters. {method!r}")
        unredirected = req.unredirected_hdrs
        merged = dict(unredirected)
        for k, v in req.headers.items():
            if k not in merged:
                merged[k] = v
        items: list[tuple[str, str]] = []
        names: set[str] = set()
        fields = _fields
        for k, v in merged.items():
            field = fields.get((k, v)) if type(v) is str else None
            if field is None:
                name = k.title()
                if _TOKEN_RE.fullmatch(name) is None:
                    raise ValueError(f"Invalid header name {name!r}")
                field = (name, _header_value(name, v))
                if type(v) is str:
                    if len(fields) >= 512:
                        fields.clear()
                    fields[(k, v)] = field
            items.append(field)
            names.add(field[0])
        if "Accept-Encoding" not in names:
            # http.client's default, first on the wire: a body as the server stores it.
            items.insert(0, ("Accept-Encoding", "identity"))
        data = req.data
        if (
            data is None
            and "Content-Length" not in names
            and "Transfer-Encoding" not in names
            and method.upper() in _METHODS_EXPECTING_BODY
        ):
            items.append(("Content-Length", "0"))

        proxy: Any = None
        selector = req.selector
        proxy_info = getattr(req, "_proxy", None)
        if proxy_info is not None:
            kind, hostport = proxy_info
            auth = None
            authorization = None
            if req._tunnel_host or kind.startswith("socks"):
                # Proxy credentials belong to the CONNECT (or SOCKS) handshake, not to the origin:
                # verbatim to a CONNECT whatever their scheme (urllib), Basic ones to SOCKS5.
                for i, (name, value) in enumerate(items):
                    if name == "Proxy-Authorization":
                        if kind.startswith("socks"):
                            auth = _basic_credentials(value)
                        else:
                            authorization = value
                        del items[i]
                        break
            proxy = _proxy_of("socks5h" if kind == "socks" else kind, hostport, auth)
            if authorization is not None:
                proxy = proxy.with_authorization(authorization)
            selector = selector.partition("#")[0]
        if _BAD_TARGET_RE.search(selector) is not None:
            found = _BAD_TARGET_RE.search(selector)
            assert found is not None
            raise InvalidURL(f"URL can't contain control characters. {selector!r} (found at least {found.group()!r})")
        if not selector.isascii():
            selector = _percent_encode_non_ascii(selector)

        url = _url_of(req.full_url.partition("#")[0])
        authority = req._tunnel_host or (None if req.has_proxy() else host)
        if authority is not None and authority.lower() != url.host:
            _check_one_host(authority, url, req.full_url)
        extensions: dict[str, Any] = {"target": selector or "/"}
        body = _body_of(data)
        if body is not None and hasattr(body, "seek") and hasattr(body, "tell"):
            try:
                extensions["body_start"] = body.tell()
            except OSError:
                pass
        nreq = _NRequest(method, url, Headers._from_list(items), body, extensions)
        client = self._client(req)
        debug = self._debuglevel
        if debug > 0:
            print("send:", repr(client._head(nreq, proxy)))
        try:
            if proxy is None:
                response = client.send(nreq, stream=True, timeout=_timeout_of(req.timeout))
            else:
                response = client.send(nreq, stream=True, timeout=_timeout_of(req.timeout), proxy=proxy)
        except URLError as exc:
            raise _as_urlopen_error(exc)  # its cause is kept (or set) there
        except OSError as err:
            raise URLError(err) from err
        if debug > 0:
            print("reply:", repr(f"HTTP/{response.http_version} {response.status} {response.reason}\r\n"))
            for name, value in response.headers.multi_items():
                print("header:", name, value)
        return HTTPResponse(response, req.get_full_url(), method=method, debuglevel=debug)


class HTTPHandler(AbstractHTTPHandler):
    """Opens ``http:`` URLs."""

    def http_open(self, req: Request) -> HTTPResponse:
        return self.do_open(None, req)

    http_request = AbstractHTTPHandler.do_request_


_default_context_cache: dict[Any, ssl.SSLContext] = {}


class HTTPSHandler(AbstractHTTPHandler):
    """Opens ``https:`` URLs; ``context`` is the ``ssl.SSLContext`` to use (system CAs when None)."""

    def __init__(
        self,
        debuglevel: int | None = _DEBUGLEVEL_DEFAULT,
        context: ssl.SSLContext | None = None,
        check_hostname: bool | None = None,
    ) -> None:
        super().__init__(debuglevel)
        self._context = context
        self._check_hostname = check_hostname
        if context is not None and check_hostname is not None:
            context.check_hostname = check_hostname

    def _client(self, req: Request) -> Client:
        context = self._context
        if context is None:
            factory = ssl._create_default_https_context
            if factory is not ssl.create_default_context:
                # Code that replaces ssl._create_default_https_context (to trust a private CA,
                # or to turn verification off) gets the same effect as with urllib.
                context = _default_context_cache.get(factory)
                if context is None:
                    context = _default_context_cache[factory] = factory()
        return _client_for(context)

    def https_open(self, req: Request) -> HTTPResponse:
        return self.do_open(None, req)

    https_request = AbstractHTTPHandler.do_request_


# -- cookies ---------------------------------------------------------------------------------------


class HTTPCookieProcessor(BaseHandler):
    """Adds the jar's cookies to requests and stores the cookies responses set."""

    def __init__(self, cookiejar: Any = None) -> None:
        if cookiejar is None:
            import http.cookiejar

            cookiejar = http.cookiejar.CookieJar()
        self.cookiejar = cookiejar

    def http_request(self, request: Request) -> Request:
        self.cookiejar.add_cookie_header(request)
        return request

    def http_response(self, request: Request, response: Any) -> Any:
        self.cookiejar.extract_cookies(response, request)
        return response

    https_request = http_request
    https_response = http_response


# -- authentication --------------------------------------------------------------------------------


class HTTPPasswordMgr:
    """Credentials by (realm, URI prefix)."""

    def __init__(self) -> None:
        self.passwd: dict[Any, dict[tuple[tuple[str, str], ...], tuple[str, str]]] = {}

    def add_password(self, realm: str | None, uri: str | Iterable[str], user: str, passwd: str) -> None:
        uris = [uri] if isinstance(uri, str) else list(uri)
        domains = self.passwd.setdefault(realm, {})
        for default_port in (True, False):
            reduced = tuple(self.reduce_uri(u, default_port) for u in uris)
            domains[reduced] = (user, passwd)

    def find_user_password(self, realm: str | None, authuri: str) -> tuple[str | None, str | None]:
        domains = self.passwd.get(realm, {})
        for default_port in (True, False):
            reduced_authuri = self.reduce_uri(authuri, default_port)
            for uris, authinfo in domains.items():
                for uri in uris:
                    if self.is_suburi(uri, reduced_authuri):
                        return authinfo
        return None, None

    def reduce_uri(self, uri: str, default_port: bool = True) -> tuple[str, str]:
        """(authority, path) of a URI or a bare authority; the default port added when asked."""
        parts = urlsplit(uri)
        scheme: str | None
        if parts[1]:
            scheme, authority, path = parts[0], parts[1], parts[2] or "/"
        else:
            scheme, authority, path = None, uri, "/"
        host, port = _splitport(authority)
        if default_port and port is None and scheme is not None:
            dport = {"http": 80, "https": 443}.get(scheme)
            if dport is not None:
                authority = f"{host}:{dport}"
        return authority, path

    def is_suburi(self, base: tuple[str, str], test: tuple[str, str]) -> bool:
        """True if ``test`` is ``base`` or below it (both reduced)."""
        if base == test:
            return True
        if base[0] != test[0]:
            return False
        prefix = base[1]
        if prefix[-1:] != "/":
            prefix += "/"
        return test[1].startswith(prefix)


class HTTPPasswordMgrWithDefaultRealm(HTTPPasswordMgr):
    """Falls back to the credentials added for realm None."""

    def find_user_password(self, realm: str | None, authuri: str) -> tuple[str | None, str | None]:
        user, password = super().find_user_password(realm, authuri)
        if user is not None:
            return user, password
        return super().find_user_password(None, authuri)


class HTTPPasswordMgrWithPriorAuth(HTTPPasswordMgrWithDefaultRealm):
    """Remembers which URIs accepted credentials, so they are sent before any 401."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.authenticated: dict[tuple[str, str], bool] = {}
        super().__init__(*args, **kwargs)

    def add_password(
        self, realm: str | None, uri: str | Iterable[str], user: str, passwd: str, is_authenticated: bool = False
    ) -> None:
        uris = [uri] if isinstance(uri, str) else list(uri)
        self.update_authenticated(uris, is_authenticated)
        if realm is not None:
            super().add_password(None, uris, user, passwd)
        super().add_password(realm, uris, user, passwd)

    def update_authenticated(self, uri: str | Iterable[str], is_authenticated: bool = False) -> None:
        uris = [uri] if isinstance(uri, str) else list(uri)
        for default_port in (True, False):
            for u in uris:
                self.authenticated[self.reduce_uri(u, default_port)] = is_authenticated

    def is_authenticated(self, authuri: str) -> bool | None:
        for default_port in (True, False):
            reduced = self.reduce_uri(authuri, default_port)
            for uri in self.authenticated:
                if self.is_suburi(uri, reduced):
                    return self.authenticated[uri]
        return None


class AbstractBasicAuthHandler:
    """Answers Basic challenges with the password manager's credentials."""

    auth_header = "Authorization"
    parent: Any

    def __init__(self, password_mgr: Any = None) -> None:
        if password_mgr is None:
            password_mgr = HTTPPasswordMgr()
        self.passwd = password_mgr
        self.add_password = self.passwd.add_password

    # The challenges of a header as urllib reads them: groups (scheme, quote, realm). Besides the
    # RFC's quoted-string (escapes allowed), a realm in single quotes or unquoted is accepted,
    # as urllib does: servers send both in the wild. An unquoted realm ends at a space or comma
    # (urllib's runs on to the next quote; see docs/urllib-migration.md).
    rx = re.compile(
        r"(?:^|,)[ \t]*([^ \t,]+)[ \t]+realm="
        r"""(["']?)((?<=")(?:[^"\\]|\\.)*|(?<=')[^']*|(?<!["'])[^ \t,"']*)\2""",
        re.IGNORECASE,
    )

    def _parse_realm(self, header: str) -> Iterator[tuple[str, str | None]]:
        """(scheme, realm) of each challenge in ``header`` that has a realm; else (scheme, None)."""
        found = False
        for match in self.rx.finditer(header):
            scheme, quote_char, realm = match.groups()
            if quote_char == '"':
                realm = _QUOTED_PAIR_RE.sub(r"\1", realm)
            elif not quote_char:
                warnings.warn("Basic Auth Realm was unquoted", UserWarning, 3)
            found = True
            yield scheme, realm
        if not found:
            yield (header.split()[0] if header.split() else ""), None

    def http_error_auth_reqed(self, authreq: str, host: Any, req: Request, headers: Any) -> Any:
        values = headers.get_all(authreq)
        if not values:
            return None
        unsupported = None
        for value in values:
            for scheme, realm in self._parse_realm(value):
                if scheme.lower() != "basic":
                    unsupported = scheme
                    continue
                if realm is not None:
                    # The first Basic challenge with a realm is answered, as in urllib.
                    return self.retry_http_basic_auth(host, req, realm)
            # urllib needs realm= right after the scheme; RFC 9110 allows any parameter order
            # (Basic charset="UTF-8", realm="x"): read those with the full parser.
            for challenge in parse_www_authenticate(value):
                realm = challenge.params.get("realm")
                if challenge.is_scheme("basic") and realm is not None:
                    return self.retry_http_basic_auth(host, req, realm)
        if unsupported is not None:
            raise ValueError(f"AbstractBasicAuthHandler does not support the following scheme: {unsupported!r}")
        return None

    def retry_http_basic_auth(self, host: Any, req: Request, realm: str) -> Any:
        user, pw = self.passwd.find_user_password(realm, host)
        if pw is None:
            return None
        auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode("ascii")
        if req.get_header(self.auth_header, None) == auth:
            return None  # these credentials were refused already
        req.add_unredirected_header(self.auth_header, auth)
        _discard_challenge()
        return self.parent.open(req, timeout=req.timeout)

    def http_request(self, req: Request) -> Request:
        is_authenticated = getattr(self.passwd, "is_authenticated", None)
        if is_authenticated is None or not is_authenticated(req.full_url):
            return req
        if not req.has_header("Authorization"):
            user, passwd = self.passwd.find_user_password(None, req.full_url)
            credentials = base64.standard_b64encode(f"{user}:{passwd}".encode()).decode()
            req.add_unredirected_header("Authorization", f"Basic {credentials.strip()}")
        return req

    def http_response(self, req: Request, response: Any) -> Any:
        if hasattr(self.passwd, "is_authenticated"):
            self.passwd.update_authenticated(req.full_url, 200 <= response.code < 300)
        return response

    https_request = http_request
    https_response = http_response


class HTTPBasicAuthHandler(AbstractBasicAuthHandler, BaseHandler):
    """Answers 401 Basic challenges from origin servers."""

    auth_header = "Authorization"

    def http_error_401(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        url = req.full_url
        return _retrying(fp, lambda: self.http_error_auth_reqed("www-authenticate", url, req, headers))


class ProxyBasicAuthHandler(AbstractBasicAuthHandler, BaseHandler):
    """Answers 407 Basic challenges from proxies."""

    auth_header = "Proxy-authorization"

    def http_error_407(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        authority = req.host
        return _retrying(fp, lambda: self.http_error_auth_reqed("proxy-authenticate", authority, req, headers))


_pending_discard = threading.local()


def _retrying(fp: Any, retry: Callable[[], Any]) -> Any:
    # A handler that answers a challenge sends the request again while the challenge's
    # response is unread: drain it first so its connection is reused, not left checked out.
    _pending_discard.fp = fp
    try:
        return retry()
    finally:
        _pending_discard.fp = None


def _discard_challenge() -> None:
    fp = getattr(_pending_discard, "fp", None)
    if fp is not None:
        _pending_discard.fp = None
        _discard(fp)


class AbstractDigestAuthHandler:
    """Answers Digest challenges (RFC 7616: MD5, SHA-256, their -sess variants, qop auth/auth-int)
    with the password manager's credentials; the digest itself is :class:`netwire.policy.auth.DigestAuth`'s."""

    auth_header = "Authorization"
    parent: Any

    def __init__(self, passwd: Any = None) -> None:
        if passwd is None:
            passwd = HTTPPasswordMgr()
        self.passwd = passwd
        self.add_password = self.passwd.add_password
        self.retried = 0
        self.nonce_count = 0
        self.last_nonce: str | None = None
        self._digests: dict[tuple[str, str], DigestAuth] = {}

    def reset_retry_count(self) -> None:
        self.retried = 0

    def http_error_auth_reqed(self, auth_header: str, host: Any, req: Request, headers: Any) -> Any:
        authreq = headers.get(auth_header, None)
        if self.retried > 5:
            # Don't fail endlessly: the server keeps refusing what we send.
            raise HTTPError(req.full_url, 401, "digest auth failed", headers, None)
        self.retried += 1
        if authreq:
            values = headers.get_all(auth_header) or [authreq]
            challenges = [c for v in values for c in parse_www_authenticate(v)]
            if any(c.is_scheme("digest") for c in challenges):
                return self.retry_http_digest_auth(req, authreq)
            if not any(c.is_scheme("basic") for c in challenges):
                scheme = authreq.split()[0] if authreq.split() else authreq
                raise ValueError(f"AbstractDigestAuthHandler does not support the following scheme: '{scheme}'")
        return None

    def _challenge(self, req: Request, auth: str) -> dict[str, str] | None:
        for challenge in parse_www_authenticate(auth):
            if challenge.is_scheme("digest"):
                return challenge.params
        return None

    def retry_http_digest_auth(self, req: Request, auth: str) -> Any:
        chal = self._challenge(req, auth)
        if chal is None:
            return None
        value = self.get_authorization(req, chal)
        if not value:
            return None
        auth_val = f"Digest {value}"
        if req.headers.get(self.auth_header, None) == auth_val:
            return None
        req.add_unredirected_header(self.auth_header, auth_val)
        _discard_challenge()
        return self.parent.open(req, timeout=req.timeout)

    def get_authorization(self, req: Request, chal: Mapping[str, str]) -> str | None:
        """The Digest credentials (without the scheme) answering ``chal`` for ``req``, or None."""
        if "realm" not in chal or "nonce" not in chal:
            return None
        realm = chal["realm"]
        # Raises ValueError for an algorithm we do not answer, as urllib does.
        self.get_algorithm_impls(chal.get("algorithm", "MD5"))
        user, pw = self.passwd.find_user_password(realm, req.full_url)
        if user is None or pw is None:
            return None
        digest = self._digests.get((user, pw))
        if digest is None:
            digest = self._digests[(user, pw)] = DigestAuth(user, pw)
        data = req.data
        body = data if isinstance(data, bytes | bytearray) else None
        target = req.selector.partition("#")[0] or "/"
        header = digest.authorization(
            _SelectorRequest(req.get_method(), body, target),  # type: ignore[arg-type]
            Challenge("Digest", dict(chal)),
            cnonce=self.get_cnonce(chal["nonce"]),
        )
        if header is None:
            return None
        self.last_nonce = chal["nonce"]
        return header.partition(" ")[2]


    def get_cnonce(self, nonce: str) -> str:
        """A fresh client nonce (16 hex digits) for a response to ``nonce``."""
        # Unpredictable (os.urandom), and different per request even with a fixed clock.
        seed = f"{self.nonce_count}:{nonce}:{time.time()}:".encode() + os.urandom(16)
        return hashlib.sha256(seed).hexdigest()[:16]

    def get_algorithm_impls(self, algorithm: str) -> tuple[Callable[[str], str], Callable[[str, str], str]]:
        """``(H, KD)`` of a digest ``algorithm`` as urllib defines them: ``H(text)`` the hex
        digest of ``text``, ``KD(secret, data)`` that of ``"secret:data"``.

        MD5, SHA-256 and SHA-512-256 (and their ``-sess`` names) are answered; any other name
        raises ``ValueError("Unsupported digest authentication algorithm ...")`` as in urllib
        (which also knows the non-standard SHA-1 ``SHA``; netwire does not answer it).
        """
        name = algorithm.upper()
        name = name.removesuffix("-SESS")
        hash_name = _DIGEST_HASHLIB_NAMES.get(name)
        if hash_name is None or hash_name not in hashlib.algorithms_available:
            raise ValueError(f"Unsupported digest authentication algorithm {algorithm!r}")

        def H(x: str) -> str:  # urllib's (and RFC 7616's) name
            return hashlib.new(hash_name, x.encode("utf-8")).hexdigest()

        def KD(s: str, d: str) -> str:
            return H(f"{s}:{d}")

        return H, KD

    def get_entity_digest(self, data: Any, chal: Mapping[str, str]) -> str | None:
        """None, as in urllib: qop ``auth-int`` (the body's hash) is computed by netwire's
        digest itself when a server asks for it."""
        return None


# RFC 7616 algorithm names -> hashlib names.
_DIGEST_HASHLIB_NAMES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


class _SelectorRequest:
    """What DigestAuth reads of a request, with urllib's selector as the digest ``uri``."""

    def __init__(self, method: str, content: bytes | bytearray | None, target: str) -> None:
        self.method = method
        self.content = content
        self.headers = Headers()
        self.extensions: dict[str, Any] = {}
        self.url = _TargetURL(target)


class _TargetURL:
    def __init__(self, target: str) -> None:
        self.request_target = target


class HTTPDigestAuthHandler(BaseHandler, AbstractDigestAuthHandler):
    """Answers 401 Digest challenges from origin servers (tried before Basic)."""

    auth_header = "Authorization"
    handler_order = 490

    def http_error_401(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        host = urlparse(req.full_url)[1]
        retry = _retrying(fp, lambda: self.http_error_auth_reqed("www-authenticate", host, req, headers))
        self.reset_retry_count()
        return retry


class ProxyDigestAuthHandler(BaseHandler, AbstractDigestAuthHandler):
    """Answers 407 Digest challenges from proxies."""

    auth_header = "Proxy-Authorization"
    handler_order = 490

    def http_error_407(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        host = req.host
        retry = _retrying(fp, lambda: self.http_error_auth_reqed("proxy-authenticate", host, req, headers))
        self.reset_retry_count()
        return retry


def parse_keqv_list(l: Iterable[str]) -> dict[str, str]:  # noqa: E741 - urllib's parameter name
    """``['a="b"', 'c=d']`` -> ``{'a': 'b', 'c': 'd'}``."""
    parsed: dict[str, str] = {}
    for elt in l:
        k, v = elt.split("=", 1)
        if v[:1] == '"' and v[-1:] == '"':
            v = v[1:-1]
        parsed[k] = v
    return parsed


def parse_http_list(s: str) -> list[str]:
    """Split a comma-separated header list, keeping quoted strings (with their escapes) whole."""
    parts: list[str] = []
    part: list[str] = []
    escape = quoted = False
    for ch in s:
        if escape:
            part.append(ch)
            escape = False
            continue
        if quoted:
            if ch == "\\":
                escape = True
                continue
            if ch == '"':
                quoted = False
            part.append(ch)
            continue
        if ch == ",":
            parts.append("".join(part))
            part = []
            continue
        if ch == '"':
            quoted = True
        part.append(ch)
    if part:
        parts.append("".join(part))
    return [p.strip() for p in parts]


# -- file:, data:, ftp: and unknown schemes -------------------------------------------------------


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


def _message_from(fields: Iterable[tuple[str, str]]) -> Any:
    return make_message(fields)


def _safe_gethostbyname(host: str) -> str | None:
    try:
        return socket.gethostbyname(host)
    except OSError:
        return None


class FileHandler(BaseHandler):
    """Opens ``file:`` URLs of this host."""

    names: tuple[str, ...] | None = None

    def file_open(self, req: Request) -> Any:
        url = req.selector
        if url[:2] == "//" and url[2:3] != "/" and (req.host and req.host != "localhost"):
            if req.host not in self.get_names():
                raise URLError("file:// scheme is supported only on localhost")
            return None
        return self.open_local_file(req)

    def get_names(self) -> tuple[str, ...]:
        """The addresses of this host (``localhost`` and the host name)."""
        if FileHandler.names is None:
            try:
                FileHandler.names = tuple(
                    socket.gethostbyname_ex("localhost")[2] + socket.gethostbyname_ex(socket.gethostname())[2]
                )
            except OSError:
                FileHandler.names = (socket.gethostbyname("localhost"),)
        return FileHandler.names

    def open_local_file(self, req: Request) -> Any:
        import email.utils

        host = req.host
        filename = req.selector
        localfile = url2pathname(filename)
        try:
            stats = os.stat(localfile)
            size = stats.st_size
            modified = email.utils.formatdate(stats.st_mtime, usegmt=True)
            mtype = mimetypes.guess_type(filename)[0]
            headers = _message_from(
                [("Content-type", mtype or "text/plain"), ("Content-length", str(size)), ("Last-modified", modified)]
            )
            port: str | None = None
            if host:
                host, port = _splitport(host)
            if not host or (not port and _safe_gethostbyname(host) in self.get_names()):
                origurl = f"file://{host}{filename}" if host else f"file://{filename}"
                return addinfourl(open(localfile, "rb"), headers, origurl)  # the response owns the file
        except OSError as exp:
            raise URLError(exp) from exp
        raise URLError("file not on local host")


class DataHandler(BaseHandler):
    """Opens ``data:`` URLs (RFC 2397)."""

    def data_open(self, req: Request) -> Any:
        url = req.full_url
        _scheme, _, rest = url.partition(":")
        mediatype, comma, payload = rest.partition(",")
        if not comma:
            raise ValueError("not enough values to unpack (expected 2, got 1)")
        # Even base64 data may be percent-encoded: unquote first.
        data = unquote_to_bytes(payload)
        if mediatype.endswith(";base64"):
            data = base64.decodebytes(data)
            mediatype = mediatype[:-7]
        if not mediatype:
            mediatype = "text/plain;charset=US-ASCII"
        headers = _message_from([("Content-type", mediatype), ("Content-length", str(len(data)))])
        return addinfourl(io.BytesIO(data), headers, url)


class ftpwrapper:
    """One FTP session (login, current directory) that hands out one transfer at a time."""

    def __init__(
        self,
        user: str,
        passwd: str,
        host: str,
        port: int,
        dirs: list[str],
        timeout: Any = None,
        persistent: bool = True,
    ) -> None:
        self.user = user
        self.passwd = passwd
        self.host = host
        self.port = port
        self.dirs = dirs
        self.timeout = timeout
        self.refcount = 0
        self.keepalive = persistent
        self.busy = False
        self.ftp: Any = None
        try:
            self.init()
        except BaseException:
            self.close()
            raise

    def init(self) -> None:
        import ftplib

        self.busy = False
        self.ftp = ftplib.FTP()
        self.ftp.connect(self.host, self.port, self.timeout)
        self.ftp.login(self.user, self.passwd)
        self.ftp.cwd("/".join(self.dirs))

    def retrfile(self, file: str, type: str) -> tuple[Any, int | None]:
        """(a readable file of ``file``, its size or None); a directory gives its listing."""
        import ftplib

        self.endtransfer()
        isdir = type in ("d", "D")
        cmd = "TYPE A" if isdir else "TYPE " + type
        try:
            self.ftp.voidcmd(cmd)
        except ftplib.all_errors:
            self.init()  # the server dropped an idle session: log in again
            self.ftp.voidcmd(cmd)
        conn = None
        retrlen: int | None = None
        if file and not isdir:
            try:
                conn, retrlen = self.ftp.ntransfercmd("RETR " + file)
            except ftplib.error_perm as reason:
                if str(reason)[:3] != "550":
                    raise URLError(f"ftp error: {reason}") from reason
        if conn is None:
            # Not a file: list it as a directory (which must exist).
            self.ftp.voidcmd("TYPE A")
            if file:
                pwd = self.ftp.pwd()
                try:
                    try:
                        self.ftp.cwd(file)
                    except ftplib.error_perm as reason:
                        raise URLError(f"ftp error: {reason!r}") from reason
                finally:
                    self.ftp.cwd(pwd)
                cmd = "LIST " + file
            else:
                cmd = "LIST"
            conn, retrlen = self.ftp.ntransfercmd(cmd)
        self.busy = True
        fp = addclosehook(conn.makefile("rb"), self.file_close)
        self.refcount += 1
        conn.close()
        return fp, retrlen

    def endtransfer(self) -> None:
        if not self.busy:
            return
        self.busy = False
        try:
            self.ftp.voidresp()
        except (OSError, EOFError, _ftp_errors()):
            pass

    def close(self) -> None:
        self.keepalive = False
        if self.refcount <= 0:
            self.real_close()

    def file_close(self) -> None:
        self.endtransfer()
        self.refcount -= 1
        if self.refcount <= 0 and not self.keepalive:
            self.real_close()

    def real_close(self) -> None:
        self.endtransfer()
        if self.ftp is not None:
            try:
                self.ftp.close()
            except (OSError, EOFError):
                pass


def _ftp_errors() -> type[Exception]:
    import ftplib

    return ftplib.Error


class FTPHandler(BaseHandler):
    """Opens ``ftp:`` URLs with ``ftplib`` (``ftp://user:pw@host/dir/file;type=i``)."""

    def ftp_open(self, req: Request) -> Any:
        import ftplib

        host = req.host
        if not host:
            raise URLError("ftp error: no host given")
        host, port_text = _splitport(host)
        port = ftplib.FTP_PORT if port_text is None else int(port_text)
        user_info, host = _splituser(host)
        passwd: str | None = None
        if user_info:
            user_info, passwd = _splitpasswd(user_info)
        host = unquote(host)
        # req.host was percent-decoded once already (as urllib does); decoding the userinfo
        # again would turn a literal "%42" in a user name into "B".
        user = user_info or ""
        passwd = passwd or ""
        try:
            host = socket.gethostbyname(host)
        except OSError as msg:
            raise URLError(msg) from msg
        path, attrs = _splitattr(req.selector)
        dirs = [unquote(d) for d in path.split("/")]
        dirs, file = dirs[:-1], dirs[-1]
        if dirs and not dirs[0]:
            dirs = dirs[1:]
        try:
            fw = self.connect_ftp(user, passwd, host, port, dirs, req.timeout)
            kind = "I" if file else "D"
            for attr in attrs:
                name, value = _splitvalue(attr)
                if name.lower() == "type" and value in ("a", "A", "i", "I", "d", "D"):
                    kind = value.upper()
            fp, retrlen = fw.retrfile(file, kind)
            fields: list[tuple[str, str]] = []
            mtype = mimetypes.guess_type(req.full_url)[0]
            if mtype:
                fields.append(("Content-type", mtype))
            if retrlen is not None and retrlen >= 0:
                fields.append(("Content-length", str(retrlen)))
            return addinfourl(fp, _message_from(fields), req.full_url)
        except ftplib.all_errors as exp:
            if isinstance(exp, URLError):
                raise
            raise URLError(exp) from exp

    def connect_ftp(self, user: str, passwd: str, host: str, port: int, dirs: list[str], timeout: Any) -> ftpwrapper:
        return ftpwrapper(user, passwd, host, port, dirs, timeout, persistent=False)


class CacheFTPHandler(FTPHandler):
    """An FTPHandler that keeps sessions open for reuse (``setTimeout`` seconds, ``setMaxConns`` of them)."""

    def __init__(self) -> None:
        self.cache: dict[Any, ftpwrapper] = {}
        self.timeout: dict[Any, float] = {}
        self.soonest = 0.0
        self.delay = 60.0
        self.max_conns = 16

    def setTimeout(self, t: float) -> None:  # urllib's name
        self.delay = t

    def setMaxConns(self, m: int) -> None:  # urllib's name
        self.max_conns = m

    def connect_ftp(self, user: str, passwd: str, host: str, port: int, dirs: list[str], timeout: Any) -> ftpwrapper:
        key = (user, host, port, "/".join(dirs), timeout)
        if key not in self.cache:
            self.cache[key] = ftpwrapper(user, passwd, host, port, dirs, timeout)
        self.timeout[key] = time.time() + self.delay
        self.check_cache()
        return self.cache[key]

    def check_cache(self) -> None:
        now = time.time()
        if self.soonest <= now:
            for k, expiry in list(self.timeout.items()):
                if expiry < now:
                    self.cache.pop(k).close()
                    del self.timeout[k]
        self.soonest = min(self.timeout.values(), default=0.0)
        if len(self.cache) >= self.max_conns:
            for k, expiry in list(self.timeout.items()):
                if expiry == self.soonest:
                    self.cache.pop(k).close()
                    del self.timeout[k]
                    break
            self.soonest = min(self.timeout.values(), default=0.0)

    def clear_cache(self) -> None:
        for conn in self.cache.values():
            conn.close()
        self.cache.clear()
        self.timeout.clear()


class UnknownHandler(BaseHandler):
    """The last resort: a URL type no handler opens."""

    def unknown_open(self, req: Request) -> Any:
        raise URLError(f"unknown url type: {req.type}")


# -- module-level API ------------------------------------------------------------------------------


def build_opener(*handlers: BaseHandler | type[BaseHandler]) -> OpenerDirector:
    """An OpenerDirector with the default handlers, minus those ``handlers`` replace, plus ``handlers``."""
    opener = OpenerDirector()
    default_classes: list[type[BaseHandler]] = [
        ProxyHandler,
        UnknownHandler,
        HTTPHandler,
        HTTPDefaultErrorHandler,
        HTTPRedirectHandler,
        FTPHandler,
        FileHandler,
        HTTPErrorProcessor,
        DataHandler,
        HTTPSHandler,
    ]
    skip: set[type[BaseHandler]] = set()
    for klass in default_classes:
        for check in handlers:
            if isinstance(check, type):
                if issubclass(check, klass):
                    skip.add(klass)
            elif isinstance(check, klass):
                skip.add(klass)
    for klass in default_classes:
        if klass not in skip:
            opener.add_handler(klass())
    for h in handlers:
        opener.add_handler(h() if isinstance(h, type) else h)
    return opener


_opener: OpenerDirector | None = None
_context_openers: dict[int, tuple[Any, OpenerDirector]] = {}


def install_opener(opener: OpenerDirector | None) -> None:
    """Make ``opener`` the one :func:`urlopen` uses."""
    global _opener
    _opener = opener


def _urlopen(url: str | Request, data: Any, timeout: Any, context: ssl.SSLContext | None) -> Any:
    global _opener
    if context is not None:
        opener = _opener_for(context)
    elif _opener is None:
        _opener = opener = build_opener()
    else:
        opener = _opener
    return opener.open(url, data, timeout)


if sys.version_info >= (3, 13):
    # CPython 3.13 removed cafile, capath and cadefault (deprecated since 3.6): follow it.

    def urlopen(
        url: str | Request,
        data: Any = None,
        timeout: Any = _GLOBAL_DEFAULT_TIMEOUT,
        *,
        context: ssl.SSLContext | None = None,
    ) -> Any:
        """Open ``url`` (a string or a :class:`Request`); ``data`` makes it a POST.

        Returns an :class:`~netwire.response.HTTPResponse` for http/https (read it to the end, or
        close it, to hand its connection back to the pool) and an
        :class:`~netwire.response.addinfourl` for file/data/ftp. Raises
        :class:`~netwire.error.HTTPError` for an error status and :class:`~netwire.error.URLError`
        for every other failure. ``context`` (an ``ssl.SSLContext``) sets how servers are verified.
        """
        return _urlopen(url, data, timeout, context)

else:

    def urlopen(
        url: str | Request,
        data: Any = None,
        timeout: Any = _GLOBAL_DEFAULT_TIMEOUT,
        *,
        cafile: str | None = None,
        capath: str | None = None,
        cadefault: bool = False,
        context: ssl.SSLContext | None = None,
    ) -> Any:
        """Open ``url`` (a string or a :class:`Request`); ``data`` makes it a POST.

        Returns an :class:`~netwire.response.HTTPResponse` for http/https (read it to the end, or
        close it, to hand its connection back to the pool) and an
        :class:`~netwire.response.addinfourl` for file/data/ftp. Raises
        :class:`~netwire.error.HTTPError` for an error status and :class:`~netwire.error.URLError`
        for every other failure. ``context`` (an ``ssl.SSLContext``) sets how servers are
        verified; ``cafile``/``capath``/``cadefault`` are deprecated, as in urllib (a
        ``DeprecationWarning``; Python 3.13 removed them).
        """
        if cafile or capath or cadefault:
            warnings.warn(
                "cafile, capath and cadefault are deprecated, use a custom context instead.",
                DeprecationWarning,
                2,
            )
            if context is not None:
                raise ValueError("You can't pass both context and any of cafile, capath, and cadefault")
            context = _cafile_context(cafile, capath)
        return _urlopen(url, data, timeout, context)


_cafile_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def _cafile_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    key = (cafile, capath)
    context = _cafile_contexts.get(key)
    if context is None:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile, capath=capath)
        context.set_alpn_protocols(["http/1.1"])
        _cafile_contexts[key] = context
    return context


def _opener_for(context: ssl.SSLContext) -> OpenerDirector:
    entry = _context_openers.get(id(context))
    if entry is not None and entry[0] is context:
        return entry[1]
    opener = build_opener(HTTPSHandler(context=context))
    if len(_context_openers) >= _MAX_CLIENTS:
        _context_openers.pop(next(iter(_context_openers)))
    _context_openers[id(context)] = (context, opener)
    return opener


_url_tempfiles: list[str] = []


def urlretrieve(
    url: str,
    filename: str | os.PathLike[str] | None = None,
    reporthook: Callable[[int, int, int], Any] | None = None,
    data: Any = None,
) -> tuple[str, Any]:
    """Copy the resource at ``url`` to ``filename`` (a temporary file when None).

    Returns ``(filename, headers)``. ``reporthook(block_number, block_size, total_size)`` is
    called once before the first block and after each one. Raises
    :class:`~netwire.error.ContentTooShortError` when fewer bytes arrive than announced.
    """
    url_type, path = _splittype(url)
    with contextlib.closing(urlopen(url, data)) as fp:
        headers = fp.info()
        if url_type == "file" and not filename:
            return os.path.normpath(path), headers
        if filename:
            tfp: Any = open(filename, "wb")  # noqa: SIM115 - closed by the with below
        else:
            tfp = tempfile.NamedTemporaryFile(delete=False)  # noqa: SIM115
            filename = tfp.name
            _url_tempfiles.append(str(filename))
        with tfp:
            result = os.fspath(filename), headers
            bs = 1024 * 8
            size = -1
            read = 0
            blocknum = 0
            if "content-length" in headers:
                size = int(headers["Content-Length"])
            if reporthook:
                reporthook(blocknum, bs, size)
            while True:
                try:
                    block = fp.read(bs)
                except IncompleteResponse:
                    if size < 0:
                        raise
                    break  # the connection ended inside the body: ContentTooShortError below
                if not block:
                    break
                read += len(block)
                tfp.write(block)
                blocknum += 1
                if reporthook:
                    reporthook(blocknum, bs, size)
    if size >= 0 and read < size:
        raise ContentTooShortError(f"retrieval incomplete: got only {read} out of {size} bytes", result)
    return result


def urlcleanup() -> None:
    """Delete the temporary files :func:`urlretrieve` made, and forget the installed opener."""
    for temp_file in _url_tempfiles:
        try:
            os.unlink(temp_file)
        except OSError:
            pass
    del _url_tempfiles[:]
    global _opener
    _opener = None



# -- URLopener and FancyURLopener (deprecated since Python 3.3, removed in 3.14) -------------------

if sys.version_info < (3, 14):

    class _ReturnErrors(HTTPDefaultErrorHandler):
        """Hands an error response back (URLopener decides what to do with it)."""

        def http_error_default(self, req: Request, fp: Any, code: int, msg: str, hdrs: Any) -> Any:
            return fp

    class _NoRedirects(HTTPRedirectHandler):
        """URLopener does redirects itself (FancyURLopener) or not at all (URLopener)."""

        def http_error_302(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
            return None

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    class URLopener:
        """The pre-3.3 opener class, kept for old code: ``URLopener().open(url)``,
        ``retrieve(url, filename)``, ``addheader``, ``version`` (the User-Agent).

        A thin shim over :func:`build_opener` (so connections are pooled and every netwire
        check applies): ``open`` dispatches to ``open_<scheme>(url, data)`` as urllib does
        (``url`` is the text after ``scheme:``), and error statuses to ``http_error_<code>``
        then ``http_error_default`` (which raises ``HTTPError``). Redirects are not followed
        (FancyURLopener follows them).
        """

        version = USER_AGENT
        # Class defaults, so __del__ works on an instance whose __init__ raised.
        _tempfiles: list[str] | None = None
        tempcache: dict[str, Any] | None = None

        def __init__(self, proxies: Mapping[str, str] | None = None, **x509: Any) -> None:
            warnings.warn(
                f"{type(self).__name__} style of invoking requests is deprecated. Use newer urlopen functions/methods",
                DeprecationWarning,
                stacklevel=3,
            )
            if proxies is None:
                proxies = getproxies()
            if not hasattr(proxies, "keys"):
                raise TypeError("proxies must be a mapping")
            self.proxies = proxies
            self.key_file = x509.get("key_file")
            self.cert_file = x509.get("cert_file")
            self.addheaders: list[tuple[str, ...]] = [("User-Agent", self.version), ("Accept", "*/*")]
            self._tempfiles = []
            self.tempcache = None
            self.ftpcache = ftpcache
            self.type = ""

        def __del__(self) -> None:
            self.close()

        def close(self) -> None:
            self.cleanup()

        def cleanup(self) -> None:
            """Delete the temporary files :meth:`retrieve` made."""
            for name in self._tempfiles or ():
                with contextlib.suppress(OSError):
                    os.unlink(name)
            if self._tempfiles:
                del self._tempfiles[:]
            if self.tempcache:
                self.tempcache.clear()

        def addheader(self, *args: str) -> None:
            """Add a header (``name, value``) to every request."""
            self.addheaders.append(args)

        def open(self, fullurl: str, data: Any = None) -> Any:
            """Open ``fullurl`` through ``open_<scheme>``."""
            fullurl = quote(unwrap(fullurl), safe="%/:=&?~#+!$,;'@()*[]|")
            urltype, url = _splittype(fullurl)
            if not urltype:
                urltype = "file"
            self.type = urltype
            name = "open_" + urltype.replace("-", "_")
            if not hasattr(self, name) or name == "open_local_file":
                if urltype in self.proxies:
                    return self.open_unknown_proxy(self.proxies[urltype], fullurl, data)
                return self.open_unknown(fullurl, data)
            try:
                if data is None:
                    return getattr(self, name)(url)
                return getattr(self, name)(url, data)
            except (HTTPError, URLError):
                raise
            except OSError as msg:
                raise OSError("socket error", msg) from msg

        def open_unknown(self, fullurl: str, data: Any = None) -> Any:
            urltype, _url = _splittype(fullurl)
            raise OSError("url error", "unknown url type", urltype)

        def open_unknown_proxy(self, proxy: str, fullurl: str, data: Any = None) -> Any:
            urltype, _url = _splittype(fullurl)
            raise OSError("url error", f"invalid proxy for {urltype}", proxy)

        def retrieve(
            self,
            url: str,
            filename: str | None = None,
            reporthook: Callable[[int, int, int], Any] | None = None,
            data: Any = None,
        ) -> tuple[str, Any]:
            """Copy ``url`` to ``filename`` (a temporary file when None): ``(filename, headers)``."""
            url = unwrap(url)
            if self.tempcache and url in self.tempcache:
                return self.tempcache[url]  # type: ignore[no-any-return]
            with contextlib.closing(self.open(url, data)) as fp:
                headers = fp.info()
                if filename:
                    tfp: Any = open(filename, "wb")  # noqa: SIM115 - closed by the with below
                else:
                    suffix = os.path.splitext(_splithost(_splittype(url)[1])[1].partition("?")[0])[1]
                    fd, filename = tempfile.mkstemp(suffix)
                    assert self._tempfiles is not None
                    self._tempfiles.append(filename)
                    tfp = os.fdopen(fd, "wb")
                with tfp:
                    result = filename, headers
                    if self.tempcache is not None:
                        self.tempcache[url] = result
                    size = int(headers["Content-Length"]) if "content-length" in headers else -1
                    read = blocknum = 0
                    bs = 1024 * 8
                    if reporthook:
                        reporthook(blocknum, bs, size)
                    while block := fp.read(bs):
                        read += len(block)
                        tfp.write(block)
                        blocknum += 1
                        if reporthook:
                            reporthook(blocknum, bs, size)
            if size >= 0 and read < size:
                raise ContentTooShortError(f"retrieval incomplete: got only {read} out of {size} bytes", result)
            return result

        def _fetch(self, scheme: str, url: str, data: Any = None, extra: Mapping[str, str] | None = None) -> Any:
            """``scheme:url`` through a netwire opener; an error status goes to :meth:`http_error`."""
            opener = build_opener(ProxyHandler(self.proxies), _ReturnErrors, _NoRedirects)
            opener.addheaders = [(str(h[0]), str(h[1])) for h in self.addheaders]
            req = Request(f"{scheme}:{url}", data, headers=dict(extra or {}))
            response = opener.open(req)
            code = getattr(response, "code", None)
            if code is not None and scheme in ("http", "https") and not 200 <= code < 300:
                return self.http_error(url, response, code, response.msg, response.headers, data)
            return response

        def open_http(self, url: str, data: Any = None) -> Any:
            """Open ``//host/path`` over http."""
            return self._fetch("http", url, data)

        def open_https(self, url: str, data: Any = None) -> Any:
            """Open ``//host/path`` over https."""
            return self._fetch("https", url, data)

        def http_error(self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None) -> Any:
            """Hand an error status to ``http_error_<errcode>``, else to :meth:`http_error_default`."""
            method = getattr(self, f"http_error_{errcode}", None)
            if method is not None:
                result = method(url, fp, errcode, errmsg, headers) if data is None else method(
                    url, fp, errcode, errmsg, headers, data
                )
                if result:
                    return result
            return self.http_error_default(url, fp, errcode, errmsg, headers)

        def http_error_default(self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any) -> Any:
            """Raise :class:`~netwire.error.HTTPError`."""
            fp.close()
            raise HTTPError(url, errcode, errmsg, headers, None)

        def open_file(self, url: str) -> Any:
            """Open a ``file:`` URL of this host."""
            return self._fetch("file", url)

        def open_local_file(self, url: str) -> Any:
            """Open a local file (``url`` as after ``file:``)."""
            return self._fetch("file", url)

        def open_ftp(self, url: str) -> Any:
            """Open ``//host/path`` over ftp."""
            return self._fetch("ftp", url)

        def open_data(self, url: str, data: Any = None) -> Any:
            """Open a ``data:`` URL (``url`` as after ``data:``)."""
            return self._fetch("data", url)

    class FancyURLopener(URLopener):
        """URLopener that returns error responses instead of raising, follows redirects (up to
        ``maxtries``), and answers Basic challenges with :meth:`prompt_user_passwd`'s answer."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            URLopener.__init__(self, *args, **kwargs)
            self.auth_cache: dict[str, tuple[str | None, str | None]] = {}
            self.tries = 0
            self.maxtries = 10

        def http_error_default(self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any) -> Any:
            """Return the error response (``getcode()`` says the status)."""
            return addinfourl(fp, headers, f"{self.type or 'http'}:{url}", errcode)

        def http_error_302(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            self.tries += 1
            try:
                if self.maxtries and self.tries >= self.maxtries:
                    meth = getattr(self, "http_error_500", self.http_error_default)
                    return meth(url, fp, 500, "Internal Server Error: Redirect Recursion", headers)
                return self.redirect_internal(url, fp, errcode, errmsg, headers, data)
            finally:
                self.tries = 0

        def redirect_internal(self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any) -> Any:
            """Open the redirect target (http, https and ftp only)."""
            if "location" in headers:
                newurl = headers["location"]
            elif "uri" in headers:
                newurl = headers["uri"]
            else:
                return None
            fp.close()
            newurl = urljoin(f"{self.type}:{url}", newurl)
            if urlparse(newurl).scheme not in ("http", "https", "ftp", ""):
                raise HTTPError(
                    newurl, errcode, f"{errmsg} Redirection to url '{newurl}' is not allowed.", headers, fp
                )
            return self.open(newurl)

        def http_error_301(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            return self.http_error_302(url, fp, errcode, errmsg, headers, data)

        def http_error_303(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            return self.http_error_302(url, fp, errcode, errmsg, headers, data)

        def http_error_307(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            if data is None:
                return self.http_error_302(url, fp, errcode, errmsg, headers, data)
            return self.http_error_default(url, fp, errcode, errmsg, headers)

        def http_error_308(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            if data is None:
                return self.http_error_301(url, fp, errcode, errmsg, headers, data)
            return self.http_error_default(url, fp, errcode, errmsg, headers)

        def _basic_realm(self, value: str | None) -> str | None:
            match = re.match(r'[ \t]*([^ \t]+)[ \t]+realm="([^"]*)"', value or "")
            if match is None or match.group(1).lower() != "basic":
                return None
            return match.group(2)

        def _challenged(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any, retry: bool, proxy: bool
        ) -> Any:
            realm = self._basic_realm(headers.get("proxy-authenticate" if proxy else "www-authenticate"))
            if realm is None or not retry:
                URLopener.http_error_default(self, url, fp, errcode, errmsg, headers)
            assert realm is not None
            method = getattr(self, f"retry_{'proxy_' if proxy else ''}{self.type}_basic_auth")
            return method(url, realm) if data is None else method(url, realm, data)

        def http_error_401(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None, retry: bool = False
        ) -> Any:
            """Ask for credentials and retry, when ``retry`` (else, or without a Basic realm, raise)."""
            return self._challenged(url, fp, errcode, errmsg, headers, data, retry, proxy=False)

        def http_error_407(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None, retry: bool = False
        ) -> Any:
            """The same for a proxy's challenge."""
            return self._challenged(url, fp, errcode, errmsg, headers, data, retry, proxy=True)

        def _retry(self, scheme: str, url: str, realm: str, data: Any, header: str, host: str) -> Any:
            user, passwd = self.get_user_passwd(host, realm)
            if not (user or passwd):
                return None
            token = base64.b64encode(f"{user}:{passwd}".encode()).decode("ascii")
            return self._fetch(scheme, url, data, {header: f"Basic {token}"})

        def _proxy_host(self, scheme: str) -> str:
            proxy = self.proxies.get(scheme, "")
            return _splituser(_splithost(_splittype(proxy)[1])[0] or proxy)[1]

        def retry_proxy_http_basic_auth(self, url: str, realm: str, data: Any = None) -> Any:
            return self._retry("http", url, realm, data, "Proxy-Authorization", self._proxy_host("http"))

        def retry_proxy_https_basic_auth(self, url: str, realm: str, data: Any = None) -> Any:
            return self._retry("https", url, realm, data, "Proxy-Authorization", self._proxy_host("https"))

        def retry_http_basic_auth(self, url: str, realm: str, data: Any = None) -> Any:
            host = _splituser(_splithost(url)[0] or "")[1]
            return self._retry("http", url, realm, data, "Authorization", host)

        def retry_https_basic_auth(self, url: str, realm: str, data: Any = None) -> Any:
            host = _splituser(_splithost(url)[0] or "")[1]
            return self._retry("https", url, realm, data, "Authorization", host)

        def get_user_passwd(self, host: str, realm: str, clear_cache: int = 0) -> tuple[str | None, str | None]:
            """Credentials for ``realm`` at ``host``: remembered, else :meth:`prompt_user_passwd`'s."""
            key = f"{realm}@{host.lower()}"
            if key in self.auth_cache:
                if not clear_cache:
                    return self.auth_cache[key]
                del self.auth_cache[key]
            user, passwd = self.prompt_user_passwd(host, realm)
            if user or passwd:
                self.auth_cache[key] = (user, passwd)
            return user, passwd

        def prompt_user_passwd(self, host: str, realm: str) -> tuple[str | None, str | None]:
            """Ask on the terminal (override this in a program without one)."""
            import getpass

            try:
                user = input(f"Enter username for {realm} at {host}: ")
                passwd = getpass.getpass(f"Enter password for {user} in {realm} at {host}: ")
            except KeyboardInterrupt:
                print()
                return None, None
            return user, passwd

    __all__ += ["FancyURLopener", "URLopener"]


# -- urllib's legacy module-level helpers ----------------------------------------------------------

# urllib's FTP cache of the URLopener era: kept (empty) for code that reads or clears it.
ftpcache: dict[Any, Any] = {}
MAXFTPCACHE = 10

_localhost: str | None = None
_thishost: tuple[str, ...] | None = None
_noheaders: Any = None


def localhost() -> str:
    """The IP address of ``localhost`` (looked up once)."""
    global _localhost
    if _localhost is None:
        _localhost = socket.gethostbyname("localhost")
    return _localhost


def thishost() -> tuple[str, ...]:
    """The IP addresses of this host (looked up once)."""
    global _thishost
    if _thishost is None:
        try:
            _thishost = tuple(socket.gethostbyname_ex(socket.gethostname())[2])
        except socket.gaierror:
            _thishost = tuple(socket.gethostbyname_ex("localhost")[2])
    return _thishost


def ftperrors() -> tuple[type[BaseException], ...]:
    """The exceptions ``ftplib`` raises (``ftplib.all_errors``)."""
    import ftplib

    return ftplib.all_errors


def noheaders() -> Any:
    """An empty header message (an ``email.message.Message``), made once."""
    global _noheaders
    if _noheaders is None:
        _noheaders = _message_from(())
    return _noheaders


class _CallableModule(types.ModuleType):
    """This module, callable as netwire's module-level ``request(method, url, **kwargs)``.

    ``netwire.request`` names both that function and this module; importing the module makes
    the package attribute the module (the import system sets it), so the module answers calls
    exactly as the function does, whatever the import order.
    """

    def __call__(self, method: str, url: Any, **kwargs: Any) -> Any:
        from .http.client import request as _request

        return _request(method, url, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
