"""``--workers N``: processes sharded by site, the same output as one process; progress and summary."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from netwire.bulk import BulkError
from netwire.bulk.hosts import registrable_domain, shard_of
from netwire.bulk.run import _Progress
from netwire.http.fetch import bulk
from tests.bulk.synthweb import HOSTS, PAGES, Web


def entries(out: Path) -> dict[int, list[dict[str, object]]]:
    found: dict[int, list[dict[str, object]]] = {}
    for path in sorted(out.glob("index-*.jsonl")):
        shard = int(path.stem.split("-")[1])
        found[shard] = [json.loads(line) for line in path.read_text().splitlines()]
    return found


def test_registrable_domain_keeps_a_site_together() -> None:
    assert registrable_domain("a.example.com") == registrable_domain("B.Example.COM.") == "example.com"
    # By the Public Suffix List: two labels are not always a site.
    assert registrable_domain("www.example.co.uk") == registrable_domain("example.co.uk") == "example.co.uk"
    assert registrable_domain("www.alice.github.io") == "alice.github.io" != registrable_domain("bob.github.io")
    assert registrable_domain("co.uk") == "co.uk"
    assert registrable_domain("127.0.0.1") == "127.0.0.1" and registrable_domain("[::1]") == "[::1]"
    assert registrable_domain("localhost") == "localhost"
    for shards in (2, 3, 8):
        assert shard_of("a.example.com", shards) == shard_of(["www.example.com", "8080"][0], shards)
        assert 0 <= shard_of("example.org", shards) < shards
    # stable across processes and runs (not Python's salted str hash)
    assert shard_of("example.com", 8) == shard_of("www.example.com:443", 8) == 6
    assert registrable_domain("127.0.0.1:8080") == "127.0.0.1" and registrable_domain("[::1]:80") == "[::1]"


def test_two_workers_shard_by_host_and_match_one_worker(web: Web, tmp_path: Path) -> None:
    urls = [web.url(h, f"/p/{i}.html") for i in range(PAGES) for h in HOSTS] + ["bad url"]
    one = bulk(urls, tmp_path / "one", workers=1)
    two = bulk(urls, tmp_path / "two", workers=2, stats_json=tmp_path / "stats.json")
    shards = entries(tmp_path / "two")
    assert set(shards) == {0, 1} and all(shards.values())  # both did work
    for shard, lines in shards.items():
        for e in lines:
            if e["status"] is not None:
                host = str(e["url"]).split("//")[1].split("/")[0]
                assert shard_of(host, 2) == shard  # every URL in its host's shard
    assert list((tmp_path / "two").glob("netwire-001-*.warc.gz"))
    flat = lambda d: sorted((e["n"], e["url"], e["status"], e.get("sha256"), e["error"]) for v in d.values() for e in v)  # noqa: E731
    assert flat(shards) == flat(entries(tmp_path / "one"))
    assert (one.total, one.ok, one.errors) == (two.total, two.ok, two.errors) == (len(urls), len(urls) - 1, {"InvalidURL": 1})
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["total"] == len(urls) and stats["shards"] == 2 and stats["fetched_now"] == len(urls)
    assert json.loads((tmp_path / "two" / "summary.json").read_text()) == stats
    # the CPU of the workers' runs (not of their start-up): the cost per URL as workers grow
    assert 0 < one.cpu_seconds < 20 and 0 < two.cpu_seconds < 20 and stats["cpu_seconds"] == two.cpu_seconds
    assert "ms per URL" in two.table()
    # resuming with another worker count would mix shards: refused, with the way out
    with pytest.raises(BulkError, match="--workers 2"):
        bulk(urls, tmp_path / "two", workers=3)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal_only(web: Web, tmp_path: Path) -> None:
    urls = [web.url(HOSTS[0], f"/p/{i}.html") for i in range(PAGES)] + ["ftp://nope/"]
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n")
    term = _Terminal()
    bulk(str(tmp_path / "urls.txt"), tmp_path / "a", progress=True, progress_stream=term)
    text = term.getvalue()
    assert f"{len(urls)}/{len(urls)}" in text and "URLs/s" in text and "MB/s" in text and "hosts" in text
    assert "UnsupportedScheme=1" in text and text.endswith("\n")
    pipe = io.StringIO()
    bulk(str(tmp_path / "urls.txt"), tmp_path / "b", progress=True, progress_stream=pipe)
    assert pipe.getvalue() == ""


def test_progress_line_shows_eta() -> None:
    bar = _Progress(100, _Terminal(), True)
    bar.started -= 10
    bar.update(0, {"done": 50, "skipped": 0, "bytes": 5_000_000, "hosts_active": 3, "errors": {"ConnectError": 2}})
    line = bar.line()
    assert line.startswith("50/100") and "ETA 0:1" in line and "3 hosts" in line and "ConnectError=2" in line
