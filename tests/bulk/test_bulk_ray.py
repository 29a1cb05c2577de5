"""The Ray engine on a local Ray cluster: the same index as the local engine.

Needs Ray (``pip install 'netwire[ray]'``); skipped without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from netwire.http.fetch import bulk
from tests.bulk.synthweb import HOSTS, PAGES, Web

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def comparable(out: Path) -> list[tuple[Any, ...]]:
    rows = []
    for path in out.glob("index-*.jsonl"):
        for line in path.read_text().splitlines():
            e = json.loads(line)
            rows.append((e["n"], e["url"], e["final_url"], e["status"], e.get("sha256"), e["error"]))
    return sorted(rows)


def test_ray_engine_gives_the_local_engine_s_index(local_ray: None, web: Web, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    lines = [web.url(h, f"/p/{i}.html") for i in range(PAGES) for h in HOSTS]
    lines += [web.url(HOSTS[0], "/redirect"), web.url(HOSTS[1], "/private/secret.html"), "not a url"]
    urls.write_text("\n".join(lines) + "\n")
    local = bulk(str(urls), tmp_path / "local", workers=2)
    on_ray = bulk(str(urls), tmp_path / "ray", workers=2, engine="ray")
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")
    assert (on_ray.total, on_ray.ok, on_ray.errors) == (local.total, local.ok, local.errors)
    assert on_ray.fetched_now == len(lines)
    assert sorted(p.name for p in (tmp_path / "ray").glob("index-*")) == ["index-000.jsonl", "index-001.jsonl"]
    # and it resumes like the local engine: nothing left to fetch
    again = bulk(str(urls), tmp_path / "ray", workers=2, engine="ray")
    assert again.fetched_now == 0 and comparable(tmp_path / "ray") == comparable(tmp_path / "local")


def test_ray_engine_writes_shards_to_an_fsspec_url(local_ray: None, web: Web, tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    urls = tmp_path / "urls.txt"
    lines = [web.url(h, f"/p/{i}.html") for i in range(PAGES) for h in HOSTS]
    urls.write_text("\n".join(lines) + "\n")
    local = bulk(str(urls), tmp_path / "local", workers=2)
    store = tmp_path / "store"  # a file:// URL: what every Ray worker process (or node) reaches
    on_ray = bulk(str(urls), f"file://{store}", workers=2, engine="ray", staging_dir=str(tmp_path / "stage"))
    assert comparable(store) == comparable(tmp_path / "local")
    assert (on_ray.total, on_ray.ok) == (local.total, local.ok) == (len(lines), len(lines))
    assert sorted(p.name for p in store.glob("netwire-*.warc.gz")) == ["netwire-000-00000.warc.gz", "netwire-001-00000.warc.gz"]
