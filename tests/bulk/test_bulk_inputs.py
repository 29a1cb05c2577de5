"""Input readers of ``netwire fetch``: text, gzip, CSV, JSON Lines, stdin; bad lines are indexed
as errors and the run goes on."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netwire.bulk import BulkError
from netwire.bulk.inputs import MAX_LINE, read_items
from netwire.http.fetch import bulk
from tests.bulk.synthweb import HOSTS, Web

TEXT = "# a comment\n\nhttps://example.com/a\r\n  http://example.org/b#frag  \nnot a url\nftp://example.com/x\n"


def test_text_lines_comments_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text(TEXT)
    items = list(read_items(str(path)))
    assert [i.n for i in items] == [0, 1, 2, 3]
    assert items[0].url == "https://example.com/a" and items[0].host == "example.com"
    assert items[1].url == "http://example.org/b"  # the fragment is never sent
    assert items[2].url is None and items[2].error is not None and items[2].error.startswith("InvalidURL: ")
    assert items[3].error is not None and items[3].error.startswith("UnsupportedScheme: ")


def test_gzip_text_gives_the_same_items(tmp_path: Path) -> None:
    (tmp_path / "u.txt").write_text(TEXT)
    (tmp_path / "u.txt.gz").write_bytes(gzip.compress(TEXT.encode()))
    assert list(read_items(str(tmp_path / "u.txt.gz"))) == list(read_items(str(tmp_path / "u.txt")))


def test_csv_and_jsonl_take_the_url_column(tmp_path: Path) -> None:
    (tmp_path / "u.csv").write_text('id,link\n1,https://example.com/a\n2,"https://example.com/b?x=1,2"\n3\n')
    items = list(read_items(str(tmp_path / "u.csv"), url_column="link"))
    assert [i.url for i in items] == ["https://example.com/a", "https://example.com/b?x=1,2", None]
    assert items[2].error is not None and items[2].error.startswith("BadRecord: ")
    lines = [json.dumps({"url": "https://example.com/j"}), "{broken", json.dumps({"other": 1}), json.dumps([1])]
    (tmp_path / "u.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    items = list(read_items(str(tmp_path / "u.jsonl.gz")))
    assert items[0].url == "https://example.com/j"
    assert [i.error.split(":")[0] for i in items[1:] if i.error] == ["BadRecord"] * 3


def test_csv_without_the_column_is_refused_before_fetching(tmp_path: Path) -> None:
    (tmp_path / "u.csv").write_text("id,link\n1,https://example.com/a\n")
    with pytest.raises(BulkError, match="no column 'url'"):
        bulk(str(tmp_path / "u.csv"), tmp_path / "out")


def test_an_over_long_line_is_one_error_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "u.txt"
    path.write_text("https://example.com/" + "a" * (3 * MAX_LINE) + "\nhttps://example.com/next\n")
    items = list(read_items(str(path)))
    assert len(items) == 2
    assert items[0].error is not None and items[0].error.startswith("LineTooLong")
    assert items[1].url == "https://example.com/next"


def test_bad_lines_go_to_the_index_and_the_run_goes_on(web: Web, tmp_path: Path) -> None:
    urls = ["nonsense", web.url(HOSTS[2], "/p/1.html"), "mailto:x@example.com", web.url(HOSTS[2], "/p/2.html")]
    summary = bulk(urls, tmp_path / "out")
    index = [json.loads(line) for line in (tmp_path / "out" / "index-000.jsonl").read_text().splitlines()]
    by_n = {e["n"]: e for e in index}
    assert by_n[0]["error"] == "InvalidURL" and by_n[0]["url"] == "nonsense" and "warc" not in by_n[0]
    assert by_n[2]["error"] == "UnsupportedScheme"
    assert by_n[1]["status"] == 200 and by_n[3]["status"] == 200
    assert summary.total == 4 and summary.ok == 2 and summary.errors == {"InvalidURL": 1, "UnsupportedScheme": 1}


def test_cli_reads_stdin(web: Web, tmp_path: Path) -> None:
    urls = "\n".join(web.url(h, "/p/0.html") for h in HOSTS[:3]) + "\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    r = subprocess.run(
        [sys.executable, "-m", "netwire", "fetch", "-", "-o", str(tmp_path / "out"), "-w", "1",
         "--stats-json", str(tmp_path / "stats.json")],
        input=urls, capture_output=True, text=True, env=env, timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "records" in r.stdout and r.stderr == ""  # no progress line when stderr is not a terminal
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["total"] == 3 and stats["ok"] == 3 and stats["statuses"] == {"2xx": 3}


def test_cli_bad_input_file_exits_2(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    r = subprocess.run([sys.executable, "-m", "netwire", "fetch", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "cannot read" in r.stderr
