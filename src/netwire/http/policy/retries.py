"""Retries: whether, and after how long, to send a request again. Pure: no clock, no sleep.

``Retry.decide(attempt, request, response=None, error=None)`` answers after attempt number
``attempt`` (1 for the first) ended with ``response`` or ``error``: the seconds to wait before
the next attempt, or None to stop. The client sleeps (within its total deadline) and retries.

What is retried:

* connect failures (refused, unreachable, DNS, connect timeout): for any method, since the
  request never left; TLS failures never (a bad certificate does not get better);
* failures after the request may have been sent (read/write errors and timeouts): only for
  ``allowed_methods`` (idempotent ones by default, RFC 9110 9.2.2);
* responses whose status is in ``status_forcelist`` (429, 502, 503, 504), for allowed methods,
  after ``Retry-After`` (seconds or an HTTP-date) when the server sends one.

Waits grow exponentially: ``backoff_factor * 2 ** (attempt - 1)``, capped at ``backoff_max``,
spread by ``jitter`` (a fraction) so that many clients do not retry in lockstep.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ...errors import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    TLSError,
    TotalTimeout,
    WriteError,
    WriteTimeout,
)
from ..models import Request, Response

__all__ = ["IDEMPOTENT", "IDEMPOTENT_METHODS", "RETRY_AFTER_STATUSES", "Retry", "RetryState", "parse_retry_after"]

#: Methods safe to send twice (RFC 9110 9.2.2): what a Retry retries by default, and what a
#: client sends again on a fresh connection after a stale keep-alive one failed. Defined once here.
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))
IDEMPOTENT = IDEMPOTENT_METHODS  # the name this module always had
# Statuses whose Retry-After means "come back then" (RFC 9110 10.2.3, RFC 6585 4).
RETRY_AFTER_STATUSES = frozenset((413, 429, 503))
_CONNECT_ERRORS: tuple[type[BaseException], ...] = (ConnectError, ConnectTimeout)
_READ_ERRORS: tuple[type[BaseException], ...] = (ReadError, ReadTimeout, WriteError, WriteTimeout)


def parse_retry_after(value: str, *, now: float | None = None) -> float | None:
    """Seconds to wait per a ``Retry-After`` value: delay-seconds or an HTTP-date.

    ``now`` is the current Unix time (``time.time()`` when None). A date in the past gives 0;
    an unparsable value gives None.
    """
    text = value.strip()
    if not text:
        return None
    if text.isdigit() and text.isascii():
        return float(int(text))
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are GMT; a date without a zone is read as such.
        from datetime import UTC

        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


class Retry:
    """A retry policy. ``Retry(0)`` never retries; ``Retry.coerce(3)`` is ``Retry(total=3)``.

    :param total: retries in all (attempts = total + 1).
    :param connect: at most this many retries for connect failures (None: only ``total`` bounds them).
    :param read: at most this many for failures after sending (read/write errors and timeouts).
    :param status: at most this many for statuses in ``status_forcelist``.
    :param status_forcelist: statuses that are retried.
    :param allowed_methods: methods retried after the request may have reached the server.
    :param backoff_factor: the first wait, in seconds; each next one doubles.
    :param backoff_max: the longest backoff wait.
    :param jitter: each wait is multiplied by a random factor in [1 - jitter, 1 + jitter].
    :param respect_retry_after: wait as long as the server's Retry-After says (413, 429, 503).
    :param max_retry_after: a longer Retry-After makes the client give up rather than wait.
    :param retry_on_errors: exception types that may be retried at all.
    :param rng: the random source for jitter (``random.random``); tests pass a fixed one.
    """

    def __init__(
        self,
        total: int = 3,
        *,
        connect: int | None = None,
        read: int | None = None,
        status: int | None = None,
        status_forcelist: Collection[int] = (429, 502, 503, 504),
        allowed_methods: Collection[str] = IDEMPOTENT,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        jitter: float = 0.1,
        respect_retry_after: bool = True,
        max_retry_after: float | None = 300.0,
        retry_on_errors: tuple[type[BaseException], ...] = (ConnectError, ConnectTimeout, ReadError, ReadTimeout, WriteError),
        rng: Callable[[], float] = _random.random,
    ) -> None:
        if total < 0:
            raise ValueError("total must be >= 0")
        if not 0 <= jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")
        self.total = total
        self.connect = connect
        self.read = read
        self.status = status
        self.status_forcelist = frozenset(status_forcelist)
        self.allowed_methods = frozenset(m.upper() for m in allowed_methods)
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max
        self.jitter = jitter
        self.respect_retry_after = respect_retry_after
        self.max_retry_after = max_retry_after
        self.retry_on_errors = retry_on_errors
        self.rng = rng

    @classmethod
    def coerce(cls, value: Retry | int | bool | None) -> Retry:
        """What callers pass as ``retries=``: a Retry, a count, or None/False (no retries)."""
        if isinstance(value, Retry):
            return value
        if value is None or value is False:
            return cls(0)
        if value is True:
            return cls()
        return cls(int(value))

    def __repr__(self) -> str:
        return (
            f"Retry(total={self.total}, connect={self.connect}, read={self.read}, status={self.status}, "
            f"backoff_factor={self.backoff_factor})"
        )

    # -- deciding ---------------------------------------------------------------------------------

    def kind(self, request: Request, response: Response | None, error: BaseException | None) -> str | None:
        """Which budget this outcome would draw on: "connect", "read", "status", or None (not retryable)."""
        if error is not None:
            if isinstance(error, TotalTimeout) or not isinstance(error, self.retry_on_errors):
                return None
            if isinstance(error, TLSError) and TLSError not in self.retry_on_errors:
                return None
            if isinstance(error, _CONNECT_ERRORS):
                return "connect"
            if request.method.upper() in self.allowed_methods:
                return "read"
            return None
        if (
            response is not None
            and response.status in self.status_forcelist
            and request.method.upper() in self.allowed_methods
        ):
            return "status"
        return None

    def backoff(self, attempt: int) -> float:
        """The backoff wait after attempt ``attempt`` (no Retry-After), jitter included."""
        if self.backoff_factor <= 0:
            return 0.0
        base = min(self.backoff_factor * (2 ** max(attempt - 1, 0)), self.backoff_max)
        if self.jitter:
            base *= 1 + self.jitter * (2 * float(self.rng()) - 1)
        return float(max(0.0, min(base, self.backoff_max)))

    def decide(
        self,
        attempt: int,
        request: Request,
        response: Response | None = None,
        error: BaseException | None = None,
        *,
        counts: Mapping[str, int] | None = None,
        now: float | None = None,
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to stop.

        ``attempt`` counts attempts made so far (1 after the first). ``counts`` are the retries
        already spent per kind ("connect", "read", "status"), for the per-kind limits; without
        it every earlier retry is assumed to be of this kind (the cautious reading).
        ``now`` is the Unix time used for an HTTP-date Retry-After.
        """
        if attempt > self.total:
            return None
        kind = self.kind(request, response, error)
        if kind is None:
            return None
        limit = {"connect": self.connect, "read": self.read, "status": self.status}[kind]
        if limit is not None:
            spent = (counts or {}).get(kind, 0) if counts is not None else attempt - 1
            if spent >= limit:
                return None
        if request.content is not None and not request.replayable:
            return None  # the body was a one-shot stream: it cannot be sent again
        if response is not None and self.respect_retry_after and response.status in RETRY_AFTER_STATUSES:
            value = response.headers.get("retry-after")
            if value:
                wait = parse_retry_after(value, now=now)
                if wait is not None:
                    if self.max_retry_after is not None and wait > self.max_retry_after:
                        return None
                    return wait
        return self.backoff(attempt)

    def start(self) -> RetryState:
        """Per-request bookkeeping that tracks the per-kind counts for :meth:`decide`."""
        return RetryState(self)


class RetryState:
    """The retries of one request so far. ``next_delay(...)`` is ``decide`` with the counting done."""

    __slots__ = ("attempt", "counts", "history", "retry")

    def __init__(self, retry: Retry) -> None:
        self.retry = retry
        self.attempt = 0
        self.counts: dict[str, int] = {"connect": 0, "read": 0, "status": 0}
        self.history: list[Any] = []

    def next_delay(
        self,
        request: Request,
        response: Response | None = None,
        error: BaseException | None = None,
        *,
        now: float | None = None,
    ) -> float | None:
        """Record the attempt that just ended; the wait before the next one, or None to stop."""
        self.attempt += 1
        self.history.append(error if error is not None else response)
        delay = self.retry.decide(self.attempt, request, response, error, counts=self.counts, now=now)
        if delay is not None:
            kind = self.retry.kind(request, response, error)
            if kind is not None:
                self.counts[kind] += 1
        return delay
