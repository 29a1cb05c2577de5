"""HTTPS against our own TLS server on loopback, its certificate from a trustme CA."""

from __future__ import annotations

import ssl
import time

import pytest

import netwire
from netwire.errors import ConnectError, TLSError
from tests.servers.ports import open_fds
from tests.servers.tls import MutualTLSServer, TLSServer

pytestmark = pytest.mark.timeout(30)


def test_right_ca_succeeds(tls_server: TLSServer) -> None:
    with netwire.Client(verify=str(tls_server.ca_pem), timeout=5) as c:
        r = c.get(tls_server.url("/right-ca"))
        assert r.status == 200 and r.content == b"secret over TLS\n"
        # Keep-alive works over TLS too.
        assert c.get(tls_server.url("/again")).status == 200
        assert c.pool.connections_opened == 1
    assert "/right-ca" in tls_server.requests


def test_wrong_ca_is_a_tls_error(tls_server: TLSServer) -> None:
    with netwire.Client(verify=str(tls_server.other_ca_pem), timeout=5) as c:
        with pytest.raises(TLSError) as info:
            c.get(tls_server.url("/wrong-ca"))
        assert c.pool.open_count() == 0
    err = info.value
    assert isinstance(err, ConnectError)
    assert "localhost" in str(err) and str(tls_server.port) in str(err)
    assert isinstance(err.reason, ssl.SSLCertVerificationError)
    assert "/wrong-ca" not in tls_server.requests


def test_system_cas_do_not_trust_a_private_ca(tls_server: TLSServer) -> None:
    with netwire.Client(timeout=5) as c, pytest.raises(TLSError):
        c.get(tls_server.url("/system-ca"))


def test_hostname_mismatch_is_a_tls_error(tls_server: TLSServer) -> None:
    # The certificate names "localhost" only; 127.0.0.1 is not in it.
    with netwire.Client(verify=str(tls_server.ca_pem), timeout=5) as c:
        with pytest.raises(TLSError) as info:
            c.get(tls_server.url("/mismatch", host="127.0.0.1"))
        assert c.pool.open_count() == 0
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)
    assert "mismatch" in str(info.value).lower() or "match" in str(info.value).lower()


def test_verify_with_an_ssl_context(tls_server: TLSServer) -> None:
    ctx = ssl.create_default_context(cafile=str(tls_server.ca_pem))
    with netwire.Client(verify=ctx, timeout=5) as c:
        assert c.get(tls_server.url("/context")).status == 200


def test_verify_false_skips_verification(tls_server: TLSServer) -> None:
    with netwire.Client(verify=False, timeout=5) as c:
        assert c.get(tls_server.url("/unverified", host="127.0.0.1")).status == 200


def test_failed_handshakes_leak_no_descriptors(tls_server: TLSServer) -> None:
    with netwire.Client(verify=str(tls_server.other_ca_pem), timeout=5) as c:
        with pytest.raises(TLSError):
            c.get(tls_server.url("/warm-up"))
        before = open_fds()
        for _ in range(20):
            with pytest.raises(TLSError):
                c.get(tls_server.url("/leak"))
        # The TLS server lives in this process too and closes its side in its own threads:
        # give it a moment. A leak on our side stays, and shows as 20 more.
        deadline = time.monotonic() + 3
        while open_fds() > before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert open_fds() <= before


def test_plain_http_to_a_tls_port_fails_cleanly(tls_server: TLSServer) -> None:
    # The TLS server answers plain HTTP with a TLS alert or a close: an error, never a hang.
    with netwire.Client(timeout=3) as c, pytest.raises(netwire.TransportError):
        c.get(f"http://127.0.0.1:{tls_server.port}/plain")


def test_client_certificate_accepted(mtls_server: MutualTLSServer) -> None:
    with netwire.Client(verify=str(mtls_server.ca_pem), cert=str(mtls_server.client_pem), timeout=5) as c:
        assert c.get(mtls_server.url("/mtls")).content == b"secret over TLS\n"


@pytest.mark.parametrize("which", ["none", "stranger"])
def test_client_certificate_missing_or_untrusted_fails_cleanly(
    mtls_server: MutualTLSServer, which: str
) -> None:
    cert = None if which == "none" else str(mtls_server.stranger_pem)
    with netwire.Client(verify=str(mtls_server.ca_pem), cert=cert, timeout=5) as c:
        # With TLS 1.3 the server's refusal arrives after the client's handshake is done, so
        # it may surface while sending or reading: a transport error either way, never a hang.
        with pytest.raises(netwire.TransportError):
            c.get(mtls_server.url("/refused"))
        assert c.pool.open_count() == 0
