"""Table-driven tests of each robots.txt rule, RFC 9309's own examples, and the urllib-style API."""

from __future__ import annotations

import pytest

from netwire.robotparser import RequestRate, RobotFileParser
from netwire.robots._rules import MAX_BYTES, RobotsTxt

RFC_SIMPLE = """\
User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
"""

RFC_MERGE = "user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: ExampleBot\ndisallow: /baz\n"
RFC_FALLBACK = "user-agent: *\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: BazBot\ndisallow: /baz\n"

# (robots.txt, agent, url, allowed)
RFC_EXAMPLES = [
    # section 5.1
    (RFC_SIMPLE, "anybot", "https://example.com/images/a.gif", False),
    (RFC_SIMPLE, "anybot", "https://example.com/images/a.gif?x", True),
    (RFC_SIMPLE, "anybot", "https://example.com/example/x", False),
    (RFC_SIMPLE, "anybot", "https://example.com/publications/x", True),
    (RFC_SIMPLE, "anybot", "https://example.com/other", True),
    (RFC_SIMPLE, "foobot", "https://example.com/example/page.html", True),
    (RFC_SIMPLE, "foobot", "https://example.com/example/allowed.gif", True),
    (RFC_SIMPLE, "foobot", "https://example.com/publications/x", False),
    (RFC_SIMPLE, "foobot", "https://example.com/", False),
    (RFC_SIMPLE, "barbot", "https://example.com/example/page.html", False),
    (RFC_SIMPLE, "bazbot", "https://example.com/example/page.html", False),
    (RFC_SIMPLE, "bazbot", "https://example.com/example/other.gif", True),
    (RFC_SIMPLE, "quxbot", "https://example.com/example/x.gif", True),
    # section 5.2
    ("User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n", "foobot",
     "https://example.com/example/page/disallowed.gif", False),
    ("User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n", "foobot",
     "https://example.com/example/page/other.gif", True),
    # section 2.2.1: merged groups, "*" fallback
    (RFC_MERGE, "ExampleBot", "http://x/foo", False),
    (RFC_MERGE, "examplebot", "http://x/bar", False),
    (RFC_MERGE, "ExampleBot", "http://x/baz", False),
    (RFC_MERGE, "ExampleBot", "http://x/qux", True),
    (RFC_FALLBACK, "ExampleBot", "http://x/foo", False),
    (RFC_FALLBACK, "ExampleBot", "http://x/bar", False),
    (RFC_FALLBACK, "ExampleBot", "http://x/baz", True),
    # section 2.2.2: percent-encoding table (rule, URL written either way)
    ("User-agent: *\nDisallow: /foo/bar?baz=quz\n", "a", "http://x/foo/bar?baz=quz", False),
    ("User-agent: *\nDisallow: /foo/bar?baz=https://foo.bar\n", "a", "http://x/foo/bar?baz=https://foo.bar", False),
    ("User-agent: *\nDisallow: /foo/bar/ツ\n", "a", "http://x/foo/bar/%E3%83%84", False),
    ("User-agent: *\nDisallow: /foo/bar/ツ\n", "a", "http://x/foo/bar/ツ", False),
    ("User-agent: *\nDisallow: /foo/bar/%E3%83%84\n", "a", "http://x/foo/bar/ツ", False),
    ("User-agent: *\nDisallow: /foo/bar/%e3%83%84\n", "a", "http://x/foo/bar/%E3%83%84", False),
    ("User-agent: *\nDisallow: /foo/bar/%62%61%7A\n", "a", "http://x/foo/bar/baz", False),
    ("User-agent: *\nDisallow: /foo/bar/baz\n", "a", "http://x/foo/bar/%62%61%7a", False),
    # section 2.2.3: special characters written percent-encoded match literally
    ("User-agent: *\nDisallow: /path/file-with-a-%2A.html\n", "a", "https://www.example.com/path/file-with-a-*.html", False),
    ("User-agent: *\nDisallow: /path/file-with-a-%2A.html\n", "a", "https://www.example.com/path/file-with-a-x.html", True),
    ("User-agent: *\nDisallow: /path/foo-%24\n", "a", "https://www.example.com/path/foo-$", False),
    ("User-agent: *\nDisallow: /path/foo-%24\n", "a", "https://www.example.com/path/foo-", True),
    ("User-agent: *\nallow: / # comment in line\ndisallow: /\n", "a", "http://x/y", True),
]


@pytest.mark.parametrize(("body", "agent", "url", "allowed"), RFC_EXAMPLES)
def test_rfc_examples(body: str, agent: str, url: str, allowed: bool) -> None:
    assert RobotsTxt.parse(body).decide(agent, url).allowed is allowed


RULES = [
    # caller agents: product token cut at the first character outside [A-Za-z_-]
    ("user-agent: FooBot\ndisallow: /\n", "FooBot/2.1 (+http://foo.example/bot)", "/x", False),
    ("user-agent: FooBot\ndisallow: /\n", "foobot", "/x", False),
    ("user-agent: FooBot\ndisallow: /\n", "FooBotter", "/x", True),
    ("user-agent: FooBot\ndisallow: /\n", "Foo", "/x", True),
    ("user-agent: FooBot/1.0\ndisallow: /\n", "FooBot", "/x", False),  # the line's value is cut too
    ("user-agent: Foo_Bot-2\ndisallow: /\n", "foo_bot-9", "/x", False),
    ("user-agent: *\ndisallow: /\n", "", "/x", False),
    ("user-agent: * # everyone\ndisallow: /\n", "x", "/x", False),
    ("user-agent: * bot\ndisallow: /\n", "x", "/x", False),  # "*" then space: still global (Google)
    ("user-agent: *bot\ndisallow: /\n", "x", "/x", True),
    # a group for the agent, even empty, hides "*"
    ("user-agent: *\ndisallow: /\nuser-agent: FooBot\n", "FooBot", "/x", True),
    ("user-agent: FooBot\nuser-agent: *\ndisallow: /a\n", "FooBot", "/a", False),
    ("user-agent: FooBot\nuser-agent: *\ndisallow: /a\n", "BarBot", "/a", False),
    # rules outside groups are ignored; blank lines and comments do not end a group
    ("disallow: /\nuser-agent: *\nallow: /a\n", "x", "/b", True),
    ("user-agent: *\n\n# note\n\ndisallow: /a\n", "x", "/a", False),
    ("user-agent: a\ncrawl-delay: 4\nuser-agent: b\ndisallow: /x\n", "a", "/x", False),
    # longest match; allow wins a tie; empty rules match nothing
    ("user-agent: *\ndisallow: /a\nallow: /a/b\n", "x", "/a/b/c", True),
    ("user-agent: *\nallow: /a\ndisallow: /a/b\n", "x", "/a/b/c", False),
    ("user-agent: *\ndisallow: /a*\nallow: /a/\n", "x", "/a/", True),
    ("user-agent: *\ndisallow: /a/\nallow: /a*\n", "x", "/a/", True),
    ("user-agent: *\ndisallow: /*b\nallow: /a*\n", "x", "/ab", True),
    ("user-agent: *\ndisallow: /*bc\nallow: /a*\n", "x", "/abc", False),
    ("user-agent: *\ndisallow:\n", "x", "/x", True),
    ("user-agent: *\nallow:\ndisallow: /\n", "x", "/x", False),
    # wildcards and "$"
    ("user-agent: *\ndisallow: /*/private/*.json$\n", "x", "/v1/private/a/b.json", False),
    ("user-agent: *\ndisallow: /*/private/*.json$\n", "x", "/v1/private/a/b.json?x", True),
    ("user-agent: *\ndisallow: /*/private/*.json$\n", "x", "/private/a.json", True),
    ("user-agent: *\ndisallow: /a$b\n", "x", "/a$b", False),  # "$" inside a pattern is literal
    ("user-agent: *\ndisallow: /a$b\n", "x", "/a", True),
    ("user-agent: *\ndisallow: /***a**$\n", "x", "/xxa", False),
    ("user-agent: *\ndisallow: /***a**$\n", "x", "/xxab", False),
    ("user-agent: *\ndisallow: /***a$\n", "x", "/xxab", True),
    ("user-agent: *\ndisallow: /***a**$\n", "x", "/xxb", True),
    ("user-agent: *\ndisallow: *\n", "x", "/anything", False),
    ("user-agent: *\ndisallow: /$\n", "x", "/", False),
    ("user-agent: *\ndisallow: /$\n", "x", "/?q", True),
    ("user-agent: *\ndisallow: /*?\n", "x", "/page?", False),
    ("user-agent: *\ndisallow: /a\n", "x", "http://h/a#frag", False),
    ("user-agent: *\ndisallow: /a\n", "x", "http://h/b#/a", True),
    ("user-agent: *\ndisallow: /;p\n", "x", "http://h;p", False),
    # /robots.txt is always allowed
    ("user-agent: *\ndisallow: /\n", "x", "http://h/robots.txt", True),
    ("user-agent: *\ndisallow: /\n", "x", "http://h/robots.txt?x", False),
    # missing colons and typos, as Google tolerates them
    ("user-agent *\ndisallow /a\n", "x", "/a", False),
    ("user-agent *\ndisallow /a b\n", "x", "/a", True),  # three words: not a directive
    ("useragent: *\ndissallow: /a\n", "x", "/a", False),
    ("user agent: *\ndissalow: /a\n", "x", "/a", False),
    ("User-Agent: *\ndisalow: /a\ndiasllow: /b\ndisallaw: /c\n", "x", "/c", False),
    ("User-Agent: *\nDisallow : /a\n", "x", "/a", False),
    ("User-Agent: *\n  Disallow:   /a   \n", "x", "/a", False),
    ("User-Agent: *\n\tDisallow:\t/a\t\n", "x", "/a", False),
    ("User-Agent: *\nDisallow:/a\n", "x", "/a", False),
    ("User-Agent: *\n:/a\n", "x", "/a", True),
    ("User-Agent: *\nDisallow /a\n", "x", "/ab", False),
    # line ends and the BOM
    ("\ufeffUser-agent: *\r\nDisallow: /a\r\n", "x", "/a", False),
    ("User-agent: *\rDisallow: /a\rAllow: /a/b", "x", "/a/b", True),
    ("User-agent: *\r\n\r\nDisallow: /a", "x", "/a", False),
]


@pytest.mark.parametrize(("body", "agent", "url", "allowed"), RULES)
@pytest.mark.parametrize("mode", ["rfc9309", "google"])
def test_rules(body: str, agent: str, url: str, allowed: bool, mode: str) -> None:
    assert RobotsTxt.parse(body, mode=mode).decide(agent, url).allowed is allowed  # type: ignore[arg-type]


def test_decision_names_rule_and_line() -> None:
    robots = RobotsTxt.parse("User-agent: *\nDisallow: /a\nAllow: /a/b # open\n\nUser-agent: FooBot\nDisallow: /\n")
    d = robots.decide("x", "http://h/a/b/c")
    assert (d.allowed, d.rule, d.line) == (True, "Allow: /a/b", 3)
    d = robots.decide("FooBot", "http://h/a/b/c")
    assert (d.allowed, d.rule, d.line) == (False, "Disallow: /", 6)
    d = robots.decide("x", "http://h/z")
    assert (d.allowed, d.rule, d.line) == (True, None, None)
    assert "robots.txt" in robots.decide("x", "/robots.txt").reason


def test_only_first_500_kib_parsed() -> None:
    head = b"User-agent: *\nDisallow: /early\n"
    filler = b"# " + b"x" * 60 + b"\n"
    body = head + filler * (MAX_BYTES // len(filler) + 1) + b"Disallow: /late\n"
    robots = RobotsTxt.parse(body)
    assert robots.truncated
    assert not robots.allowed("x", "/early")
    assert robots.allowed("x", "/late")


def test_rule_cut_by_the_limit_is_dropped() -> None:
    # The cut would leave "Disallow: /" (everything) where the author wrote "/private".
    head = b"User-agent: *\n"
    pad = b"#" * (MAX_BYTES - len(head) - len(b"\nDisallow: /")) + b"\n"
    body = head + pad + b"Disallow: /private\n"
    assert len(head + pad + b"Disallow: /") == MAX_BYTES
    robots = RobotsTxt.parse(body)
    assert robots.allowed("x", "/public")


def test_sitemaps_crawl_delay_request_rate() -> None:
    body = (
        "Sitemap: https://h/s1.xml\nUser-agent: *\nCrawl-delay: 2.5\nRequest-rate: 3/20s\nDisallow: /x\n"
        "User-agent: FooBot\nCrawl-delay: 10\nsite-map: https://h/s2.xml\nDisallow: /y\nUser-agent: BarBot\nCrawl-delay: soon\n"
        "Request-rate: many\n"
    )
    robots = RobotsTxt.parse(body)
    assert robots.sitemaps == ["https://h/s1.xml", "https://h/s2.xml"]
    assert robots.crawl_delay("anybot") == 2.5
    assert robots.request_rate("anybot") == RequestRate(3, 20)
    assert robots.crawl_delay("FooBot") == 10
    assert robots.request_rate("FooBot") is None
    assert robots.crawl_delay("BarBot") is None  # unparseable: ignored


def test_urllib_api() -> None:
    rp = RobotFileParser()
    assert rp.mtime() == 0 and not rp.can_fetch("a", "/x")
    rp.parse(["User-agent: *", "Disallow: /private", "Crawl-delay: 1", "Request-rate: 1/5", "Sitemap: /s.xml"])
    assert rp.mtime() > 0
    assert not rp.can_fetch("MyBot/1.0", "http://h/private")
    assert rp.can_fetch("MyBot/1.0", "http://h/public")
    assert rp.crawl_delay("MyBot") == 1
    assert rp.request_rate("MyBot") == RequestRate(1, 5)
    assert rp.site_maps() == ["/s.xml"]
    assert str(rp) == "User-agent: *\nCrawl-delay: 1\nRequest-rate: 1/5\nDisallow: /private"
    rp.set_url("https://example.com:8443/robots.txt")
    assert (rp.host, rp.path) == ("example.com:8443", "/robots.txt")
    empty = RobotFileParser()
    empty.parse([])
    assert empty.site_maps() is None and empty.crawl_delay("a") is None and empty.can_fetch("a", "/x")


def test_urllib_api_differences() -> None:
    # urllib: first match in file order, no wildcards. Here: longest match, wildcards.
    lines = ["User-agent: *", "Disallow: /", "Allow: /public", "Disallow: /public/*.pdf$"]
    rp = RobotFileParser()
    rp.parse(lines)
    assert rp.can_fetch("a", "http://h/public/page")
    assert not rp.can_fetch("a", "http://h/public/doc.pdf")


def test_latin1_lines_are_bridged() -> None:
    body = b"User-agent: *\nDisallow: /caf\xe9\nDisallow: /ts\xe3\x83\x84\n"
    rfc = RobotsTxt.parse(body)
    assert not rfc.allowed("x", "http://h/café")
    assert not rfc.allowed("x", "http://h/caf%C3%A9")
    assert not rfc.allowed("x", "http://h/tsツ")  # a UTF-8 line next to it is left as it is
    google = RobotsTxt.parse(body, mode="google")  # Google escapes the raw octets
    assert google.allowed("x", "http://h/caf%C3%A9")
    assert not google.allowed("x", "http://h/caf%E9")
