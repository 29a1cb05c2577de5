"""Every code block of docs/*.md runs here against local servers, so the docs cannot rot.

The convention (also written at the top of docs/index.md):

* ```` ```python ```` blocks run in order, one namespace per page (a block may use names an earlier
  block of the same page defined), with the working directory set to a fresh temporary directory.
  These names are predefined:

  - ``HTTPBIN``: base URL of a local httpbin (``http://127.0.0.1:PORT``; /get, /post, /status/N...)
  - ``HTTPBIN_TLS``: the same over https; ``HTTPBIN_CA``: the CA bundle that verifies it
  - ``NGINX``: base URL of a local nginx serving ``/hello.txt``, ``/doc.json``, ``/data.bin``
    (4 MiB, Range support), ``/sub/`` (``/sub`` redirects there)
  - ``NGINX_H2``: base URL of a local nginx over TLS that speaks HTTP/2 (ALPN ``h2``) and serves
    ``/hello``; ``NGINX_H2_CA``: the CA bundle that verifies it
  - ``TMP``: the temporary directory, a ``pathlib.Path``

* ```` ```console ```` blocks: each line starting with ``$ `` is run with bash (the same names
  are environment variables, ``$HTTPBIN``...) and must exit 0, or with the status written at the
  end of the line as ``# exit N``. Output lines are illustrations and are not compared.

* ```` ```python no-run ```` / ```` ```console no-run ````: not run. Only for blocks that need the
  outside world (a real site, root, a second machine); say so next to the block.

Blocks without a language (```` ``` ````) are output or text and are not run. While a page runs,
name resolution and connections are limited to loopback: a block that would reach the Internet
fails with a message saying so, rather than sending anything out.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.clitools import FilesServer

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)(?P<info>[^\n`]*)$")


@dataclass
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    flags: set[str]
    code: str

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def blocks_of(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        words = m.group("info").split()
        start, body = i, []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence) and lines[i].strip().strip(fence[0]) == ""):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        i += 1
        found.append(Block(path.name, start + 1, words[0].lower() if words else "", set(words[1:]), "\n".join(body) + "\n"))
    return found


def pages() -> list[str]:
    return sorted(p.name for p in DOCS.glob("*.md"))


# -- servers -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def h2_docs_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """nginx over TLS speaking HTTP/2, and the CA file that verifies it."""
    from tests.servers.h2 import h2_nginx_site
    from tests.servers.nginx import start_nginx
    from tests.servers.tls import session_ca

    directory = tmp_path_factory.mktemp("docs-h2")
    ca = directory / "ca.pem"
    session_ca().cert_pem.write_to_path(str(ca))
    server = start_nginx(h2_nginx_site(directory, tls=True, access_log=False))
    try:
        yield f"https://localhost:{server.port}", str(ca)
    finally:
        server.stop()


@pytest.fixture
def doc_names(
    httpbin: Any, httpbin_secure: Any, files_nginx: FilesServer, h2_docs_nginx: tuple[str, str], tmp_path: Path
) -> dict[str, Any]:
    import pytest_httpbin.certs  # type: ignore[import-untyped]

    return {
        "HTTPBIN": httpbin.url,
        "HTTPBIN_TLS": httpbin_secure.url,
        "HTTPBIN_CA": pytest_httpbin.certs.where(),
        "NGINX": files_nginx.base,
        "NGINX_H2": h2_docs_nginx[0],
        "NGINX_H2_CA": h2_docs_nginx[1],
        "TMP": tmp_path,
    }


# -- loopback only -------------------------------------------------------------------------------


class OutsideWorld(OSError):
    """A doc block tried to reach a non-loopback address."""


def _loopback_host(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).split("%")[0]
    if host in ("localhost", "", "0.0.0.0", "::"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _check_address(address: Any) -> None:
    if isinstance(address, tuple) and address and not _loopback_host(address[0]):
        raise OutsideWorld(
            f"a doc block tried to reach {address[0]}: the docs run against loopback servers only "
            "(use HTTPBIN / NGINX, or mark the block `no-run` if it needs the outside world)"
        )


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Name resolution and connections limited to loopback, for this process, while it lasts."""
    real_getaddrinfo = socket.getaddrinfo
    cls = socket.socket
    real = {name: getattr(cls, name) for name in ("connect", "connect_ex", "sendto")}

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback_host(host):
            # As if the name did not exist: nothing leaves the machine, and the code under test
            # takes its "DNS failure" path.
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: name resolution is off in the doc tests")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        _check_address(address)
        return real["connect"](self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        _check_address(address)
        return real["connect_ex"](self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
        _check_address(args[-1])
        return real["sendto"](self, data, *args)

    socket.getaddrinfo = getaddrinfo
    for name, value in (("connect", connect), ("connect_ex", connect_ex), ("sendto", sendto)):
        setattr(cls, name, value)
    try:
        yield
    finally:
        socket.getaddrinfo = real_getaddrinfo
        for name, value in real.items():
            setattr(cls, name, value)


# -- running -------------------------------------------------------------------------------------


# Seconds; a block that serves forever fails instead of hanging the run. Not less: starting a Ray
# cluster (docs/fetch.md) took more than 20 s on two busy cores.
BLOCK_TIMEOUT = 60


class BlockTimeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise BlockTimeout(f"the block ran for more than {BLOCK_TIMEOUT} s")


def _run_python(block: Block, namespace: dict[str, Any]) -> None:
    code = compile(block.code, f"<{block.where}>", "exec")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(BLOCK_TIMEOUT)
    try:
        exec(code, namespace)
    except BaseException as exc:
        tb = "".join(traceback.format_exception(exc))
        raise AssertionError(f"the python block at {block.where} failed:\n{textwrap.indent(block.code, '    ')}\n{tb}") from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_EXIT_NOTE = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


def _run_console(block: Block, names: dict[str, Any], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update({k: str(v) for k, v in names.items()})
    # The docs' "netwire" is this checkout's, and their "python" this interpreter (a virtualenv
    # need not be active, so neither is necessarily on PATH).
    bindir = cwd / ".bin"
    bindir.mkdir(exist_ok=True)
    for name, target in (("netwire", f'"{sys.executable}" -m netwire'), ("python", f'"{sys.executable}"'),
                         ("python3", f'"{sys.executable}"')):
        shim = bindir / name
        shim.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        shim.chmod(0o755)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    for raw in block.code.splitlines():
        if not raw.startswith("$ "):
            continue
        command = raw[2:]
        expected = 0
        m = _EXIT_NOTE.search(command)
        if m:
            expected = int(m.group(1))
            command = command[: m.start()]
        proc = subprocess.run(
            ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, timeout=30, stdin=subprocess.DEVNULL
        )
        assert proc.returncode == expected, (
            f"the console command at {block.where} exited {proc.returncode}, expected {expected}:\n"
            f"$ {command}\nstdout: {proc.stdout[-2000:]!r}\nstderr: {proc.stderr[-2000:]!r}"
        )


def _page_params() -> list[Any]:
    # A page starting a Ray cluster shares the "ray" group with tests/bulk's Ray tests (see
    # tests/conftest.py): under pytest-xdist, one cluster starts at a time.
    return [
        pytest.param(page, marks=pytest.mark.xdist_group("ray")) if "import ray" in (DOCS / page).read_text() else page
        for page in pages()
    ]


# A hang guard, as BLOCK_TIMEOUT is per block: docs/cli.md runs dozens of commands, each a new
# process, which took more than the default 120 s on two busy cores.
@pytest.mark.timeout(300)
@pytest.mark.parametrize("page", _page_params())
def test_page(page: str, doc_names: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in blocks_of(DOCS / page) if b.lang in ("python", "py", "console")]
    runnable = [b for b in blocks if "no-run" not in b.flags]
    if not runnable:
        pytest.skip(f"docs/{page} has no runnable code block")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": f"docs.{page.removesuffix('.md')}", **doc_names}
    with loopback_only():
        for block in runnable:
            if block.lang == "console":
                _run_console(block, doc_names, tmp_path)
            else:
                _run_python(block, namespace)


def test_the_convention_is_documented() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    head = index[:4000]
    for name in ("HTTPBIN", "HTTPBIN_TLS", "HTTPBIN_CA", "NGINX", "TMP", "no-run", "# exit"):
        assert name in head, f"docs/index.md should explain {name!r} near its top"


def test_no_run_is_rare() -> None:
    # no-run is for the outside world only; a page made of skipped blocks tests nothing.
    for page in pages():
        blocks = [b for b in blocks_of(DOCS / page) if b.lang in ("python", "py", "console")]
        skipped = [b for b in blocks if "no-run" in b.flags]
        assert len(skipped) <= max(2, len(blocks) // 3), f"docs/{page}: too many no-run blocks ({len(skipped)})"


def test_block_parser(tmp_path: Path) -> None:
    p = tmp_path / "sample.md"
    p.write_text("text\n```python\nx = 1\n```\n\n   ```console no-run\n   $ true\n   ```\n```\nplain\n```\n")
    got = [(b.line, b.lang, b.flags, b.code) for b in blocks_of(p)]
    assert got == [(2, "python", set(), "x = 1\n"), (6, "console", {"no-run"}, "$ true\n"), (9, "", set(), "plain\n")]
