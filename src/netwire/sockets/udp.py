"""UDP: a datagram server, a client with request/response retries, and a one-shot sender.

Datagram sizes: a UDP payload can be at most :data:`MAX_UDP_PAYLOAD_IPV4` (65,507) bytes over
IPv4 and :data:`MAX_UDP_PAYLOAD_IPV6` (65,527) over IPv6 (without jumbograms); larger payloads are
refused with ``ValueError`` before anything is sent. Anything above :data:`ETHERNET_UDP_PAYLOAD`
(1,472 bytes on a 1500-byte MTU link) is fragmented by IP and lost entirely if one fragment is;
:data:`SAFE_UDP_PAYLOAD` (508 bytes) is what every IPv4 host must be able to reassemble. A receive
buffer smaller than the datagram silently truncates it, so receives ask for the largest size.

UDP itself does not retransmit: :meth:`UDPClient.request` sends, waits ``timeout`` seconds for
the reply and sends again, up to ``retries`` times, then raises
:class:`~netwire.errors.ReadTimeout`.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from collections.abc import Callable
from types import EllipsisType, TracebackType
from typing import Any

from ..errors import ConnectError, ReadError, ReadTimeout, WriteError, from_os_error
from .listen import bind_sockets
from .stream import describe_address
from .tcp import run_with_signals

__all__ = [
    "ETHERNET_UDP_PAYLOAD",
    "MAX_UDP_PAYLOAD_IPV4",
    "MAX_UDP_PAYLOAD_IPV6",
    "SAFE_UDP_PAYLOAD",
    "DatagramHandler",
    "UDPClient",
    "UDPServer",
    "send_udp",
    "serve_udp",
]

log = logging.getLogger("netwire.sockets")

#: 65,535 (IPv4 total length) - 20 (IPv4 header) - 8 (UDP header).
MAX_UDP_PAYLOAD_IPV4 = 65507
#: 65,535 (IPv6 payload length) - 8 (UDP header); jumbograms aside.
MAX_UDP_PAYLOAD_IPV6 = 65527
#: 1,500 (Ethernet MTU) - 20 - 8: the largest IPv4 payload that is not fragmented on Ethernet.
ETHERNET_UDP_PAYLOAD = 1472
#: 576 (minimum IPv4 reassembly size) - 60 (largest IPv4 header) - 8: safe anywhere.
SAFE_UDP_PAYLOAD = 508
_RECV_SIZE = 65536

#: ``handler(data, address)`` returns the reply datagram, or None for no reply.
DatagramHandler = Callable[[bytes, Any], "bytes | None"]


def _check_size(data: bytes, family: int) -> None:
    limit = MAX_UDP_PAYLOAD_IPV6 if family == socket.AF_INET6 else MAX_UDP_PAYLOAD_IPV4
    if len(data) > limit:
        name = "IPv6" if family == socket.AF_INET6 else "IPv4"
        raise ValueError(f"a UDP datagram over {name} carries at most {limit} bytes, not {len(data)}")


def _resolve(host: str, port: int, family: int) -> tuple[int, Any]:
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise ConnectError(f"resolve {host} port {port} failed (resolving: {exc})", reason=exc) from exc
    fam, _, _, _, addr = infos[0]
    return int(fam), addr


class UDPServer:
    """Receives datagrams on ``host``:``port`` and calls ``handler(data, address)`` for each;
    a non-None return value is sent back to ``address``. One selector loop, no threads per
    datagram; a handler error is logged and the server goes on. ``host`` ``None`` listens on every
    address, IPv4 and IPv6.

    Use as a context manager (serving in a background thread) or :meth:`start` /
    :meth:`serve_forever` and :meth:`close`; :meth:`stop` may be called from the handler.
    """

    def __init__(
        self,
        handler: DatagramHandler,
        host: str | None = None,
        port: int = 0,
        *,
        family: int = socket.AF_UNSPEC,
        reuse_port: bool = False,
    ) -> None:
        self.handler = handler
        self._socks = bind_sockets(host, port, kind=socket.SOCK_DGRAM, family=family, backlog=None, reuse_port=reuse_port)
        self._addresses = [s.getsockname() for s in self._socks]
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        for s in (*self._socks, self._wake_r):
            s.setblocking(False)
            self._sel.register(s, selectors.EVENT_READ)
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = False
        self.received = 0

    @property
    def address(self) -> Any:
        """The (first) bound address."""
        return self._addresses[0]

    @property
    def port(self) -> int:
        return int(self._addresses[0][1])

    def start(self) -> UDPServer:
        """Serve in a background (daemon) thread; returns self."""
        if not self._running:
            self._running = True
            self._thread = threading.Thread(target=self._serve, name="netwire-udp-server", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve until :meth:`close` or :meth:`stop`."""
        if self._running:
            raise RuntimeError("this server is already serving")
        self._running = True
        self._serve()

    def _serve(self) -> None:
        try:
            while not self._stop.is_set():
                for key, _ in self._sel.select():
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._wake_r:
                        with contextlib.suppress(OSError):
                            sock.recv(4096)
                        continue
                    self._receive(sock)
                    if self._stop.is_set():
                        break
        finally:
            self._cleanup()
            self._done.set()

    def _receive(self, sock: socket.socket) -> None:
        for _ in range(64):  # a burst, then give other sockets a turn
            try:
                data, addr = sock.recvfrom(_RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # e.g. an ICMP error from an earlier reply; the socket itself is fine.
                log.info("udp receive: %s", exc)
                return
            self.received += 1
            try:
                reply = self.handler(data, addr)
            except Exception:
                log.exception("handler failed for datagram from %s", describe_address(addr))
                continue
            if reply is not None:
                try:
                    sock.sendto(reply, addr)
                except OSError as exc:
                    log.info("udp reply to %s failed: %s", describe_address(addr), exc)
            if self._stop.is_set():
                return

    def stop(self) -> None:
        """Ask the loop to end (safe from the handler itself); :meth:`close` also waits."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def close(self) -> None:
        """Stop serving and close the socket(s). Idempotent."""
        self.stop()
        if not self._running:
            self._cleanup()
            return
        if self._thread is not threading.current_thread():
            self._done.wait()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the server has stopped; True if it has."""
        return self._done.wait(timeout)

    def _cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self._sel.close()
        for s in (*self._socks, self._wake_r, self._wake_w):
            s.close()

    def __enter__(self) -> UDPServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def serve_udp(
    handler: DatagramHandler,
    host: str | None = None,
    port: int = 0,
    *,
    family: int = socket.AF_UNSPEC,
    ready: Callable[[UDPServer], object] | None = None,
) -> None:
    """Run a :class:`UDPServer` in this thread until SIGINT/SIGTERM or ``server.stop()``."""
    server = UDPServer(handler, host, port, family=family)
    run_with_signals(server.serve_forever, server.stop, lambda: ready(server) if ready else None)


class UDPClient:
    """A UDP socket talking to one server.

    The socket is ``connect``-ed, so the kernel only delivers datagrams from that server, and an
    ICMP "port unreachable" surfaces as :class:`~netwire.errors.ReadError` instead of a silent
    timeout. ``timeout`` bounds each receive.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float | None = 5.0,
        family: int = socket.AF_UNSPEC,
        source: tuple[str, int] | None = None,
    ) -> None:
        fam, addr = _resolve(host, port, family)
        self.family = fam
        self.remote = addr
        self.timeout = timeout
        self.socket = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            if source is not None:
                self.socket.bind(source)
            self.socket.connect(addr)
        except OSError as exc:
            self.socket.close()
            raise from_os_error(ConnectError, f"udp socket to {describe_address(addr)} failed", exc, why=str(exc)) from exc
        self.socket.settimeout(timeout)

    @property
    def local(self) -> Any:
        """This end's address."""
        return self.socket.getsockname()

    def send(self, data: bytes) -> None:
        """Send one datagram (at most the family's maximum payload)."""
        _check_size(data, self.family)
        try:
            self.socket.send(data)
        except OSError as exc:
            raise from_os_error(WriteError, f"udp send to {describe_address(self.remote)} failed", exc, why=str(exc)) from exc

    def recv(self, timeout: float | EllipsisType | None = ...) -> bytes:
        """One datagram from the server; :class:`~netwire.errors.ReadTimeout` if none arrives
        within ``timeout`` (default: the client's timeout; ``None`` waits forever)."""
        wait = self.timeout if isinstance(timeout, EllipsisType) else timeout
        self.socket.settimeout(wait)
        try:
            return self.socket.recv(_RECV_SIZE)
        except TimeoutError:
            raise ReadTimeout(f"no datagram from {describe_address(self.remote)} within {wait} s") from None
        except ConnectionRefusedError as exc:
            raise ReadError(
                f"{describe_address(self.remote)} is unreachable (nobody listens on that port)", reason=exc
            ) from exc
        except OSError as exc:
            raise from_os_error(ReadError, f"udp receive from {describe_address(self.remote)} failed", exc, why=str(exc)) from exc

    def request(
        self,
        data: bytes,
        *,
        timeout: float | None = None,
        retries: int = 3,
        match: Callable[[bytes], bool] | None = None,
    ) -> bytes:
        """Send ``data`` and return the reply, resending up to ``retries`` more times when no
        reply comes within ``timeout`` (default: the client's timeout). ``match`` can reject
        datagrams that are not the answer (e.g. a late reply to an earlier request)."""
        wait = self.timeout if timeout is None else timeout
        last: ReadTimeout | None = None
        for _ in range(retries + 1):
            self.send(data)
            try:
                while True:
                    reply = self.recv(wait)
                    if match is None or match(reply):
                        return reply
            except ReadTimeout as exc:
                last = exc
        assert last is not None
        raise ReadTimeout(f"no reply from {describe_address(self.remote)} after {retries + 1} attempts of {wait} s")

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> UDPClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def send_udp(data: bytes, host: str, port: int, *, family: int = socket.AF_UNSPEC) -> None:
    """Send one datagram to ``host``:``port`` and forget it."""
    fam, addr = _resolve(host, port, family)
    _check_size(data, fam)
    with socket.socket(fam, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(data, addr)
        except OSError as exc:
            raise from_os_error(WriteError, f"udp send to {describe_address(addr)} failed", exc, why=str(exc)) from exc
