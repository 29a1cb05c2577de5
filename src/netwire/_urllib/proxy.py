"""Proxies for the urllib face: :class:`ProxyHandler`, ``getproxies*`` and ``proxy_bypass*``.

The environment is read as urllib reads it (``<scheme>_proxy``, lower case wins, ``HTTP_PROXY``
ignored in a CGI script); the ``no_proxy`` matching is :func:`netwire.policy.proxies.host_bypasses`,
the same rule the Client follows. ``socks5://`` proxies are handed to the Client, which speaks SOCKS5.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

from ..http.policy.proxies import host_bypasses
from ..parse import unquote
from .base import (
    BaseHandler,
    Request,
    _splitpasswd,
    _splittype,
    _splituser,
)


def _parse_proxy(proxy: str) -> tuple[str | None, str | None, str | None, str]:
    """(scheme, user, password, host:port) of a proxy URL or bare authority."""
    scheme, r_scheme = _splittype(proxy)
    if not r_scheme.startswith("/"):
        scheme = None
        authority = proxy
    else:
        if not r_scheme.startswith("//"):
            raise ValueError(f"proxy URL with no authority: {proxy!r}")
        at = r_scheme.find("@")
        end = r_scheme.find("/", at if at >= 0 else 2)
        authority = r_scheme[2:] if end == -1 else r_scheme[2:end]
    userinfo, hostport = _splituser(authority)
    user: str | None
    password: str | None
    if userinfo is not None:
        user, password = _splitpasswd(userinfo)
    else:
        user = password = None
    return scheme, user, password, hostport


def getproxies_environment() -> dict[str, str]:
    """Proxies from ``<scheme>_proxy`` variables (lower case wins), urllib's result shape.

    In a CGI script (REQUEST_METHOD set) ``HTTP_PROXY`` is ignored: a client controls it
    through its ``Proxy:`` header (httpoxy).
    """
    proxies: dict[str, str] = {}
    for name, value in os.environ.items():
        lname = name.lower()
        if value and lname.endswith("_proxy"):
            proxies[lname[:-6]] = value
    if "REQUEST_METHOD" in os.environ:
        proxies.pop("http", None)
    for name, value in os.environ.items():
        if name.endswith("_proxy"):
            lname = name.lower()
            if value:
                proxies[lname[:-6]] = value
            else:
                proxies.pop(lname[:-6], None)
    return proxies


def getproxies() -> dict[str, str]:
    """The proxies to use, keyed by scheme (``{"http": "http://proxy:3128", "no": "localhost"}``).

    Read from the environment on every platform (urllib also reads the Windows registry and
    macOS system settings; netwire does not).
    """
    return getproxies_environment()


def proxy_bypass_environment(host: str, proxies: Mapping[str, str] | None = None) -> bool:
    """True if ``no_proxy`` says to reach ``host`` (``host`` or ``host:port``) directly."""
    if proxies is None:
        proxies = getproxies_environment()
    return host_bypasses(host, proxies.get("no"))


proxy_bypass = proxy_bypass_environment


class ProxyHandler(BaseHandler):
    """Sends requests through the proxies in ``proxies`` (``{"http": "http://proxy:3128"}``).

    ``None`` reads them from the environment. Besides urllib's http/https proxies, a
    ``socks5://`` or ``socks5h://`` proxy URL works (netwire's Client speaks SOCKS5).
    """

    handler_order = 100

    def __init__(self, proxies: Mapping[str, str] | None = None) -> None:
        if proxies is None:
            proxies = getproxies()
        if not hasattr(proxies, "keys"):
            raise TypeError("proxies must be a mapping")
        self.proxies = proxies
        for type_, url in proxies.items():
            type_ = type_.lower()
            setattr(
                self,
                f"{type_}_open",
                lambda r, proxy=url, type=type_, meth=self.proxy_open: meth(r, proxy, type),
            )

    def proxy_open(self, req: Request, proxy: str, type: str) -> Any:
        orig_type = req.type
        proxy_type, user, password, hostport = _parse_proxy(proxy)
        if proxy_type is None:
            proxy_type = orig_type
        if req.host and proxy_bypass(req.host):
            return None
        if user and password:
            user_pass = f"{unquote(user)}:{unquote(password)}"
            creds = base64.b64encode(user_pass.encode()).decode("ascii")
            req.add_header("Proxy-authorization", "Basic " + creds)
        hostport = unquote(hostport)
        if proxy_type in ("socks5", "socks5h", "socks") and orig_type in ("http", "https"):
            # The Client tunnels through SOCKS itself: keep the request's scheme and handler.
            req._proxy = (proxy_type, hostport)
            return None
        req.set_proxy(hostport, proxy_type)
        if orig_type == proxy_type or orig_type == "https":
            return None
        return self.parent.open(req, timeout=req.timeout)
