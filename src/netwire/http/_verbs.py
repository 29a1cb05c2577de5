"""The public request methods, written once for both clients.

``request`` builds a request and sends it; ``stream`` does the same when its context is entered
and closes the response when it is left; ``get``, ``head``, ``options``, ``post``, ``put``,
``patch`` and ``delete`` are each ``self.request(METHOD, url, **kwargs)``. They return a
:class:`~netwire.Response` from :class:`~netwire.Client`, and from
:class:`~netwire.AsyncClient` the coroutine its ``async def _sending`` makes, so
``await client.get(url)`` reads as it always did (the request is built when awaited, as
before). The type parameters say which: ``R`` what ``request`` returns, ``S`` what ``stream``
returns (:class:`Streaming` or :class:`AsyncStreaming`).

May import: ``_types``, ``_unset``, ``models`` (types). Imported by: ``client``, ``aio``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Generic, TypeVar, Unpack

from .._types import (
    JSON,
    AuthTypes,
    ContentTypes,
    DataTypes,
    FilesTypes,
    HeaderTypes,
    ParamTypes,
    ProxyTypes,
    RequestOptions,
    TimeoutTypes,
    URLTypes,
)
from ._unset import UNSET

if TYPE_CHECKING:
    from types import TracebackType

    from .models import Request, Response

__all__ = ["AsyncStreaming", "Streaming", "Verbs"]

R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T", bound="Response")


class Streaming(Generic[T]):
    """What ``Client.stream(...)`` returns: ``with`` sends the request and gives its response,
    body unread; leaving the block closes the response (its connection goes back or closes)."""

    __slots__ = ("_response", "_send")

    def __init__(self, send: Callable[[], T]) -> None:
        self._send = send
        self._response: T | None = None

    def __enter__(self) -> T:
        self._response = self._send()
        return self._response

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._response is not None:
            self._response.close()


class AsyncStreaming(Generic[T]):
    """What ``AsyncClient.stream(...)`` returns: as :class:`Streaming`, with ``async with``."""

    __slots__ = ("_response", "_send")

    def __init__(self, send: Callable[[], Awaitable[T]]) -> None:
        self._send = send
        self._response: T | None = None

    async def __aenter__(self) -> T:
        self._response = await self._send()
        return self._response

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._response is not None:
            self._response.close()


class Verbs(Generic[R, S]):
    """Mixed into the clients, after :class:`~netwire.http.clientbase.BaseClient`. A driver
    gives ``_sending`` (send a request built by ``build()``) and ``_streaming`` (the context)."""

    __slots__ = ()

    if TYPE_CHECKING:

        def build_request(
            self,
            method: str,
            url: URLTypes,
            *,
            params: ParamTypes = None,
            headers: HeaderTypes = None,
            content: ContentTypes = None,
            data: DataTypes = None,
            json: JSON = None,
            files: FilesTypes = None,
        ) -> Request: ...

        def _sending(
            self, build: Callable[[], Request], timeout: TimeoutTypes, follow_redirects: bool | None, auth: AuthTypes,
            proxy: ProxyTypes, stream: bool,
        ) -> R: ...

        def _streaming(self, send: Callable[[], R]) -> S: ...

    def request(
        self,
        method: str,
        url: URLTypes,
        *,
        params: ParamTypes = None,
        headers: HeaderTypes = None,
        content: ContentTypes = None,
        data: DataTypes = None,
        json: JSON = None,
        files: FilesTypes = None,
        timeout: TimeoutTypes = UNSET,
        follow_redirects: bool | None = None,
        auth: AuthTypes = UNSET,
        proxy: ProxyTypes = UNSET,
    ) -> R:
        """Send a request and read its whole response body (on an AsyncClient: ``await`` it)."""

        def build() -> Request:
            return self.build_request(
                method, url, params=params, headers=headers, content=content, data=data, json=json, files=files
            )

        return self._sending(build, timeout, follow_redirects, auth, proxy, False)

    def stream(
        self,
        method: str,
        url: URLTypes,
        *,
        params: ParamTypes = None,
        headers: HeaderTypes = None,
        content: ContentTypes = None,
        data: DataTypes = None,
        json: JSON = None,
        files: FilesTypes = None,
        timeout: TimeoutTypes = UNSET,
        follow_redirects: bool | None = None,
        auth: AuthTypes = UNSET,
        proxy: ProxyTypes = UNSET,
    ) -> S:
        """A context that sends the request and gives its response with the body unread (read
        it, or iterate it; ``aread()``/``aiter_bytes()`` with ``async with`` on an AsyncClient)."""

        def build() -> Request:
            return self.build_request(
                method, url, params=params, headers=headers, content=content, data=data, json=json, files=files
            )

        return self._streaming(lambda: self._sending(build, timeout, follow_redirects, auth, proxy, True))

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
