"""`netwire demo` (the README's first command) runs as a real subprocess and tells the truth."""

from __future__ import annotations

import re
import subprocess
import sys


def test_demo_reuses_one_connection_for_all_requests() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "netwire", "demo", "-n", "50"], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "50 GET /" in out
    m = re.search(r"connections opened by the client: (\d+); accepted by the server: (\d+)", out)
    assert m is not None, out
    assert m.group(1) == "1" and m.group(2) == "1"
    assert "GET /missing -> 404" in out
    assert "followed 302" in out
    assert "300 of 300 answered 200" in out and "over 10 connections" in out
    assert "connections accepted by the server: 1 (urllib would open 100)" in out
    assert "HTTPError 404" in out
    assert "DISALLOWED by 'Disallow: /private/'" in out
    assert "client sent '1'   -> server answered b'welcome to server'" in out
