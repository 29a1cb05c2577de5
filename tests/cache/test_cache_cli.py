"""``netwire get --cache DIR``: the command keeps an sqlite cache in DIR between runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cache.conftest import PAGE
from tests.cli.clitools import run_piped
from tests.servers.nginx import Nginx

pytestmark = pytest.mark.nginx


def test_get_with_cache_dir(cache_nginx: Nginx, hits: Any, tmp_path: Path) -> None:
    folder = tmp_path / "made" / "by-netwire"
    url = cache_nginx.url("/pages/500.html")
    seen = hits("/pages/500.html")
    runs = [run_piped(["get", "--cache", str(folder), url]) for _ in range(2)]
    assert [r.rc for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout == PAGE
    assert seen() == ["200"]  # the second run was answered from DIR/netwire-cache.sqlite
    assert (folder / "netwire-cache.sqlite").is_file()


def test_cache_dir_that_cannot_be_made(tmp_path: Path, cache_nginx: Nginx) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = run_piped(["get", "--cache", str(blocker / "sub"), cache_nginx.url("/fresh/a.txt")])
    assert r.rc == 2 and "--cache" in r.stderr.decode()
