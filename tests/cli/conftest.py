"""Fixtures for the ``netwire`` command tests: the command run as a real subprocess, piped or on a
pseudo-terminal, against real servers on loopback (helpers in ``clitools``, servers from :mod:`tests.servers`).

* ``cli``: run ``python -m netwire ...`` with pipes; returns a ``clitools.Result`` (rc, stdout, stderr).
* ``cli_pty``: the same with stdout and stderr each on a pseudo-terminal of its own.
* ``files_nginx`` (root conftest): a private nginx serving a random 4 MiB file at ``/data.bin``,
  ``/slow/data.bin`` (rate-limited, for Ctrl-C) and ``/norange/data.bin`` (Range support off).
* ``httpbin`` / ``httpbin_secure`` come from pytest-httpbin.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.cli.clitools import Result, free_port, run_piped, run_pty


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
