"""Build script: the pure wheel by default, a mypyc-compiled one on request.

All metadata lives in pyproject.toml; this file only adds the optional compiled extension modules.

    pip install .                          # pure Python wheel (py3-none-any), the default
    NETWIRE_COMPILE=1 pip install .        # compiles COMPILED_MODULES with mypyc when a C compiler
                                           # is present; falls back to the pure wheel otherwise
    NETWIRE_COMPILE=require pip install .  # the same, but fails instead of falling back

The compiled modules are built from the very same sources; the .py files ship beside them and
``netwire.__compiled__`` tells which build runs. Editable installs always stay pure (the in-tree
backend, build_backend/netwire_build.py, clears the request). mypy is a build requirement only when
compiling (the backend adds it); see docs/install.md and docs/architecture.md ("Compiled build").
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import sysconfig
from typing import Any

from setuptools import setup

# The hot modules compiled by mypyc, relative to src/netwire. They must follow the constraints in
# docs/architecture.md ("Compiled build"). Next steps: http/models.py (Response has property
# setters, which mypyc cannot compile in a Python class, and AsyncResponse's subclassing needs one);
# parse.py (its compile-compat edits are in; left: the `if TYPE_CHECKING: ... else:` around the cached
# urlsplit and the hidden module __getattr__, which mypyc compiles as unreachable);
# the drivers (http/client.py, aio.py, pool.py, aio_pool.py, connection.py, aio_connection.py,
# clientbase.py); http/policy/ (Auth and Retry are subclassed by user code, the cookie jars subclass
# http.cookiejar's).
COMPILED_MODULES = [
    "http/http11.py",
    "http/flow.py",
    "http/exchange.py",
    "http/decoders.py",
    "http/content.py",
    "url/_percent.py",
    "url/_host.py",
    "url/_idna.py",
    "url/_parser.py",
    "url/_url.py",
    "url/_search_params.py",
    "robots/_rules.py",
]


def _compile_mode() -> str:
    """'' (pure), '1' (compile if possible) or 'require', from NETWIRE_COMPILE."""
    value = os.environ.get("NETWIRE_COMPILE", "").strip().lower()
    if value in ("", "0", "no", "false", "off"):
        return ""
    return "require" if value == "require" else "1"


def _have_c_compiler() -> bool:
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()  # CC: as setuptools
    return bool(cc) and shutil.which(cc[0]) is not None


def _ext_modules() -> list[Any]:
    mode = _compile_mode()
    if not mode or os.environ.get("NETWIRE_BUILD_EDITABLE"):
        return []
    if not {"build", "build_ext", "bdist_wheel", "install"} & set(sys.argv[1:]):
        return []  # metadata, sdist: no need to run mypyc (minutes) for them
    problem = ""
    if sys.implementation.name != "cpython":
        problem = f"mypyc needs CPython, not {sys.implementation.name}"
    elif not _have_c_compiler():
        problem = "no C compiler found (CC, or the one Python was built with)"
    else:
        try:
            from mypyc.build import mypycify
        except ImportError:
            problem = "mypy (mypyc) is not installed in the build environment"
    if problem:
        if mode == "require":
            raise SystemExit(f"NETWIRE_COMPILE=require: cannot compile netwire: {problem}")
        print(f"netwire: building the pure wheel: {problem}", file=sys.stderr)
        return []
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join("src", "netwire", *m.split("/")) for m in COMPILED_MODULES]
    old = os.getcwd()
    os.chdir(here)  # mypyc reads pyproject.toml's [tool.mypy] and writes build/ from here
    try:
        # Extension modules an earlier build left in build/lib (a module since dropped from the
        # list) would be packed into this wheel and shadow their .py: drop them all, the build
        # makes the current ones again.
        for stale in glob.glob(os.path.join("build", "lib*", "**", "*.so"), recursive=True):
            os.remove(stale)
        return list(mypycify(paths, opt_level="3", debug_level="0"))
    finally:
        os.chdir(old)


setup(ext_modules=_ext_modules())
