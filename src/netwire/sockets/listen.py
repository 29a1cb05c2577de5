"""Creating listening (and bound datagram) sockets: dual-stack, SO_REUSEADDR, AF_UNIX."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import sys
from typing import Any

__all__ = ["AF_UNIX", "bind_sockets", "remove_stale_unix_socket"]

_WILDCARDS = (None, "", "*")
#: socket.AF_UNIX, or -1 where the platform has no unix sockets (so comparisons stay valid).
AF_UNIX: int = getattr(socket, "AF_UNIX", -1)


def remove_stale_unix_socket(path: str) -> None:
    """Remove ``path`` if it is a socket file nobody listens on (left by a crashed server).

    A regular file, or a socket a live server still listens on, is left alone, so bind() then
    fails with ``EADDRINUSE`` as it should.
    """
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return
    except OSError:
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(0.5)
        probe.connect(path)
    except ConnectionRefusedError:
        with contextlib.suppress(OSError):
            os.unlink(path)
    except OSError:
        pass
    finally:
        probe.close()


def _prepare(sock: socket.socket, reuse_port: bool) -> None:
    if sys.platform != "win32":
        # Lets a restarted server bind while old connections sit in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        if not hasattr(socket, "SO_REUSEPORT"):
            raise OSError("SO_REUSEPORT is not available on this platform")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)


def bind_sockets(
    host: str | None,
    port: int,
    *,
    kind: int = socket.SOCK_STREAM,
    family: int = socket.AF_UNSPEC,
    backlog: int | None = 128,
    reuse_port: bool = False,
) -> list[socket.socket]:
    """Bound (and, for streams, listening) sockets for ``host``:``port``.

    * ``family=AF_UNIX``: ``host`` is the socket path (a stale socket file is removed first).
    * wildcard host (``None``, ``""`` or ``"*"``) with ``AF_UNSPEC``: one IPv6 socket on ``::``
      that also accepts IPv4 (``IPV6_V6ONLY`` off), or ``0.0.0.0`` where IPv6 is missing.
    * a name such as ``localhost``: one socket per address it resolves to, all on the same port
      (when ``port`` is 0, the port the first one got).
    """
    if family == AF_UNIX:
        if not host:
            raise ValueError("an AF_UNIX server needs a path")
        remove_stale_unix_socket(host)
        sock = socket.socket(socket.AF_UNIX, kind)
        try:
            sock.bind(host)
            if backlog is not None:
                sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
        return [sock]

    targets: list[tuple[int, Any, bool | None]]
    if host in _WILDCARDS:
        if family == socket.AF_INET or (family == socket.AF_UNSPEC and not socket.has_ipv6):
            targets = [(socket.AF_INET, ("0.0.0.0", port), None)]
        else:
            targets = [(socket.AF_INET6, ("::", port, 0, 0), family == socket.AF_INET6)]
    else:
        assert host is not None
        infos = socket.getaddrinfo(host, port, family, kind, 0, socket.AI_PASSIVE)
        seen: set[tuple[int, object]] = set()
        targets = []
        for info in infos:
            fam, addr = int(info[0]), info[4]
            if (fam, addr) in seen or fam not in (socket.AF_INET, socket.AF_INET6):
                continue
            seen.add((fam, addr))
            # Several families: each IPv6 socket only takes IPv6, the IPv4 one takes the rest.
            targets.append((fam, addr, True if fam == socket.AF_INET6 else None))

    socks: list[socket.socket] = []
    try:
        for target_family, addr, v6only in targets:
            sock = socket.socket(target_family, kind)
            socks.append(sock)
            _prepare(sock, reuse_port)
            if v6only is not None:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
            if port == 0 and len(socks) > 1:
                addr = (addr[0], socks[0].getsockname()[1], *addr[2:])
            sock.bind(addr)
            if backlog is not None:
                sock.listen(backlog)
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks
