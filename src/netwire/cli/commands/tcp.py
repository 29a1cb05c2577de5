"""``netwire tcp listen PORT`` and ``netwire tcp connect HOST PORT``: netcat-like TCP.

The text of :data:`DESCRIPTION` is what ``netwire tcp --help`` shows (plain text: no markup).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Any

from ...errors import NetwireError
from ...sockets.stream import Stream, describe_address

#: Idle timeout of ``tcp listen --echo`` unless ``--timeout`` says otherwise (0: none).
ECHO_IDLE_TIMEOUT = 60.0

#: Most ports one ``connect -z`` checks: every TCP port, so a range can be any part of 1-65535.
MAX_SCAN_PORTS = 65535

DESCRIPTION = """\
netcat-like TCP.

netwire tcp listen PORT: accept a connection, then copy standard input to it and what it sends to
standard output (binary-safe). At the end of standard input the sending side is half-closed; the
command ends once the peer has closed too. With --echo, a concurrent line-echo server runs until
Ctrl-C or SIGTERM, and drops a client idle for --timeout seconds (60 by default: an echo server is
reachable by anyone, and a forgotten connection must not hold a slot forever).

netwire tcp connect HOST PORT: the same for an outgoing connection.

netwire tcp connect -z HOST PORTS: only check which ports accept a connection, as nc -z does
(PORTS: 80, 20-25, 22,80,443); exit 0 if any is open, 1 if none is.
"""


def address_text(addr: Any) -> str:
    """``host:port`` for messages, an IPv4-mapped IPv6 address shown as the IPv4 address it is
    (``127.0.0.1:5000``, not ``[::ffff:127.0.0.1]:5000``: a dual-stack listener sees IPv4 peers so)."""
    if isinstance(addr, tuple) and len(addr) >= 2 and str(addr[0]).lower().startswith("::ffff:"):
        v4 = str(addr[0])[7:]
        if v4.count(".") == 3:
            return f"{v4}:{addr[1]}"
    return describe_address(addr)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "tcp", help="netcat-like TCP: listen, connect", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="tcp_command", metavar="{listen,connect}", required=True)

    lp = sub.add_parser("listen", help="accept a connection; stdin -> socket -> stdout")
    lp.add_argument("port", type=int, help="port to listen on (0: any free port)")
    lp.add_argument("--host", default=None, help="address to bind (default: all, IPv4 and IPv6)")
    lp.add_argument("-k", "--keep-open", action="store_true", help="accept further connections, one at a time")
    lp.add_argument("--echo", action="store_true", help="serve many clients at once, echoing each line back")
    lp.add_argument("--timeout", type=float, default=None,
                    help=f"idle timeout per connection, seconds; 0: none (default: none, with --echo "
                    f"{ECHO_IDLE_TIMEOUT:g})")
    lp.set_defaults(func=_listen)

    cp = sub.add_parser("connect", help="connect; stdin -> socket -> stdout")
    cp.add_argument("host")
    cp.add_argument("port", metavar="PORT", help="port; with -z, ports: 80, 20-25, 22,80,443")
    cp.add_argument("-z", "--zero-io", dest="scan", action="store_true",
                    help="only check which PORTS accept a connection (nc -z); exit 0 if any does")
    cp.add_argument("--timeout", type=float, default=None, help="idle timeout, seconds (default: none)")
    cp.add_argument("--connect-timeout", type=float, default=10.0, help="seconds to connect (default: 10)")
    cp.add_argument("-4", dest="family", action="store_const", const=4, help="IPv4 only")
    cp.add_argument("-6", dest="family", action="store_const", const=6, help="IPv6 only")
    cp.set_defaults(func=_connect)


def _err(msg: str) -> None:
    print(f"netwire: {msg}", file=sys.stderr, flush=True)


def pump(stream: Stream) -> int:
    """stdin -> stream (then half-close), stream -> stdout, until both directions are done.

    A peer's end of stream may be a half-close (it still reads), so piped input is sent to the
    end; but when standard input is a terminal, the peer hanging up ends the command at once
    instead of waiting for the next line typed (standard input is read in a daemon thread).
    """
    out = sys.stdout.buffer
    failure: list[BaseException] = []

    def from_stdin() -> None:
        fd = sys.stdin.fileno()
        try:
            while data := os.read(fd, 65536):
                stream.send_all(data)
            stream.send_eof()
        except (NetwireError, OSError) as exc:
            if not stream.closed:
                failure.append(exc)

    sender = threading.Thread(target=from_stdin, daemon=True)
    sender.start()
    try:
        while data := stream.recv():
            out.write(data)
            out.flush()
    except (NetwireError, OSError) as exc:
        failure.append(exc)
    if not sys.stdin.isatty():
        sender.join()
    stream.close()
    if failure:
        _err(str(failure[0]))
        return 1
    return 0


def _listen(args: argparse.Namespace) -> int:
    import socket

    from ...sockets.listen import bind_sockets
    from ...sockets.tcp import Connection, serve_tcp

    if args.echo:
        def echo(line: bytes, conn: Connection) -> bytes:
            return line

        def ready(server: Any) -> None:
            _err(f"echo server listening on {address_text(server.address)}")

        serve_tcp(echo, args.host, args.port, framing="line", timeout=_echo_timeout(args.timeout), ready=ready)
        _err("stopped")
        return 0

    try:
        listeners = bind_sockets(args.host, args.port, backlog=1)
    except OSError as exc:
        _err(f"cannot listen on port {args.port}: {exc}")
        return 1
    listener = listeners[0]
    for extra in listeners[1:]:
        extra.close()
    _err(f"listening on {address_text(listener.getsockname())}")
    try:
        while True:
            sock, addr = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _err(f"connection from {address_text(addr)}")
            status = pump(Stream(sock, timeout=args.timeout or None))
            if not args.keep_open:
                return status
    finally:
        listener.close()


def _echo_timeout(given: float | None) -> float | None:
    """The echo server's idle timeout: ``--timeout`` if given (0: none), else the default."""
    if given is None:
        return ECHO_IDLE_TIMEOUT
    return given if given > 0 else None


def parse_ports(text: str) -> list[int]:
    """``80`` / ``20-25`` / ``22,80,443`` (and mixes: ``22,8000-8010``) -> the ports, in order, once each."""
    ports: dict[int, None] = {}
    for part in text.split(","):
        part = part.strip()
        first, dash, last = part.partition("-")
        try:
            lo = int(first)
            hi = int(last) if dash else lo
        except ValueError:
            raise ValueError(f"bad port list {text!r}: expected PORT, FIRST-LAST or a comma list of them") from None
        if not (1 <= lo <= 65535 and 1 <= hi <= 65535) or lo > hi:
            raise ValueError(f"bad port range {part!r}: ports are 1-65535, the first not above the last")
        for port in range(lo, hi + 1):
            ports[port] = None
            if len(ports) > MAX_SCAN_PORTS:
                raise ValueError(f"more than {MAX_SCAN_PORTS} ports in {text!r}")
    return list(ports)


def _scan(args: argparse.Namespace, family: int) -> int:
    """nc -z: connect to each port and close at once; report each open port as nc does."""
    import socket

    from ...sockets.tcp import connect_tcp

    try:
        ports = parse_ports(args.port)
    except ValueError as exc:
        _err(str(exc))
        return 2
    any_open = False
    for port in ports:
        try:
            stream = connect_tcp(args.host, port, connect_timeout=args.connect_timeout, family=family)
        except NetwireError as exc:
            if len(ports) == 1:  # as nc -z: a scan names the open ports only
                _err(str(exc))
            continue
        stream.close()
        any_open = True
        try:
            service = socket.getservbyport(port, "tcp")
        except OSError:
            service = "*"
        print(f"Connection to {args.host} {port} port [tcp/{service}] succeeded!", flush=True)
    return 0 if any_open else 1


def _connect(args: argparse.Namespace) -> int:
    import socket

    from ...sockets.tcp import connect_tcp

    family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(args.family or 0, socket.AF_UNSPEC)
    if args.scan:
        return _scan(args, family)
    if not args.port.isdigit() or not 0 < int(args.port) <= 65535:
        _err(f"bad port {args.port!r}: expected a number 1-65535 (a list or range needs -z)")
        return 2
    try:
        stream = connect_tcp(
            args.host, int(args.port), timeout=args.timeout, connect_timeout=args.connect_timeout, family=family
        )
    except NetwireError as exc:
        _err(str(exc))
        return 1
    return pump(stream)
