"""A bulk fetch run: the output folder, the shards (in this process or in worker processes),
progress, and the summary.

Layout of ``out/``::

    netwire-fetch.json          the run's fixed settings (shard count, output format)
    index-000.jsonl ...         one index per shard (see :mod:`.index`)
    netwire-000-00000.warc.gz   WARC files per shard, rotated by size
    files/ab/ab12...            bodies, with ``output_format="files"``
    summary.json                written at the end of each run

Running the same command again on the same ``out/`` resumes: each shard recovers its files, skips
the records its index lists, and fetches the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import IO, Any, TextIO

from ..errors import NetwireError
from .engine import ShardStats, Sink, run_shard
from .hosts import quick_hostname, shard_of
from .index import ShardIndex, index_name, iter_index, iter_index_lines, recover, warc_prefix
from .inputs import InputItem, read_items
from .options import BulkOptions, parse_rate
from .remote import Remote, is_url, staging_dir
from .warc import WarcWriter

__all__ = ["MANIFEST", "BulkError", "BulkSummary", "bulk", "summarize"]

MANIFEST = "netwire-fetch.json"
SPOOL = ".input-spool.txt"
HOME_CACHE = 100_000  # hosts whose shard is remembered while reading the input
LOCK_WAIT = 10.0  # seconds to wait for a shard lock a dying earlier run still holds


class BulkError(NetwireError):
    """A bulk fetch could not run: unreadable input, an output folder written with other
    settings, or an output folder another run is writing to."""


@dataclass
class BulkSummary:
    """What the output folder holds after a run (all runs so far), and how fast this run went."""

    out: str
    total: int = 0
    ok: int = 0
    bytes: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    fetched_now: int = 0
    elapsed: float = 0.0
    shards: int = 1
    cpu_seconds: float = 0.0
    """CPU time of this run's shards (their processes' start-up not counted): with
    :attr:`fetched_now`, the cost per URL of a worker, whatever the number of workers."""
    cpu_wait_seconds: float = 0.0
    """Time this run's shards were ready to run but waited for a CPU (Linux; 0 elsewhere).
    With :attr:`cpu_seconds` and :attr:`shard_seconds`: how CPU-bound the workers were."""
    shard_seconds: float = 0.0
    """Wall-clock time of this run's shards, added up."""

    @property
    def urls_per_second(self) -> float:
        return self.fetched_now / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["urls_per_second"] = round(self.urls_per_second, 2)
        d["elapsed"] = round(self.elapsed, 3)
        return d

    def table(self) -> str:
        """The summary as a small text table."""
        rows = [
            ("records", str(self.total)),
            ("2xx", str(self.ok)),
            *((f"status {k}", str(v)) for k, v in sorted(self.statuses.items())),
            *((f"error {k}", str(v)) for k, v in sorted(self.errors.items())),
            ("bytes", f"{self.bytes:,}"),
            ("this run", f"{self.fetched_now} in {self.elapsed:.1f} s ({self.urls_per_second:.1f} URLs/s)"),
            ("CPU", f"{self.cpu_seconds:.1f} s in the workers"
             + (f" ({self.cpu_seconds / self.fetched_now * 1000:.2f} ms per URL)" if self.fetched_now else "")),
            ("output", self.out),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def summarize(out: str, shards: int, remote: Remote | None = None) -> BulkSummary:
    """Count what the indexes of ``out`` (or of the ``remote`` output) list."""
    s = BulkSummary(out=out, shards=shards)
    for shard in range(shards):
        if remote is not None:
            entries = iter_index_lines(remote.open_lines(index_name(shard)))
        else:
            entries = iter_index(os.path.join(out, index_name(shard)))
        for entry in entries:
            s.total += 1
            error = entry.get("error")
            if error:
                s.errors[error] = s.errors.get(error, 0) + 1
                continue
            status = entry.get("status")
            if isinstance(status, int):
                key = f"{status // 100}xx"
                s.statuses[key] = s.statuses.get(key, 0) + 1
                if 200 <= status < 300:
                    s.ok += 1
            s.bytes += int(entry.get("length") or 0)
    return s


# -- the output folder ----------------------------------------------------------------------------


def _manifest(out: str, shards: int, output_format: str, remote: Remote | None = None) -> int:
    """Check (or write) the run's fixed settings; the shard count to use."""
    path = remote.path(MANIFEST) if remote is not None else os.path.join(out, MANIFEST)
    try:
        if remote is not None:
            text = remote.read_text(MANIFEST)
            saved = None if text is None else json.loads(text)
        else:
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
    except FileNotFoundError:
        saved = None
    except ValueError as exc:
        raise BulkError(f"{path} is damaged ({exc}); remove it only if {out} holds no earlier output") from None
    if saved is not None:
        if saved.get("shards") != shards or saved.get("output_format") != output_format:
            raise BulkError(
                f"{out} was written with --workers {saved.get('shards')} and --format {saved.get('output_format')}: "
                f"resume with the same settings, or use another output folder"
            )
        return shards
    if remote is not None:
        remote.write_bytes(MANIFEST, json.dumps(
            {"format": "netwire-fetch/1", "shards": shards, "output_format": output_format}).encode())
        return shards
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"format": "netwire-fetch/1", "shards": shards, "output_format": output_format}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return shards


@contextlib.contextmanager
def _shard_lock(out: str, shard: int) -> Iterator[None]:
    """Only one process writes a shard. The lock goes with its holder, however it dies."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        yield
        return
    fd = os.open(os.path.join(out, f".lock-{shard:03d}"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        end = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > end:
                    raise BulkError(f"another netwire fetch is writing to {out} (shard {shard})") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


# -- one shard ------------------------------------------------------------------------------------


def _items_of_shard(
    source: str | Iterable[str], url_column: str | None, input_format: str | None, shard: int, shards: int,
    done: Container[int],
) -> Iterator[InputItem]:
    homes: dict[str, int] = {}  # host -> shard: a URL list names the same hosts again and again

    def home_of(host: str) -> int:
        home = homes.get(host, -1)
        if home < 0:
            if len(homes) >= HOME_CACHE:
                homes.clear()
            home = homes[host] = shard_of(host, shards)
        return home

    def keep(n: int, text: str) -> bool:
        # Decided before the URL is parsed where its host can be read off the text: a worker
        # parses only its own share of the input (each of N workers reads all of it).
        if n in done:
            return False
        if shards == 1:
            return True
        host = quick_hostname(text)
        return host is None or home_of(host) == shard

    for item in read_items(source, url_column=url_column, fmt=input_format, keep=keep):
        if item.n in done:
            continue
        home = item.n % shards if item.url is None else home_of(item.host)
        if home == shard:
            yield item


def _run_one_shard(
    shard: int, shards: int, source: str | Iterable[str], url_column: str | None, input_format: str | None,
    out: str, options: BulkOptions, report: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    remote = Remote(out) if is_url(out) else None
    directory = staging_dir(out, options.staging_dir) if remote is not None else out
    os.makedirs(directory, exist_ok=True)
    with _shard_lock(directory, shard):
        cpu_started = time.process_time()
        wall_started = time.monotonic()
        wait_started = _cpu_wait()
        if remote is not None:
            _pull_shard(remote, directory, shard)
        found = recover(directory, shard)
        if remote is not None:
            # WARC files the recovery dropped (records never indexed) go from the store too.
            local = set(os.listdir(directory))
            remote.remove([n for n in remote.names(f"{warc_prefix(shard)}-*.warc.gz") if n not in local])
        sent: set[str] = set()

        def send_closed(name: str) -> None:
            if remote is not None:
                remote.put(directory, [name])
                sent.add(name)

        writer = None
        if options.output_format == "warc":
            writer = WarcWriter(directory, warc_prefix(shard), max_size=options.warc_max_size, seq=found.next_seq,
                                on_rotate=send_closed if remote is not None else None, level=options.gzip_level)
        index = ShardIndex(directory, shard, writer, interval=options.checkpoint_interval, background=True)
        stats = ShardStats(skipped=len(found.done))
        spool_path = os.path.join(directory, f".to-send-{shard:03d}.txt")
        spool = open(spool_path, "a", encoding="utf-8") if remote is not None else None  # noqa: SIM115
        sink = Sink(directory, index, writer, stats, on_new_file=spool.write if spool is not None else None)
        items = _items_of_shard(source, url_column, input_format, shard, shards, found.done)
        on_tick = (lambda: report(stats.as_dict())) if report is not None else None
        try:
            _run_loop(run_shard(items, sink, options, stats, on_tick=on_tick))
        finally:
            index.close()
            if writer is not None:
                writer.close()
            if spool is not None:
                spool.close()
        if remote is not None:
            # Bodies and WARC files first, the index that names them last.
            with open(spool_path, encoding="utf-8") as f:
                remote.put(directory, (line.rstrip("\n") for line in f if line.strip()))
            if writer is not None:
                remote.put(directory, sorted(writer.written - sent))
            remote.put(directory, [index_name(shard)])
            os.truncate(spool_path, 0)
        stats.cpu = time.process_time() - cpu_started
        stats.wall = time.monotonic() - wall_started
        stats.cpu_wait = _cpu_wait() - wait_started
        return stats.as_dict()


def _cpu_wait() -> float:
    """Seconds this thread has waited, ready to run, for a CPU (the second figure of Linux's
    ``/proc/thread-self/schedstat``, in ns; 0.0 where there is none). A worker that is not
    fetching faster although its CPU time is well under its wall time was either waiting for
    the network or for a CPU: this tells which."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _pull_shard(remote: Remote, directory: str, shard: int) -> None:
    """A shard resumed where its staging folder is missing: fetch its index and WARC files."""
    name = index_name(shard)
    if os.path.exists(os.path.join(directory, name)) or remote.read_text(MANIFEST) is None:
        return
    names = remote.names(name) + remote.names(f"{warc_prefix(shard)}-*.warc.gz")
    remote.pull(directory, names)


def _run_loop(coro: Any) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


def _worker_main(
    shard: int, shards: int, source: str, url_column: str | None, input_format: str | None, out: str,
    options: BulkOptions, messages: Any, parent: int,
) -> None:
    """A worker process: one shard. It exits when its parent dies (so a killed run leaves no
    orphan writing on), and reports progress and its end through ``messages``."""

    def watch_parent() -> None:
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        last = _run_one_shard(
            shard, shards, source, url_column, input_format, out, options,
            lambda stats: messages.put(("stats", shard, stats)),
        )
    except BaseException as exc:
        messages.put(("error", shard, f"{type(exc).__name__}: {exc}"))
        raise SystemExit(1) from None
    messages.put(("done", shard, last))


# -- progress -------------------------------------------------------------------------------------


class _Progress:
    """done/total, URLs/s, MB/s, errors by class, hosts active, ETA: one line on a terminal."""

    def __init__(self, total: int | None, stream: TextIO, enabled: bool) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled and bool(getattr(stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.shards: dict[int, dict[str, Any]] = {}
        self._drawn = False

    def update(self, shard: int, stats: dict[str, Any]) -> None:
        self.shards[shard] = stats
        if self.enabled:
            self.stream.write("\r\x1b[K" + self.line())
            self.stream.flush()
            self._drawn = True

    def line(self) -> str:
        done = sum(s["done"] for s in self.shards.values())
        skipped = sum(s["skipped"] for s in self.shards.values())
        size = sum(s["bytes"] for s in self.shards.values())
        hosts = sum(s["hosts_active"] for s in self.shards.values())
        errors: dict[str, int] = {}
        for s in self.shards.values():
            for k, v in s["errors"].items():
                errors[k] = errors.get(k, 0) + v
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        text = f"{done + skipped}" + (f"/{self.total}" if self.total else "")
        text += f"  {rate:.1f} URLs/s  {size / elapsed / 1e6:.2f} MB/s  {hosts} hosts"
        if errors:
            text += "  errors " + " ".join(f"{k}={v}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1])[:3])
        if self.total and rate > 0:
            left = max(self.total - done - skipped, 0) / rate
            text += f"  ETA {int(left // 60)}:{int(left % 60):02d}"
        return text

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def _count(source: str, url_column: str | None, input_format: str | None) -> int | None:
    if source == "-":
        return None
    return sum(1 for _ in read_items(source, url_column=url_column, fmt=input_format))


# -- the run --------------------------------------------------------------------------------------


def bulk(
    urls: str | os.PathLike[str] | Iterable[str],
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    engine: str = "local",
    ray_address: str | None = None,
    url_column: str | None = None,
    input_format: str | None = None,
    progress: bool = False,
    progress_stream: TextIO | None = None,
    stats_json: str | os.PathLike[str] | None = None,
    options: BulkOptions | None = None,
    **settings: Any,
) -> BulkSummary:
    """Fetch every URL of ``urls`` into ``out`` (WARC files and an index), politely, resumably.

    :param urls: a file (text, CSV, JSON Lines; ``.gz`` too), ``"-"`` for stdin, or an iterable
        of URL strings.
    :param out: the output folder (made if missing), or an fsspec URL (``s3://bucket/crawl/``;
        needs fsspec: shards are written in a local staging folder and sent there, see
        :mod:`.remote`). Run again with the same arguments to resume.
    :param workers: processes, each one shard of the hosts (hash of the registrable domain).
        An output folder keeps the number it was started with.
    :param engine: "local" (worker processes on this machine) or "ray" (one Ray task per shard,
        on the cluster at ``ray_address``; ``out`` and a file ``urls`` must be paths every node sees).
    :param url_column: the CSV column / JSON field holding the URL (default ``url``).
    :param input_format: "text", "csv" or "jsonl" (default: from the file name).
    :param progress: draw a progress line on ``progress_stream`` (stderr) when it is a terminal.
    :param stats_json: also write the summary as JSON to this file.
    :param settings: :class:`BulkOptions` fields (``user_agent``, ``per_host``,
        ``per_host_rate`` (``"1/s"``), ``concurrency``, ``retries``, ``max_body_size``...).
    :raises BulkError: unreadable input, or ``out`` written with other settings or in use.
    """
    opts = options if options is not None else BulkOptions()
    for name, value in settings.items():
        if not hasattr(opts, name):
            raise TypeError(f"bulk() got an unexpected option {name!r}")
        setattr(opts, name, parse_rate(value) if name == "per_host_rate" else value)
    opts.check()
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be 'local' or 'ray', not {engine!r}")
    out_dir = os.fspath(out)
    remote: Remote | None = None
    if is_url(out_dir):
        try:
            remote = Remote(out_dir)
        except ImportError as exc:
            raise BulkError(str(exc)) from None
    else:
        os.makedirs(out_dir, exist_ok=True)
    source: str | Iterable[str] = os.fspath(urls) if isinstance(urls, str | os.PathLike) else urls
    if isinstance(source, str) and source != "-":
        try:
            next(read_items(source, url_column=url_column, fmt=input_format), None)
        except (OSError, ValueError, UnicodeError) as exc:
            raise BulkError(f"cannot read {source}: {exc}") from None
    shards = _manifest(out_dir, workers, opts.output_format, remote)
    # stdin or an iterable is spooled to a file the workers read: locally, for an output URL.
    spool_dir = staging_dir(out_dir, opts.staging_dir) if remote is not None else out_dir
    os.makedirs(spool_dir, exist_ok=True)
    stream = progress_stream if progress_stream is not None else sys.stderr
    total = _count(source, url_column, input_format) if progress and isinstance(source, str) else None
    bar = _Progress(total, stream, progress)
    started = time.monotonic()
    fetched = 0
    try:
        if engine == "ray":
            from .ray_engine import run_on_ray

            path = source if isinstance(source, str) and source != "-" else _spool(source, spool_dir)
            fmt = input_format if path is source else "text"
            fetched = run_on_ray(path, url_column, fmt, out_dir, opts, shards, address=ray_address,
                                 on_done=bar.update)
        elif shards == 1:
            last = _run_one_shard(
                0, 1, source, url_column, input_format, out_dir, opts, lambda s: bar.update(0, s)
            )
            bar.update(0, last)
            fetched = int(last["done"])
        else:
            fetched = _run_workers(source, url_column, input_format, out_dir, opts, shards, bar, spool_dir)
    finally:
        bar.close()
    summary = summarize(out_dir, shards, remote)
    summary.fetched_now = fetched
    summary.cpu_seconds = round(sum(float(s.get("cpu", 0.0)) for s in bar.shards.values()), 3)
    summary.cpu_wait_seconds = round(sum(float(s.get("cpu_wait", 0.0)) for s in bar.shards.values()), 3)
    summary.shard_seconds = round(sum(float(s.get("wall", 0.0)) for s in bar.shards.values()), 3)
    summary.elapsed = time.monotonic() - started
    data = json.dumps(summary.as_dict(), indent=2, sort_keys=True)
    if remote is not None:
        remote.write_bytes("summary.json", data.encode() + b"\n")
    else:
        _write_atomic(os.path.join(out_dir, "summary.json"), data)
    if stats_json is not None:
        _write_atomic(os.fspath(stats_json), data)
    return summary


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    os.replace(tmp, path)


def _spool(source: str | Iterable[str], out: str) -> str:
    """Workers each read the whole input: stdin or an iterable is written to a file first."""
    path = os.path.join(out, SPOOL)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        if isinstance(source, str):  # "-"
            stdin: IO[str] = sys.stdin
            for line in stdin:
                f.write(line)
        else:
            for url in source:
                f.write(url.replace("\n", " ").replace("\r", " ") + "\n")
    os.replace(tmp, path)
    return path


def _start_method() -> str:
    """How worker processes start: forked where that is safe (POSIX, and this process runs no
    other thread, so no lock can be held across the fork), else spawned. A spawned worker starts
    a new interpreter and imports netwire (about 0.2 s of CPU on the bench machine: 20 us per URL
    of a 10,000-URL run, per worker); a forked one has both already."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _run_workers(
    source: str | Iterable[str], url_column: str | None, input_format: str | None, out: str,
    opts: BulkOptions, shards: int, bar: _Progress, spool_dir: str,
) -> int:
    path = source if isinstance(source, str) and source != "-" else _spool(source, spool_dir)
    fmt = input_format if path is source else "text"
    ctx = multiprocessing.get_context("fork") if _start_method() == "fork" else multiprocessing.get_context("spawn")
    messages: Any = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(shard, shards, path, url_column, fmt, out, opts, messages, os.getpid()),
            name=f"netwire-fetch-{shard}",
            daemon=True,
        )
        for shard in range(shards)
    ]
    for p in procs:
        p.start()
    results: dict[int, dict[str, Any]] = {}
    failures: list[str] = []
    try:
        while len(results) + len(failures) < shards:
            try:
                kind, shard, payload = messages.get(timeout=0.2)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead and all(p.exitcode is not None for p in procs):
                    break
                continue
            if kind == "stats":
                bar.update(shard, payload)
            elif kind == "done":
                results[shard] = payload
                bar.update(shard, payload)
            else:
                failures.append(f"shard {shard}: {payload}")
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join()
    crashed = [p for p in procs if p.exitcode not in (0, None)]
    if failures or crashed:
        detail = "; ".join(failures) or ", ".join(f"{p.name} exited with {p.exitcode}" for p in crashed)
        raise BulkError(f"a worker failed: {detail} (run the same command again to resume)")
    return sum(int(r["done"]) for r in results.values())
