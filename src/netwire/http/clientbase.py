"""The part of a client that does no I/O, shared by the sync and the async client.

Options (timeouts, TLS, proxies, cookies, auth, retries, decompression, robots), request
building (URL, params, headers, body encoding), routing (origin, proxy, pool key) and request
head serialisation live here once; the clients differ only in how they wait.
"""

from __future__ import annotations

import logging
import os
import ssl
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from .. import __version__
from .._types import (
    JSON,
    AuthTypes,
    CacheTypes,
    CertTypes,
    ContentTypes,
    CookieTypes,
    DataTypes,
    FilesTypes,
    HeaderTypes,
    HTTP2Types,
    ParamTypes,
    ProxyTypes,
    TimeoutTypes,
    URLTypes,
    VerifyTypes,
)
from ..errors import InsecureRequestWarning, InvalidURL, TotalTimeout
from ..url import URL
from ._unset import UNSET
from .connection import Origin, make_ssl_context
from .content import encode_request_body, form_urlencode
from .flow import Route, decoder_for
from .http11 import DEFAULT_LIMITS, ParserLimits, encode_request_head
from .models import Headers, Limits, Request, Response, Timeout, _BytesStream
from .policy.auth import Auth, NetrcAuth, auth_from
from .policy.proxies import Proxy, effective_settings, proxy_authorization, select_proxy
from .policy.retries import Retry
from .trace import TraceHook, tracer_for
from .trace import log as trace_log

if TYPE_CHECKING:
    from http.cookiejar import CookieJar  # not at run time: it imports urllib.request

    from ..robots._cache import RobotsRules
    from .cache import Cache, CacheEntry
    from .h2_core import H2Limits

__all__ = ["BaseClient", "DEFAULT_MAX_CRAWL_DELAY", "DEFAULT_TIMEOUT", "UNSET", "USER_AGENT"]

DEFAULT_TIMEOUT = Timeout(30.0, connect=10.0)
DEFAULT_MAX_REDIRECTS = 20
# The longest wait a robots.txt Crawl-delay can impose per request (seconds); a site asking more
# gets this (a hostile Crawl-delay: 1e300 would otherwise stall a crawler forever).
DEFAULT_MAX_CRAWL_DELAY = 60.0
USER_AGENT = f"netwire/{__version__}"
_METHODS_WITH_BODY = frozenset(("POST", "PUT", "PATCH"))
# Bodies larger than this (or of unknown size) are sent with Expect: 100-continue.
DEFAULT_EXPECT_THRESHOLD = 1024 * 1024


# The proxy settings of a client or a send: scheme (or "all", "https://host") -> proxy or None.
_Proxies = dict[str, "Proxy | None"]
# Where a request goes: its origin, its pool key (origin, uds, proxy identity), its proxy.
_RouteOf = tuple[Origin, tuple[object, ...], "Proxy | None"]
_Plan = tuple[Origin, tuple[object, ...], "Proxy | None", bytes]  # _RouteOf and the serialised head


# Entries in each of a client's memos of parsed URLs, routes and encoded request heads (each is
# emptied when full). Above a revisit crawl's usual page count (a 1,000-page revisit parsed every
# URL again at 256), and bounded: a few MB at most (SECURITY.md).
MEMO_ENTRIES = 4096

class _Closable(Protocol):
    def close(self) -> None: ...


class BaseClient:
    """What the sync and async clients share: their options, and building what to send.

    Nothing here does I/O: requests are built, routed (origin, proxy, pool key) and
    serialised here; :class:`~netwire.client.Client` and :class:`~netwire.aio.AsyncClient` send them.

    :param timeout: a :class:`Timeout` or a number of seconds (connect, read, write, pool).
    :param limits: pool bounds (:class:`Limits`).
    :param verify: True (system CAs), False (no TLS verification), a CA bundle path, or an
        ``ssl.SSLContext`` used as is.
    :param cert: a client certificate: a path, or (certfile, keyfile).
    :param headers: sent with every request (the caller's per-request headers win).
    :param auth: credentials for every request: ``(user, password)`` (Basic), an
        :class:`~netwire.policy.auth.Auth` (``DigestAuth``, ``NetrcAuth``...), or a function.
    :param netrc: use ``~/.netrc`` (or ``$NETRC``) credentials for hosts listed there.
    :param cookies: a ``http.cookiejar.CookieJar`` to use (one is made per client otherwise),
        or a dict of cookies to start with; ``False`` turns cookie handling off.
    :param proxy: a proxy URL (``http://``, ``https://``, ``socks5://``, ``socks5h://``) or
        :class:`~netwire.policy.proxies.Proxy` for every request, or a dict keyed by scheme
        (``"http"``, ``"https"``, ``"all"``, ``"https://host"``) with None meaning direct.
    :param no_proxy: hosts to reach directly (comma list: suffixes, hosts, IPs, CIDRs, ``*``).
    :param trust_env: read proxies and no_proxy from the environment when not given here.
    :param retries: a :class:`~netwire.policy.retries.Retry` policy, or a number of retries.
    :param decompress: decode gzip/deflate/br/zstd bodies and say so in Accept-Encoding.
    :param max_decoded_size: the largest decoded body (a decompression bomb is an error).
    :param follow_redirects: follow 301/302/303/307/308 (default True, as urllib does).
    :param max_redirects: how many redirects one request may follow.
    :param allow_downgrade: follow an https -> http redirect (off by default).
    :param expect_continue: bodies larger than this many bytes (or of unknown size) are sent
        with ``Expect: 100-continue``; None turns that off.
    :param uds: connect every request to this Unix domain socket path instead of TCP.
    :param parser_limits: bounds on response heads (:class:`netwire.http11.ParserLimits`).
    :param user_agent: the User-Agent sent, and the agent robots.txt rules are matched for.
    :param respect_robots: check each URL (redirect targets too) against its origin's
        robots.txt before sending (RFC 9309; cached per origin), refuse a disallowed one with
        :class:`~netwire.errors.RobotsDisallowed`, and space requests to an origin by its
        Crawl-delay.
    :param max_crawl_delay: the longest Crawl-delay obeyed (seconds, default 60); a longer one
        is cut to this. A wait that would pass the request's total deadline is a
        :class:`~netwire.errors.TotalTimeout` at once.
    :param cache: HTTP caching (RFC 9111, a private cache): True for an in-memory LRU store, a
        file path for a sqlite store that persists, or a :class:`netwire.cache.Cache` object.
        Responses say how they were served in ``extensions["cache"]`` (see :mod:`netwire.cache`).
    :param http2: ``True`` offers HTTP/2 by ALPN on https (``h2, http/1.1``; the server
        chooses) and multiplexes concurrent requests to an origin on one connection;
        ``"prior-knowledge"`` also speaks HTTP/2 without TLS (h2c, as curl's
        ``--http2-prior-knowledge``); ``False`` (the default) speaks HTTP/1.1 only. Needs the
        ``netwire[http2]`` extra (:class:`~netwire.errors.MissingDependency` otherwise).
    :param http2_limits: HTTP/2 windows and limits (:class:`netwire.http.h2_core.H2Limits`).
    :param trace: a callable given a :class:`~netwire.http.trace.TraceEvent` for each phase of
        every request (DNS, connect, TLS, proxy tunnel, pool, request and response head and
        body, retry, redirect); a request's own ``extensions["trace"]`` replaces it for that
        request. Called synchronously, also by the async client.
    """

    def __init__(
        self,
        *,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        limits: Limits | None = None,
        verify: VerifyTypes = True,
        cert: CertTypes = None,
        headers: HeaderTypes = None,
        auth: AuthTypes = None,
        netrc: bool = False,
        cookies: CookieTypes = None,
        proxy: ProxyTypes = None,
        no_proxy: str | None = None,
        trust_env: bool = True,
        retries: Retry | int | None = None,
        decompress: bool = True,
        max_decoded_size: int | None = None,
        follow_redirects: bool = True,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        allow_downgrade: bool = False,
        expect_continue: int | None = DEFAULT_EXPECT_THRESHOLD,
        uds: str | None = None,
        parser_limits: ParserLimits = DEFAULT_LIMITS,
        user_agent: str | None = None,
        respect_robots: bool = False,
        max_crawl_delay: float = DEFAULT_MAX_CRAWL_DELAY,
        cache: CacheTypes = None,
        http2: HTTP2Types = False,
        http2_limits: H2Limits | None = None,
        trace: TraceHook | None = None,
    ) -> None:
        if http2 not in (False, True, "prior-knowledge"):
            raise ValueError(f'http2 must be False, True or "prior-knowledge", not {http2!r}')
        if http2:
            from .h2_core import require_h2

            require_h2()  # a clear MissingDependency now, not at the first request
        self.http2: bool | str = http2
        self.http2_limits = http2_limits
        self._h2_ssl_context: Any = None
        self.cache: Cache | None = None
        # Keys whose store write is queued on the async client's cache thread (see flow._store_later).
        self._cache_queued: list[str] = []
        # A store the client made (True, a path) is the client's to close; the caller's stays open.
        self._own_cache = cache is True or isinstance(cache, str | os.PathLike)
        if cache is not None and cache is not False:
            from .cache import cache_from  # sqlite3 is imported only by clients that cache

            self.cache = cache_from(cache)
        self.timeout = Timeout.coerce(timeout)
        self.trace = trace
        self.user_agent = user_agent or USER_AGENT
        self.respect_robots = respect_robots
        if not max_crawl_delay >= 0 or max_crawl_delay == float("inf"):
            raise ValueError(f"max_crawl_delay must be a finite number of seconds >= 0, not {max_crawl_delay!r}")
        self.max_crawl_delay = float(max_crawl_delay)
        self._rules: RobotsRules | None = None
        self._last_visit: dict[str, float] = {}
        self._robots_lock = threading.Lock()
        self.limits = limits if limits is not None else Limits()
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.allow_downgrade = allow_downgrade
        self.uds = uds
        self.parser_limits = parser_limits
        self.auth: Auth | None = auth_from(auth)
        self.netrc = NetrcAuth() if netrc else None
        self.retries = Retry.coerce(retries) if retries else None
        self.decompress = decompress
        self.max_decoded_size = max_decoded_size
        self.expect_continue = expect_continue
        self.trust_env = trust_env
        self._proxies, self._no_proxy = self._proxy_settings(proxy, no_proxy)
        self.cookies: CookieJar | None = self._make_jar(cookies)
        self._verify = os.fspath(verify) if isinstance(verify, os.PathLike) else verify
        self._cert = cert
        self._ssl_context: ssl.SSLContext | None = verify if isinstance(verify, ssl.SSLContext) else None
        self._insecure_warned: set[str] = set()  # hosts already warned about (InsecureRequestWarning)
        base = Headers([("User-Agent", self.user_agent), ("Accept", "*/*")])
        if decompress:
            from .decoders import accept_encoding

            base["Accept-Encoding"] = accept_encoding()
        for name, value in Headers(headers).multi_items():
            base[name] = value
        self.headers = base
        self._urls: dict[str, URL] = {}
        # (href, id(proxies)) -> (proxies, route): the proxies object is kept and compared by
        # identity, so a per-request settings dict whose id a later one reuses cannot hit.
        self._routes: dict[tuple[str, int], tuple[_Proxies, _RouteOf]] = {}
        self._heads: dict[tuple[object, ...], bytes] = {}
        # (method, href, header fields, id(proxies), target) -> (proxies, plan): _route and _head
        # in one lookup for a request sent again (see _plan).
        self._plans: dict[tuple[object, ...], tuple[_Proxies, _Plan]] = {}
        self._closed = False
        self._lean_routes: list[Route | None] = [None, None]  # see _route_for
        self._make_pool()

    # -- the HTTP cache's hooks (netwire.flow calls them) ---------------------------------------------

    def _response_from_cache(self, request: Request, entry: CacheEntry, headers: Headers, body: bytes) -> Response:
        """A response served from the cache: the stored body, decoded as the network's would be."""
        return Response(
            entry.status,
            reason=entry.reason,
            http_version=entry.http_version,
            headers=headers,
            stream=_BytesStream(body),
            request=request,
            url=request.url,
            decoder=decoder_for(self, entry.facts.encoding, request.method),
        )

    def _cache_background(self, call: Callable[[], None]) -> None:
        """Run a store write a finished body asks for (the async client moves a blocking one off its loop)."""
        call()

    def _shut(self, *pools: _Closable | None) -> None:
        """Refuse further sends and close ``pools`` (each pool closes its idle connections; those
        in use close when their responses are done): both drivers' ``close``."""
        self._closed = True
        for pool in pools:
            if pool is not None:
                pool.close()

    def _close_cache(self) -> None:
        if self.cache is not None and self._own_cache:
            self.cache.close()

    def _make_pool(self) -> None:
        """Make the connection pool (and the driver's own state): the sync and async clients
        differ here only, so they do not redefine ``__init__`` and its typed keywords."""
        raise NotImplementedError

    def _proxy_settings(self, proxy: ProxyTypes, no_proxy: str | None) -> tuple[_Proxies, str | None]:
        explicit: dict[str, Proxy | str | None] | None
        if proxy is None:
            explicit = None
        elif isinstance(proxy, Mapping):
            explicit = {k: (Proxy.from_url(v) if isinstance(v, URL) else v) for k, v in proxy.items()}
        else:
            explicit = {"all": Proxy.from_url(proxy) if isinstance(proxy, URL) else proxy}
        settings, skip = effective_settings(explicit, no_proxy, trust_env=self.trust_env)
        return {k: (Proxy.from_url(v) if isinstance(v, str | URL) else v) for k, v in settings.items()}, skip

    @staticmethod
    def _make_jar(cookies: CookieTypes) -> CookieJar | None:
        if cookies is False:
            return None
        if cookies is not None and hasattr(cookies, "add_cookie_header"):
            return cast("CookieJar", cookies)
        from .policy.cookies import make_cookie_jar

        jar = make_cookie_jar()
        if cookies:
            import http.cookiejar

            for name, value in dict(cookies).items():
                jar.set_cookie(
                    http.cookiejar.Cookie(
                        0, name, value, None, False, "", False, False, "/", True, False, None, False, None, None, {}
                    )
                )
        return jar

    @property
    def _robots_rules(self) -> RobotsRules:
        """The robots.txt of each origin this client met (sans-IO; built on first use)."""
        rules = self._rules
        if rules is None:
            from ..robots._cache import RobotsRules

            with self._robots_lock:
                if self._rules is None:
                    self._rules = RobotsRules()
                rules = self._rules
        return rules

    def _route_for(
        self, timeout: TimeoutTypes, stream: bool, proxy: ProxyTypes, extensions: dict[str, Any] | None = None
    ) -> Route:
        """The timeouts, total deadline, proxies and trace hook one ``send`` carries through all
        its hops (``extensions``: the request's, whose ``"trace"`` wins over the client's)."""
        if timeout is UNSET and proxy is UNSET and not extensions and self.trace is None:
            # The common send (the lean lane's): the client's own timeouts and proxies, nobody
            # tracing. With no total timeout its Route holds nothing per send, so one per
            # ``stream`` is kept and reused while the client's timeout and proxies stay the same.
            t = self.timeout
            if t.total is None and not trace_log.isEnabledFor(logging.DEBUG):
                route = self._lean_routes[stream]
                if route is None or route.timeout is not t or route.proxies is not self._proxies:
                    route = self._lean_routes[stream] = Route(t, None, self._proxies, not stream, None)
                return route
        t = self.timeout if timeout is UNSET else Timeout.coerce(timeout)
        deadline = None if t.total is None else time.monotonic() + t.total
        proxies = self._proxies
        if proxy is not UNSET:
            proxies = {} if proxy is None else self._proxy_settings(proxy, self._no_proxy)[0]
        return Route(t, deadline, proxies, not stream, tracer_for(self.trace, extensions))

    def _flow_auth(self, auth: AuthTypes) -> Auth | None:
        """The credentials of one ``send``: its own, else the client's, else netrc's."""
        flow_auth = self.auth if auth is UNSET else auth_from(auth)
        if flow_auth is None and self.netrc is not None:
            flow_auth = self.netrc
        return flow_auth

    def _sent_to(self, request: Request) -> None:
        """Crawl-delay bookkeeping, called by the drivers once the request has a connection: the
        request to this origin starts now (time spent waiting for the pool does not eat the gap)."""
        origin = request.extensions.get("netwire.crawl_origin")
        if origin is not None:
            with self._robots_lock:
                now = time.monotonic()
                if self._last_visit.get(origin, 0.0) < now:
                    self._last_visit[origin] = now

    def _book_crawl_slot(self, origin: str, delay: float, deadline: float | None) -> float:
        """Book the next request start at ``origin`` a Crawl-delay after the last; the wait, in seconds.

        The delay is cut to ``max_crawl_delay`` (NaN too). A wait ending past ``deadline`` (the
        request's total deadline) raises :class:`TotalTimeout` now, without booking the slot,
        rather than sleeping into a deadline already lost. Request starts are spaced by the
        delay: the slot is booked under a lock (threads sharing the client queue up) and set again
        when the request actually goes out, so time spent before sending does not eat the gap.
        """
        cap = self.max_crawl_delay
        if not delay <= cap:
            delay = cap
        with self._robots_lock:
            now = time.monotonic()
            at = max(now, self._last_visit.get(origin, now - delay) + delay)
            if at > now and deadline is not None and at >= deadline:
                raise TotalTimeout(
                    f"the Crawl-delay of {origin} means waiting {at - now:.3g} s, past the total deadline "
                    f"({max(deadline - now, 0.0):.3g} s left)"
                )
            self._last_visit[origin] = at
        return at - now

    # -- building ---------------------------------------------------------------------------------

    def _url(self, url: URLTypes) -> URL:
        if isinstance(url, URL):
            return url
        cached = self._urls.get(url)
        if cached is None:
            cached = URL(url)
            if len(self._urls) >= MEMO_ENTRIES:
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
        content: ContentTypes = None,
        data: DataTypes = None,
        json: JSON = None,
        files: FilesTypes = None,
    ) -> Request:
        """The Request ``request()`` would send, with the client's headers merged in."""
        return self._build(method, url, params, headers, content, data, json, files)

    def _build(
        self,
        method: str,
        url: URLTypes,
        params: ParamTypes,
        headers: HeaderTypes,
        content: ContentTypes,
        data: DataTypes,
        json: JSON,
        files: FilesTypes,
    ) -> Request:
        """:meth:`build_request`, its arguments positional (the hot path's: no keyword binding)."""
        u = self._urls.get(url) if type(url) is str else None  # _url's cache, without the call
        if u is None:
            u = self._url(url)
        if u._scheme not in ("http", "https", "http+unix"):
            raise InvalidURL(f"netwire.Client cannot fetch {u.scheme}: URLs ({u})")
        if params:
            query = params if isinstance(params, str) else form_urlencode(params)
            search = u.search[1:]
            u = u.replace(search=f"{search}&{query}" if search else query)
        merged = Headers._from_list(list(self.headers._items))  # a copy (Headers.copy, one call less)
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
        extensions: dict[str, object] = {}
        if body is not None and hasattr(body, "seek") and hasattr(body, "tell"):
            try:
                extensions["body_start"] = body.tell()
            except OSError:
                pass
        if body is not None and self.expect_continue is not None and "expect" not in merged:
            length = merged.get("content-length")
            if length is None or int(length) > self.expect_continue:
                merged["Expect"] = "100-continue"
        return Request(method, u, merged, body, extensions)

    def _origin(self, url: URL) -> Origin:
        scheme = url.scheme
        if scheme == "http+unix":
            from ..parse import unquote

            return Origin(scheme, unquote(url.hostname), 0)
        port = url.effective_port
        assert port is not None
        return Origin(scheme, url.host_for_socket, port)

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            verify = self._verify
            assert not isinstance(verify, ssl.SSLContext | os.PathLike)  # a context is used as is (__init__)
            if verify is True and self._cert is None:
                from .connection import default_ssl_context

                self._ssl_context = default_ssl_context()
            else:
                self._ssl_context = make_ssl_context(verify, self._cert)
        return self._ssl_context

    def _h2_context(self, host: str) -> Any:
        """:meth:`_tls_context` offering ``h2, http/1.1`` by ALPN (an ``http2`` client's).

        A context the caller passed as ``verify`` gets that ALPN list set on it."""
        ctx = self._h2_ssl_context
        if ctx is None:
            if hasattr(self._verify, "wrap_socket"):
                ctx = self._verify
            else:
                ctx = make_ssl_context(self._verify, self._cert)
            ctx.set_alpn_protocols(["h2", "http/1.1"])
            self._h2_ssl_context = ctx
        self._tls_context(host)  # the insecure-TLS warning, once per host
        return ctx

    def _tls_context(self, host: str) -> ssl.SSLContext:
        """The SSLContext for a TLS connection to ``host``; warns once per host if it verifies nothing.

        InsecureRequestWarning (as urllib3 and requests do): ``verify=False`` or a context that
        skips the certificate or hostname check is easy to leave in by mistake, and then
        anyone on the path can read and change the traffic.
        """
        ctx = self._context()
        if (ctx.verify_mode == ssl.CERT_NONE or not ctx.check_hostname) and host not in self._insecure_warned:
            self._insecure_warned.add(host)
            what = "certificate verification" if ctx.verify_mode == ssl.CERT_NONE else "the hostname check"
            warnings.warn(
                f"TLS to {host} with {what} turned off: the connection can be read and changed by anyone "
                "on the path (pass verify=True or a CA bundle; see SECURITY.md to silence this warning)",
                InsecureRequestWarning,
                stacklevel=_caller_stacklevel(),
            )
        return ctx

    def _route_of(self, url: URL, proxies: _Proxies) -> _RouteOf:
        """Origin, pool key and proxy of ``url`` (cached: the same URLs come back again and again)."""
        cache_key = (url._href, id(proxies))
        cached = self._routes.get(cache_key)
        if cached is not None and cached[0] is proxies:
            return cached[1]
        origin = self._origin(url)
        proxy = select_proxy(url, proxies, self._no_proxy) if proxies else None
        pkey = None if proxy is None else proxy.pool_key
        route = (origin, (origin, self.uds, pkey), proxy)
        if len(self._routes) >= MEMO_ENTRIES:
            self._routes.clear()
        self._routes[cache_key] = (proxies, route)
        return route

    def _route(self, request: Request, proxies: _Proxies) -> _RouteOf:
        """:meth:`_route_of` for a request: a ``Proxy-Authorization`` the caller set, of any
        scheme, goes verbatim to the tunnel's CONNECT (as urllib does); :meth:`_head` keeps it
        from the origin."""
        url = request.url
        cached = self._routes.get((url._href, id(proxies)))  # _route_of's cache hit, without the call
        route = cached[1] if cached is not None and cached[0] is proxies else self._route_of(url, proxies)
        proxy = route[2]
        if proxy is not None and proxy.kind in ("http", "https") and proxy.tunnels(request.url.scheme):
            value = request.headers.get("proxy-authorization")
            if value is not None:
                proxy = proxy.with_authorization(value)
                return route[0], (route[0], self.uds, proxy.pool_key), proxy
        return route

    def _plan(self, request: Request, proxies: _Proxies) -> _Plan:
        """:meth:`_route` and :meth:`_head` of ``request`` in one, remembered per (method, URL,
        header fields, proxies, request-target): a request sent again costs one lookup, no
        route, no head key, no head rebuild. Everything the two answers depend on is in the key
        (the proxies by identity, kept and compared as :meth:`_route_of` does)."""
        key = (request.method, request.url._href, tuple(request.headers._items), id(proxies),
               request.extensions.get("target"))
        cached = self._plans.get(key)
        if cached is not None and cached[0] is proxies:
            return cached[1]
        origin, pkey, proxy = self._route(request, proxies)
        plan = (origin, pkey, proxy, self._head(request, proxy))
        if len(self._plans) >= MEMO_ENTRIES:
            self._plans.clear()
        self._plans[key] = (proxies, plan)
        return plan

    def _head(self, request: Request, proxy: Proxy | None) -> bytes:
        """The serialised request head, cached by (method, URL, header fields, proxy, target).

        ``request.extensions["target"]``, when set, is sent as the request-target verbatim
        (the urllib face sends ``Request.selector`` as urllib does, unnormalised).
        """
        url = request.url
        items = request.headers._items
        override = request.extensions.get("target")
        # The proxy's whole identity is in the key, not just "some proxy": the target form and
        # Proxy-Authorization depend on which proxy (kind, address, credentials) it goes to, and
        # one proxy's credentials must never reach another proxy or, through a tunnel, the origin.
        pkey = None if proxy is None else (proxy.kind, proxy.host, proxy.port, proxy.auth)
        key = (request.method, url._href, tuple(items), pkey, override)
        head = self._heads.get(key)
        if head is None:
            fields = list(items)
            if not any(name.lower() == "host" for name, _ in fields):
                fields.insert(0, ("Host", url.host))
            target = url.request_target if override is None else override
            if proxy is not None and url.scheme == "http" and proxy.kind in ("http", "https"):
                # A plain HTTP proxy gets the absolute-form target and its credentials.
                if override is None:
                    # Without userinfo (as curl, requests and httpx): the request line lands in
                    # the proxy's logs, and the origin's credentials are no business of the proxy.
                    target = _absolute_target(url)
                credentials = proxy_authorization(proxy)
                if credentials and not any(n.lower() == "proxy-authorization" for n, _ in fields):
                    fields.append(("Proxy-Authorization", credentials))
            elif proxy is not None:
                # Tunnelled: the proxy's credentials went to the CONNECT; never to the origin.
                fields = [(n, v) for n, v in fields if n.lower() != "proxy-authorization"]
            head = encode_request_head(request.method, target, fields)
            if len(self._heads) >= MEMO_ENTRIES:
                self._heads.clear()
            self._heads[key] = head
        return head


def _absolute_target(url: URL) -> str:
    """The absolute-form request-target of ``url``: no fragment, no user name or password."""
    url = url.without_fragment()
    if url.username or url.password:
        url = url.replace(username="", password="")
    return str(url)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _caller_stacklevel() -> int:
    """The ``stacklevel`` naming the first frame outside netwire, for a warning raised by our caller.

    So a warning points at the caller's ``client.get(...)`` line, not at netwire's internals
    (under an event loop, at the loop's frame: the caller's task is not on the stack).
    """
    frame = sys._getframe(2)  # the caller of the function that calls warnings.warn (stacklevel 2)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
