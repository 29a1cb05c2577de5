"""Cookies through ``http.cookiejar``: adapters that let a CookieJar read netwire's Request and Response.

The jar was written for urllib.request's objects; it asks a request for ``get_full_url()``,
``host``, ``type``, ``unverifiable``, ``origin_req_host``, ``has_header``, ``get_header``,
``header_items`` and ``add_unredirected_header``, and a response for ``info().get_all(...)``.
The small classes here answer those questions from our models, so any CookieJar (and any
CookiePolicy) works unchanged. ``http.cookiejar`` itself is imported only when a jar is made.

The jar a client makes is a :class:`~netwire.policy.cookiejar.BoundedCookieJar`: it refuses
cookies for public suffixes (``Domain=co.uk``) and caps cookies per site and in total. The
Cookie header is capped for any jar (``max_header_bytes`` of the jar, else 8000 bytes).

For redirects, the Cookie header a jar adds belongs to one hop: :func:`add_cookie_header`
returns a new Request carrying it and leaves the caller's request untouched, so the next hop
starts from the request without it and gets the cookies its own URL deserves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..models import Headers, Request, Response

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

__all__ = ["add_cookie_header", "extract_cookies", "make_cookie_jar"]


# The longest Cookie value sent when the jar names no limit (see cookiejar.DEFAULT_MAX_COOKIE_HEADER).
_MAX_COOKIE_HEADER = 8000


def make_cookie_jar(
    *,
    max_per_domain: int | None = None,
    max_total: int | None = None,
    max_header_bytes: int | None = None,
) -> CookieJar:
    """A fresh, empty :class:`~netwire.policy.cookiejar.BoundedCookieJar` (a ``CookieJar``).

    It refuses public-suffix domains and keeps at most ``max_per_domain`` cookies per site
    (default 180) and ``max_total`` in all (default 3000), evicting the oldest; the Cookie
    header stays within ``max_header_bytes`` (default 8000). ``http.cookiejar`` is imported
    now, not at ``import netwire``. ``Client(cookies=make_cookie_jar(max_total=500))`` sets
    other limits.
    """
    from . import cookiejar

    return cookiejar.BoundedCookieJar(
        max_per_domain=cookiejar.DEFAULT_MAX_COOKIES_PER_DOMAIN if max_per_domain is None else max_per_domain,
        max_total=cookiejar.DEFAULT_MAX_COOKIES if max_total is None else max_total,
        max_header_bytes=cookiejar.DEFAULT_MAX_COOKIE_HEADER if max_header_bytes is None else max_header_bytes,
    )


class _JarRequest:
    """What a CookieJar expects of ``urllib.request.Request``, read from a netwire Request."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self._added: list[tuple[str, str]] = []
        url = request.url
        self.type = "http" if url.scheme == "http+unix" else url.scheme
        self.host = request.headers.get("host") or url.host
        self.unverifiable = bool(request.extensions.get("unverifiable", False))
        self.origin_req_host = str(request.extensions.get("origin_req_host") or url.hostname)

    def get_full_url(self) -> str:
        return str(self._request.url.without_fragment())

    def has_header(self, name: str) -> bool:
        return name in self._request.headers or any(k.lower() == name.lower() for k, _ in self._added)

    def get_header(self, name: str, default: Any = None) -> Any:
        return self._request.headers.get(name, default)

    def header_items(self) -> list[tuple[str, str]]:
        return self._request.headers.multi_items() + self._added

    def add_unredirected_header(self, name: str, value: str) -> None:
        self._added.append((name, value))

    # urllib.request.Request spells these as methods too; some CookiePolicy subclasses call them.
    def get_host(self) -> str:
        return str(self.host)

    def get_type(self) -> str:
        return self.type

    def is_unverifiable(self) -> bool:
        return self.unverifiable

    def get_origin_req_host(self) -> str:
        return self.origin_req_host


class _HeaderMessage:
    """The ``email.message.Message`` face of our Headers that ``info()`` must return."""

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def get_all(self, name: str, failobj: Any = None) -> Any:
        values = self._headers.get_list(name)
        return values if values else failobj

    def get(self, name: str, failobj: Any = None) -> Any:
        return self._headers.get(name, failobj)

    def __contains__(self, name: object) -> bool:
        return name in self._headers


class _JarResponse:
    def __init__(self, response: Response) -> None:
        self._message = _HeaderMessage(response.headers)

    def info(self) -> _HeaderMessage:
        return self._message


def add_cookie_header(jar: CookieJar, request: Request) -> Request:
    """``request`` with the Cookie header the jar has for its URL (the same object if none).

    A Cookie header the caller set stays and the jar adds nothing (urllib's rule). The
    original request is never modified.
    """
    if getattr(jar, "_cookies", None) == {}:
        return request  # an empty standard jar: skip its per-request bookkeeping (hot path)
    adapter = _JarRequest(request)
    jar.add_cookie_header(adapter)  # type: ignore[arg-type]
    if not adapter._added:
        return request
    headers = request.headers.copy()
    limit = getattr(jar, "max_header_bytes", _MAX_COOKIE_HEADER)
    for name, value in adapter._added:
        if len(value) > limit and name.lower() == "cookie":
            value = _cap_cookie_header(value, limit)
            if not value:
                continue
        headers[name] = value
    return Request(request.method, request.url, headers, request.content, dict(request.extensions))


def extract_cookies(jar: CookieJar, response: Response, request: Request | None = None) -> None:
    """Store the cookies ``response`` sets (Set-Cookie) in ``jar``, as policy allows.

    ``request`` is the request that produced the response (``response.request`` when None).
    """
    req = request if request is not None else response.request
    if req is None:
        raise ValueError("extract_cookies needs the request the response answers")
    if "set-cookie" not in response.headers and "set-cookie2" not in response.headers:
        return  # the common case: no jar work at all
    jar.extract_cookies(_JarResponse(response), _JarRequest(req))  # type: ignore[arg-type]


def _cap_cookie_header(value: str, limit: int) -> str:
    """The whole ``name=value`` pairs of a Cookie header, in the jar's order, that fit in ``limit``.

    The jar lists cookies with longer (more specific) paths first, as RFC 6265 5.4 asks, so the
    ones left out are the least specific. A cookie value never holds "; " (Set-Cookie parsing
    splits on ";"), so the split is exact.
    """
    kept: list[str] = []
    size = 0
    for pair in value.split("; "):
        grown = size + len(pair) + (2 if kept else 0)
        if grown > limit:
            continue  # a smaller cookie further on may still fit
        kept.append(pair)
        size = grown
    return "; ".join(kept)
