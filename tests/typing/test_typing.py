"""netwire's public API as a type checker sees it: ``mypy --strict`` on a user's script."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import netwire

HERE = Path(__file__).resolve().parent


def _mypy(path: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(cache),
         "--python-version", f"{sys.version_info[0]}.{sys.version_info[1]}", str(path)],
        capture_output=True, text=True, cwd=HERE, check=False,
    )


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mypy")
    return tmp_path_factory.mktemp("mypy-cache")


def test_a_user_script_passes_mypy_strict(mypy_cache: Path) -> None:
    out = _mypy(HERE / "user_script.py", mypy_cache)
    assert out.returncode == 0, out.stdout + out.stderr


def test_lazily_exported_names_are_typed_not_any(mypy_cache: Path) -> None:
    script = HERE / "not_any.py"
    expected = {i for i, line in enumerate(script.read_text().splitlines(), 1) if line.endswith("# error")}
    out = _mypy(script, mypy_cache)
    flagged = {int(m.group(1)) for m in re.finditer(r"not_any\.py:(\d+): error", out.stdout)}
    assert flagged == expected, out.stdout


def test_dir_shows_public_names_only() -> None:
    names = dir(netwire)
    assert {"Client", "AsyncClient", "get", "fetch_all", "request", "parse", "__version__"} <= set(names)
    assert not {"Any", "TYPE_CHECKING", "annotations", "importlib"} & set(names)
    for name in names:
        assert getattr(netwire, name) is not None, name
