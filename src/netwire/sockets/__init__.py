"""TCP, UDP and raw-socket servers and clients: the socket programs people write by hand, done right.

::

    from netwire.sockets import TCPServer, connect_tcp, serve_udp, UDPClient

Names are imported from their modules on first use, so ``import netwire.sockets`` stays cheap
(``asyncio`` is only loaded for the asyncio twins). The modules:

* :mod:`~netwire.sockets.stream`: :class:`Stream`, buffered and framed reads/writes on a connected socket
* :mod:`~netwire.sockets.framing`: the sans-IO line and length-prefix framing both I/O styles share
* :mod:`~netwire.sockets.tcp`: :class:`TCPServer`, :func:`serve_tcp`, :func:`connect_tcp`
* :mod:`~netwire.sockets.unix`: the same over AF_UNIX
* :mod:`~netwire.sockets.udp`: :class:`UDPServer`, :func:`serve_udp`, :class:`UDPClient`, :func:`send_udp`
* :mod:`~netwire.sockets.aio`: :class:`AsyncStream`, :func:`serve_tcp_async`, :func:`connect_tcp_async`
* :mod:`~netwire.sockets.happy_eyeballs`: :func:`connect_tcp_socket` (RFC 8305)
* :mod:`~netwire.sockets.icmp` and :mod:`~netwire.sockets.sniff`: ping and packet capture
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Stream": "stream",
    "ReceiveBuffer": "framing",
    "encode_frame": "framing",
    "encode_line": "framing",
    "TCPServer": "tcp",
    "Connection": "tcp",
    "serve_tcp": "tcp",
    "connect_tcp": "tcp",
    "UnixServer": "unix",
    "serve_unix": "unix",
    "connect_unix": "unix",
    "UDPServer": "udp",
    "UDPClient": "udp",
    "serve_udp": "udp",
    "send_udp": "udp",
    "AsyncStream": "aio",
    "AsyncTCPServer": "aio",
    "serve_tcp_async": "aio",
    "connect_tcp_async": "aio",
    "connect_unix_async": "aio",
    "connect_tcp_socket": "happy_eyeballs",
    "ping": "icmp",
    "Pinger": "icmp",
    "capture": "sniff",
    "PrivilegeError": "errors",
}

__all__ = [
    "AsyncStream",
    "AsyncTCPServer",
    "Connection",
    "Pinger",
    "PrivilegeError",
    "ReceiveBuffer",
    "Stream",
    "TCPServer",
    "UDPClient",
    "UDPServer",
    "UnixServer",
    "capture",
    "connect_tcp",
    "connect_tcp_async",
    "connect_tcp_socket",
    "connect_unix",
    "connect_unix_async",
    "encode_frame",
    "encode_line",
    "ping",
    "send_udp",
    "serve_tcp",
    "serve_tcp_async",
    "serve_udp",
    "serve_unix",
]

if TYPE_CHECKING:
    from .aio import AsyncStream, AsyncTCPServer, connect_tcp_async, connect_unix_async, serve_tcp_async
    from .errors import PrivilegeError
    from .framing import ReceiveBuffer, encode_frame, encode_line
    from .happy_eyeballs import connect_tcp_socket
    from .icmp import Pinger, ping
    from .sniff import capture
    from .stream import Stream
    from .tcp import Connection, TCPServer, connect_tcp, serve_tcp
    from .udp import UDPClient, UDPServer, send_udp, serve_udp
    from .unix import UnixServer, connect_unix, serve_unix


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'netwire.sockets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
