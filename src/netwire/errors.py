"""netwire's one exception hierarchy.

Every failure raised by netwire derives from :class:`NetwireError`. Failures of a request
(anything between "I want this URL" and "here is the response") also derive from
:class:`URLError`, the class ``urllib.error`` users already catch, which is itself an
:class:`OSError` exactly as in urllib. Timeouts additionally derive from the builtin
:class:`TimeoutError` (``socket.timeout``), so ``except socket.timeout`` keeps working.

::

    NetwireError
    ├── InvalidURL (ValueError)
    ├── URLError (OSError)                      urllib.error.URLError's twin
    │   ├── RequestError
    │   │   ├── TransportError
    │   │   │   ├── ConnectError                DNS, refused, unreachable
    │   │   │   │   └── TLSError                handshake, verification, hostname
    │   │   │   ├── TimeoutException (TimeoutError)
    │   │   │   │   ├── ConnectTimeout
    │   │   │   │   ├── ReadTimeout
    │   │   │   │   ├── WriteTimeout
    │   │   │   │   ├── PoolTimeout
    │   │   │   │   └── TotalTimeout
    │   │   │   ├── ReadError / WriteError      the peer reset or closed mid-exchange
    │   │   │   │   ├── StreamReset             HTTP/2: the server reset this stream (RST_STREAM)
    │   │   │   │   └── ConnectionTerminated    HTTP/2: the server ended the connection (GOAWAY)
    │   │   │   ├── ProtocolError               the peer broke HTTP/1.1 (or we refused to)
    │   │   │   │   ├── IncompleteResponse      the peer closed before the response was whole
    │   │   │   │   ├── LocalProtocolError      what we were asked to send is not valid HTTP
    │   │   │   │   └── H2ProtocolError         the HTTP/2 peer broke the protocol or a limit
    │   │   │   └── ProxyError
    │   │   ├── TooManyRedirects
    │   │   ├── UnsafeRedirect
    │   │   ├── BodyNotReplayable
    │   │   ├── RobotsDisallowed
    │   │   └── DecodingError
    │   └── HTTPStatusError                     raise_for_status(); urllib's HTTPError derives from it
    ├── StreamError                             misuse of a response body (read after close, ...)
    └── MissingDependency (ImportError)         an option needs an extra (``netwire[http2]``)

    InsecureRequestWarning (UserWarning)        a warning, not an error: TLS verification is off

At the I/O edges (connection, async connection, proxy tunnels) an ``OSError`` becomes one of these
through one mapper, :func:`from_os_error`, so every edge words the OS's reason the same way.
"""

from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .http.models import Request, Response

__all__ = [
    "BodyNotReplayable",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionTerminated",
    "DecodingError",
    "H2ProtocolError",
    "HTTPStatusError",
    "IncompleteResponse",
    "InsecureRequestWarning",
    "InvalidURL",
    "LocalProtocolError",
    "MissingDependency",
    "NetwireError",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "RequestError",
    "RobotsDisallowed",
    "StreamError",
    "StreamReset",
    "TLSError",
    "TimeoutException",
    "TooManyRedirects",
    "TotalTimeout",
    "TransportError",
    "URLError",
    "UnsafeRedirect",
    "WriteError",
    "WriteTimeout",
    "from_os_error",
    "os_reason",
]


class NetwireError(Exception):
    """Base of every exception netwire raises."""


class InvalidURL(NetwireError, ValueError):
    """A URL could not be parsed or cannot be requested."""


class URLError(NetwireError, OSError):
    """A request could not be completed; ``reason`` says why.

    Same constructor and attributes as ``urllib.error.URLError``: ``reason`` is a string or the
    underlying exception (a ``socket.gaierror``, an ``ssl.SSLError``, a ``TimeoutError``...).
    """

    reason: Any

    def __init__(self, reason: Any, filename: str | None = None) -> None:
        # OSError's own __init__ reinterprets (errno, strerror) pairs; keep urllib's shape instead.
        self.args = (reason,)
        self.reason = reason
        if filename is not None:
            self.filename = filename

    def __str__(self) -> str:
        return f"<urlopen error {self.reason}>"


class RequestError(URLError):
    """Something went wrong between sending the request and having its whole response."""

    def __init__(
        self,
        message: str,
        *,
        reason: Any = None,
        request: Request | None = None,
    ) -> None:
        super().__init__(reason if reason is not None else message)
        self.args = (message,)
        self.message = message
        self.request = request

    # Set by netwire.request on the errors urlopen raises: there str() is urllib's
    # "<urlopen error REASON>" (and args is (reason,)), elsewhere netwire's message.
    _urlopen_form = False

    def __str__(self) -> str:
        if self._urlopen_form:
            return URLError.__str__(self)
        return self.message


class TransportError(RequestError):
    """The connection (socket, TLS, proxy, HTTP framing) failed."""


class ConnectError(TransportError):
    """No connection could be made: DNS failure, refused, unreachable."""


class TLSError(ConnectError):
    """The TLS handshake failed: certificate not trusted, wrong host, protocol refused."""


class TimeoutException(TransportError, builtins.TimeoutError):
    """A deadline passed. Also a builtin ``TimeoutError`` (``socket.timeout``)."""

    def __init__(self, message: str, *, request: Request | None = None) -> None:
        super().__init__(message, reason=builtins.TimeoutError(message), request=request)


class ConnectTimeout(TimeoutException):
    """Connecting (TCP, TLS or proxy handshake) took longer than the connect timeout."""


class ReadTimeout(TimeoutException):
    """No byte of the response arrived within the read timeout."""


class WriteTimeout(TimeoutException):
    """Sending the request stalled for longer than the write timeout."""


class PoolTimeout(TimeoutException):
    """No connection became free in the pool within the pool timeout."""


class TotalTimeout(TimeoutException):
    """The whole request (all phases, retries and redirects) took longer than the total deadline."""


class ReadError(TransportError):
    """Receiving failed: the peer reset the connection or closed it before the response ended."""


class WriteError(TransportError):
    """Sending failed: the peer reset or closed the connection."""


class ProtocolError(TransportError):
    """The peer's bytes are not valid HTTP/1.1, or exceed one of the parser's limits."""


class IncompleteResponse(ProtocolError):
    """The peer closed the connection before the response was complete.

    ``received`` / ``expected``: body bytes had and announced (None when not announced);
    ``nothing_received``: no byte of a response arrived (http.client's RemoteDisconnected case).
    """

    def __init__(
        self, message: str, *, received: int = 0, expected: int | None = None, nothing_received: bool = False
    ) -> None:
        super().__init__(message)
        self.received = received
        self.expected = expected
        self.nothing_received = nothing_received


class LocalProtocolError(ProtocolError):
    """What the caller asked to send cannot be sent as valid HTTP/1.1 (e.g. a CR/LF in a header)."""


class H2ProtocolError(ProtocolError):
    """The HTTP/2 peer broke the protocol, or one of netwire's HTTP/2 limits (SECURITY.md):
    an oversized header block, a CONTINUATION or SETTINGS/PING flood, a frame above
    MAX_FRAME_SIZE. The whole connection is closed; ``error_code`` is the HTTP/2 error code
    sent in netwire's GOAWAY."""

    def __init__(self, message: str, *, error_code: int = 1, request: Request | None = None) -> None:
        super().__init__(message, request=request)
        self.error_code = error_code


class StreamReset(ReadError):
    """The HTTP/2 server reset this request's stream (RST_STREAM); the connection's other
    streams carry on. ``error_code`` is the server's (7 REFUSED_STREAM: not processed)."""

    def __init__(self, message: str, *, error_code: int = 0, request: Request | None = None) -> None:
        super().__init__(message, request=request)
        self.error_code = error_code


class ConnectionTerminated(ReadError):
    """The HTTP/2 server ended the connection (GOAWAY, or closed it) before this stream ended.

    ``retriable`` is True when the server said it never processed the stream (its id is above
    the GOAWAY's ``last_stream_id``): netwire then sends the request again on a new connection
    by itself, whatever its method, and this error reaches the caller only if that fails too.
    """

    def __init__(
        self,
        message: str,
        *,
        error_code: int = 0,
        last_stream_id: int | None = None,
        retriable: bool = False,
        request: Request | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.error_code = error_code
        self.last_stream_id = last_stream_id
        self.retriable = retriable


class ProxyError(TransportError):
    """The proxy refused or failed the request (CONNECT status, SOCKS reply)."""

    def __init__(self, message: str, *, status: int | None = None, request: Request | None = None) -> None:
        super().__init__(message, request=request)
        self.status = status


class TooManyRedirects(RequestError):
    """More redirects than ``max_redirects``; ``history`` holds the responses of the chain."""

    def __init__(self, message: str, *, history: list[Response] | None = None, request: Request | None = None) -> None:
        super().__init__(message, request=request)
        self.history = history or []


class UnsafeRedirect(RequestError):
    """A redirect that policy refuses to follow (an https -> http downgrade, an unknown scheme)."""


class BodyNotReplayable(RequestError):
    """A redirect or retry needs to send the body again, but it was a one-shot stream."""


class RobotsDisallowed(RequestError):
    """``Client(respect_robots=True)`` refused a URL its origin's robots.txt disallows (nothing was sent).

    ``decision`` is the :class:`netwire.robotparser.Decision` (rule, line, reason).
    """

    def __init__(self, message: str, *, decision: Any = None, request: Request | None = None) -> None:
        super().__init__(message, request=request)
        self.decision = decision


class DecodingError(RequestError):
    """The response body could not be decoded (corrupt compression, or over the size/ratio limit)."""


class HTTPStatusError(URLError):
    """Raised by ``Response.raise_for_status()`` for a 4xx or 5xx response."""

    def __init__(self, message: str, *, request: Request | None, response: Response) -> None:
        super().__init__(message)
        self.args = (message,)
        self.message = message
        self.request = request
        self.response = response

    def __str__(self) -> str:
        return self.message


class StreamError(NetwireError, RuntimeError):
    """A response body was used in a way its state does not allow (read after close, ...)."""


class MissingDependency(NetwireError, ImportError):
    """An option needs a package that is not installed (``http2=True`` needs
    ``pip install 'netwire[http2]'``); the message names what to install."""


class InsecureRequestWarning(UserWarning):
    """A warning (not an error): a request goes over TLS without certificate or hostname checks.

    Emitted once per client and host when ``Client(verify=False)``, an ``ssl.SSLContext`` with
    ``CERT_NONE`` or ``check_hostname=False``, or ``urlopen(context=...)`` with such a context
    is used: anyone on the path can read and change such traffic. Silence it where that is
    intended (a test against a self-signed server) with
    ``warnings.simplefilter("ignore", netwire.errors.InsecureRequestWarning)``.
    """


# -- OSError -> netwire error, once ------------------------------------------------------------------

_E = TypeVar("_E", bound=RequestError)


def os_reason(exc: BaseException) -> str:
    """What the OS said about ``exc``: its ``strerror`` ("Connection refused"), else its text.

    asyncio words a refused or unreachable connect as "Connect call failed ('10.0.0.1', 80)" in
    ``strerror``; the errno's own text is used instead, so the async client's messages read as the
    sync client's and uvloop's do.
    """
    strerror = getattr(exc, "strerror", None)
    if strerror and strerror.startswith("Connect call failed"):
        code = getattr(exc, "errno", None)
        if code:
            return os.strerror(code)
    return str(strerror or exc)


def from_os_error(cls: type[_E], doing: str, exc: BaseException, *, why: str | None = None, reason: bool = True) -> _E:
    """The netwire error for ``exc``, an ``OSError`` caught at an I/O edge: ``cls("{doing}: {why}")``.

    ``why`` defaults to :func:`os_reason`; ``reason`` False leaves the message as the error's
    ``reason`` (what :class:`ProxyError` always had) instead of ``exc``. Raise it ``from exc``.
    A plain function, not a context manager: the hot path pays nothing until an error happens.
    """
    message = f"{doing}: {os_reason(exc) if why is None else why}"
    if reason:
        return cls(message, reason=exc)
    return cls(message)
