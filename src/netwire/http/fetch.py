"""Fetch many URLs at once: bounded concurrency, per-host politeness, results as they complete.

``AsyncClient.map(urls)`` (an async iterator) and :func:`fetch_all` (a plain iterator that runs
an :class:`~netwire.aio.AsyncClient` on a private event loop in a helper thread) yield one
:class:`FetchOutcome` per URL, in completion order. A failure is a value (``outcome.error``),
never an exception that would end the whole batch.

URLs are taken from the input lazily (an iterator of a million URLs is fine): at most a few
times ``concurrency`` are held waiting for their host to have a free slot, so one slow host
does not hold up the others.
"""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..url import URL
    from .aio import AsyncClient, AsyncResponse

__all__ = ["FetchOutcome", "Progress", "amap", "bulk", "fetch_all"]


@dataclass(slots=True)
class FetchOutcome:
    """What became of one URL: its response (body read) or the error that stopped it."""

    index: int
    """Position of the URL in the input."""
    url: str
    response: AsyncResponse | None
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


def _host_of(client: AsyncClient, url: str | URL) -> str:
    try:
        return client._url(url).origin
    except Exception:
        return ""  # an invalid URL: its request fails at once, with the parser's error


async def amap(
    client: AsyncClient,
    urls: Iterable[str | URL] | AsyncIterable[str | URL],
    *,
    concurrency: int = 20,
    per_host: int | None = None,
    method: str = "GET",
    **kwargs: Any,
) -> AsyncIterator[FetchOutcome]:
    """``client.request(method, url, **kwargs)`` for every URL; see :meth:`AsyncClient.map`."""
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
            response = await client.request(method, url, **kwargs)
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
            waiting.append((index, url, _host_of(client, url)))
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


def fetch_all(
    urls: Iterable[str | URL],
    *,
    concurrency: int = 20,
    per_host: int | None = None,
    method: str = "GET",
    use_uvloop: bool = False,
    **client_options: Any,
) -> Iterator[FetchOutcome]:
    """Fetch ``urls`` concurrently from sync code; yields a :class:`FetchOutcome` as each completes.

    An :class:`~netwire.aio.AsyncClient` (built with ``client_options``: ``timeout``, ``headers``,
    ``retries``, ``limits``...) runs on its own event loop in a helper thread; at most
    ``concurrency`` requests are in flight, at most ``per_host`` of them to one origin. Leaving
    the loop early (``break``) cancels what is still running.

    ::

        for outcome in netwire.fetch_all(urls, concurrency=50, per_host=4):
            if outcome.error: print(outcome.url, "failed:", outcome.error)
            else: print(outcome.url, outcome.response.status, len(outcome.response.content))
    """
    results: queue.Queue[Any] = queue.Queue()
    end = object()
    state: dict[str, Any] = {}
    ready = threading.Event()

    if "limits" not in client_options:
        from .models import Limits

        # As many connections as requests in flight, so none waits in the pool.
        client_options["limits"] = Limits(
            max_connections=concurrency,
            max_connections_per_host=min(per_host or concurrency, concurrency),
            max_idle_per_host=min(per_host or concurrency, concurrency),
        )

    async def main() -> None:
        from .aio import AsyncClient

        state["loop"] = asyncio.get_running_loop()
        state["task"] = asyncio.current_task()
        ready.set()
        async with AsyncClient(**client_options) as client:
            async for outcome in amap(client, urls, concurrency=concurrency, per_host=per_host, method=method):
                results.put(outcome)

    def run() -> None:
        try:
            if use_uvloop:
                import uvloop

                uvloop.run(main())
            else:
                asyncio.run(main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # reported to the consumer, not lost in the thread
            results.put(exc)
        finally:
            ready.set()
            results.put(end)

    thread = threading.Thread(target=run, name="netwire-fetch_all", daemon=True)
    thread.start()
    try:
        while True:
            item = results.get()
            if item is end:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        ready.wait()
        loop, task = state.get("loop"), state.get("task")
        if thread.is_alive() and loop is not None and task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass  # the loop already ended
        thread.join()


class Progress:
    """A one-line progress bar for a batch of fetches, drawn only on a terminal.

    ``update(outcome)`` after each :class:`FetchOutcome`, ``close()`` at the end (it ends the
    line). ``total`` may be None (an iterator of unknown length): then counts without a bar.
    On anything but a TTY (a pipe, a log file) it writes nothing, so output stays clean::

        bar = Progress(len(urls))
        for outcome in fetch_all(urls, concurrency=32):
            bar.update(outcome)
        bar.close()
    """

    def __init__(self, total: int | None, out: TextIO | None = None, *, width: int = 30, interval: float = 0.1) -> None:
        self.total = total
        self.out = out if out is not None else sys.stderr
        self.width = width
        self.interval = interval
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        isatty = getattr(self.out, "isatty", None)
        self.enabled = bool(isatty and isatty())

    def update(self, outcome: FetchOutcome) -> None:
        self.done += 1
        if not outcome.ok:
            self.failed += 1
        now = time.monotonic()
        if self.enabled and (now - self._drawn >= self.interval or self.done == self.total):
            self._drawn = now
            self.out.write("\r" + self.line(now))
            self.out.flush()

    def line(self, now: float | None = None) -> str:
        """The text of the bar as it stands."""
        elapsed = max((now if now is not None else time.monotonic()) - self.started, 1e-9)
        rate = f"{self.done / elapsed:.1f}/s"
        counts = f"{self.done}" + (f"/{self.total}" if self.total is not None else "")
        failed = f", {self.failed} failed" if self.failed else ""
        if not self.total:
            return f"{counts} fetched{failed}  {rate}"
        filled = min(self.width, self.width * self.done // self.total)
        bar = "=" * filled + (">" if filled < self.width else "") + " " * (self.width - filled - 1)
        return f"[{bar[: self.width]}] {counts}{failed}  {rate}"

    def close(self) -> None:
        if self.enabled and self.done:
            self.out.write("\r" + self.line() + "\n")
            self.out.flush()


def bulk(urls: Any, out: Any, **options: Any) -> Any:
    """Fetch a list of URLs into WARC files and an index, politely and resumably.

    A thin entry point to :func:`netwire.bulk.bulk` (see there, and docs/fetch.md); the bulk
    package is imported only when this is called.
    """
    from ..bulk import bulk as run

    return run(urls, out, **options)
