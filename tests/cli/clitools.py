"""Helpers for the ``netwire`` command tests: run it as a real subprocess, piped or on a
pseudo-terminal (each of stdout and stderr on a terminal of its own), and start an nginx serving files.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
FILE_SIZE = 4 * 1024 * 1024

NGINX_CONF = """
worker_processes 1;
daemon off;
master_process off;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    default_type application/octet-stream;
    types {{ application/json json; text/plain txt; }}
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location /slow/ {{ alias {dir}/www/; limit_rate 256k; limit_rate_after 256k; }}
        location /norange/ {{ alias {dir}/www/; max_ranges 0; }}
    }}
}}
"""


@dataclass
class Result:
    rc: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def base_env(**extra: str) -> dict[str, str]:
    """The environment for the command: no colour forcing, no proxies from the outside, a real TERM."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in (
        "NO_COLOR", "FORCE_COLOR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "COLUMNS")}
    env["TERM"] = "xterm-256color"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "netwire", *args]


def run_piped(
    args: Sequence[str], *, input: bytes | None = None, env: dict[str, str] | None = None,
    cwd: str | Path | None = None, timeout: float = 30,
) -> Result:
    proc = subprocess.run(
        command(args), input=input, stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True, env=env or base_env(), cwd=cwd, timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _pty_pair(columns: int = 120) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    # Raw mode: the terminal must not turn \n into \r\n, so the bytes read are the bytes written.
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return master, slave


def run_pty(
    args: Sequence[str], *, env: dict[str, str] | None = None, cwd: str | Path | None = None,
    timeout: float = 30, on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
    stdout_file: Path | None = None,
) -> Result:
    """Run the command with stdout and stderr on two pseudo-terminals; collect what each shows.

    With ``stdout_file``, stdout is redirected to that file instead (``netwire get URL > file``).
    """
    out_m, out_s = _pty_pair()
    err_m, err_s = _pty_pair()
    redirected = open(stdout_file, "wb") if stdout_file is not None else None  # noqa: SIM115
    proc = subprocess.Popen(
        command(args), stdin=subprocess.DEVNULL, stdout=redirected or out_s, stderr=err_s,
        env=env or base_env(), cwd=cwd,
    )
    if redirected is not None:
        redirected.close()
    os.close(out_s)
    os.close(err_s)
    if on_start is not None:
        on_start(proc)
    chunks: dict[int, list[bytes]] = {out_m: [], err_m: []}
    open_fds = [out_m, err_m]
    deadline = time.monotonic() + timeout
    try:
        while open_fds and time.monotonic() < deadline:
            ready, _, _ = select.select(open_fds, [], [], 0.1)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the last writer closed its side
                    data = b""
                if data:
                    chunks[fd].append(data)
                else:
                    open_fds.remove(fd)
        rc = proc.wait(max(deadline - time.monotonic(), 0.1))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(out_m)
        os.close(err_m)
    return Result(rc, b"".join(chunks[out_m]), b"".join(chunks[err_m]))


# -- nginx with files ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FilesServer:
    base: str
    data: bytes

    def url(self, path: str) -> str:
        return self.base + path


def start_files_nginx(d: Path) -> tuple[subprocess.Popen[bytes], FilesServer]:
    www = d / "www"
    www.mkdir()
    data = os.urandom(FILE_SIZE)
    (www / "data.bin").write_bytes(data)
    (www / "sub").mkdir()
    (www / "sub" / "index.html").write_bytes(b"<p>index</p>\n")
    (www / "hello.txt").write_bytes("héllo wörld\n".encode())
    (www / "doc.json").write_bytes(b'{"name":"netwire","n":[1,2,3],"ok":true,"none":null}')
    port = free_port()
    conf = d / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=d, port=port))
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(d)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("nginx did not start") from None
            time.sleep(0.02)
    return proc, FilesServer(f"http://127.0.0.1:{port}", data)
