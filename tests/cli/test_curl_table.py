"""docs/cli.md's "For curl users" table is executed: tests/docs runs the console block under it
against the docs' servers, and this checks that every flag the table names is used in that
block, so no row can be added (or a flag renamed) without an example that runs."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## For curl users")
    return text[start : text.index("\n## ", start + 1)]


def _table_rows(section: str) -> list[list[str]]:
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]


def _flags(cell: str) -> list[str]:
    """The options a table cell names: the first word of each code span that is an option."""
    flags = []
    for span in re.findall(r"`([^`]+)`", cell):
        for part in span.split(", "):
            word = part.split()[0]
            if word.startswith("-"):
                flags.append(word.split("=")[0])
    return flags


def _commands(section: str) -> list[str]:
    block = section[section.index("```console") : section.rindex("```")]
    return [line[2:] for line in block.splitlines() if line.startswith("$ ")]


def test_every_flag_in_the_curl_table_is_run() -> None:
    section = _section()
    commands = _commands(section)
    words = {w for c in commands for w in c.split()}
    rows = _table_rows(section)
    assert len(rows) >= 25
    missing = [(row[0], flag) for row in rows for flag in _flags(row[1]) if flag not in words]
    assert not missing, f"flags in the table with no example in the console block: {missing}"


def test_the_table_names_the_flags_of_issue_18() -> None:
    named = {flag for row in _table_rows(_section()) for flag in _flags(row[1])}
    for flag in ("-f", "--fail", "--fail-with-body", "-F", "-sS", "-X", "-w", "-D", "-G", "-T", "--data-urlencode",
                 "-OJ", "--compressed", "-k", "-L", "-o", "-O", "-C", "-d", "-H", "-u", "-x", "-v", "-i", "-I", "-s"):
        assert flag in named, flag


def test_every_curl_flag_in_the_table_parses() -> None:
    # The curl column's flags are all accepted by 'netwire get' (they mean the same there).
    import argparse

    from netwire.cli.commands.http import _add_options

    p = argparse.ArgumentParser(add_help=False)
    _add_options(p)
    known = set(p._option_string_actions)
    for row in _table_rows(_section()):
        for flag in _flags(row[0]):
            shorts = [f"-{c}" for c in flag[1:]] if re.fullmatch(r"-[A-Za-z]{2,}", flag) else [flag]
            for f in shorts:
                assert f in known, f"curl's {f} (row {row[0]}) is not a netwire option"
