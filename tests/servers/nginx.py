"""One nginx launcher; each user describes its site as data.

A :class:`Site` says what the ``server {}`` block holds (its ``location``s, as nginx config
text), which files to write under its root, and a few switches (access log, Unix socket,
keep-alive timeout, extra ``http {}`` directives). :func:`start_nginx` writes the config, the
files and the temp folders into a directory of its own, starts a non-daemon nginx on a free
loopback port, waits until it accepts connections and returns a running :class:`Nginx`;
:func:`nginx_server` does the same as a context manager.

The sites of the test areas are here too (``CLIENT_SITE``, ``AIO_SITE``, :func:`files_site`);
``bench/servers.py`` defines its own over the same launcher.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.ports import PortTaken, on_a_free_port, wait_listening

__all__ = [
    "AIO_LARGE",
    "AIO_SITE",
    "AIO_SMALL",
    "AIO_TEXT",
    "CLIENT_SITE",
    "FILES_SIZE",
    "FilesServer",
    "LARGE_BODY",
    "NGINX",
    "SMALL_BODY",
    "TEXT_BODY",
    "Nginx",
    "Site",
    "files_site",
    "nginx_binary",
    "nginx_server",
    "start_files_nginx",
    "start_nginx",
]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

_CONF = """
daemon off;
master_process {master};
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections {worker_connections}; }}
http {{
    log_format conn '$connection $connection_requests $request_method $request_uri $status';
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    default_type application/octet-stream;
    # Far above what one run sends on a connection: nginx must not be what closes it.
    keepalive_requests 1000000;
    keepalive_timeout {keepalive_timeout}s;
    {http}
    {access_log}
    server {{
{listen}
        {unix_listen}
        root {dir}/www{root_suffix};
        {locations}
    }}
}}
"""


@dataclass(frozen=True)
class Site:
    """An nginx site as data: what differs between the users of :func:`start_nginx`."""

    locations: str = ""
    """Config text inside ``server {}``: ``location`` blocks and the like."""
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Files to write, by path relative to the site's root."""
    dirs: tuple[str, ...] = ()
    """Empty folders to create under the root (tests write files into them)."""
    http: str = ""
    """Extra directives in ``http {}`` (``types``, ``sendfile``...)."""
    access_log: bool = False
    """Log each request as ``connection-serial requests-on-it method uri status`` (see :meth:`Nginx.log_since`)."""
    unix_socket: bool = False
    """Also listen on ``nginx.sock`` in the server's directory."""
    master_process: bool = False
    worker_connections: int = 1024
    keepalive_timeout: int = 120
    listen: str = ""
    """Parameters of the ``listen`` directive after the address (``ssl http2``, ``http2``)."""
    listens: tuple[str, ...] = ("127.0.0.1",)
    """Loopback addresses to listen on, all on the one port (every ``127.x.y.z`` reaches the
    loopback interface): one nginx answering as many hosts. The first is the one :attr:`Nginx.base_url` names."""
    root_per_address: bool = False
    """Serve each address from its own folder, ``www/<address>/`` (``root .../www/$server_addr``):
    put a host's files under ``files`` as ``"127.0.0.10/robots.txt"``."""
    log_format: str = "conn"
    """The access log's format: ``conn`` (see :attr:`access_log`), nginx's ``combined``, or one
    that :attr:`http` defines (``log_format`` comes before the ``access_log`` that uses it)."""


@dataclass
class Nginx:
    """A running nginx: where it listens, its files, and how to stop it."""

    port: int
    dir: Path
    proc: subprocess.Popen[bytes]
    _own_dir: bool = False
    host: str = "127.0.0.1"

    @property
    def root(self) -> Path:
        return self.dir / "www"

    @property
    def access_log(self) -> Path:
        return self.dir / "access.log"

    @property
    def socket_path(self) -> str:
        return str(self.dir / "nginx.sock")

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}{path}"

    def log_size(self) -> int:
        return self.access_log.stat().st_size

    def log_since(self, offset: int, expected_lines: int | None = None, timeout: float = 5.0) -> list[list[str]]:
        """Access log lines written after byte ``offset``, split into fields.

        Fields: connection serial, requests on that connection, method, URI, status.
        Waits (briefly) for ``expected_lines``: nginx writes a line after the response is sent.
        """
        end = time.monotonic() + timeout
        while True:
            with self.access_log.open("rb") as f:
                f.seek(offset)
                lines = [ln.decode().split() for ln in f.read().splitlines() if ln.strip()]
            if expected_lines is None or len(lines) >= expected_lines or time.monotonic() > end:
                return lines
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop gracefully (SIGQUIT: finish the requests in flight), kill after 10 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def nginx_binary(install: bool = False) -> str:
    """The nginx executable; with ``install``, apt-get installs nginx-light when it is missing
    (the benchmarks do that; the tests fail with a message pointing at scripts/setup.sh)."""
    if os.path.exists(NGINX):
        return NGINX
    if not install:
        raise RuntimeError(f"nginx is not installed ({NGINX}); scripts/setup.sh test installs it")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx-light"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return "/usr/sbin/nginx"


def start_nginx(site: Site, directory: str | Path | None = None, *, install: bool = False) -> Nginx:
    """Start nginx serving ``site`` from ``directory`` (a fresh temporary one, removed at stop, if None)."""
    binary = nginx_binary(install)
    own = directory is None
    d = Path(tempfile.mkdtemp(prefix="netwire-nginx-") if directory is None else directory)
    # Workers may run as another user (nobody, when root runs the master): they must read the files.
    d.chmod(0o755)
    www = d / "www"
    www.mkdir(exist_ok=True)
    for rel in site.dirs:
        (www / rel).mkdir(parents=True, exist_ok=True)
    for rel, data in site.files.items():
        path = www / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (d / "access.log").touch()
    conf = d / "nginx.conf"

    def launch(port: int) -> Nginx:
        conf.write_text(
            _CONF.format(
                dir=d,
                port=port,
                master="on" if site.master_process else "off",
                user="user root;" if os.geteuid() == 0 else "",
                worker_connections=site.worker_connections,
                access_log=f"access_log {d}/access.log {site.log_format};" if site.access_log else "access_log off;",
                listen="\n".join(
                    f"        listen {address}:{port}{' ' + site.listen if site.listen else ''};" for address in site.listens
                ),
                root_suffix="/$server_addr" if site.root_per_address else "",
                keepalive_timeout=site.keepalive_timeout,
                http=site.http,
                unix_listen=f"listen unix:{d}/nginx.sock;" if site.unix_socket else "",
                # ``{www}`` in a site's locations: the root's path (for ``alias``).
                locations=site.locations.replace("{www}", str(www)),
            )
        )
        with open(d / "stderr.log", "wb") as err:
            proc = subprocess.Popen(
                [binary, "-p", str(d), "-c", str(conf), "-e", str(d / "error.log")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        server = Nginx(port, d, proc, False, site.listens[0])
        try:
            wait_listening(port, site.listens[-1], proc=proc)
        except RuntimeError as exc:
            server.stop()
            stderr = (d / "stderr.log").read_text(errors="replace")
            log = (d / "error.log").read_text(errors="replace") if (d / "error.log").exists() else ""
            if "Address already in use" in stderr + log:
                raise PortTaken(stderr) from None
            raise RuntimeError(f"nginx did not start ({exc}): {stderr}") from None
        return server

    try:
        server = on_a_free_port(launch, host=site.listens[0])
    except BaseException:
        if own:
            shutil.rmtree(d, ignore_errors=True)
        raise
    server._own_dir = own
    return server


@contextlib.contextmanager
def nginx_server(site: Site, directory: str | Path | None = None, *, install: bool = False) -> Iterator[Nginx]:
    """:func:`start_nginx` as a context manager: stopped on exit."""
    server = start_nginx(site, directory, install=install)
    try:
        yield server
    finally:
        server.stop()


# -- the sites of the test areas --------------------------------------------------------------------

SMALL_BODY = b"x" * 128
LARGE_BODY = bytes(range(256)) * 4096  # 1 MiB
TEXT_BODY = b"".join(b"line %05d of a text file nginx compresses on the fly\n" % i for i in range(2000))

CLIENT_SITE = Site(
    # The access log records nginx's connection serial per request: the pool tests read reuse from it.
    access_log=True,
    master_process=True,
    files={"small": SMALL_BODY, "large": LARGE_BODY, "gz/text.txt": TEXT_BODY},
    dirs=("charset/declared", "sitemaps"),
    locations=r"""
        location = /hello { default_type text/plain; return 200 "hello from nginx\n"; }
        location = /nothing { return 204; }
        location = /close { keepalive_timeout 0; default_type text/plain; return 200 "bye\n"; }
        location = /redirect { return 302 /hello; }
        location /charset/ {
            # Served with types but no charset (nginx's default): the client must find the encoding.
            types { text/html html; application/xml xml; text/plain txt; }
            location /charset/declared/ { charset utf-8; }
        }
        location /sitemaps/ {
            types { application/xml xml; text/plain txt; application/gzip gz; application/rss+xml rss;
                    application/atom+xml atom; }
        }
        location /gz/ {
            gzip on;
            gzip_min_length 0;
            gzip_types text/plain;
            default_type text/plain;
        }
""",
)
"""tests/client: small/large/gzip files, fixed answers, charset and sitemap folders (tests write into them)."""

AIO_SMALL = b"s" * 128
AIO_LARGE = bytes(range(256)) * 8192  # 2 MiB
AIO_TEXT = b"".join(b"line %05d of text that nginx compresses\n" % i for i in range(3000))

AIO_SITE = Site(
    unix_socket=True,
    worker_connections=2048,
    files={"small": AIO_SMALL, "large": AIO_LARGE, "gz/text.txt": AIO_TEXT},
    locations="""
        location /gz/ { gzip on; gzip_min_length 0; gzip_types text/plain; default_type text/plain; }
        location = /redirect { return 302 /small; }
""",
)
"""tests/aio: small/large/gzip files, also on a Unix socket."""

FILES_SIZE = 4 * 1024 * 1024


def files_site(data: bytes) -> Site:
    """tests/cli and tests/docs: ``data`` at ``/data.bin``, ``/slow/`` (rate-limited, for Ctrl-C)
    and ``/norange/`` (Range support off), a text file, a JSON document and a folder index."""
    return Site(
        worker_connections=256,
        http="types { application/json json; text/plain txt; }",
        files={
            "data.bin": data,
            "sub/index.html": b"<p>index</p>\n",
            "hello.txt": "héllo wörld\n".encode(),
            "doc.json": b'{"name":"netwire","n":[1,2,3],"ok":true,"none":null}',
        },
        locations="""
        location /slow/ { alias {www}/; limit_rate 256k; limit_rate_after 256k; }
        location /norange/ { alias {www}/; max_ranges 0; }
""",
    )


@dataclass
class FilesServer:
    """What the ``files_nginx`` fixture gives: the base URL and the random content of ``data.bin``."""

    base: str
    data: bytes

    def url(self, path: str) -> str:
        return self.base + path


def start_files_nginx(d: Path) -> tuple[Nginx, FilesServer]:
    """nginx serving a fresh random :data:`FILES_SIZE`-byte file (see :func:`files_site`) from ``d``;
    the caller stops the first item."""
    data = os.urandom(FILES_SIZE)
    server = start_nginx(files_site(data), d)
    return server, FilesServer(server.base_url, data)
