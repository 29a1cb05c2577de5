"""URL parsing: netwire.url.URL against ada-url and yarl; netwire.parse against urllib.parse.

10,000 real-world-shaped URLs (generated deterministically; 9,472 distinct), parsed alone and
resolved against a base. urllib.parse's and netwire.parse's caches are cleared before every timed
pass, so both parse every URL afresh (within a pass, repeated bases hit the cache, as in real use).
netwire.url.URL and yarl keep a small cache of parsed URLs (netwire: 512 entries, emptied when
full): "one hot URL" shows that cache, "10k distinct hot-shaped" the parsing behind it.
"""

from __future__ import annotations

import gc
import random
import sys
import time
import urllib.parse as stdlib_parse
from collections.abc import Callable
from typing import Any

import instructions

from netwire import parse as nw_parse
from netwire.url import URL

N = 10_000

_HOSTS = ["example.com", "www.example.com", "api.github.com", "cdn.jsdelivr.net", "news.ycombinator.com",
          "en.wikipedia.org", "localhost", "127.0.0.1", "192.168.1.20", "[::1]", "[2001:db8::1]",
          "static.sub.domain.co.uk", "S3.Amazonaws.COM", "bücher.de", "xn--mnchen-3ya.de", "a-b-c.io"]
_WORDS = ["index", "api", "v1", "v2", "users", "repos", "search", "static", "img", "css", "js", "docs", "blog",
          "2024", "item", "product", "cart", "login", "assets", "downloads"]
_EXT = ["", "", ".html", ".json", ".png", ".js", ".css", ".php", "/"]
_KEYS = ["q", "page", "id", "lang", "utm_source", "sort", "ref", "token", "limit", "offset"]
_VALUES = ["1", "42", "hello+world", "%E2%9C%93", "en-US", "asc", "a%20b", "", "x,y", "true", "caf%C3%A9"]


def _path(rng: random.Random) -> str:
    depth = rng.choice([0, 1, 1, 2, 2, 3, 4, 6])
    parts = [rng.choice(_WORDS) for _ in range(depth)]
    if parts and rng.random() < 0.1:
        parts.insert(rng.randrange(len(parts)), rng.choice([".", "..", "%7Euser", "with space", "ünï"]))
    return "/" + "/".join(parts) + (rng.choice(_EXT) if parts else "")


def _query(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return ""
    pairs = [f"{rng.choice(_KEYS)}={rng.choice(_VALUES)}" for _ in range(rng.randint(1, 5))]
    return "?" + "&".join(pairs)


def urls(n: int = N, seed: int = 20240601) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        scheme = rng.choices(["https", "http", "HTTPS", "ws", "ftp", "file"], [60, 30, 2, 3, 3, 2])[0]
        host = rng.choice(_HOSTS)
        if scheme == "file":
            out.append(f"file://{_path(rng)}")
            continue
        userinfo = rng.choice(["user:pass@", "me@"]) if rng.random() < 0.03 else ""
        port = rng.choice([":8080", ":443", ":80", ":3000"]) if rng.random() < 0.15 else ""
        frag = "#" + rng.choice(_WORDS) if rng.random() < 0.1 else ""
        out.append(f"{scheme}://{userinfo}{host}{port}{_path(rng)}{_query(rng)}{frag}")
    return out


def relatives(n: int = N, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.45:
            out.append(_path(rng) + _query(rng))
        elif kind < 0.65:
            out.append(_path(rng)[1:] + _query(rng))
        elif kind < 0.75:
            out.append("../" + _path(rng)[1:])
        elif kind < 0.83:
            out.append(_query(rng) or "?x=1")
        elif kind < 0.88:
            out.append("#" + rng.choice(_WORDS))
        elif kind < 0.94:
            out.append("//" + rng.choice(_HOSTS) + _path(rng))
        else:
            out.append(urls(1, seed=rng.randrange(1 << 30))[0])
    return out


BASES = ["https://www.example.com/dir/sub/page.html?x=1", "http://localhost:8080/a/b/", "https://api.github.com/repos",
         "https://en.wikipedia.org/wiki/URL"]


def _race(
    group: str,
    entries: list[tuple[str, Callable[[], Any]]],
    repeats: int,
    count: int = N,
    before: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Time every entry once per round, round after round, and keep each one's best round.

    Interleaving the contenders keeps the comparison fair on a machine whose load changes.
    """
    best = {name: float("inf") for name, _ in entries}
    for _ in range(repeats):
        for name, fn in entries:
            if before is not None:
                before()
            gc.collect()
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return [
        {"group": group, "name": name, "value": best[name] / count * 1e6, "unit": "us/url", "higher": False}
        for name, _ in entries
    ]


def _clear() -> None:
    stdlib_parse.clear_cache()
    nw_parse.clear_cache()


def run(args: Any) -> list[dict[str, Any]]:
    absolute = urls()
    rels = relatives()
    bases = [BASES[i % len(BASES)] for i in range(N)]
    pairs = list(zip(bases, rels, strict=True))
    rows: list[dict[str, Any]] = []
    repeats = 3 if getattr(args, "quick", False) else 9

    peers: dict[str, Any] = {}
    try:
        import ada_url

        peers["ada-url"] = ada_url
    except ImportError:
        print("   ada-url is not installed (pip install ada-url): skipped")
    try:
        import yarl

        peers["yarl"] = yarl
    except ImportError:
        print("   yarl is not installed (pip install yarl): skipped")

    ada = peers["ada-url"].URL if "ada-url" in peers else None
    yurl = peers["yarl"].URL if "yarl" in peers else None

    entries: list[tuple[str, Callable[[], Any]]] = [("netwire.url.URL", lambda: [URL(u) for u in absolute])]
    if ada is not None:
        entries.append(("ada-url URL", lambda: [ada(u) for u in absolute]))
    if yurl is not None:
        entries.append(("yarl URL", lambda: [yurl(u) for u in absolute]))
    rows += _race("URL(): parse 10k absolute URLs", entries, repeats)

    base_objs = {b: URL(b) for b in BASES}
    entries = [("netwire.url.URL", lambda: [URL(r, base_objs[b]) for b, r in pairs])]
    if ada is not None:
        entries.append(("ada-url URL", lambda: [ada(r, base=b) for b, r in pairs]))
    if yurl is not None:
        ybases = {b: yurl(b) for b in BASES}
        entries.append(("yarl join", lambda: [ybases[b].join(yurl(r)) for b, r in pairs]))
    rows += _race("URL(): resolve 10k against a base", entries, repeats)

    hot = "http://127.0.0.1:8080/x?y=1"
    entries = [("netwire.url.URL", lambda: [URL(hot) for _ in range(N)])]
    if ada is not None:
        entries.append(("ada-url URL", lambda: [ada(hot) for _ in range(N)]))
    if yurl is not None:
        entries.append(("yarl URL", lambda: [yurl(hot) for _ in range(N)]))
    rows += _race("URL(): one hot URL, x10k", entries, repeats)

    # The same shape but every URL distinct: what parsing costs when the URL cache cannot help.
    shaped = [f"http://127.0.0.1:8080/x?y={i}" for i in range(N)]
    entries = [("netwire.url.URL", lambda: [URL(u) for u in shaped])]
    if ada is not None:
        entries.append(("ada-url URL", lambda: [ada(u) for u in shaped]))
    if yurl is not None:
        entries.append(("yarl URL", lambda: [yurl(u) for u in shaped]))
    rows += _race("URL(): 10k distinct hot-shaped", entries, repeats)

    rows += _race("urlsplit 10k (caches cleared)", [
        ("netwire.parse", lambda: [nw_parse.urlsplit(u) for u in absolute]),
        ("urllib.parse", lambda: [stdlib_parse.urlsplit(u) for u in absolute]),
    ], repeats, before=_clear)
    rows += _race("urljoin 10k (caches cleared)", [
        ("netwire.parse", lambda: [nw_parse.urljoin(b, r) for b, r in pairs]),
        ("urllib.parse", lambda: [stdlib_parse.urljoin(b, r) for b, r in pairs]),
    ], repeats, before=_clear)
    paths = [URL(u).pathname for u in absolute]
    rows += _race("quote+unquote 10k paths", [
        ("netwire.parse", lambda: [nw_parse.unquote(nw_parse.quote(p)) for p in paths]),
        ("urllib.parse", lambda: [stdlib_parse.unquote(stdlib_parse.quote(p)) for p in paths]),
    ], repeats, before=_clear)
    if getattr(args, "instructions", False) and instructions.available():
        setup = ("import bench_url\nimport netwire.parse as nw\nimport urllib.parse as std\n"
                 "us = bench_url.urls()[:1000]\nbs = [bench_url.BASES[i % 4] for i in range(1000)]\n"
                 "rs = bench_url.relatives()[:1000]")
        for group, call in (("urlsplit (instructions/url, caches cleared)", "[{m}.urlsplit(u) for u in us]"),
                            ("urljoin (instructions/url, caches cleared)", "[{m}.urljoin(b, r) for b, r in zip(bs, rs)]")):
            for name, m in (("netwire.parse", "nw"), ("urllib.parse", "std")):
                print(f"   {group}: {name} (valgrind)", file=sys.stderr, flush=True)
                ir = instructions.per_call(setup, f"{m}.clear_cache(); " + call.format(m=m), small=2, big=7, warmup=2)
                if ir is not None:
                    rows.append({"group": group, "name": name, "value": ir / 1000, "unit": "instr", "higher": False})
    queries = [u.partition("?")[2].partition("#")[0] for u in absolute]
    rows += _race("parse_qsl 10k queries", [
        ("netwire.parse", lambda: [nw_parse.parse_qsl(q) for q in queries]),
        ("urllib.parse", lambda: [stdlib_parse.parse_qsl(q) for q in queries]),
    ], repeats)
    return rows
