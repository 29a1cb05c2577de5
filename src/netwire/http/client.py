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
from functools import partial
from typing import TYPE_CHECKING, Any

from .._types import (
    JSON,
    AuthTypes,
    ContentTypes,
    DataTypes,
    FilesTypes,
    HeaderTypes,
    ParamTypes,
    ProxyTypes,
    TimeoutTypes,
    URLTypes,
)
from ..errors import ProxyError, ReadError, ReadTimeout, RequestError, WriteError
from ._verbs import Verbs
from .clientbase import UNSET, USER_AGENT, BaseClient
from .connection import Connection, HTTP11Connection, Origin, ResponseBody, open_connection
from .content import iter_file
from .exchange import (
    BodyPlan,
    build_response,
    h2_retry,
    h2_target,
    plan_body,
    plan_connect,
    speaks_h2,
    stale_retry,
)
from .flow import (
    CONTINUE_WAIT,
    DRAIN_LIMIT,
    EARLY_RESPONSE_WAIT,
    CacheOp,
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
    fresh_hit,
    is_plain,
    robots_fetch_flow,
    send_flow,
)
from .http11 import (
    IncompleteResponse,
    Informational,
    ResponseHead,
    ResponseParser,
    chunked_body,
)
from .models import Request, Response, Timeout
from .policy.proxies import Proxy
from .pool import ConnectionPool
from .trace import (
    TraceHook,
    acquired,
    emit,
    h2_request_sent,
    request_sent,
    response_received,
    traced_release,
    tunnel_done,
)
from .tunnels import authority, http_connect, socks5_connect

if TYPE_CHECKING:
    from .h2_connection import SyncH2Pool, SyncH2Stream

__all__ = ["Client"]



class Client(BaseClient, Verbs[Response]):
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
        content: ContentTypes = None,
        data: DataTypes = None,
        json: JSON = None,
        files: FilesTypes = None,
        timeout: TimeoutTypes = UNSET,
        follow_redirects: bool | None = None,
        auth: AuthTypes = UNSET,
        proxy: ProxyTypes = UNSET,
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
        content: ContentTypes = None,
        data: DataTypes = None,
        json: JSON = None,
        files: FilesTypes = None,
        timeout: TimeoutTypes = UNSET,
        follow_redirects: bool | None = None,
        auth: AuthTypes = UNSET,
        proxy: ProxyTypes = UNSET,
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

    def _make_pool(self) -> None:
        # Called by BaseClient.__init__ (which holds the typed keywords).
        self.pool = ConnectionPool(self.limits)
        self._robots_fetch_locks: dict[str, threading.Lock] = {}
        self._h2pool: SyncH2Pool | None = None
        if self.http2:
            from .h2_connection import SyncH2Pool
            from .h2_core import DEFAULT_H2_LIMITS

            self._h2pool = SyncH2Pool(self.pool, self.http2_limits or DEFAULT_H2_LIMITS)

    def close(self) -> None:
        """Close every pooled connection. Responses still being read close theirs when done."""
        self._closed = True
        if self._h2pool is not None:
            self._h2pool.close()
        self.pool.close()
        self._close_cache()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the driver of the send loop ----------------------------------------------------------------

    def send(
        self,
        request: Request,
        *,
        timeout: TimeoutTypes = UNSET,
        follow_redirects: bool | None = None,
        auth: AuthTypes = UNSET,
        proxy: ProxyTypes = UNSET,
        stream: bool = False,
    ) -> Response:
        """Send ``request`` through the policies (robots.txt, auth, cookies, retries, redirects).

        The body is read (and the connection handed back) unless ``stream`` is true. The
        policies are :func:`netwire.flow.send_flow`'s (shared with the async client); this
        method only performs the I/O it asks for.
        """
        if self._closed:
            raise RuntimeError("this Client is closed")
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        flow_auth = self._flow_auth(auth)
        first = None
        if self.cache is not None:
            first = fresh_hit(self, flow_auth, request)
            if first is not None and not follows(first, follow):
                if not stream:
                    first.read()
                return first
        route = self._route_for(timeout, stream, proxy, request.extensions)
        if first is None and is_plain(self, flow_auth, request):
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
                    elif kind is CacheOp:
                        result = action.call()
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
        self,
        origin: Origin,
        proxy: Proxy | None,
        t: Timeout,
        deadline: float | None,
        h2: bool = False,
        trace: TraceHook | None = None,
    ) -> HTTP11Connection:
        """A new connection to ``origin``; ``h2``: offer HTTP/2 by ALPN too; ``trace``: each phase told."""
        plan = plan_connect(self, origin, proxy, USER_AGENT, h2=h2)
        limits = self.parser_limits
        if proxy is None:
            return open_connection(
                origin, connect_timeout=t.connect, deadline=deadline, ssl_context=plan.ssl_context, uds=self.uds,
                limits=limits, trace=trace,
            )
        assert plan.proxy_origin is not None
        label = f"proxy {plan.proxy_origin.host}:{plan.proxy_origin.port}"
        started = time.monotonic()
        conn = open_connection(
            plan.proxy_origin,
            connect_timeout=t.connect,
            deadline=deadline,
            ssl_context=plan.proxy_ssl_context,
            limits=limits,
            label=label,
            trace=trace,
        )
        if plan.mode == "forward":
            conn.origin = origin
            return conn
        # A tunnel: CONNECT (or SOCKS5) on the proxy connection, then open_connection runs the
        # origin's TLS inside it (TLS in TLS through an https:// proxy).
        sock = conn.sock
        budget = t.connect
        if budget is not None:
            budget = max(budget - (time.monotonic() - started), 0.0)
        try:
            tunnel_at = time.monotonic()
            if proxy.kind in ("http", "https"):
                try:
                    answer = http_connect(
                        sock, origin.host, origin.port, headers=plan.connect_fields, timeout=budget, limits=limits
                    )
                except ProxyError as exc:
                    if trace is not None:
                        tunnel_done(trace, authority(origin.host, origin.port), exc.status, str(exc), tunnel_at)
                    raise
                if trace is not None:
                    tunnel_done(trace, authority(origin.host, origin.port), answer.status, answer.reason, tunnel_at)
            else:
                socks5_connect(
                    sock, origin.host, origin.port, auth=proxy.auth, remote_dns=proxy.kind == "socks5h", timeout=budget
                )
                if trace is not None:
                    emit(trace, "socks5", tunnel_at, proxy=f"{proxy.host}:{proxy.port}",
                         target=f"{origin.host}:{origin.port}", remote_dns=proxy.kind == "socks5h")
        except BaseException:
            conn.close()
            raise
        return open_connection(
            origin, connect_timeout=budget, deadline=deadline, ssl_context=plan.ssl_context, limits=limits, sock=sock,
            trace=trace,
        )

    def _send_single(self, request: Request, route: Route) -> Response:
        """One exchange on one pooled connection (the decisions are :mod:`netwire.http.exchange`'s)."""
        t = route.timeout
        deadline = route.deadline
        origin, key, proxy = self._route(request, route.proxies)
        head = self._head(request, proxy)
        pool = self.pool
        trace = route.trace

        def connect() -> HTTP11Connection:
            return self._connect(origin, proxy, t, deadline, trace=trace)

        first: Connection | None = None
        h2pool = self._h2pool
        if h2pool is not None and key not in h2pool.h1_only and speaks_h2(self, origin, proxy):
            got = self._send_h2(request, route, origin, key, proxy)
            if isinstance(got, Response):
                return got
            first = got  # the server picked HTTP/1.1 by ALPN: this connection, for this request
        started = sent_at = time.monotonic()
        for attempt in (0, 1):
            if first is not None:
                conn, first, reused = first, None, False
            else:
                conn, reused = pool.acquire(key, connect, pool_timeout=t.pool, deadline=deadline, fresh=attempt > 0)
            if trace is not None:
                acquired(trace, origin, reused, started)
                sent_at = time.monotonic()
            if self.respect_robots:
                self._sent_to(request)  # Crawl-delay: the request starts now
            parser = ResponseParser(request.method, self.parser_limits)
            try:
                try:
                    if request.content is None:
                        conn.send(head, write_timeout=t.write, deadline=deadline)
                        answer = None
                    else:
                        answer = _send_body(conn, plan_body(head, request), parser, t.write, deadline)
                except WriteError as write_error:
                    # A server may answer (413, 401, 400...) and close before taking the whole
                    # body: its answer is more useful than "broken pipe", if it sent one.
                    try:
                        answer = conn.receive_head(parser, read_timeout=EARLY_RESPONSE_WAIT, deadline=deadline)
                    except RequestError:
                        raise write_error from None
                    parser.keep_alive = False
                if trace is not None:
                    request_sent(trace, request.method, head, request.content, sent_at)
                if answer is None:
                    answer = conn.receive_head(parser, read_timeout=t.read, deadline=deadline)
                response_head, early, _interim = answer
            except (WriteError, ReadError, IncompleteResponse) as exc:
                pool.release(conn, False)
                if stale_retry(
                    exc, first=attempt == 0, reused=reused, received_any=parser.received_any, request=request,
                    origin=origin,
                ):
                    continue
                raise
            except BaseException:
                pool.release(conn, False)
                raise
            break
        conn.requests += 1
        release: Callable[[HTTP11Connection, bool], None] = pool.release
        if trace is not None:
            response_received(trace, response_head, sent_at)
            release = traced_release(trace, release, parser, origin)
        body = ResponseBody(conn, parser, early, release, read_timeout=t.read, deadline=deadline)
        return build_response(
            self, partial(Response, stream=body), response_head, request, time.monotonic() - started, reused
        )

    # -- HTTP/2 (http2=True): the same exchange on a multiplexed stream --------------------------------

    def _send_h2(
        self, request: Request, route: Route, origin: Origin, key: tuple[object, ...], proxy: Proxy | None
    ) -> Response | Connection | None:
        """One exchange on an HTTP/2 stream: the response (body unread), or, when the server
        picked HTTP/1.1 by ALPN, the new HTTP/1.1 connection for the caller to use (or None).
        The decisions are :mod:`netwire.http.exchange`'s."""
        from .h2_connection import H2Body

        t = route.timeout
        deadline = route.deadline
        target = h2_target(request)
        trace = route.trace
        content = request.content
        started = time.monotonic()
        h2pool = self._h2pool
        assert h2pool is not None
        attempt = 0
        while True:
            conn, http11, reused = h2pool.stream(
                key,
                lambda: self._connect(origin, proxy, t, deadline, h2=True, trace=trace),
                pool_timeout=t.pool,
                connect_timeout=t.connect,
                write_timeout=t.write,
                deadline=deadline,
            )
            if conn is None:
                return http11
            if trace is not None:
                acquired(trace, origin, reused, started)
            sent_at = time.monotonic()
            if self.respect_robots:
                self._sent_to(request)  # Crawl-delay: the request starts now
            handle = conn.open(*target, content is None, t.write, deadline)
            if handle is None:
                continue  # another thread took the last stream: look again
            try:
                if content is not None:
                    _h2_body(handle, content, t, deadline)
                if trace is not None:
                    h2_request_sent(
                        trace, target.method, target.authority, target.path, target.fields, content, sent_at
                    )
                response_head = handle.wait_head(t.read, deadline)
            except ReadError as exc:
                handle.finish()
                if h2_retry(exc, handle.stream, reused=reused, attempt=attempt, request=request):
                    attempt += 1
                    continue
                raise
            except BaseException:
                handle.finish()
                raise
            break
        if trace is not None:
            response_received(trace, response_head, sent_at)
        return build_response(
            self, partial(Response, stream=H2Body(handle, t.read, deadline)), response_head, request,
            time.monotonic() - started, reused,
        )

def _send_body(
    conn: HTTP11Connection, plan: BodyPlan, parser: ResponseParser, write_timeout: float | None, deadline: float | None
) -> Any:
    """Send head and body as planned. Returns the response head if the server answered before the body."""
    conn.send(plan.first, write_timeout=write_timeout, deadline=deadline)
    rest = plan.rest
    if rest is None:
        return None
    if plan.expect:
        answer = _await_continue(conn, parser, deadline)
        if answer is not None:
            parser.keep_alive = False  # the body we announced was never sent
            return answer
    if isinstance(rest, bytes):
        conn.send(rest, write_timeout=write_timeout, deadline=deadline)
    else:
        conn.send_body(chunked_body(rest) if plan.chunked else rest, write_timeout=write_timeout, deadline=deadline)
    return None


def _h2_body(handle: SyncH2Stream, content: Any, t: Timeout, deadline: float | None) -> None:
    """Stream a request body on an HTTP/2 stream, as its flow-control windows open."""
    write_timeout = t.write
    if isinstance(content, str):
        content = content.encode("utf-8")
    if isinstance(content, bytes | bytearray | memoryview):
        handle.send_body(content, write_timeout, deadline)
    else:
        chunks: Iterable[bytes] = iter_file(content) if hasattr(content, "read") else content
        for chunk in chunks:
            if chunk:
                handle.send_body(chunk, write_timeout, deadline)
    handle.end_body(write_timeout, deadline)


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


def _await_continue(conn: HTTP11Connection, parser: ResponseParser, deadline: float | None) -> Any:
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
