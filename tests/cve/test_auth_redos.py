"""ReDoS in authentication headers (CVE-2020-8492, CVE-2021-3733): a hostile 100 KB
``WWW-Authenticate`` costs linear time.

urllib's AbstractBasicAuthHandler matched challenges with a backtracking regex, so a server
could stall a client for hours with a few kilobytes of commas. netwire parses challenges with a
single left-to-right scanner. The tests time the scanner on 50 KB and 100 KB of each hostile
shape (a quadratic cost would take seconds, not milliseconds, and would grow fourfold, not
twofold), then send the same bytes from a loopback server to the Client (Basic and Digest)
and to the urllib face's handlers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import pytest

import netwire
import netwire.request as urlreq
from netwire.http.http11 import ParserLimits
from netwire.http.policy.auth import parse_www_authenticate
from tests.servers.faults import Serve, Start, response
from tests.timing import best_cpu_times

pytestmark = pytest.mark.timeout(30)

# Each builds a header of about n characters in a shape that made urllib's regexes backtrack.
HOSTILE: dict[str, Callable[[int], str]] = {
    "commas (CVE-2020-8492)": lambda n: "Basic " + "," * n + "A",
    "comma-space (CVE-2021-3733)": lambda n: "Basic " + ", " * (n // 2) + "realm",
    "tabs": lambda n: "Basic" + "\t" * n + "x",
    "spaces-no-realm": lambda n: "Basic " + " " * n + "realm=",
    "equals": lambda n: "Digest " + "a=" * (n // 2),
    "open-quote": lambda n: 'Digest realm="' + "\\\"" * (n // 2),
    "quotes": lambda n: "Digest realm=" + '"' * n,
    "many-challenges": lambda n: "Basic realm=x, " * (n // 15),
    "token68-ish": lambda n: "Negotiate " + "a" * n + "=" * 5 + "b",
    "params": lambda n: "Digest " + "k=v, " * (n // 5),
}


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_cve_2020_8492_cve_2021_3733_scanner_is_linear(shape: str) -> None:
    make = HOSTILE[shape]
    small, big, bigger = make(25_000), make(100_000), make(200_000)
    assert len(big) >= 99_000
    # CPU time of this thread, interleaved best of five, collector paused (tests/timing.py).
    t_small, t_big, t_bigger = best_cpu_times(*(partial(parse_www_authenticate, h) for h in (small, big, bigger)))
    # Absolute: the regex urllib had needs minutes here; a linear scan needs milliseconds.
    assert t_big < 1.0, f"{shape}: {t_big:.3f} s for 100 KB"
    # Growth: 8 times the input costs about 8 times the time; quadratic would be 64 times.
    # The floor keeps timer noise on sub-millisecond runs from deciding.
    assert t_bigger < 20 * max(t_small, 0.005), f"{shape}: {t_small:.4f} s -> {t_bigger:.4f} s"


def _serve_401(fault_server: Start, headers: list[tuple[str, str]]) -> str:
    srv = fault_server(Serve(response(b"no", status=401, reason="Unauthorized", headers=headers)))
    return srv.url("/protected")


BIG_LIMITS = ParserLimits(max_line_length=256 * 1024, max_header_bytes=512 * 1024)


@pytest.mark.parametrize("shape", sorted(HOSTILE))
@pytest.mark.parametrize("auth", ["basic", "digest"])
def test_cve_2020_8492_cve_2021_3733_client_answers_promptly(fault_server: Start, shape: str, auth: str) -> None:
    url = _serve_401(fault_server, [("WWW-Authenticate", HOSTILE[shape](100_000))])
    creds = netwire.BasicAuth("u", "p") if auth == "basic" else netwire.DigestAuth("u", "p")
    with netwire.Client(timeout=5, parser_limits=BIG_LIMITS, auth=creds) as c:
        # The client's own CPU time (it runs on this thread; the server has its own): a loaded
        # machine stretches wall time, not this. A hang would hit the 5 s timeout instead.
        started = time.thread_time()
        r = c.get(url)
        assert time.thread_time() - started < 2.0
    assert r.status == 401


def test_cve_2020_8492_default_limits_refuse_a_100_kb_field(fault_server: Start) -> None:
    url = _serve_401(fault_server, [("WWW-Authenticate", HOSTILE["commas (CVE-2020-8492)"](100_000))])
    with netwire.Client(timeout=5, auth=netwire.DigestAuth("u", "p")) as c, pytest.raises(
        netwire.ProtocolError, match="max_line_length"
    ):
        c.get(url)


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_cve_2020_8492_cve_2021_3733_urllib_handlers_answer_promptly(fault_server: Start, shape: str) -> None:
    # 100 KB in eight fields of 12.5 KB: under the default line limit, so the handlers see it all.
    value = HOSTILE[shape](12_500)
    url = _serve_401(fault_server, [("WWW-Authenticate", value)] * 8)
    mgr = urlreq.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, url, "u", "p")
    for handler in (urlreq.HTTPBasicAuthHandler(mgr), urlreq.HTTPDigestAuthHandler(mgr)):
        opener = urlreq.build_opener(handler)
        started = time.thread_time()  # CPU time of this thread, as above
        with pytest.raises((netwire.error.HTTPError, ValueError)):
            opener.open(url, timeout=5)
        assert time.thread_time() - started < 2.0, f"{type(handler).__name__} on {shape}"


def test_control_positive_a_real_digest_challenge_is_answered(fault_server: Start) -> None:
    # The hostile headers above reach the same code: here a well-formed challenge is answered.
    challenge = 'Digest realm="r", nonce="abc", qop="auth", algorithm=SHA-256'
    srv = fault_server([[Serve(response(b"no", status=401, reason="Unauthorized",
                                        headers=[("WWW-Authenticate", challenge)]), times=1),
                         Serve(response(b"yes"))]])
    with netwire.Client(timeout=5, auth=netwire.DigestAuth("u", "p")) as c:
        r = c.get(srv.url("/"))
    assert (r.status, r.content) == (200, b"yes")
    answer = srv.requests[1].header("authorization") or ""
    assert answer.startswith("Digest ") and 'username="u"' in answer and 'nonce="abc"' in answer
    ch = parse_www_authenticate('Digest realm="r", nonce="n", qop="auth", Basic realm="b"')
    assert [c.scheme.lower() for c in ch] == ["digest", "basic"] and ch[0].params["nonce"] == "n"
