"""The module paths from before the folder move (h16c) keep working, as the very same modules.

``netwire.client`` IS ``netwire.http.client`` (one module object under two names), so code and
tests that monkeypatch through an old path patch the code that runs; ``mypy --strict`` sees the
same names through both paths.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import netwire
import netwire.http.client
from tests.typing.test_typing import _mypy

# old path -> new path
MOVED = {
    **{f"netwire.{m}": f"netwire.http.{m}" for m in (
        "http11", "models", "content", "decoders", "connection", "aio_connection", "pool", "aio_pool",
        "proxy_tunnel", "socks", "flow", "clientbase", "client", "aio", "fetch", "_charset",
    )},
    **{f"netwire.policy.{m}": f"netwire.http.policy.{m}" for m in (
        "auth", "cookiejar", "cookies", "proxies", "redirects", "retries",
    )},
    "netwire._robots": "netwire.robots._rules",
    "netwire._robots_cache": "netwire.robots._cache",
    "netwire.sitemaps": "netwire.robots.sitemaps",
    "netwire.policy": "netwire.http.policy",
}


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_old_path_is_the_new_module(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)
    assert sys.modules[old] is sys.modules[new]
    # ``import a.b.c`` binds attributes on the parents: the old dotted name reaches it too.
    parent, _, leaf = old.rpartition(".")
    assert getattr(importlib.import_module(parent), leaf) is sys.modules[new]


def test_from_imports_through_old_paths() -> None:
    from netwire.client import Client
    from netwire.policy import cookies
    from netwire.policy.redirects import next_request

    assert Client is netwire.Client is netwire.http.client.Client
    assert cookies is importlib.import_module("netwire.http.policy.cookies")
    assert next_request is importlib.import_module("netwire.http.policy.redirects").next_request


def test_monkeypatching_an_old_path_patches_the_running_code(monkeypatch: pytest.MonkeyPatch) -> None:
    sentinel = "netwire-test-agent/0"
    monkeypatch.setattr("netwire.clientbase.USER_AGENT", sentinel)
    assert sentinel == importlib.import_module("netwire.http.clientbase").USER_AGENT
    import netwire.client as old_client

    monkeypatch.setattr(old_client, "_h16c_probe", 1, raising=False)
    assert netwire.http.client._h16c_probe == 1


def test_mypy_sees_names_through_old_paths(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    script = tmp_path / "old_paths.py"
    script.write_text(
        "from netwire.client import Client\n"
        "from netwire.models import Headers\n"
        "from netwire.policy.redirects import next_request\n"
        "from netwire.sitemaps import parse_sitemap\n"
        "import netwire.pool\n"
        "def f(c: Client, h: Headers, p: netwire.pool.ConnectionPool) -> None:\n"
        "    reveal_type(next_request)\n"
        "    reveal_type(parse_sitemap)\n"
    )
    out = _mypy(script, tmp_path / "cache")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "netwire.http.models.Request" in out.stdout
    assert "netwire.robots.sitemaps.ParsedSitemap" in out.stdout


def test_cli_start_up_imports_no_http_module() -> None:
    code = "import sys, runpy; sys.argv = ['netwire', '--version']\n" \
           "try:\n    runpy.run_module('netwire', run_name='__main__')\nexcept SystemExit:\n    pass\n" \
           "print(sorted(m for m in sys.modules if m.startswith(('netwire.http', 'netwire.robots'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_real_module_keeps_its_own_name_and_spec() -> None:
    import netwire.client as old
    import netwire.policy.auth as old_auth

    assert old.__name__ == old.__spec__.name == "netwire.http.client"
    assert old_auth.__spec__.name == "netwire.http.policy.auth"
    assert importlib.reload(old) is netwire.http.client


def test_no_alias_file_is_left_at_an_old_path() -> None:
    # git pairs a rename only when the old file is gone: a file left at the old path would keep
    # others' edits to it from following the move (the old paths are served by netwire._moved).
    src = Path(netwire.__file__).parent
    for old in MOVED:
        rel = Path(*old.split(".")[1:])
        assert not (src.joinpath(rel).with_suffix(".py")).exists(), old
        assert src.joinpath(rel).with_suffix(".pyi").exists() or src.joinpath(rel, "__init__.pyi").exists(), old
