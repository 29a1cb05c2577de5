"""HTTP CONNECT tunnels (RFC 9110 9.3.6): ask an HTTP proxy for a raw TCP path to a target.

:func:`http_connect` sends ``CONNECT host:port HTTP/1.1`` on a socket connected to the proxy,
reads the proxy's reply head without reading a byte past it (whatever follows belongs to the
tunnel, typically the target's TLS handshake), and raises ProxyError with the proxy's status
when it refuses.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Iterable

from .errors import ConnectTimeout, ProtocolError, ProxyError
from .http11 import DEFAULT_LIMITS, ParserLimits, ResponseHead, ResponseParser, encode_request_head

__all__ = ["authority", "http_connect"]

_PEEK_SIZE = 4096


def authority(host: str, port: int) -> str:
    """The authority-form target ``host:port`` (IPv6 literals in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


# The blank line ending a head, as the response parser accepts it (bare LFs included).
_HEAD_END = re.compile(rb"\r?\n\r?\n")


def _head_end(data: bytes) -> int:
    """Index just past the blank line ending a response head, or -1."""
    m = _HEAD_END.search(data)
    return -1 if m is None else m.end()


def http_connect(
    sock: socket.socket,
    target_host: str,
    target_port: int,
    *,
    headers: Iterable[tuple[str, str]] = (),
    timeout: float | None = None,
    limits: ParserLimits = DEFAULT_LIMITS,
) -> ResponseHead:
    """Open a tunnel to ``target_host:target_port`` through the HTTP proxy ``sock`` is connected to.

    ``headers`` go with the CONNECT (``Proxy-Authorization``, ``User-Agent``; Host is added).
    ``timeout`` bounds the whole exchange. Returns the proxy's 2xx reply head; ``sock`` then
    carries the tunnel with no byte of it consumed. Raises ProxyError (``status`` set) for a
    non-2xx reply, ProxyError for a proxy that closes or breaks HTTP, ConnectTimeout.
    """
    target = authority(target_host, target_port)
    fields = [("Host", target)]
    fields += [(k, v) for k, v in headers if k.lower() != "host"]
    head = encode_request_head("CONNECT", target, fields)
    deadline = None if timeout is None else time.monotonic() + timeout
    where = f"CONNECT {target} via proxy"
    old_timeout = sock.gettimeout()
    parser = ResponseParser("CONNECT", limits)
    try:
        _arm(sock, deadline, where)
        try:
            sock.sendall(head)
        except TimeoutError:
            raise ConnectTimeout(f"{where} timed out sending the request") from None
        except OSError as exc:
            raise ProxyError(f"{where}: sending to the proxy failed: {exc}") from exc
        seen = bytearray()
        # A plain socket can be peeked: look ahead, then take exactly up to the end of the head.
        # A TLS socket (an https proxy) cannot; it is read a byte at a time (a reply head is small).
        peekable = not isinstance(sock, ssl.SSLSocket)
        while True:
            _arm(sock, deadline, where)
            try:
                if peekable:
                    window = sock.recv(_PEEK_SIZE, socket.MSG_PEEK)
                    take = len(window)
                    if window:
                        # The blank line may straddle what was taken before and what is new.
                        back = min(len(seen), 3)
                        end = _head_end(bytes(seen[len(seen) - back :]) + window)
                        if end >= 0:
                            take = end - back
                    data = sock.recv(take) if take else b""
                else:
                    data = sock.recv(1)
            except TimeoutError:
                raise ConnectTimeout(f"{where} timed out waiting for the proxy's reply") from None
            except OSError as exc:
                raise ProxyError(f"{where}: reading from the proxy failed: {exc}") from exc
            if not data:
                raise ProxyError(f"{where}: the proxy closed the connection before replying")
            seen += data
            if len(seen) > limits.max_header_bytes:
                raise ProxyError(f"{where}: the proxy's reply head exceeds {limits.max_header_bytes} bytes")
            try:
                events = parser.feed(data)
            except ProtocolError as exc:
                raise ProxyError(f"{where}: the proxy's reply is not valid HTTP: {exc}") from exc
            for event in events:
                if type(event) is ResponseHead:
                    if 200 <= event.status < 300:
                        return event
                    raise ProxyError(
                        f"proxy refused CONNECT to {target}: {event.status} {event.reason}".rstrip(),
                        status=event.status,
                    )
    finally:
        try:
            sock.settimeout(old_timeout)
        except OSError:
            pass


def _arm(sock: socket.socket, deadline: float | None, where: str) -> None:
    if deadline is None:
        sock.settimeout(None)
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise ConnectTimeout(f"{where} timed out")
    sock.settimeout(left)
