"""Output that fits where it goes: on a pseudo-terminal (colours, pretty JSON, progress bar, no binary
dumps) and piped (plain bytes, no progress); Ctrl-C during a download keeps the partial file."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.cli.clitools import FilesServer, base_env, interruptible

ESC = b"\x1b["
ANSI = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")


def plain(data: bytes) -> str:
    return ANSI.sub(b"", data).decode("utf-8", "replace")


# -- heads and bodies on a terminal --------------------------------------------------------------------


def test_head_is_coloured_on_a_terminal(cli_pty: Any, files_nginx: FilesServer) -> None:
    r = cli_pty(["get", "-i", files_nginx.url("/hello.txt")])
    assert r.rc == 0
    assert b"\x1b[1m\x1b[32m200 OK\x1b[0m" in r.stdout  # status in bold green
    assert b"\x1b[36mContent-Type\x1b[0m: text/plain" in r.stdout  # header names in cyan
    text = plain(r.stdout)
    assert text.startswith("HTTP/1.1 200 OK\n")  # plain lines on a terminal, CRLF only when piped
    assert text.endswith("\n\nhéllo wörld\n")


def test_error_status_is_red(cli_pty: Any, httpbin: Any) -> None:
    r = cli_pty(["get", "-i", httpbin.url + "/status/418"])
    assert b"\x1b[1m\x1b[31m418" in r.stdout


def test_json_pretty_and_coloured_on_a_terminal(cli_pty: Any, files_nginx: FilesServer) -> None:
    r = cli_pty(["get", files_nginx.url("/doc.json")])
    assert r.rc == 0
    assert b'\x1b[34m"name"\x1b[0m: \x1b[32m"netwire"\x1b[0m' in r.stdout
    assert b"\x1b[35mtrue\x1b[0m" in r.stdout and b"\x1b[33m1\x1b[0m" in r.stdout
    text = plain(r.stdout)
    assert text.startswith('{\n  "name": "netwire",\n  "n": [\n    1,')
    assert json.loads(text) == {"name": "netwire", "n": [1, 2, 3], "ok": True, "none": None}


def test_json_piped_is_untouched(cli: Any, files_nginx: FilesServer) -> None:
    r = cli(["get", files_nginx.url("/doc.json")])
    assert r.stdout == b'{"name":"netwire","n":[1,2,3],"ok":true,"none":null}'


def test_pretty_always_when_piped(cli: Any, files_nginx: FilesServer) -> None:
    r = cli(["get", "--pretty", "always", files_nginx.url("/doc.json")])
    assert r.stdout.startswith(b'{\n  "name": "netwire",') and ESC not in r.stdout


def test_no_color_on_a_terminal(cli_pty: Any, files_nginx: FilesServer) -> None:
    r = cli_pty(["get", "-i", files_nginx.url("/doc.json")], env=base_env(NO_COLOR="1"))
    assert r.rc == 0 and ESC not in r.stdout
    assert r.stdout.decode().startswith("HTTP/1.1 200 OK\n")
    assert b'\n  "name": "netwire",\n' in r.stdout  # still pretty: that is layout, not colour
    r = cli_pty(["get", "-i", "--color", "never", files_nginx.url("/doc.json")])
    assert ESC not in r.stdout


def test_color_always_when_piped(cli: Any, files_nginx: FilesServer) -> None:
    r = cli(["get", "-i", "--color", "always", files_nginx.url("/hello.txt")])
    assert b"\x1b[32m200 OK" in r.stdout


def test_binary_is_not_dumped_on_a_terminal(cli_pty: Any, files_nginx: FilesServer) -> None:
    r = cli_pty(["get", files_nginx.url("/data.bin")])
    assert r.rc == 0
    text = plain(r.stdout)
    assert text == (
        "[netwire: binary body not shown on a terminal (4.0 MiB, application/octet-stream); use -o FILE or pipe it]\n"
    )


def test_verbose_is_coloured_on_a_terminal_stderr(cli_pty: Any, files_nginx: FilesServer) -> None:
    r = cli_pty(["get", "-v", files_nginx.url("/hello.txt")])
    assert r.rc == 0 and ESC in r.stderr
    text = plain(r.stderr)
    assert "> GET /hello.txt HTTP/1.1" in text and "< HTTP/1.1 200 OK" in text and "timings:" in text


def test_insecure_warning_is_loud_on_a_terminal(cli_pty: Any, httpbin_secure: Any) -> None:
    r = cli_pty(["get", "-k", httpbin_secure.url + "/get"])
    assert r.rc == 0
    assert b"\x1b[1m\x1b[31mnetwire: WARNING: --insecure" in r.stderr


# -- progress -------------------------------------------------------------------------------------------


def test_progress_bar_on_a_terminal(cli_pty: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    out = tmp_path / "with-bar.bin"
    r = cli_pty(["get", "-o", str(out), files_nginx.url("/data.bin")])
    assert r.rc == 0
    assert out.read_bytes() == files_nginx.data
    last = plain(r.stderr).split("\r")[-1]
    assert re.fullmatch(
        r"with-bar\.bin \[#{40}\] 100\.0% 4\.0 MiB / 4\.0 MiB  [\d.]+ [KMG]iB/s  in \d+:\d\d\n", last
    ), last
    assert r.stdout == b""


def test_progress_shows_eta_while_running(cli_pty: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    out = tmp_path / "slow.bin"
    r = cli_pty(["get", "-m", "1.2", "-o", str(out), files_nginx.url("/slow/data.bin")])
    assert r.rc == 28  # cut by --max-time; what matters here is the bar drawn meanwhile
    frames = [f for f in plain(r.stderr).split("\r") if "%" in f]
    assert frames and any(re.search(r"\d+\.\d% .* KiB/s  ETA \d+:\d\d", f) for f in frames), frames
    assert "partial file kept" in plain(r.stderr)


def test_progress_when_stdout_is_redirected_to_a_file(
    cli_pty: Any, files_nginx: FilesServer, tmp_path: Path
) -> None:
    out = tmp_path / "redirected.bin"
    r = cli_pty(["get", files_nginx.url("/data.bin")], stdout_file=out)
    assert r.rc == 0 and out.read_bytes() == files_nginx.data
    assert re.fullmatch(r"\[#{40}\] 100\.0% 4\.0 MiB / 4\.0 MiB  .* in \d+:\d\d\n", plain(r.stderr).split("\r")[-1])


def test_no_progress_when_piped_or_silent(cli: Any, cli_pty: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    r = cli(["get", "-o", str(tmp_path / "a.bin"), files_nginx.url("/data.bin")])
    assert r.rc == 0 and r.stderr == b""
    r = cli_pty(["get", "-s", "-o", str(tmp_path / "b.bin"), files_nginx.url("/data.bin")])
    assert r.rc == 0 and r.stderr == b""
    assert (tmp_path / "b.bin").read_bytes() == files_nginx.data


# -- Ctrl-C ---------------------------------------------------------------------------------------------


def test_ctrl_c_keeps_the_partial_file_and_resume_completes_it(
    cli: Any, cli_pty: Any, files_nginx: FilesServer, tmp_path: Path
) -> None:
    out = tmp_path / "interrupted.bin"

    def interrupt_when_started(proc: subprocess.Popen[bytes]) -> None:
        def watch() -> None:
            # As long as run_pty waits (30 s): on a busy machine the command may take seconds to start.
            deadline = time.monotonic() + 28
            while time.monotonic() < deadline and proc.poll() is None:
                if out.exists() and out.stat().st_size > 300 * 1024:
                    proc.send_signal(signal.SIGINT)
                    return
                time.sleep(0.02)

        threading.Thread(target=watch, daemon=True).start()

    r = cli_pty(["get", "-o", str(out), files_nginx.url("/slow/data.bin")], on_start=interrupt_when_started)
    assert r.rc == 130
    size = out.stat().st_size
    assert 300 * 1024 < size < len(files_nginx.data)
    assert out.read_bytes() == files_nginx.data[:size]
    text = plain(r.stderr)
    assert f"netwire: interrupted; partial file kept: {out} (" in text and f"{size} bytes)" in text
    assert "resume with: netwire get -C - -o" in text
    assert "Traceback" not in text

    r = cli(["get", "-C", "-", "-o", str(out), files_nginx.url("/data.bin")])
    assert r.rc == 0
    assert out.read_bytes() == files_nginx.data


def test_ctrl_c_to_stdout_exits_130(files_nginx: FilesServer) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "netwire", "get", files_nginx.url("/slow/data.bin")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env(), preexec_fn=interruptible,
    )
    assert proc.stdout is not None
    proc.stdout.read(1024)  # the transfer is under way
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        # Say what the command printed: if it ignored the signal, its output shows it kept going.
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"still running 10 s after SIGINT; its stderr: {err[-2000:]!r}") from None
    assert proc.returncode == 130 and b"interrupted" in err and b"Traceback" not in err
