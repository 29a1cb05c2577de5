"""What the CLI prints for errors, and the exit code each kind of failure gets (stable, documented).

The codes are curl's where curl has one for the same failure, so scripts written for curl keep
working; ``docs/cli.md`` and ``docs/errors.md`` list them. Never renumber one: add new ones.
"""

from __future__ import annotations

import sys

from .. import errors

EXIT_OK = 0
EXIT_OTHER = 1  # a failure without a code of its own
EXIT_USAGE = 2  # bad options or arguments
EXIT_URL = 3  # the URL is malformed (curl: URL_MALFORMAT)
EXIT_PROXY = 5  # the proxy failed or refused (curl: COULDNT_RESOLVE_PROXY, nearest)
EXIT_DNS = 6  # the host name did not resolve
EXIT_CONNECT = 7  # refused, unreachable
EXIT_PROTOCOL = 8  # the server broke HTTP/1.1 (curl: WEIRD_SERVER_REPLY)
EXIT_ROBOTS = 9  # --respect-robots and robots.txt disallows the URL (curl: REMOTE_ACCESS_DENIED)
EXIT_PARTIAL = 18  # the connection closed before the whole body came (curl: PARTIAL_FILE)
EXIT_HTTP_ERROR = 22  # --fail and the status was >= 400
EXIT_WRITE = 23  # writing the body (file, stdout) failed
EXIT_READ_FILE = 26  # reading a local file for the request body failed
EXIT_TIMEOUT = 28  # a connect, read, write or total deadline passed
EXIT_RANGE = 33  # -C: the server ignored or refused the Range request
EXIT_TLS = 35  # TLS handshake or certificate verification failed
EXIT_REDIRECTS = 47  # more redirects than --max-redirs, or an unsafe one
EXIT_RECV = 56  # the connection was reset or closed mid-response
EXIT_DECODING = 61  # the body's Content-Encoding could not be decoded
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)

#: code -> what it means, for help texts and the docs (kept in the order of the codes).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success (any HTTP status, unless --fail)",
    EXIT_OTHER: "other failure",
    EXIT_USAGE: "usage error: bad option or argument",
    EXIT_URL: "malformed URL",
    EXIT_PROXY: "proxy failure",
    EXIT_DNS: "host name could not be resolved",
    EXIT_CONNECT: "could not connect (refused, unreachable)",
    EXIT_PROTOCOL: "the server broke HTTP/1.1",
    EXIT_ROBOTS: "robots.txt disallows the URL (--respect-robots)",
    EXIT_PARTIAL: "the body was cut short: the connection closed before its end",
    EXIT_HTTP_ERROR: "HTTP status >= 400 with --fail",
    EXIT_WRITE: "could not write the output",
    EXIT_READ_FILE: "could not read a file given for the request body",
    EXIT_TIMEOUT: "timeout (connect, read, write or --max-time)",
    EXIT_RANGE: "resume (-C) impossible: the server ignored the Range",
    EXIT_TLS: "TLS failure (handshake, certificate, host name)",
    EXIT_REDIRECTS: "too many redirects, or an unsafe one",
    EXIT_RECV: "connection reset or closed while sending or receiving",
    EXIT_DECODING: "the body's Content-Encoding could not be decoded",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); a partial download is kept",
}


def exit_code(exc: BaseException) -> int:
    """The exit code for a netwire exception (``EXIT_OTHER`` for anything unexpected)."""
    import socket

    if isinstance(exc, errors.InvalidURL):
        return EXIT_URL
    if isinstance(exc, errors.TimeoutException):
        return EXIT_TIMEOUT
    if isinstance(exc, errors.TLSError):
        return EXIT_TLS
    if isinstance(exc, errors.ProxyError):
        return EXIT_PROXY
    if isinstance(exc, errors.ConnectError):
        return EXIT_DNS if isinstance(exc.reason, socket.gaierror) else EXIT_CONNECT
    if isinstance(exc, errors.ProtocolError):
        from ..http.http11 import IncompleteResponse

        return EXIT_PARTIAL if isinstance(exc, IncompleteResponse) else EXIT_PROTOCOL
    if isinstance(exc, errors.ReadError | errors.WriteError):
        return EXIT_RECV
    if isinstance(exc, errors.TooManyRedirects | errors.UnsafeRedirect):
        return EXIT_REDIRECTS
    if isinstance(exc, errors.RobotsDisallowed):
        return EXIT_ROBOTS
    if isinstance(exc, errors.DecodingError):
        return EXIT_DECODING
    if isinstance(exc, errors.HTTPStatusError):
        return EXIT_HTTP_ERROR
    return EXIT_OTHER


def describe(exc: BaseException) -> str:
    """A short name for the kind of failure, for the error line."""
    if isinstance(exc, errors.ConnectError) and not isinstance(exc, errors.TLSError):
        import socket

        return "DNS" if isinstance(exc.reason, socket.gaierror) else "connect"
    from ..http.http11 import IncompleteResponse

    return {
        IncompleteResponse: "partial body",
        errors.TLSError: "TLS",
        errors.ProxyError: "proxy",
        errors.ProtocolError: "protocol",
        errors.LocalProtocolError: "protocol",
        errors.InvalidURL: "URL",
        errors.RobotsDisallowed: "robots.txt",
        errors.TooManyRedirects: "redirects",
        errors.UnsafeRedirect: "redirects",
        errors.DecodingError: "decoding",
        errors.ReadError: "receive",
        errors.WriteError: "send",
    }.get(type(exc), "timeout" if isinstance(exc, errors.TimeoutException) else type(exc).__name__)


def print_error(exc: BaseException) -> int:
    """Print ``netwire: <kind> error: <message>`` to stderr and return the exit code for it."""
    from .color import visible

    # A message may quote what a server sent (a header, a reason phrase): shown, never acted on.
    print(f"netwire: {describe(exc)} error: {visible(str(exc))}", file=sys.stderr)
    return exit_code(exc)
