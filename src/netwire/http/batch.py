"""The batch scheduler: many requests at once, bounded in total and per host, results as they come.

It knows nothing of the client that sends: :func:`amap` takes a ``send(url)`` coroutine
function and a ``key(url)`` function (the origin, for the per-host bound). So
``AsyncClient.map`` (http/aio.py) and :func:`netwire.fetch.fetch_all` both call it, and this
module imports nothing of ``aio`` (issue 16: the old ``aio.py <-> fetch.py`` circle).

URLs are taken from the input lazily (an iterator of a million URLs is fine): at most a few
times ``concurrency`` are held waiting for their host to have a free slot, so one slow host
does not hold up the others. A failure is a value (``outcome.error``), never an exception
that would end the whole batch.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..url import URL
    from .models import Response

__all__ = ["FetchOutcome", "amap"]


@dataclass(slots=True)
class FetchOutcome:
    """What became of one URL: its response (body read) or the error that stopped it."""

    index: int
    """Position of the URL in the input."""
    url: str
    response: Response | None
    """The response, its body read (an ``AsyncResponse`` from ``AsyncClient.map``)."""
    error: BaseException | None
    elapsed: float
    """Seconds from sending to having the whole body (or the error)."""

    @property
    def ok(self) -> bool:
        """True when a response arrived with a 2xx status."""
        return self.error is None and self.response is not None and self.response.is_success

    def __repr__(self) -> str:
        what = f"error={self.error!r}" if self.error is not None else f"status={self.response.status if self.response else None}"
        return f"<FetchOutcome #{self.index} {self.url} {what}>"


async def amap(
    send: Callable[[str | URL], Awaitable[Response]],
    urls: Iterable[str | URL] | AsyncIterable[str | URL],
    *,
    key: Callable[[str | URL], str],
    concurrency: int = 20,
    per_host: int | None = None,
) -> AsyncIterator[FetchOutcome]:
    """``await send(url)`` for every URL, at most ``concurrency`` at once and ``per_host`` per ``key(url)``.

    Yields a :class:`FetchOutcome` per URL in completion order. ``key`` must not raise (return
    ``""`` for a URL it cannot place: its ``send`` then fails on its own). Closing the iterator
    early cancels what is still running.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if per_host is not None and per_host < 1:
        raise ValueError("per_host must be at least 1 (or None for no per-host bound)")
    done: asyncio.Queue[tuple[FetchOutcome, str]] = asyncio.Queue()
    active: dict[str, int] = {}
    waiting: deque[tuple[int, str | URL, str]] = deque()
    running: set[asyncio.Task[None]] = set()
    lookahead = concurrency * 4
    if hasattr(urls, "__aiter__"):
        source_async: AsyncIterator[str | URL] | None = aiter(urls)  # type: ignore[arg-type]
        source_sync: Iterator[str | URL] | None = None
    else:
        source_async = None
        source_sync = iter(urls)
    exhausted = False
    index = 0
    in_flight = 0  # started and not yet taken from ``done`` (tasks linger a moment after that)

    async def one(i: int, url: str | URL, host: str) -> None:
        started = time.monotonic()
        try:
            response = await send(url)
        except Exception as exc:
            outcome = FetchOutcome(i, str(url), None, exc, time.monotonic() - started)
        else:
            outcome = FetchOutcome(i, str(url), response, None, time.monotonic() - started)
        done.put_nowait((outcome, host))

    async def refill() -> None:
        nonlocal exhausted, index
        while not exhausted and len(waiting) < lookahead:
            try:
                if source_sync is not None:
                    url = next(source_sync)
                else:
                    assert source_async is not None
                    url = await anext(source_async)
            except (StopIteration, StopAsyncIteration):
                exhausted = True
                return
            waiting.append((index, url, key(url)))
            index += 1

    def start_some() -> None:
        nonlocal in_flight
        if not waiting:
            return
        skipped: list[tuple[int, str | URL, str]] = []
        for _ in range(len(waiting)):
            if in_flight >= concurrency:
                break
            i, url, host = waiting.popleft()
            if per_host is not None and active.get(host, 0) >= per_host:
                skipped.append((i, url, host))
                continue
            active[host] = active.get(host, 0) + 1
            task = asyncio.ensure_future(one(i, url, host))
            running.add(task)
            task.add_done_callback(running.discard)
            in_flight += 1
        # Keep the skipped ones first, in input order.
        waiting.extendleft(reversed(skipped))

    try:
        while True:
            await refill()
            start_some()
            if not in_flight:
                if exhausted and not waiting:
                    return
                continue
            outcome, host = await done.get()
            in_flight -= 1
            left = active.get(host, 1) - 1
            if left:
                active[host] = left
            else:
                active.pop(host, None)
            yield outcome
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
