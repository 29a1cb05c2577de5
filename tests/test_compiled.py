"""Which build runs: ``netwire.__compiled__`` and ``netwire --version``.

scripts/test-compiled runs this file (with the fast suites) against the mypyc-compiled wheel
installed in .venv-compiled, with NETWIRE_EXPECT_COMPILED=1: there the compiled modules must be the
ones imported, from outside the checkout. Everywhere else the checkout's sources run: pure.
"""

from __future__ import annotations

import ast
import importlib
import os
import pathlib
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES

import pytest

import netwire

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXPECT_COMPILED = os.environ.get("NETWIRE_EXPECT_COMPILED") == "1"


def compiled_modules() -> list[str]:
    """The dotted names setup.py's COMPILED_MODULES lists (read from the file, not imported)."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMPILED_MODULES":
            paths = ast.literal_eval(node.value)
            return ["netwire." + p.removesuffix(".py").replace("/", ".") for p in paths]
    raise AssertionError("setup.py has no COMPILED_MODULES list")


def test_compiled_flag_is_a_bool_and_listed() -> None:
    assert isinstance(netwire.__compiled__, bool)
    assert "__compiled__" in dir(netwire)


@pytest.mark.skipif(not EXPECT_COMPILED, reason="scripts/test-compiled sets NETWIRE_EXPECT_COMPILED=1")
def test_the_compiled_modules_are_the_ones_imported() -> None:
    assert netwire.__compiled__ is True
    where = pathlib.Path(netwire.__file__).resolve()
    assert ROOT / "src" not in where.parents, f"netwire imported from the checkout's sources: {where}"
    for name in compiled_modules():
        module = importlib.import_module(name)
        assert (module.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES)), (name, module.__file__)


@pytest.mark.skipif(EXPECT_COMPILED, reason="the pure build's checks")
def test_the_sources_report_the_pure_build() -> None:
    assert netwire.__compiled__ is False
    from netwire.http import http11

    assert (http11.__file__ or "").endswith(".py")


def test_the_flag_follows_the_extension_module_beside_http11(tmp_path: pathlib.Path) -> None:
    """An ``http11.<abi>.so`` next to http11.py is what Python imports first: then the flag is True.

    Checked on a copy of the package with an (empty) extension file dropped in; the flag must not
    import anything to know it (``netwire --version`` imports no HTTP module).
    """
    package = pathlib.Path(netwire.__file__).parent
    shutil.copytree(package, tmp_path / "netwire", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    code = (
        "import sys, netwire; print(netwire.__compiled__, "
        "any(m.startswith('netwire.http') for m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    (tmp_path / "netwire" / "http" / ("http11" + EXTENSION_SUFFIXES[0])).write_bytes(b"")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
    out = subprocess.run(
        [sys.executable, "-m", "netwire", "--version"], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"netwire {netwire.__version__} (compiled)"


def test_a_whole_crawl_delay_stays_an_int() -> None:
    """The compiled build's float trap: an int returned through a ``float`` annotation became 2.0."""
    from netwire.robots._rules import RobotsTxt

    delay = RobotsTxt.parse("User-agent: *\nCrawl-delay: 2\n").crawl_delay("a")
    assert delay == 2 and type(delay) is int and str(delay) == "2"
    assert RobotsTxt.parse("User-agent: *\nCrawl-delay: 0.5\n").crawl_delay("a") == 0.5


def test_a_lazily_split_response_head_binds_itself() -> None:
    """ResponseHead.__getattr__ is set after the class; compiled, a bare function would not bind."""
    from netwire.http import http11

    parser = http11.ResponseParser()
    events = parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n")
    head = next(e for e in events if isinstance(e, http11.ResponseHead))
    assert ("X-A", "1") in head.headers


def test_ci_runs_the_compiled_lane_by_default() -> None:
    """scripts/test (what CI runs) ends with the compiled lane unless NETWIRE_TEST_COMPILED=0 says no.

    The lane used to be opt-in (NETWIRE_TEST_COMPILED=1), so CI never built the compiled wheel.
    """
    lines = [line.strip() for line in (ROOT / "scripts" / "test").read_text().splitlines()]
    calls = [line for line in lines if "scripts/test-compiled" in line and not line.startswith("#")]
    assert [call.split(" ||")[0] for call in calls] == ['scripts/test-compiled "$PY"'], calls
    lane = (ROOT / "scripts" / "test-compiled").read_text()
    assert 'NETWIRE_TEST_COMPILED:-1}" = 0' in lane  # on unless turned off
    assert "NETWIRE_COMPILE=require" in lane and "tests/client" in lane
    assert 'if [ -n "${CI:-}" ]' in lane  # no compiler under CI: a failure, not a skip


def _setup_namespace() -> dict[str, object]:
    """setup.py's definitions, without running its setup() call (its last statement)."""
    pytest.importorskip("setuptools")
    source = (ROOT / "setup.py").read_text()
    head, sep, _ = source.rpartition("\nsetup(")
    assert sep, "setup.py should end with its setup() call"
    namespace: dict[str, object] = {"__file__": str(ROOT / "setup.py"), "__name__": "netwire_setup"}
    exec(compile(head, str(ROOT / "setup.py"), "exec"), namespace)
    return namespace


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_the_build_compiles_the_c_files_of_one_extension_side_by_side(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """mypyc writes one C file per module into ONE extension module; build_ext alone compiles them
    one after another (its `parallel` option spreads whole extensions only). setup.py's
    ParallelBuildExt hands each file to the compiler on its own, NETWIRE_BUILD_JOBS at once."""
    import sysconfig

    from setuptools import Distribution, Extension

    if not (pathlib.Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        pytest.skip("no Python headers")
    (tmp_path / "one.c").write_text("int one(void) { return 1; }\n")
    (tmp_path / "two.c").write_text(
        "#include <Python.h>\nint one(void);\n"
        "static PyObject *f(PyObject *s, PyObject *a) { return PyLong_FromLong(one() + 1); }\n"
        "static PyMethodDef m[] = {{\"f\", f, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};\n"
        "static struct PyModuleDef d = {PyModuleDef_HEAD_INIT, \"pair\", NULL, -1, m};\n"
        "PyMODINIT_FUNC PyInit_pair(void) { return PyModule_Create(&d); }\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETWIRE_BUILD_JOBS", "2")
    namespace = _setup_namespace()
    dist = Distribution({"name": "pair", "ext_modules": [Extension("pair", ["one.c", "two.c"])]})
    dist.cmdclass["build_ext"] = namespace["ParallelBuildExt"]  # type: ignore[assignment]
    command = dist.get_command_obj("build_ext")
    command.build_lib = str(tmp_path / "lib")  # type: ignore[attr-defined]
    command.build_temp = str(tmp_path / "tmp")  # type: ignore[attr-defined]
    command.ensure_finalized()
    command.run()
    assert "built pair (2 C files, 2 at once" in capsys.readouterr().err
    out = subprocess.run([sys.executable, "-c", "import pair; print(pair.f())"], cwd=tmp_path / "lib",
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"


def test_the_c_optimisation_level_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    opt_level = _setup_namespace()["_opt_level"]
    assert callable(opt_level)
    monkeypatch.delenv("NETWIRE_COMPILE_OPT", raising=False)
    assert opt_level() == "3"  # releases and the bench: -O3
    monkeypatch.setenv("NETWIRE_COMPILE_OPT", "1")
    assert opt_level() == "1"
    monkeypatch.setenv("NETWIRE_COMPILE_OPT", "fast")
    with pytest.raises(SystemExit, match="NETWIRE_COMPILE_OPT must be"):
        opt_level()
