"""``netwire tcp listen PORT`` and ``netwire tcp connect HOST PORT``: netcat-like TCP.

Both copy standard input to the socket and the socket to standard output (binary-safe); at the
end of standard input the sending side is half-closed, and the command ends once the peer has
closed too. ``listen --echo`` instead runs a concurrent line-echo server until SIGINT/SIGTERM;
it drops a client idle for ``--timeout`` seconds (60 by default: an echo server is reachable by
anyone, and a forgotten connection must not hold a slot forever).
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


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("tcp", help="netcat-like TCP: listen, connect", description=__doc__)
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
    cp.add_argument("port", type=int)
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
            _err(f"echo server listening on {describe_address(server.address)}")

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
    _err(f"listening on {describe_address(listener.getsockname())}")
    try:
        while True:
            sock, addr = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _err(f"connection from {describe_address(addr)}")
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


def _connect(args: argparse.Namespace) -> int:
    import socket

    from ...sockets.tcp import connect_tcp

    family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(args.family or 0, socket.AF_UNSPEC)
    try:
        stream = connect_tcp(
            args.host, args.port, timeout=args.timeout, connect_timeout=args.connect_timeout, family=family
        )
    except NetwireError as exc:
        _err(str(exc))
        return 1
    return pump(stream)
