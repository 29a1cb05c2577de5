"""The sync client: the policy loop (redirects, ...) around the pool.

``Client.request`` builds a :class:`~netwire.models.Request`, asks the policy functions what to
send, takes a connection from the pool, lets the connection drive :mod:`netwire.http11`, and
returns a :class:`~netwire.models.Response` whose body is read from that connection. Reading
the body to its end hands the connection back to the pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from . import __version__
from .connection import Connection, Origin, ResponseBody, make_ssl_context, open_connection
from .content import encode_request_body, form_urlencode, iter_file
from .errors import InvalidURL, ReadError, RequestError, TooManyRedirects, WriteError
from .http11 import DEFAULT_LIMITS, IncompleteResponse, ParserLimits, ResponseParser, encode_request_head
from .models import Headers, HeaderTypes, Limits, Request, Response, Timeout
from .policy.redirects import REDIRECT_STATUSES, next_request, rewind_body
from .pool import ConnectionPool
from .url import URL

__all__ = ["Client", "delete", "get", "head", "options", "patch", "post", "put", "request", "stream"]

DEFAULT_TIMEOUT = Timeout(30.0, connect=10.0)
DEFAULT_MAX_REDIRECTS = 20
USER_AGENT = f"netwire/{__version__}"
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))
_METHODS_WITH_BODY = frozenset(("POST", "PUT", "PATCH"))
# Bodies up to this size go out in the same send as the head (one segment, no Nagle wait).
_COALESCE_LIMIT = 64 * 1024
# After a failed upload, how long to look for a response the server sent before closing.
_EARLY_RESPONSE_WAIT = 2.0


class _Unset:
    def __repr__(self) -> str:
        return "<client default>"


UNSET: Any = _Unset()

URLTypes = str | URL
ParamTypes = Mapping[str, Any] | Iterable[tuple[str, Any]] | str | None


class Client:
    """A pooled HTTP/1.1 client. Use it as a context manager, or call ``close()``.

    :param timeout: a :class:`Timeout` or a number of seconds (connect, read, write, pool).
    :param limits: pool bounds (:class:`Limits`).
    :param verify: True (system CAs), False (no TLS verification), a CA bundle path, or an
        ``ssl.SSLContext`` used as is.
    :param cert: a client certificate: a path, or (certfile, keyfile).
    :param headers: sent with every request (the caller's per-request headers win).
    :param follow_redirects: follow 301/302/303/307/308 (default True, as urllib does).
    :param max_redirects: how many redirects one request may follow.
    :param allow_downgrade: follow an https -> http redirect (off by default).
    :param uds: connect every request to this Unix domain socket path instead of TCP.
    :param parser_limits: bounds on response heads (:class:`netwire.http11.ParserLimits`).
    """

    def __init__(
        self,
        *,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        limits: Limits | None = None,
        verify: Any = True,
        cert: str | tuple[str, str] | None = None,
        headers: HeaderTypes = None,
        follow_redirects: bool = True,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        allow_downgrade: bool = False,
        uds: str | None = None,
        parser_limits: ParserLimits = DEFAULT_LIMITS,
        user_agent: str | None = None,
    ) -> None:
        self.timeout = Timeout.coerce(timeout)
        self.pool = ConnectionPool(limits)
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.allow_downgrade = allow_downgrade
        self.uds = uds
        self.parser_limits = parser_limits
        self._verify = verify
        self._cert = cert
        self._ssl_context: Any = verify if hasattr(verify, "wrap_socket") else None
        base = Headers([("User-Agent", user_agent or USER_AGENT), ("Accept", "*/*")])
        for name, value in Headers(headers).multi_items():
            base[name] = value
        self.headers = base
        self._urls: dict[str, URL] = {}
        self._routes: dict[str, tuple[Origin, Any]] = {}
        self._heads: dict[tuple[Any, ...], bytes] = {}
        self._closed = False

    # -- public API -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: URLTypes,
        *,
        params: ParamTypes = None,
        headers: HeaderTypes = None,
        content: Any = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
        timeout: Any = UNSET,
        follow_redirects: bool | None = None,
    ) -> Response:
        """Send a request and read its whole response body."""
        req = self.build_request(
            method, url, params=params, headers=headers, content=content, data=data, json=json, files=files
        )
        response = self.send(req, timeout=timeout, follow_redirects=follow_redirects, stream=False)
        return response

    @contextmanager
    def stream(
        self,
        method: str,
        url: URLTypes,
        *,
        params: ParamTypes = None,
        headers: HeaderTypes = None,
        content: Any = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
        timeout: Any = UNSET,
        follow_redirects: bool | None = None,
    ) -> Iterator[Response]:
        """Send a request; yield its Response with the body unread (read it, or iterate it)."""
        req = self.build_request(
            method, url, params=params, headers=headers, content=content, data=data, json=json, files=files
        )
        response = self.send(req, timeout=timeout, follow_redirects=follow_redirects, stream=True)
        try:
            yield response
        finally:
            response.close()

    def get(self, url: URLTypes, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def head(self, url: URLTypes, **kwargs: Any) -> Response:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: URLTypes, **kwargs: Any) -> Response:
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: URLTypes, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: URLTypes, **kwargs: Any) -> Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: URLTypes, **kwargs: Any) -> Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: URLTypes, **kwargs: Any) -> Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        """Close every pooled connection. Responses still being read close theirs when done."""
        self._closed = True
        self.pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building ---------------------------------------------------------------------------------

    def _url(self, url: URLTypes) -> URL:
        if isinstance(url, URL):
            return url
        cached = self._urls.get(url)
        if cached is None:
            cached = URL(url)
            if len(self._urls) >= 256:
                self._urls.clear()
            self._urls[url] = cached
        return cached

    def build_request(
        self,
        method: str,
        url: URLTypes,
        *,
        params: ParamTypes = None,
        headers: HeaderTypes = None,
        content: Any = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
    ) -> Request:
        """The Request ``request()`` would send, with the client's headers merged in."""
        u = self._url(url)
        if u.scheme not in ("http", "https", "http+unix"):
            raise InvalidURL(f"netwire.Client cannot fetch {u.scheme}: URLs ({u})")
        if params:
            query = params if isinstance(params, str) else form_urlencode(params)
            search = u.search
            u = u.replace(search=f"{search}&{query}" if search else query)
        merged = self.headers.copy()
        if headers is not None:
            for name, value in (headers.multi_items() if isinstance(headers, Headers) else Headers(headers).multi_items()):
                merged[name] = value
        body: Any = None
        if content is not None or data is not None or json is not None or files is not None:
            body_fields, body = encode_request_body(content=content, data=data, json=json, files=files)
            for name, value in body_fields:
                if name not in merged:
                    merged[name] = value
        method = method.upper()
        if body is None and method in _METHODS_WITH_BODY and "content-length" not in merged:
            merged["Content-Length"] = "0"
        extensions: dict[str, Any] = {}
        if body is not None and hasattr(body, "seek") and hasattr(body, "tell"):
            try:
                extensions["body_start"] = body.tell()
            except OSError:
                pass
        return Request(method, u, merged, body, extensions)

    # -- sending ----------------------------------------------------------------------------------

    def send(
        self,
        request: Request,
        *,
        timeout: Any = UNSET,
        follow_redirects: bool | None = None,
        stream: bool = False,
    ) -> Response:
        """Send ``request``, following redirects per policy; the body is read unless ``stream``."""
        if self._closed:
            raise RuntimeError("this Client is closed")
        t = self.timeout if timeout is UNSET else Timeout.coerce(timeout)
        deadline = None if t.total is None else time.monotonic() + t.total
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        history: list[Response] = []
        while True:
            response = self._send_single(request, t, deadline)
            if not (follow and response.status in REDIRECT_STATUSES and "location" in response.headers):
                break
            # Drain a small redirect body so its connection goes back to the pool; close a big one.
            try:
                response.read(64 * 1024)
            finally:
                response.close()
            history.append(response)
            if len(history) > self.max_redirects:
                raise TooManyRedirects(
                    f"more than {self.max_redirects} redirects, last to {response.headers.get('location')}",
                    history=history,
                    request=request,
                )
            request = next_request(request, response, allow_downgrade=self.allow_downgrade)
        response.history = history
        if not stream:
            try:
                response.read()
            finally:
                response.close()
        return response

    def _origin(self, url: URL) -> Origin:
        scheme = url.scheme
        if scheme == "http+unix":
            from .parse import unquote

            return Origin(scheme, unquote(url.hostname), 0)
        port = url.effective_port
        assert port is not None
        return Origin(scheme, url.host_for_socket, port)

    def _context(self) -> Any:
        if self._ssl_context is None:
            verify = self._verify
            if verify is True and self._cert is None:
                from .connection import default_ssl_context

                self._ssl_context = default_ssl_context()
            else:
                self._ssl_context = make_ssl_context(verify, self._cert)
        return self._ssl_context

    def _route(self, url: URL) -> tuple[Origin, Any]:
        """The origin and pool key of ``url`` (cached: the same URLs come back again and again)."""
        route = self._routes.get(url.href)
        if route is None:
            origin = self._origin(url)
            route = (origin, (origin, self.uds))
            if len(self._routes) >= 256:
                self._routes.clear()
            self._routes[url.href] = route
        return route

    def _head(self, request: Request) -> bytes:
        """The serialised request head, cached by (method, URL, header fields)."""
        url = request.url
        items = request.headers._items
        key = (request.method, url.href, tuple(items))
        head = self._heads.get(key)
        if head is None:
            fields = list(items)
            if not any(name.lower() == "host" for name, _ in fields):
                fields.insert(0, ("Host", url.host))
            head = encode_request_head(request.method, url.request_target, fields)
            if len(self._heads) >= 256:
                self._heads.clear()
            self._heads[key] = head
        return head

    def _send_single(self, request: Request, t: Timeout, deadline: float | None) -> Response:
        url = request.url
        origin, key = self._route(url)
        method = request.method
        head = self._head(request)
        limits = self.parser_limits
        pool = self.pool

        def connect() -> Connection:
            return open_connection(
                origin,
                connect_timeout=t.connect,
                deadline=deadline,
                ssl_context=self._context() if origin.scheme == "https" else None,
                uds=self.uds,
                limits=limits,
            )

        started = time.monotonic()
        for attempt in (0, 1):
            conn, reused = pool.acquire(key, connect, pool_timeout=t.pool, deadline=deadline, fresh=attempt > 0)
            parser = ResponseParser(method, limits)
            try:
                try:
                    self._send_body(conn, head, request, t.write, deadline)
                except WriteError as write_error:
                    # A server may answer (413, 401, 400...) and close before taking the whole
                    # body: its answer is more useful than "broken pipe", if it sent one.
                    try:
                        response_head, early, _interim = conn.receive_head(
                            parser, read_timeout=_EARLY_RESPONSE_WAIT, deadline=deadline
                        )
                    except RequestError:
                        raise write_error from None
                    parser.keep_alive = False
                else:
                    response_head, early, _interim = conn.receive_head(
                        parser, read_timeout=t.read, deadline=deadline
                    )
            except (WriteError, ReadError, IncompleteResponse) as exc:
                pool.release(conn, False)
                # A keep-alive connection the server closed while it sat idle fails like this
                # before any byte of a response: safe to send again once, if the method is
                # idempotent and the body can be replayed (RFC 9110 9.2.2).
                stale = reused and not parser.received_any
                if (
                    attempt == 0
                    and stale
                    and method in IDEMPOTENT_METHODS
                    and rewind_body(request)
                ):
                    continue
                if isinstance(exc, IncompleteResponse) and stale:
                    raise ReadError(
                        f"{origin} closed the connection without responding", reason=exc, request=request
                    ) from exc
                raise
            except BaseException:
                pool.release(conn, False)
                raise
            break
        conn.requests += 1
        body = ResponseBody(conn, parser, early, pool.release, read_timeout=t.read, deadline=deadline)
        response = Response(
            response_head.status,
            reason=response_head.reason,
            http_version=response_head.http_version,
            headers=Headers._from_list(response_head.headers),
            stream=body,
            request=request,
            url=url,
        )
        response.elapsed = time.monotonic() - started
        response.extensions["connection_reused"] = reused
        return response

    def _send_body(
        self, conn: Connection, head: bytes, request: Request, write_timeout: float | None, deadline: float | None
    ) -> None:
        content = request.content
        if content is None:
            conn.send(head, write_timeout=write_timeout, deadline=deadline)
            return
        if isinstance(content, bytes | bytearray | memoryview):
            if len(content) <= _COALESCE_LIMIT:
                conn.send(head + bytes(content), write_timeout=write_timeout, deadline=deadline)
            else:
                conn.send(head, write_timeout=write_timeout, deadline=deadline)
                conn.send(bytes(content), write_timeout=write_timeout, deadline=deadline)
            return
        conn.send(head, write_timeout=write_timeout, deadline=deadline)
        chunks: Iterable[bytes] = iter_file(content) if hasattr(content, "read") else content
        if request.headers.get("transfer-encoding", "").lower().endswith("chunked"):
            from .http11 import chunked_body

            chunks = chunked_body(chunks)
        conn.send_body(chunks, write_timeout=write_timeout, deadline=deadline)


# -- module-level API over one shared default client ----------------------------------------------

_default: Client | None = None
_default_lock = threading.Lock()


def _client() -> Client:
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Client()
    return _default


def request(method: str, url: URLTypes, **kwargs: Any) -> Response:
    """``Client.request`` on netwire's shared default client (connections are reused across calls)."""
    return _client().request(method, url, **kwargs)


def stream(method: str, url: URLTypes, **kwargs: Any) -> Any:
    """``Client.stream`` on the shared default client (a context manager)."""
    return _client().stream(method, url, **kwargs)


def get(url: URLTypes, **kwargs: Any) -> Response:
    return request("GET", url, **kwargs)


def head(url: URLTypes, **kwargs: Any) -> Response:
    return request("HEAD", url, **kwargs)


def options(url: URLTypes, **kwargs: Any) -> Response:
    return request("OPTIONS", url, **kwargs)


def post(url: URLTypes, **kwargs: Any) -> Response:
    return request("POST", url, **kwargs)


def put(url: URLTypes, **kwargs: Any) -> Response:
    return request("PUT", url, **kwargs)


def patch(url: URLTypes, **kwargs: Any) -> Response:
    return request("PATCH", url, **kwargs)


def delete(url: URLTypes, **kwargs: Any) -> Response:
    return request("DELETE", url, **kwargs)
