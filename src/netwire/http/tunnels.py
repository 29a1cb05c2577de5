"""Tunnels through proxies: HTTP CONNECT (RFC 9110 9.3.6) and SOCKS5 (RFC 1928/1929).

Both handshakes are sans-IO state machines, driven by the sync client over a blocking socket
(:func:`http_connect`, :func:`socks5_connect`, here) and by the async one over an asyncio
transport (``aio_connection._http_connect`` / ``_socks5``):

- :class:`ConnectHandshake`: sends ``CONNECT host:port HTTP/1.1``, parses the proxy's reply with
  :mod:`netwire.http.http11`'s parser (its limits), raises ProxyError with the proxy's status
  when it refuses. :func:`http_connect` reads the reply head without reading a byte past it
  (whatever follows belongs to the tunnel, typically the target's TLS handshake).
- :class:`Socks5Handshake`: says what to send (``bytes_to_send()``), how many bytes it needs
  next (``bytes_needed``), and consumes what the proxy answered (``receive(data)``). The reply's
  size is known piece by piece, so a driver that reads exactly ``bytes_needed`` bytes never
  takes a byte of the tunnel. ``socks5`` resolves the target name locally and sends the
  address; ``socks5h`` (``remote_dns``) sends the name and lets the proxy resolve it.

:class:`TLSInTLSSocket` runs TLS to the target inside the TLS connection to an https:// proxy
(an ``ssl.SSLSocket`` cannot wrap another one: the inner TLS is an ``ssl.SSLObject`` over
memory buffers, its records carried by the outer socket).

The old module paths ``netwire.http.proxy_tunnel`` and ``netwire.http.socks`` re-export these.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import struct
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import ConnectError, ConnectTimeout, ProtocolError, ProxyError, from_os_error
from .http11 import DEFAULT_LIMITS, ParserLimits, ResponseHead, ResponseParser, encode_request_head
from .trace import emit, tunnel_done

if TYPE_CHECKING:
    from .policy.proxies import Proxy
    from .trace import TraceHook

__all__ = [
    "REPLY_CODES",
    "ConnectHandshake",
    "Socks5Handshake",
    "TLSInTLSSocket",
    "authority",
    "http_connect",
    "open_tunnel",
    "socks5_connect",
    "traced_tunnel",
]

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


class ConnectHandshake:
    """The client side of an HTTP CONNECT (RFC 9110 9.3.6), as a state machine without I/O.

    Send :attr:`request` (once), then hand every byte read from the proxy to :meth:`receive`
    until it returns the proxy's 2xx reply head. It raises :class:`~netwire.errors.ProxyError`
    for a refusal (``status`` set), a reply that is not HTTP, or a reply head larger than
    ``limits.max_header_bytes``. Bytes after the head belong to the tunnel:
    :attr:`trailing_data` holds any the driver read past it (the sync driver never does).
    Both clients drive it: :func:`http_connect` over a blocking socket, and
    ``aio_connection._http_connect`` over an asyncio transport.
    """

    __slots__ = ("_limit", "_parser", "_seen", "request", "target", "where")

    def __init__(
        self, host: str, port: int, headers: Iterable[tuple[str, str]] = (), limits: ParserLimits = DEFAULT_LIMITS
    ) -> None:
        self.target = authority(host, port)
        fields = [("Host", self.target)]
        fields += [(k, v) for k, v in headers if k.lower() != "host"]
        self.request: bytes = encode_request_head("CONNECT", self.target, fields)
        """The CONNECT head to send."""
        self.where = f"CONNECT {self.target} via proxy"
        self._parser = ResponseParser("CONNECT", limits)
        self._limit = limits.max_header_bytes
        self._seen = 0

    def receive(self, data: bytes) -> ResponseHead | None:
        """Take bytes from the proxy: its 2xx reply head once complete, else None (read more)."""
        if not data:
            raise ProxyError(f"{self.where}: the proxy closed the connection before replying")
        self._seen += len(data)
        if self._seen > self._limit:
            raise ProxyError(f"{self.where}: the proxy's reply head exceeds {self._limit} bytes")
        try:
            events = self._parser.feed(data)
        except ProtocolError as exc:
            raise ProxyError(f"{self.where}: the proxy's reply is not valid HTTP: {exc}") from exc
        for event in events:
            if type(event) is ResponseHead:
                if 200 <= event.status < 300:
                    return event
                raise ProxyError(
                    f"proxy refused CONNECT to {self.target}: {event.status} {event.reason}".rstrip(),
                    status=event.status,
                )
        return None

    @property
    def trailing_data(self) -> bytes:
        """Bytes received after the reply head (the tunnel's first bytes)."""
        return bytes(self._parser.trailing_data)


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
    machine = ConnectHandshake(target_host, target_port, headers, limits)
    deadline = None if timeout is None else time.monotonic() + timeout
    where = machine.where
    old_timeout = sock.gettimeout()
    try:
        _arm(sock, deadline, where)
        try:
            sock.sendall(machine.request)
        except TimeoutError:
            raise ConnectTimeout(f"{where} timed out sending the request") from None
        except OSError as exc:
            raise from_os_error(ProxyError, f"{where}: sending to the proxy failed", exc, why=str(exc), reason=False) from exc
        tail = b""  # the last bytes taken, where a head's blank line may start
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
                        end = _head_end(tail + window)
                        if end >= 0:
                            take = end - len(tail)
                    data = sock.recv(take) if take else b""
                else:
                    data = sock.recv(1)
            except TimeoutError:
                raise ConnectTimeout(f"{where} timed out waiting for the proxy's reply") from None
            except OSError as exc:
                raise from_os_error(ProxyError, f"{where}: reading from the proxy failed", exc, why=str(exc), reason=False) from exc
            tail = (tail + data)[-3:]
            head = machine.receive(data)
            if head is not None:
                return head
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
    open on it). What :class:`~netwire.http.connection.HTTP11Connection` needs is here: ``recv``,
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


# -- SOCKS5 ---------------------------------------------------------------------------------------

REPLY_CODES = {
    0x01: "general SOCKS server failure",
    0x02: "connection not allowed by ruleset",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0x07: "command not supported",
    0x08: "address type not supported",
}

_NO_AUTH = 0x00
_USER_PASS = 0x02
_NO_ACCEPTABLE = 0xFF

_S_METHOD = 0
_S_AUTH = 1
_S_REPLY_HEAD = 2
_S_REPLY_REST = 3
_S_DONE = 4


class Socks5Handshake:
    """The client side of a SOCKS5 CONNECT handshake, as a state machine without I/O.

    :param host: the target: an IP address, or a name (sent as is when ``remote_dns``).
    :param port: the target port.
    :param auth: (username, password) offered with RFC 1929; "no authentication" is offered too.
    :param remote_dns: send a name for the proxy to resolve (socks5h). When False the host must
        already be an IP address (resolve it first; :func:`socks5_connect` does).
    """

    def __init__(
        self,
        host: str,
        port: int,
        auth: tuple[str, str] | None = None,
        remote_dns: bool = True,
    ) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"invalid port {port}")
        self.host = host
        self.port = port
        self.auth = auth
        self._address = self._encode_address(host, remote_dns)
        self._out = bytearray()
        self._buf = bytearray()
        self._state = _S_METHOD
        self._need = 2
        self.bound_address: tuple[str, int] | None = None
        self.method: int | None = None
        methods = bytes([_NO_AUTH, _USER_PASS]) if auth is not None else bytes([_NO_AUTH])
        self._out += bytes([5, len(methods)]) + methods

    @staticmethod
    def _encode_address(host: str, remote_dns: bool) -> bytes:
        bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            ip = ipaddress.ip_address(bare)
        except ValueError:
            ip = None
        if ip is not None:
            if ip.version == 4:
                return b"\x01" + ip.packed
            return b"\x04" + ip.packed
        if not remote_dns:
            raise ValueError(f"SOCKS5 without remote DNS needs an IP address, not {host!r}: resolve it first")
        name = host.rstrip(".").encode("idna") if not host.isascii() else host.encode("ascii")
        if not name or len(name) > 255:
            raise ValueError(f"host name {host!r} cannot be sent to a SOCKS5 proxy (1 to 255 bytes)")
        return b"\x03" + bytes([len(name)]) + name

    # -- driving ------------------------------------------------------------------------------

    def bytes_to_send(self) -> bytes:
        """What to send to the proxy now (b"" when waiting for its answer)."""
        out = bytes(self._out)
        self._out.clear()
        return out

    @property
    def bytes_needed(self) -> int:
        """How many more bytes the next step needs (0 once done). Reading exactly this many never over-reads."""
        if self._state == _S_DONE:
            return 0
        return max(self._need - len(self._buf), 0)

    @property
    def done(self) -> bool:
        return self._state == _S_DONE

    @property
    def unused(self) -> bytes:
        """Bytes received past the end of the handshake (they belong to the tunnel)."""
        return bytes(self._buf) if self._state == _S_DONE else b""

    def receive(self, data: bytes) -> bool:
        """Consume bytes from the proxy; True once the tunnel is open. Raises ProxyError on refusal."""
        self._buf += data
        while self._state != _S_DONE and len(self._buf) >= self._need:
            self._step()
        return self._state == _S_DONE

    def _take(self, n: int) -> bytes:
        chunk = bytes(self._buf[:n])
        del self._buf[:n]
        return chunk

    def _request(self) -> None:
        self._out += b"\x05\x01\x00" + self._address + struct.pack("!H", self.port)
        self._state = _S_REPLY_HEAD
        self._need = 5  # VER REP RSV ATYP and the first address byte (a name's length)

    def _step(self) -> None:
        state = self._state
        if state == _S_METHOD:
            ver, method = self._take(2)
            if ver != 5:
                raise ProxyError(f"not a SOCKS5 proxy (it answered version {ver})")
            self.method = method
            if method == _NO_AUTH:
                self._request()
            elif method == _USER_PASS and self.auth is not None:
                user = self.auth[0].encode("utf-8")
                password = self.auth[1].encode("utf-8")
                if not (0 < len(user) < 256 and len(password) < 256):
                    raise ProxyError("SOCKS5 username must be 1-255 bytes and password at most 255 bytes")
                self._out += bytes([1, len(user)]) + user + bytes([len(password)]) + password
                self._state = _S_AUTH
                self._need = 2
            elif method == _NO_ACCEPTABLE:
                offered = "no authentication or username/password" if self.auth else "no authentication"
                raise ProxyError(f"SOCKS5 proxy accepts none of the methods offered ({offered})")
            else:
                raise ProxyError(f"SOCKS5 proxy chose authentication method {method:#04x}, which was not offered")
        elif state == _S_AUTH:
            ver, status = self._take(2)
            if ver != 1:
                raise ProxyError(f"SOCKS5 proxy answered username/password auth with version {ver}")
            if status != 0:
                raise ProxyError(f"SOCKS5 proxy refused the username/password (status {status:#04x})")
            self._request()
        elif state == _S_REPLY_HEAD:
            ver, rep, _rsv, atyp, first = self._buf[:5]
            if ver != 5:
                raise ProxyError(f"SOCKS5 proxy replied with version {ver}")
            if rep != 0:
                name = REPLY_CODES.get(rep, "unknown error")
                raise ProxyError(
                    f"SOCKS5 proxy could not connect to {self.host}:{self.port}: {name} (reply {rep:#04x})",
                    status=rep,
                )
            if atyp == 1:
                self._need = 4 + 4 + 2
            elif atyp == 4:
                self._need = 4 + 16 + 2
            elif atyp == 3:
                self._need = 4 + 1 + first + 2
            else:
                raise ProxyError(f"SOCKS5 proxy replied with unknown address type {atyp}")
            self._state = _S_REPLY_REST
        elif state == _S_REPLY_REST:
            reply = self._take(self._need)
            atyp = reply[3]
            if atyp == 1:
                addr = str(ipaddress.IPv4Address(reply[4:8]))
            elif atyp == 4:
                addr = str(ipaddress.IPv6Address(reply[4:20]))
            else:
                addr = reply[5:-2].decode("ascii", "replace")
            self.bound_address = (addr, struct.unpack("!H", reply[-2:])[0])
            self._state = _S_DONE


def _resolve(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise from_os_error(ConnectError, f"cannot resolve {host!r} for the SOCKS5 proxy", exc) from exc
    return str(infos[0][4][0])


def socks5_connect(
    sock: socket.socket,
    host: str,
    port: int,
    *,
    auth: tuple[str, str] | None = None,
    remote_dns: bool = True,
    timeout: float | None = None,
) -> None:
    """Open a tunnel to ``host:port`` through the SOCKS5 proxy ``sock`` is connected to.

    Returns when the proxy reports the connection made; ``sock`` then carries the tunnel (wrap
    it in TLS for https). Raises ProxyError (refusal, with ``status`` the SOCKS reply code),
    ConnectTimeout (``timeout`` covers the whole handshake), ConnectError (local DNS failure
    without ``remote_dns``, connection lost).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    target = host
    if not remote_dns:
        bare = host[1:-1] if host.startswith("[") else host
        try:
            ipaddress.ip_address(bare)
        except ValueError:
            target = _resolve(host, port)
    machine = Socks5Handshake(target, port, auth, remote_dns)
    where = f"SOCKS5 handshake for {host}:{port}"
    old_timeout = sock.gettimeout()
    try:
        while not machine.done:
            out = machine.bytes_to_send()
            if out:
                _arm(sock, deadline, where)
                try:
                    sock.sendall(out)
                except TimeoutError:
                    raise ConnectTimeout(f"{where} timed out") from None
                except OSError as exc:
                    raise from_os_error(ProxyError, f"{where}: sending to the proxy failed", exc, why=str(exc), reason=False) from exc
            need = machine.bytes_needed
            if need:
                _arm(sock, deadline, where)
                try:
                    data = sock.recv(need)
                except TimeoutError:
                    raise ConnectTimeout(f"{where} timed out") from None
                except OSError as exc:
                    raise from_os_error(ProxyError, f"{where}: reading from the proxy failed", exc, why=str(exc), reason=False) from exc
                if not data:
                    raise ProxyError(f"{where}: the proxy closed the connection")
                machine.receive(data)
    finally:
        try:
            sock.settimeout(old_timeout)
        except OSError:
            pass


def open_tunnel(
    sock: socket.socket,
    host: str,
    port: int,
    proxy: Proxy,
    fields: list[tuple[str, str]],
    timeout: float | None,
    limits: ParserLimits,
    trace: TraceHook | None,
) -> None:
    """The tunnel to ``host:port`` through ``proxy`` on ``sock`` (connected to it): CONNECT for
    an http/https proxy (with header ``fields``), SOCKS5 otherwise; ``trace`` told how it ended."""
    started = time.monotonic()
    answer = None
    try:
        if proxy.kind in ("http", "https"):
            answer = http_connect(sock, host, port, headers=fields, timeout=timeout, limits=limits)
        else:
            socks5_connect(sock, host, port, auth=proxy.auth, remote_dns=proxy.kind == "socks5h", timeout=timeout)
    except ProxyError as exc:
        traced_tunnel(trace, proxy, host, port, started, exc)
        raise
    traced_tunnel(trace, proxy, host, port, started, answer)


def traced_tunnel(
    trace: TraceHook | None, proxy: Proxy, host: str, port: int, start: float, outcome: ResponseHead | ProxyError | None
) -> None:
    """Tell ``trace`` (both clients) how a tunnel's handshake ended: ``proxy.connect`` with the
    proxy's answer to CONNECT (``outcome``: its reply head, or its refusal), or ``socks5`` once
    the SOCKS5 tunnel is made (``outcome`` None)."""
    if trace is None:
        return
    if proxy.kind in ("http", "https"):
        if isinstance(outcome, ProxyError):
            tunnel_done(trace, authority(host, port), outcome.status, str(outcome), start)
        elif outcome is not None:
            tunnel_done(trace, authority(host, port), outcome.status, outcome.reason, start)
    elif outcome is None:
        emit(trace, "socks5", start, proxy=f"{proxy.host}:{proxy.port}", target=f"{host}:{port}",
             remote_dns=proxy.kind == "socks5h")
