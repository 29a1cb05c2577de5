"""``urllib.request``'s twin: the same names, signatures and behaviour, over netwire's Client.

Change ``import urllib.request`` to ``import netwire.request`` (and ``urllib.error`` to
``netwire.error``) and the code runs unchanged, faster: ``urlopen`` sends every ``http:`` and
``https:`` request through one shared, pooled :class:`netwire.Client`, so repeated calls to the
same host reuse the connection where urllib opens a new one per call.

The opener machinery is urllib's documented protocol: an :class:`OpenerDirector` with handlers
(``<scheme>_open``, ``<scheme>_request``, ``<scheme>_response``, ``http_error_<code>``,
``handler_order``). Redirects, authentication and cookies are done by the handlers
(:class:`HTTPRedirectHandler`, the auth handlers, :class:`HTTPCookieProcessor`), not by the
Client (which runs with its own redirect, cookie and auth handling off), so subclasses that
override ``redirect_request`` or ``http_error_302`` keep working.

Where this module differs from urllib, it is on purpose; ``docs/urllib-migration.md`` lists
every difference and why.

The implementation lives in the private package ``netwire._urllib`` (opener, HTTP handlers, auth,
proxies, other schemes); this module is its face: it holds the names it always held, and those
netwire defines say they belong here (``__module__ == "netwire.request"``), so reprs, pickles
and documentation keep the public path.
"""

from __future__ import annotations

# isort: off
# (The groups below say why each name is here; sorted, they would lose that.)

# The standard modules urllib.request's namespace holds: code written for urllib reaches some of
# them through it (``urllib.request.socket``), so they stay reachable here.
import base64 as base64
import bisect as bisect
import contextlib as contextlib
import hashlib as hashlib
import io as io
import os as os
import re as re
import socket as socket
import ssl as ssl
import string as string
import sys as sys
import tempfile as tempfile
import time as time
import warnings as warnings

# urllib.request's own names, from the modules of netwire._urllib that implement them.
from ._urllib.base import (
    BaseHandler as BaseHandler, Request as Request, USER_AGENT as USER_AGENT, pathname2url as pathname2url,
    request_host as request_host, url2pathname as url2pathname,
)
from ._urllib.proxy import (
    ProxyHandler as ProxyHandler, getproxies as getproxies, getproxies_environment as getproxies_environment,
    proxy_bypass as proxy_bypass, proxy_bypass_environment as proxy_bypass_environment,
)
from ._urllib.http_handlers import (
    AbstractHTTPHandler as AbstractHTTPHandler, HTTPCookieProcessor as HTTPCookieProcessor,
    HTTPDefaultErrorHandler as HTTPDefaultErrorHandler, HTTPErrorProcessor as HTTPErrorProcessor,
    HTTPHandler as HTTPHandler, HTTPRedirectHandler as HTTPRedirectHandler, HTTPSHandler as HTTPSHandler,
)
from ._urllib.auth import (
    AbstractBasicAuthHandler as AbstractBasicAuthHandler,
    AbstractDigestAuthHandler as AbstractDigestAuthHandler, HTTPBasicAuthHandler as HTTPBasicAuthHandler,
    HTTPDigestAuthHandler as HTTPDigestAuthHandler, HTTPPasswordMgr as HTTPPasswordMgr,
    HTTPPasswordMgrWithDefaultRealm as HTTPPasswordMgrWithDefaultRealm,
    HTTPPasswordMgrWithPriorAuth as HTTPPasswordMgrWithPriorAuth,
    ProxyBasicAuthHandler as ProxyBasicAuthHandler, ProxyDigestAuthHandler as ProxyDigestAuthHandler,
    parse_http_list as parse_http_list, parse_keqv_list as parse_keqv_list,
)
from ._urllib.schemes import (
    CacheFTPHandler as CacheFTPHandler, DataHandler as DataHandler, FTPHandler as FTPHandler,
    FileHandler as FileHandler, MAXFTPCACHE as MAXFTPCACHE, UnknownHandler as UnknownHandler,
    ftpcache as ftpcache, ftperrors as ftperrors, ftpwrapper as ftpwrapper, localhost as localhost,
    noheaders as noheaders, thishost as thishost,
)
from ._urllib.opener import (
    OpenerDirector as OpenerDirector, build_opener as build_opener, install_opener as install_opener,
    urlcleanup as urlcleanup, urlopen as urlopen, urlretrieve as urlretrieve,
)
from ._urllib.base import __version__ as __version__

# What urllib.request imports from its sibling modules, here from netwire's twins of them.
from .error import ContentTooShortError as ContentTooShortError, HTTPError as HTTPError, URLError as URLError
from .parse import (
    quote as quote, unquote as unquote, unquote_to_bytes as unquote_to_bytes, unwrap as unwrap,
    urljoin as urljoin, urlparse as urlparse, urlsplit as urlsplit, urlunparse as urlunparse,
)
from .response import addclosehook as addclosehook, addinfourl as addinfourl

# Names this module held before its implementation moved to netwire._urllib (what it imported
# then). Not urllib's API and not netwire's (import them from their own modules); kept so that
# code which reached them through here still runs.
import atexit as atexit
import mimetypes as mimetypes
import threading as threading
import types as types
from collections.abc import Callable as Callable, Iterable as Iterable, Iterator as Iterator, Mapping as Mapping
from typing import Any as Any
from .http.client import Client as Client
from .errors import InvalidURL as InvalidURL, ReadError as ReadError, RequestError as RequestError
from .http.http11 import IncompleteResponse as IncompleteResponse, ParserLimits as ParserLimits
from .http.models import Headers as Headers, Limits as Limits, Timeout as Timeout
from .http.policy.auth import Challenge as Challenge, DigestAuth as DigestAuth
from .http.policy.auth import parse_www_authenticate as parse_www_authenticate
from .http.policy.proxies import Proxy as Proxy, host_bypasses as host_bypasses
from .response import HTTPResponse as HTTPResponse, make_message as make_message
from .url import URL as URL

# Private names that tests reach through the face.
from ._urllib.http_handlers import _client_for as _client_for

# isort: on

__all__ = [
    "AbstractBasicAuthHandler",
    "AbstractDigestAuthHandler",
    "BaseHandler",
    "CacheFTPHandler",
    "DataHandler",
    "FTPHandler",
    "FileHandler",
    "HTTPBasicAuthHandler",
    "HTTPCookieProcessor",
    "HTTPDefaultErrorHandler",
    "HTTPDigestAuthHandler",
    "HTTPErrorProcessor",
    "HTTPHandler",
    "HTTPPasswordMgr",
    "HTTPPasswordMgrWithDefaultRealm",
    "HTTPPasswordMgrWithPriorAuth",
    "HTTPRedirectHandler",
    "HTTPSHandler",
    "OpenerDirector",
    "ProxyBasicAuthHandler",
    "ProxyDigestAuthHandler",
    "ProxyHandler",
    "Request",
    "UnknownHandler",
    "build_opener",
    "getproxies",
    "install_opener",
    "pathname2url",
    "url2pathname",
    "urlcleanup",
    "urlopen",
    "urlretrieve",
]

if sys.version_info < (3, 14):
    from ._urllib.legacy import FancyURLopener as FancyURLopener
    from ._urllib.legacy import URLopener as URLopener

    __all__ += ["FancyURLopener", "URLopener"]


def _claim_public_names() -> None:
    """Give this module's path to the classes and functions defined in netwire._urllib."""
    for obj in list(globals().values()):
        if isinstance(obj, type | types.FunctionType) and obj.__module__.startswith("netwire._urllib."):
            obj.__module__ = __name__


_claim_public_names()
del _claim_public_names


class _CallableModule(types.ModuleType):
    """This module, callable as netwire's module-level ``request(method, url, **kwargs)``.

    ``netwire.request`` names both that function and this module; importing the module makes
    the package attribute the module (the import system sets it), so the module answers calls
    exactly as the function does, whatever the import order.
    """

    def __call__(self, method: str, url: Any, **kwargs: Any) -> Any:
        from .http.client import request as _request

        return _request(method, url, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
