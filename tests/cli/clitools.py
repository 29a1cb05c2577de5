"""Helpers for the ``netwire`` command tests: run it as a real subprocess, piped or on a
pseudo-terminal (each of stdout and stderr on a terminal of its own), and start an nginx serving
files (:func:`tests.servers.nginx.files_site` over the shared launcher).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.servers.nginx import FILES_SIZE, FilesServer, start_files_nginx
from tests.servers.ports import free_port

__all__ = [
    "FILE_SIZE", "FilesServer", "Result", "base_env", "command", "free_port", "interruptible", "run_piped", "run_pty",
    "start_files_nginx",
]

FILE_SIZE = FILES_SIZE


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


def interruptible() -> None:
    """``preexec_fn`` for a command a test sends SIGINT to, as Ctrl-C on a terminal would.

    A shell without job control starts background commands (``scripts/test &``, a CI runner's
    detached job) with SIGINT ignored; children inherit that, and Python keeps an ignored SIGINT
    ignored. The command then never saw the test's "Ctrl-C" and ran to the end (rc 0, or a
    timeout). Here it gets the default disposition back, as in an interactive terminal.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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
        env=env or base_env(), cwd=cwd, preexec_fn=interruptible,
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
