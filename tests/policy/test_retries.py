"""Retry decisions: which outcomes, how often, how long to wait."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from netwire.errors import (
    ConnectError,
    ConnectTimeout,
    ProtocolError,
    ReadError,
    ReadTimeout,
    TLSError,
    TotalTimeout,
    WriteError,
)
from netwire.http.models import Headers, Request, Response
from netwire.http.policy.retries import Retry, parse_retry_after
from netwire.url import URL


def req(method: str = "GET", content: object = None) -> Request:
    r = Request(method, URL("http://example.test/"), Headers(), content)
    if hasattr(content, "seek"):
        r.extensions["body_start"] = 0
    return r


def resp(status: int, retry_after: str | None = None) -> Response:
    h = Headers([("Retry-After", retry_after)] if retry_after is not None else [])
    return Response(status, headers=h)


NO_JITTER = {"jitter": 0.0}


def test_backoff_is_exponential_and_capped() -> None:
    r = Retry(10, backoff_factor=0.5, backoff_max=3.0, **NO_JITTER)  # type: ignore[arg-type]
    waits = [r.decide(n, req(), error=ConnectError("x")) for n in range(1, 7)]
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert Retry(3, backoff_factor=0).decide(1, req(), error=ConnectError("x")) == 0.0


def test_jitter_spreads_within_bounds() -> None:
    lo = Retry(3, backoff_factor=1.0, jitter=0.1, rng=lambda: 0.0).decide(2, req(), error=ConnectError("x"))
    hi = Retry(3, backoff_factor=1.0, jitter=0.1, rng=lambda: 1.0).decide(2, req(), error=ConnectError("x"))
    assert lo == pytest.approx(1.8) and hi == pytest.approx(2.2)
    waits = {Retry(3, backoff_factor=1.0).decide(2, req(), error=ConnectError("x")) for _ in range(50)}
    assert len(waits) > 1 and all(1.8 <= w <= 2.2 for w in waits if w is not None)


def test_total_bounds_attempts() -> None:
    r = Retry(2, **NO_JITTER)  # type: ignore[arg-type]
    assert r.decide(1, req(), error=ConnectError("x")) is not None
    assert r.decide(2, req(), error=ConnectError("x")) is not None
    assert r.decide(3, req(), error=ConnectError("x")) is None
    assert Retry(0).decide(1, req(), error=ConnectError("x")) is None
    assert Retry.coerce(None).total == 0
    assert Retry.coerce(5).total == 5
    same = Retry(1)
    assert Retry.coerce(same) is same


@pytest.mark.parametrize(
    ("error", "method", "retried"),
    [
        (ConnectError("refused"), "POST", True),  # never sent: safe for any method
        (ConnectTimeout("slow"), "POST", True),
        (TLSError("bad cert"), "GET", False),  # does not get better
        (ReadError("reset"), "GET", True),
        (ReadError("reset"), "POST", False),  # may have been processed
        (ReadTimeout("slow"), "PUT", True),
        (ReadTimeout("slow"), "PATCH", False),
        (WriteError("reset"), "DELETE", True),
        (TotalTimeout("over"), "GET", False),  # the deadline is the end
        (ProtocolError("garbage"), "GET", False),
        (ValueError("not a transport error"), "GET", False),
    ],
)
def test_which_errors(error: BaseException, method: str, retried: bool) -> None:
    assert (Retry(3).decide(1, req(method), error=error) is not None) is retried


@pytest.mark.parametrize(
    ("status", "method", "retried"),
    [(503, "GET", True), (502, "HEAD", True), (504, "PUT", True), (429, "GET", True), (503, "POST", False),
     (500, "GET", False), (200, "GET", False), (404, "GET", False)],
)
def test_which_statuses(status: int, method: str, retried: bool) -> None:
    assert (Retry(3).decide(1, req(method), resp(status)) is not None) is retried


def test_custom_lists() -> None:
    r = Retry(3, status_forcelist=[500], allowed_methods=["post"])
    assert r.decide(1, req("POST"), resp(500)) is not None
    assert r.decide(1, req("GET"), resp(500)) is None
    assert r.decide(1, req("POST"), resp(503)) is None
    assert Retry(3, retry_on_errors=(ReadError,)).decide(1, req(), error=ConnectError("x")) is None


def test_retry_after_seconds_and_date() -> None:
    r = Retry(3, **NO_JITTER)  # type: ignore[arg-type]
    assert r.decide(1, req(), resp(429, "7")) == 7.0
    assert r.decide(1, req(), resp(503, " 0 ")) == 0.0
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    date = format_datetime(datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert r.decide(1, req(), resp(503, date), now=now) == 30.0
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert r.decide(1, req(), resp(503, past), now=now) == 0.0
    # Unparsable: fall back to backoff. 502 does not carry Retry-After semantics: backoff.
    assert r.decide(1, req(), resp(503, "soon")) == 0.5
    assert r.decide(1, req(), resp(502, "9")) == 0.5
    assert Retry(3, respect_retry_after=False, **NO_JITTER).decide(1, req(), resp(429, "7")) == 0.5  # type: ignore[arg-type]
    # Too long a wait: give up instead of hanging.
    assert Retry(3, max_retry_after=60).decide(1, req(), resp(429, "3600")) is None


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after("1.5") is None
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now=784111777.0 - 10) == 10.0
    assert parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now=784111777.0) == 0.0
    assert parse_retry_after("Sun Nov  6 08:49:37 1994", now=784111777.0 - 1) == 1.0


def test_per_kind_limits_with_state() -> None:
    r = Retry(10, connect=1, read=2, status=1, **NO_JITTER)  # type: ignore[arg-type]
    state = r.start()
    assert state.next_delay(req(), error=ConnectError("x")) is not None
    assert state.next_delay(req(), error=ReadError("x")) is not None  # a different budget
    assert state.next_delay(req(), resp(503)) is not None
    assert state.next_delay(req(), error=ReadError("x")) is not None
    assert state.next_delay(req(), error=ReadError("x")) is None  # read budget (2) spent
    assert state.counts == {"connect": 1, "read": 2, "status": 1}
    state = r.start()
    state.next_delay(req(), error=ConnectError("x"))
    assert state.next_delay(req(), error=ConnectError("x")) is None
    # Without counts, decide() assumes every earlier retry was of this kind.
    assert r.decide(2, req(), error=ConnectError("x")) is None
    assert r.decide(2, req(), error=ReadError("x")) is not None


def test_one_shot_body_is_not_retried() -> None:
    r = Retry(3)
    assert r.decide(1, req("PUT", b"bytes"), error=ReadError("x")) is not None
    assert r.decide(1, req("PUT", io.BytesIO(b"seekable")), error=ReadError("x")) is not None
    assert r.decide(1, req("PUT", iter([b"once"])), error=ReadError("x")) is None
