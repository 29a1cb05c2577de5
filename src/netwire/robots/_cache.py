"""robots.txt per origin, as a sans-IO cache: it decides, or says which file it needs.

``RobotsRules.decide(url, agent)`` answers a :class:`~netwire._robots.Decision`, or
:class:`NeedsFetch` naming the robots.txt URL to get first; whoever can do I/O (the send loop's
driver, :class:`netwire.robotparser.RobotsCache`'s fetch function) gets it and hands the outcome to
``store(robots_url, status, body, headers)`` (``status`` None: no answer arrived). No socket, no
lock, no client here: the sync and async clients share this one cache logic, and the
``client <-> robotparser`` import circle is gone (this module imports neither).

May import: ``_robots`` (the rules), ``errors``, ``url``. Nothing above them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

from ..errors import InvalidURL
from ._rules import MAX_BYTES, Decision, RequestRate, RobotsTxt, path_of

__all__ = ["MAX_REDIRECTS", "NeedsFetch", "RobotsRules", "Verdict", "robots_url", "verdict_for"]

#: RFC 9309 section 2.3.1.2: crawlers should follow at least five consecutive redirects.
MAX_REDIRECTS = 5

Verdict = Literal["parse", "allow-all", "disallow-all"]


class NeedsFetch(NamedTuple):
    """The cache cannot decide before ``robots_url`` is fetched and stored."""

    robots_url: str


def robots_url(url: str) -> str:
    """The robots.txt URL that governs ``url``: its origin followed by ``/robots.txt``.

    Raises :class:`~netwire.errors.InvalidURL` when ``url`` is not an absolute http(s) URL.
    """
    from ..url import URL

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
class _Entry:
    robots: RobotsTxt | None
    verdict: Verdict
    expires: float
    reason: str


_ALWAYS = Decision(True, None, None, "/robots.txt is always allowed")


class RobotsRules:
    """The parsed robots.txt of each origin, and when each expires. Not thread-safe by itself:
    callers sharing one across threads serialise ``store`` (reads of a stored entry are safe).

    A fetched robots.txt is kept for ``ttl`` seconds (24 h, RFC 9309 section 2.4), or less when
    its ``Cache-Control: max-age`` says so (``no-store``/``no-cache``: not kept). An
    unreachable one is retried after ``error_ttl`` seconds rather than blocking the origin a day.
    At most ``max_origins`` origins are remembered (the expired, then the oldest, go first).
    """

    def __init__(
        self,
        ttl: float = 86400.0,
        *,
        error_ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        mode: Literal["rfc9309", "google"] = "rfc9309",
        max_origins: int = 10_000,
    ) -> None:
        self.max_origins = max_origins
        self.ttl = ttl
        self.error_ttl = min(error_ttl, ttl)
        self._clock = clock
        self.mode: Literal["rfc9309", "google"] = mode
        self._entries: dict[str, _Entry] = {}

    # -- questions ----------------------------------------------------------------------------------

    def decide(self, url: str, agent: str) -> Decision | NeedsFetch:
        """Whether ``agent`` may fetch ``url``, or the robots.txt to fetch before it can say.

        Raises :class:`~netwire.errors.InvalidURL` for a URL without an http(s)-like origin.
        """
        target = robots_url(url)
        if path_of(url) == "/robots.txt":
            return _ALWAYS
        entry = self.entry(target)
        if entry is None:
            return NeedsFetch(target)
        return self.decision(entry, url, agent)

    @staticmethod
    def decision(entry: _Entry, url: str, agent: str) -> Decision:
        """What ``entry`` (from :meth:`entry` or :meth:`store`) says of ``url`` for ``agent``.

        For a robots.txt stored with ``no-store`` (expired at once), the entry ``store`` just
        returned still decides the request that fetched it.
        """
        if path_of(url) == "/robots.txt":
            return _ALWAYS
        if entry.robots is not None:
            return entry.robots.decide(agent, url)
        return Decision(entry.verdict == "allow-all", None, None, entry.reason)

    def crawl_delay(self, url: str, agent: str) -> float | NeedsFetch | None:
        """The ``Crawl-delay`` for ``agent`` at ``url``'s origin, None, or the file to fetch first."""
        target = robots_url(url)
        entry = self.entry(target)
        if entry is None:
            return NeedsFetch(target)
        return None if entry.robots is None else entry.robots.crawl_delay(agent)

    def request_rate(self, url: str, agent: str) -> RequestRate | NeedsFetch | None:
        """The ``Request-rate`` for ``agent`` at ``url``'s origin, None, or the file to fetch first."""
        target = robots_url(url)
        entry = self.entry(target)
        if entry is None:
            return NeedsFetch(target)
        return None if entry.robots is None else entry.robots.request_rate(agent)

    def entry(self, target: str) -> _Entry | None:
        """The live entry for the robots.txt URL ``target``, or None (never fetched, or expired)."""
        entry = self._entries.get(target)
        if entry is not None and entry.expires > self._clock():
            return entry
        return None

    # -- answers ------------------------------------------------------------------------------------

    def store(
        self,
        target: str,
        status: int | None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        error: BaseException | str | None = None,
    ) -> _Entry:
        """Record the outcome of fetching the robots.txt at ``target``.

        ``status`` None means no response arrived (``error`` says why): the origin is
        unreachable, everything disallowed, asked again after ``error_ttl``. Returns the entry
        stored (see :meth:`decision`).
        """
        now = self._clock()
        entry = self._entry_for(status, body, headers or {}, error, now)
        self._entries.pop(target, None)  # re-insert: the dict's order is fetch order
        self._entries[target] = entry
        if len(self._entries) > self.max_origins:
            self._evict(now)
        return entry

    def invalidate(self, origin: str | None = None) -> None:
        """Forget one origin's robots.txt, or all of them."""
        if origin is None:
            self._entries.clear()
        else:
            self._entries.pop(robots_url(origin), None)

    # -- internals ----------------------------------------------------------------------------------

    def _evict(self, now: float) -> None:
        # A crawler meets many origins: drop the expired, then the longest-cached ones.
        for key in [k for k, e in self._entries.items() if e.expires <= now]:
            del self._entries[key]
        while len(self._entries) > self.max_origins:
            del self._entries[next(iter(self._entries))]

    def _entry_for(
        self,
        status: int | None,
        body: bytes,
        headers: Mapping[str, str],
        error: BaseException | str | None,
        now: float,
    ) -> _Entry:
        if status is None:
            why = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else (error or "no answer")
            return _Entry(
                None, "disallow-all", now + self.error_ttl, f"robots.txt unreachable ({why}): everything is disallowed"
            )
        verdict = verdict_for(status)
        if verdict == "parse":
            lifetime = _max_age(headers)
            ttl = self.ttl if lifetime is None else min(lifetime, self.ttl)
            return _Entry(RobotsTxt.parse(body[:MAX_BYTES], mode=self.mode), verdict, now + ttl, "")
        if verdict == "allow-all":
            return _Entry(None, verdict, now + self.ttl, f"robots.txt unavailable (HTTP {status}): everything is allowed")
        return _Entry(
            None, verdict, now + self.error_ttl, f"robots.txt unreachable (HTTP {status}): everything is disallowed"
        )


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
