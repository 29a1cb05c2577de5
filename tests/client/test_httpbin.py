"""The Client against httpbin (pytest-httpbin's real server on loopback)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

import netwire
from netwire.errors import HTTPStatusError, ReadTimeout, StreamError, TimeoutException, URLError

pytestmark = pytest.mark.timeout(30)


def _url(httpbin: Any, path: str) -> str:
    return str(httpbin.url) + path


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_methods(client: netwire.Client, httpbin: Any, method: str) -> None:
    r = client.request(method, _url(httpbin, "/" + method.lower()))
    assert r.status == 200 and r.reason == "OK" and r.http_version == "1.1"
    data = r.json()
    assert data["url"].endswith("/" + method.lower())


def test_method_helpers(client: netwire.Client, httpbin: Any) -> None:
    assert client.get(_url(httpbin, "/get")).status == 200
    assert client.post(_url(httpbin, "/post"), content=b"x").json()["data"] == "x"
    assert client.put(_url(httpbin, "/put"), content=b"y").json()["data"] == "y"
    assert client.patch(_url(httpbin, "/patch"), content=b"z").json()["data"] == "z"
    assert client.delete(_url(httpbin, "/delete")).status == 200
    r = client.options(_url(httpbin, "/get"))
    assert r.status == 200 and "GET" in r.headers["allow"]


def test_head_has_headers_but_no_body(client: netwire.Client, httpbin: Any) -> None:
    r = client.head(_url(httpbin, "/bytes/1000"))
    assert r.status == 200
    assert r.headers["content-length"] == "1000"
    assert r.content == b""


def test_method_name_is_sent_upper_case(client: netwire.Client, httpbin: Any) -> None:
    r = client.request("trace", _url(httpbin, "/anything/x"))
    assert r.json()["method"] == "TRACE"


def test_query_params(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/get"), params={"a": "1", "space": "x y", "amp": "&=?", "uni": "é"})
    assert r.json()["args"] == {"a": "1", "space": "x y", "amp": "&=?", "uni": "é"}


def test_query_params_merge_with_the_url_and_repeat(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/get?x=0"), params=[("k", "1"), ("k", "2")])
    assert r.json()["args"] == {"x": "0", "k": ["1", "2"]}


def test_custom_headers_are_sent(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/headers"), headers={"X-Test": "value", "User-Agent": "mine/1"})
    sent = r.json()["headers"]
    assert sent["X-Test"] == "value" and sent["User-Agent"] == "mine/1"


def test_header_injection_is_refused_before_sending(client: netwire.Client, httpbin: Any) -> None:
    with pytest.raises(netwire.LocalProtocolError):
        client.get(_url(httpbin, "/headers"), headers={"X-Test": "a\r\nX-Injected: 1"})


def test_form_data(client: netwire.Client, httpbin: Any) -> None:
    r = client.post(_url(httpbin, "/post"), data={"name": "netwire", "q": "a&b=c", "uni": "ü"})
    body = r.json()
    assert body["form"] == {"name": "netwire", "q": "a&b=c", "uni": "ü"}
    assert body["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_json_body(client: netwire.Client, httpbin: Any) -> None:
    payload = {"a": [1, 2, {"b": None}], "s": "é", "t": True}
    r = client.post(_url(httpbin, "/post"), json=payload)
    body = r.json()
    assert body["json"] == payload
    assert body["headers"]["Content-Type"].startswith("application/json")


def test_raw_content_bytes(client: netwire.Client, httpbin: Any) -> None:
    blob = bytes(range(256)) * 100
    r = client.post(
        _url(httpbin, "/post"), content=blob, headers={"Content-Type": "application/octet-stream"}
    )
    body = r.json()
    assert body["headers"]["Content-Length"] == str(len(blob))
    assert body["data"].startswith("data:application/octet-stream;base64,")
    import base64

    assert base64.b64decode(body["data"].split(",", 1)[1]) == blob


def test_file_object_body_is_sent_with_its_length(
    client: netwire.Client, httpbin: Any, tmp_path: Any
) -> None:
    path = tmp_path / "upload.txt"
    path.write_bytes(b"file contents " * 1000)
    with path.open("rb") as f:
        r = client.post(_url(httpbin, "/post"), content=f)
    body = r.json()
    assert body["data"] == "file contents " * 1000
    assert body["headers"].get("Content-Length") == str(14 * 1000)


def test_multipart_files(client: netwire.Client, httpbin: Any) -> None:
    files = {
        "upload": ("hello.txt", b"hello, world\n", "text/plain"),
        "plain": ("data.bin", io.BytesIO(b"\x00\x01binary"), "application/octet-stream"),
    }
    r = client.post(_url(httpbin, "/post"), files=files, data={"field": "value"})
    body = r.json()
    assert body["files"]["upload"] == "hello, world\n"
    assert "plain" in body["files"]
    assert body["form"] == {"field": "value"}
    assert body["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


@pytest.mark.parametrize("code", [200, 201, 204, 301, 304, 400, 404, 418, 500, 503])
def test_status_codes(client: netwire.Client, httpbin: Any, code: int) -> None:
    r = client.get(_url(httpbin, f"/status/{code}"), follow_redirects=False)
    assert r.status == code
    if code >= 400:
        with pytest.raises(HTTPStatusError) as info:
            r.raise_for_status()
        assert info.value.response is r
        assert str(code) in str(info.value)
        assert isinstance(info.value, URLError)
    else:
        assert r.raise_for_status() is r


def test_stream_n_json_lines(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/stream/20"))
    lines = r.content.splitlines()
    assert len(lines) == 20
    assert [json.loads(line)["id"] for line in lines] == list(range(20))


def test_stream_n_read_lazily(client: netwire.Client, httpbin: Any) -> None:
    with client.stream("GET", _url(httpbin, "/stream/50")) as r:
        assert r.status == 200
        pieces = list(r.iter_bytes())
    ids = [json.loads(line)["id"] for line in b"".join(pieces).splitlines()]
    assert ids == list(range(50))


@pytest.mark.parametrize("n", [0, 1, 1000, 100_000])
def test_bytes_n(client: netwire.Client, httpbin: Any, n: int) -> None:
    r = client.get(_url(httpbin, f"/bytes/{n}?seed=7"))
    assert len(r.content) == n
    assert r.headers["content-type"] == "application/octet-stream"
    # The same seed gives the same bytes: the body is not mangled in transit.
    assert client.get(_url(httpbin, f"/bytes/{n}?seed=7")).content == r.content


def test_stream_bytes_iter_with_chunk_size(client: netwire.Client, httpbin: Any) -> None:
    with client.stream("GET", _url(httpbin, "/stream-bytes/10000?chunk_size=333&seed=1")) as r:
        sizes = [len(c) for c in r.iter_bytes(chunk_size=1024)]
    assert sum(sizes) == 10000
    assert all(s == 1024 for s in sizes[:-1]) and 0 < sizes[-1] <= 1024


def test_readinto(client: netwire.Client, httpbin: Any) -> None:
    with client.stream("GET", _url(httpbin, "/bytes/5000?seed=3")) as r:
        buf = bytearray(1000)
        got = b""
        while True:
            n = r.readinto(buf)
            if not n:
                break
            got += bytes(buf[:n])
    assert got == client.get(_url(httpbin, "/bytes/5000?seed=3")).content


def test_drip(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/drip?numbytes=10&duration=0.3&delay=0"))
    assert r.status == 200 and r.content == b"*" * 10


def test_drip_streamed_arrives_in_pieces(client: netwire.Client, httpbin: Any) -> None:
    with client.stream("GET", _url(httpbin, "/drip?numbytes=5&duration=0.5&delay=0")) as r:
        pieces = list(r.iter_bytes())
    assert b"".join(pieces) == b"*" * 5
    assert len(pieces) > 1  # delivered as they came, not all at the end


def test_delay_within_timeout(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/delay/0.3"), timeout=3)
    assert r.status == 200


def test_delay_beyond_read_timeout(client: netwire.Client, httpbin: Any) -> None:
    with pytest.raises(ReadTimeout) as info:
        client.get(_url(httpbin, "/delay/2"), timeout=0.3)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, TimeoutException)
    assert client.pool.open_count() == 0


def test_response_headers_multi_valued_and_case_insensitive(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/response-headers?X-Multi=a&X-Multi=b&Set-Cookie=c=1"))
    assert r.headers.get_list("x-multi") == ["a", "b"]
    assert r.headers["X-MULTI"] == "a, b"
    assert r.headers.get_list("set-cookie") == ["c=1"]
    assert r.headers.get_list("absent") == []


def test_text_uses_the_charset(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/encoding/utf8"))
    assert "∮ E⋅da = Q" in r.text


def test_response_attributes(client: netwire.Client, httpbin: Any) -> None:
    url = _url(httpbin, "/get?x=1")
    r = client.get(url)
    assert str(r.url) == url
    assert r.history == []
    assert r.json()["args"] == {"x": "1"}


def test_redirect_history(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/redirect/2"))
    assert r.status == 200 and str(r.url).endswith("/get")
    assert [h.status for h in r.history] == [302, 302]
    r = client.get(_url(httpbin, "/redirect/2"), follow_redirects=False)
    assert r.status == 302 and r.headers["location"]


def test_read_after_close_is_a_stream_error(client: netwire.Client, httpbin: Any) -> None:
    with client.stream("GET", _url(httpbin, "/bytes/100000")) as r:
        r.read(10)
    with pytest.raises(StreamError):
        r.read(10)


def test_module_level_functions(httpbin: Any) -> None:
    r = netwire.get(_url(httpbin, "/get"), params={"m": "1"})
    assert r.status == 200 and r.json()["args"] == {"m": "1"}
    assert netwire.post(_url(httpbin, "/post"), json={"k": 1}).json()["json"] == {"k": 1}
    with netwire.stream("GET", _url(httpbin, "/bytes/10")) as r:
        assert len(r.read()) == 10


def test_module_level_request_survives_import_of_the_urllib_face(httpbin: Any) -> None:
    # netwire.request is both the module-level function and urllib.request's twin module.
    # Importing the module (any code using the urllib face does) must not replace the function
    # on the package, or netwire.request(...) breaks depending on import order.
    import importlib

    importlib.import_module("netwire.request")
    assert netwire.request("PUT", _url(httpbin, "/put")).status == 200


def test_basic_auth(client: netwire.Client, httpbin: Any) -> None:
    r = client.get(_url(httpbin, "/basic-auth/user/pass"), auth=("user", "pass"))
    assert r.status == 200 and r.json() == {"authenticated": True, "user": "user"}
    assert client.get(_url(httpbin, "/basic-auth/user/pass"), auth=("user", "nope")).status == 401


def test_https_httpbin_with_its_ca(httpbin_secure: Any) -> None:
    import pytest_httpbin.certs  # type: ignore[import-untyped]

    with netwire.Client(verify=pytest_httpbin.certs.where(), timeout=5) as c:
        r = c.get(str(httpbin_secure.url) + "/get")
    assert r.status == 200 and r.json()["url"].startswith("https://")
