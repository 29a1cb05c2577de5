"""HTTP CONNECT tunnels (RFC 9110 9.3.6): ask an HTTP proxy for a raw TCP path to a target.

:func:`http_connect` sends ``CONNECT host:port HTTP/1.1`` on a socket connected to the proxy,
reads the proxy's reply head without reading a byte past it (whatever follows belongs to the
tunnel, typically the target's TLS handshake), and raises ProxyError with the proxy's status
when it refuses.

:class:`TLSInTLSSocket` runs TLS to the target inside the TLS connection to an https:// proxy
(an ``ssl.SSLSocket`` cannot wrap another one: the inner TLS is an ``ssl.SSLObject`` over
memory buffers, its records carried by the outer socket).
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any

from ..errors import ConnectTimeout, ProtocolError, ProxyError, from_os_error
from .http11 import DEFAULT_LIMITS, ParserLimits, ResponseHead, ResponseParser, encode_request_head

__all__ = ["TLSInTLSSocket", "authority", "http_connect"]

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
            raise from_os_error(ProxyError, f"{where}: sending to the proxy failed", exc, why=str(exc), reason=False) from exc
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
                raise from_os_error(
                    ProxyError, f"{where}: reading from the proxy failed", exc, why=str(exc), reason=False
                ) from exc
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


# The most ciphertext the inner TLS hands the outer socket in one go (bounds the outgoing buffer).
_TLS_CHUNK = 64 * 1024


class TLSInTLSSocket:
    """TLS to a target inside the TLS connection to a proxy, with a blocking socket's interface.

    The inner session is an :class:`ssl.SSLObject` over two :class:`ssl.MemoryBIO`; its records
    travel through ``outer`` (the proxy's :class:`ssl.SSLSocket`, the CONNECT tunnel already
    open on it). What :class:`~netwire.connection.Connection` needs is here: ``recv``,
    ``recv_into``, ``send``, ``sendall``, ``settimeout`` (applied to the outer socket, so each
    wait for the network is bounded as for a plain TLS socket), ``fileno``, ``pending``,
    ``close``. Errors are the ones an ``SSLSocket`` raises (``ssl.SSLError``, ``TimeoutError``,
    ``OSError``), so the caller's error mapping stays the same.
    """

    def __init__(self, outer: ssl.SSLSocket, context: ssl.SSLContext, server_hostname: str) -> None:
        self._outer = outer
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=False, server_hostname=server_hostname)

    # -- the pump: run one SSLObject call, moving records through the outer socket ------------

    def _run(self, call: Any, *args: Any) -> Any:
        # The timeout bounds the whole call, as an SSLSocket's does: one inner read may need
        # several outer reads, and a peer trickling a record byte by byte must not stretch it.
        timeout = self._outer.gettimeout()
        deadline = None if not timeout else time.monotonic() + timeout
        try:
            while True:
                try:
                    result = call(*args)
                except ssl.SSLWantReadError:
                    self._flush()
                    self._rearm(deadline)
                    self._fill()
                    continue
                except ssl.SSLWantWriteError:  # pragma: no cover - a MemoryBIO takes any amount
                    self._flush()
                    continue
                self._flush()
                return result
        finally:
            if deadline is not None:
                self._outer.settimeout(timeout)

    def _rearm(self, deadline: float | None) -> None:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")
            self._outer.settimeout(left)

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self._outer.sendall(data)

    def _fill(self) -> None:
        data = self._outer.recv(_TLS_CHUNK)
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()  # the inner read then raises SSLEOFError (or returns b"")

    # -- the socket interface ---------------------------------------------------------------------

    def do_handshake(self) -> None:
        """The inner TLS handshake (certificate and host name checked by the context)."""
        self._run(self._tls.do_handshake)

    def recv(self, size: int, flags: int = 0) -> bytes:
        if size <= 0:
            return b""
        try:
            data: bytes = self._run(self._tls.read, size)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            # EOF, with or without close_notify: as an SSLSocket's suppress_ragged_eofs (HTTP's
            # own framing tells a cut body from a complete one).
            return b""
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        size = nbytes or len(buffer)
        if size <= 0:
            return 0
        try:
            n: int = self._run(self._tls.read, size, buffer)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return 0
        return n

    def send(self, data: Any, flags: int = 0) -> int:
        view = memoryview(data).cast("B")[:_TLS_CHUNK]
        n: int = self._run(self._tls.write, view)
        return n

    def sendall(self, data: Any, flags: int = 0) -> None:
        view = memoryview(data).cast("B")
        sent = 0
        while sent < len(view):
            sent += self.send(view[sent:])

    def settimeout(self, timeout: float | None) -> None:
        self._outer.settimeout(timeout)

    def gettimeout(self) -> float | None:
        return self._outer.gettimeout()

    def fileno(self) -> int:
        return self._outer.fileno()

    def pending(self) -> int:
        """Bytes already received but not yet read, at either TLS layer (an idle connection has none)."""
        return self._tls.pending() + self._incoming.pending + self._outer.pending()

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The target's certificate (not the proxy's)."""
        return self._tls.getpeercert(binary_form)

    def selected_alpn_protocol(self) -> str | None:
        return self._tls.selected_alpn_protocol()

    def version(self) -> str | None:
        return self._tls.version()

    def cipher(self) -> tuple[str, str, int] | None:
        return self._tls.cipher()

    def close(self) -> None:
        self._outer.close()

    def __repr__(self) -> str:
        return f"<TLSInTLSSocket {self._tls.server_hostname} via {self._outer!r}>"
