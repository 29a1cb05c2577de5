"""netwire.robotparser.RobotFileParser against urllib.robotparser: the shapes real code reads
(``entries``, ``default_entry``, ``Entry``, ``RuleLine``, ``str(rp)``) and full User-Agent strings."""

from __future__ import annotations

import urllib.robotparser as urllib_robotparser

import pytest

from netwire import robotparser
from netwire.robotparser import Entry, RequestRate, RobotFileParser, RobotsTxt, RuleLine

# The "*" group first: urllib prints it last.
FILE = """\
User-agent: *
Crawl-delay: 2
Disallow: /private
Allow: /private/press

User-agent: FigTree
Request-rate: 3/10
Disallow: /tmp
Disallow: /a%3Cd.html

Sitemap: https://example.com/sitemap.xml

User-agent: Other-Bot
User-agent: second
Disallow: /
"""


def parsers(text: str = FILE) -> tuple[RobotFileParser, urllib_robotparser.RobotFileParser]:
    ours, theirs = RobotFileParser(), urllib_robotparser.RobotFileParser()
    ours.parse(text.splitlines())
    theirs.parse(text.splitlines())
    return ours, theirs


def test_str_prints_the_star_group_last_like_urllib() -> None:
    ours, theirs = parsers()
    assert str(ours) == str(theirs)
    assert str(ours).endswith("User-agent: *\nCrawl-delay: 2\nDisallow: /private\nAllow: /private/press")
    assert str(ours).startswith("User-agent: FigTree\nRequest-rate: 3/10\nDisallow: /tmp")


def test_entries_and_default_entry_have_urllibs_shape() -> None:
    ours, theirs = parsers()
    assert [e.useragents for e in ours.entries] == [e.useragents for e in theirs.entries]
    assert ours.default_entry is not None and theirs.default_entry is not None
    assert ours.default_entry.useragents == ["*"]
    # What real code does: list the paths the default group disallows.
    ours_rules = [(line.path, line.allowance) for line in ours.default_entry.rulelines]
    theirs_rules = [(line.path, line.allowance) for line in theirs.default_entry.rulelines]
    assert ours_rules == theirs_rules == [("/private", False), ("/private/press", True)]
    assert [str(line) for line in ours.default_entry.rulelines] == ["Disallow: /private", "Allow: /private/press"]
    assert ours.default_entry.delay == theirs.default_entry.delay == 2
    figtree = ours.entries[0]
    assert isinstance(figtree, Entry) and isinstance(figtree.rulelines[0], RuleLine)
    assert figtree.req_rate == RequestRate(3, 10) and tuple(figtree.req_rate) == tuple(theirs.entries[0].req_rate)
    assert figtree.delay is None
    assert ours.sitemaps == theirs.sitemaps == ["https://example.com/sitemap.xml"]


def test_entry_and_ruleline_answer_with_rfc9309_rules() -> None:
    ours, _ = parsers()
    figtree, other = ours.entries
    assert figtree.applies_to("FigTree Robot libwww-perl/5.04") and figtree.applies_to("figtree/1.0")
    assert not figtree.applies_to("Fig") and not figtree.applies_to("FigTreeX")
    assert not figtree.applies_to("") and not figtree.applies_to("2.0/FigTree")
    assert other.applies_to("second") and other.applies_to("other-bot/2")
    assert ours.default_entry is not None and ours.default_entry.applies_to("anybody")
    assert not figtree.allowance("/tmp/x") and figtree.allowance("/elsewhere")
    assert not figtree.allowance("/a%3cd.html")  # escapes are compared canonically
    default = ours.default_entry
    assert not default.allowance("/private/x") and default.allowance("/private/press/1")  # the longer rule wins
    assert RuleLine("/*.pdf$", False).applies_to("https://example.com/x/a.pdf")
    assert not RuleLine("/*.pdf$", False).applies_to("/a.pdf?x")
    empty = RuleLine("", False)
    assert empty.allowance is True and str(empty) == "Allow: "  # as urllib: "Disallow:" restricts nothing


def test_default_entry_merges_every_star_group() -> None:
    text = "User-agent: *\nDisallow: /a\n\nUser-agent: b\nDisallow: /\n\nUser-agent: *\nDisallow: /c\n"
    rp = RobotFileParser()
    rp.parse(text.splitlines())
    assert rp.default_entry is not None
    assert [line.path for line in rp.default_entry.rulelines] == ["/a", "/c"]
    assert not rp.can_fetch("x", "/c") and str(rp).startswith("User-agent: b\nDisallow: /\n\nUser-agent: *")


def test_entries_before_parse_and_after_a_4xx() -> None:
    rp = RobotFileParser()
    assert rp.entries == [] and rp.default_entry is None and str(rp) == ""
    rp.parse(["User-agent: *", "Disallow: /x"])
    assert rp.default_entry is not None
    rp.apply(robotparser.FetchResult("http://h/robots.txt", 404))
    assert rp.entries == [] and rp.default_entry is None


@pytest.mark.parametrize("agent", ["FigTree Robot libwww-perl/5.04", "FigTree/1.0 (+http://figtree.example/bot)",
                                   "figtree", "FIGTREE"])
def test_full_user_agent_string_finds_its_group(agent: str) -> None:
    """A crawler passing its whole User-Agent obeys its own group, not "*" (which would fail open)."""
    ours, theirs = parsers()
    for path in ("/tmp/x", "/private/x", "/other"):
        url = "http://example.com" + path
        assert ours.can_fetch(agent, url) == theirs.can_fetch(agent, url), (agent, path)
    assert not ours.can_fetch(agent, "http://example.com/tmp/x")
    assert ours.can_fetch(agent, "http://example.com/private/x")  # FigTree's group does not say /private
    assert ours.request_rate(agent) == RequestRate(3, 10)
    assert ours.crawl_delay(agent) is None
    assert ours.decide(agent, "/tmp/x").rule == "Disallow: /tmp"


def test_robotstxt_keeps_the_exact_token_rule() -> None:
    robots = RobotsTxt.parse(FILE)
    # Google's contract, kept for RobotsTxt: "FigTree Robot" is not a product token, so only "*" applies.
    assert robots.decide("FigTree Robot libwww-perl/5.04", "/tmp/x").allowed
    assert not robots.decide("FigTree Robot libwww-perl/5.04", "/private/x").allowed
    assert not robots.decide("FigTree/5.04", "/tmp/x").allowed


def test_star_import_binds_urllibs_names() -> None:
    ours: dict[str, object] = {}
    theirs: dict[str, object] = {}
    exec("from netwire.robotparser import *", ours)
    exec("from urllib.robotparser import *", theirs)
    assert sorted(k for k in ours if k != "__builtins__") == sorted(k for k in theirs if k != "__builtins__")
    assert robotparser.__all__ == urllib_robotparser.__all__
