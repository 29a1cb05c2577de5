"""AF_UNIX stream servers and clients, with the same API as TCP.

A unix socket server is a :class:`~netwire.sockets.tcp.TCPServer` bound to a path (stale socket
files left by a crashed server are removed, the file is removed again on close); a client gets the
same :class:`~netwire.sockets.stream.Stream`.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from ..errors import ConnectError, ConnectTimeout
from .stream import Stream
from .tcp import Framing, MessageHandler, StreamHandler, TCPServer, run_with_signals

__all__ = ["UnixServer", "connect_unix", "serve_unix"]


def _require_af_unix() -> None:
    if not hasattr(socket, "AF_UNIX"):
        raise OSError(f"AF_UNIX sockets are not available on {sys.platform}")


def connect_unix(path: str, *, timeout: float | None = 10.0) -> Stream:
    """Connect to the unix stream socket at ``path``; ``timeout`` as in :func:`connect_tcp`."""
    _require_af_unix()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
    except TimeoutError as exc:
        sock.close()
        raise ConnectTimeout(f"connect to unix socket {path} timed out after {timeout} s") from exc
    except OSError as exc:
        sock.close()
        raise ConnectError(f"connect to unix socket {path} failed (connecting: {exc})", reason=exc) from exc
    return Stream(sock, timeout=timeout)


class UnixServer(TCPServer):
    """A :class:`~netwire.sockets.tcp.TCPServer` listening on the unix socket ``path``."""

    def __init__(self, handler: StreamHandler | MessageHandler, path: str, **kwargs: Any) -> None:
        _require_af_unix()
        kwargs["family"] = socket.AF_UNIX
        super().__init__(handler, path, 0, **kwargs)

    @property
    def path(self) -> str:
        """The socket file's path."""
        return str(self.address)


def serve_unix(
    handler: StreamHandler | MessageHandler,
    path: str,
    *,
    backlog: int = 128,
    timeout: float | None = 60.0,
    max_connections: int = 1024,
    framing: Framing | None = None,
    grace: float = 5.0,
    **limits: Any,
) -> None:
    """Like :func:`~netwire.sockets.tcp.serve_tcp`, on the unix socket ``path``; ``limits`` are
    :class:`~netwire.sockets.tcp.TCPServer`'s other keyword arguments (``max_message``,
    ``max_lifetime``, ``message_timeout``, ``write_high``, ``write_low``, ``max_buffered``)."""
    server = UnixServer(
        handler, path, backlog=backlog, timeout=timeout, max_connections=max_connections,
        framing=framing, grace=grace, **limits,
    )
    run_with_signals(server.serve_forever, server.close, lambda: None)
