"""Line-echo request/response servers under 50 concurrent clients.

netwire's :class:`~netwire.sockets.tcp.TCPServer` (selector loop with a line message handler, and
the thread-per-connection Stream handler) against ``socketserver.ThreadingTCPServer`` and an
asyncio streams server. Each server runs in its own process, the 50 clients in another (one
selector loop driving 50 connections, each sending a line and waiting for its echo before the
next). Reports requests per second: the servers take turns for 5 rounds of 1.5 s each, and the
best round of each is kept.

    python bench/run.py sockets
    python bench/bench_sockets.py            # the same, standalone

Knobs (environment): BENCH_CLIENT_PROCESSES=N splits the 50 clients over N processes;
BENCH_PYTHON_TIMEOUTS=1 makes netwire's Streams use Python's socket timeouts instead of the
kernel's SO_RCVTIMEO (to measure what that choice is worth).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import selectors
import socket
import socketserver
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
MESSAGE = b"hello netwire, this is one request line\n"
CLIENTS = 50
CLIENT_PROCESSES = int(os.environ.get("BENCH_CLIENT_PROCESSES", "1"))


# -- servers (each runs in its own process: `bench_sockets.py serve KIND`) ---------------------
def _serve_netwire(framing: str | None, loops: int = 1) -> None:
    sys.path.insert(0, SRC)
    from netwire.sockets import stream as stream_module
    from netwire.sockets.stream import Stream
    from netwire.sockets.tcp import Connection, TCPServer

    if os.environ.get("BENCH_PYTHON_TIMEOUTS"):
        # For the docs' measurement: Python's poll()-based socket timeouts instead of the kernel's.
        stream_module._KERNEL_TIMEOUTS = False

    def on_line(line: bytes, conn: Connection) -> bytes:
        return line

    def on_stream(stream: Stream) -> None:
        while line := stream.readline():
            stream.send_all(line)

    handler: Any = on_line if framing else on_stream
    # The idle timeout is on, as a real server would have it (it costs nothing measurable).
    server = TCPServer(handler, "127.0.0.1", 0, framing=framing, timeout=60, loops=loops)  # type: ignore[arg-type]
    _ready(server.port)
    server.serve_forever()


def _serve_socketserver() -> None:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            for line in self.rfile:
                self.wfile.write(line)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # clients vanish when the run ends; not interesting

    server = Server(("127.0.0.1", 0), Handler)
    _ready(server.server_address[1])
    server.serve_forever()


def _serve_asyncio() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(line)
                await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        _ready(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def _ready(port: int) -> None:
    print(port, flush=True)


# -- the client process ------------------------------------------------------------------------
def _client(port: int, clients: int, duration: float) -> None:
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(clients):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, bytearray())
    for s in socks:
        s.send(MESSAGE)
    count = 0
    start = time.perf_counter()
    end = start + duration
    while time.perf_counter() < end:
        for key, _ in sel.select(1.0):
            conn = key.fileobj
            assert isinstance(conn, socket.socket)
            data = conn.recv(65536)
            if not data:
                raise SystemExit("server closed a connection")
            buf = key.data
            buf += data
            while (i := buf.find(b"\n")) >= 0:
                if bytes(buf[: i + 1]) != MESSAGE:
                    raise SystemExit("wrong echo")
                del buf[: i + 1]
                count += 1
                conn.send(MESSAGE)
    elapsed = time.perf_counter() - start
    for s in socks:
        s.close()
    print(count / elapsed, flush=True)


SERVERS = {
    "netwire": lambda: _serve_netwire("line"),
    "netwire-2-loops": lambda: _serve_netwire("line", loops=2),
    "netwire-threads": lambda: _serve_netwire(None),
    "socketserver": _serve_socketserver,
    "asyncio": _serve_asyncio,
}
NAMES = {
    "netwire-threads": "netwire Stream threads",
    "socketserver": "socketserver.Threading",
    "asyncio": "asyncio streams",
    "netwire-2-loops": "netwire, 2 selector loops",
    "netwire": "netwire",
}


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux /proc), or None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def measure(kind: str, duration: float) -> tuple[float, float | None]:
    """Requests per second of server ``kind`` under CLIENTS clients in another process, and the
    server's CPU time per request in microseconds (None where /proc is missing)."""
    me = os.path.abspath(__file__)
    server = subprocess.Popen([sys.executable, me, "serve", kind], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        per = CLIENTS // CLIENT_PROCESSES
        cpu_before = _cpu_seconds(server.pid)
        clients = [
            subprocess.Popen([sys.executable, me, "client", str(port), str(per), str(duration)],
                             stdout=subprocess.PIPE, text=True)
            for _ in range(CLIENT_PROCESSES)
        ]
        total = 0.0
        for c in clients:
            out, _ = c.communicate(timeout=duration + 30)
            if c.returncode:
                raise RuntimeError(f"client process failed against {kind}")
            total += float(out.strip())
        cpu_after = _cpu_seconds(server.pid)
        cpu = None
        if cpu_before is not None and cpu_after is not None and total:
            cpu = (cpu_after - cpu_before) / (total * duration) * 1e6
        return total, cpu
    finally:
        server.kill()
        server.wait()


def run(args: Any) -> list[dict[str, Any]]:
    """One run: every server measured in turns (rounds x seconds each), best round kept.

    Rounds rotate through the servers so that a burst of load from elsewhere on the machine
    hits them all alike; the best round of each is its figure (the least disturbed one). The
    server's CPU time per request is reported too: unlike requests per second it barely depends
    on what else the machine is doing.
    """
    quick = getattr(args, "quick", False)
    rounds, duration = (1, 1.0) if quick else (5, 1.5)
    # netwire (the selector server) last: bench/run.py compares every row with the last netwire row.
    kinds = ("netwire-threads", "socketserver", "asyncio", "netwire-2-loops", "netwire")
    best = dict.fromkeys(kinds, 0.0)
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(rounds):
        for kind in kinds:
            rps, us = measure(kind, duration)
            best[kind] = max(best[kind], rps)
            if us is not None:
                cpu[kind].append(us)
    group = f"line echo, {CLIENTS} clients"
    rows = []
    for kind in kinds:
        print(f"   {NAMES[kind]:28} {best[kind]:12.0f} req/s", file=sys.stderr, flush=True)
        rows.append({"group": group, "name": NAMES[kind], "value": best[kind], "unit": "req/s", "higher": True})
    for kind in kinds:
        if cpu[kind]:
            us = min(cpu[kind])
            rows.append({"group": "line echo, server CPU/request", "name": NAMES[kind], "value": us,
                         "unit": "us", "higher": False})
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        SERVERS[sys.argv[2]]()
        return
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        _client(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    for row in run(parser.parse_args()):
        print(f"{row['group']:30} {row['name']:28} {row['value']:12.1f} {row['unit']}")


if __name__ == "__main__":
    main()
