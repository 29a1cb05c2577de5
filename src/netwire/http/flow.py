"""The send loop, once: one ``send`` from request to final response, as a sans-IO generator.

:func:`send_flow` holds every policy decision of a send (robots.txt and Crawl-delay, auth rounds,
retries, cookies, redirects, history, the total deadline) and does no I/O: it yields small
action objects and its driver performs them and sends back the result (or throws the
exception the I/O raised into it). :class:`~netwire.client.Client` drives it with blocking
calls, :class:`~netwire.aio.AsyncClient` with ``await``; the two drivers hold only I/O, so a
behaviour cannot drift between them, and a third driver (HTTP/2) needs no third copy.

The actions, and what the driver sends back:

* :class:`Exchange` ``(request, route)``: send one request on a pooled connection; the
  :class:`~netwire.models.Response` with its body unread (the driver's ``_exchange``).
* :class:`ReadBody` ``(response)``: read the whole body, then close; None.
* :class:`Drain` ``(response)``: read up to :data:`DRAIN_LIMIT` bytes so a small body frees its
  connection for reuse, then close (errors ignored); None.
* :class:`ReadCapped` ``(response, limit)``: the first ``limit`` body bytes; the driver closes it.
* :class:`Sleep` ``(seconds)``: wait (a retry's backoff, a Crawl-delay); None.
* :class:`FetchRobots` ``(robots_url)``: run :func:`robots_fetch_flow` under a lock for
  that URL (threads or tasks asking at once fetch it once); the stored cache entry.
* :class:`CacheOp` ``(call)``: one call to the HTTP cache's store (``client.cache``, see
  :mod:`netwire.cache`); its result. The sync driver calls it; the async one calls it on the
  loop when the store is in memory, on its cache thread when the store blocks (sqlite).

The pattern is netwire's own ``Auth.flow`` (and httpx's ``auth_flow``), grown to the whole send.

May import: ``cache``, ``errors``, ``models``, ``policy``, ``_robots``, ``_robots_cache``, ``url``; the
clients only for type checking (they import this module, not the other way round).
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ..errors import NetwireError, RequestError, RobotsDisallowed, TooManyRedirects, TotalTimeout
from . import cache as rules
from ._unset import UNSET
from .cache import Cache, CacheEntry, served_headers
from .models import Headers, Request, Response, Timeout
from .policy.auth import Auth, url_credentials
from .policy.redirects import REDIRECT_STATUSES, next_request, redirect_target, rewind_body, same_origin
from .policy.retries import IDEMPOTENT_METHODS
from .trace import TraceEvent, redact_url

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

    from .._types import AuthTypes, ProxyTypes, TimeoutTypes
    from ..robots._cache import _Entry
    from .clientbase import BaseClient
    from .http11 import ResponseHead
    from .models import Decoder
    from .trace import TraceHook

__all__ = [
    "CONTINUE_WAIT",
    "COALESCE_LIMIT",
    "CacheOp",
    "DRAIN_LIMIT",
    "EARLY_RESPONSE_WAIT",
    "IDEMPOTENT_METHODS",
    "Drain",
    "Lane",
    "Exchange",
    "FetchRobots",
    "ReadBody",
    "ReadCapped",
    "RobotsAnswer",
    "Route",
    "Sleep",
    "follows",
    "drive",
    "fresh_hit",
    "is_plain",
    "robots_fetch_flow",
    "robots_get_flow",
    "send_flow",
]

T = TypeVar("T")

#: Bodies up to this size go out in the same send as the head (one segment, no Nagle wait).
COALESCE_LIMIT = 64 * 1024
#: After a failed upload, how long to look for a response the server sent before closing.
EARLY_RESPONSE_WAIT = 2.0
#: How long to wait for "100 Continue" before sending the body anyway (RFC 9110 10.1.1).
CONTINUE_WAIT = 1.0
#: A body left unread (a redirect's, a challenge's) is read up to this many bytes so its
#: connection can be reused; a bigger one closes the connection instead.
DRAIN_LIMIT = 64 * 1024


# -- what one send carries -------------------------------------------------------------------------


class Route:
    """What one ``send`` carries through its redirects, auth rounds and retries."""

    __slots__ = ("deadline", "proxies", "timeout", "trace", "whole")

    def __init__(
        self,
        timeout: Timeout,
        deadline: float | None,
        proxies: dict[str, Any],
        whole: bool,
        trace: TraceHook | None = None,
    ) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.proxies = proxies
        self.whole = whole  # the caller reads every body anyway (not streaming)
        self.trace = trace  # the send's trace hook (netwire.http.trace), None when nobody listens

    def can_wait(self, delay: float) -> bool:
        return self.deadline is None or time.monotonic() + delay < self.deadline

    def check_wait(self, delay: float, error: BaseException | None) -> None:
        """Before a retry's wait: one past the total deadline ends the request instead."""
        if not self.can_wait(delay):
            message = "total deadline would pass before the next retry"
            if error is not None:
                raise TotalTimeout(f"{message} (last error: {error})") from error
            raise TotalTimeout(message)


# -- the actions -----------------------------------------------------------------------------------


class Exchange:
    __slots__ = ("request", "route")

    def __init__(self, request: Request, route: Route) -> None:
        self.request = request
        self.route = route


class ReadBody:
    __slots__ = ("response",)

    def __init__(self, response: Response) -> None:
        self.response = response


class Drain:
    __slots__ = ("response",)

    def __init__(self, response: Response) -> None:
        self.response = response


class ReadCapped:
    __slots__ = ("limit", "response")

    def __init__(self, response: Response, limit: int) -> None:
        self.response = response
        self.limit = limit


class Sleep:
    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class FetchRobots:
    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url


class CacheOp:
    __slots__ = ("call",)

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = call


Action = Exchange | ReadBody | Drain | ReadCapped | Sleep | FetchRobots | CacheOp
Flow = Generator[Action, Any, Response]


# -- the loop --------------------------------------------------------------------------------------


def is_plain(client: BaseClient, auth: Auth | None, request: Request | None = None) -> bool:
    """Whether a send needs the loop only after its first response (no robots.txt check, no auth
    flow, no retries, no cache, no credentials in the URL): the drivers then send it at once and start
    :func:`send_flow` with ``first`` only if :func:`follows` that response (a generator costs a
    few microseconds)."""
    return (
        auth is None
        and client.retries is None
        and not client.respect_robots
        and client.cache is None
        # (the URL's fields, not its properties: a property is a call, on every request)
        and (request is None or not (request.url._username or request.url._password))
    )


def fresh_hit(client: BaseClient, auth: Auth | None, request: Request) -> Response | None:
    """The cache's fast path, for the drivers: the response a fresh stored one gives ``request``
    when the loop would do nothing else before its exchange (no robots.txt, auth or retries) and
    the store answers without waiting (in memory, or sqlite's ``peek``); None otherwise (then
    :func:`send_flow` decides, as always). What it answers is exactly what :func:`send_flow` would, without the generators (a third of a hit's cost)."""
    store = client.cache
    if store is None or auth is not None or client.retries is not None or client.respect_robots:
        return None
    method = request.method
    url = request.url
    if (method != "GET" and method != "HEAD") or url.username or url.password:
        return None
    plan = rules.Plan(request)
    if plan.bypass:
        return None
    key = plan.key
    if key in client._cache_queued:
        return None  # a write for it waits on the cache thread: the loop's ordered get sees it
    # (lookup_now, inline: a store in memory answers at once, sqlite's peek when it can.)
    entries = store.get(key) if not store.blocking else rules.lookup_now(store, key)
    if entries is None:
        return None
    found = rules.select(entries, request) if entries else None
    now = time.time()
    if found is None or not rules.usable(found, plan, now):
        # The loop comes next, for this very request: it takes this lookup rather than repeat it
        # (a second sqlite read of the body, for a revalidation).
        _lookups.last = (request, plan, entries, found, now)
        return None
    return _from_cache(client, request, found, now, "hit")


# What fresh_hit found for a request it could not answer, per thread: :func:`revalidation` or
# :func:`_through_cache`, run next for the same request object (on the same thread, with no
# await in between), uses it.
_lookups = threading.local()


class Revalidation:
    """The cache's second fast path, for the drivers: a stale stored response with validators,
    asked about with one conditional request on the lean lane (no generator), as
    :func:`_through_cache` would (see :func:`revalidation`). ``request``: the conditional one."""

    __slots__ = ("found", "plan", "request", "request_time")

    def __init__(self, plan: rules.Plan, found: CacheEntry, request: Request) -> None:
        self.plan = plan
        self.found = found
        self.request = request
        self.request_time = time.time()

    def answer(self, client: BaseClient, request: Request, response: Response) -> tuple[Response | None, Response | None]:
        """(the answer to ``request``, the spent 304 for the driver to drain): the stored response,
        refreshed, for a 304 about it; the network's response (stored when storable) otherwise;
        None for a 304 about another representation (then the loop asks again, without validators)."""
        store = client.cache
        assert store is not None
        if response.status == 304:
            served = _revalidated(client, store, self.plan, request, self.found, response, self.request_time)
            return served, response
        return _network_answer(client, store, self.plan, request, self.found, response, self.request_time), None


def revalidation(client: BaseClient, request: Request) -> Revalidation | None:
    """When :func:`fresh_hit` found only a stale response for ``request`` (just now, on this
    thread) that has validators and is not to be served stale: the :class:`Revalidation` that
    sends the conditional request on the lean lane. None otherwise (the loop decides, as always)."""
    last = getattr(_lookups, "last", None)
    if last is None or last[0] is not request:
        return None
    plan: rules.Plan = last[1]
    found: CacheEntry | None = last[3]
    if found is None or plan.only_if_cached or rules.stale_while_revalidate(found, plan, last[4]):
        return None
    sent = rules.conditional(request, found)
    if sent is None:
        return None
    _lookups.last = None
    return Revalidation(plan, found, sent)


class Lane:
    """How one ``send`` starts, decided here for both drivers (the drivers' ``send`` arguments).

    ``done``: the answer already (a fresh cached response that is not a redirect to follow).
    ``lean``: the lean lane: nothing of the loop can act before the first response (no robots.txt,
    auth, retries or cache; see :func:`is_plain`), so the driver sends ``request`` (the jar's
    cookies added) on ``route`` at once, without a generator, and hands the response to
    :meth:`landed`. Otherwise (or when :meth:`landed` says the answer is a redirect to follow)
    the driver runs :meth:`flow`.
    """

    __slots__ = (
        "auth", "check", "client", "done", "first", "follow", "lean", "original", "request", "route", "spent", "stream",
    )

    def __init__(
        self,
        client: BaseClient,
        request: Request,
        timeout: TimeoutTypes,
        follow_redirects: bool | None,
        auth: AuthTypes,
        proxy: ProxyTypes,
        stream: bool,
    ) -> None:
        if client._closed:
            raise RuntimeError(f"this {type(client).__name__} is closed")
        self.client = client
        self.original = self.request = request
        self.stream = stream
        self.follow = follow = client.follow_redirects if follow_redirects is None else follow_redirects
        # The usual send names no auth and the client has none: no call to work that out.
        if auth is UNSET and client.auth is None and client.netrc is None:
            flow_auth = None
        else:
            flow_auth = client._flow_auth(auth)
        self.auth = flow_auth
        self.done: Response | None = None
        self.first: Response | None = None
        self.lean = False
        # The cache's revalidation on the lean lane (its conditional request sent as ``request``),
        # and the 304 it spent, which the driver drains (see :class:`Revalidation`).
        self.check: Revalidation | None = None
        self.spent: Response | None = None
        self.route: Route  # set below unless the cache answers at once (nothing goes out then)
        if client.cache is None:
            self.route = client._route_for(timeout, stream, proxy, request.extensions)
            # is_plain, inline (the cache known absent): the usual send, on every request.
            url = request.url
            if (
                flow_auth is not None
                or client.retries is not None
                or client.respect_robots
                or url._username
                or url._password
            ):
                return
        else:
            hit = fresh_hit(client, flow_auth, request)
            if hit is not None and not follows(hit, follow):
                self.done = hit
                return
            self.first = hit
            if hit is None:
                self.check = revalidation(client, request)
            self.route = client._route_for(timeout, stream, proxy, request.extensions)
            if self.first is not None or (self.check is None and not is_plain(client, flow_auth, request)):
                return
        self.lean = True
        if self.check is not None:
            request = self.request = self.check.request
        jar = client.cookies
        if jar is not None and getattr(jar, "_cookies", True):  # cookies_out's own test, first
            self.request = cookies_out(jar, request)

    def landed(self, response: Response) -> Response | None:
        """The lean lane's response: its cookies stored; itself when it is the answer, None when
        it is a redirect to follow (then :meth:`flow` goes on from it)."""
        jar = self.client.cookies
        if jar is not None:
            # cookies_in's first test, inline: a raw head without "Set-Cookie" (the usual
            # response) needs no call. (``_raw`` first: ``_low`` is set only with it.)
            headers = response.headers
            if headers._raw is None or headers._low is None or "\r\nset-cookie" in headers._low:
                cookies_in(jar, response, self.request)
        check = self.check
        if check is not None:  # the cache's revalidation: the stored response (a 304), or this one
            answer, self.spent = check.answer(self.client, self.original, response)
            if answer is None:
                return None  # a 304 about another representation: the loop asks again (first is None)
            response = answer
        # follows(), inline: this runs on every lean request, and a call costs more than the test.
        if self.follow and response.status in REDIRECT_STATUSES and "location" in response.headers:
            self.first = response
            return None
        return response

    def flow(self) -> Flow:
        """The send loop for this send (from the first response when the driver has it)."""
        check = self.check
        if check is not None and self.first is None:
            # The revalidation's 304 was about another representation: the loop asks again
            # without validators (its cache step takes this for its lookup: nothing found).
            _lookups.last = (self.original, check.plan, [], None, 0.0)
        return send_flow(
            self.client, self.original, self.route, follow=self.follow, auth=self.auth, stream=self.stream,
            first=self.first,
        )


def drive(flow: Generator[Action, Any, T], perform: Callable[[Action], object]) -> T:
    """Run a flow to its end with blocking I/O: ``perform(action)`` for each action it yields,
    its result (or the exception it raised) sent back in. The sync client's driver loop; the
    async client's awaits instead (``AsyncClient._drive``)."""
    send = flow.send
    try:
        action = next(flow)
        while True:
            try:
                result = perform(action)
            except BaseException as exc:  # the flow decides (a retry catches a RequestError)
                action = flow.throw(exc)
                continue
            action = send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value


def follows(response: Response, follow: bool) -> bool:
    """Whether ``response`` is a redirect the loop follows."""
    return follow and response.status in REDIRECT_STATUSES and "location" in response.headers


def send_flow(
    client: BaseClient,
    request: Request,
    route: Route,
    *,
    follow: bool,
    auth: Auth | None,
    stream: bool,
    robots: bool = True,
    first: Response | None = None,
) -> Flow:
    """One send, from ``request`` to the final response (read unless ``stream``).

    ``first``: the response to ``request`` when the driver already has it (its fast path sent
    a plain request and got a redirect); the loop goes on from there.
    ``robots`` False: not checked against robots.txt (the fetch of a robots.txt itself).
    """
    history: list[Response] = []
    first_url = request.url
    response = first
    if auth is None or auth is client.netrc:
        # http://user:pw@host/: Basic credentials for that origin (an explicit auth= wins; the
        # same-origin rule below keeps them from a redirect elsewhere).
        auth = url_credentials(first_url) or auth
    while True:
        if response is None:
            if robots and client.respect_robots:
                yield from _obey_robots(client, request, route)
            # Credentials given for one origin stay there: a redirect elsewhere goes without
            # them (netrc's are looked up per host, so they may follow).
            if auth is not None and (auth is client.netrc or same_origin(first_url, request.url)):
                response = yield from _auth_rounds(client, request, auth, route)
            else:
                response = yield from _retrying(client, request, route)
        if not follows(response, follow):
            break
        if client.cache is None:
            yield Drain(response)
        else:
            yield from _drain_to_cache(response)
        history.append(response)
        if len(history) > client.max_redirects:
            raise TooManyRedirects(
                f"more than {client.max_redirects} redirects, last to {response.headers.get('location')}",
                history=history,
                request=request,
            )
        request = next_request(request, response, allow_downgrade=client.allow_downgrade)
        if route.trace is not None:
            route.trace(
                TraceEvent(
                    "redirect",
                    time.monotonic(),
                    0.0,
                    {"status": response.status, "location": redact_url(str(request.url)), "method": request.method},
                )
            )
        response = None
    if history:  # a fresh Response's history is already an empty list
        response.history = history
    if not stream:
        yield ReadBody(response)
    return response


def _auth_rounds(client: BaseClient, request: Request, auth: Auth, route: Route) -> Flow:
    """Drive ``auth.flow``: send what it asks, give it each response, until it is satisfied."""
    flow = auth.flow(request)
    req = next(flow)
    while True:
        response = yield from _retrying(client, req, route)
        if auth.requires_response_body:
            yield ReadBody(response)
        try:
            next_req = flow.send(response)
        except StopIteration:
            return response
        yield Drain(response)
        if not rewind_body(next_req):
            return response  # the body cannot be sent twice: the caller gets the challenge
        req = next_req


def _retrying(client: BaseClient, request: Request, route: Route) -> Flow:
    """One exchange, sent again as ``client.retries`` allows after a failure or a listed status."""
    retry = client.retries
    if retry is None:
        return (yield from _with_cookies(client, request, route))
    state = retry.start()
    attempt = 1
    while True:
        try:
            response = yield from _with_cookies(client, request, route)
        except RequestError as exc:
            delay = state.next_delay(request, error=exc)
            if delay is None or not rewind_body(request):
                raise
            route.check_wait(delay, exc)
            _trace_retry(route, attempt, exc, delay, retry.total - attempt + 1)
            attempt += 1
            yield Sleep(delay)
            continue
        if response.status in state.retry.status_forcelist:
            delay = state.next_delay(request, response=response)
            if delay is not None and rewind_body(request) and route.can_wait(delay):
                _trace_retry(route, attempt, f"status {response.status}", delay, retry.total - attempt + 1)
                attempt += 1
                yield Drain(response)
                yield Sleep(delay)
                continue
        response.attempts = attempt
        return response


def _trace_retry(route: Route, attempt: int, reason: object, delay: float, left: int) -> None:
    """The ``retry`` event: attempt ``attempt`` failed for ``reason``; the next in ``delay`` s;
    ``left`` retries remain, the coming one included (as curl counts them)."""
    if route.trace is not None:
        route.trace(
            TraceEvent(
                "retry",
                time.monotonic(),
                0.0,
                {"attempt": attempt, "reason": str(reason), "delay": delay, "retries_left": max(left, 0)},
            )
        )


def _with_cookies(client: BaseClient, request: Request, route: Route) -> Flow:
    if client.cache is not None:
        return (yield from _through_cache(client, client.cache, request, route))
    return (yield from _exchange(client, request, route))


def _exchange(client: BaseClient, request: Request, route: Route) -> Flow:
    """One exchange on the network, with the jar's cookies."""
    jar = client.cookies
    sent = request if jar is None else cookies_out(jar, request)
    response: Response = yield Exchange(sent, route)
    if jar is not None:
        cookies_in(jar, response, sent)
    return response


def cookies_out(jar: CookieJar, request: Request) -> Request:
    """``request`` with the jar's cookies for it (itself when the jar is empty: the common case,
    which skips the cookiejar's per-request work, most of a small GET's cost)."""
    # CookieJar keeps its cookies in ``_cookies`` (a dict, empty when the jar is); a jar of
    # another kind without it gets the full treatment.
    if not getattr(jar, "_cookies", True):
        return request
    from .policy.cookies import add_cookie_header

    return add_cookie_header(jar, request)


def cookies_in(jar: CookieJar, response: Response, request: Request) -> None:
    """Store the cookies ``response`` sets (nothing to do, and nothing done, without Set-Cookie)."""
    headers = response.headers
    if headers._surely_lacks("\r\nset-cookie"):  # both names, in one search of a raw section
        return
    if "set-cookie" in headers or "set-cookie2" in headers:
        from .policy.cookies import extract_cookies

        extract_cookies(jar, response, request)


# -- the HTTP cache (RFC 9111; the rules are netwire.cache's) -----------------------------------


def _through_cache(client: BaseClient, store: Cache, request: Request, route: Route) -> Flow:
    """One exchange through the cache: served from it when fresh, revalidated when stale, stored
    when storable (once its body was read to the end); unsafe methods invalidate.

    ``response.extensions["cache"]``: "hit" (no network), "revalidated" (a 304 refreshed the
    stored response, served), "stored" (from the network, now stored) or "miss".
    """
    if request.method not in rules.LOOKUP_METHODS:
        response = yield from _exchange(client, request, route)
        keys = rules.invalidated(request, response)
        if keys:
            yield CacheOp(lambda: _delete_all(store, keys))
        return response
    last = getattr(_lookups, "last", None)
    entries: list[CacheEntry] | None = None
    if last is not None:
        _lookups.last = None
        if last[0] is request:
            plan, entries = last[1], last[2]
    if entries is None:
        plan = rules.Plan(request)
    found: CacheEntry | None = None
    if not plan.bypass:
        # A store in memory (or sqlite's peek) is called here (microseconds); a get that may
        # block, by the driver.
        if entries is None and plan.key not in client._cache_queued:
            entries = rules.lookup_now(store, plan.key)
        if entries is None:
            entries = yield CacheOp(lambda: store.get(plan.key))
        found = rules.select(entries, request)
        now = time.time()
        if found is not None:
            if rules.usable(found, plan, now):
                return _from_cache(client, request, found, now, "hit")
            if rules.stale_while_revalidate(found, plan, now):
                # Served stale once, marked: the next request revalidates (see docs/client.md).
                marked = rules.marked_stale(found)
                _store_later(client, store, plan.key, lambda: rules.store_refreshed(store, plan.key, marked))
                return _from_cache(client, request, marked, now, "stale")
        if plan.only_if_cached:  # RFC 9111 5.2.1.7: nothing usable stored
            return _from_cache(client, request, _gateway_timeout(plan.key), now, "miss")
    sent = rules.conditional(request, found) if found is not None else None
    request_time = time.time()
    response = yield from _exchange(client, sent or request, route)
    if sent is not None and response.status == 304:
        assert found is not None
        served = _revalidated(client, store, plan, request, found, response, request_time)
        yield Drain(response)
        if served is not None:
            return served
        # A 304 for another representation than the one stored: ask again without validators.
        request_time = time.time()
        response = yield from _exchange(client, request, route)
    return _network_answer(client, store, plan, request, found, response, request_time)


def _revalidated(
    client: BaseClient, store: Cache, plan: rules.Plan, request: Request, found: CacheEntry, response: Response,
    request_time: float,
) -> Response | None:
    """The stored response ``found``, refreshed by ``response`` (a 304 about it: RFC 9111 4.3.4)
    and served; None when the 304 is about another representation. (The 304 is the caller's to drain.)"""
    headers = response.headers
    if not rules.validates(found, headers):
        return None
    now = time.time()
    updated = rules.refresh(found, headers, request_time, now)
    key = plan.key
    _store_later(client, store, key, lambda: rules.store_refreshed(store, key, updated))
    served = _from_cache(client, request, updated, now, "revalidated")
    served.elapsed = response.elapsed
    return served


def _network_answer(
    client: BaseClient, store: Cache, plan: rules.Plan, request: Request, found: CacheEntry | None,
    response: Response, request_time: float,
) -> Response:
    """The network's ``response`` to a GET or HEAD (not a 304 about ``found``): what it
    changes in the store (a HEAD's 200, RFC 9111 4.3.5), and its body recorded for the store
    when storable."""
    response.extensions["cache"] = "miss"
    if found is not None and request.method == "HEAD" and response.status == 200:
        # RFC 9111 4.3.5: a HEAD's 200 refreshes the stored GET response it describes, or marks
        # it stale when it describes another.
        head = response.headers
        if rules.head_matches(found, head):
            changed = rules.refresh(found, head, request_time, time.time())
        else:
            changed = rules.marked_stale(found)
        _store_later(client, store, plan.key, lambda: rules.store_refreshed(store, plan.key, changed))
    if rules.storable(request, plan, response):
        recorder = rules.Recorder(
            request, response, request_time, time.time(), store.max_entry_size, _saver(client, store, plan.key)
        )
        response._tap(recorder)
    return response


def _drain_to_cache(response: Response) -> Generator[Action, Any, None]:
    """Drain a redirect's body by reading it (to :data:`DRAIN_LIMIT`) rather than by the drivers'
    raw drain, so a storable redirect (a 301, a 308) is seen to its end and stored."""
    try:
        yield ReadCapped(response, DRAIN_LIMIT)
    except RequestError:
        pass  # as Drain: a redirect's body that fails is no reason to fail the request
    finally:
        response.close()


def _delete_all(store: Cache, keys: list[str]) -> None:
    for key in keys:
        store.delete(key)


def _from_cache(client: BaseClient, request: Request, entry: CacheEntry, now: float, state: str) -> Response:
    headers = Headers._from_list(served_headers(entry, now))
    body = b"" if request.method == "HEAD" else entry.body
    response: Response = client._response_from_cache(request, entry, headers, body)
    response.extensions["cache"] = state
    return response


def _gateway_timeout(key: str) -> CacheEntry:
    now = time.time()
    return CacheEntry(key, 504, "Gateway Timeout", "1.1", [("Content-Length", "0")], b"", now, now)


def _store_later(client: BaseClient, store: Cache, key: str, call: Callable[[], None]) -> None:
    """Have the driver run ``call`` (a write to ``store``): now, or queued on the async client's
    cache thread when the store blocks. Until it ran, ``key`` is in ``client._cache_queued``, and
    lookups of it take the ordered way (the driver's get, after the write) rather than an inline
    peek. A failure is a warning: a cache miss next time, not an error now."""
    if not store.blocking:  # run now, on any driver: nothing to keep in order
        _warn_on_failure(key, call)
        return
    queued = client._cache_queued
    queued.append(key)

    def run() -> None:
        try:
            _warn_on_failure(key, call)
        finally:
            queued.remove(key)

    try:
        client._cache_background(run)
    except BaseException:  # not queued after all (a cache thread shut down)
        if key in queued:
            queued.remove(key)
        raise


def _warn_on_failure(key: str, call: Callable[[], None]) -> None:
    try:
        call()
    except Exception as exc:  # disk full, a locked database
        warnings.warn(f"netwire cache: could not store {key}: {exc}", RuntimeWarning, stacklevel=3)


def _saver(client: BaseClient, store: Cache, key: str) -> Callable[[CacheEntry], None]:
    """What a :class:`~netwire.cache.Recorder` calls with a finished entry: the driver stores it
    (now, or on its cache thread); a store that fails loses the entry, never the response."""
    return lambda entry: _store_later(client, store, key, lambda: store.put(key, entry))


def decoder_for(client: BaseClient, encoding: str | None, method: str) -> Decoder | None:
    """The content decoder for a body with Content-Encoding ``encoding`` (None: read as it is)."""
    if client.decompress and method != "HEAD" and encoding:
        from .decoders import make_decoder

        if client.max_decoded_size is not None:
            return make_decoder(encoding, max_size=client.max_decoded_size)
        return make_decoder(encoding)
    return None


# -- robots.txt ------------------------------------------------------------------------------------


def _obey_robots(client: BaseClient, request: Request, route: Route) -> Generator[Action, Any, None]:
    """Refuse a URL robots.txt disallows; wait out the origin's Crawl-delay."""
    from ..robots._cache import robots_url
    from ..robots._rules import path_of

    request.extensions.pop("netwire.crawl_origin", None)  # a previous hop's, copied along
    href = str(request.url)
    if path_of(href) == "/robots.txt":
        return  # always allowed, and never delayed
    agent = client.user_agent
    # The request's URL is parsed already: its origin names the robots.txt (robots_url would
    # parse the text again, per request; it is kept for the error an origin-less URL gets).
    origin = request.url.origin
    target = origin + "/robots.txt" if origin != "null" else robots_url(href)
    entry = client._robots_rules.entry(target)
    if entry is None:
        entry = yield FetchRobots(target)
    decision = client._robots_rules.decision(entry, href, agent)
    if not decision.allowed:
        rule = f" by {decision.rule!r} (line {decision.line})" if decision.rule else ""
        raise RobotsDisallowed(
            f"robots.txt of {request.url.origin} disallows {request.url.request_target} for "
            f"{agent!r}{rule}: {decision.reason}".rstrip(": "),
            decision=decision,
            request=request,
        )
    if request.url.pathname == "/robots.txt" or entry.robots is None:
        return
    delay = entry.robots.crawl_delay(agent)
    if delay:
        # Capped, and refused at once if it would outlast the total deadline (see
        # BaseClient._book_crawl_slot); the driver books the slot again when the request goes out.
        try:
            wait = client._book_crawl_slot(origin, delay, route.deadline)
        except TotalTimeout as exc:
            exc.request = request
            raise
        if wait > 0:
            yield Sleep(wait)
        request.extensions["netwire.crawl_origin"] = origin


class RobotsAnswer(NamedTuple):
    """What GETting a robots.txt gave: ``status`` None when no response arrived (``error`` says
    why). ``body`` holds at most :data:`~netwire._robots.MAX_BYTES`; ``headers`` has lower-cased
    names; ``final_url`` answered after ``redirects`` redirects."""

    status: int | None
    body: bytes
    headers: dict[str, str]
    final_url: str
    redirects: int
    error: BaseException | None


def robots_get_flow(
    client: BaseClient, url: str, route: Route, *, user_agent: str | None = None, max_redirects: int | None = None
) -> Generator[Action, Any, RobotsAnswer]:
    """GET the robots.txt at ``url`` as RFC 9309 asks; never raises for a failure to get an answer.

    Redirects are followed here (up to ``max_redirects``, five by default, across hosts too)
    under the clients' redirect rule (no change of transport, no https -> http unless the client
    allows it), whatever the client's own ``follow_redirects``; only
    :data:`~netwire._robots.MAX_BYTES` of the body are read. Not checked against robots.txt
    itself (so it cannot recurse). The one hop loop behind both clients' robots.txt checks and
    :func:`netwire.robotparser.fetch_robots`.
    """
    from ..robots._cache import MAX_REDIRECTS
    from ..robots._rules import MAX_BYTES
    from ..url import URL

    hops = MAX_REDIRECTS if max_redirects is None else max_redirects
    auth = client.auth if client.auth is not None else client.netrc
    headers = {"User-Agent": user_agent} if user_agent else None
    current = url
    try:
        for hop in range(hops + 1):
            req = client.build_request("GET", current, headers=headers)
            response = yield from send_flow(client, req, route, follow=False, auth=auth, stream=True, robots=False)
            body: bytes = b""
            fields: dict[str, str] = {}
            try:
                status = int(response.status)
                location = response.headers.get("location") if 300 <= status < 400 else None
                follow = bool(location) and hop < hops
                if location and follow:
                    # The clients' redirect rule, so robots.txt cannot redirect into a Unix socket
                    # (or another transport) even when the client itself follows no redirects.
                    current = str(redirect_target(URL(current), location, allow_downgrade=client.allow_downgrade))
                else:
                    body = b"" if location else (yield ReadCapped(response, MAX_BYTES))
                    fields = {k.lower(): v for k, v in response.headers.items()}
            finally:
                response.close()
            if follow:
                continue  # outside the try/finally: mypyc (the compiled build) cannot compile it inside
            return RobotsAnswer(status, body, fields, current, hop, None)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns
    except (NetwireError, OSError, ValueError) as exc:
        return RobotsAnswer(None, b"", {}, current, 0, exc)


def robots_fetch_flow(client: BaseClient, target: str) -> Generator[Action, Any, _Entry]:
    """Fetch the robots.txt at ``target`` (:func:`robots_get_flow`) into the client's rules; the
    entry stored (an unanswered fetch is stored as "unreachable").

    It runs with the client's own timeouts and proxies, not the triggering request's: the file
    is shared by every request to the origin (and cached for a day, or ten minutes when
    unreachable), so one request's tight deadline must not mark the origin unreachable.
    """
    rules = client._robots_rules
    entry = rules.entry(target)
    if entry is not None:
        return entry  # another thread or task fetched it while this one waited for the lock
    route = client._route_for(UNSET, True, UNSET)  # streamed: only MAX_BYTES are read
    answer = yield from robots_get_flow(client, target, route, user_agent=client.user_agent)
    with client._robots_lock:
        if answer.status is None:
            return rules.store(target, None, error=answer.error)
        return rules.store(target, answer.status, answer.body, answer.headers)


# -- building the response (both drivers) ----------------------------------------------------------


def response_fields(client: BaseClient, head: ResponseHead, method: str) -> tuple[Headers, Decoder | None]:
    """The headers of a response head (with the parser's index), and its content decoder."""
    raw = head.raw_fields  # set when the parser's fast path read the head: fields split lazily
    if raw is not None:
        low = head.raw_lower
        headers = Headers._from_raw(raw, low)
        if low is not None and "\r\ncontent-encoding:" not in low:
            return headers, None  # nothing to decode (decoder_for's answer, without its lookups)
    else:
        headers = Headers._from_list(head.headers, head.index)
    return headers, decoder_for(client, headers.get("content-encoding"), method)
