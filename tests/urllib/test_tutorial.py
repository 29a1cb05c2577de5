"""The urllib tutorial examples, run as scripts: once as written (``import urllib.request``) and
once with only the imports changed to ``netwire.request`` / ``netwire.error``. Both runs talk
to the same local httpbin; netwire's output must be urllib's (or the documented difference).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted((HERE / "tutorial").glob("*.py"))

# Where netwire prints something else than urllib, on purpose (docs/urllib-migration.md):
# urllib lets a read timeout escape as a bare socket.timeout; netwire raises a URLError whose
# reason is the socket.timeout (and which is itself a socket.timeout).
EXPECTED = {"timeout": "URLError True\n"}

RUNNER = """
import runpy, sys
runpy.run_path(sys.argv[1], run_name="__main__")
loaded = [m for m in ("urllib.request", "http.client") if m in sys.modules]
sys.stderr.write("\\nLOADED:" + ",".join(loaded) + "\\n")
"""


def to_netwire(source: str) -> str:
    changed = source.replace("import urllib.request", "import netwire.request").replace(
        "import urllib.error", "import netwire.error"
    )
    changed = changed.replace("urllib.request.", "netwire.request.").replace("urllib.error.", "netwire.error.")
    assert changed != source
    return changed


def run(path: Path, base: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["HTTPBIN"] = base
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(path)], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_tutorial_script(script: Path, httpbin: Any, tmp_path: Path) -> None:
    source = script.read_text()
    ours_path = tmp_path / script.name
    ours_path.write_text(to_netwire(source))
    ours = run(ours_path, httpbin.url)
    assert ours.returncode == 0, ours.stderr
    theirs = run(script, httpbin.url)
    assert theirs.returncode == 0, theirs.stderr
    expected = EXPECTED.get(script.stem, theirs.stdout)
    assert ours.stdout == expected
    if "cookiejar" not in source:  # http.cookiejar itself imports urllib.request
        assert "LOADED:\n" in ours.stderr, "the netwire run loaded urllib.request or http.client"
