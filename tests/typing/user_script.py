"""A user's script using netwire's documented calls: it must pass ``mypy --strict`` unchanged."""

from __future__ import annotations

import asyncio

import netwire
from netwire import error, parse, request, robotparser
from netwire.robots.sitemaps import parse_sitemap
from netwire.url import URL


def sync_part(base: str) -> int:
    with netwire.Client(timeout=5) as client:
        r = client.get(base + "/get", params={"q": "x"})
        path: str = r.url.pathname
        code: int = r.status_code
        ok: bool = r.ok
        text: str = r.text
        enc: str | None = r.encoding
        with client.stream("GET", base + "/bytes/10") as s:
            for chunk in s.iter_bytes():
                assert isinstance(chunk, bytes)
    one = netwire.get(base + "/get")
    headers: netwire.Headers = one.headers
    del path, ok, text, enc, headers
    return code


async def async_part(base: str) -> list[int]:
    async with netwire.AsyncClient() as client:
        r: netwire.AsyncResponse = await client.get(base + "/get")
        body: bytes = await r.aread()
        del body
        return [r.status]


def batch_part(urls: list[str]) -> list[int | None]:
    outcomes: list[netwire.FetchOutcome] = list(netwire.fetch_all(urls, concurrency=4))
    return [o.response.status if o.response is not None else None for o in outcomes]


def urllib_part(base: str) -> str:
    try:
        with request.urlopen(base + "/get", timeout=5) as f:
            data: bytes = f.read()
    except error.URLError as exc:
        return str(exc.reason)
    parts = parse.urlsplit(base)
    port: int | None = parts.port
    del port
    rp = robotparser.RobotFileParser(base + "/robots.txt")
    allowed: bool = rp.can_fetch("bot", base + "/")
    del allowed
    return parts.netloc + parse.quote(base) + data.decode()


def url_part() -> str:
    u = URL("https://example.org/a?b=c")
    return u.hostname + str(len(parse_sitemap(b"https://example.org/\n").urls))


def main() -> None:
    base = "http://127.0.0.1:8080"
    sync_part(base)
    asyncio.run(async_part(base))
    batch_part([base])
    urllib_part(base)
    url_part()
