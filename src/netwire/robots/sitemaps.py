"""Sitemaps: the URLs a site lists for crawlers (sitemaps.org protocol 0.9, and the other formats
search engines accept as sitemaps).

* :func:`parse_sitemap` reads one document, sans-IO: an XML ``<urlset>`` or ``<sitemapindex>``, an
  RSS 2.0 or Atom feed, or a text file of one URL a line; gzip-compressed or not.
* :func:`sitemaps` finds a site's sitemaps (``Sitemap:`` lines of its robots.txt, else
  ``/sitemap.xml``), follows sitemap indexes, and yields every listed URL once.

Limits, each with a default from the protocol and an override: a document holds at most
:data:`MAX_URLS` URLs and :data:`MAX_BYTES` bytes once uncompressed (the protocol's own limits; more
is cut off, and ``truncated`` says so); an index is followed :data:`MAX_DEPTH` levels deep and
:data:`MAX_SITEMAPS` documents at most. XML is read with expat and any ``<!DOCTYPE`` is refused, so
no entity is ever declared or expanded (billion laughs, external entities): no sitemap needs one.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from xml.parsers import expat

from ..errors import DecodingError, InvalidURL, NetwireError

if TYPE_CHECKING:
    from ..http.client import Client

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_SITEMAPS",
    "MAX_URLS",
    "ParsedSitemap",
    "SitemapEntry",
    "SitemapError",
    "parse_sitemap",
    "sitemaps",
]

#: URLs in one sitemap document (sitemaps.org: "no more than 50,000 URLs").
MAX_URLS = 50_000
#: Bytes of one sitemap document once uncompressed (sitemaps.org: "no larger than 50MB").
MAX_BYTES = 50 * 1024 * 1024
#: How many levels of sitemap index :func:`sitemaps` follows (the protocol allows one).
MAX_DEPTH = 2
#: How many documents :func:`sitemaps` fetches for one site at most.
MAX_SITEMAPS = 1000

Kind = Literal["urlset", "sitemapindex", "rss", "atom", "text"]


class SitemapError(NetwireError):
    """A document that is not a sitemap, is malformed, or declares a DOCTYPE."""


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """One URL a sitemap lists, with the optional fields the protocol defines (as written)."""

    loc: str
    lastmod: str | None = None
    changefreq: str | None = None
    priority: str | None = None
    sitemap: str = ""
    """The URL of the document that listed it."""


@dataclass(slots=True)
class ParsedSitemap:
    """What one document holds: page URLs (``urls``) or, for an index, more sitemaps (``sitemaps``)."""

    kind: Kind
    urls: list[SitemapEntry] = field(default_factory=list)
    sitemaps: list[SitemapEntry] = field(default_factory=list)
    truncated: bool = False
    """More URLs, or more bytes, than the limits allow: the rest was not read."""
    skipped: int = 0
    """Entries left out because their URL was not an absolute http(s) URL."""


def _gunzip(data: bytes, max_bytes: int) -> tuple[bytes, bool]:
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decoder.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise DecodingError(f"sitemap: bad gzip data ({exc})") from None
    if len(out) > max_bytes:
        return out[:max_bytes], True
    return out, False


def _absolute_http(text: str) -> str | None:
    text = text.strip()
    if not text.lower().startswith(("http://", "https://")):
        return None
    from ..url import URL

    try:
        return URL(text).href
    except InvalidURL:
        return None


def parse_sitemap(
    data: bytes, url: str = "", *, max_urls: int = MAX_URLS, max_bytes: int = MAX_BYTES
) -> ParsedSitemap:
    """Read one sitemap document (gzip-compressed or not); ``url`` is where it came from.

    Raises :class:`SitemapError` for a document that is none of the accepted formats or is
    malformed XML, and for any ``<!DOCTYPE``. URLs past ``max_urls`` and bytes past ``max_bytes``
    are not read (``truncated`` is then true).
    """
    truncated = False
    if data[:2] == b"\x1f\x8b":
        data, truncated = _gunzip(data, max_bytes)
    elif len(data) > max_bytes:
        data, truncated = data[:max_bytes], True
    start = data.lstrip(b"\xef\xbb\xbf\t\n\r ")
    if start.startswith(b"<"):
        result = _parse_xml(data, url, max_urls, cut=truncated)
    else:
        result = _parse_text(data, url, max_urls)
    result.truncated = result.truncated or truncated
    return result


def _parse_text(data: bytes, url: str, max_urls: int) -> ParsedSitemap:
    result = ParsedSitemap("text")
    for raw in data.decode("utf-8-sig", errors="replace").splitlines():
        if not raw.strip():
            continue
        loc = _absolute_http(raw)
        if loc is None:
            result.skipped += 1
        elif len(result.urls) >= max_urls:
            result.truncated = True
            break
        else:
            result.urls.append(SitemapEntry(loc, sitemap=url))
    return result


class _Stop(Exception):
    """Raised from a handler to stop expat once the URL limit is reached."""


# The fields kept per format: element (local name) -> SitemapEntry field.
_FIELDS = {
    "urlset": ("url", {"loc": "loc", "lastmod": "lastmod", "changefreq": "changefreq", "priority": "priority"}),
    "sitemapindex": ("sitemap", {"loc": "loc", "lastmod": "lastmod"}),
    "rss": ("item", {"link": "loc", "pubDate": "lastmod"}),
    "atom": ("entry", {"updated": "lastmod"}),  # the link comes from <link href>
}
_ROOTS: dict[str, Kind] = {"urlset": "urlset", "sitemapindex": "sitemapindex", "rss": "rss", "feed": "atom"}


def _parse_xml(data: bytes, url: str, max_urls: int, *, cut: bool) -> ParsedSitemap:
    parser = expat.ParserCreate(namespace_separator=" ")
    state: dict[str, object] = {}
    result: ParsedSitemap | None = None
    item: dict[str, str] | None = None
    text: list[str] = []
    depth = 0

    def local(name: str) -> str:
        return name.rpartition(" ")[2]

    def refuse_doctype(*args: object) -> None:
        raise SitemapError("sitemap: a <!DOCTYPE> is not allowed (no entity is ever expanded)")

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal result, item, depth
        depth += 1
        tag = local(name)
        if result is None:
            kind = _ROOTS.get(tag)
            if kind is None:
                raise SitemapError(f"sitemap: not a sitemap or feed (root element <{tag}>)")
            result = ParsedSitemap(kind)
            state["entry"] = _FIELDS[kind][0]
            return
        if tag == state["entry"] and item is None:
            item = {}
        elif item is not None:
            if result.kind == "atom" and tag == "link" and "loc" not in item:
                rel = attrs.get("rel", "alternate")
                if rel == "alternate" and "href" in attrs:
                    item["loc"] = attrs["href"]
            text.clear()

    def end(name: str) -> None:
        nonlocal item, depth
        depth -= 1
        tag = local(name)
        if item is None or result is None:
            return
        if tag == state["entry"]:
            done, item = item, None
            loc = _absolute_http(done.get("loc", ""))
            if loc is None:
                result.skipped += 1
                return
            target = result.sitemaps if result.kind == "sitemapindex" else result.urls
            if len(target) >= max_urls:
                result.truncated = True
                raise _Stop
            target.append(
                SitemapEntry(loc, done.get("lastmod"), done.get("changefreq"), done.get("priority"), url)
            )
            return
        fieldname = _FIELDS[result.kind][1].get(tag)
        if fieldname is not None and fieldname not in item:
            item[fieldname] = "".join(text).strip()

    def chars(data: str) -> None:
        if item is not None:
            text.append(data)

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, not cut)
    except _Stop:
        pass
    except expat.ExpatError as exc:
        raise SitemapError(f"sitemap: malformed XML ({exc})") from None
    if result is None:
        raise SitemapError("sitemap: no root element")
    return result


def sitemaps(
    url: str,
    *,
    client: Client | None = None,
    max_depth: int = MAX_DEPTH,
    max_sitemaps: int = MAX_SITEMAPS,
    max_urls: int = MAX_URLS,
    max_bytes: int = MAX_BYTES,
    errors: list[tuple[str, NetwireError]] | None = None,
) -> Iterator[SitemapEntry]:
    """Every URL a site's sitemaps list, in the order found (once per document: a URL that two
    documents list comes twice, so that memory stays bounded however many URLs a site has).

    ``url`` is a site (its robots.txt's ``Sitemap:`` lines are read; ``/sitemap.xml`` when it names
    none), a robots.txt, or a sitemap itself (any other path). Sitemap indexes are followed
    ``max_depth`` levels deep, ``max_sitemaps`` documents at most. When ``errors`` is a list, a
    document that fails (HTTP error, network failure, not a sitemap) is recorded there as
    ``(url, exception)`` and the others are still read; otherwise the first failure raises.
    """
    from ..http.client import Client
    from ..robotparser import RobotsTxt, fetch_robots, robots_url
    from ..url import URL

    own = client is None
    active = Client() if client is None else client
    try:
        parsed = URL(url)
        if parsed.pathname in ("", "/", "/robots.txt"):
            robots = fetch_robots(robots_url(url), client=active)
            listed = RobotsTxt.parse(robots.body).sitemaps if robots.status == 200 else []
            queue = deque((u, 0) for u in listed) or deque([(str(URL("/sitemap.xml", url)), 0)])
        else:
            queue = deque([(parsed.href, 0)])
        seen_docs: set[str] = set()
        while queue and len(seen_docs) < max_sitemaps:
            doc_url, depth = queue.popleft()
            if doc_url in seen_docs:
                continue
            seen_docs.add(doc_url)
            try:
                doc = _fetch_document(active, doc_url, max_bytes, max_urls)
            except NetwireError as exc:
                if errors is None:
                    raise
                errors.append((doc_url, exc))
                continue
            if depth < max_depth:
                room = max(0, max_sitemaps - len(seen_docs) - len(queue))  # the queue stays bounded too
                queue.extend((entry.loc, depth + 1) for entry in doc.sitemaps[:room])
            seen_here: set[str] = set()
            for entry in doc.urls:
                if entry.loc not in seen_here:
                    seen_here.add(entry.loc)
                    yield entry
    finally:
        if own:
            active.close()


def _fetch_document(client: Client, url: str, max_bytes: int, max_urls: int) -> ParsedSitemap:
    from ..errors import HTTPStatusError

    with client.stream("GET", url) as r:
        if r.status != 200:
            raise HTTPStatusError(f"sitemap: {r.status} {r.reason} for {url}", request=r.request, response=r)
        body = bytearray()
        for chunk in r.iter_bytes(64 * 1024):
            body += chunk
            if len(body) > max_bytes:
                break  # the rest is never read (a gzip body is cut when decompressed, too)
    return parse_sitemap(bytes(body), url, max_urls=max_urls, max_bytes=max_bytes)
