"""HTTP caching (RFC 9111) for :class:`~netwire.Client` and :class:`~netwire.aio.AsyncClient`.

Two halves:

* the **rules**, pure functions of (request, stored entries, response, clock) with no I/O:
  which stored response answers a request (the primary key and ``Vary``), whether it is fresh
  (``Cache-Control``, ``Expires``/``Date``, the heuristic), which validators to send, how a 304
  updates a stored response (RFC 9111 4.3.4), what may be stored, what an unsafe method
  invalidates (4.4). :mod:`netwire.flow` consults them inside the one send loop;
* the **stores**: the small :class:`Cache` protocol and two stores, :class:`MemoryCache` (LRU,
  bounded) and :class:`SqliteCache` (an embedded sqlite3 file, WAL mode, safe across threads and
  processes). A store keeps :class:`CacheEntry` objects and knows nothing of HTTP.

netwire's cache is a *private* cache (a browser's, not a proxy's): ``private`` responses are
stored, ``s-maxage`` is ignored for freshness (it still makes an Authorization response
storable, as RFC 9111 3.5 says).

May import: ``errors``, ``models``, ``url`` (and the standard library); nothing higher.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import mktime_tz, parsedate_tz
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from . import models as _models  # (at import: a function-level import costs microseconds per call)

if TYPE_CHECKING:
    import sqlite3

    from .models import Headers, Request, Response

__all__ = [
    "DEFAULT_MAX_ENTRY_SIZE",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_SQLITE_MAX_SIZE",
    "HEURISTIC_FRACTION",
    "MAX_HEURISTIC_LIFETIME",
    "PARSED_MEMO_SIZE",
    "PEEK_MAX_BODY",
    "REFRESH_BATCH",
    "REFRESH_DELAY",
    "Cache",
    "CacheEntry",
    "MemoryCache",
    "SqliteCache",
    "cache_from",
]

#: A response body bigger than this is not stored (it is still delivered, just not kept).
DEFAULT_MAX_ENTRY_SIZE = 10 * 1024 * 1024
#: All entries of a :class:`MemoryCache` together (least recently used ones go first).
DEFAULT_MAX_SIZE = 64 * 1024 * 1024
#: All entries of a :class:`SqliteCache` together (the oldest stored go first).
DEFAULT_SQLITE_MAX_SIZE = 512 * 1024 * 1024
#: Heuristic freshness: this fraction of (Date - Last-Modified) (RFC 9111 4.2.2's 10%) ...
HEURISTIC_FRACTION = 0.1
#: ... and never more than this many seconds (one day).
MAX_HEURISTIC_LIFETIME = 24 * 3600.0

#: Status codes cacheable by heuristic (RFC 9110 15.1).
HEURISTIC_STATUSES = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
#: Methods whose responses are looked up (HEAD is answered from a stored GET response).
LOOKUP_METHODS = frozenset({"GET", "HEAD"})
#: Methods that do not invalidate (RFC 9110 9.2.1's safe methods).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Header fields never stored (hop-by-hop, RFC 9111 3.1) and never taken from a 304 (Content-Length).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "trailer"}
)
_NOT_UPDATED = _HOP_BY_HOP | {"content-length", "content-encoding", "content-range"}
#: A request carrying any of these is sent as it is: its answer is not the stored one's to give.
_BYPASS_HEADERS = frozenset(
    {"range", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range"}
)


_PLAN_HEADERS = _BYPASS_HEADERS | {"cache-control", "pragma"}


# -- what is stored --------------------------------------------------------------------------------


@dataclass(slots=True)  # (no __dict__: a revalidation makes one per request)
class CacheEntry:
    """One stored response: what a :class:`Cache` keeps under a key (one entry per ``Vary`` variant).

    ``headers`` as received (hop-by-hop fields removed), ``body`` as received (still content-coded:
    a hit decodes it again, as the network response was); ``request_time``/``response_time`` are
    wall-clock seconds (``time.time()``) around the exchange, for the age calculation of RFC 9111
    4.2.3; ``vary`` holds the request's values of the fields the response's ``Vary`` names
    (lower-cased names), the secondary key.
    """

    url: str
    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes
    request_time: float
    response_time: float
    vary: dict[str, str] = field(default_factory=dict)
    #: Marked stale whatever its age: revalidated before it is used again (a HEAD response
    #: disagreed with it, RFC 9111 4.3.5; or it was served once under ``stale-while-revalidate``).
    stale: bool = False
    # What the rules derive from the fields, worked out once per entry (a hit then costs a few
    # dict lookups, not a Cache-Control parse and three date parses): see :meth:`facts`.
    _facts: _Facts | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def facts(self) -> _Facts:
        """The entry's parsed Cache-Control, lifetime, initial age and the like (computed once)."""
        facts = self._facts
        if facts is None:
            facts = self._facts = _Facts(self)
        return facts

    @property
    def variant(self) -> str:
        """The secondary key: entries of one URL with equal ``variant`` replace each other."""
        if not self.vary:
            return ""
        return json.dumps(sorted(self.vary.items()), separators=(",", ":"))

    @property
    def size(self) -> int:
        """Roughly the bytes it takes: body plus header text."""
        return self.facts.size

    def field(self, name: str) -> str | None:
        """A header's value (several lines joined by ", "), or None."""
        name = name.lower()
        values = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(values) if values else None

    def meta(self) -> str:
        """Everything but the body, as JSON (how :class:`SqliteCache` stores it; a plug-in store may too)."""
        return json.dumps(
            {
                "url": self.url,
                "status": self.status,
                "reason": self.reason,
                "http_version": self.http_version,
                "headers": self.headers,
                "request_time": self.request_time,
                "response_time": self.response_time,
                "vary": self.vary,
                "stale": self.stale,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_meta(cls, meta: str, body: bytes) -> CacheEntry:
        """The inverse of :meth:`meta`."""
        d = json.loads(meta)
        return cls(
            url=str(d["url"]),
            status=int(d["status"]),
            reason=str(d["reason"]),
            http_version=str(d["http_version"]),
            headers=[(str(k), str(v)) for k, v in d["headers"]],
            body=bytes(body),
            request_time=float(d["request_time"]),
            response_time=float(d["response_time"]),
            vary={str(k): str(v) for k, v in d["vary"].items()},
            stale=bool(d.get("stale", False)),
        )


class _Facts:
    """What the rules need of an entry, from its fields: computed once (entries are not changed in
    place: a 304 makes a new one with :func:`refresh`)."""

    __slots__ = (
        "age_value", "cc", "content_length", "date", "encoding", "etag", "expires", "initial_age", "last_modified",
        "lifetime", "served", "size", "until", "vary_names",
    )

    def __init__(self, entry: CacheEntry) -> None:
        # One pass over the fields (repeated ones joined by ", ", as RFC 9110 5.3 lets every field
        # used here be), then dict lookups: a 304 makes a new entry, so this runs once per
        # revalidation and once per sqlite lookup.
        fields: dict[str, str] = {}
        served = []
        size = len(entry.body) + len(entry.url)
        for k, v in entry.headers:
            name = k.lower()
            size += len(k) + len(v) + 4
            if name in fields:
                fields[name] += ", " + v
            else:
                fields[name] = v
            if name != "age":
                served.append((k, v))
        get = fields.get
        self.size = size
        self.served = served
        cc = get("cache-control")
        # Shared between entries with the same field (every page of a site): read-only.
        self.cc = _directives((cc,)) if cc else _NO_DIRECTIVES
        self.content_length = get("content-length")
        date = get("date")
        self.date = _parse_date(date) if date else None
        self.etag = get("etag")
        self.encoding = get("content-encoding")
        self.last_modified = get("last-modified")
        self.expires = get("expires")
        vary = get("vary")
        self.vary_names = [n for v in vary.split(",") if (n := v.strip().lower())] if vary else []
        age = get("age")
        self.age_value = (_seconds(age.split(",")[0].strip()) or 0) if age else 0
        self._timed(entry)

    def refreshed(self, entry: CacheEntry, fields: dict[str, str], served: list[tuple[str, str]]) -> _Facts:
        """The facts of ``entry``, a :func:`refresh` of this one's entry by the (single) header
        ``fields`` (lower-cased names) of a 304, none of them Vary or Age; ``served``: its fields
        but Age. Only what those fields and the new times change is worked out again."""
        facts = _Facts.__new__(_Facts)
        facts.served = served
        facts.size = len(entry.body) + len(entry.url) + sum([len(k) + len(v) + 4 for k, v in entry.headers])
        facts.content_length = self.content_length
        facts.encoding = self.encoding
        facts.vary_names = self.vary_names
        facts.age_value = self.age_value
        get = fields.get
        cc = get("cache-control")
        facts.cc = self.cc if cc is None else _directives((cc,)) if cc else _NO_DIRECTIVES
        date = get("date")
        facts.date = self.date if date is None else _parse_date(date) if date else None
        facts.etag = get("etag", self.etag)
        facts.last_modified = get("last-modified", self.last_modified)
        facts.expires = get("expires", self.expires)
        facts._timed(entry)
        return facts

    def _timed(self, entry: CacheEntry) -> None:
        """The lifetime, initial age and freshness limit, from the fields' facts and the entry's times."""
        self.lifetime = _lifetime(entry, self)
        # RFC 9111 4.2.3's corrected_initial_age: the age when the response arrived.
        response_time = entry.response_time
        apparent = max(0.0, response_time - self.date) if self.date is not None else 0.0
        self.initial_age = initial_age = max(apparent, self.age_value + max(0.0, response_time - entry.request_time))
        # The wall-clock time until which the entry is fresh (RFC 9111 4.2: lifetime > current
        # age; see current_age) and usable by a request with no Cache-Control of its own: the
        # revisit's test is then one comparison. Never, when the response says no-cache.
        if "no-cache" in self.cc or self.lifetime <= initial_age:
            self.until = -1.0
        else:
            self.until = response_time + self.lifetime - initial_age


# -- the stores ------------------------------------------------------------------------------------


@runtime_checkable
class Cache(Protocol):
    """What a client's ``cache=`` store does. Keys are URLs without their fragment.

    ``blocking``: whether the calls may wait (disk, network): the :class:`~netwire.aio.AsyncClient`
    then runs them on a worker thread of its own (one, so they stay in order) instead of on
    the event loop. ``max_entry_size``: bodies bigger than this are not offered to ``put``.
    Methods may be called from several threads at once.

    Two optional methods make a store faster, and are used when present: ``update(key, entry)``
    stores an entry whose body is the one already stored for its variant (a 304 or a HEAD
    refreshed its header fields and times): a store may then leave the body where it is;
    ``peek(key)`` is a ``get`` that never waits (it answers None when it would: a lock held by
    another writer, a body too big to read in passing), which the clients call inline, on the
    event loop too, before falling back to ``get`` (see :func:`lookup_now`).
    """

    blocking: bool
    max_entry_size: int

    def get(self, key: str) -> list[CacheEntry]:
        """The entries stored under ``key`` (its ``Vary`` variants), any order; [] when none."""
        ...

    def put(self, key: str, entry: CacheEntry) -> None:
        """Store ``entry``, replacing the one under ``key`` with the same ``entry.variant``."""
        ...

    def delete(self, key: str) -> None:
        """Forget every entry under ``key``."""
        ...

    def close(self) -> None:
        """Release what the store holds open (called by the client's close)."""
        ...


def _check_sizes(max_entry_size: int, max_size: int) -> None:
    if max_entry_size < 0 or max_size < 0:
        raise ValueError(f"cache sizes must be >= 0, not max_entry_size={max_entry_size}, max_size={max_size}")


class MemoryCache:
    """An in-memory store: least recently used entries go first once ``max_size`` bytes are held."""

    blocking = False

    def __init__(self, *, max_size: int = DEFAULT_MAX_SIZE, max_entry_size: int = DEFAULT_MAX_ENTRY_SIZE) -> None:
        _check_sizes(max_entry_size, max_size)
        self.max_size = max_size
        self.max_entry_size = min(max_entry_size, max_size)
        self._entries: OrderedDict[str, dict[str, CacheEntry]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Bytes held now."""
        return self._size

    def __len__(self) -> int:
        return sum(len(v) for v in self._entries.values())

    def get(self, key: str) -> list[CacheEntry]:
        with self._lock:
            variants = self._entries.get(key)
            if variants is None:
                return []
            self._entries.move_to_end(key)
            return list(variants.values())

    def put(self, key: str, entry: CacheEntry) -> None:
        size = entry.size
        if size > self.max_entry_size:
            return
        with self._lock:
            variants = self._entries.setdefault(key, {})
            old = variants.pop(entry.variant, None)
            if old is not None:
                self._size -= old.size
            variants[entry.variant] = entry
            self._size += size
            self._entries.move_to_end(key)
            while self._size > self.max_size and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._size -= sum(e.size for e in dropped.values())

    def update(self, key: str, entry: CacheEntry) -> None:
        """As :meth:`put` (an entry in memory is a reference: nothing to spare)."""
        self.put(key, entry)

    def delete(self, key: str) -> None:
        with self._lock:
            dropped = self._entries.pop(key, None)
            if dropped:
                self._size -= sum(e.size for e in dropped.values())

    def close(self) -> None:
        """Nothing to release (the entries stay until the object goes)."""


#: Connections a :class:`SqliteCache` keeps open between calls (more are opened while busy).
_MAX_IDLE_CONNECTIONS = 8
#: The biggest body :meth:`SqliteCache.peek` reads in passing (on the event loop, in
#: :class:`~netwire.aio.AsyncClient`); an entry with a bigger one is read by ``get``, off the loop.
PEEK_MAX_BODY = 128 * 1024
#: The file's layout (``PRAGMA user_version``): a file of an older layout is emptied and laid out
#: anew when opened (it is only a cache); one of a newer layout is refused.
_LAYOUT = 3

# One row per stored response, its header fields as text ("Name:value" lines: a parsed response's
# names have no ":" and its values no CR or LF) and its body in a table of its own: a 304 then
# rewrites a few hundred bytes of fields, never the body's pages. ``total.generation`` changes
# with every row written or removed (the triggers, whoever writes: this process, another, the
# sqlite3 shell): a store's memo of rows read is good as long as the generation it was read at
# is the file's (see :class:`_Memo`).
_SCHEMA = """
CREATE TABLE responses (
    key TEXT NOT NULL, variant TEXT NOT NULL, stored REAL NOT NULL, size INTEGER NOT NULL,
    url TEXT NOT NULL, status INTEGER NOT NULL, reason TEXT NOT NULL, version TEXT NOT NULL,
    headers TEXT NOT NULL, request_time REAL NOT NULL, response_time REAL NOT NULL,
    stale INTEGER NOT NULL, body INTEGER NOT NULL, PRIMARY KEY (key, variant));
CREATE INDEX responses_stored ON responses (stored);
CREATE TABLE bodies (id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL);
CREATE TABLE total (id INTEGER PRIMARY KEY CHECK (id = 0), bytes INTEGER NOT NULL, generation INTEGER NOT NULL);
INSERT INTO total VALUES (0, 0, 0);
CREATE TRIGGER responses_in AFTER INSERT ON responses
    BEGIN UPDATE total SET bytes = bytes + new.size, generation = generation + 1 WHERE id = 0; END;
CREATE TRIGGER responses_out AFTER DELETE ON responses
    BEGIN UPDATE total SET bytes = bytes - old.size, generation = generation + 1 WHERE id = 0; DELETE FROM bodies WHERE id = old.body; END;
CREATE TRIGGER responses_changed AFTER UPDATE ON responses
    BEGIN UPDATE total SET bytes = bytes + new.size - old.size, generation = generation + 1 WHERE id = 0; END;
"""
_COLUMNS = "r.url, r.status, r.reason, r.version, r.headers, r.request_time, r.response_time, r.variant, r.stale"
# The rows of a key with the file's generation, in one statement (one read transaction: they agree).
_GENERATION = "(SELECT generation FROM total WHERE id = 0)"
_SELECT = f"SELECT {_COLUMNS}, b.data, {_GENERATION} FROM responses r JOIN bodies b ON b.id = r.body WHERE r.key = ?"
# The body only when small (SQLite reads a column's pages only when the expression needs them).
_PEEK = (
    f"SELECT {_COLUMNS}, CASE WHEN r.size <= ? THEN b.data END, {_GENERATION}"
    " FROM responses r JOIN bodies b ON b.id = r.body WHERE r.key = ?"
)
_READ_GENERATION = "SELECT generation FROM total WHERE id = 0"
_UPDATE = (
    "UPDATE responses SET headers = ?, request_time = ?, response_time = ?, stale = ?, size = ?"
    " WHERE key = ? AND variant = ?"
)
#: A guarded refresh: only over the row it refreshes (another process may have replaced it since).
_UPDATE_IF = _UPDATE + " AND response_time = ?"
#: 304 refreshes (header fields and times, RFC 9111 4.3.4) a :class:`SqliteCache` holds back to
#: write together, in one transaction (``SqliteCache(refresh_batch=...)``; 1: each at once). A
#: transaction costs more than the 304's own round trip; held back, the refresh is seen at once
#: by this store (and its client), by other processes once written: after this many, or
#: :data:`REFRESH_DELAY` seconds after the first held (checked at the store's next write), or
#: at ``close``. A crash loses only refreshes (those pages are revalidated again), never an entry.
REFRESH_BATCH = 64
#: See :data:`REFRESH_BATCH`.
REFRESH_DELAY = 1.0
#: Bytes of rows (header fields and bodies) a :class:`SqliteCache` keeps in memory once read or
#: written, least recently used going first (``SqliteCache(memo_size=...)``; 0: none). A lookup
#: then costs one read of the file's generation (a one-row table) instead of the row and its body;
#: any write to the file (another process's too) changes the generation, and the memo is read
#: again from the file.
PARSED_MEMO_SIZE = 64 * 1024 * 1024


def _join_fields(headers: list[tuple[str, str]]) -> str:
    return "\r\n".join([f"{k}:{v}" for k, v in headers])


def _split_fields(text: str) -> list[tuple[str, str]]:
    if not text:
        return []
    return [(k, v) for k, _, v in (line.partition(":") for line in text.split("\r\n"))]


def _row_entry(row: tuple[Any, ...], body: bytes) -> CacheEntry:
    url, status, reason, version, headers, request_time, response_time, variant, stale = row[:9]
    return CacheEntry(
        url, status, reason, version, _split_fields(headers), body, request_time, response_time,
        dict(json.loads(variant)) if variant else {}, bool(stale),
    )


_Change = Callable[[list["CacheEntry"] | None], list["CacheEntry"] | None]


def _replacing(entry: CacheEntry) -> _Change:
    """The memo change of a refresh of ``entry``'s variant: the stored one replaced, when known."""
    variant = entry.variant

    def change(entries: list[CacheEntry] | None) -> list[CacheEntry] | None:
        if entries is None:
            return None
        return [entry if e.variant == variant else e for e in entries]

    return change


class _Memo:
    """The rows of a :class:`SqliteCache`, parsed, as of one generation of the file: key -> its
    entries (bodies included). Good while the file's generation is ``generation``: a lookup reads
    the generation (one tiny SELECT) and, when it is unchanged, answers from here; when it moved
    (anyone wrote), the memo is emptied and rows are read again.

    The store's own writes keep it: a write transaction reads the generation when it starts and
    before it commits; when the memo was at the first, the write's changes are applied to it and
    it moves to the second (a write that evicted rows empties it). Rows read are added only when
    read at the memo's generation. So what it holds is always what the file held at
    ``generation``. Bounded by ``limit`` bytes (entry sizes), least recently used first out.

    While writes of ours are under way (``writing``), a generation that moved may be theirs: a
    lookup then reads the file without emptying the memo (the writes, once done, move it on),
    so a lookup racing the async client's cache thread does not throw the memo away.
    """

    __slots__ = ("_entries", "_lock", "_size", "generation", "limit", "writing")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.writing = 0
        self.generation = -1
        self._entries: OrderedDict[str, tuple[list[CacheEntry], int]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = 0

    def get(self, key: str, generation: int) -> list[CacheEntry] | None:
        """The entries of ``key`` if known at ``generation`` (the file's now), else None."""
        with self._lock:
            if generation != self.generation:
                # Only a newer file moves the memo on. An older one is a read that began before a
                # write of ours ended (the async client's cache thread): starting over at it would
                # throw away every row the memo had, and the next writes would keep only their own.
                if generation > self.generation and not self.writing:
                    self._reset(generation)
                return None
            got = self._entries.get(key)
            if got is None:
                return None
            self._entries.move_to_end(key)
            return got[0]

    def read(self, key: str, entries: list[CacheEntry], generation: int) -> None:
        """``entries``, read from the file at ``generation``, remembered if that is the memo's (or newer)."""
        with self._lock:
            if generation > self.generation and not self.writing:
                self._reset(generation)
            if generation == self.generation:
                self._set(key, entries)

    def peek_entries(self, key: str) -> list[CacheEntry] | None:
        """The entries the memo has for ``key``, whatever the file's generation now."""
        with self._lock:
            got = self._entries.get(key)
        return None if got is None else got[0]

    def begin(self) -> None:
        """A write of ours starts (each is ended by :meth:`wrote`, :meth:`reset` or :meth:`failed`)."""
        with self._lock:
            self.writing += 1

    def failed(self) -> None:
        with self._lock:
            self.writing -= 1

    def wrote(self, before: int, after: int, changes: Iterable[tuple[str, _Change]]) -> None:
        """A write of ours moved the file from ``before`` to ``after``: each ``(key, change)``
        maps the entries the memo had for ``key`` (None: unknown) to those it has now (None: unknown)."""
        with self._lock:
            self.writing -= 1
            if before != self.generation:
                if after <= self.generation:
                    return
                self._reset(after)  # (another writer came between: only what this write knows is kept)
            self.generation = after
            for key, change in changes:
                got = self._entries.get(key)
                now = change(None if got is None else got[0])
                if now is None:
                    self._drop(key)
                else:
                    self._set(key, now)

    def reset(self, generation: int) -> None:
        """A write of ours ended at ``generation`` with changes not worth following: start over."""
        with self._lock:
            self.writing -= 1
            self._reset(generation)

    def _reset(self, generation: int) -> None:
        self._entries.clear()
        self._size = 0
        self.generation = generation

    def _drop(self, key: str) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._size -= old[1]

    def _set(self, key: str, entries: list[CacheEntry]) -> None:
        self._drop(key)
        cost = sum(e.size for e in entries) + 200  # (works out the facts now: reused from here on)
        if cost > self.limit:
            return
        self._entries[key] = (entries, cost)
        self._size += cost
        while self._size > self.limit:
            _, dropped = self._entries.popitem(last=False)
            self._size -= dropped[1]


class SqliteCache:
    """A store in one sqlite3 file: it survives restarts and may be shared by threads and processes.

    The file is in WAL mode (readers never wait for a writer); a lookup is one indexed
    ``SELECT`` (no transaction of its own, nothing written), or, for a row this store read or
    wrote lately (up to ``memo_size`` bytes, :data:`PARSED_MEMO_SIZE` by default), the read of
    a one-row generation counter that any write to the file changes (so another process's
    writes are always seen); a 304's refresh one ``UPDATE`` of the header fields (the body is
    not rewritten), a store one short ``BEGIN IMMEDIATE`` transaction; a writer waits up to ``busy_timeout`` seconds for another's (another thread's
    or process's). Connections are kept in a small pool: a call takes one, or opens one when all
    are busy, and gives it back, so threads come and go without leaving connections behind.
    Once the entries pass ``max_size`` bytes the oldest stored go first. The calls may block
    (disk I/O, possibly a lock): ``blocking`` is True, so the async client runs them off its
    event loop, all but :meth:`peek`, which never waits.
    """

    blocking = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_size: int = DEFAULT_SQLITE_MAX_SIZE,
        max_entry_size: int = DEFAULT_MAX_ENTRY_SIZE,
        busy_timeout: float = 5.0,
        memo_size: int | None = None,
        refresh_batch: int = REFRESH_BATCH,
    ) -> None:
        _check_sizes(max_entry_size, max_size)
        self.path = os.fspath(path)
        self.max_size = max_size
        self.max_entry_size = min(max_entry_size, max_size)
        self.busy_timeout = busy_timeout
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._peeker: sqlite3.Cursor | None = None
        self._peek_lock = threading.Lock()
        memo = PARSED_MEMO_SIZE if memo_size is None else memo_size
        if memo < 0:
            raise ValueError(f"memo_size must be >= 0, not {memo}")
        self._memo = _Memo(memo)
        self.refresh_batch = max(1, refresh_batch)
        # Refreshes held back (see REFRESH_BATCH): (key, variant) -> (the entry, the response_time
        # of the row it refreshes, which guards the UPDATE), and when the first was held.
        self._held: dict[tuple[str, str], tuple[CacheEntry, float]] = {}
        self._held_since = 0.0
        self._held_lock = threading.Lock()
        import sqlite3  # here, not at import: a client without a sqlite cache never loads it

        self._errors = sqlite3.Error
        # Create the file (owner only: it holds responses, private ones too) and its tables now: a
        # bad path fails here, not in the middle of a request.
        if not os.path.exists(self.path):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self._transaction(followed=False) as db:
            (layout,) = db.execute("PRAGMA user_version").fetchone()
            if layout > _LAYOUT:
                raise ValueError(f"{self.path}: a cache file of a newer netwire (layout {layout}, this one reads {_LAYOUT})")
            if layout < _LAYOUT:
                # An older layout (or a new file): start empty. The first layout's tables go.
                for table in ("entries", "responses", "bodies", "total"):  # (sqlite_sequence stays: harmless)
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in _SCHEMA.split(";\n"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {_LAYOUT}")

    def _open(self, timeout: float) -> sqlite3.Connection:
        import sqlite3

        db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        try:
            # WAL: readers and one writer at once, across processes; NORMAL: no fsync per commit
            # (a crash may lose the last entries, never corrupt the file; it is only a cache).
            # 4 KiB pages (sqlite's default, said for a new file): a 304's refresh writes two
            # pages (its row's, the generation's) to the WAL, checksummed: 16 KiB pages made that
            # twice the cost, while a revisit's body mostly comes from the memo, not the pages.
            # (Mapping the file in memory, mmap_size, measured no faster for a hit, slower for a 304.)
            db.execute("PRAGMA page_size=4096")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            db.close()
            raise
        return db

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise RuntimeError("this SqliteCache is closed")
            if self._idle:
                return self._idle.pop()
        return self._open(self.busy_timeout)

    def _give(self, db: sqlite3.Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < _MAX_IDLE_CONNECTIONS:
                self._idle.append(db)
                return
        db.close()


    @contextlib.contextmanager
    def _transaction(self, *, followed: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction on a pooled connection: ``BEGIN IMMEDIATE``, ``COMMIT`` at the end
        of the block, ``ROLLBACK`` on any error. ``followed``: a write the memo follows, begun
        here; an error ends it as failed, else the caller ends it (``wrote`` or ``reset``)."""
        if followed:
            self._memo.begin()
        try:
            db = self._take()
        except BaseException:
            if followed:
                self._memo.failed()
            raise
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except BaseException:
            if followed:
                self._memo.failed()
            raise
        finally:
            self._give(db)

    def _entries(self, rows: list[tuple[Any, ...]], key: str) -> list[CacheEntry] | None:
        """The entries of ``rows`` (a read's: the columns, the body, the generation), remembered;
        None when a body is missing (NULL: too big for a peek)."""
        if not rows:
            return []
        entries = []
        for row in rows:
            body = row[9]
            if body is None:
                return None
            entries.append(_row_entry(row, body))
        self._memo.read(key, entries, rows[0][10])
        return entries

    def get(self, key: str) -> list[CacheEntry]:
        db = self._take()
        try:
            (generation,) = db.execute(_READ_GENERATION).fetchone()
            got = self._memo.get(key, generation)
            rows = db.execute(_SELECT, (key,)).fetchall() if got is None else None
        finally:
            self._give(db)
        if got is None:
            assert rows is not None
            got = self._entries(rows, key)
            assert got is not None  # (a body column is never NULL)
        return self._with_held(key, got) if self._held else got

    def _with_held(self, key: str, entries: list[CacheEntry]) -> list[CacheEntry]:
        """``entries`` with the refreshes held back for them (this store's writes, not yet in the file)."""
        held = self._held
        return [held.get((key, e.variant), (e,))[0] for e in entries]

    def peek(self, key: str) -> list[CacheEntry] | None:
        """:meth:`get` if it can answer at once: None when the file is locked (a writer of another
        process checkpointing, say), when another thread is peeking, or when a body not in the
        memo is bigger than :data:`PEEK_MAX_BODY`; the caller then asks :meth:`get` (off its
        event loop)."""
        if self._closed or not self._peek_lock.acquire(blocking=False):
            return None
        try:
            cursor = self._peeker
            if cursor is None:  # a lock is an answer at once, never a wait; one cursor, reused
                cursor = self._peeker = self._open(0.0).cursor()
            # The common revisit: the row is in the memo and nothing was written since.
            (generation,) = cursor.execute(_READ_GENERATION).fetchone()
            got = self._memo.get(key, generation)
            if got is None:
                rows = cursor.execute(_PEEK, (PEEK_MAX_BODY, key)).fetchall()
        except self._errors:
            return None
        finally:
            self._peek_lock.release()
        if got is None:
            got = self._entries(rows, key)
            if got is None:
                return None
        return self._with_held(key, got) if self._held else got

    def put(self, key: str, entry: CacheEntry) -> None:
        size = entry.size
        if size > self.max_entry_size:
            return
        variant = entry.variant
        if self._held:
            self._forget_held(key, variant)
        with self._transaction() as db:
            (before,) = db.execute(_READ_GENERATION).fetchone()
            # DELETE then INSERT (not INSERT OR REPLACE, whose implicit delete fires no trigger).
            db.execute("DELETE FROM responses WHERE key = ? AND variant = ?", (key, variant))
            body = db.execute("INSERT INTO bodies (data) VALUES (?)", (entry.body,)).lastrowid
            db.execute(
                "INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key, variant, time.time(), size, entry.url, entry.status, entry.reason,
                    entry.http_version, _join_fields(entry.headers), entry.request_time, entry.response_time,
                    int(entry.stale), body,
                ),
            )
            evicted = False
            (total,) = db.execute("SELECT bytes FROM total WHERE id = 0").fetchone()
            while total > self.max_size:
                evicted = True
                db.execute(
                    "DELETE FROM responses WHERE rowid IN (SELECT rowid FROM responses ORDER BY stored LIMIT 16)"
                )
                (total,) = db.execute("SELECT bytes FROM total WHERE id = 0").fetchone()
            (after,) = db.execute(_READ_GENERATION).fetchone()
            (variants,) = db.execute("SELECT COUNT(*) FROM responses WHERE key = ?", (key,)).fetchone()
        if evicted:  # (which rows went is not worth finding out: the memo starts over)
            self._memo.reset(after)
            return

        def change(entries: list[CacheEntry] | None) -> list[CacheEntry] | None:
            if entries is None:
                return [entry] if variants == 1 else None  # (other variants unknown to the memo)
            return [*(e for e in entries if e.variant != variant), entry]

        self._memo.wrote(before, after, [(key, change)])

    def update(self, key: str, entry: CacheEntry) -> None:
        """Store ``entry``'s header fields, times and mark over those of its variant with one
        ``UPDATE`` (its body is the one stored: not rewritten). Gone meanwhile: nothing stored.

        A refresh of a row this store knows (in its memo) is held back and written with others
        in one transaction (see :data:`REFRESH_BATCH`); a stale mark is written at once (other
        processes must not take the entry as fresh)."""
        variant = entry.variant
        base: float | None = None
        if self.refresh_batch > 1 and not entry.stale:
            with self._held_lock:
                held = self._held.get((key, variant))
            if held is not None:
                base = held[1]  # the row in the file is still the one the first held refresh refreshes
            else:
                known = self._memo.peek_entries(key)
                stored = [e for e in known or () if e.variant == variant]
                base = stored[0].response_time if stored else None
        if base is None:
            self._flush_held()  # (in order: an older held refresh must not land after this one)
            self._write_refreshes([(key, entry, None)])
            return
        with self._held_lock:
            if not self._held:
                self._held_since = time.monotonic()
            self._held[(key, variant)] = (entry, base)
            due = len(self._held) >= self.refresh_batch or time.monotonic() - self._held_since >= REFRESH_DELAY
        if due:
            self._flush_held()

    def _forget_held(self, key: str, variant: str | None) -> None:
        """Drop the refreshes held for ``key`` (one variant, or all): its row is being replaced or removed."""
        with self._held_lock:
            for k in [k for k in self._held if k[0] == key and (variant is None or k[1] == variant)]:
                del self._held[k]

    def _flush_held(self) -> None:
        """Write the refreshes held back, in one transaction (each only over the row it refreshes)."""
        with self._held_lock:
            held = list(self._held.items())
        if not held:
            return
        self._write_refreshes([(key, entry, base) for (key, _), (entry, base) in held])
        with self._held_lock:  # (those refreshed again meanwhile stay held)
            for k, value in held:
                if self._held.get(k) is value:
                    del self._held[k]

    def _write_refreshes(self, refreshes: list[tuple[str, CacheEntry, float | None]]) -> None:
        """One transaction of UPDATEs; ``base``: the response_time the row must still have (None: any)."""
        changed = 0
        with self._transaction() as db:
            (before,) = db.execute(_READ_GENERATION).fetchone()
            for key, entry, base in refreshes:
                columns = (
                    _join_fields(entry.headers), entry.request_time, entry.response_time, int(entry.stale),
                    entry.size, key, entry.variant,
                )
                if base is None:
                    cursor = db.execute(_UPDATE, columns)
                else:
                    cursor = db.execute(_UPDATE_IF, (*columns, base))
                changed += cursor.rowcount  # (0: gone, or replaced by another process since)
        if changed < len(refreshes):  # (some row was not the one refreshed: start the memo over)
            self._memo.reset(before + changed)
            return
        # (The trigger moved the generation once per row changed.)
        self._memo.wrote(before, before + changed, [(key, _replacing(entry)) for key, entry, _ in refreshes])

    def delete(self, key: str) -> None:
        if self._held:
            self._forget_held(key, None)
        db = self._take()
        try:
            db.execute("DELETE FROM responses WHERE key = ?", (key,))
        finally:
            self._give(db)

    @property
    def size(self) -> int:
        """Bytes held now (across every process using the file; refreshes held back written first)."""
        self._flush_held()
        db = self._take()
        try:
            (total,) = db.execute("SELECT bytes FROM total WHERE id = 0").fetchone()
        finally:
            self._give(db)
        return int(total)

    def __len__(self) -> int:
        db = self._take()
        try:
            (n,) = db.execute("SELECT COUNT(*) FROM responses").fetchone()
        finally:
            self._give(db)
        return int(n)

    def close(self) -> None:
        """Write the refreshes held back; close the idle connections (those in use close when
        their call ends). Later calls raise RuntimeError."""
        if self._held and not self._closed:
            try:
                self._flush_held()
            except self._errors:
                pass  # (only refreshes are lost: those pages are revalidated again)
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        with self._peek_lock:
            peeker, self._peeker = self._peeker, None
        for db in idle if peeker is None else [*idle, peeker.connection]:
            db.close()


def cache_from(value: Any) -> Cache | None:
    """The store a client's ``cache=`` option names: None/False none, True a :class:`MemoryCache`,
    a path a :class:`SqliteCache`, or a :class:`Cache` object as it is."""
    if value is None or value is False:
        return None
    if value is True:
        return MemoryCache()
    if isinstance(value, str | os.PathLike):
        return SqliteCache(value)
    if isinstance(value, Cache):
        return value
    raise TypeError(f"cache must be True, a sqlite file path or a netwire.cache.Cache object, not {value!r}")


# -- the rules (pure) ------------------------------------------------------------------------------


def parse_cache_control(values: Iterable[str]) -> dict[str, str | None]:
    """Cache-Control directives: lower-cased names to their argument (unquoted) or None.

    A directive given twice keeps its first value (RFC 9111 4.2.1 lets a cache pick).
    """
    out: dict[str, str | None] = {}
    for value in values:
        i, n = 0, len(value)
        while i < n:
            while i < n and value[i] in " \t,":
                i += 1
            start = i
            while i < n and value[i] not in "=,":
                i += 1
            name = value[start:i].strip().lower()
            arg: str | None = None
            if i < n and value[i] == "=":
                i += 1
                while i < n and value[i] in " \t":
                    i += 1
                if i < n and value[i] == '"':
                    i += 1
                    chars: list[str] = []
                    while i < n and value[i] != '"':
                        if value[i] == "\\" and i + 1 < n:
                            i += 1
                        chars.append(value[i])
                        i += 1
                    i += 1
                    arg = "".join(chars)
                    while i < n and value[i] != ",":
                        i += 1
                else:
                    start = i
                    while i < n and value[i] != ",":
                        i += 1
                    arg = value[start:i].strip()
            if name and name not in out:
                out[name] = arg
    return out


@functools.lru_cache(maxsize=256)
def _directives(values: tuple[str, ...]) -> dict[str, str | None]:
    # A site's pages share their Cache-Control field: parsed once (the dict is shared: read-only).
    return parse_cache_control(values)


_NO_DIRECTIVES: dict[str, str | None] = {}


def _seconds(value: str | None) -> int | None:
    """A delta-seconds argument, or None when absent or invalid (RFC 9111 1.2.2)."""
    if value is None or not value.isdigit():
        return None
    return min(int(value), 2**31)


def http_date(value: str | None) -> float | None:
    """An HTTP-date as a POSIX timestamp, or None when absent or unparsable."""
    if not value:
        return None
    return _parse_date(value)


@functools.lru_cache(maxsize=256)
def _parse_date(value: str) -> float | None:
    # Cached: the Date of responses arriving in the same second, and a page's Last-Modified, repeat
    # (email.utils' parser costs several microseconds, a good part of a revalidation's own work).
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    try:
        return float(mktime_tz(parsed))
    except (OverflowError, ValueError):
        return None


def cache_key(url: str) -> str:
    """The primary key: the target URI without its fragment (RFC 9111 2)."""
    return url.split("#", 1)[0]


def _field(headers: Headers, name: str) -> str:
    return ", ".join(" ".join(v.split()) for v in headers.get_list(name))


def vary_names(headers: list[tuple[str, str]] | Headers) -> list[str]:
    """The field names a response's ``Vary`` lists, lower-cased ("*" among them when present)."""
    items = headers if isinstance(headers, list) else headers.multi_items()
    names: list[str] = []
    for k, v in items:
        if k.lower() == "vary":
            names += [n.strip().lower() for n in v.split(",") if n.strip()]
    return names


def _matches(entry: CacheEntry, request: Request) -> bool:
    names = entry.facts.vary_names
    if not names:
        return True
    if "*" in names:
        return False  # RFC 9111 4.1: Vary: * never matches
    return all(_field(request.headers, name) == entry.vary.get(name, "") for name in names)


def select(entries: list[CacheEntry], request: Request) -> CacheEntry | None:
    """The stored response for ``request``: of those its ``Vary`` fields match, the newest."""
    if len(entries) == 1:  # the common case: one representation
        return entries[0] if _matches(entries[0], request) else None
    found = [e for e in entries if _matches(e, request)]
    if len(found) < 2:
        return found[0] if found else None
    return max(found, key=lambda e: (e.facts.date or e.response_time, e.response_time))


class Plan:
    """What a GET or HEAD asks of the cache (its Cache-Control, parsed once)."""

    __slots__ = ("bypass", "directives", "key")

    def __init__(self, request: Request) -> None:
        headers = request.headers
        href = str(request.url)
        self.key = href.split("#", 1)[0] if "#" in href else href  # (cache_key, inline: every lookup)
        # Most requests carry none of the fields that matter here: one pass finds that out.
        for name, _ in headers._items:
            if name.lower() in _PLAN_HEADERS:
                break
        else:
            self.bypass = False
            self.directives = _NO_DIRECTIVES
            return
        names = {low for name, _ in headers._items if (low := name.lower()) in _PLAN_HEADERS}
        self.bypass = not names.isdisjoint(_BYPASS_HEADERS)
        cc: dict[str, str | None] = _NO_DIRECTIVES  # (read-only, as _directives')
        if "cache-control" in names:
            cc = _directives(tuple(headers.get_list("cache-control")))
        elif "pragma" in names and "no-cache" in _field(headers, "pragma").lower():
            cc = {"no-cache": None}  # RFC 9111 5.4: Pragma: no-cache when there is no Cache-Control
        self.directives = cc

    @property
    def only_if_cached(self) -> bool:
        return "only-if-cached" in self.directives


def freshness_lifetime(entry: CacheEntry) -> float:
    """RFC 9111 4.2.1: max-age, else Expires - Date, else the heuristic (4.2.2), else 0."""
    return entry.facts.lifetime


def _lifetime(entry: CacheEntry, facts: _Facts) -> float:
    cc = facts.cc
    if "max-age" in cc:
        return float(_seconds(cc["max-age"]) or 0)
    date = facts.date or entry.response_time
    expires_field = facts.expires
    if expires_field is not None:
        expires = http_date(expires_field)
        return max(0.0, expires - date) if expires is not None else 0.0  # invalid: already expired
    last_modified = http_date(facts.last_modified)
    if last_modified is not None and (entry.status in HEURISTIC_STATUSES or "public" in cc):
        return min(MAX_HEURISTIC_LIFETIME, max(0.0, (date - last_modified) * HEURISTIC_FRACTION))
    return 0.0


def current_age(entry: CacheEntry, now: float) -> float:
    """RFC 9111 4.2.3: the age when it arrived, plus the time it has been stored since."""
    return entry.facts.initial_age + max(0.0, now - entry.response_time)


def usable(entry: CacheEntry, plan: Plan, now: float) -> bool:
    """Whether ``entry`` may answer the request without asking the server (RFC 9111 4.2, 5.2)."""
    rcc = plan.directives
    facts = entry.facts
    if not rcc:  # the request asks nothing of its own (most do): fresh or not (see _Facts.until)
        return now < facts.until and not entry.stale
    cc = facts.cc
    if "no-cache" in cc:
        return False  # always validated (no-cache="fields" too: the strict reading)
    lifetime = facts.lifetime
    age = current_age(entry, now)
    fresh = lifetime > age and not entry.stale
    if fresh and "immutable" in cc:
        return True  # RFC 8246: not revalidated while fresh, even on a reload
    if "no-cache" in rcc:
        return False
    max_age = _seconds(rcc.get("max-age"))
    if max_age is not None and age > max_age:
        return False
    if fresh:
        min_fresh = _seconds(rcc.get("min-fresh"))
        return min_fresh is None or lifetime - age >= min_fresh
    if "max-stale" in rcc and "must-revalidate" not in cc:
        limit = _seconds(rcc["max-stale"])
        return limit is None or age - lifetime <= limit
    return False


def stale_while_revalidate(entry: CacheEntry, plan: Plan, now: float) -> bool:
    """Whether ``entry``, stale and not :func:`usable`, may still be served once under its
    ``stale-while-revalidate`` window (RFC 5861 3): not when marked stale already (served once
    so: the next request revalidates), nor when the response says ``must-revalidate`` or
    ``no-cache``, nor when the request asks ``no-cache`` or a ``max-age`` it is older than."""
    cc = entry.facts.cc
    window = _seconds(cc.get("stale-while-revalidate"))
    if not window or entry.stale or "must-revalidate" in cc or "no-cache" in cc:
        return False
    rcc = plan.directives
    if "no-cache" in rcc:
        return False
    age = current_age(entry, now)
    max_age = _seconds(rcc.get("max-age"))
    if max_age is not None and age > max_age:
        return False
    return age - entry.facts.lifetime <= window


def marked_stale(entry: CacheEntry) -> CacheEntry:
    """``entry`` with the stale mark: revalidated before it is used again."""
    marked = dataclasses.replace(entry, stale=True)
    marked._facts = entry._facts  # the fields are the same
    return marked


def conditional(request: Request, entry: CacheEntry) -> Request | None:
    """``request`` with the validators of ``entry`` (RFC 9111 4.3.1), or None when it has none."""
    etag = entry.facts.etag
    last_modified = entry.facts.last_modified
    if etag is None and last_modified is None:
        return None
    # (The request has neither field: it would have bypassed the cache.)
    items = list(request.headers._items)
    if etag is not None:
        items.append(("If-None-Match", etag))
    if last_modified is not None:
        items.append(("If-Modified-Since", last_modified))
    headers = _models.Headers._from_list(items)
    return _models.Request(
        request.method, request.url, headers=headers, content=request.content, extensions=request.extensions
    )


def validates(entry: CacheEntry, headers: Headers) -> bool:
    """Whether a 304 with ``headers`` is about ``entry`` (RFC 9111 4.3.4: same validator)."""
    facts = entry.facts
    etag = headers.get("etag")
    if etag is not None:
        stored = facts.etag
        return stored is not None and stored.removeprefix("W/") == etag.removeprefix("W/")
    last_modified = headers.get("last-modified")
    if last_modified is not None and facts.last_modified is not None:
        return last_modified == facts.last_modified or http_date(last_modified) == http_date(facts.last_modified)
    return True  # no validator in the 304: it answers the one we sent


def head_matches(entry: CacheEntry, headers: Headers) -> bool:
    """Whether a HEAD's 200 describes ``entry`` (RFC 9111 4.3.5): the validators it has
    match (an ETag or Last-Modified it sends must be the stored one), and so does its
    Content-Length when it sends one. Otherwise the stored response is to be taken as stale."""
    facts = entry.facts
    etag = headers.get("etag")
    if etag is not None and (facts.etag is None or facts.etag.removeprefix("W/") != etag.removeprefix("W/")):
        return False
    last_modified = headers.get("last-modified")
    if last_modified is not None and (
        facts.last_modified is None or http_date(last_modified) != http_date(facts.last_modified)
    ):
        return False
    length = headers.get("content-length")
    if length is not None and length.strip() != str(len(entry.body)):
        # (Stored as received: a content-coded body is compared coded, as its Content-Length was.)
        return False
    return etag is not None or last_modified is not None  # no validator: nothing says it is the same


def _stored_headers(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    items = list(items)
    named = {n.strip().lower() for k, v in items if k.lower() == "connection" for n in v.split(",")}
    drop = _HOP_BY_HOP | named if named else _HOP_BY_HOP
    return [(k, v) for k, v in items if k.lower() not in drop]


def refresh(entry: CacheEntry, headers: Headers, request_time: float, response_time: float) -> CacheEntry:
    """``entry`` updated by a 304's (or a HEAD's) header fields (RFC 9111 3.2, 4.3.4), with the new times."""
    drop = _NOT_UPDATED
    lows = [(k.lower(), k, v) for k, v in headers._items]
    for low, _, v in lows:
        if low == "connection":  # and the fields it names (hop-by-hop, RFC 9110 7.6.1)
            drop = drop | {n.strip().lower() for n in v.split(",")}
    fresh: list[tuple[str, str]] = []
    replaced: dict[str, str] = {}
    repeated = False
    for low, k, v in lows:
        if low not in drop:
            fresh.append((k, v))
            repeated = repeated or low in replaced
            replaced[low] = v
    kept: list[tuple[str, str]] = []
    served: list[tuple[str, str]] = []  # (what _Facts.served would be: the fields but Age)
    for item in entry.headers:
        low = item[0].lower()
        if low not in replaced:
            kept.append(item)
            if low != "age":
                served.append(item)
    kept += fresh
    updated = CacheEntry(
        entry.url, entry.status, entry.reason, entry.http_version, kept, entry.body,
        request_time, response_time, entry.vary,
    )
    old = entry._facts
    if old is not None and not repeated and "vary" not in replaced and "age" not in replaced:
        # The common 304 (Date, the validators, Cache-Control, Expires again): the stored facts,
        # with what those fields change worked out again (a revalidation's main cost otherwise).
        updated._facts = old.refreshed(updated, replaced, served + fresh)
    return updated


def store_refreshed(store: Cache, key: str, entry: CacheEntry) -> None:
    """Store ``entry``, a refresh of the one stored (same body): with the store's ``update``
    when it has one (sqlite: one UPDATE, the body left alone), else its ``put``."""
    update = getattr(store, "update", None)
    if update is not None:
        update(key, entry)
    else:
        store.put(key, entry)


def lookup_now(store: Cache, key: str) -> list[CacheEntry] | None:
    """The entries under ``key`` if the store answers without waiting (a store in memory, or
    one with ``peek``); None when only a ``get`` that may block can tell."""
    if not store.blocking:
        return store.get(key)
    peek = getattr(store, "peek", None)
    return peek(key) if peek is not None else None


def storable(request: Request, plan: Plan, response: Response) -> bool:
    """Whether the response to a GET may be stored (RFC 9111 3), and is worth storing (fresh for
    a while or revalidatable)."""
    if request.method != "GET" or plan.bypass or "no-store" in plan.directives:
        return False
    status = response.status
    if status < 200 or status in (206, 304):
        return False
    headers = response.headers
    cc = parse_cache_control(headers.get_list("cache-control"))
    if "no-store" in cc or "*" in vary_names(headers):
        return False
    if "authorization" in request.headers and not ("public" in cc or "must-revalidate" in cc or "s-maxage" in cc):
        return False  # RFC 9111 3.5
    explicit = "max-age" in cc or "expires" in headers
    if not (explicit or "public" in cc or status in HEURISTIC_STATUSES):
        return False
    if "etag" in headers or "last-modified" in headers:
        return True
    entry = entry_for(request, response, b"", 0.0, 0.0)
    return freshness_lifetime(entry) > 0 and "no-cache" not in cc


def entry_for(request: Request, response: Response, body: bytes, request_time: float, response_time: float) -> CacheEntry:
    """The entry storing ``response`` (to ``request``) with ``body``."""
    headers = _stored_headers(response.headers.multi_items())
    names = vary_names(headers)
    return CacheEntry(
        url=cache_key(str(request.url)),
        status=response.status,
        reason=response.reason,
        http_version=response.http_version,
        headers=headers,
        body=body,
        request_time=request_time,
        response_time=response_time,
        vary={name: _field(request.headers, name) for name in names},
    )


def served_headers(entry: CacheEntry, now: float) -> list[tuple[str, str]]:
    """The stored header fields with ``Age`` set to the entry's current age (RFC 9111 5.1)."""
    facts = entry.facts
    stored_for = now - entry.response_time  # (current_age, inline: this runs on every hit)
    return [*facts.served, ("Age", str(int(facts.initial_age + stored_for if stored_for > 0 else facts.initial_age)))]


def invalidated(request: Request, response: Response) -> list[str]:
    """The keys an unsafe request's non-error response invalidates (RFC 9111 4.4): its target,
    and the Location and Content-Location URIs on the same origin."""
    if request.method in SAFE_METHODS or not 200 <= response.status < 400:
        return []
    target = request.url
    keys = [cache_key(str(target))]
    for name in ("location", "content-location"):
        value = response.headers.get(name)
        if value:
            try:
                other = target.join(value)
            except ValueError:
                continue
            if other.origin == target.origin:
                keys.append(cache_key(str(other)))
    return keys


class Recorder:
    """Collects a response body as it is read; when it ends, the entry is built and ``save``d.

    The body is offered as it arrives on the wire (before content decoding); a body that grows
    past ``limit`` is dropped (the response itself is unaffected), and one never read to its end
    is never saved: a partial body cannot reach the cache.
    """

    __slots__ = ("_chunks", "_request", "_request_time", "_response", "_response_time", "_save", "_size", "limit")

    def __init__(
        self,
        request: Request,
        response: Response,
        request_time: float,
        response_time: float,
        limit: int,
        save: Callable[[CacheEntry], None],
    ) -> None:
        self._request = request
        self._response = response
        self._request_time = request_time
        self._response_time = response_time
        self.limit = limit
        self._save = save
        self._chunks: list[bytes] | None = []
        self._size = 0

    def feed(self, data: bytes) -> None:
        chunks = self._chunks
        if chunks is None or not data:
            return
        self._size += len(data)
        if self._size > self.limit:
            self._chunks = None  # too big to keep: stop holding it
            return
        chunks.append(bytes(data))

    def done(self) -> None:
        chunks, self._chunks = self._chunks, None
        if chunks is None:
            return
        response = self._response
        entry = entry_for(self._request, response, b"".join(chunks), self._request_time, self._response_time)
        if entry.size > self.limit:  # (works out the entry's facts now, not on its first hit)
            return
        response.extensions["cache"] = "stored"
        self._save(entry)
