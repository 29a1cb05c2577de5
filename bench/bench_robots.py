"""robots.txt benchmark: netwire.robotparser against protego and urllib.robotparser, one run.

A real-world-shaped robots.txt (several groups, a few hundred rules: plain prefixes, ``*`` and
``$`` patterns, allow overrides, sitemaps) is generated deterministically; each parser parses it
once (best of 5, timed with its first ``can_fetch``, since netwire and protego both index rules on first
use), then answers 100,000 ``can_fetch`` calls over a fixed mix of URLs (some matching
plain rules, some wildcard rules, most matching nothing). It also counts how many of Google's
reference expectations (the table in ``tests/robots/test_google_reference.py``) each parser meets.
Peers missing from the machine are skipped with a note (``pip install protego``).

    python bench/run.py robots            # or: python bench/bench_robots.py
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import sys
import time
import urllib.robotparser
from collections.abc import Callable
from typing import Any

import instructions

Row = dict[str, Any]

CALLS = 100_000
AGENT = "MyCrawler/2.1 (+https://example.com/bot)"

_WORDS = (
    "search", "account", "cart", "checkout", "login", "logout", "admin", "api", "static", "images",
    "img", "css", "js", "media", "products", "product", "category", "catalog", "tag", "tags", "user",
    "users", "profile", "settings", "wishlist", "compare", "print", "share", "feed", "rss", "comments",
    "reviews", "help", "support", "blog", "news", "archive", "download", "files", "private", "tmp",
    "cgi-bin", "wp-admin", "wp-content", "wp-includes", "assets", "ajax", "export", "report",
)
_PAGE_WORDS = (*_WORDS, "item", "page", "x", "2024", "en", "de")


def make_robots(seed: int = 9309) -> str:
    """A deterministic robots.txt shaped like a big shop's: ~350 rules in 6 groups."""
    rnd = random.Random(seed)
    lines = ["# generated for netwire's robots benchmark", ""]

    def path(depth: int) -> str:
        return "/" + "/".join(rnd.choice(_WORDS) + ("" if rnd.random() < 0.7 else f"-{rnd.randint(1, 99)}")
                              for _ in range(depth))

    def rules(n: int) -> list[str]:
        out = []
        for _ in range(n):
            kind = rnd.random()
            if kind < 0.55:
                out.append(f"Disallow: {path(rnd.randint(1, 3))}{'/' if rnd.random() < 0.5 else ''}")
            elif kind < 0.70:
                out.append(f"Allow: {path(rnd.randint(2, 4))}")
            elif kind < 0.80:
                out.append(f"Disallow: /*?{rnd.choice(_WORDS)}=")
            elif kind < 0.88:
                out.append(f"Disallow: /*.{rnd.choice(['pdf', 'zip', 'json', 'xml', 'php', 'asp'])}$")
            elif kind < 0.95:
                out.append(f"Disallow: {path(1)}/*/{rnd.choice(_WORDS)}")
            else:
                out.append(f"Allow: {path(1)}/*.{rnd.choice(['html', 'htm', 'jpg'])}$")
        return out

    for agents, n in ((["Googlebot", "Googlebot-Image"], 40), (["Bingbot"], 30), (["AhrefsBot", "SemrushBot"], 2),
                      (["GPTBot"], 1), (["Applebot"], 25), (["*"], 250)):
        lines += [f"User-agent: {a}" for a in agents]
        if agents == ["*"]:
            lines.append("Crawl-delay: 1")
        lines += rules(n)
        lines.append("")
    lines += [f"Sitemap: https://www.example.com/sitemap-{i}.xml" for i in range(5)]
    return "\n".join(lines) + "\n"


def make_urls(n: int = 2000, seed: int = 42) -> list[str]:
    rnd = random.Random(seed)
    urls = []
    for _ in range(n):
        depth = rnd.randint(1, 4)
        p = "/" + "/".join(rnd.choice(_PAGE_WORDS) for _ in range(depth))
        r = rnd.random()
        if r < 0.2:
            p += f"?{rnd.choice(_WORDS)}={rnd.randint(1, 50)}"
        elif r < 0.3:
            p += "." + rnd.choice(["pdf", "html", "jpg", "php"])
        urls.append("https://www.example.com" + p)
    return urls


def _time_calls(fn: Callable[[str], bool], urls: list[str], calls: int) -> tuple[float, int]:
    k = len(urls)
    allowed = 0
    t = time.perf_counter()
    for i in range(calls):
        allowed += fn(urls[i % k])
    return time.perf_counter() - t, allowed


def _rows(name: str, parse_s: float, run_s: float, calls: int) -> list[Row]:
    return [
        {"group": "robots: parse+first can_fetch", "name": name, "value": parse_s * 1000, "unit": "ms", "higher": False},
        {"group": f"robots: {calls // 1000}k can_fetch", "name": name, "value": calls / run_s, "unit": "calls/s",
         "higher": True},
    ]


def _conformance() -> list[Row]:
    """How many of Google's reference expectations (the table in tests/robots) each parser meets."""
    import pathlib

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # the repository's root
    try:
        from tests.robots.test_google_reference import CASES
    except ImportError as exc:
        print(f"   (no conformance figures: {exc})", file=sys.stderr)
        return []
    from netwire.robots._rules import RobotsTxt

    def ours(body: str, agent: str, url: str) -> bool:
        return RobotsTxt.parse(body, mode="google").allowed(agent, url)

    def stdlib(body: str, agent: str, url: str) -> bool:
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(body.splitlines())
        return parser.can_fetch(agent, url)

    checkers: list[tuple[str, Callable[[str, str, str], bool]]] = [("netwire", ours)]
    if importlib.util.find_spec("protego") is not None:
        from protego import Protego

        checkers.append(("protego", lambda body, agent, url: Protego.parse(body).can_fetch(url, agent)))
    checkers.append(("urllib.robotparser", stdlib))
    cases = [case for group in CASES.values() for case in group]
    out: list[Row] = []
    for name, check in checkers:
        passed = 0
        for body, agent, url, expected in cases:
            try:
                passed += check(body, agent, url) is expected
            except Exception:  # a crash is a failed expectation
                pass
        print(f"   {name}: {passed} of {len(cases)} of Google's reference expectations", file=sys.stderr)
        out.append({"group": f"robots: Google cases passed /{len(cases)}", "name": name, "value": passed,
                    "unit": "cases", "higher": True})
    return out


def run(args: argparse.Namespace | None = None) -> list[Row]:
    if os.environ.get("NETWIRE_BENCH_INSTALLED") != "1":  # =1: the installed netwire (run.py --build)
        sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "src"))
    from netwire.robotparser import RobotFileParser

    quick = bool(getattr(args, "quick", False))
    calls = 10_000 if quick else CALLS
    text = make_robots()
    lines = text.splitlines()
    urls = make_urls()
    rows: list[Row] = []
    answers: dict[str, list[bool]] = {}

    def netwire_parser() -> Any:
        parser = RobotFileParser()
        parser.parse(lines)
        parser.can_fetch(AGENT, urls[0])  # rules are indexed per agent on first use: count it
        return parser

    def protego_parser() -> Any:
        from protego import Protego

        parser = Protego.parse(text)
        parser.can_fetch(urls[0], AGENT)  # protego too builds its index on first use
        return parser

    def stdlib_parser() -> Any:
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(lines)
        parser.can_fetch(AGENT, urls[0])
        return parser

    contenders: list[tuple[str, Callable[[], Any], Callable[[Any], Callable[[str], bool]]]] = [
        ("netwire", netwire_parser, lambda p: lambda u: p.can_fetch(AGENT, u)),
    ]
    if importlib.util.find_spec("protego") is not None:
        contenders.append(("protego", protego_parser, lambda p: lambda u: p.can_fetch(u, AGENT)))
    else:
        print("   protego not installed: pip install protego", file=sys.stderr)
    contenders.append(("urllib.robotparser", stdlib_parser, lambda p: lambda u: p.can_fetch(AGENT, u)))

    for name, build, asker in contenders:
        parse_s = float("inf")
        for _ in range(5):  # a parse takes about a millisecond: keep the best of a few
            t = time.perf_counter()
            parser = build()
            parse_s = min(parse_s, time.perf_counter() - t)
        ask = asker(parser)
        run_s, allowed = _time_calls(ask, urls, calls)
        rows += _rows(name, parse_s, run_s, calls)
        answers[name] = [ask(u) for u in urls]
        print(f"   {name}: {allowed}/{calls} allowed", file=sys.stderr)

    if getattr(args, "instructions", False) and instructions.available():
        base = ("import bench_robots as b\nurls = b.make_urls()[:1000]\n")
        setups = {
            "netwire": (base + "from netwire.robotparser import RobotFileParser\np = RobotFileParser()\n"
                        "p.parse(b.make_robots().splitlines())", "[p.can_fetch(b.AGENT, u) for u in urls]"),
            "protego": (base + "from protego import Protego\np = Protego.parse(b.make_robots())",
                        "[p.can_fetch(u, b.AGENT) for u in urls]"),
        }
        for name, (setup, call) in setups.items():
            if name == "protego" and importlib.util.find_spec("protego") is None:
                continue
            print(f"   robots: instructions of {name} can_fetch (valgrind)", file=sys.stderr, flush=True)
            ir = instructions.per_call(setup, call, small=2, big=7, warmup=2)
            if ir is not None:
                rows.append({"group": "robots: can_fetch (instructions/call)", "name": name, "value": ir / 1000,
                             "unit": "instr", "higher": False})
    rows += _conformance()
    for name, got in answers.items():
        if name != "netwire":
            differ = sum(a != b for a, b in zip(got, answers["netwire"], strict=True))
            print(f"   {name} disagrees with netwire on {differ} of {len(urls)} URLs", file=sys.stderr)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    for row in run(parser.parse_args()):
        print(f"{row['group']:28} {row['name']:20} {row['value']:12.1f} {row['unit']}")
