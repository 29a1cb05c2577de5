"""User-space instructions per call, counted by valgrind (callgrind), for ``bench/run.py --instructions``.

Wall time on a shared machine drifts; an instruction count does not. Each measurement runs a
fresh interpreter under ``valgrind --tool=callgrind`` twice: setup, then the call ``small`` times,
and setup, then the call ``big`` times. The difference of the two totals over ``big - small``
is the cost of one call, with start-up, imports, setup and warm-up cancelled out. Valgrind runs
programs some 50x slower, hence an option. Only this process is counted: the server (nginx) is not.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent

_TEMPLATE = """
import sys
sys.path.insert(0, {bench!r})
sys.path.insert(0, {src!r})
{setup}
for _ in range({warmup}):
    {call}
for _ in range({n}):
    {call}
"""


def available() -> bool:
    return shutil.which("valgrind") is not None


def _total_ir(setup: str, call: str, n: int, warmup: int) -> int:
    with tempfile.TemporaryDirectory(prefix="netwire-ir-") as tmp:
        out = os.path.join(tmp, "callgrind.out")
        # NETWIRE_BENCH_INSTALLED=1 (run.py --build compiled): the installed netwire, not src/.
        src = HERE if os.environ.get("NETWIRE_BENCH_INSTALLED") == "1" else HERE.parent / "src"
        script = _TEMPLATE.format(bench=str(HERE), src=str(src), setup=setup, call=call, n=n, warmup=warmup)
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", script],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800,
            env={**os.environ, "PYTHONHASHSEED": "0"},  # the same dict layouts in both runs: less noise
        )
        text = pathlib.Path(out).read_text(errors="replace")
    m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if m is None:
        raise RuntimeError("no total in the callgrind output")
    return int(m.group(1))


def per_call(setup: str, call: str, small: int = 100, big: int = 600, warmup: int = 50) -> float | None:
    """Instructions one ``call`` costs after ``setup`` (Python source, run at module level) and
    ``warmup`` calls, or None when valgrind is missing or the run failed."""
    if not available():
        return None
    try:
        return (_total_ir(setup, call, big, warmup) - _total_ir(setup, call, small, warmup)) / (big - small)
    except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
        print(f"   instructions: {exc}", file=sys.stderr)
        return None
