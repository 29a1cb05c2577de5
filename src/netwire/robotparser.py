"""robots.txt with RFC 9309 semantics: ``urllib.robotparser``'s API, and what a crawler needs.

Three faces over one parser (:mod:`netwire._robots`):

* :class:`RobotFileParser`: drop-in for ``urllib.robotparser.RobotFileParser`` (``set_url``,
  ``read``, ``parse``, ``can_fetch``, ``mtime``, ``modified``, ``crawl_delay``, ``request_rate``,
  ``site_maps``, ``str()``), but matching as RFC 9309 says (longest match wins, ``*`` and ``$``
  wildcards, percent-encoding canonicalised) and fetching as RFC 9309 says (up to 5 redirects,
  a 4xx allows everything, a 5xx or a network failure disallows everything).
* :class:`RobotsTxt`: ``RobotsTxt.parse(body).decide(agent, url)`` returns a :class:`Decision`
  saying which rule decided, and on which line.
* :class:`RobotsCache`: a thread-safe per-origin cache around any fetch function, for clients
  that enforce robots.txt (``Client(respect_robots=True)``).

The deliberate differences from ``urllib.robotparser`` are listed in ``docs/robots.md``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ._robots import (
    MAX_BYTES,
    Decision,
    RequestRate,
    RobotsTxt,
    is_valid_product_token,
    path_of,
    product_token,
    to_bytes,
)
from .errors import InvalidURL, NetwireError, RequestError

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "MAX_BYTES",
    "MAX_REDIRECTS",
    "Decision",
    "FetchResult",
    "RequestRate",
    "RobotFileParser",
    "RobotsCache",
    "RobotsTxt",
    "client_fetcher",
    "fetch_robots",
    "is_valid_product_token",
    "product_token",
    "robots_url",
]

#: RFC 9309 section 2.3.1.2: crawlers should follow at least five consecutive redirects.
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0

Verdict = Literal["parse", "allow-all", "disallow-all"]


def robots_url(url: str) -> str:
    """The robots.txt URL that governs ``url``: its origin followed by ``/robots.txt``.

    Raises :class:`~netwire.errors.InvalidURL` when ``url`` is not an absolute http(s) URL.
    """
    from .url import URL

    parsed = URL(url)
    origin = parsed.origin
    if origin == "null":
        raise InvalidURL(f"{url!r} has no origin a robots.txt could belong to")
    return origin + "/robots.txt"


def verdict_for(status: int | None) -> Verdict:
    """What a robots.txt fetch's outcome means (RFC 9309 section 2.3.1).

    2xx: parse the body. 4xx: "unavailable", everything is allowed. 5xx, no answer at all
    (``None``), or anything else: "unreachable", everything is disallowed. A 3xx that was not
    followed further (too many redirects) counts as unavailable, as section 2.3.1.2 permits.
    """
    if status is None:
        return "disallow-all"
    if 200 <= status < 300:
        return "parse"
    if 300 <= status < 500:
        return "allow-all"
    return "disallow-all"


@dataclass(frozen=True)
class FetchResult:
    """The outcome of fetching a robots.txt.

    ``status`` is None when no response arrived (``error`` says why). ``body`` holds at most
    :data:`MAX_BYTES`. ``url`` is the URL asked for, ``final_url`` the one that answered after
    ``redirects`` redirects. ``headers`` has lower-cased names.
    """

    url: str
    status: int | None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    final_url: str = ""
    redirects: int = 0
    error: str | None = None
    #: The exception behind a failed fetch (``status`` None), for callers mapping it to codes.
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def verdict(self) -> Verdict:
        """``"parse"``, ``"allow-all"`` or ``"disallow-all"``: see :func:`verdict_for`."""
        if self.status is not None and 300 <= self.status < 400 and self.redirects >= MAX_REDIRECTS:
            return "allow-all"
        return verdict_for(self.status)

    def describe(self) -> str:
        """A short human account: ``"HTTP 404"``, ``"HTTP 200 after 2 redirects"``, the error."""
        if self.status is None:
            return f"unreachable: {self.error}"
        text = f"HTTP {self.status}"
        if self.redirects:
            text += f" after {self.redirects} redirect{'s' if self.redirects > 1 else ''}"
        if self.error:
            text += f" ({self.error})"
        return text


def fetch_robots(
    url: str,
    *,
    client: Client | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    user_agent: str | None = None,
    max_redirects: int = MAX_REDIRECTS,
) -> FetchResult:
    """GET the robots.txt at ``url`` with netwire's client; never raises for network failures.

    Redirects are followed here (up to ``max_redirects``, across hosts too, as RFC 9309 asks)
    under the clients' redirect rule (:func:`netwire.policy.redirects.check_redirect`: no change
    of transport, no https -> http unless the client allows it; a refused one is a failed
    fetch, so the site counts as unreachable), and only the first :data:`MAX_BYTES` of the body
    are read, however large it is.
    """
    from .client import Client
    from .policy.redirects import redirect_target
    from .url import URL

    own = client is None
    active: Any = Client() if client is None else client
    downgrade = bool(getattr(active, "allow_downgrade", False))
    headers = {"User-Agent": user_agent} if user_agent else None
    current = url
    try:
        for hop in range(max_redirects + 1):
            with active.stream("GET", current, timeout=timeout, follow_redirects=False, headers=headers) as r:
                status = int(r.status)
                location = r.headers.get("location") if 300 <= status < 400 else None
                if location and hop < max_redirects:
                    # The clients' redirect rule, so robots.txt cannot redirect into a Unix socket
                    # (or another transport) even when the client itself follows no redirects.
                    current = str(redirect_target(URL(current), location, allow_downgrade=downgrade))
                    continue
                body = b"" if location else _read_capped(r)
                names = {k.lower(): v for k, v in r.headers.items()}
                error = f"more than {max_redirects} redirects" if location else None
                return FetchResult(url, status, body, names, current, hop, error)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns
    except (NetwireError, OSError, ValueError) as exc:
        return FetchResult(url, None, final_url=current, error=f"{type(exc).__name__}: {exc}", exception=exc)
    finally:
        if own:
            active.close()


def client_fetcher(
    client: Client, *, timeout: float | None = DEFAULT_TIMEOUT, user_agent: str | None = None
) -> Callable[[str], tuple[int, bytes, Mapping[str, str]]]:
    """A ``fetch`` function for :class:`RobotsCache` that uses ``client`` (see :func:`fetch_robots`).

    It raises :class:`~netwire.errors.RequestError` when no response arrived, which the cache
    reads as "unreachable". A client that consults the cache for every request still gets its
    robots.txt: the cache allows ``/robots.txt`` without fetching anything.
    """

    def fetch(url: str) -> tuple[int, bytes, Mapping[str, str]]:
        result = fetch_robots(url, client=client, timeout=timeout, user_agent=user_agent)
        if result.status is None:
            if isinstance(result.exception, NetwireError):
                raise result.exception
            raise RequestError(result.error or "robots.txt fetch failed", reason=result.exception)
        return result.status, result.body, result.headers

    return fetch


def _read_capped(response: Any) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BYTES:
            break  # the rest is never read; the connection is dropped, not reused
    return b"".join(chunks)[:MAX_BYTES]


class RobotFileParser:
    """``urllib.robotparser.RobotFileParser`` with RFC 9309 semantics.

    ::

        rp = RobotFileParser("https://example.com/robots.txt")
        rp.read()
        rp.can_fetch("MyBot/1.0", "https://example.com/private/x")

    As in urllib, ``can_fetch`` answers False until :meth:`read` or :meth:`parse` has run.
    Unlike urllib, a 401 or 403 means "allow all" (RFC 9309 treats every 4xx as unavailable), a
    5xx or a network failure means "disallow all" instead of raising, and ``read`` follows
    redirects itself (up to 5). :meth:`decide` tells which rule decided.
    """

    def __init__(
        self,
        url: str = "",
        *,
        client: Client | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        user_agent: str | None = None,
        mode: Literal["rfc9309", "google"] = "rfc9309",
    ) -> None:
        self.disallow_all = False
        self.allow_all = False
        self.last_checked = 0.0
        self.client = client
        self.timeout = timeout
        self.user_agent = user_agent
        self.mode: Literal["rfc9309", "google"] = mode
        #: The last fetch's outcome (None before :meth:`read`).
        self.fetched: FetchResult | None = None
        self.robots: RobotsTxt | None = None
        self.url = ""
        self.host = ""
        self.path = ""
        self.set_url(url)

    def mtime(self) -> float:
        """When the robots.txt was last fetched or parsed (``time.time()``), 0 if never."""
        return self.last_checked

    def modified(self) -> None:
        """Record now as the time the robots.txt was last fetched or parsed."""
        self.last_checked = time.time()

    def set_url(self, url: str) -> None:
        """Set the URL of the robots.txt; ``host`` and ``path`` are derived as in urllib."""
        self.url = url
        self.host = ""
        self.path = ""
        if not url:
            return
        from .url import URL

        try:
            parsed = URL(url)
        except InvalidURL:
            self.path = path_of(url)
            return
        self.host = parsed.host
        self.path = parsed.pathname

    def read(self) -> None:
        """Fetch the robots.txt at ``url`` and apply it (RFC 9309 section 2.3.1)."""
        result = fetch_robots(self.url, client=self.client, timeout=self.timeout, user_agent=self.user_agent)
        self.apply(result)

    def apply(self, result: FetchResult) -> None:
        """Use a fetch's outcome: parse a 2xx body, else allow or disallow everything."""
        self.fetched = result
        self.allow_all = self.disallow_all = False
        self.robots = None
        verdict = result.verdict
        if verdict == "parse":
            self.robots = RobotsTxt.parse(result.body, mode=self.mode)
        elif verdict == "allow-all":
            self.allow_all = True
        else:
            self.disallow_all = True
        self.modified()

    def parse(self, lines: Iterable[str | bytes]) -> None:
        """Parse robots.txt lines (as urllib's ``parse``: an iterable of lines)."""
        parts = [to_bytes(line) if isinstance(line, str) else line for line in lines]
        self.allow_all = self.disallow_all = False
        self.robots = RobotsTxt.parse(b"\n".join(parts), mode=self.mode)
        self.modified()

    def decide(self, useragent: str, url: str) -> Decision:
        """Like :meth:`can_fetch`, but says which rule (and line) decided, or why none did."""
        if self.disallow_all:
            return Decision(False, None, None, self._fetch_reason("everything is disallowed"))
        if self.allow_all:
            return Decision(True, None, None, self._fetch_reason("everything is allowed"))
        if self.robots is None or not self.last_checked:
            return Decision(False, None, None, "robots.txt not read yet")
        return self.robots.decide(useragent, url)

    def _fetch_reason(self, outcome: str) -> str:
        if self.fetched is None:
            return outcome
        return f"robots.txt {self.fetched.describe()}: {outcome}"

    def can_fetch(self, useragent: str, url: str) -> bool:
        """Whether ``useragent`` may fetch ``url`` according to the robots.txt."""
        return self.decide(useragent, url).allowed

    def crawl_delay(self, useragent: str) -> float | None:
        """The ``Crawl-delay`` (seconds) of the group that applies to ``useragent``, or None."""
        if self.robots is None or not self.mtime():
            return None
        return self.robots.crawl_delay(useragent)

    def request_rate(self, useragent: str) -> RequestRate | None:
        """The ``Request-rate`` of the group that applies to ``useragent``, or None."""
        if self.robots is None or not self.mtime():
            return None
        return self.robots.request_rate(useragent)

    def site_maps(self) -> list[str] | None:
        """The ``Sitemap`` URLs, or None when there are none (as urllib)."""
        if self.robots is None or not self.robots.sitemaps:
            return None
        return list(self.robots.sitemaps)

    def __str__(self) -> str:
        return "" if self.robots is None else str(self.robots)


# -- the cache a robots-aware client uses -----------------------------------------------------

@dataclass(frozen=True)
class _Entry:
    robots: RobotsTxt | None
    verdict: Verdict
    expires: float
    reason: str


class RobotsCache:
    """robots.txt per origin, fetched at most once per origin per TTL; safe across threads.

    ``fetch(robots_url)`` returns ``(status, body, headers)``: it should follow redirects (or
    return the last 3xx), cap the body (only :data:`MAX_BYTES` are parsed anyway) and raise on a
    network failure. Statuses map as RFC 9309 says (see :func:`verdict_for`); an exception counts
    as unreachable (disallow all).

    A fetched robots.txt is kept for ``ttl`` seconds (24 h, RFC 9309 section 2.4), or less when
    its ``Cache-Control: max-age`` says so (``no-store``/``no-cache``: not kept). An
    unreachable one is retried after ``error_ttl`` seconds rather than blocking the origin a day.
    At most ``max_origins`` origins are remembered (the expired, then the oldest, go first).
    """

    def __init__(
        self,
        fetch: Callable[[str], tuple[int, bytes, Mapping[str, str]]],
        ttl: float = 86400.0,
        *,
        error_ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        mode: Literal["rfc9309", "google"] = "rfc9309",
        max_origins: int = 10_000,
    ) -> None:
        self._fetch = fetch
        self.max_origins = max_origins
        self.ttl = ttl
        self.error_ttl = min(error_ttl, ttl)
        self._clock = clock
        self.mode: Literal["rfc9309", "google"] = mode
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def check(self, url: str, agent: str) -> Decision:
        """Whether ``agent`` may fetch ``url``; fetches the origin's robots.txt when needed.

        Raises :class:`~netwire.errors.InvalidURL` for a URL without an http(s)-like origin.
        """
        target = robots_url(url)
        if path_of(url) == "/robots.txt":
            return Decision(True, None, None, "/robots.txt is always allowed")
        entry = self._entry(target)
        if entry.robots is not None:
            return entry.robots.decide(agent, url)
        return Decision(entry.verdict == "allow-all", None, None, entry.reason)

    def crawl_delay(self, origin: str, agent: str) -> float | None:
        """The ``Crawl-delay`` for ``agent`` at ``origin`` (an origin or any URL on it), or None."""
        entry = self._entry(robots_url(origin))
        return None if entry.robots is None else entry.robots.crawl_delay(agent)

    def request_rate(self, origin: str, agent: str) -> RequestRate | None:
        """The ``Request-rate`` for ``agent`` at ``origin``, or None."""
        entry = self._entry(robots_url(origin))
        return None if entry.robots is None else entry.robots.request_rate(agent)

    def robots(self, origin: str) -> RobotsTxt | None:
        """The parsed robots.txt of ``origin`` (None for an allow-all or disallow-all verdict)."""
        return self._entry(robots_url(origin)).robots

    def invalidate(self, origin: str | None = None) -> None:
        """Forget one origin's robots.txt, or all of them."""
        with self._guard:
            if origin is None:
                self._entries.clear()
            else:
                self._entries.pop(robots_url(origin), None)

    def _entry(self, target: str) -> _Entry:
        entry = self._entries.get(target)
        if entry is not None and entry.expires > self._clock():
            return entry
        with self._guard:
            lock = self._locks.setdefault(target, threading.Lock())
        with lock:
            # Another thread may have fetched while this one waited for the lock.
            entry = self._entries.get(target)
            now = self._clock()
            if entry is not None and entry.expires > now:
                return entry
            entry = self._load(target, now)
            with self._guard:
                self._entries.pop(target, None)  # re-insert: the dict's order is fetch order
                self._entries[target] = entry
                if len(self._entries) > self.max_origins:
                    self._evict(now)
            return entry

    def _evict(self, now: float) -> None:
        # A crawler meets many origins: drop the expired, then the longest-cached ones.
        for key in [k for k, e in self._entries.items() if e.expires <= now]:
            del self._entries[key]
            self._locks.pop(key, None)
        while len(self._entries) > self.max_origins:
            key = next(iter(self._entries))
            del self._entries[key]
            self._locks.pop(key, None)

    def _load(self, target: str, now: float) -> _Entry:
        try:
            status, body, headers = self._fetch(target)
        except Exception as exc:  # any failure to get an answer is "unreachable"
            return _Entry(None, "disallow-all", now + self.error_ttl,
                          f"robots.txt unreachable ({type(exc).__name__}: {exc}): everything is disallowed")
        verdict = verdict_for(status)
        if verdict == "parse":
            lifetime = _max_age(headers)
            ttl = self.ttl if lifetime is None else min(lifetime, self.ttl)
            return _Entry(RobotsTxt.parse(body[:MAX_BYTES], mode=self.mode), verdict, now + ttl, "")
        if verdict == "allow-all":
            return _Entry(None, verdict, now + self.ttl, f"robots.txt unavailable (HTTP {status}): everything is allowed")
        return _Entry(None, verdict, now + self.error_ttl,
                      f"robots.txt unreachable (HTTP {status}): everything is disallowed")


def _max_age(headers: Mapping[str, str]) -> float | None:
    value = None
    for name, v in headers.items():
        if name.lower() == "cache-control":
            value = v if value is None else value + "," + v
    if value is None:
        return None
    age: float | None = None
    for directive in value.split(","):
        name, _, arg = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age" and age is None:
            try:
                age = max(0.0, float(int(arg.strip().strip('"'))))
            except ValueError:
                continue
    return age
