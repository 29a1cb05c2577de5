"""The index of a shard (JSON Lines, one line per input record) and crash recovery.

Invariant: **the index never claims a record that is not on disk.** A line names the WARC file,
offset and length of the records it describes (or the body file, with ``--format files``); it is
written only after those bytes were fsynced (:meth:`ShardIndex.checkpoint` syncs the WARC file first, then appends the buffered
lines and syncs the index). Records written after the last checkpoint are not claimed by anyone.

On resume, :func:`recover` keeps the longest prefix of whole, parseable index lines whose
records lie inside their files, cuts the index back to it, cuts every WARC file back to the end
of the last record claimed in it (a partial last record, or records never indexed, go), and
removes WARC files holding no claimed record. What the index lists is done; everything else is
fetched again.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .warc import WarcWriter, drop_cached

__all__ = ["DEFAULT_CHECKPOINT_INTERVAL", "DoneSet", "Recovered", "ShardIndex", "index_name", "iter_index", "iter_index_lines", "recover", "warc_prefix"]

#: Seconds between checkpoints (and at most this many buffered lines): the work a crash can lose.
DEFAULT_CHECKPOINT_INTERVAL = 1.0
CHECKPOINT_LINES = 1000
#: Lines buffered while a checkpoint's fsyncs are still running before the run waits for them
#: (a disk slower than the fetching: the memory the buffered lines take stays bounded).
MAX_PENDING_LINES = 20_000
# One encoder for every line: json.dumps with options builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_STRING = json.encoder.encode_basestring  # what _ENCODE writes for a str (the C function when there is one)


def encode_entry(entry: dict[str, Any]) -> str:
    """``entry`` as one JSON line's text, as :data:`_ENCODE` writes it. An index entry holds
    only names, strings, ints, None and finite floats: those are formatted here (the encoder
    object's set-up per call costs more than the entry); anything else goes to the encoder."""
    out = []
    for key, value in entry.items():
        kind = type(value)
        if kind is str:
            text = _STRING(value)
        elif kind is int:
            text = int.__repr__(value)
        elif value is None:
            text = "null"
        elif kind is float and value - value == 0.0:  # finite (json writes NaN and Infinity its way)
            text = float.__repr__(value)
        elif kind is bool:
            text = "true" if value else "false"
        else:
            return _ENCODE(entry)
        if type(key) is not str:
            return _ENCODE(entry)
        out.append(f"{_STRING(key)}:{text}")
    return "{" + ",".join(out) + "}"


def index_name(shard: int) -> str:
    return f"index-{shard:03d}.jsonl"


def warc_prefix(shard: int) -> str:
    return f"netwire-{shard:03d}"


class DoneSet:
    """The record numbers a shard has done, one bit each: a million records take 125 KB where a
    set of ints takes some 60 MB (what resuming a long run must hold in memory)."""

    __slots__ = ("_bits", "_count")

    def __init__(self, numbers: Iterable[int] = ()) -> None:
        self._bits = bytearray()
        self._count = 0
        for n in numbers:
            self.add(n)

    def add(self, n: int) -> None:
        """:raises ValueError: ``n`` is negative (no record has such a number)."""
        if n < 0:
            raise ValueError(f"record numbers are not negative: {n}")
        at = n >> 3
        if at >= len(self._bits):
            # Grow geometrically: the numbers of an index come in rising order.
            self._bits.extend(bytes(max(at + 1 - len(self._bits), len(self._bits))))
        mask = 1 << (n & 7)
        if not self._bits[at] & mask:
            self._bits[at] |= mask
            self._count += 1

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int) or n < 0:
            return False
        at = n >> 3
        return at < len(self._bits) and bool(self._bits[at] & (1 << (n & 7)))

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        for at, byte in enumerate(self._bits):
            if byte:
                base = at << 3
                yield from (base + bit for bit in range(8) if byte >> bit & 1)

    @property
    def nbytes(self) -> int:
        """Bytes of the bitmap."""
        return len(self._bits)


@dataclass
class Recovered:
    """What a previous run of this shard left: the record numbers done and where to go on."""

    done: DoneSet = field(default_factory=DoneSet)
    next_seq: int = 0
    entries: int = 0
    cut_bytes: int = 0  # WARC bytes removed (records not indexed, or cut off by the crash)


def iter_index(path: str) -> Iterator[dict[str, Any]]:
    """The entries of an index file (a torn last line is skipped)."""
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        yield from iter_index_lines(f)


def iter_index_lines(lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The entries of the lines of an index (up to a torn or damaged line)."""
    for line in lines:
        if not line.endswith(b"\n"):
            return
        try:
            entry = json.loads(line)
        except ValueError:
            return
        if isinstance(entry, dict):
            yield entry


def recover(directory: str, shard: int) -> Recovered:
    """Make the shard's files consistent after whatever stopped the last run (see the module doc)."""
    result = Recovered()
    index_path = os.path.join(directory, index_name(shard))
    prefix = warc_prefix(shard)
    pattern = re.compile(re.escape(prefix) + r"-(\d{5})\.warc\.gz$")
    warcs = {m.group(0): int(m.group(1)) for m in map(pattern.match, os.listdir(directory)) if m}
    sizes = {name: os.path.getsize(os.path.join(directory, name)) for name in warcs}
    ends: dict[str, int] = {}
    keep = 0  # bytes of the index that are kept
    try:
        with open(index_path, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break
                try:
                    entry = json.loads(line)
                    n = int(entry["n"])
                    if n < 0:
                        raise ValueError(n)
                except (ValueError, KeyError, TypeError):
                    break
                warc = entry.get("warc")
                if warc is not None:
                    end = int(entry["offset"]) + int(entry["record_length"])
                    if warc not in sizes or end > sizes[warc]:
                        break  # claims bytes that are not there: this line and what follows go
                    ends[warc] = max(ends.get(warc, 0), end)
                result.done.add(n)
                result.entries += 1
                keep += len(line)
    except FileNotFoundError:
        pass
    if os.path.exists(index_path) and os.path.getsize(index_path) != keep:
        with open(index_path, "r+b") as f:
            f.truncate(keep)
            os.fsync(f.fileno())
    for name in warcs:
        path = os.path.join(directory, name)
        claimed = ends.get(name)
        if claimed is None:
            result.cut_bytes += sizes[name]
            os.remove(path)
        elif sizes[name] > claimed:
            result.cut_bytes += sizes[name] - claimed
            with open(path, "r+b") as f:
                f.truncate(claimed)
                os.fsync(f.fileno())
    kept = [warcs[name] for name in ends]
    result.next_seq = max(kept) if kept else 0
    return result


class ShardIndex:
    """Buffers index lines and writes them at checkpoints, after the WARC bytes they claim.

    A checkpoint's fsyncs run in a thread of the index's own (``background=True``, the engine's
    way): an fsync of a second's worth of WARC bytes takes 15 to 200 ms on the benchmark's
    machine, during which an event loop calling it would start and read nothing. The order that
    makes a crash safe is the thread's: WARC fsync, body files' fsyncs, then the lines and the
    index's fsync. One checkpoint runs at a time; lines added meanwhile wait for the next (at
    most :data:`MAX_PENDING_LINES`: then the run waits for the disk, memory stays bounded).
    A failure of the thread (a full disk) is raised by the next call of the run's thread.
    """

    def __init__(
        self, directory: str, shard: int, writer: WarcWriter | None, *, interval: float = DEFAULT_CHECKPOINT_INTERVAL,
        background: bool = False,
    ) -> None:
        self.path = os.path.join(directory, index_name(shard))
        self.writer = writer
        #: Body files written since the last checkpoint (``--format files``), fsynced before the
        #: index lines that name them.
        self.unsynced_files: list[str] = []
        self.interval = interval
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._pending: list[bytes] = []
        self._last = time.monotonic()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="netwire-checkpoint") if background else None
        self._running: Future[None] | None = None

    def add(self, entry: dict[str, Any]) -> None:
        self._pending.append(encode_entry(entry).encode("utf-8") + b"\n")
        if len(self._pending) >= CHECKPOINT_LINES or time.monotonic() - self._last >= self.interval:
            self._start_checkpoint()

    def maybe_checkpoint(self) -> None:
        """Checkpoint when the interval has passed since the last one."""
        if self._running is not None and self._running.done():
            self._finish()
        if self._pending and time.monotonic() - self._last >= self.interval:
            self._start_checkpoint()

    def checkpoint(self) -> None:
        """Make the buffered lines durable, now: WARC fsync first, then the index lines and their
        fsync (after the checkpoint under way, if any)."""
        self._finish()
        self._last = time.monotonic()
        job = self._job()
        if job is not None:
            job()

    def _start_checkpoint(self) -> None:
        if self._pool is None:
            self.checkpoint()
            return
        if self._running is not None:
            if not self._running.done() and len(self._pending) < MAX_PENDING_LINES:
                return  # the disk is still busy with the last one: these lines go with the next
            self._finish()
        self._last = time.monotonic()
        job = self._job()
        if job is not None:
            self._running = self._pool.submit(job)

    def _finish(self) -> None:
        """Wait for the checkpoint under way; raise what it raised."""
        running, self._running = self._running, None
        if running is not None:
            running.result()

    def _job(self) -> Callable[[], None] | None:
        """The work of a checkpoint of what is buffered now (None: nothing is), taken out of the
        buffers at once: the WARC bytes written so far, the body files, the lines."""
        if not self._pending:
            return None
        warc = self.writer.sync_handle() if self.writer is not None else None
        files = self.unsynced_files
        self.unsynced_files = []
        data = b"".join(self._pending)
        self._pending.clear()
        fd = self._fd

        def run() -> None:
            if warc is not None:
                warc.run()
            for path in files:
                file_fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(file_fd)
                    drop_cached(file_fd)  # written once, not read again by the crawl (see drop_cached)
                finally:
                    os.close(file_fd)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)

        return run

    def close(self) -> None:
        try:
            self.checkpoint()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            os.close(self._fd)
