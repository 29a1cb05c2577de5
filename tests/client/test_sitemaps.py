"""Sitemaps: every format search engines accept, read from nginx on loopback, with the protocol's
limits and no entity expansion."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

import netwire
from netwire.robots.sitemaps import ParsedSitemap, SitemapError, parse_sitemap, sitemaps

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def urlset(*locs: str, extra: str = "") -> bytes:
    body = "".join(f"<url><loc>{loc}</loc>{extra}</url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>{body}</urlset>'.encode()


def index(*locs: str) -> bytes:
    body = "".join(f"<sitemap><loc>{loc}</loc><lastmod>2026-11-30</lastmod></sitemap>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {NS}>{body}</sitemapindex>'.encode()


@pytest.fixture
def site(nginx: Any) -> Any:
    root = Path(nginx.root)
    base = nginx.url("")
    files = {
        "sitemaps/index.xml": index(f"{base}/sitemaps/pages.xml", f"{base}/sitemaps/news.xml.gz",
                                    f"{base}/sitemaps/missing.xml"),
        "sitemaps/pages.xml": urlset(f"{base}/a", f"{base}/b?x=1&amp;y=2",
                                     extra="<lastmod>2026-12-01</lastmod><changefreq>daily</changefreq>"
                                           "<priority>0.8</priority>"),
        "sitemaps/news.xml.gz": gzip.compress(urlset(f"{base}/news/1", f"{base}/news/2")),
        "sitemaps/list.txt": f"{base}/t1\n\n{base}/t2\nnot a url\n".encode(),
        "sitemaps/feed.rss": (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                              f"<item><title>one</title><link>{base}/rss/1</link>"
                              f"<pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>").encode(),
        "sitemaps/feed.atom": (f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
                               f'<entry><link rel="alternate" href="{base}/atom/1"/><updated>2026-11-30T10:00:00Z'
                               f'</updated></entry><entry><link href="{base}/atom/2"/></entry></feed>').encode(),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    (root / "robots.txt").write_bytes(f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemaps/index.xml\n"
                                      f"Sitemap: {base}/sitemaps/list.txt\n".encode())
    return nginx


def test_a_site_through_robots_txt_index_and_gzip(site: Any) -> None:
    base = site.url("")
    errors: list[tuple[str, netwire.NetwireError]] = []
    with netwire.Client() as client:
        found = list(sitemaps(base + "/", client=client, errors=errors))
    # Breadth first: robots.txt's two sitemaps, then what the index lists.
    assert [e.loc for e in found] == [
        f"{base}/t1", f"{base}/t2", f"{base}/a", f"{base}/b?x=1&y=2", f"{base}/news/1", f"{base}/news/2",
    ]
    a = next(e for e in found if e.loc.endswith("/a"))
    assert (a.lastmod, a.changefreq, a.priority, a.sitemap) == (
        "2026-12-01", "daily", "0.8", f"{base}/sitemaps/pages.xml")
    assert [(url, type(exc).__name__) for url, exc in errors] == [(f"{base}/sitemaps/missing.xml", "HTTPStatusError")]


def test_without_an_errors_list_the_first_failure_raises(site: Any) -> None:
    with netwire.Client() as client, pytest.raises(netwire.errors.HTTPStatusError, match="404"):
        list(sitemaps(site.url("/sitemaps/index.xml"), client=client))


def test_feeds_count_as_sitemaps(site: Any) -> None:
    base = site.url("")
    with netwire.Client() as client:
        rss = list(sitemaps(site.url("/sitemaps/feed.rss"), client=client))
        atom = list(sitemaps(site.url("/sitemaps/feed.atom"), client=client))
    assert [(e.loc, e.lastmod) for e in rss] == [(f"{base}/rss/1", "Mon, 30 Nov 2026 10:00:00 GMT")]
    assert [(e.loc, e.lastmod) for e in atom] == [(f"{base}/atom/1", "2026-11-30T10:00:00Z"), (f"{base}/atom/2", None)]


def test_no_robots_sitemap_means_sitemap_xml(nginx: Any) -> None:
    root = Path(nginx.root)
    (root / "robots.txt").write_bytes(b"User-agent: *\nDisallow:\n")
    (root / "sitemap.xml").write_bytes(urlset(nginx.url("/only")))
    try:
        with netwire.Client() as client:
            assert [e.loc for e in sitemaps(nginx.url("/"), client=client)] == [nginx.url("/only")]
    finally:
        (root / "sitemap.xml").unlink()


def test_index_depth_and_document_count_are_bounded(nginx: Any) -> None:
    root = Path(nginx.root) / "sitemaps"
    # An index that lists itself and a chain of indexes: neither loops nor goes deeper than allowed.
    (root / "loop.xml").write_bytes(index(nginx.url("/sitemaps/loop.xml"), nginx.url("/sitemaps/deep1.xml")))
    (root / "deep1.xml").write_bytes(index(nginx.url("/sitemaps/deep2.xml")))
    (root / "deep2.xml").write_bytes(index(nginx.url("/sitemaps/deep3.xml")))
    (root / "deep3.xml").write_bytes(urlset(nginx.url("/too-deep")))
    with netwire.Client() as client:
        assert list(sitemaps(nginx.url("/sitemaps/loop.xml"), client=client, max_depth=2)) == []
        assert [e.loc for e in sitemaps(nginx.url("/sitemaps/loop.xml"), client=client, max_depth=3)] == [
            nginx.url("/too-deep")]
        assert list(sitemaps(nginx.url("/sitemaps/loop.xml"), client=client, max_depth=3, max_sitemaps=3)) == []


# -- parse_sitemap, sans-IO --------------------------------------------------------------------------------


def test_url_limit_keeps_the_first_and_says_truncated() -> None:
    doc = urlset(*(f"https://example.org/{i}" for i in range(10)))
    result = parse_sitemap(doc, max_urls=4)
    assert [e.loc for e in result.urls] == [f"https://example.org/{i}" for i in range(4)]
    assert result.truncated


def test_byte_limit_applies_after_decompression() -> None:
    doc = urlset(*(f"https://example.org/{i:06d}" for i in range(20_000)))
    packed = gzip.compress(doc)
    assert len(packed) < 100_000 < len(doc)
    result = parse_sitemap(packed, max_bytes=100_000)
    assert result.truncated and 0 < len(result.urls) < 20_000
    assert all(e.loc.startswith("https://example.org/") for e in result.urls)


@pytest.mark.parametrize(
    "doc",
    [
        # billion laughs: refused at the DOCTYPE, before any entity exists
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<urlset><url><loc>&lol2;</loc></url></urlset>",
        # an external entity (XXE)
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]><urlset><url><loc>&x;</loc>'
        b"</url></urlset>",
    ],
)
def test_doctype_and_entities_are_refused(doc: bytes) -> None:
    with pytest.raises(SitemapError, match="DOCTYPE"):
        parse_sitemap(doc)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"<html><body>not a sitemap</body></html>", "root element <html>"),
        (b"<urlset><url><loc>https://example.org/</loc></url>", "malformed XML"),
        (b"<urlset><url><loc>&undefined;</loc></url></urlset>", "malformed XML"),
    ],
)
def test_not_a_sitemap(doc: bytes, message: str) -> None:
    with pytest.raises(SitemapError, match=message):
        parse_sitemap(doc)


def test_relative_and_non_http_locations_are_skipped_and_counted() -> None:
    result = parse_sitemap(urlset("/relative", "ftp://example.org/f", "javascript:alert(1)", "https://example.org/ok"))
    assert [e.loc for e in result.urls] == ["https://example.org/ok"] and result.skipped == 3


def test_text_sitemap_with_bom_and_crlf() -> None:
    result = parse_sitemap(b"\xef\xbb\xbfhttps://example.org/a\r\nhttps://example.org/b\r\n")
    assert isinstance(result, ParsedSitemap) and result.kind == "text"
    assert [e.loc for e in result.urls] == ["https://example.org/a", "https://example.org/b"]
