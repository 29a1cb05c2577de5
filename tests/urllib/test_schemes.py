"""ftp: (a real pyftpdlib server), data:, file:, and urlretrieve over each."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import netwire.request as R
from netwire.error import ContentTooShortError, URLError

FTP_FILES = {"hello.txt": b"hello over ftp\n", "sub/data.bin": bytes(range(256)) * 64}

# -- ftp: -----------------------------------------------------------------------------------------


def test_ftp_file(ftp_server: Any) -> None:
    r = R.urlopen(ftp_server.url + "/hello.txt")
    theirs = urllib.request.urlopen(ftp_server.url + "/hello.txt")
    assert r.read() == FTP_FILES["hello.txt"] == theirs.read()
    assert r.info()["Content-type"] == "text/plain"
    # pyftpdlib's 150 reply names no size, so neither urllib nor netwire knows the length.
    assert r.info().items() == theirs.info().items()
    assert r.geturl() == ftp_server.url + "/hello.txt"
    r.close()
    theirs.close()


def test_ftp_login_binary_file_and_type(ftp_server: Any) -> None:
    with R.urlopen(ftp_server.user_url() + "/sub/data.bin;type=i") as r:
        assert r.read() == FTP_FILES["sub/data.bin"]


def test_ftp_directory_listing(ftp_server: Any) -> None:
    with R.urlopen(ftp_server.url + "/sub/") as r:
        listing = r.read()
    assert b"data.bin" in listing
    with R.urlopen(ftp_server.url + "/sub") as r:  # a name that is a directory lists it
        assert b"data.bin" in r.read()


def test_ftp_missing_file_and_bad_login(ftp_server: Any) -> None:
    with pytest.raises(URLError) as info:
        R.urlopen(ftp_server.url + "/nothing-here.txt")
    assert "ftp error" in str(info.value)
    with pytest.raises(URLError):
        R.urlopen(ftp_server.url.replace("ftp://", "ftp://user:wrong@") + "/hello.txt")


def test_cache_ftp_handler_reuses_the_session(ftp_server: Any) -> None:
    handler = R.CacheFTPHandler()
    opener = R.build_opener(handler)
    for _ in range(3):
        with opener.open(ftp_server.url + "/hello.txt") as r:
            assert r.read() == FTP_FILES["hello.txt"]
    assert len(handler.cache) == 1
    handler.clear_cache()
    assert handler.cache == {}


def test_urlretrieve_ftp(ftp_server: Any, tmp_path: Path) -> None:
    target = tmp_path / "copy.bin"
    hooks: list[tuple[int, int, int]] = []
    filename, headers = R.urlretrieve(ftp_server.url + "/sub/data.bin", target, lambda *a: hooks.append(a))
    assert filename == str(target) and target.read_bytes() == FTP_FILES["sub/data.bin"]
    assert headers["Content-type"] == "application/octet-stream"
    assert hooks[0] == (0, 8192, -1) and len(hooks) == 3


# -- data: -----------------------------------------------------------------------------------------

DATA_URLS = [
    "data:,hello%20world",
    "data:text/plain;charset=utf-8,caf%C3%A9",
    "data:;base64,SGVsbG8=",
    "data:application/octet-stream;base64,AAEC%41w==",
    "data:text/html,<b>x</b>",
]


@pytest.mark.parametrize("url", DATA_URLS)
def test_data_urls_match_urllib(url: str) -> None:
    ours, theirs = R.urlopen(url), urllib.request.urlopen(url)
    assert ours.read() == theirs.read()
    assert ours.info().items() == theirs.info().items()
    assert ours.geturl() == theirs.geturl() and ours.status == theirs.status


def test_bad_data_url() -> None:
    with pytest.raises(ValueError):
        R.urlopen("data:no-comma")


# -- file: -----------------------------------------------------------------------------------------


def test_file_url(tmp_path: Path) -> None:
    path = tmp_path / "page one.html"
    path.write_bytes(b"<p>local</p>")
    url = "file://" + R.pathname2url(str(path))
    assert url == "file://" + urllib.request.pathname2url(str(path))
    ours, theirs = R.urlopen(url), urllib.request.urlopen(url)
    assert ours.read() == b"<p>local</p>" == theirs.read()
    assert ours.info().items() == theirs.info().items()
    assert ours.geturl() == theirs.geturl()
    assert R.urlopen("file://localhost" + R.pathname2url(str(path))).read() == b"<p>local</p>"
    assert R.url2pathname(R.pathname2url(str(path))) == str(path)


def test_file_url_errors(tmp_path: Path) -> None:
    with pytest.raises(URLError) as info:
        R.urlopen("file://" + R.pathname2url(str(tmp_path / "missing")))
    assert isinstance(info.value.reason, FileNotFoundError)
    with pytest.raises(URLError, match="not on local host"):
        R.urlopen("file://192.0.2.1/etc/hosts")


def test_urlretrieve_file_returns_the_local_path(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("x")
    filename, headers = R.urlretrieve("file://" + R.pathname2url(str(path)))
    assert filename == str(path) and headers["Content-length"] == "1"


# -- urlretrieve over http -------------------------------------------------------------------------


def test_urlretrieve_http_to_a_temporary_file(httpbin: Any) -> None:
    filename, headers = R.urlretrieve(httpbin.url + "/bytes/10000?seed=5")
    expected = urllib.request.urlopen(httpbin.url + "/bytes/10000?seed=5").read()
    assert Path(filename).read_bytes() == expected
    assert headers["Content-Length"] == "10000"
    R.urlcleanup()
    assert not os.path.exists(filename)


def test_urlretrieve_post_data(httpbin: Any, tmp_path: Path) -> None:
    filename, _ = R.urlretrieve(httpbin.url + "/post", tmp_path / "out.json", data=b"k=v")
    assert b'"k": "v"' in Path(filename).read_bytes()


def test_content_too_short(one_shot: Any, tmp_path: Path) -> None:
    server = one_shot(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"a" * 40)
    with pytest.raises(ContentTooShortError) as ours:
        R.urlretrieve(server.url + "/short", tmp_path / "ours")
    with pytest.raises(urllib.request.ContentTooShortError) as theirs:  # type: ignore[attr-defined]
        urllib.request.urlretrieve(server.url + "/short", tmp_path / "theirs")
    assert str(ours.value) == str(theirs.value) == "<urlopen error retrieval incomplete: got only 40 out of 100 bytes>"
    assert ours.value.content[0] == str(tmp_path / "ours")
    assert (tmp_path / "ours").read_bytes() == b"a" * 40
