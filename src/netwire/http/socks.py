"""SOCKS5 client handshake (RFC 1928, username/password per RFC 1929).

:class:`Socks5Handshake` is sans-IO: it says what to send (``bytes_to_send()``), how many bytes
it needs next (``bytes_needed``), and consumes what the proxy answered (``receive(data)``). The
reply's size is known piece by piece, so a driver that reads exactly ``bytes_needed`` bytes never
takes a byte of the tunnel that follows. :func:`socks5_connect` drives it over a blocking socket.

``socks5`` resolves the target name locally and sends the address; ``socks5h`` (``remote_dns``)
sends the name and lets the proxy resolve it, so no DNS query leaves this machine.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import time

from ..errors import ConnectError, ConnectTimeout, ProxyError, from_os_error

__all__ = ["REPLY_CODES", "Socks5Handshake", "socks5_connect"]

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
                    raise from_os_error(
                        ProxyError, f"{where}: sending to the proxy failed", exc, why=str(exc), reason=False
                    ) from exc
            need = machine.bytes_needed
            if need:
                _arm(sock, deadline, where)
                try:
                    data = sock.recv(need)
                except TimeoutError:
                    raise ConnectTimeout(f"{where} timed out") from None
                except OSError as exc:
                    raise from_os_error(
                        ProxyError, f"{where}: reading from the proxy failed", exc, why=str(exc), reason=False
                    ) from exc
                if not data:
                    raise ProxyError(f"{where}: the proxy closed the connection")
                machine.receive(data)
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
