"""Output to an fsspec URL: shards written in a local staging folder and sent to the store
(fsspec's ``memory://`` and ``file://`` stand in for ``s3://``)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from netwire.bulk import BulkError
from netwire.bulk.remote import is_url, staging_dir
from netwire.http.fetch import bulk
from tests.bulk.synthweb import HOSTS, PAGES, Web, page_body

fsspec = pytest.importorskip("fsspec")


def urls_of(web: Web) -> list[str]:
    return [web.url(h, f"/p/{i}.html") for i in range(PAGES) for h in HOSTS[:3]] + [web.url(HOSTS[0], "/missing")]


def read(url: str) -> bytes:
    with fsspec.open(url, "rb") as f:
        data: bytes = f.read()
    return data


def index(url: str) -> list[dict[str, Any]]:
    fs, root = fsspec.core.url_to_fs(url)
    entries = []
    for path in sorted(fs.glob(f"{root}/index-*.jsonl")):
        entries += [json.loads(line) for line in fs.cat_file(path).splitlines()]
    return sorted(entries, key=lambda e: e["n"])


def test_output_url_receives_warc_index_and_summary(web: Web, tmp_path: Path) -> None:
    url = "memory://crawl-a"
    urls = urls_of(web)
    summary = bulk(urls, url, staging_dir=str(tmp_path / "stage"))
    assert summary.total == len(urls) and summary.ok == len(urls) - 1
    fs, root = fsspec.core.url_to_fs(url)
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.ls(root, detail=False))
    assert names == ["index-000.jsonl", "netwire-000-00000.warc.gz", "netwire-fetch.json", "summary.json"]
    assert json.loads(read(f"{url}/summary.json"))["ok"] == len(urls) - 1
    entries = index(url)
    assert [e["url"] for e in entries] == urls
    # every index line's span holds its records, read back from the store with warcio
    warc = read(f"{url}/netwire-000-00000.warc.gz")
    for e in entries[:-1]:
        bodies = [(r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
                  for r in ArchiveIterator(io.BytesIO(warc[e["offset"]:e["offset"] + e["record_length"]]))
                  if r.rec_type == "response"]
        host, i = e["url"].split("/")[2].split(":")[0], int(e["url"].rsplit("/", 1)[1].split(".")[0])
        assert bodies == [(e["url"], page_body(host, i))]


def test_resume_elsewhere_pulls_the_shard_from_the_store(web: Web, tmp_path: Path) -> None:
    url = "memory://crawl-b"
    urls = urls_of(web)
    first = bulk(urls[:10], url, staging_dir=str(tmp_path / "machine-1"))
    assert first.fetched_now == 10
    shutil.rmtree(tmp_path / "machine-1")  # that machine is gone: only the store remains
    second = bulk(urls, url, staging_dir=str(tmp_path / "machine-2"))
    assert second.fetched_now == len(urls) - 10 and second.total == len(urls)
    assert [e["url"] for e in index(url)] == urls  # the first ten were not fetched again


def test_rotated_warc_files_are_sent_and_files_format_works(web: Web, tmp_path: Path) -> None:
    url = "memory://crawl-c"
    urls = urls_of(web)
    bulk(urls, url, staging_dir=str(tmp_path / "stage"), warc_max_size=2_000)
    fs, root = fsspec.core.url_to_fs(url)
    warcs = sorted(fs.glob(f"{root}/netwire-000-*.warc.gz"))
    assert len(warcs) > 2
    claimed = {e["warc"] for e in index(url) if e.get("warc")}
    assert claimed == {w.rsplit("/", 1)[-1] for w in warcs}
    files_url = "memory://crawl-d"
    bulk(urls, files_url, staging_dir=str(tmp_path / "stage"), output_format="files")
    for e in index(files_url)[:-1]:
        assert read(f"{files_url}/{e['file']}") == page_body(e["url"].split("/")[2].split(":")[0],
                                                             int(e["url"].rsplit("/", 1)[1].split(".")[0]))


def test_file_url_with_worker_processes(web: Web, tmp_path: Path) -> None:
    urls = urls_of(web)
    local = bulk(urls, tmp_path / "local", workers=2)
    remote = bulk(urls, f"file://{tmp_path / 'store'}", workers=2, staging_dir=str(tmp_path / "stage"))
    assert (remote.total, remote.ok, remote.statuses) == (local.total, local.ok, local.statuses)
    strip = [{k: e.get(k) for k in ("n", "url", "status", "sha256")} for e in index(f"file://{tmp_path / 'store'}")]
    assert strip == [{k: e.get(k) for k in ("n", "url", "status", "sha256")} for e in index(f"file://{tmp_path / 'local'}")]


def test_an_output_url_keeps_its_settings(web: Web, tmp_path: Path) -> None:
    bulk(urls_of(web)[:2], "memory://crawl-e", staging_dir=str(tmp_path / "s"))
    with pytest.raises(BulkError, match="--workers 1"):
        bulk(urls_of(web)[:2], "memory://crawl-e", workers=2, staging_dir=str(tmp_path / "s"))


def test_url_or_folder() -> None:
    assert is_url("s3://bucket/crawl/") and is_url("memory://x") and is_url("file:///tmp/x")
    assert not is_url("out/") and not is_url("/tmp/out") and not is_url("C:\\out")
    assert staging_dir("s3://a/b", "/base") != staging_dir("s3://a/c", "/base")
