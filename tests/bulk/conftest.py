"""Fixtures of the bulk-fetch tests: ``web``, the synthetic web of :mod:`tests.bulk.synthweb`."""

from __future__ import annotations

from tests.bulk.synthweb import web

__all__ = ["web"]
