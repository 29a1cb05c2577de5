"""What keeps a bulk fetch cheap per URL and flat in memory: connections reused per host, the
done records of a resume held as bits, WARC records hashed and written from their parts."""

from __future__ import annotations

import gzip
import json
import os
import tracemalloc
import zlib
from pathlib import Path

from netwire.bulk.index import DoneSet, recover
from netwire.bulk.warc import (
    compressible,
    exchange_records,
    gzip_member,
    gzip_parts,
    new_record_id,
    request_record,
    response_record,
    sha1_base32,
)
from netwire.http.fetch import bulk
from tests.bulk.synthweb import HOSTS, PAGES, Web


def test_a_host_keeps_its_connections_when_hosts_outnumber_the_pool(web: Web, tmp_path: Path) -> None:
    # 6 hosts x 2 per host, but 4 requests in flight and so 4 pooled connections: handing a freed
    # slot to the next host in turn closed a warm connection to open another, nearly once per URL.
    urls = [web.url(h, f"/p/{i}.html") for i in range(PAGES) for h in HOSTS]
    log_start = len(web.requests())
    summary = bulk(urls, tmp_path / "out", concurrency=4, per_host=2)
    assert summary.ok == len(urls)
    lines = web.requests()[log_start:]
    connections = {(line.split()[0], line.split()[-1]) for line in lines}
    assert len(lines) == len(urls) + len(HOSTS)  # the pages and one robots.txt per host
    assert len(connections) <= 2 * len(HOSTS) + 2, f"{len(connections)} connections for {len(lines)} requests"


def test_resume_holds_done_records_as_bits(tmp_path: Path) -> None:
    n = 200_000
    with (tmp_path / "index-000.jsonl").open("w") as f:
        for i in range(n):
            f.write(json.dumps({"n": i, "url": f"http://h/{i}", "status": None, "error": "ConnectError"}) + "\n")
    tracemalloc.start()
    try:
        found = recover(str(tmp_path), 0)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(found.done) == n and 0 in found.done and n - 1 in found.done and n not in found.done
    assert held < 200_000, f"{held} bytes to remember {n} done records"  # a set of ints: ~10 MB


def test_done_set() -> None:
    done = DoneSet([5, 0, 17, 5])
    assert len(done) == 3 and list(done) == [0, 5, 17]
    assert 17 in done and 16 not in done and -1 not in done and 10**9 not in done and "5" not in done
    done.add(1_000_000)
    assert len(done) == 4 and done.nbytes <= 2 * (1_000_000 // 8 + 1)


def test_stored_members_from_parts_read_back_and_chain() -> None:
    body = os.urandom(200_000)  # over three stored blocks of at most 64 KiB
    for parts in ([b""], [b"head\r\n\r\n", body, b"\r\n\r\n"], [b"x" * 65535], [os.urandom(65534), b"yz"]):
        member = gzip_member(parts, compress=False)
        assert gzip.decompress(member) == b"".join(parts)
        d = zlib.decompressobj(31)
        assert d.decompress(member + member) == b"".join(parts) and d.eof and d.unused_data == member
    # stored: the body's bytes are written from where they are (slices of it), not copied first
    pieces = gzip_parts([b"h", body], compress=False)
    assert any(isinstance(p, memoryview) and p.obj is body for p in pieces)
    small = os.urandom(5000)  # one stored block: the part itself is written
    assert any(p is small for p in gzip_parts([b"h", small], compress=False))


def test_exchange_records_equal_the_general_builders() -> None:
    # The crawl's fast path must write what request_record and response_record write.
    req_head = b"GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n"
    resp_head = b"HTTP/1.1 200 OK\r\nContent-Length: 6000\r\n\r\n"
    body = os.urandom(6000)
    date = "2026-01-01T00:00:00.000000Z"
    for ip, truncated in ((None, None), ("127.0.0.7", "length")):
        req, resp = exchange_records("http://h/a?b\n", req_head, resp_head, body, date=date, ip=ip,
                                     truncated=truncated, compress=False)
        want_req = request_record("http://h/a?b\n", req_head, date=date, concurrent_to=resp.record_id, ip=ip,
                                  record_id=req.record_id)
        want_resp = response_record("http://h/a?b\n", (resp_head, body), len(resp_head), date=date,
                                    concurrent_to=req.record_id, ip=ip, truncated=truncated,
                                    record_id=resp.record_id, compress=False)
        assert req.data == want_req.data and resp.data == want_resp.data
        assert (req.compress, resp.compress) == (True, False)
        assert resp.parts[2] is body  # hashed and written from where it lies


def test_response_record_digests_from_parts() -> None:
    head, body = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", b"hello"
    record = response_record("http://a/", (head, body), len(head), date="2026-01-01T00:00:00.000000Z",
                             concurrent_to=new_record_id(), ip=None)
    data = record.data
    warc_head, _, rest = data.partition(b"\r\n\r\n")
    assert rest == head + body + b"\r\n\r\n"
    assert f"WARC-Block-Digest: {sha1_base32(head + body)}".encode() in warc_head
    assert f"WARC-Payload-Digest: {sha1_base32(body)}".encode() in warc_head
    assert b"Content-Length: %d" % len(head + body) in warc_head


def test_compressible_guess() -> None:
    text = b"<p>words and more words</p>\n" * 200
    noise = os.urandom(20_000)
    assert compressible(text) and not compressible(noise)
    assert not compressible(text, content_encoding="gzip") and compressible(text, content_encoding="identity")
    assert not compressible(text, content_type="image/png") and compressible(text, content_type="text/html")
    assert compressible(b"short")


def _server_head(url: str) -> bytes:
    """The response head exactly as the server sends it (read off a plain socket)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())  # kept alive, as netwire's
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            assert more, data
            data += more
    return data.split(b"\r\n\r\n", 1)[0]


def test_response_head_is_stored_as_the_server_sent_it(web: Web, tmp_path: Path) -> None:
    # A plain Content-Length response's head goes into the WARC block as it came (fields in the
    # server's order, Content-Length in its place), not split and re-joined field by field.
    from warcio.archiveiterator import ArchiveIterator

    url = web.url(HOSTS[3], "/p/1.html")
    bulk([url], tmp_path / "out", retries=0)
    [warc] = sorted((tmp_path / "out").glob("*.warc.gz"))
    with warc.open("rb") as f:
        blocks = [rec.raw_stream.read() for rec in ArchiveIterator(f, no_record_parse=True)
                  if rec.rec_type == "response"]
    [block] = blocks
    stored = block.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    sent = _server_head(url).split(b"\r\n")
    assert stored[0] == sent[0]
    names = [line.split(b":", 1)[0] for line in stored[1:]]
    assert names == [line.split(b":", 1)[0] for line in sent[1:]]  # Content-Length in the server's place
    not_dated = [line for line in stored[1:] if not line.startswith(b"Date:")]
    assert not_dated == [line for line in sent[1:] if not line.startswith(b"Date:")]


def test_index_lines_are_the_json_encoders() -> None:
    from netwire.bulk.index import _ENCODE, encode_entry

    entries: list[dict[str, object]] = [
        {"n": 0, "url": "http://h/a", "final_url": "http://h/a", "status": 200, "content_type": "text/html",
         "length": 12, "sha256": "ab" * 32, "elapsed": 0.0123, "attempts": 1, "error": None,
         "warc": "netwire-000-00000.warc.gz", "offset": 10**12, "record_length": 5},
        {"n": 7, "url": 'http://h/"q"\\\u00e9\u2028\x01\ud800', "final_url": None, "status": None,
         "elapsed": 1e-05, "attempts": 0, "error": "InvalidURL", "message": "tab\there\nnewline",
         "truncated": True, "redirects": 2},
        {"n": 1, "elapsed": 12345678.5, "big": -(2**80), "flag": False},
        {"n": 2, "odd": float("nan")}, {"n": 3, "inf": float("inf")}, {"n": 4, "nested": [1, {"a": None}]},
    ]
    for entry in entries:
        assert encode_entry(entry) == _ENCODE(entry)


def test_a_body_fetched_again_is_not_looked_up_on_disk(web: Web, tmp_path: Path, monkeypatch: object) -> None:
    # --format files names bodies by their SHA-256: the same body fetched again (error pages,
    # mirrors, a page under several URLs) was stat()ed on disk for every URL.
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    looked: list[str] = []
    real = os.path.exists

    def exists(path: object) -> bool:
        if "/files/" in str(path):
            looked.append(str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os.path, "exists", exists)
    urls = [web.url(HOSTS[4], f"/p/2.html?{i}") for i in range(12)]
    summary = bulk(urls, tmp_path / "out", output_format="files")
    assert summary.ok == 12
    index = [json.loads(line) for line in (tmp_path / "out" / "index-000.jsonl").read_text().splitlines()]
    assert len({e["file"] for e in index}) == 1
    assert len(looked) == 1, looked


def _resident(path: Path) -> int:
    """Bytes of ``path`` in the page cache (util-linux's fincore, which asks mincore(2))."""
    import shutil
    import subprocess

    import pytest

    if shutil.which("fincore") is None or not hasattr(os, "posix_fadvise"):
        pytest.skip("needs fincore and posix_fadvise")
    with open("/proc/mounts") as f:
        mounts = sorted((line.split()[1], line.split()[2]) for line in f)
    fs = [kind for point, kind in mounts if str(path).startswith(point)][-1]
    if fs in ("tmpfs", "ramfs"):
        pytest.skip(f"{path} is on {fs}: its pages are the file itself")
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def test_output_on_disk_leaves_the_page_cache(web: Web, tmp_path: Path) -> None:
    # A crawl writes far more than it reads back: WARC bytes and body files that a checkpoint
    # has fsynced are dropped from the page cache (new pages for the next writes come from those
    # freed, and other programs keep their cache). The old engine left every written byte there.
    urls = [web.url(HOSTS[5], f"/big.bin?{i}") for i in range(12)]  # 300 KB each, stored
    bulk(urls, tmp_path / "warc", retries=0)
    [warc] = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert warc.stat().st_size > 12 * 300 * 1024
    assert _resident(warc) <= 64 * 1024, f"{_resident(warc)} of {warc.stat().st_size} bytes still cached"
    bulk(urls[:1], tmp_path / "files", output_format="files")
    [body] = [p for p in (tmp_path / "files" / "files").rglob("*") if p.is_file()]
    assert body.stat().st_size == 300 * 1024 and _resident(body) == 0
