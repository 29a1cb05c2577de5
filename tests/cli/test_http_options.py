"""Each option of ``netwire get/post/...`` against a local httpbin or nginx, the command run as a subprocess."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from tests.cli.clitools import FILE_SIZE, FilesServer, Result, run_piped
from tests.servers.faults import Action, Close, FaultServer, ReadRequest, Send, response


def body_json(result: Result) -> Any:
    assert result.rc == 0, result.err
    return json.loads(result.stdout)


# -- help and version ----------------------------------------------------------------------------


def test_help_lists_the_http_commands(cli: Any) -> None:
    r = cli(["--help"])
    assert r.rc == 0
    for verb in ("get", "head", "post", "put", "patch", "delete", "request"):
        assert f"    {verb} " in r.out


def test_command_help_has_examples_and_exit_codes(cli: Any) -> None:
    r = cli(["get", "--help"])
    assert r.rc == 0
    assert "examples:" in r.out and "netwire post http://host/post name=netwire" in r.out
    assert "exit codes:" in r.out and " 22  HTTP status >= 400 with --fail" in r.out
    for option in ("--header", "--data", "--json", "--location", "--continue-at", "--insecure", "--fail"):
        assert option in r.out


def test_version(cli: Any) -> None:
    import netwire

    r = cli(["--version"])
    build = "compiled" if netwire.__compiled__ else "pure Python"
    assert r.rc == 0 and r.out.strip() == f"netwire {netwire.__version__} ({build})"


# -- what is sent ----------------------------------------------------------------------------------


def test_headers_and_header_items(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["get", httpbin.url + "/headers", "-H", "X-One: 1", "-H", "X-Two:  two ", "X-Three:3"]))
    h = d["headers"]
    assert h["X-One"] == "1" and h["X-Two"] == "two" and h["X-Three"] == "3"


def test_empty_header_removes_a_default(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["get", httpbin.url + "/headers", "-H", "Accept-Encoding:"]))
    assert "Accept-Encoding" not in d["headers"]
    assert "Accept-Encoding" in body_json(cli(["get", httpbin.url + "/headers"]))["headers"]


def test_query_items(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["get", httpbin.url + "/get?a=1", "b==two words", "c==&"]))
    assert d["args"] == {"a": "1", "b": "two words", "c": "&"}


def test_json_items(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["post", httpbin.url + "/post", "name=netwire", "n:=3", "tags:=[\"a\",1]", "-H", "X-A: b"]))
    assert d["json"] == {"name": "netwire", "n": 3, "tags": ["a", 1]}
    assert d["headers"]["Content-Type"] == "application/json"
    assert d["headers"]["X-A"] == "b"


def test_form_items(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["post", "--form", httpbin.url + "/post", "a=1", "b=x y"]))
    assert d["form"] == {"a": "1", "b": "x y"}


def test_data_string_is_a_form_like_curl(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["post", httpbin.url + "/post", "-d", "a=1", "-d", "b=2"]))
    assert d["form"] == {"a": "1", "b": "2"}
    assert d["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_data_from_file_and_stdin(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    payload = tmp_path / "body.json"
    payload.write_bytes(b'{"from": "file"}')
    d = body_json(cli(["post", httpbin.url + "/post", "-d", f"@{payload}", "-H", "Content-Type: application/json"]))
    assert d["json"] == {"from": "file"}
    d = body_json(cli(["put", httpbin.url + "/put", "-d", "@-", "-H", "Content-Type: application/octet-stream"], input=b"raw \x00 bytes"))
    assert d["data"] == "raw \x00 bytes"


def test_json_option(cli: Any, httpbin: Any) -> None:
    d = body_json(cli(["post", httpbin.url + "/post", "--json", '{"k": [1, 2]}']))
    assert d["json"] == {"k": [1, 2]}
    assert d["headers"]["Content-Type"] == "application/json"
    assert d["headers"]["Accept"] == "application/json"


def test_multipart_upload(cli: Any, httpbin: Any, tmp_path: Path) -> None:
    f = tmp_path / "note.txt"
    f.write_bytes(b"file contents\n")
    d = body_json(cli(["post", httpbin.url + "/post", "-F", f"doc=@{f};type=text/plain", "-F", "caption=hi"]))
    assert d["files"] == {"doc": "file contents\n"}
    assert d["form"] == {"caption": "hi"}
    assert d["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    d = body_json(cli(["post", httpbin.url + "/post", f"up@{f}", "x=1"]))
    assert d["files"] == {"up": "file contents\n"} and d["form"] == {"x": "1"}


def test_two_kinds_of_body_is_a_usage_error(cli: Any, httpbin: Any) -> None:
    r = cli(["post", httpbin.url + "/post", "-d", "a=1", "b=2"])
    assert r.rc == 2 and "only one kind of request body" in r.err


def test_methods(cli: Any, httpbin: Any) -> None:
    for verb in ("put", "patch", "delete"):
        d = body_json(cli([verb, f"{httpbin.url}/{verb}", "k=v"]))
        assert d["json"] == {"k": "v"}
    r = cli(["request", "options", httpbin.url + "/get", "-i"])
    assert r.rc == 0 and "Allow:" in r.out


def test_basic_and_digest_auth(cli: Any, httpbin: Any) -> None:
    assert body_json(cli(["get", "-u", "alice:s3cret", httpbin.url + "/basic-auth/alice/s3cret"]))["authenticated"]
    r = cli(["get", "-u", "alice:wrong", httpbin.url + "/basic-auth/alice/s3cret", "--fail"])
    assert r.rc == 22
    d = body_json(cli(["get", "-u", "bob:pw", "--digest", httpbin.url + "/digest-auth/auth/bob/pw"]))
    assert d == {"authenticated": True, "user": "bob"}
    # Basic credentials do not answer a Digest challenge.
    assert cli(["get", "-u", "bob:pw", httpbin.url + "/digest-auth/auth/bob/pw", "--fail"]).rc == 22


def test_cookies_only_with_b(cli: Any, httpbin: Any) -> None:
    # As curl: without -b no cookie engine, so a cookie set on the way is not sent back.
    assert body_json(cli(["get", "-L", httpbin.url + "/cookies/set?seen=1"])) == {"cookies": {}}
    d = body_json(cli(["get", "-b", "a=1; b=two", httpbin.url + "/cookies"]))
    assert d == {"cookies": {"a": "1", "b": "two"}}
    d = body_json(cli(["get", "-L", "-b", "a=1", httpbin.url + "/cookies/set?seen=1"]))
    assert d == {"cookies": {"a": "1", "seen": "1"}}
    assert cli(["get", "-b", "novalue", httpbin.url + "/cookies"]).rc == 2


def test_user_agent(cli: Any, httpbin: Any) -> None:
    assert body_json(cli(["get", "-A", "probe/1.0", httpbin.url + "/user-agent"])) == {"user-agent": "probe/1.0"}
    assert body_json(cli(["get", httpbin.url + "/user-agent"]))["user-agent"].startswith("netwire/")


# -- redirects ---------------------------------------------------------------------------------------


def test_redirects_not_followed_without_L(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "-i", httpbin.url + "/redirect/2"])
    assert r.rc == 0
    assert r.out.startswith("HTTP/1.1 302")
    assert "\r\nLocation: /relative-redirect/1\r\n" in r.out


def test_location_follows_and_include_shows_every_hop(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "-L", "-i", httpbin.url + "/redirect/3"])
    assert r.rc == 0
    assert [line.split()[1] for line in r.out.splitlines() if line.startswith("HTTP/1.1")] == ["302"] * 3 + ["200"]
    assert json.loads(r.out.split("\r\n\r\n")[-1])["url"].endswith("/get")


def test_max_redirs(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "-L", "--max-redirs", "2", httpbin.url + "/redirect/3"])
    assert r.rc == 47 and "redirects" in r.err
    assert cli(["get", "-L", "--max-redirs", "3", httpbin.url + "/redirect/3"]).rc == 0


# -- heads -------------------------------------------------------------------------------------------


def test_include_piped_is_plain_http(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "-i", httpbin.url + "/get"])
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nContent-Type: application/json" in head
    assert b"\x1b[" not in r.stdout
    assert json.loads(body)["url"].endswith("/get")


def test_head_only(cli: Any, httpbin: Any, files_nginx: FilesServer) -> None:
    for args in (["get", "-I"], ["head"]):
        r = cli([*args, files_nginx.url("/data.bin")])
        assert r.rc == 0
        assert r.out.startswith("HTTP/1.1 200 OK\r\n")
        assert f"Content-Length: {FILE_SIZE}\r\n" in r.out
        assert r.out.endswith("\r\n\r\n")  # no body


def test_head_only_to_a_file(cli: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    out = tmp_path / "head.txt"
    r = cli(["get", "-I", "-o", str(out), files_nginx.url("/data.bin")])
    assert r.rc == 0 and r.stdout == b""
    head = out.read_bytes()
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n")
    assert f"Content-Length: {FILE_SIZE}".encode() in head


# -- compression --------------------------------------------------------------------------------------


def test_compressed_by_default_and_no_compressed(cli: Any, httpbin: Any) -> None:
    assert body_json(cli(["get", httpbin.url + "/gzip"]))["gzipped"] is True
    r = cli(["get", "--no-compressed", "-H", "Accept-Encoding: gzip", httpbin.url + "/gzip"])
    assert r.rc == 0 and r.stdout[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(r.stdout))["gzipped"] is True


# -- bodies to stdout and to files --------------------------------------------------------------------


def test_binary_body_piped_is_byte_exact(cli: Any, files_nginx: FilesServer) -> None:
    r = cli(["get", files_nginx.url("/data.bin")])
    assert r.rc == 0 and r.stdout == files_nginx.data
    assert r.stderr == b""  # no progress, no notes when piped


def test_output_file(cli: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    out = tmp_path / "copy.bin"
    r = cli(["get", "-o", str(out), files_nginx.url("/data.bin")])
    assert r.rc == 0 and r.stdout == b"" and r.stderr == b""
    assert out.read_bytes() == files_nginx.data


def test_remote_name(cli: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    r = cli(["get", "-O", files_nginx.url("/data.bin?x=1")], cwd=tmp_path)
    assert r.rc == 0
    assert (tmp_path / "data.bin").read_bytes() == files_nginx.data
    r = cli(["get", "-O", files_nginx.url("/")], cwd=tmp_path)
    assert r.rc == 2 and "no file name" in r.err


def test_resume_gives_a_byte_identical_file(cli: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    out = tmp_path / "partial.bin"
    cut = 1_234_567
    out.write_bytes(files_nginx.data[:cut])
    r = cli(["get", "-C", "-", "-o", str(out), files_nginx.url("/data.bin")])
    assert r.rc == 0, r.err
    assert out.read_bytes() == files_nginx.data
    # Again: nothing left to fetch (416 with the same total) is success, and the file is untouched.
    r = cli(["get", "-C", "-", "-o", str(out), files_nginx.url("/data.bin")])
    assert r.rc == 0 and "already complete" in r.err
    assert out.read_bytes() == files_nginx.data


def test_resume_at_an_offset(cli: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    out = tmp_path / "offset.bin"
    out.write_bytes(files_nginx.data[:1000])
    r = cli(["get", "-C", "1000", "-o", str(out), files_nginx.url("/data.bin")])
    assert r.rc == 0 and out.read_bytes() == files_nginx.data


def test_resume_refused_when_the_server_ignores_range(cli: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    out = tmp_path / "norange.bin"
    out.write_bytes(files_nginx.data[:1000])
    r = cli(["get", "-C", "-", "-o", str(out), files_nginx.url("/norange/data.bin")])
    assert r.rc == 33 and "ignored the Range" in r.err
    assert out.read_bytes() == files_nginx.data[:1000]  # left as it was


def test_resume_never_writes_an_error_page_over_the_part(cli: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    out = tmp_path / "keep.bin"
    out.write_bytes(files_nginx.data[:1000])
    r = cli(["get", "-C", "-", "-o", str(out), files_nginx.url("/missing.bin")])
    assert r.rc == 33 and "answered 404" in r.err
    assert out.read_bytes() == files_nginx.data[:1000]


def test_resume_needs_an_output_file(cli: Any, files_nginx: FilesServer) -> None:
    r = cli(["get", "-C", "-", files_nginx.url("/data.bin")])
    assert r.rc == 2 and "-C needs -o" in r.err


# -- verbose ------------------------------------------------------------------------------------------


def test_verbose_trace(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "-v", httpbin.url + "/get", "-H", "X-Probe: 1"])
    assert r.rc == 0
    err = r.err
    assert "* 127.0.0.1 resolved to 127.0.0.1 in " in err
    assert "* connected to 127.0.0.1 port " in err
    assert "> GET /get HTTP/1.1\n" in err and "> X-Probe: 1\n" in err and "> Host: 127.0.0.1:" in err
    assert "< HTTP/1.1 200 OK\n" in err and "< Content-Type: application/json\n" in err
    timings = [line for line in err.splitlines() if "timings:" in line]
    assert len(timings) == 1
    for phase in ("DNS ", "connect ", "TLS -", "first byte ", "total "):
        assert phase in timings[0]
    assert json.loads(r.stdout)["headers"]["X-Probe"] == "1"  # the body still goes to stdout alone


def test_verbose_shows_reuse(cli: Any, files_nginx: FilesServer, tmp_path: Path) -> None:
    # nginx keeps the connection open; a redirect to the same origin reuses it.
    r = cli(["get", "-v", "-L", files_nginx.url("/sub")])  # nginx answers 301 to /sub/
    assert "< HTTP/1.1 301 Moved Permanently" in r.err
    assert r.err.count("* connected to") == 1
    assert "re-using the connection to " + files_nginx.base in r.err
    assert "(connection reused)" in r.err


def test_verbose_tls(cli: Any, httpbin_secure: Any) -> None:
    import pytest_httpbin.certs  # type: ignore[import-untyped]

    r = cli(["get", "-v", "--cacert", pytest_httpbin.certs.where(), httpbin_secure.url + "/get"])
    assert r.rc == 0, r.err
    assert "* TLS TLSv1." in r.err and "handshake " in r.err
    # pytest-httpbin's certificate comes from trustme: O and OU, no CN; names in subjectAltName.
    assert "* peer certificate subject: O=trustme" in r.err
    assert "* peer certificate issuer: O=trustme" in r.err
    assert "* peer certificate names: localhost, 127.0.0.1" in r.err
    timings = next(line for line in r.err.splitlines() if "timings:" in line)
    assert "TLS -" not in timings and "TLS " in timings


def test_verbose_hides_credentials(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "-v", "-u", "u:topsecret", httpbin.url + "/basic-auth/u/topsecret"])
    assert r.rc == 0 and "> Authorization: ****" in r.err and "dTp0b3BzZWNyZXQ" not in r.err


# -- TLS options ---------------------------------------------------------------------------------------


def test_tls_verification(cli: Any, httpbin_secure: Any) -> None:
    import pytest_httpbin.certs

    r = cli(["get", httpbin_secure.url + "/get"])
    assert r.rc == 35 and "TLS error" in r.err
    r = cli(["get", "--cacert", pytest_httpbin.certs.where(), httpbin_secure.url + "/get"])
    assert r.rc == 0
    r = cli(["get", "-k", httpbin_secure.url + "/get"])
    assert r.rc == 0 and json.loads(r.stdout)["url"].startswith("https://")
    assert "WARNING: --insecure: TLS certificates are NOT verified" in r.err


def test_insecure_verbose_still_shows_the_certificate(cli: Any, httpbin_secure: Any) -> None:
    r = cli(["get", "-k", "-v", httpbin_secure.url + "/get"])
    assert r.rc == 0
    assert "* peer certificate subject: " in r.err and "certificate NOT verified" in r.err


def test_client_certificate(cli: Any, tmp_path: Path) -> None:
    import socket
    import ssl
    import threading

    from tests.servers.tls import session_ca

    ca = session_ca()
    server_cert = ca.issue_cert("127.0.0.1")
    client_cert = ca.issue_cert("alice@example.test")
    ca_file, client_pem = tmp_path / "ca.pem", tmp_path / "client.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(client_pem))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(ctx)
    ca.configure_trust(ctx)
    ctx.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    san = dict(tls.getpeercert()["subjectAltName"])  # type: ignore[arg-type, index]
                    body = f"hello {san.get('email') or san.get('DNS')}".encode()
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            except (ssl.SSLError, OSError):
                conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        url = f"https://127.0.0.1:{port}/"
        r = cli(["get", "--cacert", str(ca_file), "-E", str(client_pem), url])
        assert r.rc == 0, r.err
        assert r.stdout == b"hello alice@example.test"
        r = cli(["get", "--cacert", str(ca_file), url])  # no certificate: the server refuses
        assert r.rc in (35, 56), r.err
    finally:
        t.join(5)
        listener.close()


# -- proxy, retries, timeouts, robots ----------------------------------------------------------------------


def test_proxy_gets_the_absolute_form() -> None:
    script: list[Action] = [ReadRequest(), Send(response(b"via proxy")), Close()]
    with FaultServer(script) as proxy:
        r = run_piped(["get", "-x", proxy.url("").rstrip("/"), "http://origin.test/path?q=1"])
        assert r.rc == 0 and r.stdout == b"via proxy"
        assert proxy.requests[0].target == "http://origin.test/path?q=1"
        assert proxy.requests[0].header("host") == "origin.test"


def test_noproxy_goes_direct(cli: Any, httpbin: Any, unused_port: int) -> None:
    dead_proxy = f"http://127.0.0.1:{unused_port}"
    assert cli(["get", "-x", dead_proxy, httpbin.url + "/get"]).rc == 7  # the proxy is tried, and refuses
    r = cli(["get", "-x", dead_proxy, "--noproxy", "127.0.0.1", httpbin.url + "/get"])
    assert r.rc == 0 and json.loads(r.stdout)["url"] == httpbin.url + "/get"


def test_url_without_scheme_is_http(cli: Any, httpbin: Any) -> None:
    r = cli(["get", httpbin.url.removeprefix("http://") + "/get"])
    assert r.rc == 0 and json.loads(r.stdout)["url"] == httpbin.url + "/get"


def test_retry() -> None:
    scripts: list[list[Action]] = [
        [ReadRequest(), Send(response(b"busy", status=503, reason="Service Unavailable", headers=[("Retry-After", "0")])), Close()],
        [ReadRequest(), Send(response(b"fine")), Close()],
    ]
    with FaultServer(scripts) as srv:
        r = run_piped(["get", "--retry", "2", srv.url("/")])
        assert r.rc == 0 and r.stdout == b"fine" and srv.connections == 2
    with FaultServer(scripts) as srv:
        r = run_piped(["get", "--fail", srv.url("/")])
        assert r.rc == 22 and srv.connections == 1


def test_respect_robots(cli: Any, httpbin: Any) -> None:
    r = cli(["get", "--respect-robots", httpbin.url + "/deny"])
    assert r.rc == 9 and "robots.txt" in r.err
    assert cli(["get", "--respect-robots", httpbin.url + "/get"]).rc == 0
    assert cli(["get", httpbin.url + "/deny"]).rc == 0
