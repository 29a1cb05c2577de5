"""The opener of the urllib face: :class:`OpenerDirector`, :func:`build_opener`, :func:`install_opener`, :func:`urlopen`.

``OpenerDirector`` is urllib's handler registry and dispatcher (``<scheme>_open``,
``<scheme>_request``, ``<scheme>_response``, ``http_error_<code>``, ``handler_order``).
``build_opener`` assembles the default handlers from the sibling modules; ``urlopen`` uses the
installed opener (or one per ``ssl.SSLContext``). ``urlretrieve`` and ``urlcleanup`` live here
too, since they are ``urlopen`` plus a file.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import ssl
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from ..error import ContentTooShortError
from ..http.http11 import IncompleteResponse
from .base import (
    _GLOBAL_DEFAULT_TIMEOUT,
    USER_AGENT,
    BaseHandler,
    Request,
    _splittype,
)
from .http_handlers import (
    _MAX_CLIENTS,
    HTTPDefaultErrorHandler,
    HTTPErrorProcessor,
    HTTPHandler,
    HTTPRedirectHandler,
    HTTPSHandler,
)
from .proxy import (
    ProxyHandler,
)
from .schemes import (
    DataHandler,
    FileHandler,
    FTPHandler,
    UnknownHandler,
)


class OpenerDirector:
    """Runs a request through its handlers: request processors, openers, response processors, errors."""

    def __init__(self) -> None:
        self.addheaders: list[tuple[str, str]] = [("User-agent", USER_AGENT)]
        self.handlers: list[BaseHandler] = []
        self.handle_open: dict[str, list[BaseHandler]] = {}
        self.handle_error: dict[Any, Any] = {}
        self.process_response: dict[str, list[BaseHandler]] = {}
        self.process_request: dict[str, list[BaseHandler]] = {}

    def add_handler(self, handler: BaseHandler) -> None:
        """Register ``handler`` for every ``<scheme>_open/_request/_response`` and ``<scheme>_error_<kind>`` it has."""
        if not hasattr(handler, "add_parent"):
            raise TypeError(f"expected BaseHandler instance, got {type(handler)!r}")
        added = False
        for meth in dir(handler):
            if meth in ("redirect_request", "do_open", "proxy_open"):
                continue
            i = meth.find("_")
            if i <= 0:
                continue
            protocol, condition = meth[:i], meth[i + 1 :]
            kind: Any
            if condition.startswith("error"):
                j = condition.find("_") + i + 1
                kind = meth[j + 1 :]
                try:
                    kind = int(kind)
                except ValueError:
                    pass
                lookup = self.handle_error.setdefault(protocol, {})
            elif condition == "open":
                kind, lookup = protocol, self.handle_open
            elif condition == "response":
                kind, lookup = protocol, self.process_response
            elif condition == "request":
                kind, lookup = protocol, self.process_request
            else:
                continue
            handlers = lookup.setdefault(kind, [])
            if handlers:
                bisect.insort(handlers, handler)
            else:
                handlers.append(handler)
            added = True
        if added:
            bisect.insort(self.handlers, handler)
            handler.add_parent(self)

    def close(self) -> None:
        """Nothing to release: connections belong to the shared clients."""

    def _call_chain(self, chain: Mapping[Any, list[Any]], kind: Any, meth_name: str, *args: Any) -> Any:
        for handler in chain.get(kind, ()):
            result = getattr(handler, meth_name)(*args)
            if result is not None:
                return result
        return None

    def open(self, fullurl: str | Request, data: Any = None, timeout: Any = _GLOBAL_DEFAULT_TIMEOUT) -> Any:
        """Open ``fullurl`` (a URL or a Request) and return the response."""
        if isinstance(fullurl, str):
            req = Request(fullurl, data)
        else:
            req = fullurl
            if data is not None:
                req.data = data
        req.timeout = timeout
        protocol = req.type
        processors = self.process_request.get(protocol)
        if processors:
            meth_name = protocol + "_request"
            for processor in processors:
                req = getattr(processor, meth_name)(req)
        # The same audit event as urllib, so audit hooks watching URL opens see ours too.
        sys.audit("urllib.Request", req.full_url, req.data, req.headers, req.get_method())
        response = self._open(req, data)
        processors = self.process_response.get(protocol)
        if processors:
            meth_name = protocol + "_response"
            for processor in processors:
                response = getattr(processor, meth_name)(req, response)
        return response

    def _open(self, req: Request, data: Any = None) -> Any:
        handle_open = self.handle_open
        if "default" in handle_open:
            result = self._call_chain(handle_open, "default", "default_open", req)
            if result:
                return result
        protocol = req.type
        result = self._call_chain(handle_open, protocol, protocol + "_open", req)
        if result:
            return result
        return self._call_chain(handle_open, "unknown", "unknown_open", req)

    def error(self, proto: str, *args: Any) -> Any:
        """Dispatch an error: ``http_error_<code>`` for http/https, ``<proto>_error`` otherwise."""
        if proto in ("http", "https"):
            chain = self.handle_error.get("http", {})
            code = args[2]
            result = self._call_chain(chain, code, f"http_error_{code}", *args)
            if result:
                return result
            return self._call_chain(chain, "default", "http_error_default", *args)
        return self._call_chain(self.handle_error, proto, proto + "_error", *args)


# -- module-level API ------------------------------------------------------------------------------


def build_opener(*handlers: BaseHandler | type[BaseHandler]) -> OpenerDirector:
    """An OpenerDirector with the default handlers, minus those ``handlers`` replace, plus ``handlers``."""
    opener = OpenerDirector()
    default_classes: list[type[BaseHandler]] = [
        ProxyHandler,
        UnknownHandler,
        HTTPHandler,
        HTTPDefaultErrorHandler,
        HTTPRedirectHandler,
        FTPHandler,
        FileHandler,
        HTTPErrorProcessor,
        DataHandler,
        HTTPSHandler,
    ]
    skip: set[type[BaseHandler]] = set()
    for klass in default_classes:
        for check in handlers:
            if isinstance(check, type):
                if issubclass(check, klass):
                    skip.add(klass)
            elif isinstance(check, klass):
                skip.add(klass)
    for klass in default_classes:
        if klass not in skip:
            opener.add_handler(klass())
    for h in handlers:
        opener.add_handler(h() if isinstance(h, type) else h)
    return opener


_opener: OpenerDirector | None = None
_context_openers: dict[int, tuple[Any, OpenerDirector]] = {}


def install_opener(opener: OpenerDirector | None) -> None:
    """Make ``opener`` the one :func:`urlopen` uses."""
    global _opener
    _opener = opener


def _urlopen(url: str | Request, data: Any, timeout: Any, context: ssl.SSLContext | None) -> Any:
    global _opener
    if context is not None:
        opener = _opener_for(context)
    elif _opener is None:
        _opener = opener = build_opener()
    else:
        opener = _opener
    return opener.open(url, data, timeout)


if sys.version_info >= (3, 13):
    # CPython 3.13 removed cafile, capath and cadefault (deprecated since 3.6): follow it.

    def urlopen(
        url: str | Request,
        data: Any = None,
        timeout: Any = _GLOBAL_DEFAULT_TIMEOUT,
        *,
        context: ssl.SSLContext | None = None,
    ) -> Any:
        """Open ``url`` (a string or a :class:`Request`); ``data`` makes it a POST.

        Returns an :class:`~netwire.response.HTTPResponse` for http/https (read it to the end, or
        close it, to hand its connection back to the pool) and an
        :class:`~netwire.response.addinfourl` for file/data/ftp. Raises
        :class:`~netwire.error.HTTPError` for an error status and :class:`~netwire.error.URLError`
        for every other failure. ``context`` (an ``ssl.SSLContext``) sets how servers are verified.
        """
        return _urlopen(url, data, timeout, context)

else:

    def urlopen(
        url: str | Request,
        data: Any = None,
        timeout: Any = _GLOBAL_DEFAULT_TIMEOUT,
        *,
        cafile: str | None = None,
        capath: str | None = None,
        cadefault: bool = False,
        context: ssl.SSLContext | None = None,
    ) -> Any:
        """Open ``url`` (a string or a :class:`Request`); ``data`` makes it a POST.

        Returns an :class:`~netwire.response.HTTPResponse` for http/https (read it to the end, or
        close it, to hand its connection back to the pool) and an
        :class:`~netwire.response.addinfourl` for file/data/ftp. Raises
        :class:`~netwire.error.HTTPError` for an error status and :class:`~netwire.error.URLError`
        for every other failure. ``context`` (an ``ssl.SSLContext``) sets how servers are
        verified; ``cafile``/``capath``/``cadefault`` are deprecated, as in urllib (a
        ``DeprecationWarning``; Python 3.13 removed them).
        """
        if cafile or capath or cadefault:
            warnings.warn(
                "cafile, capath and cadefault are deprecated, use a custom context instead.",
                DeprecationWarning,
                2,
            )
            if context is not None:
                raise ValueError("You can't pass both context and any of cafile, capath, and cadefault")
            context = _cafile_context(cafile, capath)
        return _urlopen(url, data, timeout, context)


_cafile_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def _cafile_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    key = (cafile, capath)
    context = _cafile_contexts.get(key)
    if context is None:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile, capath=capath)
        context.set_alpn_protocols(["http/1.1"])
        _cafile_contexts[key] = context
    return context


def _opener_for(context: ssl.SSLContext) -> OpenerDirector:
    entry = _context_openers.get(id(context))
    if entry is not None and entry[0] is context:
        return entry[1]
    opener = build_opener(HTTPSHandler(context=context))
    if len(_context_openers) >= _MAX_CLIENTS:
        _context_openers.pop(next(iter(_context_openers)))
    _context_openers[id(context)] = (context, opener)
    return opener


_url_tempfiles: list[str] = []


def urlretrieve(
    url: str,
    filename: str | os.PathLike[str] | None = None,
    reporthook: Callable[[int, int, int], Any] | None = None,
    data: Any = None,
) -> tuple[str, Any]:
    """Copy the resource at ``url`` to ``filename`` (a temporary file when None).

    Returns ``(filename, headers)``. ``reporthook(block_number, block_size, total_size)`` is
    called once before the first block and after each one. Raises
    :class:`~netwire.error.ContentTooShortError` when fewer bytes arrive than announced.
    """
    url_type, path = _splittype(url)
    with contextlib.closing(urlopen(url, data)) as fp:
        headers = fp.info()
        if url_type == "file" and not filename:
            return os.path.normpath(path), headers
        if filename:
            tfp: Any = open(filename, "wb")  # noqa: SIM115 - closed by the with below
        else:
            tfp = tempfile.NamedTemporaryFile(delete=False)  # noqa: SIM115
            filename = tfp.name
            _url_tempfiles.append(str(filename))
        with tfp:
            result = os.fspath(filename), headers
            bs = 1024 * 8
            size = -1
            read = 0
            blocknum = 0
            if "content-length" in headers:
                size = int(headers["Content-Length"])
            if reporthook:
                reporthook(blocknum, bs, size)
            while True:
                try:
                    block = fp.read(bs)
                except IncompleteResponse:
                    if size < 0:
                        raise
                    break  # the connection ended inside the body: ContentTooShortError below
                if not block:
                    break
                read += len(block)
                tfp.write(block)
                blocknum += 1
                if reporthook:
                    reporthook(blocknum, bs, size)
    if size >= 0 and read < size:
        raise ContentTooShortError(f"retrieval incomplete: got only {read} out of {size} bytes", result)
    return result


def urlcleanup() -> None:
    """Delete the temporary files :func:`urlretrieve` made, and forget the installed opener."""
    for temp_file in _url_tempfiles:
        try:
            os.unlink(temp_file)
        except OSError:
            pass
    del _url_tempfiles[:]
    global _opener
    _opener = None
