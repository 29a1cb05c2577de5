"""Shared helpers for the URL tests: where the WPT conformance data lives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The repository root's parent holds shared/ (here and in the CI clone alike).
WPT_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "wpt-url"


def load_wpt(name: str) -> Any:
    return json.loads((WPT_DIR / name).read_text(encoding="utf-8"))
