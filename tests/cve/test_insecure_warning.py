"""Issue 14, "Also": turning TLS verification off warns (``InsecureRequestWarning``).

``Client(verify=False)`` and ``urlopen(context=unverified)`` were silent, where urllib3 and
requests warn. Now ``netwire.errors.InsecureRequestWarning`` (a ``UserWarning``) is emitted once
per client and host when certificates or host names are not checked; a verifying client never
warns. The server is a real TLS server on loopback with a trustme certificate.
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

import netwire.request as urlreq
from tests.cli.clitools import run_piped
from tests.servers.tls import TLSServer, session_ca

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def ca() -> trustme.CA:
    return session_ca()


@pytest.fixture
def server(ca: trustme.CA, tls_server: Callable[[ssl.SSLContext], TLSServer]) -> TLSServer:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    return tls_server(ctx)


@pytest.fixture
def caught() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning, from any thread (the async clients run on a loop thread)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield seen


def _insecure(seen: list[warnings.WarningMessage]) -> list[str]:
    from netwire.errors import InsecureRequestWarning

    return [str(w.message) for w in seen if issubclass(w.category, InsecureRequestWarning)]


def test_warning_class() -> None:
    import netwire
    from netwire.errors import InsecureRequestWarning

    assert issubclass(InsecureRequestWarning, UserWarning)
    assert not issubclass(InsecureRequestWarning, netwire.NetwireError)
    assert netwire.InsecureRequestWarning is InsecureRequestWarning


def test_verify_false_warns_once_per_host(
    face: Callable[..., Any], server: TLSServer, caught: list[warnings.WarningMessage]
) -> None:
    c = face(verify=False)
    for _ in range(3):
        assert c.get(server.url("/", host="localhost")).content == b"ok"
    assert len(_insecure(caught)) == 1
    assert "localhost" in _insecure(caught)[0] and "certificate verification" in _insecure(caught)[0]
    c.get(server.url("/", host="127.0.0.1"))
    assert len(_insecure(caught)) == 2 and "127.0.0.1" in _insecure(caught)[1]
    face(verify=False).get(server.url("/", host="localhost"))  # another client warns again
    assert len(_insecure(caught)) == 3


def test_hostname_check_off_warns(
    face: Callable[..., Any], server: TLSServer, ca: trustme.CA, caught: list[warnings.WarningMessage]
) -> None:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    ctx.check_hostname = False
    face(verify=ctx).get(server.url())
    (message,) = _insecure(caught)
    assert "hostname check" in message


def test_verifying_client_does_not_warn(
    face: Callable[..., Any], server: TLSServer, ca: trustme.CA, tmp_path: Path, caught: list[warnings.WarningMessage]
) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    assert face(verify=str(tmp_path / "ca.pem")).get(server.url()).content == b"ok"
    assert _insecure(caught) == []


def test_urlopen_with_unverified_context_warns(server: TLSServer, caught: list[warnings.WarningMessage]) -> None:
    ctx = ssl._create_unverified_context()
    with urlreq.urlopen(server.url(), context=ctx, timeout=5) as r:
        assert r.read() == b"ok"
    assert len(_insecure(caught)) == 1


def test_warning_can_be_silenced(face: Callable[..., Any], server: TLSServer) -> None:
    from netwire.errors import InsecureRequestWarning

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", InsecureRequestWarning)
        face(verify=False).get(server.url())
    assert _insecure(seen) == []


def test_cli_insecure_prints_its_own_warning_only(server: TLSServer) -> None:
    r = run_piped(["get", "-k", server.url()])
    assert r.rc == 0 and r.out == "ok"
    assert "WARNING: --insecure" in r.err and "InsecureRequestWarning" not in r.err


def test_warning_points_at_the_callers_line(server: TLSServer, caught: list[warnings.WarningMessage]) -> None:
    import netwire
    from netwire.errors import InsecureRequestWarning

    with netwire.Client(verify=False, timeout=5) as c:
        c.get(server.url())
    (w,) = [w for w in caught if issubclass(w.category, InsecureRequestWarning)]
    assert w.filename == __file__
