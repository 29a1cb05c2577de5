"""The url package's face and its import rule (see the header of netwire/url/__init__.py)."""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys
from pathlib import Path

import netwire.url
from netwire.url import URL, URLSearchParams

PACKAGE = Path(netwire.url.__file__).parent


def test_the_face_exports_what_netwire_url_always_exported() -> None:
    assert netwire.url.__all__ == ["DEFAULT_PORTS", "SPECIAL_SCHEMES", "URL", "URLSearchParams"]
    assert {n for n in vars(netwire.url) if not n.startswith("_")} - {"annotations"} == set(netwire.url.__all__)


def test_classes_keep_the_public_path_for_repr_and_pickle() -> None:
    assert URL.__module__ == URLSearchParams.__module__ == "netwire.url"
    url = URL("https://example.org/a?b=c")
    data = pickle.dumps(url)
    assert b"netwire.url._" not in data
    assert pickle.loads(data) == url
    params = URLSearchParams("a=1&b=2")
    assert b"netwire.url._" not in pickle.dumps(params)
    assert pickle.loads(pickle.dumps(params)) == params


def test_the_package_imports_only_the_stdlib_errors_and_itself() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                # "." is this package; ".." may only reach netwire.errors.
                assert node.level == 1 or node.module == "errors", (path.name, node.module)
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(n.split(".")[0] == "netwire" for n in names), (path.name, names)


def test_importing_it_loads_no_other_netwire_module() -> None:
    code = "import sys, netwire.url; print(sorted(m for m in sys.modules if m.startswith('netwire')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out))
    # netwire._moved: the finder serving the module paths from before the folders (netwire/__init__).
    assert loaded - {"netwire", "netwire.errors", "netwire._moved"} == {m for m in loaded if m.startswith("netwire.url")}
