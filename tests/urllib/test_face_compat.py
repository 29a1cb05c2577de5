"""Issue 15 (and issue 14 item 7): where urllib code broke after the import switch.

Each behaviour runs side by side with the real urllib against a raw loopback server of a few
lines (the traffic is deliberately odd: what real servers will not send), or against pyftpdlib.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import netwire.error
import netwire.request
from netwire.errors import InvalidURL

MODULES = {"urllib": urllib.request, "netwire": netwire.request}


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


# -- 1. Basic challenge realms -------------------------------------------------------------------


def _basic_server(challenge: bytes) -> Callable[[bytes], bytes]:
    def answer(request: bytes) -> bytes:
        if b"\r\nauthorization: basic " in request.lower():
            return OK
        return (
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: " + challenge + b"\r\nContent-Length: 0\r\n\r\n"
        )

    return answer


@pytest.mark.parametrize(
    ("challenge", "realm", "warns"),
    [
        (b"Basic realm='acme@example.com'", "acme@example.com", False),
        (b"Basic realm=acme@example.com", "acme@example.com", True),
        (b'Basic realm="acme@example.com"', "acme@example.com", False),
        (b'Basic realm="a \\"quoted\\" realm"', 'a "quoted" realm', False),
    ],
)
@pytest.mark.parametrize("lib", ["urllib", "netwire"])
def test_basic_realm_quoting(one_shot: Any, lib: str, challenge: bytes, realm: str, warns: bool) -> None:
    m = MODULES[lib]
    server = one_shot(_basic_server(challenge))
    mgr = m.HTTPPasswordMgr()
    mgr.add_password(realm, server.url, "user", "pw")
    opener = m.build_opener(m.HTTPBasicAuthHandler(mgr))
    if lib == "urllib" and b"\\" in challenge:
        # The documented difference: urllib stops a quoted realm at the escaped quote, finds no
        # password for that realm and returns the 401; netwire reads the quoted-string (RFC 9110).
        with pytest.raises(urllib.error.HTTPError) as exc:
            opener.open(server.url + "/private", timeout=10)
        assert exc.value.code == 401
        exc.value.close()
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with opener.open(server.url + "/private", timeout=10) as r:
            assert r.status == 200 and r.read() == b"ok"
    unquoted = [w for w in caught if str(w.message) == "Basic Auth Realm was unquoted"]
    assert len(unquoted) == (1 if warns else 0)
    assert all(w.category is UserWarning for w in unquoted)


def test_basic_realm_after_other_parameters(one_shot: Any) -> None:
    # RFC 9110 allows any parameter order; urllib's regex does not: netwire answers anyway.
    server = one_shot(_basic_server(b'Basic charset="UTF-8", realm="r"'))
    mgr = netwire.request.HTTPPasswordMgr()
    mgr.add_password("r", server.url, "user", "pw")
    with netwire.request.build_opener(netwire.request.HTTPBasicAuthHandler(mgr)).open(
        server.url, timeout=10
    ) as r:
        assert r.status == 200


def test_basic_rx_groups_as_urllib() -> None:
    for header in [
        "Basic realm='x'",
        'Basic realm="x"',
        "Basic realm=x",
        "Digest realm=\"d\", Basic realm='b'",
    ]:
        ours = [m.groups() for m in netwire.request.AbstractBasicAuthHandler.rx.finditer(header)]
        theirs = [m.groups() for m in urllib.request.AbstractBasicAuthHandler.rx.finditer(header)]
        assert ours == theirs, header


# -- 2. FTP userinfo decoded once ------------------------------------------------------------------


@pytest.fixture(scope="module")
def percent_ftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pyftpdlib whose only user is literally ``%42parrot`` / ``p%41ss``."""
    import logging

    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    root = tmp_path_factory.mktemp("percentftp")
    (root / "f.txt").write_bytes(b"parrot file\n")
    authorizer = DummyAuthorizer()
    authorizer.add_user("%42parrot", "p%41ss", str(root), perm="elr")

    class Handler(FTPHandler):
        pass

    Handler.authorizer = authorizer
    Handler.passive_ports = range(50100, 50200)
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    server = ThreadedFTPServer(("127.0.0.1", 0), Handler)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.close_all()
        thread.join(5)


@pytest.mark.parametrize("lib", ["urllib", "netwire"])
def test_ftp_userinfo_is_percent_decoded_once(percent_ftp: str, lib: str) -> None:
    url = f"ftp://%2542parrot:p%2541ss@{percent_ftp}/f.txt"
    with MODULES[lib].urlopen(url, timeout=10) as r:
        assert r.read() == b"parrot file\n"


# -- 6. chunked body without the final CRLF ------------------------------------------------------


@pytest.mark.parametrize("lib", ["urllib", "netwire"])
def test_last_chunk_then_close(one_shot: Any, lib: str) -> None:
    server = one_shot(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n"
    )
    with MODULES[lib].urlopen(server.url, timeout=10) as r:
        assert r.read() == b"hello world"
    # And the next request works (on a new connection: that one is not reused).
    with MODULES[lib].urlopen(server.url, timeout=10) as r:
        assert r.read() == b"hello world"
    assert len(server.received) == 2


# -- 7. a server that closes without answering ---------------------------------------------------


@pytest.mark.parametrize("lib", ["urllib", "netwire"])
def test_server_closing_without_answer_is_remote_disconnected(one_shot: Any, lib: str) -> None:
    server = one_shot(b"")
    with pytest.raises(http.client.RemoteDisconnected) as info:
        MODULES[lib].urlopen(server.url, timeout=10)
    assert isinstance(info.value, ConnectionResetError)
    assert isinstance(info.value, http.client.BadStatusLine)
    try:
        MODULES[lib].urlopen(server.url, timeout=10)
    except (http.client.RemoteDisconnected, ConnectionResetError):
        pass  # the retry helper's except clause
    if lib == "netwire":
        assert isinstance(info.value, netwire.error.URLError)  # and netwire's own hierarchy


def test_remote_disconnected_without_http_client_loaded() -> None:
    # netwire never imports http.client: without it the error is still a ConnectionResetError.
    code = (
        "import socket, sys, threading\n"
        "import netwire.request, netwire.error\n"
        "s = socket.create_server(('127.0.0.1', 0))\n"
        "def serve():\n"
        "    c, _ = s.accept(); c.recv(65536); c.close()\n"
        "threading.Thread(target=serve, daemon=True).start()\n"
        "try:\n"
        "    netwire.request.urlopen(f'http://127.0.0.1:{s.getsockname()[1]}/', timeout=10)\n"
        "except ConnectionResetError as e:\n"
        "    print(type(e).__name__, isinstance(e, netwire.error.URLError), 'http.client' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["RemoteDisconnected", "True", "False"]


# -- 8. HTTP/0.9 status line ---------------------------------------------------------------------


@pytest.mark.parametrize("lib", ["urllib", "netwire"])
def test_http09_status_line_read_as_1_0(one_shot: Any, lib: str) -> None:
    server = one_shot(b"HTTP/0.9 200 OK\r\nContent-Type: text/plain\r\n\r\nembedded")
    with MODULES[lib].urlopen(server.url, timeout=10) as r:
        assert (r.status, r.version) == (200, 10)
        assert r.read() == b"embedded"


# -- 9. URLError.args and str --------------------------------------------------------------------


def _refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.mark.parametrize("lib", ["urllib", "netwire"])
def test_urlerror_args_hold_the_reason(lib: str) -> None:
    url = _refused_url()
    with pytest.raises(OSError) as info:
        MODULES[lib].urlopen(url, timeout=10)
    e = info.value
    assert isinstance(e, urllib.error.URLError if lib == "urllib" else netwire.error.URLError)
    assert e.args[0] is e.reason  # type: ignore[attr-defined]
    assert isinstance(e.reason, ConnectionRefusedError)  # type: ignore[attr-defined]
    assert str(e) == f"<urlopen error {e.reason}>"  # type: ignore[attr-defined]
    assert re.fullmatch(r"<urlopen error \[Errno \d+\] Connection refused>", str(e))


def test_urlerror_keeps_netwire_message_and_type() -> None:
    from netwire.errors import ConnectError

    with pytest.raises(ConnectError) as info:
        netwire.request.urlopen(_refused_url(), timeout=10)
    assert "127.0.0.1" in info.value.message  # netwire's own wording is still there
    # The Client itself keeps netwire's str().
    with netwire.Client() as client, pytest.raises(ConnectError) as direct:
        client.get(_refused_url())
    assert str(direct.value) == direct.value.message


# -- 12. legacy names, digest helpers ------------------------------------------------------------


def test_legacy_module_names() -> None:
    r = netwire.request
    assert r.MAXFTPCACHE == urllib.request.MAXFTPCACHE and r.ftpcache == {}
    assert r.localhost() == urllib.request.localhost()
    assert r.thishost() == urllib.request.thishost()
    assert r.ftperrors() == urllib.request.ftperrors()
    assert list(r.noheaders().items()) == [] and r.noheaders() is r.noheaders()


def test_digest_helpers() -> None:
    handler = netwire.request.HTTPDigestAuthHandler()
    theirs = urllib.request.HTTPDigestAuthHandler()
    H, KD = handler.get_algorithm_impls("MD5")
    H2, KD2 = theirs.get_algorithm_impls("MD5")
    assert H("abc") == H2("abc") == hashlib.md5(b"abc").hexdigest()
    assert KD("s", "d") == KD2("s", "d")
    assert handler.get_algorithm_impls("SHA-256")[0]("abc") == hashlib.sha256(b"abc").hexdigest()
    for h in (handler, theirs):
        with pytest.raises(ValueError, match="Unsupported digest authentication algorithm 'FOO'"):
            h.get_algorithm_impls("FOO")
    cnonce = handler.get_cnonce("n")
    assert re.fullmatch(r"[0-9a-f]{16}", cnonce) and cnonce != handler.get_cnonce("n")
    assert handler.get_entity_digest(b"data", {}) is None is theirs.get_entity_digest(b"data", {})


def _digest_server(algorithm: bytes) -> Callable[[bytes], bytes]:
    def answer(request: bytes) -> bytes:
        if b"\r\nauthorization: digest " in request.lower():
            return OK
        return (
            b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="r", nonce="abc", qop="auth", '
            b"algorithm=" + algorithm + b"\r\nContent-Length: 0\r\n\r\n"
        )

    return answer


@pytest.mark.parametrize("lib", ["urllib", "netwire"])
def test_unsupported_digest_algorithm_raises_what_urllib_raises(one_shot: Any, lib: str) -> None:
    m = MODULES[lib]
    server = one_shot(_digest_server(b"FOO"))
    mgr = m.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, server.url, "user", "pw")
    with pytest.raises(ValueError, match="Unsupported digest authentication algorithm 'FOO'"):
        m.build_opener(m.HTTPDigestAuthHandler(mgr)).open(server.url, timeout=10)


@pytest.mark.parametrize("lib", ["urllib", "netwire"])
def test_digest_subclass_cnonce_is_used(one_shot: Any, lib: str) -> None:
    m = MODULES[lib]

    class Fixed(m.HTTPDigestAuthHandler):  # type: ignore[name-defined,misc]
        def get_cnonce(self, nonce: str) -> str:
            return "0123456789abcdef"

    server = one_shot(_digest_server(b"MD5"))
    mgr = m.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, server.url, "user", "pw")
    with m.build_opener(Fixed(mgr)).open(server.url, timeout=10) as r:
        assert r.status == 200
    assert b'cnonce="0123456789abcdef"' in server.received[-1]


# -- a control character in the host -------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://exa\x01mple.com/", "http://exa mple.com/", "http://a\x7fb:80/"])
def test_control_character_in_host_is_invalid_url(url: str) -> None:
    with pytest.raises(http.client.InvalidURL, match="URL can't contain control characters"):
        urllib.request.urlopen(url, timeout=5)
    with pytest.raises(InvalidURL, match="URL can't contain control characters"):
        netwire.request.urlopen(url, timeout=5)


# -- issue 14 item 7: one host for Host and for the connection --------------------------------


@pytest.fixture
def evil_resolves_to(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Make ``evil.example`` (port 80) resolve to a loopback port: DNS we cannot change otherwise."""

    def point(port: int) -> None:
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, p: Any, *args: Any, **kwargs: Any) -> Any:
            if host == "evil.example":
                return real("127.0.0.1", port, *args, **kwargs)
            return real(host, p, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return point


def test_host_read_two_ways_is_refused(one_shot: Any, evil_resolves_to: Callable[[int], None]) -> None:
    import urllib.parse

    server = one_shot(OK)
    evil_resolves_to(server.port)
    url = "http://evil.example\\.good.example/"
    # What an allow-list written with urllib.parse sees:
    assert urllib.parse.urlsplit(url).hostname.endswith(".good.example")  # type: ignore[union-attr]
    with pytest.raises(urllib.error.URLError):  # urllib looks up the whole name: no such host
        urllib.request.urlopen(url, timeout=5)
    with pytest.raises(InvalidURL, match=r"evil\.example"):
        netwire.request.urlopen(url, timeout=5)
    assert server.received == []  # nothing reached evil.example
    # The same server, named plainly, is reached: the check is not what failed.
    netwire.request.urlopen(f"http://evil.example:{server.port}/", timeout=5).close()


@pytest.mark.parametrize(
    "url",
    ["http://EXAMPLE.test:{port}/", "http://ex%61mple.test:{port}/", "http://example.test.:{port}/"],
)
def test_same_host_spelled_differently_passes(
    one_shot: Any, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    server = one_shot(OK)
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, p: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host).rstrip(".").lower() == "example.test":
            return real("127.0.0.1", p, *args, **kwargs)
        return real(host, p, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with netwire.request.urlopen(url.format(port=server.port), timeout=5) as r:
        assert r.read() == b"ok"


# -- URLopener and FancyURLopener (deprecated, kept for old code up to CPython 3.13) -----------

pytestmark_legacy = pytest.mark.skipif(sys.version_info >= (3, 14), reason="removed in CPython 3.14")


def _legacy_server(request: bytes) -> bytes:
    path = request.split(b" ", 2)[1]
    if path == b"/missing":
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone"
    if path == b"/moved":
        return b"HTTP/1.1 302 Found\r\nLocation: /target\r\nContent-Length: 0\r\n\r\n"
    ua = re.search(rb"\r\nuser-agent: ([^\r]*)", request, re.I)
    extra = re.search(rb"\r\nx-extra: ([^\r]*)", request, re.I)
    body = b"%s ua=%s extra=%s" % (path, ua.group(1) if ua else b"-", extra.group(1) if extra else b"-")
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


@pytestmark_legacy
@pytest.mark.parametrize("lib", ["urllib", "netwire"])
def test_urlopener_side_by_side(one_shot: Any, lib: str, tmp_path: Path) -> None:
    m = MODULES[lib]
    server = one_shot(_legacy_server)

    class AppOpener(m.FancyURLopener):  # type: ignore[name-defined,misc]
        version = "App/1.0"

    with pytest.warns(DeprecationWarning, match="AppOpener style of invoking requests is deprecated"):
        fancy = AppOpener(proxies={})
    fancy.addheader("X-Extra", "yes")
    assert fancy.open(server.url + "/a").read() == b"/a ua=App/1.0 extra=yes"
    missing = fancy.open(server.url + "/missing")  # Fancy returns the error response
    assert missing.getcode() == 404
    if lib == "netwire":  # urllib's error body is already closed here (its connection is gone)
        assert missing.read() == b"gone"
    assert fancy.open(server.url + "/moved").read() == b"/target ua=App/1.0 extra=yes"

    with pytest.warns(DeprecationWarning):
        plain = m.URLopener(proxies={})
    with pytest.raises(urllib.error.HTTPError if lib == "urllib" else netwire.error.HTTPError) as info:
        plain.open(server.url + "/missing")
    assert info.value.code == 404
    target = tmp_path / f"{lib}.txt"
    filename, headers = plain.retrieve(server.url + "/file", str(target))
    assert filename == str(target) and target.read_bytes().startswith(b"/file ua=Python-urllib/")
    assert headers["Content-Length"] == str(target.stat().st_size)
    with pytest.raises(OSError) as unknown:
        plain.open("nosuch://x/")
    assert (*unknown.value.args, unknown.value.filename) == ("url error", "unknown url type", "nosuch")
    plain.close()


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + 'a, b realm="' * 50_000,
        "Basic realm='" + ", x realm=" * 80_000,
        "Basic " + "," * 1_000_000,
        "Basic " + "x" * 1_000_000 + " realm",
        'Basic realm="' + "\\" * 1_000_000,
    ],
)
def test_basic_realm_regex_is_linear(header: str) -> None:
    # CVE-2020-8492 was urllib's Basic realm regex backtracking on a hostile header.
    import time

    handler = netwire.request.HTTPBasicAuthHandler()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        list(handler._parse_realm(header))
    assert time.perf_counter() - start < 2.0
