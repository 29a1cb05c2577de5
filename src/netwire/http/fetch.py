"""Fetch many URLs at once: bounded concurrency, per-host politeness, results as they complete.

``AsyncClient.map(urls)`` (an async iterator) and :func:`fetch_all` (a plain iterator that runs
an :class:`~netwire.aio.AsyncClient` on a private event loop in a helper thread) both drive the
scheduler in :mod:`netwire.http.batch`, and yield one
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
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO, Unpack

from .._types import ClientOptions, RequestOptions, URLTypes
from .batch import FetchOutcome

if TYPE_CHECKING:
    from ..url import URL
    from .aio import AsyncClient

__all__ = ["FetchOutcome", "Progress", "amap", "bulk", "close_client", "fetch_all"]


def amap(
    client: AsyncClient,
    urls: Iterable[str | URL] | AsyncIterable[str | URL],
    *,
    concurrency: int = 20,
    per_host: int | None = None,
    method: str = "GET",
    **kwargs: Unpack[RequestOptions],
) -> AsyncIterator[FetchOutcome]:
    """``client.request(method, url, **kwargs)`` for every URL; the same as :meth:`AsyncClient.map`."""
    return client.map(urls, concurrency=concurrency, per_host=per_host, method=method, **kwargs)


def fetch_all(
    urls: Iterable[URLTypes],
    *,
    concurrency: int = 20,
    per_host: int | None = None,
    method: str = "GET",
    use_uvloop: bool = False,
    client: AsyncClient | None = None,
    **client_options: Unpack[ClientOptions],
) -> Iterator[FetchOutcome]:
    """Fetch ``urls`` concurrently from sync code; yields a :class:`FetchOutcome` as each completes.

    At most ``concurrency`` requests are in flight, at most ``per_host`` of them to one origin.
    Leaving the loop early (``break``) cancels what is still running.

    Without ``client``, an :class:`~netwire.aio.AsyncClient` is built for this call (with
    ``client_options``: ``timeout``, ``headers``, ``retries``, ``limits``...), runs on its own
    event loop in a helper thread, and is closed at the end.

    With ``client=AsyncClient(...)``, that client is used and left open: successive calls
    share its connections, cookies and robots.txt cache (a crawl calling ``fetch_all`` once
    per level fetches each origin's robots.txt once). It runs on an event loop of its own in a
    helper thread, kept between calls; the client must not have been used on another loop.
    Close it with :func:`close_client` when done.

    ::

        for outcome in netwire.fetch_all(urls, concurrency=50, per_host=4):
            if outcome.error: print(outcome.url, "failed:", outcome.error)
            else: print(outcome.url, outcome.response.status, len(outcome.response.content))
    """
    if client is not None:
        if client_options:
            raise TypeError(
                f"fetch_all: give the options ({', '.join(sorted(client_options))}) to the AsyncClient passed "
                "as client=, not to fetch_all"
            )
        yield from _fetch_with(client, urls, concurrency, per_host, method, use_uvloop)
        return
    results: queue.Queue[FetchOutcome | BaseException | object] = queue.Queue()
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
        async with AsyncClient(**client_options) as own:
            async for outcome in own.map(urls, concurrency=concurrency, per_host=per_host, method=method):
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
            yield item  # type: ignore[misc]
    finally:
        ready.wait()
        loop, task = state.get("loop"), state.get("task")
        if thread.is_alive() and loop is not None and task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass  # the loop already ended
        thread.join()


class _LoopThread:
    """An event loop running in a daemon thread: the home of an AsyncClient that sync code shares
    between ``fetch_all`` calls (an AsyncClient is bound to the loop it was first used on)."""

    def __init__(self, use_uvloop: bool) -> None:
        if use_uvloop:
            import uvloop

            self.loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        else:
            self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="netwire-fetch_all-client", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        try:
            self.loop.call_soon_threadsafe(self.loop.stop)
        except RuntimeError:
            return  # already stopping
        self.thread.join()
        self.loop.close()


# The loop each caller-given client lives on; dropped (and the thread stopped) with the client.
_homes: weakref.WeakKeyDictionary[AsyncClient, _LoopThread] = weakref.WeakKeyDictionary()
_homes_lock = threading.Lock()


def _home_of(client: AsyncClient, use_uvloop: bool) -> _LoopThread:
    with _homes_lock:
        home = _homes.get(client)
        if home is None:
            if client._loop is not None:
                raise RuntimeError(
                    "fetch_all(client=...) needs an AsyncClient not yet used on an event loop: this one is "
                    "bound to another loop (share it between fetch_all calls only, or use client.map() there)"
                )
            home = _LoopThread(use_uvloop)
            _homes[client] = home
            weakref.finalize(client, home.stop)
        return home


def _fetch_with(
    client: AsyncClient,
    urls: Iterable[URLTypes],
    concurrency: int,
    per_host: int | None,
    method: str,
    use_uvloop: bool,
) -> Iterator[FetchOutcome]:
    """fetch_all on the caller's client, on that client's own loop thread; the client stays open."""
    if client._closed:
        raise RuntimeError("fetch_all: this AsyncClient is closed")
    home = _home_of(client, use_uvloop)
    results: queue.Queue[FetchOutcome | BaseException | None] = queue.Queue()
    finished = threading.Event()

    async def main() -> None:
        try:
            async for outcome in amap(client, urls, concurrency=concurrency, per_host=per_host, method=method):
                results.put(outcome)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # reported to the consumer, not lost in the thread
            results.put(exc)
        finally:
            results.put(None)
            finished.set()

    future = asyncio.run_coroutine_threadsafe(main(), home.loop)
    try:
        while True:
            item = results.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if not finished.is_set():
            future.cancel()  # the consumer left early: stop what is still running
        finished.wait()


def close_client(client: AsyncClient) -> None:
    """Close an AsyncClient that was passed to :func:`fetch_all` (from sync code), and end its loop."""
    with _homes_lock:
        home = _homes.pop(client, None)
    if home is None:
        client._closed = True
        client.pool.close()
        return
    asyncio.run_coroutine_threadsafe(client.aclose(), home.loop).result()
    home.stop()


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
