"""The sans-IO robots.txt cache the clients share: it decides, or names the file it needs."""

from __future__ import annotations

import ast
from pathlib import Path

from netwire.robots._cache import NeedsFetch, RobotsRules

SRC = Path(__file__).resolve().parents[2] / "src" / "netwire"
BODY = b"User-agent: *\nDisallow: /private\nCrawl-delay: 2\n"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_decide_asks_for_the_file_then_decides_from_what_was_stored() -> None:
    rules = RobotsRules()
    need = rules.decide("https://example.com/private/x", "bot")
    assert need == NeedsFetch("https://example.com/robots.txt")
    assert rules.crawl_delay("https://example.com/", "bot") == need
    rules.store(need.robots_url, 200, BODY, {"content-type": "text/plain"})
    denied = rules.decide("https://example.com/private/x", "bot")
    assert not isinstance(denied, NeedsFetch) and not denied.allowed and denied.rule == "Disallow: /private"
    allowed = rules.decide("https://example.com/public", "bot")
    assert not isinstance(allowed, NeedsFetch) and allowed.allowed
    assert rules.crawl_delay("https://example.com/a", "bot") == 2.0


def test_robots_txt_itself_is_allowed_without_a_fetch() -> None:
    decision = RobotsRules().decide("https://example.com/robots.txt", "bot")
    assert not isinstance(decision, NeedsFetch) and decision.allowed


def test_no_answer_is_unreachable_and_asked_again_after_error_ttl() -> None:
    clock = Clock()
    rules = RobotsRules(clock=clock, error_ttl=60)
    rules.store("https://example.com/robots.txt", None, error=ConnectionRefusedError("refused"))
    decision = rules.decide("https://example.com/a", "bot")
    assert not isinstance(decision, NeedsFetch) and not decision.allowed
    assert "unreachable (ConnectionRefusedError: refused)" in decision.reason
    clock.now += 61
    assert isinstance(rules.decide("https://example.com/a", "bot"), NeedsFetch)


def test_a_no_store_file_decides_the_request_that_fetched_it() -> None:
    # Expired as soon as stored: decide() asks again, but the entry store() returns still
    # decides (a client looping on decide() would fetch forever).
    rules = RobotsRules()
    entry = rules.store("https://example.com/robots.txt", 200, BODY, {"Cache-Control": "no-store"})
    assert isinstance(rules.decide("https://example.com/private", "bot"), NeedsFetch)
    assert not rules.decision(entry, "https://example.com/private", "bot").allowed


def test_statuses_map_as_rfc_9309_says() -> None:
    rules = RobotsRules()
    rules.store("https://a.example/robots.txt", 404)
    rules.store("https://b.example/robots.txt", 503)
    a = rules.decide("https://a.example/x", "bot")
    b = rules.decide("https://b.example/x", "bot")
    assert not isinstance(a, NeedsFetch) and a.allowed
    assert not isinstance(b, NeedsFetch) and not b.allowed


def _imports(module: str) -> set[str]:
    """Every module ``src/netwire/<module>`` imports, at the top or inside a function."""
    tree = ast.parse((SRC / module).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_clients_do_not_import_the_urllib_robots_face() -> None:
    # client.py <-> robotparser.py was an import circle: the clients now use the sans-IO cache.
    for module in ("http/client.py", "http/aio.py", "http/clientbase.py", "http/flow.py", "robots/_cache.py"):
        assert not any(name.endswith("robotparser") for name in _imports(module)), module
