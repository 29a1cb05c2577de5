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
    assert calls == ['scripts/test-compiled "$PY"'], calls
    lane = (ROOT / "scripts" / "test-compiled").read_text()
    assert 'NETWIRE_TEST_COMPILED:-1}" = 0' in lane  # on unless turned off
    assert "NETWIRE_COMPILE=require" in lane and "tests/client" in lane
    assert 'if [ -n "${CI:-}" ]' in lane  # no compiler under CI: a failure, not a skip
