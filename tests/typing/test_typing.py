"""netwire's public API as a type checker sees it: ``mypy --strict`` on a user's script."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import netwire

HERE = Path(__file__).resolve().parent
# scripts/count_any.py measured 28.3 over src/netwire before the typed signatures of _types.py
# (23.5 after; the rest is mostly the urllib faces, _urllib/ and parse.py). The HTTP client
# (src/netwire/http) is held to the 10 per 1k the architecture review asks for.
ANY_PER_1K_MAX = 23.6
HTTP_ANY_PER_1K_MAX = 10.0


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


def test_misspelt_or_mistyped_options_fail_mypy_strict(mypy_cache: Path) -> None:
    # Before BaseClient took the typed keywords itself, Client.__init__(**options: Any) let
    # Client(timout=5) through; each marked line of misuse.py must now be an error.
    script = HERE / "misuse.py"
    expected = {i for i, line in enumerate(script.read_text().splitlines(), 1) if line.endswith("# error")}
    out = _mypy(script, mypy_cache)
    flagged = {int(m.group(1)) for m in re.finditer(r"misuse\.py:(\d+): error", out.stdout)}
    assert flagged == expected, out.stdout
    assert 'Unexpected keyword argument "timout" for "Client"' in out.stdout


def test_any_density_stays_under_the_threshold() -> None:
    # scripts/count_any.py: Any in annotations per 1,000 code lines over src/netwire. Lower this
    # bound as the count falls; a rise means a signature stopped telling callers its types.
    spec = importlib.util.spec_from_file_location("count_any", HERE.parents[1] / "scripts" / "count_any.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    value, per_file = module.density()
    assert value <= ANY_PER_1K_MAX, f"{value:.1f} Any per 1k code lines (threshold {ANY_PER_1K_MAX})"
    http = [counts for name, counts in per_file.items() if name.startswith("http/")]
    http_value = 1000.0 * sum(a for a, _ in http) / sum(n for _, n in http)
    assert http_value <= HTTP_ANY_PER_1K_MAX, f"src/netwire/http: {http_value:.1f} Any per 1k code lines"


def test_client_options_list_the_client_keywords() -> None:
    # fetch_all(**client_options) is typed by ClientOptions: it must name BaseClient's keywords.
    import inspect

    from netwire._types import ClientOptions
    from netwire.http.clientbase import BaseClient

    params = inspect.signature(BaseClient.__init__).parameters
    keywords = {name for name, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert set(ClientOptions.__annotations__) == keywords
