"""Endless interim responses (CVE-2021-3737) and oversized or endless header sections.

http.client read ``100 Continue`` responses in a loop with no bound, so a server could keep a
client busy forever; it also had no bound on one header line. netwire's parser counts interim
responses (``ParserLimits.max_informational``) and bounds line length, field count and section
size; each limit gives a ProtocolError naming it, promptly, with the connection discarded.
"""

from __future__ import annotations

import time

import pytest

import netwire
import netwire.request as urlreq
from netwire.errors import ProtocolError
from netwire.http.http11 import DEFAULT_LIMITS, ParserLimits, ResponseParser
from tests.servers.faults import ReadRequest, Send, Serve, Start, Trickle, WaitForClose, response

pytestmark = pytest.mark.timeout(20)

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def test_cve_2021_3737_parser_bounds_interim_responses() -> None:
    parser = ResponseParser("GET")
    fed = 0
    with pytest.raises(ProtocolError, match="max_informational"):
        for _ in range(10_000):
            parser.feed(CONTINUE)
            fed += 1
    assert fed <= DEFAULT_LIMITS.max_informational


def test_cve_2021_3737_within_the_bound_is_fine() -> None:
    parser = ResponseParser("GET")
    events = parser.feed(CONTINUE * DEFAULT_LIMITS.max_informational + response(b"ok"))
    assert [type(e).__name__ for e in events][-3:] == ["ResponseHead", "Data", "EndOfMessage"]


@pytest.mark.parametrize("status", [b"100 Continue", b"102 Processing", b"103 Early Hints"])
def test_cve_2021_3737_endless_interim_responses_client(fault_server: Start, status: bytes) -> None:
    # Far more than any bound, sent as fast as the socket takes them.
    srv = fault_server([ReadRequest(), Send((b"HTTP/1.1 " + status + b"\r\n\r\n") * 100_000), WaitForClose()])
    with netwire.Client(timeout=5) as c:
        started = time.monotonic()
        with pytest.raises(ProtocolError, match="max_informational"):
            c.get(srv.url("/"))
        assert time.monotonic() - started < 2.0
        assert c.pool.open_count() == 0


def test_cve_2021_3737_endless_100_continue_while_uploading(fault_server: Start) -> None:
    srv = fault_server([ReadRequest(send_continue=False, read_body=False), Send(CONTINUE * 100_000), WaitForClose()])
    with netwire.Client(timeout=5) as c:
        with pytest.raises(ProtocolError, match="max_informational"):
            c.post(srv.url("/"), content=iter([b"x" * 1000]), headers={"Expect": "100-continue"})
        assert c.pool.open_count() == 0


def test_cve_2021_3737_urllib_face(fault_server: Start) -> None:
    srv = fault_server([ReadRequest(), Send(CONTINUE * 100_000), WaitForClose()])
    started = time.monotonic()
    with pytest.raises(netwire.URLError):
        urlreq.urlopen(srv.url("/"), timeout=5)
    assert time.monotonic() - started < 2.0


def test_cve_2021_3737_trickled_interim_responses_hit_the_total_deadline_or_the_bound(fault_server: Start) -> None:
    srv = fault_server([ReadRequest(), Trickle(CONTINUE * 1000, interval=0.01, size=len(CONTINUE)), WaitForClose()])
    with netwire.Client(timeout=netwire.Timeout(5, total=3)) as c:
        started = time.monotonic()
        with pytest.raises(ProtocolError, match="max_informational"):
            c.get(srv.url("/"))
        assert time.monotonic() - started < 1.5


# -- oversized and endless header sections -------------------------------------------------------------

OVERSIZED = [
    pytest.param(b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * (DEFAULT_LIMITS.max_line_length + 1) + b"\r\n\r\n",
                 "max_line_length", id="one-long-line"),
    pytest.param(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(DEFAULT_LIMITS.max_header_count + 1))
                 + b"\r\n", "max_header_count", id="too-many-fields"),
    pytest.param(b"HTTP/1.1 200 OK\r\n" + (b"X-F: " + b"f" * 8000 + b"\r\n") * 40 + b"\r\n",
                 "max_header_bytes", id="big-section"),
    pytest.param(b"HTTP/1.1 200 " + b"r" * (DEFAULT_LIMITS.max_line_length + 1) + b"\r\n\r\n",
                 "max_line_length", id="long-status-line"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + (b"T: " + b"t" * 8000 + b"\r\n") * 40
                 + b"\r\n", "max_header_bytes", id="big-trailer-section"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + b"e" * 5000 + b"\r\nx\r\n0\r\n\r\n",
                 "max_chunk_line_length", id="long-chunk-extension"),
]


@pytest.mark.parametrize(("wire", "needle"), OVERSIZED)
def test_oversized_header_sections_parser(wire: bytes, needle: str) -> None:
    for pieces in ([wire], [wire[i : i + 977] for i in range(0, len(wire), 977)]):
        parser = ResponseParser("GET")
        with pytest.raises(ProtocolError, match=needle):
            for piece in pieces:
                parser.feed(piece)


@pytest.mark.parametrize(("wire", "needle"), OVERSIZED)
def test_oversized_header_sections_client(fault_server: Start, wire: bytes, needle: str) -> None:
    srv = fault_server([ReadRequest(), Send(wire), WaitForClose()])
    with netwire.Client(timeout=5) as c:
        with pytest.raises(ProtocolError, match=needle):
            c.get(srv.url("/"))
        assert c.pool.open_count() == 0


@pytest.mark.parametrize(
    "endless",
    [
        b"HTTP/1.1 200 OK\r\n" + b"X-Endless: v\r\n" * 300_000,  # fields that never end
        b"HTTP/1.1 200 OK\r\nX-Endless: " + b"v" * 4_000_000,  # one line that never ends
        b"HTTP/1.1 200 OK\r\n" + b" folded\r\n" * 300_000,  # continuation lines forever
    ],
    ids=["fields", "one-line", "obs-fold"],
)
def test_endless_header_section_is_cut_at_the_limit(fault_server: Start, endless: bytes) -> None:
    srv = fault_server([ReadRequest(), Send(endless), WaitForClose()])
    with netwire.Client(timeout=5) as c:
        started = time.monotonic()
        with pytest.raises(ProtocolError, match=r"max_header_bytes|max_line_length|max_header_count|continuation"):
            c.get(srv.url("/"))
        assert time.monotonic() - started < 2.0
        assert c.pool.open_count() == 0


def test_limits_are_configurable(fault_server: Start) -> None:
    wire = b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 1000 + b"\r\nContent-Length: 2\r\n\r\nok"
    srv = fault_server(Serve(wire))
    with netwire.Client(timeout=5, parser_limits=ParserLimits(max_line_length=100)) as c, pytest.raises(ProtocolError):
        c.get(srv.url("/"))
    with netwire.Client(timeout=5) as c:
        assert c.get(srv.url("/")).content == b"ok"
