"""Bulk fetching: ``netwire fetch`` and :func:`netwire.fetch.bulk`.

This folder owns the bulk-fetching product: reading URL lists (:mod:`.inputs`), the WARC/1.1
writer (:mod:`.warc`), the crash-safe index and its resume logic (:mod:`.index`), the polite
asyncio engine of one shard (:mod:`.engine`), host sharding (:mod:`.hosts`) and the run that ties
them together, in one process or several (:mod:`.run`).

It sits on top of the HTTP client: it may import netwire's public client API
(:class:`~netwire.aio.AsyncClient`, :mod:`netwire.errors`, :class:`~netwire.url.URL`,
:mod:`netwire.policy.retries`, robots support) and the standard library. Nothing in netwire
imports it back, except the thin re-export in :mod:`netwire.fetch` and the CLI command.
"""

from __future__ import annotations

from .options import BulkOptions
from .run import BulkError, BulkSummary, bulk

__all__ = ["BulkError", "BulkOptions", "BulkSummary", "bulk"]
