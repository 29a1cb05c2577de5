"""Happy eyeballs (RFC 8305): connect to the first address of a host that answers.

:func:`connect_tcp_socket` resolves a host, orders its addresses by interleaving the address
families (starting with the family the resolver put first, as RFC 8305 section 4 asks), and starts
one connection attempt every ``delay`` seconds until one succeeds. Attempts run side by side as
non-blocking sockets watched by one :mod:`selectors` selector: no thread per attempt. A failed
attempt starts the next one at once instead of waiting out the delay. The first socket that
connects wins; the others are closed.

When the resolver returns a single address (the common case for ``127.0.0.1`` or a literal IP),
the fast path does one plain blocking ``connect`` with no selector at all.

Resolution itself (``getaddrinfo``) cannot be interrupted, so the timeout only bounds it when the
resolver returns in time; the remaining budget then applies to the connection attempts.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConnectError, ConnectTimeout

__all__ = ["AddrInfo", "connect_tcp_socket", "interleave_addresses"]

#: One ``getaddrinfo`` result: (family, type, proto, canonname, sockaddr).
AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]

# connect_ex() on a non-blocking socket reports "started, not finished yet" with one of these.
_IN_PROGRESS = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, getattr(errno, "WSAEWOULDBLOCK", -1)}


def interleave_addresses(infos: Sequence[AddrInfo]) -> list[AddrInfo]:
    """Order addresses as RFC 8305 section 4 says: alternate families, first family first.

    Duplicate socket addresses are dropped (resolvers often return one per protocol).
    """
    seen: set[tuple[int, Any]] = set()
    by_family: dict[int, list[AddrInfo]] = {}
    for info in infos:
        key = (info[0], info[4])
        if key in seen:
            continue
        seen.add(key)
        by_family.setdefault(info[0], []).append(info)
    queues = list(by_family.values())  # dicts keep insertion order: first family stays first
    ordered: list[AddrInfo] = []
    while queues:
        for queue in list(queues):
            ordered.append(queue.pop(0))
            if not queue:
                queues.remove(queue)
    return ordered


def _format_addr(sockaddr: Any) -> str:
    if isinstance(sockaddr, tuple) and len(sockaddr) >= 2:
        host, port = sockaddr[0], sockaddr[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(sockaddr)


def _source_family(source_address: tuple[str, int] | None) -> int | None:
    """The family a source address forces, or None when it fits both (empty host)."""
    if source_address is None or not source_address[0]:
        return None
    for fam in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(fam, source_address[0].split("%", 1)[0])
            return fam
        except OSError:
            continue
    return None  # a name: let bind() resolve it per family


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return deadline - time.monotonic()


def _timeout_error(host: str, port: int, timeout: float | None, tried: list[str]) -> ConnectTimeout:
    where = f" (tried {', '.join(tried)})" if tried else ""
    return ConnectTimeout(f"connect to {host} port {port} timed out after {timeout} s{where}")


def _fail(host: str, port: int, errors: list[tuple[str, OSError]]) -> ConnectError:
    detail = "; ".join(f"{addr}: {err.strerror or err}" for addr, err in errors)
    last = errors[-1][1]
    return ConnectError(f"connect to {host} port {port} failed (connecting: {detail})", reason=last)


def connect_tcp_socket(
    host: str,
    port: int,
    *,
    timeout: float | None,
    source_address: tuple[str, int] | None = None,
    family: int = socket.AF_UNSPEC,
    delay: float = 0.25,
    resolved: Callable[[list[AddrInfo]], object] | None = None,
) -> socket.socket:
    """Connect a TCP socket to ``host``:``port`` with happy eyeballs and return it.

    The returned socket is connected and blocking (its timeout reset to ``None``); options such
    as ``TCP_NODELAY`` are left to the caller. ``timeout`` bounds the whole connect (all attempts);
    ``None`` waits as long as the kernel does. ``family`` restricts resolution
    (``socket.AF_INET``/``AF_INET6``); ``source_address`` is bound before connecting; ``delay`` is
    the head start each attempt gets before the next address is tried; ``resolved`` is called
    with the addresses to try, in order, once resolution is done (tracing).

    Raises :class:`~netwire.errors.ConnectError` (``reason`` holds the ``socket.gaierror`` or the
    last attempt's ``OSError``; the message names host, port and the phase that failed) or
    :class:`~netwire.errors.ConnectTimeout`.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ConnectError(f"connect to {host} port {port} failed (resolving: {exc})", reason=exc) from exc
    except UnicodeError as exc:  # the idna codec refuses some labels
        raise ConnectError(f"connect to {host} port {port} failed (resolving: {exc})", reason=exc) from exc
    wanted = _source_family(source_address)
    if wanted is not None:
        infos = [i for i in infos if i[0] == wanted]
        if not infos:
            err = OSError(errno.EAFNOSUPPORT, f"no address of {host} matches source address family")
            raise ConnectError(
                f"connect to {host} port {port} failed (choosing address: {err.strerror})", reason=err
            )
    ordered = interleave_addresses(infos)
    if resolved is not None:
        resolved(ordered)
    return connect_addrinfos(
        host, port, ordered,
        timeout=timeout, deadline=deadline, source_address=source_address, delay=delay,
    )


def connect_addrinfos(
    host: str,
    port: int,
    infos: Sequence[AddrInfo],
    *,
    timeout: float | None,
    deadline: float | None = None,
    source_address: tuple[str, int] | None = None,
    delay: float = 0.25,
) -> socket.socket:
    """Race connection attempts to already resolved, already ordered ``infos``.

    The second half of :func:`connect_tcp_socket`, public so that callers with their own resolver
    (and tests) can use it. ``host`` and ``port`` only name the target in error messages.
    """
    if deadline is None and timeout is not None:
        deadline = time.monotonic() + timeout
    if not infos:
        err = OSError(errno.EADDRNOTAVAIL, "no addresses to connect to")
        raise ConnectError(f"connect to {host} port {port} failed (resolving: no addresses)", reason=err)
    if len(infos) == 1:
        return _connect_one(host, port, infos[0], timeout, deadline, source_address)
    return _race(host, port, infos, timeout, deadline, source_address, delay)


def _connect_one(
    host: str,
    port: int,
    info: AddrInfo,
    timeout: float | None,
    deadline: float | None,
    source_address: tuple[str, int] | None,
) -> socket.socket:
    fam, kind, proto, _, sockaddr = info
    addr = _format_addr(sockaddr)
    try:
        sock = socket.socket(fam, kind, proto)
    except OSError as exc:
        raise _fail(host, port, [(addr, exc)]) from exc
    try:
        if source_address is not None:
            sock.bind(source_address)
        left = _remaining(deadline)
        if left is not None and left <= 0:
            raise _timeout_error(host, port, timeout, [addr])
        sock.settimeout(left)
        sock.connect(sockaddr)
        sock.settimeout(None)
        return sock
    except ConnectTimeout:
        sock.close()
        raise
    except TimeoutError as exc:
        sock.close()
        raise _timeout_error(host, port, timeout, [addr]) from exc
    except OSError as exc:
        sock.close()
        raise _fail(host, port, [(addr, exc)]) from exc
    except BaseException:
        sock.close()
        raise


def _start(info: AddrInfo, source_address: tuple[str, int] | None) -> tuple[socket.socket, int]:
    """Begin a non-blocking connect; returns (socket, 0 or in-progress errno) or raises OSError."""
    fam, kind, proto, _, sockaddr = info
    sock = socket.socket(fam, kind, proto)
    try:
        sock.setblocking(False)
        if source_address is not None:
            sock.bind(source_address)
        code = sock.connect_ex(sockaddr)
    except BaseException:
        sock.close()
        raise
    if code == 0 or code in _IN_PROGRESS:
        return sock, code
    sock.close()
    raise OSError(code, os.strerror(code))


def _race(
    host: str,
    port: int,
    infos: Sequence[AddrInfo],
    timeout: float | None,
    deadline: float | None,
    source_address: tuple[str, int] | None,
    delay: float,
) -> socket.socket:
    pending = list(infos)
    errors: list[tuple[str, OSError]] = []
    tried: list[str] = []
    winner: socket.socket | None = None
    sel = selectors.DefaultSelector()
    try:
        next_start = time.monotonic()
        while True:
            now = time.monotonic()
            # Start the next attempt when its turn comes, or at once if nothing is in flight.
            while pending and (now >= next_start or not sel.get_map()):
                info = pending.pop(0)
                addr = _format_addr(info[4])
                tried.append(addr)
                try:
                    sock, code = _start(info, source_address)
                except OSError as exc:
                    errors.append((addr, exc))
                    continue
                if code == 0:
                    winner = sock
                    return sock
                sel.register(sock, selectors.EVENT_WRITE, addr)
                next_start = time.monotonic() + delay
                break
            if winner is not None:
                return winner
            if not sel.get_map():
                if errors:
                    raise _fail(host, port, errors)
                raise _fail(host, port, [("?", OSError(errno.EADDRNOTAVAIL, "no address could be tried"))])
            left = _remaining(deadline)
            if left is not None and left <= 0:
                raise _timeout_error(host, port, timeout, tried)
            wait = left
            if pending:
                until_next = max(0.0, next_start - time.monotonic())
                wait = until_next if wait is None else min(wait, until_next)
            for key, _ in sel.select(wait):
                attempt = key.fileobj
                assert isinstance(attempt, socket.socket)
                code = attempt.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                sel.unregister(attempt)
                if code == 0:
                    winner = attempt
                    break
                attempt.close()
                errors.append((key.data, OSError(code, os.strerror(code))))
                # A failure hands its turn to the next address straight away (RFC 8305 section 5).
                next_start = time.monotonic()
            if winner is not None:
                winner.setblocking(True)
                return winner
    finally:
        for key in list(sel.get_map().values()):
            loser = key.fileobj
            assert isinstance(loser, socket.socket)
            sel.unregister(loser)
            loser.close()
        sel.close()
        if winner is not None:
            winner.setblocking(True)
