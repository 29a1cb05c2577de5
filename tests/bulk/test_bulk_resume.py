"""Crash safety of ``netwire fetch``: killed at any moment (SIGKILL) and run again, the output is
what an uninterrupted run gives; a partial last record is cut back; the index never claims a
record that is not on disk."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from netwire.bulk.index import recover
from netwire.http.fetch import bulk
from tests.bulk.synthweb import HOSTS, PAGES, Web

KEEP = ("n", "url", "final_url", "status", "content_type", "length", "sha256", "error", "redirects")


def urls_of(web: Web) -> list[str]:
    urls = [web.url(h, f"/p/{i}.html") for i in range(PAGES) for h in HOSTS]
    urls += [web.url(HOSTS[0], "/redirect"), web.url(HOSTS[1], "/missing"), web.url(HOSTS[2], "/private/secret.html"),
             "not a url"]
    return urls


def snapshot(out: Path) -> tuple[list[tuple[Any, ...]], Counter[tuple[str, str, str]]]:
    """The index (without timings and places) and the WARC records (type, URI, payload digest),
    after checking every digest and that each index line's span holds whole records."""
    entries: list[tuple[Any, ...]] = []
    for path in sorted(out.glob("index-*.jsonl")):
        for line in path.read_text().splitlines():
            e = json.loads(line)
            entries.append(tuple(e.get(k) for k in KEEP))
            if e.get("warc"):
                data = (out / e["warc"]).read_bytes()[e["offset"]: e["offset"] + e["record_length"]]
                kinds = [r.rec_type for r in ArchiveIterator(io.BytesIO(data), check_digests="raise")]
                assert kinds and set(kinds) <= {"request", "response", "metadata"}
    records: Counter[tuple[str, str, str]] = Counter()
    for path in sorted(out.glob("*.warc.gz")):
        with path.open("rb") as f:
            for r in ArchiveIterator(f, check_digests="raise"):
                if r.rec_type != "warcinfo":
                    r.content_stream().read()
                    records[(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                             r.rec_headers.get_header("WARC-Payload-Digest") or "")] += 1
    return sorted(entries, key=lambda t: t[0]), records


def cli(urls: Path, out: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "netwire", "fetch", str(urls), "-o", str(out), "-w", str(workers), "-q",
            "--per-host-rate", "15/s", "--checkpoint-interval", "0.02"]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def test_partial_last_record_and_torn_index_line_are_cut_back(web: Web, tmp_path: Path) -> None:
    urls = urls_of(web)[:12]
    out = tmp_path / "out"
    bulk(urls, out)
    expected = snapshot(out)
    warc, index = out / "netwire-000-00000.warc.gz", out / "index-000.jsonl"
    size, lines = warc.stat().st_size, index.read_bytes()
    # a crash in the middle of writing: half a gzip member, and records the index never got to
    with warc.open("ab") as f:
        f.write(warc.read_bytes()[400:900])
    index.write_bytes(lines + b'{"n": 99, "url": "http://x/", "warc": "netwire-000-000')
    found = recover(str(out), 0)
    assert warc.stat().st_size == size and index.read_bytes() == lines
    assert found.cut_bytes == 500 and set(found.done) == set(range(12))
    assert snapshot(out) == expected
    # a power cut: the index claims records past the end of the file. Those lines go, and a
    # rerun fetches those URLs again.
    entries = [json.loads(line) for line in lines.splitlines()]
    last = max(entries, key=lambda e: e.get("offset", 0))
    with warc.open("r+b") as f:
        f.truncate(last["offset"] + 10)
    found = recover(str(out), 0)
    assert last["n"] not in found.done and len(found.done) < 12
    bulk(urls, out)
    assert snapshot(out) == expected


def test_an_output_folder_is_written_by_one_run_at_a_time(web: Web, tmp_path: Path) -> None:
    out = tmp_path / "out"
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(web.url(HOSTS[0], f"/p/{i}.html") for i in range(PAGES)) + "\n")
    with (out.mkdir() or (out / ".lock-000").open("w")) as held:
        import fcntl

        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        import netwire.bulk.run as run

        old, run.LOCK_WAIT = run.LOCK_WAIT, 0.2
        try:
            with pytest.raises(run.BulkError, match="another netwire fetch is writing"):
                bulk(str(urls), out)
        finally:
            run.LOCK_WAIT = old


# 40-60 runs of the command, each already bounded by its own 60 s timeout: the default 120 s for
# the whole test was passed on two busy cores (seen twice) while every run was progressing.
@pytest.mark.timeout(600)
def test_killed_at_random_points_and_resumed_20_times(web: Web, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(urls_of(web)) + "\n")
    reference_out = tmp_path / "reference"
    started = time.monotonic()
    r = subprocess.run(cli(urls, reference_out, 1), env=env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    duration = time.monotonic() - started
    print(f"uninterrupted run: {duration:.2f} s")
    reference = snapshot(reference_out)
    assert sum(1 for e in reference[0] if e[3] == 200) >= len(HOSTS) * PAGES
    rng = random.Random(20)
    killed_mid_run = 0
    for attempt in range(20):
        out = tmp_path / f"run{attempt}"
        workers = 1 + attempt % 2
        for _ in range(rng.choice((1, 2))):
            p = subprocess.Popen(cli(urls, out, workers), env=env(), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(rng.uniform(0.05, duration))
            if p.poll() is None:
                killed_mid_run += 1
            with contextlib.suppress(ProcessLookupError):  # it may have finished already
                if workers == 2 and attempt % 4 == 1:
                    os.kill(p.pid, signal.SIGKILL)  # the parent only: its workers must stop by themselves
                else:
                    os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        r = subprocess.run(cli(urls, out, workers), env=env(), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (attempt, r.stderr)
        assert snapshot(out) == reference, f"run {attempt} (workers={workers}) differs from the uninterrupted run"
    assert killed_mid_run >= 10  # the kills did land while runs were going on


def test_done_work_is_made_durable_while_slow_requests_go_on(tmp_path: Path) -> None:
    import threading

    from tests.bulk.synthweb import CountingServer

    fast, slow = CountingServer("127.0.0.40", 0.0), CountingServer("127.0.0.41", 1.5)
    out = tmp_path / "out"
    try:
        run = threading.Thread(target=bulk, args=([fast.url("/quick"), slow.url("/slow")], out),
                               kwargs={"checkpoint_interval": 0.1})
        run.start()
        time.sleep(0.9)
        # the slow URL is still in flight, the quick one is already in the index on disk
        lines = (out / "index-000.jsonl").read_text().splitlines()
        assert [json.loads(line)["url"] for line in lines] == [fast.url("/quick")]
        run.join()
    finally:
        fast.close()
        slow.close()
    assert len((out / "index-000.jsonl").read_text().splitlines()) == 2
