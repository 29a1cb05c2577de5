"""TLS: an expired, self-signed or wrong-host certificate, and a weak protocol version, are refused
by default (each a TLSError saying why, before any byte of the request is sent).

Certificates come from trustme CAs; the servers are real TLS servers on loopback. Each refusal
has a positive control showing the same server is reachable when the client is told to accept
it, so a refusal for an unrelated reason would fail the test.
"""

from __future__ import annotations

import datetime
import ssl
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

import netwire
import netwire.request as urlreq
from netwire.errors import TLSError
from netwire.http.connection import make_ssl_context
from tests.servers.tls import TLSServer, other_ca, session_ca

pytestmark = pytest.mark.timeout(20)

Start = Callable[[ssl.SSLContext], TLSServer]


def _server_ctx(cert: trustme.LeafCert) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    return ctx


def _ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _fetch(url: str, verify: object) -> bytes:
    with netwire.Client(timeout=5, verify=verify) as c:
        return c.get(url).content


def test_tls_defaults() -> None:
    ctx = make_ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_tls_expired_certificate_refused(tls_server: Start, tmp_path: Path) -> None:
    ca = session_ca()
    now = datetime.datetime.now(datetime.UTC)
    cert = ca.issue_cert("localhost", not_before=now - datetime.timedelta(days=30), not_after=now - datetime.timedelta(days=1))
    srv = tls_server(_server_ctx(cert))
    with pytest.raises(TLSError, match="expired"):
        _fetch(srv.url(), _ca_file(ca, tmp_path))
    with pytest.raises(netwire.URLError, match="expired"):
        urlreq.urlopen(srv.url(), timeout=5, context=ssl.create_default_context(cafile=_ca_file(ca, tmp_path)))
    assert _fetch(srv.url(), False) == b"ok"  # the server itself works


def test_tls_not_yet_valid_certificate_refused(tls_server: Start, tmp_path: Path) -> None:
    ca = session_ca()
    now = datetime.datetime.now(datetime.UTC)
    cert = ca.issue_cert("localhost", not_before=now + datetime.timedelta(days=1), not_after=now + datetime.timedelta(days=30))
    srv = tls_server(_server_ctx(cert))
    with pytest.raises(TLSError, match="not yet valid"):
        _fetch(srv.url(), _ca_file(ca, tmp_path))


def test_tls_self_signed_certificate_refused(tls_server: Start, tmp_path: Path) -> None:
    ca = session_ca()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # The CA's own (self-signed) certificate and key serve directly.
    ca.cert_pem.write_to_path(str(tmp_path / "self.pem"))
    ca.private_key_pem.write_to_path(str(tmp_path / "self.key"))
    ctx.load_cert_chain(str(tmp_path / "self.pem"), str(tmp_path / "self.key"))
    srv = tls_server(ctx)
    with pytest.raises(TLSError, match=r"self[- ]signed"):
        _fetch(srv.url(host="127.0.0.1"), True)
    assert _fetch(srv.url(host="127.0.0.1"), False) == b"ok"


def test_tls_untrusted_ca_refused(tls_server: Start, tmp_path: Path) -> None:
    ca, other = session_ca(), other_ca()
    srv = tls_server(_server_ctx(ca.issue_cert("localhost")))
    with pytest.raises(TLSError, match=r"local issuer|unable to get"):
        _fetch(srv.url(), _ca_file(other, tmp_path))
    with pytest.raises(TLSError):
        _fetch(srv.url(), True)  # the system store does not know a trustme CA
    assert _fetch(srv.url(), _ca_file(ca, tmp_path)) == b"ok"


@pytest.mark.parametrize("host", ["127.0.0.1"])
def test_tls_wrong_host_refused(tls_server: Start, tmp_path: Path, host: str) -> None:
    ca = session_ca()
    srv = tls_server(_server_ctx(ca.issue_cert("localhost")))
    with pytest.raises(TLSError, match=r"match|mismatch|hostname"):
        _fetch(srv.url(host=host), _ca_file(ca, tmp_path))
    with pytest.raises(netwire.URLError, match=r"match|mismatch|hostname"):
        urlreq.urlopen(srv.url(host=host), timeout=5, context=ssl.create_default_context(cafile=_ca_file(ca, tmp_path)))
    assert _fetch(srv.url(host="localhost"), _ca_file(ca, tmp_path)) == b"ok"


def _weak_server_ctx(ca: trustme.CA, version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version
        ctx.maximum_version = version
    # OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; level 0 lets this server speak them.
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def _permissive_client_ctx(ca_file: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_tls_weak_protocol_versions_refused(tls_server: Start, tmp_path: Path, version: str) -> None:
    ca = session_ca()
    srv = tls_server(_weak_server_ctx(ca, getattr(ssl.TLSVersion, version)))
    ca_file = _ca_file(ca, tmp_path)
    with pytest.raises(TLSError):
        _fetch(srv.url(), ca_file)
    # Control: a client that allows the old version gets through, so the refusal above was
    # netwire's minimum version and not an unusable server.
    assert _fetch(srv.url(), _permissive_client_ctx(ca_file)) == b"ok"
    assert srv.handshakes[-1] in ("TLSv1", "TLSv1.1")


def test_tls_1_2_and_1_3_accepted(tls_server: Start, tmp_path: Path) -> None:
    ca = session_ca()
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("localhost").configure_cert(ctx)
        ctx.minimum_version = ctx.maximum_version = version
        srv = tls_server(ctx)
        assert _fetch(srv.url(), _ca_file(ca, tmp_path)) == b"ok"
