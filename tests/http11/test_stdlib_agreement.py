"""Differential test: our parser and the standard library's http.client read valid responses alike.

http.client is a second, independent reading of RFC 9112 (it is fine to use it in tests; netwire
itself does not). For CRLF-framed responses both must agree on the status, the reason, the
version, the header fields in order, and the body.
"""

from __future__ import annotations

import http.client
import io

from hypothesis import assume, given

from tests.http11.feeding import parse_pieces
from tests.http11.test_properties import SETTINGS, Generated, responses


class _FakeSocket:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str, *args: object, **kwargs: object) -> io.BytesIO:
        return io.BytesIO(self._data)


def _stdlib(data: bytes, method: str) -> tuple[int, str, int, list[tuple[str, str]], bytes]:
    resp = http.client.HTTPResponse(_FakeSocket(data), method=method)  # type: ignore[arg-type]
    resp.begin()
    body = resp.read()
    return resp.status, resp.reason, resp.version, list(resp.getheaders()), body


# http.client passes over 100 Continue only (a 103 would be its final response), and it reads
# the CRLF after chunk data blindly: keep to what it understands.
@SETTINGS
@given(responses(crlf_only=True, interim=(100,)))
def test_agrees_with_http_client(gen: Generated) -> None:
    # http.client reads a chunked body even after 204/304 (RFC 9112 6.3 says: no body). Where
    # the standard library is wrong there is nothing to compare.
    assume(not (gen.status in (204, 304) and gen.framing == "chunked"))
    ours = parse_pieces([gen.data], method=gen.method, eof=gen.until_close)
    assert ours.head is not None and ours.ended
    status, reason, version, headers, body = _stdlib(gen.data, gen.method)
    assert ours.head.status == status
    assert ours.head.reason.strip() == reason  # http.client strips the reason
    assert {"1.0": 10, "1.1": 11}[ours.head.http_version] == version
    assert ours.head.headers == headers
    assert ours.body == body
