"""The WARC output of ``netwire.fetch.bulk``, read back by warcio (an independent reader) and
checked by ``warcio check`` (digests)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from netwire.bulk.warc import gzip_member, response_block, sha1_base32
from netwire.http.fetch import bulk
from tests.bulk.synthweb import BIG, HOSTS, Web, page_body

WARCIO = [sys.executable, "-c", "import sys; from warcio.cli import main; sys.exit(main())"]


def index_of(out: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for path in sorted(out.glob("index-*.jsonl")):
        entries += [json.loads(line) for line in path.read_text().splitlines()]
    return sorted(entries, key=lambda e: e["n"])


def records_of(out: Path) -> list[Any]:
    found = []
    for path in sorted(out.glob("*.warc.gz")):
        with path.open("rb") as f:
            for rec in ArchiveIterator(f):
                found.append((path.name, rec.rec_headers, rec.http_headers, rec.content_stream().read(),
                              rec.rec_type))
    return found


def warcio_check(out: Path) -> None:
    files = sorted(map(str, out.glob("*.warc.gz")))
    assert files
    r = subprocess.run([*WARCIO, "check", "-v", *files], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "digest pass" in r.stdout and "fail" not in r.stdout


def test_records_read_back_with_warcio(web: Web, tmp_path: Path) -> None:
    host = HOSTS[0]
    pages = [web.url(h, f"/p/{i}.html") for h in HOSTS[:2] for i in range(4)]
    urls = [*pages, web.url(host, "/redirect"), web.url(host, "/missing"), web.url(host, "/private/secret.html"),
            web.url(host, "/chunked/a.txt")]
    out = tmp_path / "out"
    bulk(urls, out, retries=0)
    warcio_check(out)
    index = index_of(out)
    assert [e["n"] for e in index] == list(range(len(urls)))
    records = records_of(out)
    assert records[0][4] == "warcinfo"
    by_id = {r[1].get_header("WARC-Record-ID"): r for r in records}
    responses = [r for r in records if r[4] == "response"]
    for _, headers, _http, payload, _ in responses:
        uri = headers.get_header("WARC-Target-URI")
        # request and response name each other
        request = by_id[headers.get_header("WARC-Concurrent-To")]
        assert request[4] == "request" and request[1].get_header("WARC-Target-URI") == uri
        assert request[1].get_header("WARC-Concurrent-To") == headers.get_header("WARC-Record-ID")
        assert headers.get_header("WARC-IP-Address") == uri.split("//")[1].split(":")[0]
        assert headers.get_header("WARC-Date").endswith("Z")
        assert headers.get_header("WARC-Payload-Digest") == sha1_base32(payload)
        assert headers.get_header("WARC-Block-Digest").startswith("sha1:")
        if "/p/" in uri:
            h, i = uri.split("//")[1].split(":")[0], int(uri.rsplit("/", 1)[1].split(".")[0])
            assert payload == page_body(h, i)
    # the index matches the records, and each line's span holds exactly its gzip members
    for e in index:
        if e.get("warc"):
            data = (out / e["warc"]).read_bytes()[e["offset"]: e["offset"] + e["record_length"]]
            kinds = [rec.rec_type for rec in ArchiveIterator(io.BytesIO(data))]
            assert kinds and kinds[0] in ("request", "metadata"), kinds
    page = index[0]
    assert page["status"] == 200 and page["length"] == len(page_body(HOSTS[0], 0))
    assert page["sha256"] == hashlib.sha256(page_body(HOSTS[0], 0)).hexdigest()
    assert page["content_type"] == "text/html" and page["attempts"] == 1 and page["error"] is None
    redirect, missing, private, chunked = index[8:12]
    assert redirect["final_url"] == web.url(host, "/p/0.html") and redirect["redirects"] == 1
    assert redirect["status"] == 200
    uris = [r[1].get_header("WARC-Target-URI") for r in responses]
    assert web.url(host, "/redirect") in uris  # the 301 hop has its own records
    assert missing["status"] == 404 and missing["error"] is None
    assert private["error"] == "RobotsDisallowed" and private["status"] is None
    meta = [r for r in records if r[4] == "metadata"]
    assert len(meta) == 1 and meta[0][1].get_header("WARC-Target-URI") == web.url(host, "/private/secret.html")
    assert b"error-class: RobotsDisallowed" in meta[0][3]
    assert "/private/" not in "\n".join(web.requests())  # robots.txt obeyed: never requested
    # chunked on the wire: stored de-chunked, with the framing renamed and the length stated
    cresp = next(r for r in responses if r[1].get_header("WARC-Target-URI").endswith("/chunked/a.txt"))
    assert cresp[2].get_header("X-Crawler-Transfer-Encoding") == "chunked"
    assert cresp[2].get_header("Transfer-Encoding") is None
    assert cresp[3] == b"bbnbnb " * 500 and chunked["length"] == len(b"bbnbnb " * 500)
    assert cresp[2].get_header("Content-Length") == str(len(cresp[3]))


def test_files_rotate_by_size_each_with_warcinfo(web: Web, tmp_path: Path) -> None:
    urls = [web.url(h, f"/p/{i}.html") for h in HOSTS[:2] for i in range(8)]
    out = tmp_path / "out"
    bulk(urls, out, warc_max_size=3_000)
    files = sorted(out.glob("*.warc.gz"))
    assert len(files) >= 3
    for path in files:
        with path.open("rb") as f:
            first = next(iter(ArchiveIterator(f)))
            assert first.rec_type == "warcinfo" and first.rec_headers.get_header("WARC-Filename") == path.name
    for path in files[:-1]:
        assert path.stat().st_size >= 3_000
    warcio_check(out)
    assert len([r for r in records_of(out) if r[4] == "response"]) == 16


def test_body_over_the_limit_is_truncated_and_marked(web: Web, tmp_path: Path) -> None:
    out = tmp_path / "out"
    bulk([web.url(HOSTS[1], "/big.bin")], out, max_body_size=100_000)
    (entry,) = index_of(out)
    assert entry["truncated"] is True and entry["length"] == 100_000 and entry["status"] == 200
    (resp,) = [r for r in records_of(out) if r[4] == "response"]
    assert resp[1].get_header("WARC-Truncated") == "length"
    assert resp[3] == (bytes(range(256)) * (BIG // 256))[:100_000]
    assert resp[2].get_header("X-Crawler-Content-Length") == str(BIG)
    warcio_check(out)


def test_each_record_is_its_own_gzip_member() -> None:
    member = gzip_member(b"WARC/1.1\r\n")
    assert gzip.decompress(member) == b"WARC/1.1\r\n"
    d = zlib.decompressobj(31)
    assert d.decompress(member + member) == b"WARC/1.1\r\n" and d.eof  # one member ends where it should


@pytest.mark.parametrize("version", ["1.1", "HTTP/1.1"])
def test_response_block_status_line(version: str) -> None:
    block, at = response_block(200, "OK", version, [("Content-Length", "2")], b"hi")
    assert block.startswith(b"HTTP/1.1 200 OK\r\n") and block[at:] == b"hi"


def test_format_files_writes_bodies_named_by_sha256(web: Web, tmp_path: Path) -> None:
    urls = [web.url(HOSTS[2], f"/p/{i}.html") for i in range(3)] + [web.url(HOSTS[2], "/missing")]
    out = tmp_path / "out"
    bulk(urls, out, output_format="files")
    assert not list(out.glob("*.warc.gz"))
    index = index_of(out)
    for i, entry in enumerate(index[:3]):
        body = (out / entry["file"]).read_bytes()
        assert body == page_body(HOSTS[2], i) and entry["file"].endswith(hashlib.sha256(body).hexdigest())
    assert index[3]["status"] == 404 and "file" not in index[3]


def test_body_files_are_fsynced_before_the_index_names_them(tmp_path: Path) -> None:
    from netwire.bulk.index import ShardIndex

    index = ShardIndex(str(tmp_path), 0, None, interval=3600)
    body = tmp_path / "body"
    body.write_bytes(b"x")
    synced: list[str] = []
    real = os.fsync

    def watch(fd: int) -> None:  # which files got fsynced, in what order
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    os.fsync = watch  # type: ignore[assignment]
    try:
        index.unsynced_files.append(str(body))
        index.add({"n": 0, "file": "body"})
        assert synced == [] and (tmp_path / "index-000.jsonl").read_bytes() == b""  # buffered
        index.checkpoint()
    finally:
        os.fsync = real
    assert synced == [str(body), str(tmp_path / "index-000.jsonl")]
    index.close()


def test_incompressible_records_are_stored_compressible_ones_compressed() -> None:
    import os

    noise = b"WARC/1.1\r\n\r\n" + os.urandom(100_000)
    text = b"WARC/1.1\r\n\r\n" + b"<p>the same words again</p>\n" * 4000
    stored, packed = gzip_member(noise), gzip_member(text)
    assert gzip.decompress(stored) == noise and gzip.decompress(packed) == text
    assert len(stored) < len(noise) + 100  # stored as is, not inflated
    assert len(packed) < len(text) // 20


def test_gzip_level_option(web: Web, tmp_path: Path) -> None:
    # 0 stores every record (the pages appear verbatim in the file), 9 packs tighter than the
    # default 1; every level reads back and passes warcio check.
    urls = [web.url(HOSTS[3], f"/p/{i}.html") for i in range(8)]
    sizes = {}
    for level in (0, 1, 9):
        out = tmp_path / f"level{level}"
        bulk(urls, out, gzip_level=level)
        warcio_check(out)
        data = b"".join(p.read_bytes() for p in sorted(out.glob("*.warc.gz")))
        sizes[level] = len(data)
        assert (page_body(HOSTS[3], 3) in data) == (level == 0)
        got = sorted(r[3] for r in records_of(out) if r[4] == "response")
        assert got == sorted(page_body(HOSTS[3], i) for i in range(8))
    assert sizes[9] < sizes[1] < sizes[0]
    with pytest.raises(ValueError, match="gzip_level"):
        bulk(urls, tmp_path / "bad", gzip_level=10)


def test_cli_gzip_level(web: Web, tmp_path: Path) -> None:
    from netwire.cli.main import main

    out = tmp_path / "out"
    urls = tmp_path / "urls.txt"
    urls.write_text(web.url(HOSTS[3], "/p/3.html") + "\n")
    assert main(["fetch", str(urls), "-o", str(out), "-q", "-w", "1", "--gzip-level", "0"]) == 0
    assert page_body(HOSTS[3], 3) in b"".join(p.read_bytes() for p in out.glob("*.warc.gz"))
