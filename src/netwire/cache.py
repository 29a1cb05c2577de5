"""HTTP caching (RFC 9111) for :class:`~netwire.Client` and :class:`~netwire.AsyncClient`: the
public face of :mod:`netwire.http.cache`.

``Client(cache=True)`` keeps responses in memory, ``cache="file.sqlite"`` in a sqlite file that
outlives the process, and any object following :class:`Cache` plugs in its own store.
"""

from __future__ import annotations

from .http.cache import (
    DEFAULT_MAX_ENTRY_SIZE,
    DEFAULT_MAX_SIZE,
    DEFAULT_SQLITE_MAX_SIZE,
    HEURISTIC_FRACTION,
    MAX_HEURISTIC_LIFETIME,
    PARSED_MEMO_SIZE,
    PEEK_MAX_BODY,
    REFRESH_BATCH,
    REFRESH_DELAY,
    Cache,
    CacheEntry,
    MemoryCache,
    SqliteCache,
    cache_from,
)

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
