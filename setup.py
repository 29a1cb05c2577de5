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
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

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


def _opt_level() -> str:
    """The C optimisation level: -O3 (what the bench and releases use) unless NETWIRE_COMPILE_OPT says.

    The CI lane builds with a lower one (scripts/test-compiled): the C compile of -O3 is most of the
    build's time, and the tests check behaviour, not speed.
    """
    value = os.environ.get("NETWIRE_COMPILE_OPT", "3").strip()
    if value not in ("0", "1", "2", "3"):
        raise SystemExit(f"NETWIRE_COMPILE_OPT must be 0, 1, 2 or 3, not {value!r}")
    return value


def _build_jobs() -> int:
    """How many C files to compile at once: NETWIRE_BUILD_JOBS, else one per core."""
    value = os.environ.get("NETWIRE_BUILD_JOBS", "").strip()
    if value:
        return max(1, int(value))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


class ParallelBuildExt(build_ext):
    """setuptools' build_ext, compiling the C files of one extension module side by side.

    mypyc's multi-file output (one C file per module, one extension module) is built by a single
    ``compiler.compile(sources)`` call, which compiles the files one after another; and build_ext's
    own ``parallel`` option only spreads whole extension modules over workers. So each source goes
    to the compiler on its own, from a thread pool (the work happens in the gcc processes). Only the
    public ``compile`` API is used: one call per file, the objects returned in the sources' order.
    """

    def build_extension(self, ext: Any) -> None:
        compiler = self.compiler
        serial = compiler.compile
        jobs = _build_jobs()

        def compile_each(sources: list[str], *args: Any, **kwargs: Any) -> list[str]:
            if jobs == 1 or len(sources) < 2:
                return list(serial(sources, *args, **kwargs))
            with ThreadPoolExecutor(min(jobs, len(sources))) as pool:
                parts = list(pool.map(lambda source: serial([source], *args, **kwargs), sources))
            return [obj for part in parts for obj in part]

        compiler.compile = compile_each
        start = time.monotonic()
        try:
            super().build_extension(ext)
        finally:
            compiler.compile = serial
        # Read by scripts/test-compiled (pip -v): where the build's time goes.
        print(f"netwire: built {ext.name} ({len(ext.sources)} C files, {jobs} at once, "
              f"-O{_opt_level()}) in {time.monotonic() - start:.1f} s", file=sys.stderr)


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
        # One group (one shared extension module, so calls between the modules stay direct C
        # calls), written one C file per module (multi_file), which ParallelBuildExt compiles side
        # by side. Naming the group explicitly (`separate`) is what turns on mypy's incremental
        # mode: the type analysis of the modules that are not compiled comes from the checkout's
        # .mypy_cache when a `mypy` run left one (scripts/test runs mypy first), which takes the
        # analysis from ~30 to ~3 CPU seconds; mypy checks each cached module's hash, so a stale
        # cache only costs time. The compiled code is the same: one group, direct calls inside it.
        start = time.monotonic()
        extensions = list(
            mypycify(
                paths,
                opt_level=_opt_level(),
                debug_level="0",
                multi_file=True,
                # The shared library: _netwire__mypyc (not "netwire...": tests count the modules named so).
                separate=[(paths, "_netwire")],
            )
        )
        print(f"netwire: mypyc (mypy's analysis, C generation) took {time.monotonic() - start:.1f} s",
              file=sys.stderr)
        return extensions
    finally:
        os.chdir(old)


setup(ext_modules=_ext_modules(), cmdclass={"build_ext": ParallelBuildExt})
