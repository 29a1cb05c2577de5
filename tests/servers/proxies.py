"""Launchers for real proxy servers on loopback: dante (SOCKS5) and tinyproxy (HTTP, CONNECT),
and a relay (optionally terminating TLS) in front of them.

Each starts the Debian binary in the foreground with a generated config on a free port of
127.0.0.1, waits until it accepts connections, and stops it (SIGTERM, then SIGKILL) on exit::

    with tinyproxy(connect_ports=[8443]) as proxy:
        proxy.url  # "http://127.0.0.1:<port>"

    with dante(auth=("user", "pw")) as socks:   # root only: dante checks system passwords
        socks.url  # "socks5://127.0.0.1:<port>"
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers.ports import PortTaken, free_port, on_a_free_port, wait_listening

__all__ = [
    "DANTED",
    "Relay",
    "TINYPROXY",
    "ServerProcess",
    "dante",
    "ensure_system_user",
    "free_port",
    "is_root",
    "start_relay",
    "tinyproxy",
    "wait_listening",
]

DANTED = shutil.which("danted") or "/usr/sbin/danted"
TINYPROXY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class ServerProcess:
    """A running server: its process, where it listens, and where its output goes."""

    proc: subprocess.Popen[bytes]
    host: str
    port: int
    scheme: str
    workdir: Path
    log: Path
    auth: tuple[str, str] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url_with_auth(self, scheme: str | None = None) -> str:
        """The URL with the credentials as userinfo (percent-encoded)."""
        from urllib.parse import quote  # tests may use the stdlib; netwire itself may not

        assert self.auth is not None
        user, password = (quote(x, safe="") for x in self.auth)
        return f"{scheme or self.scheme}://{user}:{password}@{self.host}:{self.port}"

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _launch(argv: list[str], workdir: Path, host: str, port: int, scheme: str) -> ServerProcess:
    log = workdir / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir)
    server = ServerProcess(proc, host, port, scheme, workdir, log)
    try:
        wait_listening(port, host, proc=proc)
    except BaseException:
        server.stop()
        # dante says "Address already in use"; tinyproxy only "Could not create listening sockets".
        if any(sign in server.output() for sign in ("Address already in use", "Could not create listening sockets")):
            raise PortTaken(server.output()) from None
        raise RuntimeError(f"{argv[0]} did not start:\n{server.output()}") from None
    return server


def ensure_system_user(name: str, password: str) -> None:
    """Create (or reset) a login-less system user with ``password``: dante's username method
    checks credentials against the system password database. Root only."""
    if not is_root():
        raise PermissionError("creating a system user for dante's username auth needs root")
    exists = subprocess.run(["id", "-u", name], capture_output=True).returncode == 0
    if not exists:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True, capture_output=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n".encode(), check=True, capture_output=True)


@contextmanager
def dante(*, auth: tuple[str, str] | None = None, host: str = "127.0.0.1") -> Iterator[ServerProcess]:
    """A dante SOCKS5 server on ``host``; with ``auth``, RFC 1929 username/password only.

    ``auth`` needs root (a system user is created for it, see :func:`ensure_system_user`).
    """
    if auth is not None:
        ensure_system_user(*auth)
    with tempfile.TemporaryDirectory(prefix="netwire-dante-") as tmp:
        workdir = Path(tmp)
        unprivileged = "nobody" if is_root() else os.environ.get("USER", "nobody")
        privileged = "root" if is_root() else unprivileged
        conf = workdir / "danted.conf"

        def launch(port: int) -> ServerProcess:
            conf.write_text(
                "logoutput: stderr\n"
                f"internal: {host} port = {port}\n"
                f"external: {host}\n"
                "clientmethod: none\n"
                f"socksmethod: {'username' if auth else 'none'}\n"
                f"user.privileged: {privileged}\n"
                f"user.unprivileged: {unprivileged}\n"
                "client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }\n"
                "client pass { from: ::/0 to: ::/0 }\n"
                "socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }\n"
                "socks pass { from: ::/0 to: ::/0 log: connect error }\n"
            )
            argv = [DANTED, "-f", str(conf), "-N", "1", "-p", str(workdir / "danted.pid")]
            return _launch(argv, workdir, host, port, "socks5")

        server = on_a_free_port(launch, host=host)
        server.auth = auth
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def tinyproxy(
    *,
    connect_ports: Iterable[int] = (),
    basic_auth: tuple[str, str] | None = None,
    host: str = "127.0.0.1",
) -> Iterator[ServerProcess]:
    """A tinyproxy HTTP proxy on ``host`` allowing loopback clients.

    CONNECT is allowed only to ``connect_ports`` (none: CONNECT is refused with 403, which
    tests use for refusals). ``basic_auth`` makes it require Proxy-Authorization.
    """
    with tempfile.TemporaryDirectory(prefix="netwire-tinyproxy-") as tmp:
        workdir = Path(tmp)
        if is_root():
            os.chmod(workdir, 0o755)
        conf = workdir / "tinyproxy.conf"
        ports = list(connect_ports)

        def launch(port: int) -> ServerProcess:
            lines = [
                f"Port {port}",
                f"Listen {host}",
                "Timeout 30",
                "MaxClients 50",
                "Allow 127.0.0.1",
                "Allow ::1",
                "DisableViaHeader Yes",
                "LogLevel Info",
            ]
            if is_root():
                lines += ["User nobody", "Group nogroup"]
            # Without any ConnectPort line tinyproxy allows CONNECT everywhere; an impossible port keeps it closed.
            lines += [f"ConnectPort {p}" for p in ports] or ["ConnectPort 1"]
            if basic_auth is not None:
                # tinyproxy's config grammar takes only plain tokens here (no ':', '@', '~', quotes).
                lines.append(f"BasicAuth {basic_auth[0]} {basic_auth[1]}")
            conf.write_text("\n".join(lines) + "\n")
            return _launch([TINYPROXY, "-d", "-c", str(conf)], workdir, host, port, "http")

        server = on_a_free_port(launch, host=host)
        server.auth = basic_auth
        try:
            yield server
        finally:
            server.stop()


# -- a TLS front (or a plain recording relay) for a proxy -------------------------------------------


@dataclass
class Relay:
    """A TCP relay on loopback in front of ``upstream``, optionally terminating TLS.

    With ``tls`` it turns tinyproxy into an https:// proxy (TLS to the proxy, the CONNECT and
    the tunnel inside it), with a certificate for 127.0.0.1 and localhost from ``ca``. It
    records what each client sent first (the CONNECT head, Proxy-Authorization included).
    """

    host: str
    port: int
    ca: Any
    received: list[bytearray]
    loop: Any
    server: Any
    thread: threading.Thread
    writers: list[Any]

    @property
    def url(self) -> str:
        return f"{'https' if self.ca is not None else 'http'}://{self.host}:{self.port}"

    def heads(self) -> list[bytes]:
        """The first request head each client sent (its CONNECT, for a tunnel)."""
        return [bytes(r).partition(b"\r\n\r\n")[0] for r in list(self.received)]

    def stop(self) -> None:
        import asyncio

        async def close() -> None:
            self.server.close()
            for writer in self.writers:
                # the pumps then end on their own (an already closed transport is skipped: early
                # CPython 3.11 releases fail abort() on a closed SSL transport)
                if not writer.transport.is_closing():
                    writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            await asyncio.wait(tasks, timeout=2) if tasks else None

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def start_relay(upstream: tuple[str, int], *, ca: Any = None, host: str = "127.0.0.1") -> Relay:
    """A relay to ``upstream`` on a free port; with ``ca`` (a trustme.CA) it terminates TLS."""
    import asyncio

    ctx = None
    if ca is not None:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    received: list[bytearray] = []
    writers: list[asyncio.StreamWriter] = []
    loop = asyncio.new_event_loop()

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: bytearray | None) -> None:
        try:
            while data := await reader.read(65536):
                if record is not None and len(record) < 65536:
                    record += data
                writer.write(data)
                await writer.drain()
        except (OSError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        record = bytearray()
        received.append(record)
        writers.append(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except OSError:
            writer.close()
            return
        writers.append(up_writer)
        await asyncio.gather(pump(reader, up_writer, record), pump(up_reader, writer, None))

    async def start() -> Any:
        return await asyncio.start_server(handle, host, 0, ssl=ctx)

    server = loop.run_until_complete(start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    return Relay(host, server.sockets[0].getsockname()[1], ca, received, loop, server, thread, writers)
