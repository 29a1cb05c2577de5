"""The sync client: the policy loop (redirects, ...) around the pool.

``Client.request`` builds a :class:`~netwire.models.Request`, asks the policy functions what to
send, takes a connection from the pool, lets the connection drive :mod:`netwire.http11`, and
returns a :class:`~netwire.models.Response` whose body is read from that connection. Reading
the body to its end hands the connection back to the pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterable
from contextlib import suppress
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
from ..errors import ReadTimeout, RequestError, WriteError
from ._verbs import Verbs
from .clientbase import UNSET, USER_AGENT, BaseClient
from .connection import HTTP11Connection, Origin, ResponseBody, open_connection
from .content import iter_file
from .exchange import BodyPlan, Exchanging, h2_target, plan_body, plan_connect
from .flow import (
    CONTINUE_WAIT,
    DRAIN_LIMIT,
    EARLY_RESPONSE_WAIT,
    CacheOp,
    Drain,
    Exchange,
    FetchRobots,
    Lane,
    ReadBody,
    ReadCapped,
    Route,
    Sleep,
    drive,
    robots_fetch_flow,
)
from .http11 import Informational, ResponseHead, ResponseParser, chunked_body
from .models import Request, Response, Timeout
from .policy.proxies import Proxy
from .pool import ConnectionPool
from .trace import TraceHook
from .tunnels import open_tunnel

if TYPE_CHECKING:
    from ..robots._cache import _Entry
    from .h2_connection import SyncH2Pool, SyncH2Stream

__all__ = ["Client"]



class Client(BaseClient, Verbs[Response]):
    """A pooled HTTP/1.1 client (sync). Use it as a context manager, or call ``close()``.

    Its options are :class:`~netwire.clientbase.BaseClient`'s.
    """

    # -- the public methods are Verbs' (http/_verbs.py); what they call ------------------------------

    def _sending(
        self,
        method: str,
        url: URLTypes,
        params: ParamTypes,
        headers: HeaderTypes,
        content: ContentTypes,
        data: DataTypes,
        json: JSON,
        files: FilesTypes,
        timeout: TimeoutTypes,
        follow_redirects: bool | None,
        auth: AuthTypes,
        proxy: ProxyTypes,
        stream: bool,
    ) -> Response:
        request = self.build_request(method, url, params=params, headers=headers, content=content, data=data, json=json, files=files)
        return self.send(request, timeout=timeout, follow_redirects=follow_redirects, auth=auth, proxy=proxy, stream=stream)

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
        self._shut(self._h2pool, self.pool)
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
        lane = Lane(self, request, timeout, follow_redirects, auth, proxy, stream)
        # The lean lane (flow.Lane): one exchange, no generator; the loop only for a redirect.
        done = lane.landed(self._exchange(lane.request, lane.route)) if lane.lean else lane.done
        if lane.spent is not None:  # a 304 the cache answered for (flow.Revalidation): drained
            _drain(lane.spent)
        if done is None:
            response: Response = drive(lane.flow(), self._perform)
            return response
        if not stream:
            done.read()  # to its end (the connection goes back), or failed: closed either way
        return done

    def _drive(self, flow: Generator[Any, Any, Any]) -> Any:
        """Run a sans-IO flow (:mod:`netwire.flow`) to its end, performing each action it yields."""
        return drive(flow, self._perform)

    def _perform(self, action: Any) -> object:
        """One action of a flow, with blocking I/O (see :func:`netwire.http.flow.drive`)."""
        kind = type(action)
        if kind is Exchange:
            return self._exchange(action.request, action.route)
        if kind is ReadBody:
            action.response.read()  # closed at its end, or when it fails
            return None
        if kind is Drain:
            _drain(action.response)
            return None
        if kind is Sleep:
            time.sleep(action.seconds)
            return None
        if kind is ReadCapped:
            return _read_capped(action.response, action.limit)
        if kind is CacheOp:
            return action.call()
        if kind is FetchRobots:
            return self._fetch_robots(action.url)
        raise TypeError(f"unknown flow action {action!r}")  # pragma: no cover - every action is above

    def _fetch_robots(self, url: str) -> _Entry:
        """Fetch and store one robots.txt, under a lock per URL: threads needing it fetch it once."""
        locks = self._robots_fetch_locks
        with self._robots_lock:
            lock = locks.setdefault(url, threading.Lock())
        try:
            with lock:
                return drive(robots_fetch_flow(self, url), self._perform)
        finally:
            with self._robots_lock:
                if not lock.locked():
                    locks.pop(url, None)

    # -- one exchange on one connection -------------------------------------------------------------

    def _exchange(self, request: Request, route: Route) -> Response:
        """One exchange (its bookkeeping is :class:`~netwire.http.exchange.Exchanging`'s)."""
        x = Exchanging(self, request, route, self._h2pool, self._connect)
        return self._send_h1(x, None) if x.h2 is None else self._send_h2(x, x.h2)

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
            plan.proxy_origin, connect_timeout=t.connect, deadline=deadline, ssl_context=plan.proxy_ssl_context,
            limits=limits, label=label, trace=trace,
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
            open_tunnel(sock, origin.host, origin.port, proxy, plan.connect_fields, budget, limits, trace)
        except BaseException:
            conn.close()
            raise
        return open_connection(
            origin, connect_timeout=budget, deadline=deadline, ssl_context=plan.ssl_context, limits=limits, sock=sock,
            trace=trace,
        )

    def _send_h1(self, x: Exchanging[SyncH2Pool, HTTP11Connection], first: HTTP11Connection | None) -> Response:
        """One exchange on one pooled HTTP/1.1 connection (``first``: the one to use, if given)."""
        t, deadline, request, head = x.timeout, x.deadline, x.request, x.head
        pool = self.pool
        connect = x.connect
        for attempt in (0, 1):
            if first is None:
                conn, reused = pool.acquire(x.key, connect, t.pool, deadline, attempt > 0)  # (positional: no keyword binding)
            else:
                conn, first, reused = first, None, False
            parser = x.begin(reused)
            try:
                try:
                    if request.content is None:
                        conn.send(head, t.write, deadline)
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
                if x.trace is not None:
                    x.sent()
                if answer is None:
                    answer = conn.receive_head(parser, t.read, deadline)
                response_head, early, _interim = answer
            except BaseException as exc:
                pool.release(conn, False)
                if x.again(exc, attempt, parser):
                    continue
                raise
            break
        conn.requests += 1
        release = pool.release if x.trace is None else x.traced(response_head, pool.release, parser)
        body = ResponseBody(conn, parser, early, release, t.read, deadline)
        return x.response(Response, response_head, body)

    # -- HTTP/2 (http2=True): the same exchange on a multiplexed stream --------------------------------

    def _send_h2(self, x: Exchanging[SyncH2Pool, HTTP11Connection], h2pool: SyncH2Pool) -> Response:
        """One exchange on an HTTP/2 stream (the response, body unread); on HTTP/1.1 when the
        server picked it by ALPN."""
        from .h2_connection import H2Body

        t = x.timeout
        deadline = x.deadline
        content = x.request.content
        target = h2_target(x.request)
        connect = x.connect_h2
        attempt = 0
        while True:
            conn, http11, reused = h2pool.stream(
                x.key, connect, pool_timeout=t.pool, connect_timeout=t.connect, write_timeout=t.write, deadline=deadline
            )
            if conn is None:
                return self._send_h1(x, http11)  # HTTP/1.1 by ALPN: this connection, for this request
            x.begin_stream(reused)  # before open: opening a stream may wait for the connection's window
            handle = conn.open(*target, content is None, t.write, deadline)
            if handle is None:
                continue  # another thread took the last stream: look again
            try:
                if content is not None:
                    _h2_body(handle, content, t, deadline)
                x.sent_stream(target)
                response_head = handle.wait_head(t.read, deadline)
            except BaseException as exc:
                handle.finish()
                if x.again_stream(exc, handle.stream, attempt):
                    attempt += 1
                    continue
                raise
            break
        if x.trace is not None:
            x.traced(response_head, _h2_released, None)
        return x.response(partial(Response, stream=H2Body(handle, t.read, deadline)), response_head)


def _h2_released(handle: object, clean: bool) -> None:
    """An HTTP/2 stream's body gives its stream back itself (``H2Body``)."""


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
    """Read a small body to its end so the connection goes back to the pool; close a big one.
    Nobody asked for this body (a redirect's, a challenge's): its errors are ignored."""
    with response, suppress(RequestError):
        if not response.closed:
            response.read(DRAIN_LIMIT)


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
