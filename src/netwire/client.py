"""The sync client: the policy loop (redirects, ...) around the pool.

``Client.request`` builds a :class:`~netwire.models.Request`, asks the policy functions what to
send, takes a connection from the pool, lets the connection drive :mod:`netwire.http11`, and
returns a :class:`~netwire.models.Response` whose body is read from that connection. Reading
the body to its end hands the connection back to the pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .clientbase import UNSET, USER_AGENT, BaseClient, ParamTypes, URLTypes
from .connection import Connection, Origin, ResponseBody, open_connection
from .content import iter_file
from .errors import (
    ReadError,
    ReadTimeout,
    RequestError,
    TooManyRedirects,
    TotalTimeout,
    WriteError,
)
from .http11 import (
    IncompleteResponse,
    Informational,
    ResponseHead,
    ResponseParser,
)
from .models import Headers, HeaderTypes, Request, Response, Timeout
from .policy.auth import Auth, auth_from
from .policy.proxies import Proxy, proxy_authorization
from .policy.redirects import REDIRECT_STATUSES, next_request, rewind_body, same_origin
from .pool import ConnectionPool

__all__ = ["Client", "delete", "get", "head", "options", "patch", "post", "put", "request", "stream"]

IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))
# Bodies up to this size go out in the same send as the head (one segment, no Nagle wait).
_COALESCE_LIMIT = 64 * 1024
# After a failed upload, how long to look for a response the server sent before closing.
_EARLY_RESPONSE_WAIT = 2.0
# How long to wait for "100 Continue" before sending the body anyway (RFC 9110 10.1.1).
_CONTINUE_WAIT = 1.0


class Client(BaseClient):
    """A pooled HTTP/1.1 client (sync). Use it as a context manager, or call ``close()``.

    Its options are :class:`~netwire.clientbase.BaseClient`'s.
    """

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
        auth: Any = UNSET,
        proxy: Any = UNSET,
    ) -> Response:
        """Send a request and read its whole response body."""
        req = self.build_request(
            method, url, params=params, headers=headers, content=content, data=data, json=json, files=files
        )
        return self.send(req, timeout=timeout, follow_redirects=follow_redirects, auth=auth, proxy=proxy)

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
        auth: Any = UNSET,
        proxy: Any = UNSET,
    ) -> Iterator[Response]:
        """Send a request; yield its Response with the body unread (read it, or iterate it)."""
        req = self.build_request(
            method, url, params=params, headers=headers, content=content, data=data, json=json, files=files
        )
        response = self.send(
            req, timeout=timeout, follow_redirects=follow_redirects, auth=auth, proxy=proxy, stream=True
        )
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

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.pool = ConnectionPool(self.limits)
        self._robots_local = threading.local()

    def close(self) -> None:
        """Close every pooled connection. Responses still being read close theirs when done."""
        self._closed = True
        self.pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the policy loop --------------------------------------------------------------------------

    def send(
        self,
        request: Request,
        *,
        timeout: Any = UNSET,
        follow_redirects: bool | None = None,
        auth: Any = UNSET,
        proxy: Any = UNSET,
        stream: bool = False,
    ) -> Response:
        """Send ``request`` through the policies (auth, cookies, retries, redirects).

        The body is read (and the connection handed back) unless ``stream`` is true.
        """
        if self._closed:
            raise RuntimeError("this Client is closed")
        t = self.timeout if timeout is UNSET else Timeout.coerce(timeout)
        deadline = None if t.total is None else time.monotonic() + t.total
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        flow_auth = self.auth if auth is UNSET else auth_from(auth)
        if flow_auth is None and self.netrc is not None:
            flow_auth = self.netrc
        proxies = self._proxies
        if proxy is not UNSET:
            proxies = {} if proxy is None else self._proxy_settings(proxy, self._no_proxy)[0]
        route = _Route(t, deadline, proxies)
        history: list[Response] = []
        first = request.url
        while True:
            if self.respect_robots:
                self._obey_robots(request, deadline)
            # Credentials given for one origin stay there: a redirect elsewhere goes without
            # them (netrc's are looked up per host, so they may follow).
            hop_auth = None
            if flow_auth is not None and (flow_auth is self.netrc or same_origin(first, request.url)):
                hop_auth = flow_auth
            if hop_auth is None and self.retries is None:
                response = self._send_with_cookies(request, route)  # the common case, two calls shorter
            else:
                response = self._send_handling_auth(request, hop_auth, route)
            if not (follow and response.status in REDIRECT_STATUSES and "location" in response.headers):
                break
            _drain(response)
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

    def _obey_robots(self, request: Request, deadline: float | None) -> None:
        """Refuse a URL robots.txt disallows; wait out the origin's Crawl-delay."""
        from .errors import RobotsDisallowed
        from .robotparser import RobotsCache, fetch_robots

        request.extensions.pop("netwire.crawl_origin", None)  # a previous hop's, copied along
        if getattr(self._robots_local, "fetching", False):
            return  # this thread is fetching a robots.txt (maybe through redirects): not checked
        if self._robots is None:

            def fetch(url: str) -> tuple[int, bytes, Any]:
                self._robots_local.fetching = True
                try:
                    result = fetch_robots(url, client=self, user_agent=self.user_agent)
                finally:
                    self._robots_local.fetching = False
                if result.status is None:
                    raise result.exception or RequestError(result.error or "robots.txt unreachable")
                return result.status, result.body, result.headers

            self._robots = RobotsCache(fetch)
        href = str(request.url)
        decision = self._robots.check(href, self.user_agent)
        if not decision.allowed:
            rule = f" by {decision.rule!r} (line {decision.line})" if decision.rule else ""
            raise RobotsDisallowed(
                f"robots.txt of {request.url.origin} disallows {request.url.request_target} for "
                f"{self.user_agent!r}{rule}: {decision.reason}".rstrip(": "),
                decision=decision,
                request=request,
            )
        if request.url.pathname == "/robots.txt":
            return
        delay = self._robots.crawl_delay(href, self.user_agent)
        if delay:
            # Capped, and refused at once if it would outlast the total deadline (see
            # _book_crawl_slot); _sent_to books the slot again when the request goes out.
            origin = request.url.origin
            try:
                wait = self._book_crawl_slot(origin, delay, deadline)
            except TotalTimeout as exc:
                exc.request = request
                raise
            if wait > 0:
                time.sleep(wait)
            request.extensions["netwire.crawl_origin"] = origin

    def _sent_to(self, request: Request) -> None:
        """Crawl-delay bookkeeping: the request to this origin starts now."""
        origin = request.extensions.get("netwire.crawl_origin")
        if origin is not None:
            with self._robots_lock:
                now = time.monotonic()
                if self._last_visit.get(origin, 0.0) < now:
                    self._last_visit[origin] = now

    def _send_handling_auth(self, request: Request, auth: Auth | None, route: _Route) -> Response:
        if auth is None:
            return self._send_handling_retries(request, route)
        flow = auth.flow(request)
        req = next(flow)
        while True:
            response = self._send_handling_retries(req, route)
            if auth.requires_response_body:
                response.read()
            try:
                next_req = flow.send(response)
            except StopIteration:
                return response
            _drain(response)
            if not rewind_body(next_req):
                return response  # the body cannot be sent twice: the caller gets the challenge
            req = next_req

    def _send_handling_retries(self, request: Request, route: _Route) -> Response:
        retry = self.retries
        state = retry.start() if retry is not None else None
        while True:
            try:
                response = self._send_with_cookies(request, route)
            except RequestError as exc:
                if state is None:
                    raise
                delay = state.next_delay(request, error=exc)
                if delay is None or not rewind_body(request):
                    raise
                route.sleep(delay, exc)
                continue
            if state is not None and response.status in state.retry.status_forcelist:
                delay = state.next_delay(request, response=response)
                if delay is not None and rewind_body(request) and route.can_wait(delay):
                    _drain(response)
                    route.sleep(delay, None)
                    continue
            return response

    def _send_with_cookies(self, request: Request, route: _Route) -> Response:
        jar = self.cookies
        if jar is None:
            return self._send_single(request, route)
        if not getattr(jar, "_cookies", True):
            # Nothing to send yet (the common case): skip the jar's per-request work, but still
            # take the cookies the response sets.
            response = self._send_single(request, route)
            if "set-cookie" in response.headers or "set-cookie2" in response.headers:
                from .policy.cookies import extract_cookies

                extract_cookies(jar, response, request)
            return response
        from .policy.cookies import add_cookie_header, extract_cookies

        sent = add_cookie_header(jar, request)
        response = self._send_single(sent, route)
        extract_cookies(jar, response, sent)
        return response

    # -- one exchange on one connection -------------------------------------------------------------

    def _connect(self, origin: Origin, proxy: Proxy | None, t: Timeout, deadline: float | None) -> Connection:
        ctx = self._tls_context(origin.host) if origin.scheme == "https" else None
        limits = self.parser_limits
        if proxy is None:
            return open_connection(
                origin, connect_timeout=t.connect, deadline=deadline, ssl_context=ctx, uds=self.uds, limits=limits
            )
        proxy_origin = Origin("https" if proxy.kind == "https" else "http", proxy.host, proxy.port)
        if origin.scheme == "http" and proxy.kind in ("http", "https"):
            # Plain HTTP through an HTTP proxy: talk to the proxy itself (absolute-form targets).
            conn = open_connection(
                proxy_origin,
                connect_timeout=t.connect,
                deadline=deadline,
                ssl_context=self._tls_context(proxy.host) if proxy.kind == "https" else None,
                limits=limits,
                label=f"proxy {proxy_origin.host}:{proxy_origin.port}",
            )
            conn.origin = origin
            return conn
        started = time.monotonic()
        # An https:// proxy: TLS to the proxy first; open_connection then runs the origin's TLS
        # inside it (TLS in TLS).
        tunnel = open_connection(
            proxy_origin,
            connect_timeout=t.connect,
            deadline=deadline,
            ssl_context=self._context() if proxy.kind == "https" else None,
            limits=limits,
            label=f"proxy {proxy_origin.host}:{proxy_origin.port}",
        )
        sock = tunnel.sock
        budget = t.connect
        if budget is not None:
            budget = max(budget - (time.monotonic() - started), 0.0)
        try:
            if proxy.kind in ("http", "https"):
                from .proxy_tunnel import http_connect

                fields = [("User-Agent", self.headers.get("user-agent", USER_AGENT))]
                credentials = proxy_authorization(proxy)
                if credentials:
                    fields.append(("Proxy-Authorization", credentials))
                http_connect(sock, origin.host, origin.port, headers=fields, timeout=budget, limits=limits)
            else:
                from .socks import socks5_connect

                socks5_connect(
                    sock, origin.host, origin.port, auth=proxy.auth, remote_dns=proxy.kind == "socks5h", timeout=budget
                )
        except BaseException:
            tunnel.close()
            raise
        return open_connection(
            origin,
            connect_timeout=budget,
            deadline=deadline,
            ssl_context=ctx,
            limits=limits,
            sock=sock,
        )

    def _send_single(self, request: Request, route: _Route) -> Response:
        url = request.url
        t = route.timeout
        deadline = route.deadline
        origin, key, proxy = self._route(request, route.proxies)
        method = request.method
        head = self._head(request, proxy)
        limits = self.parser_limits
        pool = self.pool

        def connect() -> Connection:
            return self._connect(origin, proxy, t, deadline)

        started = time.monotonic()
        for attempt in (0, 1):
            conn, reused = pool.acquire(key, connect, pool_timeout=t.pool, deadline=deadline, fresh=attempt > 0)
            if self.respect_robots:
                self._sent_to(request)
            parser = ResponseParser(method, limits)
            try:
                try:
                    answer = self._send_body(conn, head, request, parser, t, deadline)
                except WriteError as write_error:
                    # A server may answer (413, 401, 400...) and close before taking the whole
                    # body: its answer is more useful than "broken pipe", if it sent one.
                    try:
                        answer = conn.receive_head(parser, read_timeout=_EARLY_RESPONSE_WAIT, deadline=deadline)
                    except RequestError:
                        raise write_error from None
                    parser.keep_alive = False
                if answer is None:
                    answer = conn.receive_head(parser, read_timeout=t.read, deadline=deadline)
                response_head, early, _interim = answer
            except (WriteError, ReadError, IncompleteResponse) as exc:
                pool.release(conn, False)
                # A keep-alive connection the server closed while it sat idle fails like this
                # before any byte of a response: safe to send again once, if the method is
                # idempotent and the body can be replayed (RFC 9110 9.2.2).
                stale = reused and not parser.received_any
                if attempt == 0 and stale and method in IDEMPOTENT_METHODS and rewind_body(request):
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
        headers = Headers._from_list(response_head.headers, response_head.index)
        decoder = None
        if self.decompress and method != "HEAD":
            encoding = headers.get("content-encoding")
            if encoding:
                from .decoders import make_decoder

                if self.max_decoded_size is not None:
                    decoder = make_decoder(encoding, max_size=self.max_decoded_size)
                else:
                    decoder = make_decoder(encoding)
        response = Response(
            response_head.status,
            reason=response_head.reason,
            http_version=response_head.http_version,
            headers=headers,
            stream=body,
            request=request,
            url=url,
            decoder=decoder,
        )
        response.elapsed = time.monotonic() - started
        response.extensions["connection_reused"] = reused
        return response

    def _send_body(
        self,
        conn: Connection,
        head: bytes,
        request: Request,
        parser: ResponseParser,
        t: Timeout,
        deadline: float | None,
    ) -> Any:
        """Send head and body. Returns the response head if the server answered before the body."""
        content = request.content
        write_timeout = t.write
        if content is None:
            conn.send(head, write_timeout=write_timeout, deadline=deadline)
            return None
        expect = request.headers.get("expect", "").lower() == "100-continue"
        if isinstance(content, str):
            content = content.encode("utf-8")
        if isinstance(content, bytes | bytearray | memoryview) and not expect and len(content) <= _COALESCE_LIMIT:
            conn.send(head + bytes(content), write_timeout=write_timeout, deadline=deadline)
            return None
        conn.send(head, write_timeout=write_timeout, deadline=deadline)
        if expect:
            answer = _await_continue(conn, parser, deadline)
            if answer is not None:
                parser.keep_alive = False  # the body we announced was never sent
                return answer
        if isinstance(content, bytes | bytearray | memoryview):
            conn.send(bytes(content), write_timeout=write_timeout, deadline=deadline)
            return None
        chunks: Iterable[bytes] = iter_file(content) if hasattr(content, "read") else content
        if request.headers.get("transfer-encoding", "").lower().endswith("chunked"):
            from .http11 import chunked_body

            chunks = chunked_body(chunks)
        conn.send_body(chunks, write_timeout=write_timeout, deadline=deadline)
        return None


class _Route:
    """What one ``send`` carries through its redirects, auth rounds and retries."""

    __slots__ = ("deadline", "proxies", "timeout")

    def __init__(self, timeout: Timeout, deadline: float | None, proxies: dict[str, Any]) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.proxies = proxies

    def can_wait(self, delay: float) -> bool:
        return self.deadline is None or time.monotonic() + delay < self.deadline

    def sleep(self, delay: float, error: BaseException | None) -> None:
        """Wait before a retry; a wait past the total deadline ends the request instead."""
        if not self.can_wait(delay):
            message = "total deadline would pass before the next retry"
            if error is not None:
                raise TotalTimeout(f"{message} (last error: {error})") from error
            raise TotalTimeout(message)
        time.sleep(delay)


def _drain(response: Response) -> None:
    """Read a small body to its end so the connection goes back to the pool; close a big one."""
    try:
        if not response.closed:
            response.read(64 * 1024)
    except RequestError:
        pass
    finally:
        response.close()


def _await_continue(conn: Connection, parser: ResponseParser, deadline: float | None) -> Any:
    """After an ``Expect: 100-continue`` head: None to send the body, or the server's final answer.

    RFC 9110 10.1.1: a client that gets no 100 within a reasonable time sends the body anyway.
    """
    wait_until = time.monotonic() + _CONTINUE_WAIT
    interim: list[Informational] = []
    while True:
        left = wait_until - time.monotonic()
        if left <= 0:
            return None
        try:
            data = conn.recv(left, deadline)
        except ReadTimeout:
            return None
        events = parser.feed(data) if data else parser.feed_eof()
        for i, event in enumerate(events):
            if type(event) is ResponseHead:
                return event, events[i + 1 :], interim
            if type(event) is Informational:
                if event.status == 100 and not any(type(e) is ResponseHead for e in events[i + 1 :]):
                    return None
                interim.append(event)  # a final answer came in the same read: it wins, below


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
