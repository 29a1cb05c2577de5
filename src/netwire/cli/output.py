"""What the CLI prints for errors, and the exit code each kind of failure gets (stable, documented)."""

from __future__ import annotations

import sys

from .. import errors

# Exit codes, like curl's where they overlap: 6 DNS, 7 connect, 28 timeout, 35 TLS, 22 HTTP error.
EXIT_USAGE = 2
EXIT_DNS = 6
EXIT_CONNECT = 7
EXIT_HTTP_ERROR = 22
EXIT_TIMEOUT = 28
EXIT_TLS = 35
EXIT_PROTOCOL = 8
EXIT_PROXY = 5
EXIT_OTHER = 1


def exit_code(exc: BaseException) -> int:
    import socket

    if isinstance(exc, errors.TimeoutException):
        return EXIT_TIMEOUT
    if isinstance(exc, errors.TLSError):
        return EXIT_TLS
    if isinstance(exc, errors.ProxyError):
        return EXIT_PROXY
    if isinstance(exc, errors.ConnectError):
        return EXIT_DNS if isinstance(exc.reason, socket.gaierror) else EXIT_CONNECT
    if isinstance(exc, errors.ProtocolError):
        return EXIT_PROTOCOL
    if isinstance(exc, errors.HTTPStatusError):
        return EXIT_HTTP_ERROR
    return EXIT_OTHER


def print_error(exc: BaseException) -> int:
    """Print ``netwire: <kind>: <message>`` to stderr and return the exit code for it."""
    print(f"netwire: {type(exc).__name__}: {exc}", file=sys.stderr)
    return exit_code(exc)
