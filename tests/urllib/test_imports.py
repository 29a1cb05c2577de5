"""The urllib face is built on netwire, not on the modules it replaces."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import netwire

SRC = Path(netwire.__file__).resolve().parent
FORBIDDEN = ("urllib.request", "urllib.parse", "urllib.error", "urllib.response", "http.client")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_stdlib_http_stack_imported_anywhere_in_netwire() -> None:
    for path in sorted(SRC.rglob("*.py")):
        bad = {name for name in _imports(path) if name in FORBIDDEN or name.startswith("http.client.")}
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_using_the_face_loads_neither_urllib_request_nor_http_client() -> None:
    code = (
        "import sys, netwire.request, netwire.error\n"
        "r = netwire.request.urlopen('data:,x'); r.read(); r.info().items()\n"
        "print(sorted(m for m in ('urllib.request', 'http.client', 'urllib.error') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_module_is_callable_as_the_module_level_request(httpbin: object) -> None:
    import netwire
    import netwire.request

    r = netwire.request("GET", str(httpbin.url) + "/get")  # type: ignore[attr-defined]
    assert r.status == 200
    assert netwire.request.urlopen(str(httpbin.url) + "/get").status == 200  # type: ignore[attr-defined]
