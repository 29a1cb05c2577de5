"""HTTP and HTTPS for the urllib face: the adapter onto netwire's Client and the handlers around it.

``AbstractHTTPHandler.do_open`` turns a urllib :class:`Request` into a netwire request and sends
it through one shared, pooled :class:`netwire.Client` per TLS setting (``_client_for``); the
Client runs with redirects, cookies, auth and proxies from the environment off, since those are
the handlers' jobs here: :class:`HTTPRedirectHandler`, :class:`HTTPCookieProcessor`, the error
processors (and the auth and proxy handlers in their own modules). Failures of the Client are
given urllib's shape (``URLError(reason)``, ``RemoteDisconnected``) by ``_as_urlopen_error``.
"""

from __future__ import annotations

import atexit
import base64
import io
import re
import socket
import ssl
import string
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from ..error import HTTPError, URLError
from ..errors import InvalidURL, ReadError, RequestError
from ..http.client import Client
from ..http.http11 import _FORBIDDEN_IN_VALUE, _TOKEN, IncompleteResponse, ParserLimits
from ..http.models import Headers, Limits, Timeout
from ..http.models import Request as _NRequest
from ..http.policy.proxies import Proxy
from ..parse import quote, urljoin, urlparse, urlsplit, urlunparse
from ..response import HTTPResponse
from ..url import URL
from .base import (
    _GLOBAL_DEFAULT_TIMEOUT,
    BaseHandler,
    Request,
    _splithost,
    _splittype,
)

# -- error statuses --------------------------------------------------------------------------------


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


# -- redirects -------------------------------------------------------------------------------------

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


# -- the adapter onto the shared Client ------------------------------------------------------------

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


# The token and field-value grammar is http11's, the one the Client sends with: both faces refuse
# the same header names and values (tests/urllib/test_header_grammar.py). Only the target check
# is this face's own: http.client's "control characters" rule, since non-ASCII in a selector is
# percent-encoded below rather than refused.
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
    if _FORBIDDEN_IN_VALUE.search(text) is not None:
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

        RemoteDisconnected.__module__ = "netwire.request"  # the public face, where urllib users look
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
        if _TOKEN.fullmatch(method) is None:
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
                if _TOKEN.fullmatch(name) is None:
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
