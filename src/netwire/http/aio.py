"""The async client: the same policy loop as :class:`~netwire.client.Client`, on asyncio.

``AsyncClient.request`` builds a request with :class:`~netwire.clientbase.BaseClient` (shared
with the sync client), runs it through the same pure policy functions (redirects, auth flows,
cookies, retries, proxies, robots), takes a connection from an
:class:`~netwire.aio_pool.AsyncConnectionPool` and lets its
:class:`~netwire.aio_connection.AsyncConnection` (an ``asyncio.Protocol``) drive
:mod:`netwire.http11`. Only the waiting differs from the sync client.

Cancellation is safe in every phase: a request cancelled while waiting for the pool gives its
place back; one cancelled while connecting, sending or reading closes that connection rather
than return it half-used. Works on any asyncio loop, uvloop included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
)
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from threading import get_ident
from typing import TYPE_CHECKING, Any, TypeVar, Unpack, cast

from .._types import (
    JSON,
    AuthTypes,
    ContentTypes,
    DataTypes,
    FilesTypes,
    HeaderTypes,
    ParamTypes,
    ProxyTypes,
    RequestOptions,
    TimeoutTypes,
    URLTypes,
)
from ..errors import RequestError, StreamError, WriteError
from ._verbs import Verbs
from .aio_connection import AsyncConnection, open_async_connection
from .aio_pool import AsyncConnectionPool
from .batch import FetchOutcome, amap
from .clientbase import UNSET, USER_AGENT, BaseClient
from .connection import Origin
from .content import iter_file
from .exchange import Exchanging, h2_target, plan_body, plan_connect
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
    decoder_for,
    robots_fetch_flow,
)
from .http11 import LAST_CHUNK, ResponseHead
from .models import BodySink, Decoder, Headers, Request, Response, Timeout
from .policy.proxies import Proxy
from .trace import TraceHook

if TYPE_CHECKING:
    from ..robots._cache import _Entry
    from ..url import URL
    from .aio_h2_connection import AsyncH2Pool, AsyncH2Stream
    from .cache import CacheEntry
    from .fetch import FetchOutcome

__all__ = ["AsyncClient", "AsyncResponse"]

_T = TypeVar("_T")

_CHUNK = 64 * 1024
# A bytes body goes to the transport one slice at a time: asyncio copies whatever the socket does
# not take at once into its own buffer, so one write() of 64 MiB cost 0.3 s of copying (and 64 MiB
# more memory) before the write timeout's clock could even start.
_UPLOAD_SLICE = 1024 * 1024


class _AsyncBody:
    """The body of one response, read from its connection as it arrives.

    When the body ends the connection goes back to the pool (``release(conn, reusable)``),
    exactly once; an early close, an error or a cancellation releases it as not reusable.
    """

    __slots__ = ("_conn", "_deadline", "_read_timeout", "_release", "trailers")

    def __init__(
        self,
        conn: AsyncConnection,
        release: Callable[[AsyncConnection, bool], None],
        read_timeout: float | None,
        deadline: float | None,
    ) -> None:
        self._conn: AsyncConnection | None = conn
        self._release = release
        self._read_timeout = read_timeout
        self._deadline = deadline
        self.trailers: list[tuple[str, str]] = []

    @property
    def complete(self) -> bool:
        """Whether the whole body has arrived (it can be taken without waiting)."""
        conn = self._conn
        return conn is None or (conn.done and conn.error is None)

    def take_complete(self) -> bytes:
        """The whole body, when ``complete``; hands the connection back."""
        conn = self._conn
        if conn is None:
            return b""
        # conn.take() and _end(), inline: every request that reads its body whole ends here. (Not
        # on an HTTP/2 stream, whose take() makes bytes of its pieces, nor when reading paused.)
        if type(conn) is AsyncConnection and not conn._reading_paused:
            chunks = conn.chunks
            if not chunks:
                data = b""
            else:
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                conn.chunks = []
                conn.buffered = 0
        else:
            data = conn.take() if conn.chunks else b""
        self._conn = None
        self.trailers = conn.trailers
        self._release(conn, conn.finish())
        return data

    def _end(self, conn: AsyncConnection) -> None:
        self._conn = None
        self.trailers = conn.trailers
        self._release(conn, conn.finish())

    def _fail(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.finish()
            self._release(conn, False)

    async def next_chunk(self) -> bytes:
        """The next piece of the body as received (b"" at its end)."""
        while True:
            conn = self._conn
            if conn is None:
                return b""
            if conn.chunks:
                data = conn.take()
                if conn.done:
                    self._end(conn)
                return data
            if conn.done:
                self._end(conn)
                return b""
            if conn.error is not None:
                self._fail()
                raise conn.error
            try:
                await conn.wait_event(self._read_timeout, self._deadline)
            except BaseException:
                self._fail()
                raise

    # The sync BodyStream protocol, for what Response's sync methods call.
    def read(self, n: int = -1) -> bytes:
        raise StreamError("an AsyncResponse body is read with `await response.aread()` or `aiter_bytes()`")

    def readinto(self, buffer: memoryview) -> int:
        raise StreamError("an AsyncResponse body is read with `await response.aread()` or `aiter_bytes()`")

    def close(self) -> None:
        self._fail()


class _StoredBody(_AsyncBody):
    """The body of a response served from the HTTP cache: bytes already in memory."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        super().__init__(None, None, None, None)  # type: ignore[arg-type]  # no connection behind it
        self._data = data

    @property
    def complete(self) -> bool:
        return True

    def take_complete(self) -> bytes:
        data, self._data = self._data, b""
        return data

    async def next_chunk(self) -> bytes:
        return self.take_complete()

    def _fail(self) -> None:
        self._data = b""


class AsyncResponse(Response):
    """A :class:`~netwire.models.Response` whose body is read with ``await``.

    ``await r.aread()`` reads the whole (decoded) body; ``async for chunk in r.aiter_bytes()``
    streams it; ``await r.aclose()`` releases it. Once read, ``content``, ``text`` and
    ``json()`` work as on a sync response (``AsyncClient.request`` reads the body for you).
    """

    __slots__ = ("_abody", "_adecoder", "_sink")

    def __init__(
        self,
        status: int,
        *,
        stream: _AsyncBody,
        decoder: Decoder | None = None,
        reason: str = "",
        http_version: str = "1.1",
        headers: Headers | None = None,
        request: Request | None = None,
        url: URL | None = None,
    ) -> None:
        # ``stream`` (the body), as Response's keyword: ``Exchanging.response`` passes it along,
        # with no ``functools.partial`` made per request to bind it.
        if request is None or headers is None:  # made by hand: Response's defaults
            super().__init__(
                status, reason=reason, http_version=http_version, headers=headers, stream=stream, request=request,
                url=url,
            )
        else:
            # What Response.__init__ sets (no decoder: this class decodes), set here: a response is
            # made on every request, and this saves a frame, a super() and the defaults' tests.
            # tests/aio/test_async_response_api.py checks that every slot of Response is set.
            self.status = status
            self.reason = reason
            self.http_version = http_version
            self.headers = headers
            self.request = request
            self.url = request.url if url is None else url
            self.history = []
            self.elapsed = 0.0
            self.attempts = 1
            self.extensions = {}
            self._content = None
            self._encoding = None
            self.raw = self._stream = stream
            self.closed = False
            self._eof = False
            self._failed = None
        self._abody = stream
        self._adecoder = decoder
        self._sink: BodySink | None = None

    def _tap(self, sink: BodySink) -> None:
        """As :meth:`Response._tap`: the raw body goes to ``sink`` as it is read, then ``done()``."""
        self._sink = sink

    # The sync ways of reading refuse an unread async body *before* touching it, so the response
    # stays readable with the async ones (once the body was read, they serve the content).
    def _refuse_sync_read(self, name: str) -> None:
        if self._content is None:
            raise StreamError(
                f"{name}() cannot read an AsyncResponse body; use `await response.aread()` or "
                "`async for chunk in response.aiter_bytes()` (the body is still unread and readable)"
            )

    def read(self, n: int = -1) -> bytes:
        self._refuse_sync_read("read")
        return super().read(n)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        self._refuse_sync_read("readinto")
        return super().readinto(buffer)

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        self._refuse_sync_read("iter_bytes")
        return super().iter_bytes(chunk_size)

    async def aread(self) -> bytes:
        """Read and return the whole body (decoded); the connection goes back to the pool."""
        if self._read_now():
            return self._content  # type: ignore[return-value]  # _read_now set it
        if self.closed:
            raise StreamError("the response is closed; its body can no longer be read")
        parts = [chunk async for chunk in self.aiter_bytes()]
        data = b"".join(parts)
        self._content = data
        self.closed = True
        return data

    def _read_now(self) -> bool:
        """Read the whole body if it is in already (no wait; the connection goes back to the
        pool); False when :meth:`aread` has to wait for it. A plain method: the client reads a
        small response with no coroutine of its own."""
        if self._content is not None:
            return True
        if self.closed:
            return False  # aread raises
        body = self._abody
        conn = body._conn
        if conn is not None:
            conn.until_done = True  # if it has to wait: woken once, with the whole body
            if not conn.done or conn.error is not None:
                return False
        elif not body.complete:  # a stored body is complete; a failed one is handled by aread
            return False
        data = raw = body.take_complete()
        decoder = self._adecoder
        if decoder is not None and data:
            data = decoder.decode(data) + decoder.flush()
        sink = self._sink
        if sink is not None:
            sink.feed(raw)
            sink.done()
        self._content = data
        self.closed = True
        return True

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as it arrives, without content decoding."""
        if self.closed:
            if self._content is not None:
                raise StreamError("the body was already read; use `content`")
            raise StreamError("the response is closed; its body can no longer be read")
        body = self._abody
        sink = self._sink
        try:
            while True:
                chunk = await body.next_chunk()
                if not chunk:
                    if sink is not None:
                        sink.done()
                    break
                if sink is not None:
                    sink.feed(chunk)
                yield chunk
        finally:
            if body._conn is not None:
                body._fail()
            self.closed = True

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The (decoded) body in pieces: as they arrive, or of ``chunk_size`` bytes."""
        if self._content is not None:
            data = self._content
            step = chunk_size or max(len(data), 1)
            for i in range(0, len(data), step):
                yield data[i : i + step]
            return
        decoder = self._adecoder
        pending = bytearray()
        seen = False
        async for raw in self.aiter_raw():
            seen = True
            chunk = decoder.decode(raw) if decoder is not None else raw
            if not chunk:
                continue
            if chunk_size is None:
                yield chunk
                continue
            pending += chunk
            while len(pending) >= chunk_size:
                yield bytes(pending[:chunk_size])
                del pending[:chunk_size]
        if decoder is not None and seen:
            tail = decoder.flush()
            if tail:
                if chunk_size is None:
                    yield tail
                else:
                    pending += tail
        if chunk_size is not None:
            while pending:
                yield bytes(pending[:chunk_size])
                del pending[:chunk_size]

    async def aiter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """The body decoded to text, with :attr:`encoding` (the WHATWG rules, UTF-8 when nothing
        names one). When the encoding may be declared in the body (HTML, XML), the first 1024 bytes
        are gathered before the first piece of text comes out."""
        import codecs

        from ._charset import PRESCAN_BYTES, sniff

        decoder: codecs.IncrementalDecoder | None = None
        head = bytearray()
        async for chunk in self.aiter_bytes(chunk_size):
            if decoder is None:
                head += chunk
                if len(head) < PRESCAN_BYTES and self._encoding is None:
                    continue
                chunk = bytes(head)
                name = self._encoding or sniff(self.headers.get("content-type"), chunk)
                decoder = codecs.getincrementaldecoder(name or "utf-8")(errors="replace")
            text = decoder.decode(chunk)
            if text:
                yield text
        if decoder is None:  # the body was shorter than the prescan
            name = self._encoding or sniff(self.headers.get("content-type"), bytes(head))
            decoder = codecs.getincrementaldecoder(name or "utf-8")(errors="replace")
            text = decoder.decode(bytes(head))
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    async def aclose(self) -> None:
        """Release the response; a body not read to its end closes its connection."""
        self.close()

    async def __aenter__(self) -> AsyncResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def _h2_released(handle: AsyncH2Stream, clean: bool) -> None:
    """An HTTP/2 stream's body is done: its ``finish`` already gave the stream back."""


async def _read_capped(response: AsyncResponse, limit: int) -> bytes:
    """The first ``limit`` bytes of the body; the rest is never read (the connection is dropped)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


async def _drain(response: AsyncResponse) -> None:
    """As the sync client's ``_drain`` (up to ``DRAIN_LIMIT`` bytes, errors ignored, then closed);
    a body already complete is taken without waiting."""
    async with response:
        with suppress(RequestError):
            if not response.closed:
                body = response._abody
                if body.complete:
                    body.take_complete()
                    return
                left = DRAIN_LIMIT
                while left > 0:
                    chunk = await body.next_chunk()
                    if not chunk:
                        break
                    left -= len(chunk)


class AsyncClient(BaseClient, Verbs[Coroutine[Any, Any, AsyncResponse]]):
    """A pooled HTTP/1.1 client on asyncio. Use ``async with``, or ``await client.aclose()``.

    Its options are :class:`~netwire.clientbase.BaseClient`'s (the sync client's).
    """

    def _make_pool(self) -> None:
        # Called by BaseClient.__init__ (which holds the typed keywords).
        self.pool = AsyncConnectionPool(self.limits)
        self._h2pool: AsyncH2Pool | None = None
        if self.http2:
            from .aio_h2_connection import AsyncH2Pool
            from .h2_core import DEFAULT_H2_LIMITS

            self._h2pool = AsyncH2Pool(self.pool, self.http2_limits or DEFAULT_H2_LIMITS)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0  # the thread _loop runs on
        self._robots_fetch_locks: dict[str, asyncio.Lock] = {}
        self._cache_thread: ThreadPoolExecutor | None = None

    # -- the public methods are Verbs' (http/_verbs.py); what they call ------------------------------

    _build_on_await = True

    async def _sending(
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
        built: Request | None = None,
    ) -> AsyncResponse:
        """Build the request (when awaited, as an ``async def request`` would) and send it; or send
        ``built`` (:meth:`send`'s). One coroutine for both steps: one coroutine less per request.

        The policies are :func:`netwire.flow.send_flow`'s (shared with the sync client); this
        only performs the I/O they ask for.
        """
        if built is None:
            request = self.build_request(
                method, url, params=params, headers=headers, content=content, data=data, json=json, files=files
            )
        else:
            request = built
        # The loop check without get_running_loop (a getpid() system call per call): the bound
        # loop runs, on this thread, so it is the running one (a thread runs one loop at a time).
        loop = self._loop
        if loop is None or self._thread != get_ident() or not loop.is_running():
            self._bind_loop()
        lane = Lane(self, request, timeout, follow_redirects, auth, proxy, stream)
        if lane.lean:  # flow.Lane: one exchange, no generator; the loop only for a redirect
            done = lane.landed(await self._exchange(lane.request, lane.route))
            spent = lane.spent  # the 304 of a cache revalidation (flow.Revalidation): drained
            if spent is not None:
                await _drain(cast(AsyncResponse, spent))
        else:
            done = lane.done  # a cached one: our _response_from_cache's
        if done is None:
            response: AsyncResponse = await self._drive(lane.flow())
            return response
        answer: AsyncResponse = done  # type: ignore[assignment]  # this driver's (no cast(): a call)
        if not stream and not answer._read_now():
            await answer.aread()  # to its end, or failed: closed either way
        return answer

    def _bind_loop(self) -> None:
        """Bind the client to the running loop on its first use; refuse any other loop later."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._loop is not None:
                # Its pooled connections belong to the first loop and cannot be used here.
                raise RuntimeError("an AsyncClient is bound to the event loop it was first used on")
            self._loop = loop
            self._thread = get_ident()

    def map(
        self,
        urls: Iterable[URLTypes] | AsyncIterable[URLTypes],
        *,
        concurrency: int = 20,
        per_host: int | None = None,
        method: str = "GET",
        **kwargs: Unpack[RequestOptions],
    ) -> AsyncIterator[FetchOutcome]:
        """Fetch many URLs, at most ``concurrency`` at once and ``per_host`` per host.

        Yields a :class:`netwire.fetch.FetchOutcome` per URL as each completes (failures are
        values: ``outcome.error``), with the body read. ``kwargs`` go to ``request``.
        """

        async def send(url: URLTypes) -> AsyncResponse:
            return await self.request(method, url, **kwargs)

        def key(url: URLTypes) -> str:
            try:
                return self._url(url).origin
            except Exception:
                return ""  # an invalid URL: its request fails at once, with the parser's error

        return amap(send, urls, key=key, concurrency=concurrency, per_host=per_host)

    async def aclose(self) -> None:
        """Close every pooled connection. Responses still being read close theirs when done."""
        self._shut(self._h2pool, self.pool)
        worker, self._cache_thread = self._cache_thread, None
        if worker is not None:
            # Writes still queued (bodies read just now) finish before the store closes.
            await asyncio.wrap_future(worker.submit(self._close_cache))
            worker.shutdown(wait=False)
        else:
            self._close_cache()
        # Let the transports finish closing (their sockets are released on the next loop pass).
        await asyncio.sleep(0)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

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
    ) -> Coroutine[Any, Any, AsyncResponse]:
        """Send ``request`` through the policies (robots.txt, auth, cookies, retries, redirects);
        ``await`` it.

        The body is read (and the connection handed back) unless ``stream`` is true. The
        policies are :func:`netwire.flow.send_flow`'s (shared with the sync client); the
        coroutine (``_sending``'s) only performs the I/O it asks for.
        """
        return self._sending(
            request.method, request.url, None, None, None, None, None, None, timeout, follow_redirects, auth, proxy,
            stream, request,
        )

    async def _drive(self, flow: Generator[Any, Any, Any]) -> Any:
        """Run a sans-IO flow (:mod:`netwire.flow`) to its end, awaiting each action it yields
        (the dispatch is inline: one coroutine per action less than a ``_perform`` would cost)."""
        send = flow.send
        result: Any = None
        try:
            action = next(flow)
            while True:
                kind = type(action)
                try:
                    if kind is Exchange:
                        result = await self._exchange(action.request, action.route)
                    elif kind is ReadBody:
                        result = await action.response.aread()  # closed at its end, or when it fails
                    elif kind is Drain:
                        await _drain(action.response)
                        result = None
                    elif kind is Sleep:
                        await asyncio.sleep(action.seconds)
                        result = None
                    elif kind is ReadCapped:
                        result = await _read_capped(action.response, action.limit)
                    elif kind is CacheOp:
                        result = await self._cache_call(action.call)
                    elif kind is FetchRobots:
                        result = await self._fetch_robots(action.url)
                    else:  # pragma: no cover - every action is handled above
                        raise TypeError(f"unknown flow action {action!r}")
                except BaseException as exc:  # the flow decides (a retry catches a RequestError)
                    action = flow.throw(exc)
                    continue
                action = send(result)
        except StopIteration as stop:
            return stop.value

    async def _fetch_robots(self, url: str) -> _Entry:
        """Fetch and store one robots.txt under a lock per URL: tasks needing it fetch it once."""
        lock = self._robots_fetch_locks.setdefault(url, asyncio.Lock())
        try:
            async with lock:
                entry: _Entry = await self._drive(robots_fetch_flow(self, url))
                return entry
        finally:
            if not lock.locked():
                self._robots_fetch_locks.pop(url, None)

    # -- the HTTP cache ------------------------------------------------------------------------------
    # A store that blocks (sqlite: disk I/O, and a lock another process may hold for a while) is
    # called on one worker thread of the client's, never on the loop; one thread keeps the calls
    # in order (a body stored just now is found by the next lookup) and gives sqlite one
    # connection. An in-memory store is called on the loop: microseconds, and no thread hop.

    def _cache_worker(self) -> ThreadPoolExecutor:
        worker = self._cache_thread
        if worker is None:
            worker = self._cache_thread = ThreadPoolExecutor(1, thread_name_prefix="netwire-cache")
        return worker

    async def _cache_call(self, call: Callable[[], _T]) -> _T:
        if self.cache is not None and self.cache.blocking:
            return await asyncio.wrap_future(self._cache_worker().submit(call))
        return call()

    def _cache_background(self, call: Callable[[], None]) -> None:
        if self.cache is not None and self.cache.blocking:
            self._cache_worker().submit(call)  # queued; the next lookup runs after it
        else:
            call()

    def _response_from_cache(self, request: Request, entry: CacheEntry, headers: Headers, body: bytes) -> AsyncResponse:
        return AsyncResponse(
            entry.status,
            stream=_StoredBody(body),
            decoder=decoder_for(self, entry.facts.encoding, request.method),
            reason=entry.reason,
            http_version=entry.http_version,
            headers=headers,
            request=request,
            url=request.url,
        )

    # -- one exchange on one connection -------------------------------------------------------------

    async def _connect(
        self,
        origin: Origin,
        proxy: Proxy | None,
        t: Timeout,
        deadline: float | None,
        h2: bool = False,
        trace: TraceHook | None = None,
    ) -> AsyncConnection:
        """A new connection to ``origin``; ``h2``: offer HTTP/2 (ALPN) and keep what the server
        sends first for the HTTP/2 connection taking it over."""
        plan = plan_connect(self, origin, proxy, USER_AGENT, h2=h2)
        if plan.mode == "forward":
            assert plan.proxy_origin is not None
            proxy_origin = plan.proxy_origin
            conn = await open_async_connection(
                proxy_origin, connect_timeout=t.connect, deadline=deadline, ssl_context=plan.proxy_ssl_context,
                limits=self.parser_limits, trace=trace, label=f"proxy {proxy_origin.host}:{proxy_origin.port}",
            )
            conn.origin = origin
            return conn
        # Direct, or a tunnel (CONNECT or SOCKS5, then the origin's TLS inside it).
        return await open_async_connection(
            origin, connect_timeout=t.connect, deadline=deadline, ssl_context=plan.ssl_context,
            uds=self.uds if proxy is None else None, limits=self.parser_limits, proxy=proxy,
            proxy_headers=plan.connect_fields, proxy_ssl_context=plan.proxy_ssl_context, keep_raw=h2, trace=trace,
        )

    async def _exchange(
        self,
        request: Request,
        route: Route | None,
        x: Exchanging[AsyncH2Pool, Awaitable[AsyncConnection]] | None = None,
        first: AsyncConnection | None = None,
    ) -> AsyncResponse:
        """One exchange, on HTTP/2 or HTTP/1.1 (its bookkeeping is ``exchange.Exchanging``'s).

        The HTTP/1.1 exchange is ``Client._send_h1``'s, on an asyncio connection; one whose whole
        body the caller will read collects it as it comes, without waking this task for each
        piece. It is written here rather than in a coroutine of its own: one coroutine less on
        every request. ``x`` and ``first`` (``route`` None): the HTTP/1.1 exchange ``_send_h2``
        falls back to, on the connection where the server picked HTTP/1.1 by ALPN.
        """
        if x is None:
            assert route is not None
            x = Exchanging(self, request, route, self._h2pool, self._connect)
            if x.h2 is not None:
                return await self._send_h2(x, x.h2)
        t, deadline, request, head = x.timeout, x.deadline, x.request, x.head
        pool = self.pool
        whole = x.whole and request.content is None
        for attempt in (0, 1):
            if first is not None:
                conn, first, reused = first, None, False
            elif attempt == 0 and (idle := pool.try_acquire(x.key)) is not None:
                conn, reused = idle, True  # no await, no coroutine: the hot path
            else:
                conn, reused = await pool.acquire(
                    x.key, x.connect, pool_timeout=t.pool, deadline=deadline, fresh=attempt > 0
                )
            parser = x.begin(reused)
            conn.start(parser, whole)
            try:
                if request.content is None and not conn.write_paused:
                    transport = conn.transport  # conn.write(head), inline (its checks first)
                    if not conn.alive or transport.is_closing():
                        conn.write(head)  # raises the WriteError
                    transport.write(head)
                    response_head = None
                else:
                    response_head = await self._send_body(conn, head, request, t, deadline)
                if x.trace is not None:
                    x.sent()
                if response_head is None:
                    response_head = conn.head
                    if response_head is None and deadline is None and conn.error is None:
                        # The common wait, awaited here: one future (woken once, with the whole
                        # response when ``whole``), no wait_head/wait_event/wait coroutines.
                        if not await conn.arm(t.read):
                            raise conn.read_timed_out(t.read)
                        response_head = conn.head
                    if response_head is None or conn.error is not None:
                        response_head = await conn.wait_head(t.read, deadline)
            except BaseException as exc:
                pool.discard(conn)
                if not x.again(exc, attempt, parser):
                    raise
            else:
                break
        assert response_head is not None
        conn.requests += 1
        release = pool.release if x.trace is None else x.traced(response_head, pool.release, parser)
        return x.response(AsyncResponse, response_head, _AsyncBody(conn, release, t.read, deadline))

    # -- HTTP/2 (http2=True): the same exchange on a multiplexed stream --------------------------------

    async def _send_h2(self, x: Exchanging[AsyncH2Pool, Awaitable[AsyncConnection]], h2pool: AsyncH2Pool) -> AsyncResponse:
        """As ``Client._send_h2``, on an asyncio HTTP/2 connection (its stream collects a whole
        body as it comes when the caller reads it all)."""
        content = x.request.content
        target = h2_target(x.request)
        for attempt in range(3):
            conn, http11, reused = await h2pool.stream(
                x.key, x.connect_h2, pool_timeout=x.timeout.pool,
                connect_timeout=x.timeout.connect, deadline=x.deadline,
            )
            if conn is None:
                # HTTP/1.1 by ALPN: this connection (if any), for this request.
                return await self._exchange(x.request, None, x, http11)
            handle = conn.open(*target, content is None)  # no wait: the frames are queued
            x.begin_stream(reused)
            try:
                if content is not None:
                    await self._h2_body(handle, content, x.timeout, x.deadline)
                x.sent_stream(target)
                response_head = await handle.wait_head(x.timeout.read, x.deadline)
            except BaseException as exc:
                handle.finish()
                if not x.again_stream(exc, handle.stream, attempt):
                    raise
            else:
                break
        handle.until_done = x.whole
        # The stream has the reading interface of an HTTP/1.1 connection (AsyncH2Stream's docstring).
        release = _h2_released if x.trace is None else x.traced(response_head, _h2_released, None)
        body = _AsyncBody(handle, release, x.timeout.read, x.deadline)  # type: ignore[arg-type]
        return x.response(AsyncResponse, response_head, body)

    @staticmethod
    async def _h2_body(handle: AsyncH2Stream, content: Any, t: Timeout, deadline: float | None) -> None:
        """Stream a request body on an HTTP/2 stream, as its flow-control windows open."""
        write_timeout = t.write
        if isinstance(content, str):
            content = content.encode("utf-8")
        if isinstance(content, bytes | bytearray | memoryview):
            await handle.send_body(content, write_timeout, deadline)
        elif hasattr(content, "__aiter__"):
            async for chunk in content:
                if chunk:
                    await handle.send_body(chunk, write_timeout, deadline)
        else:
            chunks: Iterable[bytes] = iter_file(content) if hasattr(content, "read") else content
            for chunk in chunks:
                if chunk:
                    await handle.send_body(chunk, write_timeout, deadline)
        handle.end_body()

    async def _send_body(
        self, conn: AsyncConnection, head: bytes, request: Request, t: Timeout, deadline: float | None
    ) -> ResponseHead | None:
        """Send head and body as planned. Returns the response head if the server answered before the body."""
        write_timeout = t.write
        try:
            if request.content is None:
                conn.write(head)
                await conn.drain(write_timeout, deadline)
                return None
            plan = plan_body(head, request)
            conn.write(plan.first)
            await conn.drain(write_timeout, deadline)
            rest = plan.rest
            if rest is None:
                return None
            if plan.expect:
                answer = await self._await_continue(conn)
                if answer is not None:
                    conn.parser.keep_alive = False  # type: ignore[union-attr]  # the body was never sent
                    return answer
            if isinstance(rest, bytes):
                for at in range(0, len(rest), _UPLOAD_SLICE):
                    conn.write(rest[at : at + _UPLOAD_SLICE])
                    await conn.drain(write_timeout, deadline)
                return None
            chunked = plan.chunked
            if hasattr(rest, "__aiter__"):
                async for chunk in rest:
                    await self._write_chunk(conn, chunk, chunked, write_timeout, deadline)
            else:
                for chunk in rest:
                    await self._write_chunk(conn, chunk, chunked, write_timeout, deadline)
            if chunked:
                conn.write(LAST_CHUNK)
                await conn.drain(write_timeout, deadline)
            return None
        except WriteError as write_error:
            # A server may answer (413, 401...) and close before taking the whole body: its
            # answer is more useful than "connection closed", if it sent one.
            if conn.head is not None:
                conn.parser.keep_alive = False  # type: ignore[union-attr]
                return conn.head
            try:
                answer = await conn.wait_head(EARLY_RESPONSE_WAIT, deadline)
            except RequestError:
                raise write_error from None
            conn.parser.keep_alive = False  # type: ignore[union-attr]
            return answer

    @staticmethod
    async def _write_chunk(
        conn: AsyncConnection, chunk: bytes, chunked: bool, write_timeout: float | None, deadline: float | None
    ) -> None:
        if not chunk:
            return
        if chunked:
            conn.write(b"%x\r\n" % len(chunk) + bytes(chunk) + b"\r\n")
        else:
            conn.write(bytes(chunk))
        if conn.write_paused:
            await conn.drain(write_timeout, deadline)
        elif conn.head is not None or not conn.alive:
            raise WriteError(f"sending to {conn.origin} failed: the server answered or closed mid-upload")

    @staticmethod
    async def _await_continue(conn: AsyncConnection) -> ResponseHead | None:
        """After an ``Expect: 100-continue`` head: None to send the body, or the server's final answer."""
        wait_until = time.monotonic() + CONTINUE_WAIT
        while True:
            if conn.error is not None:
                raise conn.error
            if conn.head is not None:
                return conn.head
            if conn.got_continue:
                return None
            left = wait_until - time.monotonic()
            if left <= 0 or not await conn.wait(left, False):
                return None
