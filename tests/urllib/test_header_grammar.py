"""One header grammar for both faces: what ``netwire.request`` refuses, ``Client`` refuses too.

The token (RFC 9110 5.6.2) and field-value rules are written once, in ``netwire.http11``, and the
urllib face imports them. These tests pin the shared verdict on a list of hostile or odd names and
values, sent to httpbin through ``Request.add_header`` + ``urlopen`` and through the clients (sync,
asyncio, uvloop): a refused field never reaches the wire, each face raising its own exception
(``ValueError`` as urllib does, ``LocalProtocolError`` for the Client); an accepted one arrives.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import netwire.request
from netwire.errors import LocalProtocolError
from tests.drivers import Driver

BAD_NAMES = [
    "",
    "Bad Name",
    "X:Y",
    "X\tY",
    "X\r\nInjected",
    "X\nY",
    "X\x00Y",
    "X\x7fY",
    "X(Y)",
    'X"Y',
    "X,Y",
    "X;Y",
    "X/Y",
    "X@Y",
    "X[Y]",
    "X{Y}",
    "X=Y",
    "X?Y",
    "X\\Y",
    "Ünïcode",
]
BAD_VALUES = ["a\r\nInjected: 1", "a\nb", "a\rb", "a\x00b", "\r\n", "tail\n"]
REFUSED = [(name, "v") for name in BAD_NAMES] + [("X-Test", value) for value in BAD_VALUES]

# Legal but unusual: every tchar in a name, every visible character and a tab in a value.
ACCEPTED = [
    ("X-Tchar!#$%&'*+.^_`|~09", "v"),
    ("X-Visible", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    ("X-Tab", "a\tb"),
]


def _echoed(body: bytes, name: str) -> str | None:
    # httpbin runs on WSGI, whose environ keys turn "_" into "-": compare names that way.
    wanted = name.lower().replace("_", "-")
    headers = json.loads(body)["headers"]
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


@pytest.mark.parametrize(("name", "value"), REFUSED, ids=repr)
def test_urllib_face_refuses(httpbin: Any, name: str, value: str) -> None:
    req = netwire.request.Request(httpbin.url + "/headers")
    req.add_header(name, value)
    with pytest.raises(ValueError, match="Invalid header"):
        netwire.request.urlopen(req, timeout=10)


@pytest.mark.parametrize(("name", "value"), REFUSED, ids=repr)
def test_clients_refuse(httpbin: Any, face: Callable[..., Driver], name: str, value: str) -> None:
    client = face(trust_env=False)
    with pytest.raises(LocalProtocolError, match="invalid"):
        client.get(httpbin.url + "/headers", headers={name: value})


@pytest.mark.parametrize(("name", "value"), ACCEPTED, ids=repr)
def test_both_faces_send_what_the_grammar_allows(
    httpbin: Any, face: Callable[..., Driver], name: str, value: str
) -> None:
    req = netwire.request.Request(httpbin.url + "/headers")
    req.add_header(name, value)
    with netwire.request.urlopen(req, timeout=10) as r:
        assert _echoed(r.read(), name) == value
    response = face(trust_env=False).get(httpbin.url + "/headers", headers={name: value})
    assert response.status == 200
    assert _echoed(response.content, name) == value
