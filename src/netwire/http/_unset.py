"""``UNSET``: the "use the client's default" marker for per-request options.

Its own tiny module so that both ``clientbase`` and ``flow`` (which clientbase imports) can
take it without an import circle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["UNSET"]


class _Unset:
    def __repr__(self) -> str:
        return "<client default>"


UNSET: Any = _Unset()
