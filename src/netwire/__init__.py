"""netwire: Python networking from raw sockets up to URLs.

``import netwire`` is kept cheap: submodules are imported on first use of a name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _moved

__version__ = "0.1.0"

# The module paths from before the http/ and robots/ folders (netwire.client, netwire.policy.auth...)
# stay importable as the very same modules: see _moved.py.
_moved.install()

# name -> submodule that defines it; resolved lazily by __getattr__ below.
_EXPORTS: dict[str, str] = {
    # client
    "Client": "http.client",
    "get": "http.api",
    "head": "http.api",
    "post": "http.api",
    "put": "http.api",
    "patch": "http.api",
    "delete": "http.api",
    "options": "http.api",
    "stream": "http.api",
    # models
    "Headers": "http.models",
    "Request": "http.models",
    "Response": "http.models",
    "Timeout": "http.models",
    "Limits": "http.models",
    # url
    "URL": "url",
    # policy
    "Auth": "http.policy.auth",
    "BasicAuth": "http.policy.auth",
    "DigestAuth": "http.policy.auth",
    "NetrcAuth": "http.policy.auth",
    "Proxy": "http.policy.proxies",
    "Retry": "http.policy.retries",
    # async client
    "AsyncClient": "http.aio",
    "AsyncResponse": "http.aio",
    "fetch_all": "http.fetch",
    "FetchOutcome": "http.fetch",
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
    "http", "robots", "cache",
}
# "request" is both urllib's module name and our module-level function: it is the module
# (``from netwire import request`` as ``from urllib import request``), and the module is callable
# as the function (``netwire.request("GET", url)``), see netwire/request.py.

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    # Which build runs: True for the mypyc-compiled one (NETWIRE_COMPILE=1, see docs/install.md).
    __compiled__: bool
    from . import request as request
    from .errors import *  # noqa: F403
    from .http.aio import AsyncClient as AsyncClient
    from .http.aio import AsyncResponse as AsyncResponse
    from .http.api import delete as delete
    from .http.api import get as get
    from .http.api import head as head
    from .http.api import options as options
    from .http.api import patch as patch
    from .http.api import post as post
    from .http.api import put as put
    from .http.api import stream as stream
    from .http.client import Client as Client
    from .http.fetch import FetchOutcome as FetchOutcome
    from .http.fetch import fetch_all as fetch_all
    from .http.models import Headers as Headers
    from .http.models import Limits as Limits
    from .http.models import Request as Request
    from .http.models import Response as Response
    from .http.models import Timeout as Timeout
    from .http.policy.auth import Auth as Auth
    from .http.policy.auth import BasicAuth as BasicAuth
    from .http.policy.auth import DigestAuth as DigestAuth
    from .http.policy.auth import NetrcAuth as NetrcAuth
    from .http.policy.proxies import Proxy as Proxy
    from .http.policy.retries import Retry as Retry
    from .url import URL as URL


def _is_compiled() -> bool:
    """True when the mypyc-compiled build runs: its hot modules load as extension modules.

    Looks beside this very package (not at what pip installed), so a checkout's sources on sys.path
    in front of a compiled install report False. Python's importer tries extension modules before
    the .py of the same name in a folder, so an ``http11.<abi>.so`` next to ``http11.py`` is the
    one imported. It looks at files and imports nothing: ``netwire --version`` stays cheap.
    """
    import os
    from importlib.machinery import EXTENSION_SUFFIXES

    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http")
    return any(os.path.exists(os.path.join(folder, "http11" + suffix)) for suffix in EXTENSION_SUFFIXES)


def __getattr__(name: str) -> Any:
    if name == "__compiled__":
        # Computed on first use: ``import netwire`` stays cheap (it imports no submodule).
        value: Any = _is_compiled()
        globals()[name] = value
        return value
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
    return sorted(set(_EXPORTS) | _SUBMODULES | {"__version__", "__compiled__"})
