"""What keeps a worker's cost per URL flat as workers grow, and its event loop fetching while the
disk works: each worker parses only its own share of the input, a checkpoint's fsyncs run beside
the fetching, and the robots.txt check does not parse the URL again."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netwire.bulk import inputs
from netwire.bulk.hosts import quick_hostname, shard_of
from netwire.bulk.index import ShardIndex
from netwire.bulk.run import _items_of_shard
from netwire.bulk.warc import WarcWriter, exchange_records
from netwire.http.fetch import bulk
from netwire.url import URL
from tests.bulk.synthweb import HOSTS, PAGES, Web

PLAIN = [
    "http://a.example/x", "https://127.0.1.5:8080/f?x", "http://a.b", "http://a.b#f", "http://a.b:80/",
    "https://www.example.co.uk/p?q=1#f", "http://0.0.0.0/", "http://255.255.255.255:1/",
]
NOT_PLAIN = [
    "http://127.1/", "http://A.b/", "http://a.b:99999/", "http://u@a.b/", "http://a.b./", "http://xn--abc.com/",
    "http://1.2.3.4a/", "http://a..b/", "http://256.1.1.1/", "http://01.1.1.1/", "http://a.0x1/", "HTTP://a.b/",
    " http://a.b/", "http://a\tb/", "http://a.b\\x", "ftp://a.b/", "http://[::1]/", "http://a.b:/x", "http://%41.b/",
]


def test_quick_hostname_reads_plain_urls_and_leaves_the_rest_to_the_parser() -> None:
    for url in PLAIN:
        assert quick_hostname(url) == URL(url).hostname, url
    for url in NOT_PLAIN:
        assert quick_hostname(url) is None, url


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(["http://", "https://"]), st.text(alphabet="ab0129.-:xn%@/?#\\ \tA", max_size=20))
def test_a_quick_hostname_is_the_parsers(scheme: str, rest: str) -> None:
    text = scheme + rest
    host = quick_hostname(text)
    if host is not None:  # read off the text: the parser accepts the URL and gives the same host
        assert URL(text).hostname == host


def test_a_worker_parses_only_its_own_share_of_the_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urls = [f"http://h{i}.example{i % 40}.org/p/{i}" for i in range(400)] + ["not a url", "http://A.example1.org/x"]
    path = tmp_path / "urls.txt"
    path.write_text("\n".join(urls) + "\n")
    parsed: list[str] = []
    real = inputs.parse_url

    def counting(n: int, raw: str) -> inputs.InputItem:
        parsed.append(raw)
        return real(n, raw)

    monkeypatch.setattr(inputs, "parse_url", counting)
    shares = []
    for shard in range(2):
        parsed.clear()
        items = list(_items_of_shard(str(path), None, None, shard, 2, set()))
        shares.append({i.n for i in items})
        # Its own URLs, and those whose host cannot be read off the text (placed once parsed).
        mine = [u for u in urls if (h := quick_hostname(u)) is None or shard_of(h, 2) == shard]
        assert parsed == mine and len(mine) < 0.75 * len(urls)  # old: every URL, by both workers
        for i in items:
            if i.url is not None:
                assert shard_of(i.host, 2) == shard
    assert shares[0] | shares[1] == set(range(len(urls))) and not shares[0] & shares[1]


def _blocking_fsync(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, list[tuple[str, str]]]:
    """os.fsync held until the event is set; the calls (thread name, file) listed."""
    release = threading.Event()
    calls: list[tuple[str, str]] = []
    real = os.fsync

    def held(fd: int) -> None:
        calls.append((threading.current_thread().name, os.readlink(f"/proc/self/fd/{fd}")))
        release.wait(5)
        real(fd)

    monkeypatch.setattr(os, "fsync", held)
    return release, calls


def _records(n: int) -> list[object]:
    return list(exchange_records(f"http://h/{n}", b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n", b"x" * 5000,
                                 date="2026-01-01T00:00:00.000000Z", ip=None))


def test_a_checkpoint_fsyncs_beside_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = WarcWriter(str(tmp_path), "netwire-000")
    index = ShardIndex(str(tmp_path), 0, writer, interval=3600, background=True)
    warc, offset, length = writer.write(_records(0))  # type: ignore[arg-type]
    release, calls = _blocking_fsync(monkeypatch)
    index.add({"n": 0, "warc": warc, "offset": offset, "record_length": length})
    index.maybe_checkpoint()  # not yet due (interval): nothing happens
    assert calls == []
    index.interval = 0.0
    index.add({"n": 1, "error": "ConnectError"})  # due: the fsyncs start...
    # ...and the run goes on writing while the disk works (an fsync in this thread never returns)
    writer.write(_records(2))  # type: ignore[arg-type]
    index.add({"n": 2, "error": "ConnectError"})
    for _ in range(500):  # the checkpoint's thread reaches its first fsync
        if calls:
            break
        time.sleep(0.01)
    assert calls and all(name.startswith("netwire-checkpoint") for name, _ in calls)
    assert (tmp_path / "index-000.jsonl").read_bytes() == b""  # not before the WARC's fsync ends
    release.set()
    index.close()
    writer.close()
    files = [f for _, f in calls]
    # WARC first, then the index; then the last lines (closing waits for the one under way)
    assert files[:2] == [str(tmp_path / warc), str(tmp_path / "index-000.jsonl")]
    assert [json.loads(line)["n"] for line in (tmp_path / "index-000.jsonl").read_text().splitlines()] == [0, 1, 2]


def test_a_failed_background_checkpoint_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = ShardIndex(str(tmp_path), 0, None, interval=0.0, background=True)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    index.add({"n": 0, "error": "ConnectError"})
    with pytest.raises(OSError, match="No space left"):
        index.close()


def test_the_robots_check_does_not_parse_the_url_again(web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import netwire.robots._cache as cache

    calls: list[str] = []
    real = cache.robots_url

    def counting(url: str) -> str:
        calls.append(url)
        return real(url)

    monkeypatch.setattr(cache, "robots_url", counting)
    urls = [web.url(h, f"/p/{i}.html") for i in range(PAGES) for h in HOSTS[:2]]
    summary = bulk(urls, tmp_path / "out")
    assert summary.ok == len(urls)
    assert calls == []  # old: robots_url(href) for every request, a parse of the URL each time


def test_workers_are_forked_when_no_other_thread_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.bulk.synthweb import CountingServer

    # A spawned worker starts an interpreter and imports netwire again (0.2 s of CPU each): a
    # run's cost per URL then grew with its workers. Forked, a worker is the parent's image.
    slow = CountingServer("127.0.0.43", 2.0)
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(slow.url(f"/{i}") + "\n" for i in range(4)))
    cmd = [sys.executable, "-m", "netwire", "fetch", str(urls), "-o", str(tmp_path / "out"), "-w", "2", "-q"]
    p = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        children: list[str] = []
        for _ in range(500):
            try:
                children = (Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text()).split()
            except OSError:
                break
            if len(children) == 2:
                break
            time.sleep(0.02)
        lines = []
        for child in children:
            with contextlib.suppress(OSError):
                lines.append(Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[:-1])
        assert p.wait(60) == 0
    finally:
        if p.poll() is None:
            p.kill()
        slow.close()
    assert lines, children
    assert all(line[1:3] == [b"-m", b"netwire"] for line in lines), lines  # spawn: "-c from multiprocessing..."


def test_start_method_spawns_beside_other_threads() -> None:
    from netwire.bulk.run import _start_method

    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert _start_method() == "spawn"  # a fork could copy a lock another thread holds
    finally:
        stop.set()
        t.join()


def test_a_shard_says_how_cpu_bound_it_was(web: Web, tmp_path: Path) -> None:
    urls = [web.url(h, f"/p/{i}.html") for i in range(PAGES) for h in HOSTS[:2]]
    summary = bulk(urls, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert data["cpu_wait_seconds"] == summary.cpu_wait_seconds >= 0.0
    assert 0.0 < summary.cpu_seconds <= data["shard_seconds"] * 1.5 and data["shard_seconds"] <= summary.elapsed
