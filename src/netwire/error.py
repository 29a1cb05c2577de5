"""``urllib.error``'s twin: the exceptions :mod:`netwire.request` raises.

* :class:`URLError` *is* :class:`netwire.errors.URLError` (the same class, re-exported): every
  netwire request failure (connect, DNS, TLS, timeout, protocol) derives from it, so
  ``except netwire.error.URLError`` catches them all, and ``reason`` holds the underlying
  exception (a ``socket.gaierror``, an ``ssl.SSLError``, a ``TimeoutError``...).
* :class:`HTTPError` is both an exception and a response (``code``, ``reason``, ``headers``,
  ``read()``), as in urllib; it also derives from :class:`netwire.errors.HTTPStatusError`, so
  code written against netwire's own client catches it too.
* :class:`ContentTooShortError` is raised by :func:`netwire.request.urlretrieve` when fewer
  bytes arrive than Content-Length announced.
"""

from __future__ import annotations

import io
from typing import Any

from .errors import HTTPStatusError, URLError
from .http.models import Headers, Response
from .response import addinfourl

__all__ = ["ContentTooShortError", "HTTPError", "URLError"]


class HTTPError(HTTPStatusError, addinfourl):
    """An HTTP error status (4xx, 5xx, or a redirect that was not followed), and its response.

    ``HTTPError(url, code, msg, hdrs, fp)`` as in urllib: ``code`` the status, ``msg`` (also
    ``reason``) the reason phrase, ``hdrs`` (also ``headers``) the header message, ``fp`` the
    body (read it with ``read()``). ``response`` is the netwire :class:`~netwire.models.Response`
    behind it (one is made from ``code`` and ``hdrs`` when the error was raised by hand).
    """

    def __init__(self, url: str, code: int, msg: str, hdrs: Any, fp: Any) -> None:
        self.code = code
        self.msg = msg
        self.hdrs = hdrs
        self.fp = fp
        self.filename = url
        self.message = f"HTTP Error {code}: {msg}"
        nw = getattr(fp, "_nw", None)
        if not isinstance(nw, Response):
            items = list(hdrs.items()) if hdrs is not None and hasattr(hdrs, "items") else []
            nw = Response(code, reason=str(msg), headers=Headers(items))
        self.response = nw
        self.request = nw.request
        addinfourl.__init__(self, fp if fp is not None else io.BytesIO(), hdrs, url, code)

    def __str__(self) -> str:
        return f"HTTP Error {self.code}: {self.msg}"

    def __repr__(self) -> str:
        return f"<HTTPError {self.code}: {self.msg!r}>"

    # urllib spells the reason phrase both ways, and the headers both ways.
    @property
    def reason(self) -> Any:
        return self.msg

    @reason.setter
    def reason(self, value: Any) -> None:
        self.msg = value

    @property
    def headers(self) -> Any:
        return self.hdrs

    @headers.setter
    def headers(self, value: Any) -> None:
        self.hdrs = value


class ContentTooShortError(URLError):
    """A download ended before the Content-Length it announced; ``content`` is what
    :func:`~netwire.request.urlretrieve` had (``(filename, headers)``)."""

    def __init__(self, message: str, content: Any) -> None:
        super().__init__(message)
        self.content = content
