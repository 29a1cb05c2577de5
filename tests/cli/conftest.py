"""Fixtures for the ``netwire`` command tests: the command run as a real subprocess, piped or on a
pseudo-terminal, against real servers on loopback (helpers in ``clitools``, servers from :mod:`tests.servers`).

* ``cli``: run ``python -m netwire ...`` with pipes; returns a ``clitools.Result`` (rc, stdout, stderr).
* ``cli_pty``: the same with stdout and stderr each on a pseudo-terminal of its own.
* ``files_nginx`` (root conftest): a private nginx serving a random 4 MiB file at ``/data.bin``,
  ``/slow/data.bin`` (rate-limited, for Ctrl-C) and ``/norange/data.bin`` (Range support off).
* ``httpbin`` / ``httpbin_secure`` come from pytest-httpbin.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.clitools import Result, base_env, free_port, run_piped, run_pty


@pytest.fixture
def cli() -> Callable[..., Result]:
    return run_piped


@pytest.fixture
def cli_pty() -> Callable[..., Result]:
    return run_pty


@pytest.fixture
def unused_port() -> int:
    """A loopback port with nothing listening (connects are refused)."""
    return free_port()


@pytest.fixture
def stub_resolver(tmp_path: Path) -> dict[str, str]:
    """An environment whose Python fails to resolve ``*.invalid`` names without asking any DNS server.

    (The test network is loopback only: a real lookup of an unknown name could leave the machine.)
    The netwire imported stays this checkout's: the stub's folder is put before PYTHONPATH, not
    instead of it.
    """
    (tmp_path / "sitecustomize.py").write_text(
        "import socket\n"
        "_real = socket.getaddrinfo\n"
        "def _getaddrinfo(host, *args, **kwargs):\n"
        "    if isinstance(host, str) and host.endswith('.invalid'):\n"
        "        raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')\n"
        "    return _real(host, *args, **kwargs)\n"
        "socket.getaddrinfo = _getaddrinfo\n"
    )
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH", "")) if p)
    return base_env(PYTHONPATH=path)
