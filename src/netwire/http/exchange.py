"""One request/response exchange on one connection: the decisions, written once for both clients.

``Client._send_h1``/``_send_h2`` (http/client.py) and their ``AsyncClient`` twins (http/aio.py) are
drivers: they acquire a connection, write bytes, wait for the head, each with its own I/O. What
they decide is here, pure (no socket; the clock only for ``elapsed`` and trace timings):

- :func:`plan_connect`: which connection an origin + proxy needs (direct, a forward proxy, or a
  tunnel through CONNECT/SOCKS5), with which TLS contexts and CONNECT header fields;
- :func:`plan_body`: how a request body goes out (coalesced with the head, after a
  ``100 Continue``, as bytes, as chunks, framed chunked or not);
- :func:`stale_retry`: after a failed exchange, whether to send once more on a fresh connection
  (a keep-alive connection the server closed while idle) or what to raise;
- :class:`Exchanging`: the bookkeeping around one exchange's I/O (route, head, HTTP/2 or not,
  trace events, the Crawl-delay stamp, the parser, the retry decision, the Response), so
  a driver's ``_send_h1``/``_send_h2`` hold only their acquire, write and wait calls.

Imports: models, http11, connection (for ``Origin`` only), content, flow, policy, trace. Nothing of
the drivers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

from ..errors import ConnectionTerminated, ReadError, WriteError
from .connection import Origin
from .content import iter_file
from .flow import COALESCE_LIMIT, IDEMPOTENT_METHODS, response_fields
from .http11 import IncompleteResponse, ResponseHead, ResponseParser
from .models import Headers, Response
from .policy.proxies import Proxy, proxy_authorization
from .policy.redirects import rewind_body
from .trace import acquired, h2_request_sent, request_sent, response_received, traced_release

if TYPE_CHECKING:
    import ssl

    from .clientbase import BaseClient
    from .flow import Route
    from .models import Request, Timeout
    from .trace import TraceHook

__all__ = ["BodyPlan", "ConnectPlan", "Exchanging", "plan_body", "plan_connect", "stale_retry"]

R = TypeVar("R", bound="Response")
C = TypeVar("C")


class _H2Pool(Protocol):
    """What :class:`Exchanging` asks of a driver's HTTP/2 pool: the keys that answered HTTP/1.1."""

    h1_only: set[Hashable]


P = TypeVar("P", bound=_H2Pool)
K = TypeVar("K")  # what the driver's connect returns: a connection, or a coroutine making one


class ConnectPlan(NamedTuple):
    """How to reach an origin. ``mode``: ``"direct"``, ``"forward"`` (plain HTTP through an HTTP
    proxy: the connection goes to the proxy, requests carry absolute-form targets) or ``"tunnel"``
    (CONNECT or SOCKS5 to the proxy, then the origin's TLS, if any, inside it)."""

    mode: str
    ssl_context: ssl.SSLContext | None
    """TLS to the origin (inside the tunnel, if any)."""
    proxy_origin: Origin | None
    proxy_ssl_context: ssl.SSLContext | None
    """TLS to the proxy itself (an ``https://`` proxy), or None."""
    connect_fields: list[tuple[str, str]]
    """Header fields of an HTTP CONNECT (empty for SOCKS5)."""


def plan_connect(
    client: BaseClient, origin: Origin, proxy: Proxy | None, user_agent: str, *, h2: bool = False
) -> ConnectPlan:
    """The connection ``origin`` needs through ``proxy`` (see :class:`ConnectPlan`); ``h2``:
    its TLS offers HTTP/2 by ALPN too (an ``http2`` client's)."""
    if origin.scheme == "https":
        ctx = client._h2_context(origin.host) if h2 else client._tls_context(origin.host)
    else:
        ctx = None
    if proxy is None:
        return ConnectPlan("direct", ctx, None, None, [])
    https_proxy = proxy.kind == "https"
    proxy_origin = Origin("https" if https_proxy else "http", proxy.host, proxy.port)
    if origin.scheme == "http" and proxy.kind in ("http", "https"):
        proxy_ctx = client._tls_context(proxy.host) if https_proxy else None
        return ConnectPlan("forward", ctx, proxy_origin, proxy_ctx, [])
    fields: list[tuple[str, str]] = []
    if proxy.kind in ("http", "https"):
        fields.append(("User-Agent", client.headers.get("user-agent", user_agent)))
        credentials = proxy_authorization(proxy)
        if credentials:
            fields.append(("Proxy-Authorization", credentials))
    # The proxy's TLS uses the client's context as configured (no per-host override: the
    # override names the origin, not the proxy).
    return ConnectPlan("tunnel", ctx, proxy_origin, client._context() if https_proxy else None, fields)


class BodyPlan(NamedTuple):
    """How a request with a body goes out: write ``first``; if ``rest`` is None that was all.
    Else, if ``expect``, wait for ``100 Continue`` (or a final answer) first; then ``rest``:
    bytes, or an iterable / async iterable of chunks, framed chunked when ``chunked``."""

    first: bytes
    expect: bool
    rest: Any
    chunked: bool


def plan_body(head: bytes, request: Request) -> BodyPlan:
    """The :class:`BodyPlan` of ``request`` (whose ``content`` is not None)."""
    content = request.content
    headers = request.headers
    expect = headers.get("expect", "").lower() == "100-continue"
    if isinstance(content, str):
        content = content.encode("utf-8")
    if isinstance(content, bytes | bytearray | memoryview):
        if not expect and len(content) <= COALESCE_LIMIT:
            # One write, one packet: a small body rides with its head.
            return BodyPlan(head + bytes(content), False, None, False)
        return BodyPlan(head, expect, bytes(content), False)
    if hasattr(content, "read") and not hasattr(content, "__aiter__"):  # an async file is iterated
        content = iter_file(content)
    chunked = headers.get("transfer-encoding", "").lower().endswith("chunked")
    return BodyPlan(head, expect, content, chunked)


def stale_retry(exc: BaseException, *, first: bool, reused: bool, received_any: bool, request: Request, origin: Origin) -> bool:
    """After an exchange failed with ``exc`` (a write/read error or an incomplete response),
    called in the driver's ``except`` block: True to send again on a fresh connection, False to
    re-raise ``exc``; or it raises a clearer :class:`~netwire.errors.ReadError` itself.

    A keep-alive connection the server closed while it sat idle fails before any byte of a
    response: safe to send again once, if the method is idempotent and the body can be
    replayed (RFC 9110 9.2.2).
    """
    stale = reused and not received_any
    if first and stale and request.method in IDEMPOTENT_METHODS and rewind_body(request):
        return True
    if isinstance(exc, IncompleteResponse) and stale:
        raise ReadError(f"{origin} closed the connection without responding", reason=exc, request=request) from exc
    return False


# -- HTTP/2 (an ``http2`` client): the same decisions for a multiplexed stream ------------------------


def speaks_h2(client: BaseClient, origin: Origin, proxy: Proxy | None) -> bool:
    """Whether a request to ``origin`` goes the HTTP/2 way: https (ALPN decides), or h2c with
    prior knowledge; never plain HTTP forwarded by an HTTP proxy (the proxy speaks HTTP/1.1)."""
    scheme = origin.scheme
    if scheme == "http" and proxy is not None and proxy.kind in ("http", "https"):
        return False
    return scheme == "https" or (scheme == "http" and client.http2 == "prior-knowledge")


class H2Target(NamedTuple):
    """What the HEADERS frame of a request carries (its pseudo-header fields, then ``fields``)."""

    method: str
    scheme: str
    authority: str
    path: str
    fields: list[tuple[str, str]]


def h2_target(request: Request) -> H2Target:
    """The pseudo-header fields of ``request`` (a ``Host`` header, if set, is the ``:authority``)."""
    from .h2_core import request_parts

    scheme, authority, path = request_parts(request.url, request.extensions.get("target"))
    host = request.headers.get("host")
    return H2Target(request.method, scheme, host or authority, path, request.headers._items)


def h2_retry(exc: ReadError, stream: Any, *, reused: bool, attempt: int, request: Request) -> bool:
    """After a stream failed with ``exc``: True to send the request again (at most twice).

    A stream the server refused or cut off by a GOAWAY before processing it may go again
    (RFC 9113 8.7), as may an idempotent request on a reused connection that died before any
    byte of its answer, if the body can be replayed."""
    from .h2_core import retriable

    stale = isinstance(exc, ConnectionTerminated) and reused and not stream.received_any
    again = retriable(exc, stream) or (stale and request.method in IDEMPOTENT_METHODS)
    return attempt < 2 and again and rewind_body(request)


# -- one exchange's bookkeeping, for both drivers -------------------------------------------------


class Exchanging(Generic[P, K]):
    """Everything one exchange does besides its I/O, for the drivers' ``_send_h1``/``_send_h2``.

    Built once per exchange (a hop, a retry, an auth round): the connection route and pool key,
    the serialised head, whether it goes the HTTP/2 way, the clocks. Its methods are the steps
    between the driver's calls: :meth:`begin` once a connection is in hand, :meth:`sent` once the
    request is out, :meth:`again` in the driver's ``except`` (send once more, or re-raise),
    :meth:`traced` once the head is in (only when tracing), :meth:`response` to build the Response.
    No I/O. The drivers count the request on the connection (``conn.requests += 1``) themselves:
    an attribute bump is cheaper than a call on every request.
    """

    __slots__ = (
        "_connect", "client", "deadline", "h2", "head", "key", "origin", "proxy", "request", "reused", "sent_at",
        "started", "timeout", "trace", "whole",
    )

    def __init__(
        self, client: BaseClient, request: Request, route: Route, h2pool: P | None, connect: Callable[..., K]
    ) -> None:
        self.client = client
        self._connect = connect  # the driver's: (origin, proxy, timeout, deadline, h2, trace) -> connection
        self.request = request
        self.timeout: Timeout = route.timeout
        self.deadline = route.deadline
        self.trace: TraceHook | None = route.trace
        self.whole = route.whole  # the caller reads the whole body (not streaming)
        proxies = route.proxies
        # client._plan's memo hit, without the call (the hot path); a miss works it out.
        cached = client._plans.get(
            (request.method, request.url._href, tuple(request.headers._items), id(proxies),
             request.extensions.get("target"))
        )
        plan = cached[1] if cached is not None and cached[0] is proxies else client._plan(request, proxies)
        origin, key, proxy, self.head = plan
        self.origin = origin
        self.key = key
        self.proxy = proxy
        # The HTTP/2 pool when the exchange goes that way: the client speaks HTTP/2 and the
        # origin was not found to pick HTTP/1.1 by ALPN. None: HTTP/1.1.
        self.h2: P | None = None
        if h2pool is not None and key not in h2pool.h1_only and speaks_h2(client, origin, proxy):
            self.h2 = h2pool
        self.reused = False
        self.started = self.sent_at = time.monotonic()

    def connect(self) -> K:
        """The pool's ``connect()`` for this exchange: a new connection from the driver's ``_connect``
        (a coroutine from the async one's)."""
        return self._connect(self.origin, self.proxy, self.timeout, self.deadline, False, self.trace)

    def connect_h2(self) -> K:
        """As :meth:`connect`, offering HTTP/2 by ALPN."""
        return self._connect(self.origin, self.proxy, self.timeout, self.deadline, True, self.trace)

    def begin(self, reused: bool) -> ResponseParser:
        """A connection is in hand (``reused``: an idle one): tell the trace, stamp Crawl-delay
        (the request starts now), and the parser for its response."""
        self.reused = reused
        trace = self.trace
        if trace is not None:
            acquired(trace, self.origin, reused, self.started)
            self.sent_at = time.monotonic()
        client = self.client
        if client.respect_robots:
            client._sent_to(self.request)
        return ResponseParser(self.request.method, client.parser_limits)

    def begin_stream(self, reused: bool) -> None:
        """As :meth:`begin` for an HTTP/2 stream (its connection parses the responses)."""
        self.reused = reused
        if self.trace is not None:
            acquired(self.trace, self.origin, reused, self.started)
        self.sent_at = time.monotonic()
        if self.client.respect_robots:
            self.client._sent_to(self.request)

    def sent(self) -> None:
        """The request (head and body) is out (called when tracing: ``trace`` is set)."""
        if self.trace is not None:
            request_sent(self.trace, self.request.method, self.head, self.request.content, self.sent_at)

    def sent_stream(self, target: H2Target) -> None:
        """The request is out on an HTTP/2 stream."""
        if self.trace is not None:
            h2_request_sent(
                self.trace, target.method, target.authority, target.path, target.fields, self.request.content,
                self.sent_at,
            )

    def again(self, exc: BaseException, attempt: int, parser: ResponseParser) -> bool:
        """In the driver's ``except`` (the connection already given up): True to send once more
        on a fresh connection, False to re-raise ``exc`` (see :func:`stale_retry`)."""
        if not isinstance(exc, WriteError | ReadError | IncompleteResponse):
            return False
        return stale_retry(
            exc, first=attempt == 0, reused=self.reused, received_any=parser.received_any, request=self.request,
            origin=self.origin,
        )

    def again_stream(self, exc: BaseException, stream: object, attempt: int) -> bool:
        """As :meth:`again` for an HTTP/2 stream (see :func:`h2_retry`)."""
        return isinstance(exc, ReadError) and h2_retry(
            exc, stream, reused=self.reused, attempt=attempt, request=self.request
        )

    def traced(
        self, head: ResponseHead, release: Callable[[C, bool], None], parser: ResponseParser | None
    ) -> Callable[[C, bool], None]:
        """The response head is in and the exchange is traced (the drivers call this only when
        ``trace`` is set: an untraced request skips the call): tell the trace; the ``release``
        the body calls at its end (the pool's, traced)."""
        trace = self.trace
        assert trace is not None
        response_received(trace, head, self.sent_at)
        if parser is None:
            return release
        return traced_release(trace, release, parser, self.origin)

    def response(self, make: Callable[..., R], head: ResponseHead, stream: object = None) -> R:
        """The Response of ``head``: ``make(status, **fields)`` (the driver's class, its body bound,
        or given as ``stream``: the sync driver's, which so makes no ``partial`` per request).
        Built here rather than by a helper: one call less per request (the hot path)."""
        request = self.request
        raw, low = head.raw_fields, head.raw_lower
        if raw is not None and low is not None and "\r\ncontent-encoding:" not in low:
            # The usual head (the parser's fast path, nothing to decode): response_fields' answer inline.
            headers: Headers = Headers._from_raw(raw, low)
            if make is Response and stream is not None:  # the sync driver's: the fields set at once
                elapsed = time.monotonic() - self.started
                body: Any = stream  # (the driver's ResponseBody)
                return make._received(head, headers, request, body, elapsed, self.reused)  # type: ignore[return-value]
            decoder = None
        else:
            headers, decoder = response_fields(self.client, head, request.method)
        if stream is None:
            response = make(
                head.status,
                reason=head.reason,
                http_version=head.http_version,
                headers=headers,
                request=request,
                url=request.url,
                decoder=decoder,
            )
        else:
            response = make(
                head.status,
                reason=head.reason,
                http_version=head.http_version,
                headers=headers,
                request=request,
                url=request.url,
                decoder=decoder,
                stream=stream,
            )
        response.elapsed = time.monotonic() - self.started
        response.extensions["connection_reused"] = self.reused
        return response
