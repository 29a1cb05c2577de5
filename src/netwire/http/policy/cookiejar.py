"""The cookie jar a netwire client makes: ``http.cookiejar`` with public-suffix and size bounds.

A site may set cookies for any domain above its own, and ``http.cookiejar``'s default policy
knows only a short list of ``co.uk``-like names: ``Domain=github.io`` or ``Domain=s3.amazonaws.com``
was accepted and sent to every sibling site. And it keeps every cookie it is given: a server
sending 250 per response grew the jar to 30,000 cookies and the Cookie header to 400 KB.

* :class:`PublicSuffixCookiePolicy` refuses a ``Domain`` attribute that is a public suffix
  (RFC 6265 5.3 step 5, by the vendored Public Suffix List, :mod:`netwire._psl`); when the
  suffix is the request host itself the cookie is kept as a host-only cookie, as the RFC says.
* :class:`BoundedCookieJar` keeps at most ``max_per_domain`` cookies per site (registrable
  domain: ``a.example.com`` and ``b.example.com`` count together) and ``max_total`` in all,
  evicting expired cookies first, then the oldest (RFC 6265 5.3 asks for at least 50 and 3000;
  these defaults are Chrome's). ``max_header_bytes`` bounds the Cookie header it produces
  (applied by :func:`netwire.policy.cookies.add_cookie_header`).

This module imports ``http.cookiejar`` (~40 ms), so it is imported only when a jar is made.
"""

from __future__ import annotations

import http.cookiejar
import time
from collections import OrderedDict
from http.cookiejar import Cookie, CookieJar, CookiePolicy, DefaultCookiePolicy
from typing import Any

from ..._psl import is_public_suffix, registrable_domain

__all__ = [
    "DEFAULT_MAX_COOKIE_HEADER",
    "DEFAULT_MAX_COOKIES",
    "DEFAULT_MAX_COOKIES_PER_DOMAIN",
    "BoundedCookieJar",
    "PublicSuffixCookiePolicy",
]

# Chrome keeps 180 cookies per registrable domain; RFC 6265 5.3 asks for at least 50.
DEFAULT_MAX_COOKIES_PER_DOMAIN = 180
# RFC 6265 5.3 asks for at least 3000 in all; Chrome keeps 3300, Firefox about as many.
DEFAULT_MAX_COOKIES = 3000
# The Cookie field's value: with "Cookie: " and CRLF the line stays under the 8 KiB most servers
# read a header line into (nginx's large_client_header_buffers, Apache's LimitRequestFieldSize
# 8190); a longer one would be answered 400 anyway, so whole cookies past it are left out.
DEFAULT_MAX_COOKIE_HEADER = 8000

Key = tuple[str, str, str]  # (domain, path, name): what identifies a cookie in a CookieJar


def _is_ip(host: str) -> bool:
    return host.replace(".", "").isdigit() or ":" in host or host.startswith("[")


class PublicSuffixCookiePolicy(DefaultCookiePolicy):
    """``DefaultCookiePolicy`` that also refuses a ``Domain`` attribute naming a public suffix.

    And a cookie set without ``Domain`` goes back to its host only, not to its subdomains
    (RFC 6265's host-only flag; ``DefaultCookiePolicy`` sends it to subdomains too unless
    ``DomainStrictNonDomain`` is set). A cookie with no domain at all (one given to
    ``Client(cookies={...})``) still goes to every host.
    """

    _last: tuple[Any, str] | None = None

    def return_ok_domain(self, cookie: Cookie, request: Any) -> bool:
        if cookie.domain and not cookie.domain_specified and cookie.version == 0:
            # Called once per stored cookie for one request: work its host out once.
            last = self._last
            if last is not None and last[0] is request:
                erhn = last[1]
            else:
                # eff_request_host is module-level in http.cookiejar since Python 2, not in typeshed.
                erhn = http.cookiejar.eff_request_host(request)[1]  # type: ignore[attr-defined]
                self._last = (request, erhn)
            if cookie.domain != erhn:
                return False
        return super().return_ok_domain(cookie, request)

    def set_ok_domain(self, cookie: Cookie, request: Any) -> bool:
        if not super().set_ok_domain(cookie, request):
            return False
        if not cookie.domain_specified:
            return True
        domain = cookie.domain.lstrip(".").lower()
        if not domain or _is_ip(domain) or not is_public_suffix(domain):
            return True
        # eff_request_host is module-level in http.cookiejar since Python 2, not in typeshed.
        req_host, erhn = http.cookiejar.eff_request_host(request)  # type: ignore[attr-defined]
        if domain == req_host.lower():
            # RFC 6265 5.3 step 5: a suffix that is the request host itself (say "localhost")
            # makes a host-only cookie, sent to that host alone.
            cookie.domain = erhn
            cookie.domain_specified = False
            cookie.domain_initial_dot = False
            return True
        return False


class BoundedCookieJar(CookieJar):
    """A ``CookieJar`` with a cap per site and in total (oldest evicted first) and a Cookie header cap.

    :param policy: the ``CookiePolicy`` (default: :class:`PublicSuffixCookiePolicy`).
    :param max_per_domain: cookies kept per registrable domain (default 180).
    :param max_total: cookies kept in all (default 3000).
    :param max_header_bytes: the longest Cookie header value sent (default 8000); whole cookies
        past it are left out, those with longer paths (the more specific) first in line.
    """

    # CookieJar's own state, which typeshed does not declare.
    _cookies: dict[str, dict[str, dict[str, Cookie]]]
    _cookies_lock: Any

    def __init__(
        self,
        policy: CookiePolicy | None = None,
        *,
        max_per_domain: int = DEFAULT_MAX_COOKIES_PER_DOMAIN,
        max_total: int = DEFAULT_MAX_COOKIES,
        max_header_bytes: int = DEFAULT_MAX_COOKIE_HEADER,
    ) -> None:
        super().__init__(policy if policy is not None else PublicSuffixCookiePolicy())
        if max_per_domain < 1 or max_total < 1 or max_header_bytes < 1:
            raise ValueError("cookie jar limits must be positive")
        self.max_per_domain = max_per_domain
        self.max_total = max_total
        self.max_header_bytes = max_header_bytes
        # Every cookie's key in creation order (oldest first), with its site; and per site.
        # Replacing a cookie keeps its place (RFC 6265 5.3 step 11.3 keeps the creation time).
        self._created: OrderedDict[Key, str] = OrderedDict()
        self._sites: dict[str, OrderedDict[Key, None]] = {}
        self._site_of: dict[str, str] = {}
        self._purged = 0.0

    def _site(self, domain: str) -> str:
        site = self._site_of.get(domain)
        if site is None:
            host = domain.lstrip(".").lower()
            site = host if not host or _is_ip(host) else (registrable_domain(host) or host)
            if len(self._site_of) >= 1024:
                self._site_of.clear()
            self._site_of[domain] = site
        return site

    def set_cookie(self, cookie: Cookie) -> None:
        with self._cookies_lock:
            super().set_cookie(cookie)
            key = (cookie.domain, cookie.path, cookie.name)
            if key in self._created:
                return
            site = self._site(cookie.domain)
            self._created[key] = site
            members = self._sites.get(site)
            if members is None:
                members = self._sites[site] = OrderedDict()
            members[key] = None
            if len(members) > self.max_per_domain or len(self._created) > self.max_total:
                self._evict(site)

    def _evict(self, site: str) -> None:
        now = time.monotonic()
        if now - self._purged > 1.0:
            # Expired cookies go first; a scan of the jar at most once a second, so a flood
            # of cookies costs O(1) each, not a scan each.
            self._purged = now
            self.clear_expired_cookies()
        members = self._sites.get(site)
        while members and len(members) > self.max_per_domain:
            self._remove(next(iter(members)))
        while len(self._created) > self.max_total:
            self._remove(next(iter(self._created)))

    def _remove(self, key: Key) -> None:
        domain, path, name = key
        paths = self._cookies.get(domain)
        if paths is not None:
            names = paths.get(path)
            if names is not None:
                names.pop(name, None)
                if not names:
                    del paths[path]
            if not paths:
                del self._cookies[domain]
        self._forget(key)

    def _forget(self, key: Key) -> None:
        site = self._created.pop(key, None)
        if site is not None:
            members = self._sites.get(site)
            if members is not None:
                members.pop(key, None)
                if not members:
                    del self._sites[site]

    def clear(self, domain: str | None = None, path: str | None = None, name: str | None = None) -> None:
        with self._cookies_lock:
            super().clear(domain, path, name)
            if domain is None:
                self._created.clear()
                self._sites.clear()
                return
            if name is not None:
                assert path is not None
                self._forget((domain, path, name))
                paths = self._cookies.get(domain)
                # Leave no empty dicts behind: an empty jar must look empty ({}) to the client.
                if paths is not None and not paths.get(path, True):
                    del paths[path]
                if paths is not None and not paths:
                    del self._cookies[domain]
                return
            for key in [k for k in self._created if k[0] == domain and (path is None or k[1] == path)]:
                self._forget(key)
            if not self._cookies.get(domain, True):
                del self._cookies[domain]

    def __len__(self) -> int:
        # O(1): the async client asks on every request (CookieJar counts by walking every cookie).
        return len(self._created)
