"""netwire.request is a face over the private package netwire._urllib (see its __init__ header)."""

from __future__ import annotations

import ast
import inspect
import pickle
import urllib.request
from pathlib import Path

import netwire._urllib
import netwire.request

FLOORS = ["base", "proxy", "http_handlers", "auth", "schemes", "opener", "legacy"]
PACKAGE = Path(netwire._urllib.__file__).parent
# Modules urllib.request imports for its own http.client/email plumbing, which netwire has not.
NOT_NEEDED = {"email", "http", "posixpath"}


def test_every_name_of_urllib_request_is_reachable_through_the_face() -> None:
    theirs = {n for n in dir(urllib.request) if not n.startswith("_")} - NOT_NEEDED
    assert theirs - set(dir(netwire.request)) == set()


def test_names_defined_in_the_package_belong_to_the_face() -> None:
    for name in netwire.request.__all__:
        obj = getattr(netwire.request, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__.startswith("netwire"):
            assert obj.__module__ in ("netwire.request", "netwire.error", "netwire.response"), name
    data = pickle.dumps(netwire.request.Request("http://example.org/", headers={"X-A": "1"}))
    assert b"netwire.request" in data and b"_urllib" not in data
    assert repr(netwire.request.HTTPHandler).startswith("<class 'netwire.request.")


def test_each_module_imports_only_lower_floors_and_never_the_face() -> None:
    assert sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__") == sorted(FLOORS)
    for i, floor in enumerate(FLOORS):
        tree = ast.parse((PACKAGE / f"{floor}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert node.module in FLOORS[:i], f"{floor} imports .{node.module}"
            elif isinstance(node, ast.ImportFrom) and node.level == 2:
                assert node.module != "request", f"{floor} imports the face"
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert "netwire.request" not in names, f"{floor} imports the face"
