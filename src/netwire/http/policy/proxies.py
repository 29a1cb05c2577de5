"""Proxy choice: which proxy (if any) a URL goes through. Pure: no I/O, no DNS.

Sources, strongest first: what the caller passes (``proxy=`` / ``proxies=`` and ``no_proxy=``),
then, when the client trusts the environment, ``http_proxy`` / ``https_proxy`` / ``all_proxy``
and ``no_proxy`` (lower case wins over upper case, as in urllib and curl). Explicit settings
replace the environment's as a whole: the environment's ``no_proxy`` does not veto a proxy the
caller chose (see :func:`effective_settings`).

``no_proxy`` follows urllib's rule exactly (see :func:`host_bypasses`): ``*`` as the whole value
(everything), else entries separated by commas: a domain (``example.com`` or ``.example.com``: the
domain and its subdomains) or an exact host, optionally with a port (``host:8080``,
``[::1]:8080``); netwire adds IP addresses compared as addresses and CIDR blocks
(``10.0.0.0/8``, ``fd00::/8``).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from ...errors import InvalidURL
from ...url import URL
from .auth import basic_auth_header

__all__ = [
    "Proxy",
    "ProxyKind",
    "effective_settings",
    "no_proxy_from_env",
    "proxies_from_env",
    "proxy_authorization",
    "host_bypasses",
    "select_proxy",
    "should_bypass",
]

ProxyKind = Literal["http", "https", "socks5", "socks5h"]
_KINDS: dict[str, ProxyKind] = {
    "http": "http",
    "https": "https",
    "socks5": "socks5",
    "socks5h": "socks5h",
    # curl's spelling for SOCKS5 with remote name resolution.
    "socks": "socks5h",
}
_DEFAULT_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080}


def _unquote(text: str) -> str:
    """Percent-decode userinfo (UTF-8; invalid sequences kept as they are)."""
    if "%" not in text:
        return text
    out = bytearray()
    raw = text.encode("utf-8")
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x25 and i + 2 < n and _is_hex(raw[i + 1]) and _is_hex(raw[i + 2]):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(c)
            i += 1
    return out.decode("utf-8", errors="surrogateescape")


def _is_hex(b: int) -> bool:
    return 48 <= b <= 57 or 65 <= b <= 70 or 97 <= b <= 102


@dataclass(frozen=True)
class Proxy:
    """A proxy to send requests through.

    ``url`` is the proxy's address without credentials (``http://proxy:3128``); ``auth`` the
    (user, password) for ``Proxy-Authorization`` (HTTP) or RFC 1929 (SOCKS5); ``kind`` how to
    talk to it: ``http`` (plain HTTP proxy; https URLs go through CONNECT), ``https`` (the same
    over TLS to the proxy), ``socks5`` (names resolved locally), ``socks5h`` (names resolved by
    the proxy).
    """

    url: URL
    auth: tuple[str, str] | None = None
    kind: ProxyKind = "http"
    authorization: str | None = field(default=None, repr=False)
    """A ``Proxy-Authorization`` value of any scheme, sent verbatim (wins over ``auth``)."""

    @classmethod
    def from_url(cls, value: str | URL, auth: tuple[str, str] | None = None) -> Proxy:
        """Parse a proxy URL such as ``http://user:pw@proxy:3128`` or ``socks5h://127.0.0.1:1080``.

        A value without a scheme (``proxy:3128``, common in the environment) is taken as http.
        Credentials in the URL are percent-decoded; an explicit ``auth`` wins over them.
        """
        text = str(value).strip()
        if "://" not in text:
            text = "http://" + text
        try:
            url = URL(text)
        except InvalidURL as exc:
            raise InvalidURL(f"invalid proxy URL {str(value)!r}: {exc}") from exc
        kind = _KINDS.get(url.scheme)
        if kind is None:
            raise InvalidURL(f"unsupported proxy scheme {url.scheme!r} in {str(value)!r} (http, https, socks5, socks5h)")
        if not url.hostname:
            raise InvalidURL(f"proxy URL {str(value)!r} has no host")
        if auth is None and (url.username or url.password):
            auth = (_unquote(url.username), _unquote(url.password))
        port = url.effective_port or _DEFAULT_PORTS[kind]
        host = url.hostname
        bare = URL(f"{url.scheme}://{host}:{port}")
        return cls(bare, auth, kind)

    @property
    def host(self) -> str:
        """The proxy's host as a socket wants it (IPv6 without brackets)."""
        return self.url.host_for_socket

    @property
    def port(self) -> int:
        port = self.url.effective_port
        return port if port is not None else _DEFAULT_PORTS[self.kind]

    @property
    def pool_key(self) -> tuple[object, ...]:
        """What tells apart connections through this proxy (credentials included: a tunnel
        opened with one caller's credentials is not handed to another's requests)."""
        return (self.kind, self.host, self.port, self.auth, self.authorization)

    def tunnels(self, scheme: str) -> bool:
        """Whether a request for a ``scheme`` URL goes through a tunnel (CONNECT or SOCKS5)
        rather than to the proxy itself (plain http through an HTTP proxy, absolute-form)."""
        return scheme != "http" or self.kind not in ("http", "https")

    def with_authorization(self, value: str) -> Proxy:
        """This proxy with ``value`` as its ``Proxy-Authorization``, verbatim."""
        return self if value == self.authorization else replace(self, authorization=value)

    def __repr__(self) -> str:
        auth = ", auth=(***)" if self.auth or self.authorization else ""
        return f"Proxy({str(self.url)!r}, kind={self.kind!r}{auth})"


def proxy_authorization(proxy: Proxy) -> str | None:
    """The ``Proxy-Authorization`` value for an HTTP proxy: the verbatim ``authorization`` if
    set (any scheme: Basic, Bearer, Negotiate...), else Basic from ``auth``, else None."""
    if proxy.authorization is not None:
        return proxy.authorization
    if proxy.auth is None:
        return None
    return basic_auth_header(*proxy.auth)


def _env_lookup(environ: Mapping[str, str], name: str, *, cgi_safe: bool = False) -> str | None:
    """``name`` from the environment: the lower-case variable wins, even when set but empty."""
    lower = environ.get(name)
    if lower is not None:
        return lower.strip() or None
    if cgi_safe and "REQUEST_METHOD" in environ:
        # CVE-2016-1000110 (httpoxy): in a CGI script HTTP_PROXY may come from the client's
        # "Proxy:" request header. Only the lower-case name is trusted there.
        return None
    upper = environ.get(name.upper())
    if upper is not None:
        return upper.strip() or None
    return None


def proxies_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Proxy]:
    """The proxies the environment names, keyed ``"http"``, ``"https"``, ``"all"``.

    Raises InvalidURL for a variable that is set but not a proxy URL (better than silently
    going direct when a proxy was meant).
    """
    env = os.environ if environ is None else environ
    found: dict[str, Proxy] = {}
    for key in ("http", "https", "all"):
        value = _env_lookup(env, f"{key}_proxy", cgi_safe=key == "http")
        if value:
            try:
                found[key] = Proxy.from_url(value)
            except InvalidURL as exc:
                raise InvalidURL(f"{key}_proxy from the environment: {exc}") from exc
    return found


def no_proxy_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``no_proxy`` (or ``NO_PROXY``) from the environment, or None.

    The lower-case variable wins, even when set but empty; the value is kept as written (not
    stripped), as urllib keeps it: ``" *"`` is not the catch-all ``*``.
    """
    env = os.environ if environ is None else environ
    lower = env.get("no_proxy")
    if lower is not None:
        return lower or None
    return env.get("NO_PROXY") or None


def effective_settings(
    proxies: Mapping[str, Proxy | str | None] | None,
    no_proxy: str | None,
    *,
    trust_env: bool = True,
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, Proxy | str | None], str | None]:
    """Merge explicit settings with the environment: explicit ones always win.

    When ``proxies`` is given (even empty: "no proxy"), the environment's proxies and its
    no_proxy are ignored; an explicit ``no_proxy`` is always used. Otherwise, with
    ``trust_env``, the environment's proxies and no_proxy apply.
    """
    if proxies is not None:
        return dict(proxies), no_proxy
    if not trust_env:
        return {}, no_proxy
    env_proxies: dict[str, Proxy | str | None] = dict(proxies_from_env(environ))
    return env_proxies, no_proxy if no_proxy is not None else no_proxy_from_env(environ)


def _split_entry(entry: str) -> tuple[str, int | None]:
    """(host, port) of one no_proxy entry; the host lower-cased, IPv6 without brackets."""
    if entry.startswith("["):
        close = entry.find("]")
        if close < 0:
            return entry, None
        host = entry[1:close]
        rest = entry[close + 1 :]
        if rest.startswith(":") and rest[1:].isdigit():
            return host, int(rest[1:])
        return host, None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit():
            return host, int(port)
        return host, None
    return entry, None  # a bare IPv6 address or block has several colons and no port


def _host_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def should_bypass(url: URL, no_proxy: str | None) -> bool:
    """Whether ``url`` must be fetched directly per the ``no_proxy`` rules.

    The rules are urllib's (:func:`urllib.request.proxy_bypass_environment` of the running
    interpreter), applied to the URL's ``host[:port]``, plus netwire's additions (see
    :func:`host_bypasses`); an entry's port is compared with the URL's port, default included.
    """
    if not no_proxy:
        return False
    return _bypass(url.host.lower(), url.effective_port, no_proxy)


def host_bypasses(host: str, no_proxy: str | None) -> bool:
    """Whether ``host`` (``host`` or ``host:port``, as in a request's Host) bypasses the proxy.

    urllib's rule, to the letter: ``*`` bypasses everything only as the whole value; otherwise
    the value is a comma-separated list of entries, each stripped of white space and leading
    dots, matching the host (with or without its port) exactly or as a domain suffix, case
    insensitively. Nothing in ``host`` is cleaned up first, so ``"example.com\\n"`` does not match
    ``example.com``.

    netwire adds, for IP literals only: an IP entry matches the same address in any spelling
    (``::1`` matches ``[::1]:8080``), a CIDR entry (``10.0.0.0/8``, ``fd00::/8``) matches the
    addresses in the block; an entry with a port (``host:8080``, ``[::1]:8080``) matches that port.
    """
    if not no_proxy:
        return False
    host = host.lower()
    port = _PORT_RE.fullmatch(host)
    return _bypass(host, int(port.group(2)) if port and port.group(2) else None, no_proxy)


# urllib's ``_splitport``: the host and the digits after its last colon (possibly none).
_PORT_RE = re.compile(r"(.*):([0-9]*)", re.DOTALL)


def _bypass(host: str, port: int | None, no_proxy: str) -> bool:
    """``host`` (lower case, ``name[:port]``) against ``no_proxy``; ``port`` the effective port if known."""
    if no_proxy == "*":
        return True
    m = _PORT_RE.fullmatch(host)
    hostonly = m.group(1) if m and m.group(2) else host
    bare = hostonly[1:-1] if hostonly.startswith("[") and hostonly.endswith("]") else hostonly
    ip = _host_ip(bare)
    for raw in no_proxy.split(","):
        name = raw.strip().lstrip(".").lower()
        if not name:
            continue
        # urllib's rule: the host with or without its port, exactly or as a domain suffix.
        if hostonly == name or host == name:
            return True
        if hostonly.endswith("." + name) or host.endswith("." + name):
            return True
        # netwire's additions: ports compared as numbers (a default port included), IP
        # addresses compared as addresses, and CIDR blocks.
        entry, entry_port = _split_entry(name)
        if entry_port is not None and entry_port != port:
            continue
        if "/" in entry:
            if ip is None:
                continue
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if ip.version == network.version and ip in network:
                return True
            continue
        entry_ip = _host_ip(entry)
        if entry_ip is not None:
            if ip is not None and ip == entry_ip:
                return True
            continue
        if entry_port is not None and (hostonly == entry or hostonly.endswith("." + entry)):
            return True
    return False


def _coerce(value: Proxy | str | URL) -> Proxy:
    return value if isinstance(value, Proxy) else Proxy.from_url(value)


def select_proxy(
    url: URL,
    proxies: Mapping[str, Proxy | str | None],
    no_proxy: str | None = None,
) -> Proxy | None:
    """The proxy for ``url``, or None to connect directly.

    ``proxies`` keys, most specific first: ``"<scheme>://<host>"`` (e.g. ``"https://example.com"``),
    ``"all://<host>"``, ``"<scheme>"``, ``"all"``. A value of None means "direct" and ends the
    search. ``no_proxy`` rules are checked first. Unix socket URLs never use a proxy.
    """
    if url.scheme == "http+unix" or not proxies:
        return None
    if should_bypass(url, no_proxy):
        return None
    host = url.hostname.lower()
    for key in (f"{url.scheme}://{host}", f"all://{host}", url.scheme, "all"):
        if key in proxies:
            value = proxies[key]
            return None if value is None else _coerce(value)
    return None
