"""The faces take the same parameters as the running CPython's modules, and export the same names.

``signature_differences(stdlib_module, netwire_module)`` is the reusable check: every public
function, class and method the stdlib module defines is looked up in netwire's twin and their
``inspect.signature``s are compared by parameter name, kind and default (so code calling them
with keywords, ``url2pathname(pathname=...)``, keeps working). ``all_differences`` compares
``__all__`` (what ``from ... import *`` brings). tests for netwire.parse and netwire.robotparser
import both from here.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

import pytest

_SIMPLE_DEFAULTS = (type(None), bool, int, float, str, bytes)


def _public_members(module: ModuleType) -> Iterator[tuple[str, Any]]:
    """(dotted name, object) of what ``module`` defines publicly: functions, classes, methods."""
    names = set(getattr(module, "__all__", ()))
    names.update(n for n in vars(module) if not n.startswith("_"))
    for name in sorted(names):
        obj = getattr(module, name, None)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) != module.__name__ and name not in getattr(module, "__all__", ()):
            continue  # imported from elsewhere (socket.socket, email.message.Message, ...)
        yield name, obj
        if inspect.isclass(obj):
            for attr in sorted(dir(obj)):
                if attr.startswith("_") and attr != "__init__":
                    continue
                owner = next((k for k in obj.__mro__ if attr in vars(k)), None)
                if owner is None or owner.__module__ != module.__name__:
                    continue  # inherited from object, io, tempfile...: not this module's API
                member = vars(owner)[attr]
                if isinstance(member, staticmethod | classmethod):
                    member = member.__func__
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", getattr(obj, attr)


def _shape(obj: Any) -> list[tuple[str, Any, Any]] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    shape = []
    for p in sig.parameters.values():
        if p.default is inspect.Parameter.empty:
            default: Any = "<required>"
        elif isinstance(p.default, _SIMPLE_DEFAULTS):
            default = p.default
        else:
            default = f"<{type(p.default).__name__}>"
        shape.append((p.name, p.kind, default))
    return shape


def _resolve(module: ModuleType, dotted: str) -> Any:
    obj: Any = module
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def signature_differences(
    stdlib: ModuleType, ours: ModuleType, allowed: Mapping[str, str] | None = None
) -> list[str]:
    """What differs between ``stdlib``'s public callables and ``ours``'; ``allowed`` maps names
    (``"Class.method"``) to the documented reason they may differ (or be missing)."""
    allowed = allowed or {}
    problems = []
    for name, obj in _public_members(stdlib):
        if name in allowed:
            continue
        twin = _resolve(ours, name)
        if twin is None:
            problems.append(f"{ours.__name__}.{name} is missing")
            continue
        theirs_shape, ours_shape = _shape(obj), _shape(twin)
        if theirs_shape is not None and theirs_shape != ours_shape:
            problems.append(
                f"{name}: {stdlib.__name__} {inspect.signature(obj)} != {ours.__name__} "
                f"{inspect.signature(twin) if ours_shape is not None else '(no signature)'}"
            )
    return problems


def all_differences(stdlib: ModuleType, ours: ModuleType) -> tuple[set[str], set[str]]:
    """(names only in netwire's ``__all__``, names only in the stdlib's)."""
    theirs, mine = set(stdlib.__all__), set(ours.__all__)
    return mine - theirs, theirs - mine


# -- netwire.request, netwire.error, netwire.response -------------------------------------------

FACES = [
    ("urllib.request", "netwire.request"),
    ("urllib.error", "netwire.error"),
    ("urllib.response", "netwire.response"),
]

# Documented in docs/urllib-migration.md ("URLopener and FancyURLopener"): the deprecated
# classes are thin shims; their per-scheme internals are not provided.
ALLOWED: dict[str, str] = {}


@pytest.mark.parametrize(("stdlib_name", "face_name"), FACES)
def test_signatures_match_the_running_cpython(stdlib_name: str, face_name: str) -> None:
    stdlib, face = importlib.import_module(stdlib_name), importlib.import_module(face_name)
    assert signature_differences(stdlib, face, ALLOWED) == []


@pytest.mark.parametrize(("stdlib_name", "face_name"), FACES)
def test_all_matches_the_running_cpython(stdlib_name: str, face_name: str) -> None:
    stdlib, face = importlib.import_module(stdlib_name), importlib.import_module(face_name)
    assert all_differences(stdlib, face) == (set(), set())
    namespace: dict[str, Any] = {}
    exec(f"from {face_name} import *", namespace)  # every listed name exists
    namespace.pop("__builtins__")
    assert set(namespace) == set(stdlib.__all__)


def test_keyword_calls_written_for_urllib() -> None:
    import netwire.request

    assert netwire.request.parse_keqv_list(l=['a="b"', "c=d"]) == {"a": "b", "c": "d"}
    assert netwire.request.url2pathname(pathname="/tmp/a%20b") == "/tmp/a b"


def test_the_check_catches_a_renamed_parameter() -> None:
    # The helper itself must be able to fail.
    import types

    stdlib = types.ModuleType("fake_stdlib")
    ours = types.ModuleType("fake_ours")
    exec("def f(pathname): pass\nclass C:\n    def m(self, a, b=1): pass", stdlib.__dict__)
    exec("def f(url): pass\nclass C:\n    def m(self, a, b=2): pass", ours.__dict__)
    for fn in (stdlib.f, stdlib.C):
        fn.__module__ = "fake_stdlib"
    stdlib.C.m.__module__ = "fake_stdlib"
    problems = signature_differences(stdlib, ours)
    assert len(problems) == 2 and problems[0].startswith("C.m") and problems[1].startswith("f:")
