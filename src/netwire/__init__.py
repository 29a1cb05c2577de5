"""netwire: Python networking from raw sockets up to URLs.

``import netwire`` is kept cheap: submodules are imported on first use of a name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> submodule that defines it; resolved lazily by __getattr__ below.
_EXPORTS: dict[str, str] = {
    # client
    "Client": "client",
    "get": "client",
    "head": "client",
    "post": "client",
    "put": "client",
    "patch": "client",
    "delete": "client",
    "options": "client",
    "stream": "client",
    # models
    "Headers": "models",
    "Request": "models",
    "Response": "models",
    "Timeout": "models",
    "Limits": "models",
    # url
    "URL": "url",
    # policy
    "Auth": "policy.auth",
    "BasicAuth": "policy.auth",
    "DigestAuth": "policy.auth",
    "NetrcAuth": "policy.auth",
    "Proxy": "policy.proxies",
    "Retry": "policy.retries",
    # async client
    "AsyncClient": "aio",
    "AsyncResponse": "aio",
    "fetch_all": "fetch",
    "FetchOutcome": "fetch",
}

_ERRORS = (
    "NetwireError", "InvalidURL", "URLError", "RequestError", "TransportError", "ConnectError",
    "TLSError", "TimeoutException", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout",
    "TotalTimeout", "ReadError", "WriteError", "ProtocolError", "LocalProtocolError", "ProxyError",
    "TooManyRedirects", "UnsafeRedirect", "BodyNotReplayable", "RobotsDisallowed", "DecodingError", "HTTPStatusError",
    "StreamError", "InsecureRequestWarning",
)
for _name in _ERRORS:
    _EXPORTS[_name] = "errors"

_SUBMODULES = {
    "client", "connection", "errors", "http11", "models", "pool", "url", "parse", "policy",
    "decoders", "robotparser", "sockets", "error", "request", "response", "aio", "cli", "sitemaps", "fetch",
}
# "request" is both urllib's module name and our module-level function: it is the module
# (``from netwire import request`` as ``from urllib import request``), and the module is callable
# as the function (``netwire.request("GET", url)``), see netwire/request.py.

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from . import request as request
    from .aio import AsyncClient as AsyncClient
    from .aio import AsyncResponse as AsyncResponse
    from .client import Client as Client
    from .client import delete as delete
    from .client import get as get
    from .client import head as head
    from .client import options as options
    from .client import patch as patch
    from .client import post as post
    from .client import put as put
    from .client import stream as stream
    from .errors import *  # noqa: F403
    from .fetch import FetchOutcome as FetchOutcome
    from .fetch import fetch_all as fetch_all
    from .models import Headers as Headers
    from .models import Limits as Limits
    from .models import Request as Request
    from .models import Response as Response
    from .models import Timeout as Timeout
    from .policy.auth import Auth as Auth
    from .policy.auth import BasicAuth as BasicAuth
    from .policy.auth import DigestAuth as DigestAuth
    from .policy.auth import NetrcAuth as NetrcAuth
    from .policy.proxies import Proxy as Proxy
    from .policy.retries import Retry as Retry
    from .url import URL as URL


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'netwire' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The public names only: not this module's own helpers (importlib, Any, TYPE_CHECKING...).
    return sorted(set(_EXPORTS) | _SUBMODULES | {"__version__"})
