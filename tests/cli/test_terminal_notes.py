"""On a terminal, what an empty error answer or a redirect not followed would hide gets one note
line on stderr (issue 18, item 4); piped, with -s, or for other answers: nothing. Exit codes stay."""

from __future__ import annotations

import re
from typing import Any

from tests.cli.clitools import FilesServer


def test_empty_error_body_gets_a_note(cli_pty: Any, httpbin: Any) -> None:
    r = cli_pty(["get", httpbin.url + "/status/401"])
    assert r.rc == 0  # unchanged: only -f makes an error status an error
    assert r.stdout == b""
    assert re.sub(r"\x1b\[[0-9;]*m", "", r.err).strip() == "HTTP 401 UNAUTHORIZED (empty body)"


def test_redirect_not_followed_gets_a_note(cli_pty: Any, httpbin: Any) -> None:
    r = cli_pty(["get", httpbin.url + "/redirect-to?url=/next"])
    assert r.rc == 0
    assert "302 -> /next (use -L to follow)" in r.err
    followed = cli_pty(["get", "-L", httpbin.url + "/redirect/1"])
    assert followed.rc == 0 and "use -L" not in followed.err


def test_note_also_for_a_download_to_a_file(cli_pty: Any, files_nginx: FilesServer, tmp_path: Any) -> None:
    r = cli_pty(["get", "-o", "index", files_nginx.url("/sub")], cwd=tmp_path)
    assert r.rc == 0
    assert "301 -> " in r.err and "/sub/ (use -L to follow)" in r.err


def test_no_note_when_silent_piped_or_not_needed(cli: Any, cli_pty: Any, httpbin: Any) -> None:
    assert cli_pty(["get", "-s", httpbin.url + "/status/401"]).stderr == b""
    piped = cli(["get", httpbin.url + "/status/401"])
    assert piped.rc == 0 and piped.stderr == b"" and piped.stdout == b""
    assert cli_pty(["get", httpbin.url + "/status/200"]).stderr == b""  # empty, but no error
    with_body = cli_pty(["get", httpbin.url + "/status/418"])
    assert "empty body" not in with_body.err and b"teapot" in with_body.stdout


def test_fail_keeps_its_exit_code_and_message(cli_pty: Any, httpbin: Any) -> None:
    r = cli_pty(["get", "-f", httpbin.url + "/status/401"])
    assert r.rc == 22 and "(--fail)" in r.err and "empty body" not in r.err
