"""The CLI's commands come from one static table: listed without importing, imported one at a time."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import subprocess
import sys
from typing import Any

import pytest

import netwire.cli.commands
from netwire.cli import main as cli_main


def _registered_by(module_name: str) -> set[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(f"netwire.cli.commands.{module_name}").register(sub)
    return set(sub.choices)


def test_the_table_names_exactly_what_each_module_registers() -> None:
    modules = {module for module, _ in cli_main.COMMANDS.values()}
    on_disk = {info.name for info in pkgutil.iter_modules(netwire.cli.commands.__path__)}
    assert modules == on_disk, "a command module is missing from COMMANDS, or a row names no module"
    for module in modules:
        names = {name for name, (mod, _) in cli_main.COMMANDS.items() if mod == module}
        assert _registered_by(module) == names, module


def _imported_after(argv: list[str]) -> list[str]:
    code = (
        "import sys, json\n"
        "from netwire.cli.main import build_parser\n"
        f"build_parser({argv!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('netwire.cli.commands.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout))


def test_help_imports_no_command_module() -> None:
    assert _imported_after(["--help"]) == []
    assert _imported_after([]) == []


def test_a_command_imports_only_its_own_module() -> None:
    assert _imported_after(["robots", "http://127.0.0.1/"]) == ["netwire.cli.commands.robots"]
    assert _imported_after(["--version", "get", "-v", "http://127.0.0.1/"]) == ["netwire.cli.commands.http"]


def test_help_lists_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "netwire", "--help"], capture_output=True, text=True, check=True)
    for name, (_, help_text) in cli_main.COMMANDS.items():
        assert f"{name}" in out.stdout and help_text in out.stdout


def test_no_directory_listing_is_needed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # A process that dropped its privileges may not list the package's directory (a clone in a
    # mode-0700 directory): finding commands must not depend on it.
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError("listing refused")

    monkeypatch.setattr(pkgutil, "iter_modules", refuse)
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["robots", "--help"])
    assert exc.value.code == 0
    assert "robots.txt" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["nosuch"])
    assert exc.value.code == 2
    assert "invalid choice: 'nosuch'" in capsys.readouterr().err
