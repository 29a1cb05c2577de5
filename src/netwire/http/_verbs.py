"""The public request methods, written once for both clients.

``request`` builds a request and sends it; ``stream`` does the same when its context is entered
and closes the response when it is left; ``get``, ``head``, ``options``, ``post``, ``put``,
``patch`` and ``delete`` are each ``self.request(METHOD, url, **kwargs)``. They return a
:class:`~netwire.Response` from :class:`~netwire.Client`, and from
:class:`~netwire.AsyncClient` the coroutine its ``async def _sending`` makes, so
``await client.get(url)`` reads as it always did (the request is built when awaited, as
before). The type parameter ``R`` says which; ``stream`` returns a :class:`Streaming` of it.

May import: ``_types``, ``_unset``, ``models``. Imported by: ``client``, ``aio``.
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
from .models import Response

if TYPE_CHECKING:
    from types import TracebackType

    from .models import Request

__all__ = ["Streaming", "Verbs"]

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)  # a Streaming of a coroutine is one of an awaitable
T = TypeVar("T", bound=Response)


class Streaming(Generic[R_co]):
    """What ``stream(...)`` returns: entering it sends the request and gives its response, body
    unread; leaving it closes the response (its connection goes back to the pool, or closes).
    ``with`` on a :class:`~netwire.Client`'s, ``async with`` on an :class:`~netwire.AsyncClient`'s
    (``R`` is then the coroutine that sends; ``with`` on it raises TypeError)."""

    __slots__ = ("_response", "_send")

    def __init__(self, send: Callable[[], R_co]) -> None:
        self._send = send
        self._response: Response | None = None

    def __enter__(self: Streaming[T]) -> T:
        response = self._send()
        if not isinstance(response, Response):  # an AsyncClient's: a coroutine, never run
            getattr(response, "close", lambda: None)()
            raise TypeError("an AsyncClient's stream() is entered with `async with`")
        self._response = response
        return response

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._response is not None:
            self._response.close()

    async def __aenter__(self: Streaming[Awaitable[T]]) -> T:
        response = await self._send()
        self._response = response
        return response

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._response is not None:
            self._response.close()


class Verbs(Generic[R]):
    """Mixed into the clients, after :class:`~netwire.http.clientbase.BaseClient`. A driver
    gives ``_sending``: build the request and send it."""

    __slots__ = ()

    _build_on_await: bool = False
    """True on the async client: ``request`` returns ``_sending``'s coroutine, which builds the
    request when awaited (as an ``async def request`` would); False: built and sent at once."""

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

        def _build(
            self,
            method: str,
            url: URLTypes,
            params: ParamTypes,
            headers: HeaderTypes,
            content: ContentTypes,
            data: DataTypes,
            json: JSON,
            files: FilesTypes,
        ) -> Request: ...

        def _sending(
            self,
            method: str,
            url: URLTypes,
            params: ParamTypes,
            headers: HeaderTypes,
            content: ContentTypes,
            data: DataTypes,
            json: JSON,
            files: FilesTypes,
            timeout: TimeoutTypes,
            follow_redirects: bool | None,
            auth: AuthTypes,
            proxy: ProxyTypes,
            stream: bool,
        ) -> R: ...

        def send(
            self,
            request: Request,
            *,
            timeout: TimeoutTypes = ...,
            follow_redirects: bool | None = None,
            auth: AuthTypes = ...,
            proxy: ProxyTypes = ...,
        ) -> R: ...


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
        if self._build_on_await:
            return self._sending(
                method, url, params, headers, content, data, json, files, timeout, follow_redirects, auth, proxy, False
            )
        # Sync: build and send here, one call layer less on every request (``_sending`` is that too);
        # ``_build`` is ``build_request`` with positional arguments (keywords cost on every call).
        request = self._build(method, url, params, headers, content, data, json, files)
        return self.send(request, timeout=timeout, follow_redirects=follow_redirects, auth=auth, proxy=proxy)

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
    ) -> Streaming[R]:
        """A context that sends the request and gives its response with the body unread (read
        it, or iterate it; ``aread()``/``aiter_bytes()`` with ``async with`` on an AsyncClient)."""

        return Streaming(
            lambda: self._sending(
                method, url, params, headers, content, data, json, files, timeout, follow_redirects, auth, proxy, True
            )
        )

    def get(self, url: URLTypes, **kwargs: Unpack[RequestOptions]) -> R:
        """Send a GET request; the keywords are :meth:`request`'s (``params``, ``headers``, ``timeout``, ``auth``...)."""
        if not kwargs:  # the usual call: passing an empty ``**kwargs`` on costs a dict merge
            return self.request("GET", url)
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
