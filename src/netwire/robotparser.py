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
from typing import TYPE_CHECKING, Literal

from .errors import InvalidURL, NetwireError, RequestError
from .robots._cache import MAX_REDIRECTS as MAX_REDIRECTS
from .robots._cache import NeedsFetch, RobotsRules, _Entry
from .robots._cache import Verdict as Verdict
from .robots._cache import robots_url as robots_url
from .robots._cache import verdict_for as verdict_for

# "X as X": re-exported for callers (``from netwire.robotparser import RobotsTxt``), as
# __all__ lists only urllib's names.
from .robots._rules import MAX_BYTES as MAX_BYTES
from .robots._rules import Decision as Decision
from .robots._rules import Mode, _better, _Group, _Rule, normalize_path, path_of, to_bytes
from .robots._rules import RequestRate as RequestRate
from .robots._rules import RobotsTxt as RobotsTxt
from .robots._rules import is_valid_product_token as is_valid_product_token
from .robots._rules import product_token as product_token

if TYPE_CHECKING:
    from .http.client import Client

# Exactly urllib.robotparser's, so ``from netwire.robotparser import *`` binds what
# ``from urllib.robotparser import *`` does. Everything else here is imported by name:
# ``from netwire.robotparser import RobotsTxt, RobotsCache, fetch_robots, ...``.
__all__ = ["RobotFileParser"]

DEFAULT_TIMEOUT = 10.0


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
    from .http.client import Client
    from .http.clientbase import UNSET
    from .http.flow import robots_get_flow

    own = client is None
    active = Client() if client is None else client
    if active._closed:
        raise RuntimeError("this Client is closed")
    try:
        route = active._route_for(timeout, True, UNSET)
        answer = active._drive(robots_get_flow(active, url, route, user_agent=user_agent, max_redirects=max_redirects))
    finally:
        if own:
            active.close()
    exc = answer.error
    if answer.status is None:
        return FetchResult(url, None, final_url=answer.final_url, error=f"{type(exc).__name__}: {exc}", exception=exc)
    status = answer.status
    unfollowed = 300 <= status < 400 and "location" in answer.headers
    error = f"more than {max_redirects} redirects" if unfollowed else None
    return FetchResult(url, status, answer.body, answer.headers, answer.final_url, answer.redirects, error)


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


def _caller_agent(useragent: str) -> str:
    """The product token of a caller's User-Agent string, as the urllib face matches groups by.

    Crawlers pass their whole User-Agent (``"FigTree Robot libwww-perl/5.04"``); urllib finds
    the ``figtree`` group for it, and so must this face, or a crawler silently falls to ``*``
    (fails open). RFC 9309 section 2.2.1: the token is the leading ``[A-Za-z_-]`` run.
    :class:`RobotsTxt` itself keeps the exact-token rule of Google's parser.
    """
    return product_token(useragent) or useragent


class RuleLine:
    """One ``Allow:`` or ``Disallow:`` line, with urllib.robotparser's shape.

    ``path`` is the pattern as written; ``allowance`` is True for ``Allow``. As in urllib, an
    empty ``Disallow:`` reads as allowing everything. :meth:`applies_to` matches RFC 9309
    patterns (``*``, a final ``$``, percent-encoding canonicalised), not urllib's plain prefixes.
    """

    def __init__(self, path: str, allowance: bool) -> None:
        if path == "" and not allowance:
            allowance = True  # "Disallow:" (nothing) restricts nothing
        self.path = path
        self.allowance = allowance
        raw = to_bytes(path)
        self._mode: Mode = "rfc9309"
        self._rules: tuple[_Rule, ...] = (
            _Rule(allowance, RobotsTxt._pattern(raw, True), 0, str(self)),
        )

    @classmethod
    def _of(cls, rules: list[_Rule], mode: Mode) -> RuleLine:
        # A parsed line: its compiled rules (an Allow of ".../index.html" has a twin allowing
        # the directory itself), reused rather than compiled again.
        first = rules[0]
        self = cls.__new__(cls)
        self.path = first.text.partition(": ")[2]
        self.allowance = first.allow or not self.path
        self._mode = mode
        self._rules = tuple(rules)
        return self

    def _match(self, path: str) -> _Rule | None:
        best: _Rule | None = None
        for rule in self._rules:
            if rule.priority and rule.matches(path) and _better(rule, best):
                best = rule
        return best

    def applies_to(self, filename: str) -> bool:
        """Whether this line's pattern matches ``filename`` (a path, or a URL)."""
        return self._match(_canonical(filename, self._mode)) is not None

    def __str__(self) -> str:
        return ("Allow" if self.allowance else "Disallow") + ": " + self.path

    def __repr__(self) -> str:
        return f"<RuleLine {self}>"


def _canonical(url: str, mode: Mode) -> str:
    path = path_of(url)
    return normalize_path(path) if mode == "rfc9309" else path


class Entry:
    """One group of a robots.txt (its ``User-agent`` lines and rules), urllib's shape.

    ``useragents`` as written, ``rulelines`` (:class:`RuleLine`) in file order, ``delay``
    (``Crawl-delay``, seconds) and ``req_rate`` (:class:`RequestRate`), None when absent. Built
    by :class:`RobotFileParser` for reading; changing one does not change ``can_fetch``.
    """

    def __init__(self) -> None:
        self.useragents: list[str] = []
        self.rulelines: list[RuleLine] = []
        self.delay: float | None = None
        self.req_rate: RequestRate | None = None

    def __str__(self) -> str:
        lines = [f"User-agent: {agent}" for agent in self.useragents]
        if self.delay is not None:
            lines.append(f"Crawl-delay: {self.delay}")
        if self.req_rate is not None:
            lines.append(f"Request-rate: {self.req_rate.requests}/{self.req_rate.seconds}")
        lines.extend(map(str, self.rulelines))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Entry {self.useragents!r}: {len(self.rulelines)} rules>"

    def applies_to(self, useragent: str) -> bool:
        """Whether the group applies to ``useragent``: ``*``, or the same product token
        (case-insensitive; ``"FigTree Robot/1.0"`` is ``FigTree``)."""
        token = product_token(useragent).lower()
        for agent in self.useragents:
            if agent[:1] == "*" and (len(agent) == 1 or agent[1].isspace()):
                return True
            if token and product_token(agent).lower() == token:
                return True
        return False

    def allowance(self, filename: str) -> bool:
        """Whether the group allows ``filename``: the longest matching rule wins, ``Allow`` on a
        tie, and no match allows (RFC 9309 section 2.2.2)."""
        best: _Rule | None = None
        for line in self.rulelines:
            rule = line._match(_canonical(filename, line._mode))
            if rule is not None and _better(rule, best):
                best = rule
        return True if best is None else best.allow


def _entry_of(groups: list[_Group], mode: Mode) -> Entry:
    entry = Entry()
    for group in groups:
        entry.useragents.extend(a for a in group.agents if a not in entry.useragents)
        by_line: dict[int, list[_Rule]] = {}
        for rule in group.rules:
            by_line.setdefault(rule.line, []).append(rule)
        entry.rulelines.extend(RuleLine._of(rules, mode) for rules in by_line.values())
        if entry.delay is None:
            entry.delay = group.crawl_delay
        if entry.req_rate is None:
            entry.req_rate = group.request_rate
    return entry


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

    ``useragent`` may be a whole User-Agent string: its product token (``"FigTree"`` for
    ``"FigTree Robot libwww-perl/5.04"``) chooses the group, as in urllib. ``entries`` (the
    groups, in file order) and ``default_entry`` (the ``*`` groups, merged as RFC 9309 says)
    have urllib's shapes (:class:`Entry`, :class:`RuleLine`); ``str(rp)`` prints the ``*`` group
    last, as urllib does.
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
        self._entries: tuple[list[Entry], Entry | None] | None = None
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
        self._entries = None
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
        self._entries = None
        self.modified()

    def _groups(self) -> tuple[list[Entry], Entry | None]:
        # Built on first use (most callers never look), then kept until the next parse.
        if self._entries is None:
            entries: list[Entry] = []
            defaults: list[_Group] = []
            for group in self.robots.groups if self.robots is not None else []:
                # As in urllib, a group naming "*" is the default entry, whatever else it names.
                if group.is_global:
                    defaults.append(group)
                else:
                    entries.append(_entry_of([group], self.mode))
            self._entries = (entries, _entry_of(defaults, self.mode) if defaults else None)
        return self._entries

    @property
    def entries(self) -> list[Entry]:
        """The groups not naming ``*``, in file order (urllib's ``entries``)."""
        return self._groups()[0]

    @entries.setter
    def entries(self, value: list[Entry]) -> None:
        self._entries = (value, self._groups()[1])

    @property
    def default_entry(self) -> Entry | None:
        """The ``*`` groups as one :class:`Entry` (RFC 9309 merges them), or None."""
        return self._groups()[1]

    @default_entry.setter
    def default_entry(self, value: Entry | None) -> None:
        self._entries = (self._groups()[0], value)

    @property
    def sitemaps(self) -> list[str]:
        """The ``Sitemap`` URLs (urllib's attribute; :meth:`site_maps` gives None for none)."""
        return [] if self.robots is None else self.robots.sitemaps

    def decide(self, useragent: str, url: str) -> Decision:
        """Like :meth:`can_fetch`, but says which rule (and line) decided, or why none did."""
        if self.disallow_all:
            return Decision(False, None, None, self._fetch_reason("everything is disallowed"))
        if self.allow_all:
            return Decision(True, None, None, self._fetch_reason("everything is allowed"))
        if self.robots is None or not self.last_checked:
            return Decision(False, None, None, "robots.txt not read yet")
        return self.robots.decide(_caller_agent(useragent), url)

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
        return self.robots.crawl_delay(_caller_agent(useragent))

    def request_rate(self, useragent: str) -> RequestRate | None:
        """The ``Request-rate`` of the group that applies to ``useragent``, or None."""
        if self.robots is None or not self.mtime():
            return None
        return self.robots.request_rate(_caller_agent(useragent))

    def site_maps(self) -> list[str] | None:
        """The ``Sitemap`` URLs, or None when there are none (as urllib)."""
        if self.robots is None or not self.robots.sitemaps:
            return None
        return list(self.robots.sitemaps)

    def __str__(self) -> str:
        """The groups as urllib prints them: file order, the ``*`` group last."""
        entries, default = self._groups()
        return "\n\n".join(map(str, [*entries, default] if default is not None else entries))


# -- the cache a robots-aware client uses -----------------------------------------------------

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

    The rules and their lifetimes are :class:`netwire._robots_cache.RobotsRules` (sans-IO, the
    one the clients use); this class adds the fetch function and a lock per origin, so that
    threads asking for the same origin at once fetch its robots.txt once.
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
        self.rules = RobotsRules(ttl, error_ttl=error_ttl, clock=clock, mode=mode, max_origins=max_origins)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def ttl(self) -> float:
        return self.rules.ttl

    @property
    def error_ttl(self) -> float:
        return self.rules.error_ttl

    @property
    def mode(self) -> Literal["rfc9309", "google"]:
        return self.rules.mode

    @property
    def max_origins(self) -> int:
        return self.rules.max_origins

    def check(self, url: str, agent: str) -> Decision:
        """Whether ``agent`` may fetch ``url``; fetches the origin's robots.txt when needed.

        Raises :class:`~netwire.errors.InvalidURL` for a URL without an http(s)-like origin.
        """
        decision = self.rules.decide(url, agent)
        if isinstance(decision, NeedsFetch):
            return self.rules.decision(self._load(decision.robots_url), url, agent)
        return decision

    def crawl_delay(self, origin: str, agent: str) -> float | None:
        """The ``Crawl-delay`` for ``agent`` at ``origin`` (an origin or any URL on it), or None."""
        robots = self.robots(origin)
        return None if robots is None else robots.crawl_delay(agent)

    def request_rate(self, origin: str, agent: str) -> RequestRate | None:
        """The ``Request-rate`` for ``agent`` at ``origin``, or None."""
        robots = self.robots(origin)
        return None if robots is None else robots.request_rate(agent)

    def robots(self, origin: str) -> RobotsTxt | None:
        """The parsed robots.txt of ``origin`` (None for an allow-all or disallow-all verdict)."""
        target = robots_url(origin)
        entry = self.rules.entry(target)
        return (entry if entry is not None else self._load(target)).robots

    def invalidate(self, origin: str | None = None) -> None:
        """Forget one origin's robots.txt, or all of them."""
        with self._guard:
            self.rules.invalidate(origin)

    def _load(self, target: str) -> _Entry:
        """Fetch and store the robots.txt at ``target`` (once, however many threads ask)."""
        with self._guard:
            lock = self._locks.setdefault(target, threading.Lock())
        try:
            with lock:
                # Another thread may have fetched while this one waited for the lock.
                entry = self.rules.entry(target)
                if entry is not None:
                    return entry
                try:
                    status, body, headers = self._fetch(target)
                except Exception as exc:  # any failure to get an answer is "unreachable"
                    with self._guard:
                        return self.rules.store(target, None, error=exc)
                with self._guard:
                    return self.rules.store(target, status, body, headers)
        finally:
            with self._guard:
                if not lock.locked():
                    self._locks.pop(target, None)
