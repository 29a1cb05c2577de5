"""The one-shot functions: ``netwire.get(url)``, ``netwire.post(url, json=...)``...

Each takes what a one-off call needs (the request's own options, and the few client options a
single call may want: ``verify``, ``cert``, ``cookies``, ``trust_env``). A call with only
request options goes through one shared default :class:`~netwire.client.Client`, so
repeated calls reuse connections; a call that sets a client option gets a client of its own,
closed when the call is done (for :func:`stream`: when the ``with`` block ends), so a
``verify=False`` or a client certificate never leaks into other calls.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Unpack

from .._types import (
    JSON,
    AuthTypes,
    BodyOneShotOptions,
    CertTypes,
    ContentTypes,
    CookieTypes,
    DataTypes,
    FilesTypes,
    HeaderTypes,
    OneShotOptions,
    ParamTypes,
    ProxyTypes,
    TimeoutTypes,
    URLTypes,
    VerifyTypes,
)
from .clientbase import UNSET

if TYPE_CHECKING:
    from .client import Client
    from .models import Response

__all__ = ["delete", "get", "head", "options", "patch", "post", "put", "request", "stream"]

_default: Client | None = None
_default_lock = threading.Lock()


def _shared() -> Client:
    """The shared default client (made on first use; connections are reused across calls)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                from .client import Client

                _default = Client()
                # Its pooled connections are closed at exit, not left to the garbage collector.
                atexit.register(_default.close)
    return _default


def _own_client(verify: VerifyTypes, cert: CertTypes, cookies: CookieTypes, trust_env: bool) -> Client | None:
    """A client of the call's own when it sets a client option, else None (use the shared one)."""
    if verify is True and cert is None and cookies is None and trust_env:
        return None
    from .client import Client

    return Client(verify=verify, cert=cert, cookies=cookies, trust_env=trust_env)


def request(
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
    verify: VerifyTypes = True,
    cert: CertTypes = None,
    cookies: CookieTypes = None,
    trust_env: bool = True,
) -> Response:
    """Send one request and read its whole response.

    :param method: the request method (``"GET"``, ``"POST"``...).
    :param url: the URL; ``http://user:password@host/`` sends those credentials as Basic auth
        to that origin only.
    :param params: query parameters added to the URL.
    :param headers: header fields (they win over netwire's defaults).
    :param content: a raw body (str, bytes, a binary file or an iterator of bytes).
    :param data: a form (urlencoded, or the text fields of a multipart body with ``files``).
    :param json: a JSON body.
    :param files: multipart file fields.
    :param timeout: seconds or a :class:`~netwire.models.Timeout` (default 30 s, connect 10 s).
    :param follow_redirects: follow redirects (default True).
    :param auth: ``(user, password)`` for Basic, an :class:`~netwire.policy.auth.Auth`, or a function.
    :param proxy: a proxy URL (or dict by scheme; None: direct, ignoring the environment).
    :param verify: TLS verification: True, False (warns :class:`~netwire.errors.InsecureRequestWarning`),
        a CA bundle path or an ``ssl.SSLContext``.
    :param cert: a client certificate: a PEM path, or (certfile, keyfile).
    :param cookies: cookies to send (a dict or a CookieJar); False: no cookie handling.
    :param trust_env: read proxy settings from the environment.
    :raises netwire.RequestError: the request could not be sent or its response not read.
    """
    own = _own_client(verify, cert, cookies, trust_env)
    client = own if own is not None else _shared()
    try:
        return client.request(
            method, url, params=params, headers=headers, content=content, data=data, json=json, files=files,
            timeout=timeout, follow_redirects=follow_redirects, auth=auth, proxy=proxy,
        )
    finally:
        if own is not None:
            own.close()  # the body was read: nothing is left on its connections


@contextmanager
def stream(
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
    verify: VerifyTypes = True,
    cert: CertTypes = None,
    cookies: CookieTypes = None,
    trust_env: bool = True,
) -> Iterator[Response]:
    """Send one request; yield its response with the body unread (a context manager).

    The options are :func:`request`'s. ``with netwire.stream("GET", url) as r:`` then
    ``r.iter_bytes()``; the connection is released when the block ends.
    """
    own = _own_client(verify, cert, cookies, trust_env)
    client = own if own is not None else _shared()
    try:
        with client.stream(
            method, url, params=params, headers=headers, content=content, data=data, json=json, files=files,
            timeout=timeout, follow_redirects=follow_redirects, auth=auth, proxy=proxy,
        ) as response:
            yield response
    finally:
        if own is not None:
            own.close()


# The verbs: each is request(METHOD, url, ...). Their keywords are typed by a TypedDict
# (_types.OneShotOptions, BodyOneShotOptions: no body for GET, HEAD, OPTIONS, DELETE), so
# mypy --strict still refuses a misspelt or mistyped option (tests/typing/misuse.py).


def get(url: URLTypes, **options: Unpack[OneShotOptions]) -> Response:
    """Send a GET request and read the response; the options are :func:`request`'s.

    ``netwire.get("https://example.org/", params={"q": "x"}, timeout=5)``.
    """
    return request("GET", url, **options)


def head(url: URLTypes, **options: Unpack[OneShotOptions]) -> Response:
    """Send a HEAD request (the response has no body); the options are :func:`request`'s."""
    return request("HEAD", url, **options)


def options(url: URLTypes, **options: Unpack[OneShotOptions]) -> Response:
    """Send an OPTIONS request; the options are :func:`request`'s."""
    return request("OPTIONS", url, **options)


def delete(url: URLTypes, **options: Unpack[OneShotOptions]) -> Response:
    """Send a DELETE request; the options are :func:`request`'s."""
    return request("DELETE", url, **options)


def post(url: URLTypes, **options: Unpack[BodyOneShotOptions]) -> Response:
    """Send a POST request with ``content``, ``data``, ``json`` or ``files``; the options are :func:`request`'s.

    ``netwire.post(url, json={"name": "x"})``, ``netwire.post(url, data={"field": "value"})``.
    """
    return request("POST", url, **options)


def put(url: URLTypes, **options: Unpack[BodyOneShotOptions]) -> Response:
    """Send a PUT request with ``content``, ``data``, ``json`` or ``files``; the options are :func:`request`'s."""
    return request("PUT", url, **options)


def patch(url: URLTypes, **options: Unpack[BodyOneShotOptions]) -> Response:
    """Send a PATCH request with ``content``, ``data``, ``json`` or ``files``; the options are :func:`request`'s."""
    return request("PATCH", url, **options)
