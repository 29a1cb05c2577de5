"""The HTTP method shortcuts, written once for both clients.

``get``, ``head``, ``options``, ``post``, ``put``, ``patch`` and ``delete`` are each
``self.request(METHOD, url, **kwargs)`` and return what ``request`` returns: a
:class:`~netwire.Response` from :class:`~netwire.Client`, and from
:class:`~netwire.AsyncClient` the coroutine its ``async def request`` makes, so
``await client.get(url)`` reads as it always did. The type parameter says which.

May import: ``_types`` only. Imported by: ``client``, ``aio``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar, Unpack

from .._types import RequestOptions, URLTypes

__all__ = ["Verbs"]

R = TypeVar("R")


class Verbs(Generic[R]):
    """Mixed into the clients, after :class:`~netwire.http.clientbase.BaseClient`."""

    __slots__ = ()

    if TYPE_CHECKING:

        def request(self, method: str, url: URLTypes, **kwargs: Unpack[RequestOptions]) -> R: ...

    def get(self, url: URLTypes, **kwargs: Unpack[RequestOptions]) -> R:
        """Send a GET request; the keywords are :meth:`request`'s (``params``, ``headers``, ``timeout``, ``auth``...)."""
        return self.request("GET", url, **kwargs)

    def head(self, url: URLTypes, **kwargs: Unpack[RequestOptions]) -> R:
        """Send a HEAD request (the response has no body); the keywords are :meth:`request`'s."""
        return self.request("HEAD", url, **kwargs)

    def options(self, url: URLTypes, **kwargs: Unpack[RequestOptions]) -> R:
        """Send an OPTIONS request; the keywords are :meth:`request`'s."""
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: URLTypes, **kwargs: Unpack[RequestOptions]) -> R:
        """Send a POST request with ``content``, ``data`` (a form), ``json`` or ``files``; the keywords are :meth:`request`'s."""
        return self.request("POST", url, **kwargs)

    def put(self, url: URLTypes, **kwargs: Unpack[RequestOptions]) -> R:
        """Send a PUT request with ``content``, ``data``, ``json`` or ``files``; the keywords are :meth:`request`'s."""
        return self.request("PUT", url, **kwargs)

    def patch(self, url: URLTypes, **kwargs: Unpack[RequestOptions]) -> R:
        """Send a PATCH request with ``content``, ``data``, ``json`` or ``files``; the keywords are :meth:`request`'s."""
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: URLTypes, **kwargs: Unpack[RequestOptions]) -> R:
        """Send a DELETE request; the keywords are :meth:`request`'s."""
        return self.request("DELETE", url, **kwargs)
