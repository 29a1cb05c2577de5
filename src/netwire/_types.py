"""The types of the arguments netwire's public functions take, named once.

``Client``, ``AsyncClient``, the one-shot functions (``netwire.get``...) and ``fetch_all`` all
annotate their parameters with these names, so a type checker sees the same contract
everywhere and a change to what an argument accepts is made in one place. Type-only: importing
this module pulls in nothing heavy (the netwire classes are named under ``TYPE_CHECKING``).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict

if TYPE_CHECKING:
    from http.cookiejar import CookieJar  # type-only: it imports urllib.request

    from .http.cache import Cache
    from .http.h2_core import H2Limits
    from .http.http11 import ParserLimits
    from .http.models import Headers, Limits, Request, Timeout
    from .http.policy.auth import Auth
    from .http.policy.proxies import Proxy
    from .http.policy.retries import Retry
    from .http.trace import TraceHook
    from .url import URL

__all__ = [
    "JSON",
    "AuthTypes",
    "BodyOneShotOptions",
    "ClientOptions",
    "CertTypes",
    "ContentTypes",
    "CookieTypes",
    "DataTypes",
    "FilesTypes",
    "HeaderTypes",
    "OneShotOptions",
    "ParamTypes",
    "PrimitiveData",
    "ProxyTypes",
    "RequestOptions",
    "TimeoutTypes",
    "URLTypes",
    "VerifyTypes",
]

URLTypes: TypeAlias = "str | URL"
"""A URL: a string (parsed as a WHATWG URL) or a :class:`~netwire.url.URL`."""

PrimitiveData: TypeAlias = "str | int | float | bool | None"
"""A query or form value (numbers and booleans are written as ``str()`` does)."""

ParamTypes: TypeAlias = (
    "Mapping[str, PrimitiveData | Iterable[PrimitiveData]] | Iterable[tuple[str, PrimitiveData]] | str | None"
)
"""Query parameters: a mapping (a list value repeats the name), pairs, or an encoded string."""

HeaderTypes: TypeAlias = "Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None"
"""Header fields: a :class:`~netwire.models.Headers`, a mapping, or (name, value) pairs."""

ContentTypes: TypeAlias = (
    "str | bytes | bytearray | memoryview | IO[bytes] | Iterable[bytes] | AsyncIterable[bytes] | None"
)
"""A raw request body: text (sent as UTF-8), bytes, a binary file, or an iterator of chunks."""

DataTypes: TypeAlias = (
    "Mapping[str, PrimitiveData | Iterable[PrimitiveData]] | Iterable[tuple[str, PrimitiveData]] | ContentTypes"
)
"""A form (sent urlencoded, or as the text fields of a multipart body with ``files``), or raw content."""

FileContent: TypeAlias = "str | bytes | IO[bytes] | os.PathLike[str]"
FileTypes: TypeAlias = (
    "FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str | None]"
    " | tuple[str | None, FileContent, str | None, Mapping[str, str]]"
)
FilesTypes: TypeAlias = "Mapping[str, FileTypes] | Iterable[tuple[str, FileTypes]] | None"
"""Multipart file fields: name -> content (a path is opened), (filename, content), (filename,
content, type) or (filename, content, type, extra header fields)."""

# JSON is recursive; its leaves are what ``json.dumps`` writes. ``Any`` inside containers keeps
# it usable with ``dict[str, object]``-typed data the caller already has.
JSON: TypeAlias = "bool | int | float | str | list[Any] | tuple[Any, ...] | Mapping[str, Any] | None"
"""A JSON request body (sent compact, UTF-8, ``application/json``)."""

TimeoutTypes: TypeAlias = "float | Timeout | None"
"""Seconds for every phase, a :class:`~netwire.models.Timeout`, or None (no limit)."""

AuthTypes: TypeAlias = "tuple[str | bytes, str | bytes] | Auth | Callable[[Request], Request] | None"
"""Credentials: (user, password) for Basic, an :class:`~netwire.policy.auth.Auth`, or a function."""

ProxyTypes: TypeAlias = "str | URL | Proxy | Mapping[str, str | URL | Proxy | None] | None"
"""A proxy URL or :class:`~netwire.policy.proxies.Proxy` for every request, or a dict by scheme."""

VerifyTypes: TypeAlias = "bool | str | os.PathLike[str] | ssl.SSLContext"
"""TLS verification: True (system CAs), False (none), a CA bundle path, or an SSLContext."""

CertTypes: TypeAlias = "str | tuple[str, str] | None"
"""A client certificate: one PEM file (certificate and key), or (certfile, keyfile)."""

CookieTypes: TypeAlias = "CookieJar | Mapping[str, str] | Literal[False] | None"
"""A cookie jar to use, cookies to start with, or False for no cookie handling."""


class RequestOptions(TypedDict, total=False):
    """The keyword arguments of ``Client.request`` after the method and URL (for ``**kwargs``)."""

    params: ParamTypes
    headers: HeaderTypes
    content: ContentTypes
    data: DataTypes
    json: JSON
    files: FilesTypes
    timeout: TimeoutTypes
    follow_redirects: bool | None
    auth: AuthTypes
    proxy: ProxyTypes


class OneShotOptions(TypedDict, total=False):
    """The keyword arguments of ``netwire.get``/``head``/``options``/``delete`` after the URL:
    a request's options without a body, and the client options a one-off call may set."""

    params: ParamTypes
    headers: HeaderTypes
    timeout: TimeoutTypes
    follow_redirects: bool | None
    auth: AuthTypes
    proxy: ProxyTypes
    verify: VerifyTypes
    cert: CertTypes
    cookies: CookieTypes
    trust_env: bool


class BodyOneShotOptions(OneShotOptions, total=False):
    """The keyword arguments of ``netwire.post``/``put``/``patch`` after the URL: the body too."""

    content: ContentTypes
    data: DataTypes
    json: JSON
    files: FilesTypes


#: ``cache=``: True (in memory), a sqlite file path, a :class:`~netwire.cache.Cache` store, or None/False.
CacheTypes: TypeAlias = "bool | str | os.PathLike[str] | Cache | None"
#: ``http2=``: False, True (ALPN h2 on https) or ``"prior-knowledge"`` (h2c too).
HTTP2Types: TypeAlias = 'bool | Literal["prior-knowledge"]'


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of ``Client``/``AsyncClient`` (for ``fetch_all(**client_options)``).

    The same names and types as :class:`~netwire.clientbase.BaseClient`'s ``__init__``
    (tests/typing checks the two lists agree).
    """

    timeout: TimeoutTypes
    limits: Limits | None
    verify: VerifyTypes
    cert: CertTypes
    headers: HeaderTypes
    auth: AuthTypes
    netrc: bool
    cookies: CookieTypes
    proxy: ProxyTypes
    no_proxy: str | None
    trust_env: bool
    retries: Retry | int | None
    decompress: bool
    max_decoded_size: int | None
    follow_redirects: bool
    max_redirects: int
    allow_downgrade: bool
    expect_continue: int | None
    uds: str | None
    parser_limits: ParserLimits
    user_agent: str | None
    respect_robots: bool
    max_crawl_delay: float
    cache: CacheTypes
    http2: HTTP2Types
    http2_limits: H2Limits | None
    trace: TraceHook | None
