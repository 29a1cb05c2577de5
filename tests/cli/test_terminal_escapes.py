"""A hostile server's control characters never reach the terminal as controls.

Before: with ``-i`` or ``-v`` a reason phrase or a header value holding escape sequences (set the
window title, clear the screen, OSC 52: write the clipboard) went to the terminal as they were, and
so did a text body. Now heads on a terminal (``-i``), the ``-v`` trace (always: it is for people)
and text bodies on a terminal show every control character but tab (and the body's own line ends)
as ``\\xNN``; piped, ``-i`` heads and bodies stay byte-exact. And ``-O`` with a URL whose file name
holds ``%00`` (or other control characters) is a usage error (exit 2), not a traceback.

The command runs as a subprocess, on pseudo-terminals where the terminal matters; the hostile
server is a scripted loopback server (tests/faults).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.servers.faults import Action, FaultServer, ReadRequest, Send, response

TITLE = "\x1b]0;pwned\x07"  # set the window title
CLEAR = "\x1b[2J"  # clear the screen
CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # OSC 52: put "echo pwned" in the clipboard
CSI8 = "\x9b"  # the one-byte CSI of C1 controls (U+009B)


def _hostile(body: bytes = b"plain body\n", ctype: str = "text/plain; charset=utf-8") -> list[Action]:
    head = response(
        body,
        reason=f"OK{TITLE}",
        headers=[("Content-Type", ctype), ("X-Evil", f"a{CLEAR}b{CLIPBOARD}c"), ("X-Tab", "a\tb")],
    )
    return [ReadRequest(), Send(head)]


def _assert_no_controls(data: bytes, allowed: bytes = b"\n\r\t") -> None:
    """No control byte but line ends/tab, except the CSI colour sequences netwire writes itself."""
    import re

    rest = re.sub(rb"\x1b\[[0-9;]*m", b"", data)  # SGR colour codes of our own painter
    bad = sorted({b for b in rest if (b < 0x20 and b not in allowed) or b == 0x7F})
    assert not bad, (bad, data)
    assert "\x9b" not in rest.decode("utf-8", "replace"), data


def test_head_with_i_on_a_terminal_is_escaped(cli_pty: Any) -> None:
    with FaultServer(_hostile()) as srv:
        r = cli_pty(["get", "-i", srv.url("/")])
    assert r.rc == 0
    _assert_no_controls(r.stdout)
    text = r.stdout.decode("utf-8", "replace")
    assert "OK\\x1b]0;pwned\\x07" in text
    assert "a\\x1b[2Jb\\x1b]52;c;ZWNobyBwd25lZA==\\x07c" in text
    assert "a\tb" in text  # tab is harmless and kept
    assert "plain body" in text


def test_head_with_i_piped_stays_exact(cli: Any) -> None:
    # Piped, the output is data for another program: byte-exact, as curl -i writes it.
    with FaultServer(_hostile()) as srv:
        r = cli(["get", "-i", srv.url("/")])
    assert r.rc == 0
    assert f"200 OK{TITLE}\r\n".encode() in r.stdout
    assert f"X-Evil: a{CLEAR}b{CLIPBOARD}c\r\n".encode() in r.stdout


def test_verbose_trace_is_escaped(cli: Any, cli_pty: Any) -> None:
    for run in (cli, cli_pty):
        with FaultServer(_hostile()) as srv:
            r = run(["get", "-v", "-s", "-o", os.devnull, srv.url("/")])  # -s: no progress bar
        assert r.rc == 0
        _assert_no_controls(r.stderr)
        assert "< X-Evil: a\\x1b[2Jb" in r.stderr.decode("utf-8", "replace").replace("\x1b[36m", "").replace(
            "\x1b[0m", "")


def test_text_body_on_a_terminal_is_escaped(cli_pty: Any) -> None:
    body = f"line one\r\nsafe{CLEAR}{TITLE}\rhidden{CSI8}2J\x7f\nend".encode()
    with FaultServer(_hostile(body)) as srv:
        r = cli_pty(["get", srv.url("/")])
    assert r.rc == 0
    _assert_no_controls(r.stdout)
    text = r.stdout.decode("utf-8", "replace")
    assert "line one" in text
    assert "safe\\x1b[2J\\x1b]0;pwned\\x07\\x0dhidden\\x9b2J\\x7f" in text
    assert text.rstrip("\r\n").endswith("end")


def test_text_body_piped_is_untouched(cli: Any) -> None:
    body = f"safe{CLEAR}{TITLE}\rx\n".encode()
    with FaultServer(_hostile(body)) as srv:
        r = cli(["get", srv.url("/")])
    assert r.rc == 0 and r.stdout == body


def test_json_body_on_a_terminal_is_escaped(cli_pty: Any) -> None:
    body = ('{"a": "x' + CSI8 + 'y\\u001b[2J", "b": "\x7f"}').encode()
    with FaultServer(_hostile(body, "application/json")) as srv:
        r = cli_pty(["get", srv.url("/")])
    assert r.rc == 0
    _assert_no_controls(r.stdout)
    text = r.stdout.decode("utf-8", "replace")
    assert "x\\x9by" in text and "\\u001b[2J" in text and "\\x7f" in text


def test_fail_message_escapes_the_reason(cli_pty: Any) -> None:
    script: list[Action] = [ReadRequest(), Send(response(b"no", status=403, reason=f"Forbidden{TITLE}"))]
    with FaultServer(script) as srv:
        r = cli_pty(["get", "--fail", srv.url("/")])
    assert r.rc == 22
    _assert_no_controls(r.stderr)
    assert "403 Forbidden\\x1b]0;pwned\\x07" in r.stderr.decode("utf-8", "replace")


def test_remote_name_with_nul_is_a_clean_usage_error(cli: Any, tmp_path: Path) -> None:
    script: list[Action] = [ReadRequest(), Send(response(b"data"))]
    with FaultServer(script) as srv:
        for path in ("/x%00y", "/a%1b%5d0%3bpwned%07", "/" + "n" * 300):
            r = cli(["get", "-O", srv.url(path)], cwd=tmp_path)
            assert r.rc == 2, r.err
            assert "Traceback" not in r.err
            assert r.err.startswith("netwire: -O: the file name in ") and "use -o FILE" in r.err
            _assert_no_controls(r.stderr)
    assert list(tmp_path.iterdir()) == []
