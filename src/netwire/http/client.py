"""The sync client: the policy loop (redirects, ...) around the pool.

``Client.request`` builds a :class:`~netwire.models.Request`, asks the policy functions what to
send, takes a connection from the pool, lets the connection drive :mod:`netwire.http11`, and
returns a :class:`~netwire.models.Response` whose body is read from that connection. Reading
the body to its end hands the connection back to the pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ProxyError, ReadError, ReadTimeout, RequestError, WriteError
from .clientbase import UNSET, USER_AGENT, BaseClient, ParamTypes, URLTypes
from .connection import Connection, Origin, ResponseBody, open_connection
from .content import iter_file
from .flow import (
    COALESCE_LIMIT,
    CONTINUE_WAIT,
    DRAIN_LIMIT,
    EARLY_RESPONSE_WAIT,
    IDEMPOTENT_METHODS,
    Drain,
    Exchange,
    FetchRobots,
    ReadBody,
    ReadCapped,
    Route,
    Sleep,
    cookies_in,
    cookies_out,
    follows,
    is_plain,
    response_fields,
    robots_fetch_flow,
    send_flow,
)
from .http11 import (
    IncompleteResponse,
    Informational,
    ResponseHead,
    ResponseParser,
)
from .models import HeaderTypes, Request, Response, Timeout
from .policy.proxies import Proxy, proxy_authorization
from .policy.redirects import rewind_body
from .pool import ConnectionPool
from .proxy_tunnel import authority
from .trace import TraceHook, acquired, emit, request_sent, response_received, traced_release, tunnel_done

__all__ = ["Client", "delete", "get", "head", "options", "patch", "post", "put", "request", "stream"]



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
        self._robots_fetch_locks: dict[str, threading.Lock] = {}

    def close(self) -> None:
        """Close every pooled connection. Responses still being read close theirs when done."""
        self._closed = True
        self.pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the driver of the send loop ----------------------------------------------------------------

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
        """Send ``request`` through the policies (robots.txt, auth, cookies, retries, redirects).

        The body is read (and the connection handed back) unless ``stream`` is true. The
        policies are :func:`netwire.flow.send_flow`'s (shared with the async client); this
        method only performs the I/O it asks for.
        """
        if self._closed:
            raise RuntimeError("this Client is closed")
        route = self._route_for(timeout, stream, proxy, request.extensions)
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        flow_auth = self._flow_auth(auth)
        first = None
        if is_plain(self, flow_auth):
            # The common case, without the generator: one exchange (cookies as the flow does
            # them); the loop takes over only if the answer is a redirect to follow.
            jar = self.cookies
            sent = request if jar is None else cookies_out(jar, request)
            first = self._send_single(sent, route)
            if jar is not None:
                cookies_in(jar, first, sent)
            if not follows(first, follow):
                if not stream:
                    try:
                        first.read()
                    finally:
                        first.close()
                return first
        response: Response = self._drive(
            send_flow(self, request, route, follow=follow, auth=flow_auth, stream=stream, first=first)
        )
        return response

    def _drive(self, flow: Generator[Any, Any, Any]) -> Any:
        """Run a sans-IO flow (:mod:`netwire.flow`) to its end, performing each action it yields."""
        send = flow.send
        result: Any = None
        try:
            action = next(flow)
            while True:
                kind = type(action)
                try:
                    if kind is Exchange:
                        result = self._send_single(action.request, action.route)
                    elif kind is ReadBody:
                        try:
                            action.response.read()
                        finally:
                            action.response.close()
                        result = None
                    elif kind is Drain:
                        _drain(action.response)
                        result = None
                    elif kind is Sleep:
                        time.sleep(action.seconds)
                        result = None
                    elif kind is ReadCapped:
                        result = _read_capped(action.response, action.limit)
                    elif kind is FetchRobots:
                        result = self._fetch_robots(action.url)
                    else:  # pragma: no cover - every action is handled above
                        raise TypeError(f"unknown flow action {action!r}")
                except BaseException as exc:  # the flow decides (a retry catches a RequestError)
                    action = flow.throw(exc)
                    continue
                action = send(result)
        except StopIteration as stop:
            return stop.value

    def _fetch_robots(self, url: str) -> Any:
        """Fetch and store one robots.txt, under a lock per URL: threads needing it fetch it once."""
        locks = self._robots_fetch_locks
        with self._robots_lock:
            lock = locks.setdefault(url, threading.Lock())
        try:
            with lock:
                return self._drive(robots_fetch_flow(self, url))
        finally:
            with self._robots_lock:
                if not lock.locked():
                    locks.pop(url, None)

    # -- one exchange on one connection -------------------------------------------------------------

    def _connect(
        self, origin: Origin, proxy: Proxy | None, t: Timeout, deadline: float | None, trace: TraceHook | None = None
    ) -> Connection:
        ctx = self._tls_context(origin.host) if origin.scheme == "https" else None
        limits = self.parser_limits
        if proxy is None:
            return open_connection(
                origin,
                connect_timeout=t.connect,
                deadline=deadline,
                ssl_context=ctx,
                uds=self.uds,
                limits=limits,
                trace=trace,
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
                trace=trace,
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
            trace=trace,
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
                tunnel_at = time.monotonic()
                try:
                    answer = http_connect(
                        sock, origin.host, origin.port, headers=fields, timeout=budget, limits=limits
                    )
                except ProxyError as exc:
                    if trace is not None:
                        tunnel_done(trace, authority(origin.host, origin.port), exc.status, str(exc), tunnel_at)
                    raise
                if trace is not None:
                    tunnel_done(trace, authority(origin.host, origin.port), answer.status, answer.reason, tunnel_at)
            else:
                from .socks import socks5_connect

                tunnel_at = time.monotonic()
                socks5_connect(
                    sock, origin.host, origin.port, auth=proxy.auth, remote_dns=proxy.kind == "socks5h", timeout=budget
                )
                if trace is not None:
                    emit(trace, "socks5", tunnel_at, proxy=f"{proxy.host}:{proxy.port}",
                         target=f"{origin.host}:{origin.port}", remote_dns=proxy.kind == "socks5h")
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
            trace=trace,
        )

    def _send_single(self, request: Request, route: Route) -> Response:
        url = request.url
        t = route.timeout
        deadline = route.deadline
        origin, key, proxy = self._route(request, route.proxies)
        method = request.method
        head = self._head(request, proxy)
        limits = self.parser_limits
        pool = self.pool
        trace = route.trace

        def connect() -> Connection:
            return self._connect(origin, proxy, t, deadline, trace)

        started = sent_at = time.monotonic()
        for attempt in (0, 1):
            conn, reused = pool.acquire(key, connect, pool_timeout=t.pool, deadline=deadline, fresh=attempt > 0)
            if trace is not None:
                acquired(trace, origin, reused, started)
                sent_at = time.monotonic()
            if self.respect_robots:
                self._sent_to(request)  # Crawl-delay: the request starts now
            parser = ResponseParser(method, limits)
            try:
                try:
                    answer = self._send_body(conn, head, request, parser, t, deadline)
                except WriteError as write_error:
                    # A server may answer (413, 401, 400...) and close before taking the whole
                    # body: its answer is more useful than "broken pipe", if it sent one.
                    try:
                        answer = conn.receive_head(parser, read_timeout=EARLY_RESPONSE_WAIT, deadline=deadline)
                    except RequestError:
                        raise write_error from None
                    parser.keep_alive = False
                if trace is not None:
                    request_sent(trace, method, head, request.content, sent_at)
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
        release: Callable[[Any, bool], None] = pool.release
        if trace is not None:
            response_received(trace, response_head, sent_at)
            release = traced_release(trace, release, parser, origin)
        body = ResponseBody(conn, parser, early, release, read_timeout=t.read, deadline=deadline)
        headers, decoder = response_fields(self, response_head, method)
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
        if isinstance(content, bytes | bytearray | memoryview) and not expect and len(content) <= COALESCE_LIMIT:
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


def _drain(response: Response) -> None:
    """Read a small body to its end so the connection goes back to the pool; close a big one."""
    try:
        if not response.closed:
            response.read(DRAIN_LIMIT)
    except RequestError:
        pass
    finally:
        response.close()


def _read_capped(response: Response, limit: int) -> bytes:
    """The first ``limit`` bytes of the body; the rest is never read (the connection is dropped)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _await_continue(conn: Connection, parser: ResponseParser, deadline: float | None) -> Any:
    """After an ``Expect: 100-continue`` head: None to send the body, or the server's final answer.

    RFC 9110 10.1.1: a client that gets no 100 within a reasonable time sends the body anyway.
    """
    wait_until = time.monotonic() + CONTINUE_WAIT
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
