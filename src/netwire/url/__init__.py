"""The URL type: parsing and serialising per the WHATWG URL Standard (public face).

Owns :class:`URL` and :class:`URLSearchParams`; the implementation lives in this package's
private modules. May import only the standard library, :mod:`netwire.errors` and its own
``_idna`` (which loads the optional ``idna`` package's tables on first use).
"""

from __future__ import annotations

from ._url import DEFAULT_PORTS, SPECIAL_SCHEMES, URL, URLSearchParams

__all__ = ["DEFAULT_PORTS", "SPECIAL_SCHEMES", "URL", "URLSearchParams"]
