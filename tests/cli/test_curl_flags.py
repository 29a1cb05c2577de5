"""curl's flags as curl users type them (issue 18, items 1-3), each run as a subprocess against
httpbin or an nginx that stores PUT uploads (WebDAV module), and compared with what curl does."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.clitools import FilesServer, Result, base_env
from tests.servers.nginx import Nginx, Site, start_nginx

# nginx's WebDAV module stores each PUT body as a file under /up/ (the whole body is read before
# the answer: a client that streams badly cannot hide behind an early 405).
UPLOAD_SITE = Site(
    dirs=("up",),
    locations="""
        location /up/ { dav_methods PUT; create_full_put_path on; client_max_body_size 0; }
""",
)


@pytest.fixture(scope="module")
def upload_nginx() -> Iterator[Nginx]:
    server = start_nginx(UPLOAD_SITE)
    try:
        yield server
    finally:
        server.stop()


def body_json(r: Result) -> Any:
    assert r.rc == 0, r.err
    return json.loads(r.stdout)


# -- 1. -f is --fail; -F/--form is curl's form field ------------------------------------------------


def test_dash_f_is_fail(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "-f", httpbin.url + "/status/404"])
    assert r.rc == 22
    assert r.stdout == b""
    assert "404" in r.err and "--fail" in r.err


def test_fail_with_body_writes_the_body_then_exits_22(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "--fail-with-body", httpbin.url + "/status/418"])
    assert r.rc == 22
    assert b"teapot" in r.stdout
    assert cli(["get", "--fail-with-body", httpbin.url + "/get"]).rc == 0
    assert cli(["get", "-f", "--fail-with-body", httpbin.url + "/get"]).rc == 2


def test_dash_F_and_long_form_are_curls_multipart_fields(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"from a file\n")
    d = body_json(cli(["post", httpbin.url + "/post", "-F", "a=1", "--form", "b=two",
                       "-F", "notes=@notes.txt;type=text/plain"], cwd=tmp_path))
    assert d["form"] == {"a": "1", "b": "two"}
    assert d["files"] == {"notes": "from a file\n"}
    assert d["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


@pytest.mark.nginx
def test_form_text_field_with_a_type(cli: Any, httpbin: Any, upload_nginx: Nginx) -> None:
    d = body_json(cli(["post", httpbin.url + "/anything", "-F", 'meta={"a": 1};type=application/json']))
    assert d["form"] == {"meta": '{"a": 1}'}
    # The multipart body as sent, stored by nginx: the part has curl's Content-Type and no filename.
    r = cli(["post", "-X", "PUT", upload_nginx.url("/up/form.bin"), "-F", "meta=x;type=application/json"])
    assert r.rc == 0, r.err
    body = (upload_nginx.root / "up" / "form.bin").read_bytes()
    assert b'Content-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\nx\r\n' in body


def test_old_form_switch_still_sends_items_as_a_form(cli: Any, httpbin: Any) -> None:
    # 'netwire post --form URL a=1' (the old switch before the URL) and the new name of the switch.
    for args in (["post", "--form", httpbin.url + "/post", "a=1", "b=x y"],
                 ["post", httpbin.url + "/post", "--form-items", "a=1", "b=x y"]):
        d = body_json(cli(args))
        assert d["form"] == {"a": "1", "b": "x y"}, args


# -- 2. combined short flags, -X, -w, -D, -G, -T, --data-urlencode, -J, --compressed -----------------


@pytest.mark.parametrize("flags", ["-sSfL", "-fsSL", "-sS", "-Ls", "-sSLi"])
def test_combined_short_flags(cli: Any, httpbin: Any, flags: str) -> None:
    r = cli(["get", flags, httpbin.url + "/redirect/1"])
    assert r.rc == 0, r.err
    if "L" in flags:
        assert b'"url": "' + httpbin.url.encode() + b'/get"' in r.stdout


def test_combined_short_flags_ending_with_one_that_takes_a_value(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    r = cli(["get", "-sSLo", "out.json", httpbin.url + "/redirect/1"], cwd=tmp_path)
    assert r.rc == 0 and r.stdout == b"", r.err
    assert json.loads((tmp_path / "out.json").read_bytes())["url"] == httpbin.url + "/get"


def test_data_from_a_pipe_file(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["post", httpbin.url + "/post", "-d", "@/dev/stdin", "-d", "b=2"], input=b"a=1"))
    assert d["form"] == {"a": "1", "b": "2"}


def test_combined_short_flags_fail(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "-fsSL", httpbin.url + "/status/404"])
    assert r.rc == 22 and r.stdout == b""


def test_every_short_boolean_flag_combines(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    import argparse

    from netwire.cli.commands.http import _add_options

    p = argparse.ArgumentParser(add_help=False)
    _add_options(p)
    shorts = sorted(s[1] for a in p._actions if a.nargs == 0 for s in a.option_strings
                    if len(s) == 2 and s[0] == "-")
    assert set("fsSLkivIOJG") <= set(shorts)
    # All of them at once parse (they may not all make sense together: -G needs -d, -J -O).
    r = cli(["get", "-" + "".join(c for c in shorts if c not in "IJG"), httpbin.url + "/get"], cwd=tmp_path)
    assert "unrecognized" not in r.err and r.rc in (0, 2), r.err


def test_dash_X_sets_the_method(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["get", "-X", "patch", httpbin.url + "/patch", "-d", "a=1"]))
    assert d["form"] == {"a": "1"}
    r = cli(["post", "-X", "DELETE", httpbin.url + "/delete", "-s", "-w", "%{method} %{http_code}", "-o", "/dev/null"])
    assert r.out == "DELETE 200"


def test_write_out_variables(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    fmt = ("%{http_code}|%{response_code}|%{num_redirects}|%{url_effective}|%{remote_ip}|%{remote_port}|"
           "%{content_type}|%{header{server}}|%{size_download}|%{http_version}|%{exitcode}|%%\\n")
    r = cli(["get", "-sL", "-o", "body.json", "-w", fmt, httpbin.url + "/redirect/2"], cwd=tmp_path)
    assert r.rc == 0, r.err
    host, port = httpbin.url.removeprefix("http://").split(":")
    fields = r.out.split("|")
    assert fields[:9] == ["200", "200", "2", httpbin.url + "/get", host, port, "application/json",
                          "Pytest-HTTPBIN/0.1.0", fields[8]]
    assert int(fields[8]) > 100
    assert fields[9:] == ["1.1", "0", "%\n"]


def test_write_out_json_and_times(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    r = cli(["get", "-o", "out.bin", "-w", "%{json}", httpbin.url + "/bytes/5000"], cwd=tmp_path)
    d = json.loads(r.out)
    assert d["http_code"] == 200 and d["size_download"] == 5000 == (tmp_path / "out.bin").stat().st_size
    assert d["filename_effective"] == "out.bin"
    times = [d[k] for k in ("time_namelookup", "time_connect", "time_starttransfer", "time_total")]
    assert all(isinstance(t, float) for t in times)
    assert 0 < d["time_namelookup"] <= d["time_connect"] <= d["time_starttransfer"] <= d["time_total"] < 30
    assert d["time_appconnect"] == 0.0  # no TLS over http: 0, as curl reports it
    assert d["speed_download"] > 0


def test_write_out_after_a_failure_and_unknown_variable(cli: Any, unused_port: int) -> None:
    r = cli(["get", "-w", "%{http_code} %{exitcode} %{bogus}[%{errormsg}]", f"http://127.0.0.1:{unused_port}/"])
    assert r.rc == 7
    assert r.out.startswith("000 7 [") and "refused" in r.out
    assert "unknown variable %{bogus}" in r.err


def test_write_out_to_stderr_and_from_a_file(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    (tmp_path / "fmt").write_text("code=%{http_code}\\n")
    r = cli(["get", "-o", "/dev/null", "-w", "@fmt", httpbin.url + "/status/201"], cwd=tmp_path)
    assert r.out == "code=201\n"
    r = cli(["get", "-o", "/dev/null", "-w", "%{stderr}%{http_code}", httpbin.url + "/get"])
    assert r.out == "" and r.err.endswith("200")


def test_dump_header(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    r = cli(["get", "-L", "-D", "head.txt", httpbin.url + "/redirect/1"], cwd=tmp_path)
    assert r.rc == 0 and r.stdout.startswith(b"{")
    head = (tmp_path / "head.txt").read_bytes()
    assert head.startswith(b"HTTP/1.1 302 FOUND\r\n") and b"\r\n\r\nHTTP/1.1 200 OK\r\n" in head
    assert head.endswith(b"\r\n\r\n")
    r = cli(["get", "-D", "-", httpbin.url + "/get"])
    assert r.stdout.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\n\r\n{" in r.stdout


def test_dash_G_moves_data_to_the_query(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["post", "-G", "-d", "a=1", "--data-urlencode", "q=x y&z", httpbin.url + "/get?pre=0"]))
    assert d["args"] == {"pre": "0", "a": "1", "q": "x y&z"}
    assert cli(["get", "-G", httpbin.url + "/get"]).rc == 2


def test_query_joining() -> None:
    from netwire.cli.commands.http import _with_query

    assert _with_query("http://h/p", b"a=1") == "http://h/p?a=1"
    assert _with_query("http://h/p?", b"a=1") == "http://h/p?a=1"
    assert _with_query("http://h/p?x=0", b"a=1") == "http://h/p?x=0&a=1"
    assert _with_query("http://h/p?x=0&", b"a=1") == "http://h/p?x=0&a=1"
    assert _with_query("http://h/p#frag", b"a=1") == "http://h/p?a=1#frag"


def test_data_urlencode_forms(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    (tmp_path / "v.txt").write_bytes(b"file value & more")
    d = body_json(cli(["post", httpbin.url + "/post", "--data-urlencode", "a=x y", "--data-urlencode", "=b",
                       "--data-urlencode", "c@v.txt", "-d", "d=1", "--data-urlencode", "e=é+/"], cwd=tmp_path))
    # '=b' is a bare encoded 'b' (a key with no value); order is the command line's, as curl joins it.
    assert d["data"] == "" and d["form"] == {"a": "x y", "b": "", "c": "file value & more", "d": "1", "e": "é+/"}
    r = cli(["post", httpbin.url + "/anything", "--data-urlencode", "@v.txt", "-H", "Content-Type: text/plain"],
            cwd=tmp_path)
    assert body_json(r)["data"] == "file%20value%20%26%20more"


@pytest.mark.nginx
def test_upload_file_is_a_streamed_put(cli: Any, upload_nginx: Nginx, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    (tmp_path / "blob.bin").write_bytes(data)
    r = cli(["get", "-T", "blob.bin", "-w", "%{method} %{http_code} %{size_upload}", upload_nginx.url("/up/a.bin")],
            cwd=tmp_path)
    assert r.rc == 0, r.err
    assert r.out == f"PUT 201 {len(data)}"
    assert (upload_nginx.root / "up" / "a.bin").read_bytes() == data
    # A URL naming a folder gets the file's name, as with curl -T.
    assert cli(["get", "-sT", "blob.bin", upload_nginx.url("/up/dir/")], cwd=tmp_path).rc == 0
    assert (upload_nginx.root / "up" / "dir" / "blob.bin").read_bytes() == data


@pytest.mark.nginx
def test_upload_from_stdin(cli: Any, upload_nginx: Nginx) -> None:
    # Standard input has no length to announce: it goes chunked, as it comes (curl -T - too).
    data = os.urandom(300_000)
    r = cli(["put", "-T", "-", upload_nginx.url("/up/stdin.bin")], input=data)
    assert r.rc == 0, r.err
    assert (upload_nginx.root / "up" / "stdin.bin").read_bytes() == data


@pytest.mark.nginx
def test_upload_progress_bar_on_a_terminal(cli_pty: Any, upload_nginx: Nginx, tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(os.urandom(8 * 1024 * 1024))
    r = cli_pty(["get", "-T", "big.bin", "-o", "/dev/null", upload_nginx.url("/up/big.bin")], cwd=tmp_path)
    assert r.rc == 0, r.err
    assert "upload big.bin" in r.err and "8.0 MiB" in r.err
    quiet = cli_pty(["get", "-sT", "big.bin", "-o", "/dev/null", upload_nginx.url("/up/big2.bin")], cwd=tmp_path)
    assert quiet.rc == 0 and quiet.stderr == b""


CD = "/response-headers?Content-Disposition="


def test_remote_header_name_is_sanitised(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    # The name comes percent-encoded in filename* (RFC 6266): decoded, it climbs out of the folder
    # and carries an escape sequence. (A raw ESC in the header itself is refused by the server's
    # own WSGI layer on Pythons with the wsgiref control-character check, e.g. Debian's 3.11.2.)
    evil = "attachment;%20filename*=UTF-8%27%27..%252F..%252F.hidden%251B%255B31m.txt"
    r = cli(["get", "-OJ", httpbin.url + CD + evil], cwd=tmp_path)
    assert r.rc == 0, r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hidden[31m.txt"]
    assert not (tmp_path.parent / ".hidden\x1b[31m.txt").exists()


def test_remote_header_name_prefers_filename_star(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    value = "attachment;%20filename=%22plain.txt%22;%20filename*=UTF-8%27%27caf%25C3%25A9%2520menu.txt"
    r = cli(["get", "-O", "-J", httpbin.url + CD + value], cwd=tmp_path)
    assert r.rc == 0, r.err
    assert [p.name for p in tmp_path.iterdir()] == ["café menu.txt"]


def test_remote_header_name_never_overwrites_without_clobber(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_bytes(b"precious")
    url = httpbin.url + CD + "attachment;%20filename=keep.txt"
    r = cli(["get", "-OJ", url], cwd=tmp_path)
    assert r.rc == 23 and "exists" in r.err and "--clobber" in r.err
    assert (tmp_path / "keep.txt").read_bytes() == b"precious"
    assert cli(["get", "-OJ", "--clobber", url], cwd=tmp_path).rc == 0
    assert (tmp_path / "keep.txt").read_bytes() != b"precious"


def test_remote_header_name_falls_back_to_the_url(cli: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    assert cli(["get", "-OJ", files_nginx.url("/hello.txt")], cwd=tmp_path).rc == 0
    assert (tmp_path / "hello.txt").read_bytes() == "héllo wörld\n".encode()
    assert cli(["get", "-J", files_nginx.url("/hello.txt")], cwd=tmp_path).rc == 2


def test_compressed_and_insecure_are_accepted(cli: Any, httpbin: Any, httpbin_secure: Any) -> None:
    d = body_json(cli(["get", "--compressed", httpbin.url + "/gzip"]))
    assert d["gzipped"] is True
    assert cli(["get", "-sk", httpbin_secure.url + "/get"]).rc == 0


def test_unknown_flag_is_reported_under_the_subcommand_usage(cli: Any) -> None:
    r = cli(["get", "--no-such-flag", "http://127.0.0.1:9/"])
    assert r.rc == 2
    assert r.err.startswith("usage: netwire get ")
    assert "netwire get: error: unrecognized arguments: --no-such-flag" in r.err
    r = cli(["tcp", "connect", "--bogus", "127.0.0.1", "9"])
    assert r.rc == 2 and r.err.startswith("usage: netwire tcp connect ")


# -- 3. -d @file streams; -d @- reads stdin -------------------------------------------------------------


def _peak_rss_run(args: list[str], cwd: Path, *, stdin: Any = None) -> tuple[int, int, str]:
    """Run the command in a child that reports its own peak RSS (KiB) on its last stderr line.

    VmHWM of /proc/self/status, not getrusage's ru_maxrss: a child forked from this (big) test
    process keeps the parent's high-water mark in ru_maxrss across exec; VmHWM is the new image's."""
    import subprocess

    code = ("import sys\n"
            "from netwire.cli.main import main\n"
            "rc = main(sys.argv[1:])\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
            "sys.stderr.write('\\nPEAK_RSS_KIB %s\\n' % hwm)\n"
            "sys.exit(rc)\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=base_env(), capture_output=True,
                          timeout=120, stdin=stdin if stdin is not None else subprocess.DEVNULL)
    err = proc.stderr.decode("utf-8", "replace")
    return proc.returncode, int(err.rsplit("PEAK_RSS_KIB ", 1)[1]), err


BIG = 50 * 1024 * 1024


@pytest.mark.nginx
def test_data_from_a_file_is_streamed(upload_nginx: Nginx, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for _ in range(BIG // (1024 * 1024)):
            f.write(os.urandom(1024 * 1024))
    rc, peak, err = _peak_rss_run(["put", "-s", "-d", "@" + str(big), upload_nginx.url("/up/big.bin")], tmp_path)
    assert rc == 0, err
    assert (upload_nginx.root / "up" / "big.bin").stat().st_size == BIG
    # Read whole, the file alone would be 50 MiB of the peak; streamed, the peak is the
    # interpreter's and netwire's own plus a block.
    assert peak < 40 * 1024, f"peak RSS {peak} KiB for a {BIG >> 20} MiB body"
    # Several pieces (-d @file -d tail=1) stream too, joined with '&', with a Content-Length.
    rc, peak, err = _peak_rss_run(["put", "-s", "-d", "@" + str(big), "-d", "tail=1", upload_nginx.url("/up/two.bin")],
                                  tmp_path)
    assert rc == 0, err
    assert (upload_nginx.root / "up" / "two.bin").stat().st_size == BIG + len("&tail=1")
    assert peak < 40 * 1024
    with open(upload_nginx.root / "up" / "two.bin", "rb") as f:
        f.seek(BIG)
        assert f.read() == b"&tail=1"


def test_joined_body_has_the_pieces_in_order(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a=from-file")
    d = body_json(cli(["post", httpbin.url + "/post", "-d", "x=1", "-d", "@a.txt", "--data-raw", "@z=2"], cwd=tmp_path))
    assert d["form"] == {"x": "1", "a": "from-file", "@z": "2"}
    assert d["headers"]["Content-Length"] == str(len("x=1&a=from-file&@z=2"))


def test_data_from_stdin(cli: Any, httpbin: Any) -> None:
    # curl reads '-d @-' whole before sending (it has to announce a length); so does netwire.
    d = body_json(cli(["post", httpbin.url + "/post", "-d", "@-"], input=b"a=1&b=from stdin"))
    assert d["form"] == {"a": "1", "b": "from stdin"}


def test_missing_data_file(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    r = cli(["post", httpbin.url + "/post", "-d", "x=1", "-d", "@nope.txt"], cwd=tmp_path)
    assert r.rc == 26 and "nope.txt" in r.err


# -- tcp connect -z --------------------------------------------------------------------------------------


def test_tcp_port_scan(cli: Any, httpbin: Any, unused_port: int) -> None:
    port = int(httpbin.url.rsplit(":", 1)[1])
    r = cli(["tcp", "connect", "-z", "127.0.0.1", f"{unused_port},{port}"])
    assert r.rc == 0, r.err
    assert r.out == f"Connection to 127.0.0.1 {port} port [tcp/*] succeeded!\n"
    r = cli(["tcp", "connect", "-z", "127.0.0.1", str(unused_port)])
    assert r.rc == 1 and "refused" in r.err.lower()
    assert cli(["tcp", "connect", "-z", "127.0.0.1", "5-3"]).rc == 2
    assert cli(["tcp", "connect", "127.0.0.1", "80-81"]).rc == 2


def test_port_lists() -> None:
    from netwire.cli.commands.tcp import parse_ports

    assert parse_ports("80") == [80]
    assert parse_ports("20-23") == [20, 21, 22, 23]
    assert parse_ports("22,80,443,80") == [22, 80, 443]
    assert parse_ports("1-65535")[-1] == 65535
    for bad in ("0", "65536", "a", "5-3", "1-", ""):
        with pytest.raises(ValueError):
            parse_ports(bad)


def test_unreadable_or_bad_certificate_files_are_usage_errors(cli: Any, httpbin_secure: Any, tmp_path: Path) -> None:
    # They were loaded mid-request and crashed with a traceback (FileNotFoundError, ssl.SSLError).
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    for args in (["-E", "missing.pem"], ["-E", "bad.pem"], ["--cacert", "bad.pem"], ["--cacert", "missing.pem"]):
        r = cli(["get", *args, httpbin_secure.url + "/get"], cwd=tmp_path)
        assert r.rc == 2, (args, r.err)
        assert "Traceback" not in r.err
        assert args[1] in r.err
