"""The engine of one shard: an :class:`~netwire.aio.AsyncClient` fetching input records politely,
and a :class:`Sink` writing what came back (WARC or files, then the index).

Politeness, per host (``host:port``): at most ``per_host`` requests in flight, request starts
spaced by ``per_host_rate``, robots.txt obeyed and its Crawl-delay waited out (by the client),
and a 429/503 ``Retry-After`` holding back every request to that host, not just the one retried.
Globally at most ``concurrency`` requests are in flight, and at most ``lookahead`` records wait
in memory for their host.

Redirects are followed here, not by the client, so that every hop gets its own request and
response records, and robots.txt is checked for each hop's URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    RequestError,
    TooManyRedirects,
    TotalTimeout,
    WriteError,
)
from ..http.aio import AsyncClient, AsyncResponse
from ..http.http11 import IncompleteResponse
from ..http.models import Limits, Timeout
from ..http.policy.retries import Retry
from ..url import URL
from .index import ShardIndex
from .inputs import InputItem
from .options import BulkOptions
from .warc import (
    WarcRecord,
    WarcWriter,
    compressible,
    exchange_records,
    metadata_record,
    response_head,
    warc_date,
)

__all__ = ["ShardStats", "Sink", "run_shard"]

REDIRECTS = frozenset((301, 302, 303, 307, 308))


@dataclass
class ShardStats:
    """Counters of one shard, as it runs (sent to the progress display and the summary)."""

    done: int = 0
    ok: int = 0
    bytes: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    hosts_active: int = 0
    skipped: int = 0  # done by an earlier run
    cpu: float = 0.0  # CPU seconds of the shard's run (its process's start-up not counted), at its end
    # Seconds the shard's event loop was ready to run but waited for a CPU (Linux's schedstat;
    # 0 elsewhere), and the run's wall-clock seconds, at its end. cpu + cpu_wait close to wall:
    # the shard was bound by the CPU it got; well under: by the network, the server, its limits.
    cpu_wait: float = 0.0
    wall: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "done": self.done, "ok": self.ok, "bytes": self.bytes, "errors": dict(self.errors),
            "statuses": dict(self.statuses), "hosts_active": self.hosts_active, "skipped": self.skipped,
            "cpu": round(self.cpu, 3), "cpu_wait": round(self.cpu_wait, 3), "wall": round(self.wall, 3),
        }


@dataclass
class _Exchange:
    """One request/response on the wire, body kept (up to the limit)."""

    url: str
    response: AsyncResponse
    body: bytes
    truncated: bool
    ip: str | None
    date: str


class _Failed(Exception):
    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


def _peer_ip(response: AsyncResponse) -> str | None:
    """The server's address, for WARC-IP-Address, read off the response's connection while it
    is still attached. The client has no public accessor for it yet; without one, it is omitted."""
    conn = getattr(response.raw, "_conn", None)
    transport = getattr(conn, "transport", None)
    try:
        peer = transport.get_extra_info("peername") if transport is not None else None
    except Exception:  # pragma: no cover - a transport without the info
        return None
    return str(peer[0]) if peer else None


def _error_text(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__


class Sink:
    """Writes the outcome of each record: WARC records (or a body file), then its index line."""

    def __init__(
        self, directory: str, index: ShardIndex, writer: WarcWriter | None, stats: ShardStats,
        *, on_new_file: Callable[[str], object] | None = None,
    ) -> None:
        self.directory = directory
        self.index = index
        self.writer = writer
        self.stats = stats
        #: Told ``"files/ab/ab12...\n"`` for each body file written (an output URL sends them).
        self.on_new_file = on_new_file
        self._known: set[str] = set()
        self._folders: set[str] = set()
        self._fields_text: dict[tuple[tuple[str, str], ...], tuple[bytes, bool]] = {}

    def bad_input(self, item: InputItem) -> None:
        error = item.error or "InvalidURL"
        cls, _, message = error.partition(": ")
        self._count_error(cls)
        self.index.add({"n": item.n, "url": item.raw[:2000], "final_url": None, "status": None, "error": cls,
                        "message": message, "attempts": 0})

    def _count_error(self, cls: str) -> None:
        self.stats.done += 1
        self.stats.errors[cls] = self.stats.errors.get(cls, 0) + 1

    def result(self, item: InputItem, chain: list[_Exchange], error: _Failed | None, attempts: int,
               elapsed: float) -> None:
        # Every URL of a run goes through here: the entry is built in one literal, in the order
        # the index has always listed its fields, and each header is looked up once.
        writer = self.writer
        records: list[WarcRecord] = []
        if chain:
            last = chain[-1]
            r = last.response
            body = last.body
            headers = r.headers
            content_type = headers.get("content-type")
            if writer is not None:
                for ex in chain:
                    records.extend(self._exchange_records(ex, content_type if ex is last else None))
            entry: dict[str, Any] = {
                "n": item.n, "url": item.url, "final_url": last.url, "status": r.status,
                "content_type": content_type, "length": len(body), "sha256": hashlib.sha256(body).hexdigest(),
            }
            if last.truncated:
                entry["truncated"] = True
            if len(chain) > 1:
                entry["redirects"] = len(chain) - 1
        else:
            last = None
            entry = {"n": item.n, "url": item.url, "final_url": None, "status": None}
        entry["elapsed"] = round(elapsed, 4)
        entry["attempts"] = attempts
        entry["error"] = None
        stats = self.stats
        if error is not None:
            cls = type(error.error).__name__
            entry["error"] = cls
            entry["message"] = _error_text(error.error)
            self._count_error(cls)
            if writer is not None:
                uri = str(item.url) if last is None else last.url
                records.append(metadata_record(uri, [
                    ("error-class", cls), ("error", _error_text(error.error)), ("attempts", str(attempts)),
                    ("via", str(item.url)),
                ]))
        else:
            assert last is not None
            stats.done += 1
            status = last.response.status
            key = _STATUS_KEYS.get(status) or f"{status // 100}xx"
            statuses = stats.statuses
            statuses[key] = statuses.get(key, 0) + 1
            stats.bytes += len(last.body)
            if 200 <= status < 300:
                stats.ok += 1
                if writer is None:
                    entry["file"] = self._write_file(last.body, entry["sha256"])
        if records and writer is not None:
            entry["warc"], entry["offset"], entry["record_length"] = writer.write(records)
        self.index.add(entry)

    def _write_file(self, body: bytes, sha256: str) -> str:
        # Named by content: written once however often it is fetched, and a crash leaves at most
        # a temporary file (renamed into place only when whole).
        rel = f"files/{sha256[:2]}/{sha256}"
        if rel in self._known:
            return rel  # written (or found) by this run already: no stat of the file system
        path = os.path.join(self.directory, rel)
        if not os.path.exists(path):
            folder = os.path.dirname(path)
            if folder not in self._folders:
                os.makedirs(folder, exist_ok=True)
                self._folders.add(folder)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(body)
            os.replace(tmp, path)
            self.index.unsynced_files.append(path)
            if self.on_new_file is not None:
                self.on_new_file(rel + "\n")
        if len(self._known) >= KNOWN_FILES:
            self._known.clear()  # a bound on memory: a name forgotten is only stat()ed again
        self._known.add(rel)
        return rel

    def _exchange_records(self, ex: _Exchange, content_type: str | None = None) -> tuple[WarcRecord, WarcRecord]:
        r = ex.response
        request = r.request
        assert request is not None
        req_block = self._request_block(request.method, request.url.request_target, request.url.host,
                                        tuple(request.headers.multi_items()))
        headers = r.headers
        body = ex.body
        if content_type is None:
            content_type = headers.get("content-type")
        head = _head_as_sent(r, len(body))
        if head is None:
            head = response_head(
                r.status, r.reason or "", str(r.http_version or "HTTP/1.1"), headers.multi_items(), len(body)
            )
        packed = compressible(body, content_type, headers.get("content-encoding"))
        return exchange_records(
            ex.url, req_block, head, body, date=ex.date, ip=ex.ip, truncated="length" if ex.truncated else None,
            compress=packed,
        )

    def _request_block(self, method: str, target: str, host: str, fields: tuple[tuple[str, str], ...]) -> bytes:
        # The client sends the same fields (User-Agent, Accept...) on every request of a run:
        # they are formatted once. The request line and Host change per URL.
        done = self._fields_text.get(fields)
        if done is None:
            if len(self._fields_text) >= 64:
                self._fields_text.clear()
            text = "".join(f"{n}: {v}\r\n" for n, v in fields).encode("latin-1", "replace")
            has_host = any(name.lower() == "host" for name, _ in fields)
            done = self._fields_text[fields] = (text, has_host)
        text, has_host = done
        line = f"{method} {target} HTTP/1.1\r\n" if has_host else f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n"
        return line.encode("latin-1", "replace") + text + b"\r\n"


#: Status -> its class key in the stats (the common ones, without formatting each time).
_STATUS_KEYS = {code: f"{code // 100}xx" for code in (200, 201, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401,
                                                      403, 404, 410, 429, 500, 502, 503, 504)}
#: Body file names (``--format files``) remembered as present, so that a body fetched again is
#: not looked up on disk (about 100 bytes each; the set is emptied when full).
KNOWN_FILES = 100_000


def _head_as_sent(r: AsyncResponse, body_length: int) -> bytes | None:
    """The response head as the server sent it, when it can be stored so: no Transfer-Encoding,
    and one Content-Length that is the length of the body kept. None: build it field by field
    (:func:`~.warc.response_head` renames and restates those fields).

    The client's parser keeps a response's validated header section as text until someone
    lists the fields; reading it here spares splitting and re-joining them for every URL."""
    headers = r.headers
    raw = getattr(headers, "_raw", None)
    if not isinstance(raw, str) or not raw.startswith("\r\n") or not raw.endswith("\r\n"):
        return None
    length = headers.get("content-length")
    if length is None or length.strip() != str(body_length) or "transfer-encoding" in headers:
        return None
    version = str(r.http_version or "1.1")
    if not version.startswith("HTTP/"):
        version = "HTTP/" + version
    line = f"{version} {r.status} {r.reason or ''}".rstrip()
    return (line + raw + "\r\n").encode("latin-1", "replace")


class _Host:
    __slots__ = ("active", "key", "last_go", "not_before", "primed", "queue", "scheduled")

    def __init__(self, key: str) -> None:
        self.key = key
        self.queue: deque[InputItem] = deque()
        self.active = 0
        self.not_before = 0.0
        self.scheduled = False  # in the ready queue or the timer heap
        # per_host_rate at the wire (see _Engine._pace): set once the host's first request is answered
        self.primed: asyncio.Event | None = None
        self.last_go = 0.0


class _Engine:
    def __init__(self, client: AsyncClient, sink: Sink, options: BulkOptions, stats: ShardStats) -> None:
        self.client = client
        self.sink = sink
        self.o = options
        self.stats = stats
        self.retry = Retry(
            options.retries, backoff_factor=options.backoff, max_retry_after=options.max_retry_after,
            # A body cut short is as passing as a reset: worth another try (a malformed answer is not).
            retry_on_errors=(ConnectError, ConnectTimeout, ReadError, ReadTimeout, WriteError, IncompleteResponse),
        )
        self.interval = 1.0 / options.per_host_rate if options.per_host_rate else 0.0

    async def fetch_record(self, item: InputItem, host: _Host) -> None:
        started = time.monotonic()
        chain: list[_Exchange] = []
        attempts = 0
        error: _Failed | None = None
        url = item.url
        assert url is not None
        try:
            while True:
                exchange, used = await self.fetch_hop(url, host)
                attempts += used
                chain.append(exchange)
                r = exchange.response
                location = r.headers.get("location") if r.status in REDIRECTS else None
                if not location:
                    break
                if len(chain) > self.o.max_redirects:
                    raise _Failed(TooManyRedirects(f"more than {self.o.max_redirects} redirects, last to {location}"), 0)
                try:
                    target = URL(location, url)
                except ValueError:
                    break  # a Location that is not a URL: the redirect response is the result
                if target.scheme not in ("http", "https"):
                    break
                url = str(target.without_fragment())
        except _Failed as failed:
            attempts += failed.attempts
            error = failed
        self.sink.result(item, chain, error, attempts, time.monotonic() - started)

    async def fetch_hop(self, url: str, host: _Host) -> tuple[_Exchange, int]:
        """GET ``url`` (retrying as the policy says); the exchange and the attempts it took."""
        state = self.retry.start()
        attempts = 0
        while True:
            attempts += 1
            try:
                exchange = await self._paced_get(url, host) if self.interval else await self._get(url)
            except RequestError as exc:
                delay = state.next_delay(exc.request or self.client.build_request("GET", url), error=exc)
                if delay is None:
                    raise _Failed(exc, attempts) from exc
                await self._wait(host, delay, hold_host=False)
                continue
            except (ValueError, UnicodeError, LookupError) as exc:
                # Whatever else a hostile or broken server can provoke is this URL's failure
                # (recorded with its class), not the end of a million-URL run.
                raise _Failed(exc, attempts) from exc
            if exchange.response.status in self.retry.status_forcelist:
                request = exchange.response.request or self.client.build_request("GET", url)
                delay = state.next_delay(request, response=exchange.response)
                if delay is not None:
                    # A Retry-After speaks for the whole host: hold back its other requests too.
                    await self._wait(host, delay, hold_host="retry-after" in exchange.response.headers)
                    continue
            return exchange, attempts

    async def _paced_get(self, url: str, host: _Host) -> _Exchange:
        """:meth:`_get`, its start spaced by ``per_host_rate`` from the host's previous one.

        The scheduler spaces dispatches, but what the server sees is when requests leave: the
        host's first request waits inside the client for robots.txt, and a second one dispatched
        ``interval`` later would wait for the same fetch and leave with it (two requests 10 ms
        apart at "10/s", seen). So the first request to a host goes alone, the spacing counts
        from its answer (no earlier than it left), and each later start is booked ``interval``
        after the previous one.
        """
        if host.primed is None:
            host.primed = asyncio.Event()
            try:
                return await self._get(url)
            finally:
                host.last_go = time.monotonic()
                host.primed.set()
        await host.primed.wait()
        now = time.monotonic()
        go = max(now, host.last_go + self.interval)
        host.last_go = go
        if go > now:
            await asyncio.sleep(go - now)
        return await self._get(url)

    async def _wait(self, host: _Host, delay: float, *, hold_host: bool) -> None:
        now = time.monotonic()
        if hold_host:
            host.not_before = max(host.not_before, now + delay)
        until = max(now + delay, host.not_before)
        if self.interval:
            host.not_before = until + self.interval
        await asyncio.sleep(until - now)

    async def _get(self, url: str) -> _Exchange:
        # The client's own total deadline covers its I/O; this one also covers its waits (a
        # robots.txt Crawl-delay of a day must not hold a slot for a day).
        limit_time = asyncio.timeout(self.o.max_time)
        try:
            async with limit_time:
                return await self._get_within(url)
        except TimeoutError:
            if not limit_time.expired():
                raise  # the client's own timeout, already a netwire error
            raise TotalTimeout(
                f"{url} took more than {self.o.max_time:g} s in all (max_time), waits included"
            ) from None

    async def _get_within(self, url: str) -> _Exchange:
        date = warc_date()
        limit = self.o.max_body_size
        async with self.client.stream("GET", url, follow_redirects=False) as r:
            ip = _peer_ip(r)
            parts: list[bytes] = []
            size = 0
            truncated = False
            async for chunk in r.aiter_raw():
                parts.append(chunk)
                size += len(chunk)
                if size > limit:
                    truncated = True
                    break
        body = b"".join(parts)
        if truncated:
            body = body[:limit]
        return _Exchange(url, r, body, truncated, ip, date)


async def run_shard(
    items: Iterator[InputItem], sink: Sink, options: BulkOptions, stats: ShardStats,
    *, on_tick: Callable[[], None] | None = None, tick: float = 0.5,
) -> None:
    """Fetch every usable record of ``items``; write each outcome through ``sink``."""
    client_options: dict[str, Any] = {
        "timeout": Timeout(options.timeout, total=options.max_time),
        "user_agent": options.user_agent,
        "respect_robots": options.respect_robots,
        "decompress": False,  # bodies are archived as the server sent them
        "cookies": False,  # every URL fetched as a stranger: the same output in any order
        "follow_redirects": False,
        "limits": Limits(
            max_connections=options.concurrency,
            max_connections_per_host=options.per_host,
            max_idle_per_host=options.per_host,
        ),
    }
    client_options.update(options.client_options)
    async with AsyncClient(**client_options) as client:
        engine = _Engine(client, sink, options, stats)
        await _schedule(engine, items, options, stats, on_tick, tick)


async def _schedule(
    engine: _Engine, items: Iterator[InputItem], o: BulkOptions, stats: ShardStats,
    on_tick: Callable[[], None] | None, tick: float,
) -> None:
    """Start records as per-host and global limits allow.

    A started slot is a task that stays with its host: when its record is done and the host has
    more waiting (and no rate or Retry-After wait), it takes the next one at once. The host's
    connection is still warm, so a run over many hosts opens about ``per_host`` connections per
    host instead of one per URL (a round-robin over more hosts than the pool holds would evict
    and reopen a connection for nearly every request), and no task is made per URL.
    """
    loop = asyncio.get_running_loop()
    hosts: dict[str, _Host] = {}
    ready: deque[_Host] = deque()
    timers: list[tuple[float, int, _Host]] = []
    finished: list[_Host] = []
    wake = asyncio.Event()
    running: set[asyncio.Task[None]] = set()
    waiting = 0
    in_flight = 0
    exhausted = False
    serial = 0
    last_tick = 0.0
    refill = max(o.lookahead // 2, 1)

    failures: list[BaseException] = []

    def take(h: _Host, now: float) -> InputItem:
        nonlocal waiting
        item = h.queue.popleft()
        waiting -= 1
        if engine.interval:
            h.not_before = max(now, h.not_before) + engine.interval
        return item

    async def slot(item: InputItem, h: _Host) -> None:
        try:
            while True:
                await engine.fetch_record(item, h)
                if not h.queue or failures:
                    break
                now = time.monotonic()
                if h.not_before > now:
                    break  # a rate or Retry-After wait: the scheduler's timers take it from here
                item = take(h, now)
                if not exhausted and waiting < refill:
                    wake.set()  # let the scheduler read more input
        except Exception as exc:  # a bug, not a fetch failure (those are values): end the run loudly
            failures.append(exc)
        finally:
            finished.append(h)
            wake.set()

    def mark_ready(h: _Host) -> None:
        if not h.scheduled and h.queue and h.active < o.per_host:
            h.scheduled = True
            ready.append(h)

    try:
        while True:
            # Take input until enough is waiting (records of bad input are written at once).
            while not exhausted and waiting < o.lookahead:
                item = next(items, None)
                if item is None:
                    exhausted = True
                    break
                if item.url is None:
                    engine.sink.bad_input(item)
                    continue
                h = hosts.get(item.host)
                if h is None:
                    h = hosts[item.host] = _Host(item.host)
                h.queue.append(item)
                waiting += 1
                mark_ready(h)
            if failures:
                raise failures[0]
            # Slots ended: free them.
            while finished:
                h = finished.pop()
                h.active -= 1
                in_flight -= 1
                if not h.active:
                    stats.hosts_active -= 1
                if h.queue:
                    mark_ready(h)
                elif not h.active and not h.scheduled and h.not_before <= time.monotonic():
                    hosts.pop(h.key, None)  # nothing more to remember about it
            now = time.monotonic()
            while timers and timers[0][0] <= now:
                h = heapq.heappop(timers)[2]
                h.scheduled = False
                mark_ready(h)
            # Start what may start.
            while in_flight < o.concurrency and ready:
                h = ready.popleft()
                h.scheduled = False
                if not h.queue or h.active >= o.per_host:
                    continue
                if h.not_before > now:
                    h.scheduled = True
                    serial += 1
                    heapq.heappush(timers, (h.not_before, serial, h))
                    continue
                if not h.active:
                    stats.hosts_active += 1
                h.active += 1
                in_flight += 1
                task = loop.create_task(slot(take(h, now), h))
                running.add(task)
                task.add_done_callback(running.discard)
                mark_ready(h)
            if now - last_tick >= tick:
                last_tick = now
                # Forget idle hosts whose rate or Retry-After wait is over (the others are
                # dropped as their last request ends): memory follows the hosts in play.
                for key in [k for k, h in hosts.items() if not (h.active or h.queue or h.scheduled) and h.not_before <= now]:
                    del hosts[key]
                engine.sink.index.maybe_checkpoint()  # a quiet spell still makes the done work durable
                if on_tick is not None:
                    on_tick()
            if not in_flight and not waiting and exhausted:
                break
            if finished or (not exhausted and waiting < refill):
                continue
            wake.clear()
            delay = min(tick, max(timers[0][0] - now, 0.0)) if timers else tick
            handle = loop.call_later(delay, wake.set)
            try:
                await wake.wait()
            finally:
                handle.cancel()
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
