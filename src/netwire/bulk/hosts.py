"""Which shard a host belongs to: a stable hash of its registrable domain.

All hosts of one site (``a.example.com``, ``b.example.com``) land in the same shard, so the
per-host politeness one shard enforces is not undone by another process fetching the same site.

:func:`registrable_domain` is the one place that decides what "the site" is. Until the Public
Suffix List lands in netwire (it is being vendored for cookies), it falls back to the last two
labels of a name (``www.example.co.uk`` gives ``co.uk``: coarser than the truth, which only
puts more hosts together, never splits a site across shards). IP addresses are their own site.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["quick_hostname", "registrable_domain", "shard_of"]

# "http(s)://" then a host of plain lower-case LDH labels (or a dotted quad), an optional port,
# then the path, query, fragment or the end. What it captures is the host the URL parser gives
# (such a host is already in its canonical form); anything else (upper case, user info, IDNA,
# percent signs, a trailing dot, a number the IPv4 parser would rewrite...) is not matched.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_QUICK_HOST = re.compile(rf"https?://({_LABEL}(?:\.{_LABEL})*)(?::(\d{{1,5}}))?(?:[/?#]|\Z)")
_QUAD = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\Z")


def registrable_domain(host: str) -> str:
    """The site ``host`` (``host[:port]``) belongs to: its registrable domain (eTLD+1, by the
    Public Suffix List netwire ships: ``example.co.uk`` for ``www.example.co.uk``, but
    ``alice.github.io`` for ``www.alice.github.io``). An IP address, a single label or a public
    suffix itself is returned as it is.
    """
    from .._psl import registrable_domain as psl_registrable

    host = host.lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] or host  # an IPv6 literal, its port dropped
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit():
        host = name  # "host:port" (what a URL's host is): the port is no part of the site
    host = host.rstrip(".")
    if not host or host.replace(".", "").isdigit() or "." not in host:
        return host  # an IPv4 address, or a single label such as localhost
    return psl_registrable(host) or host


def quick_hostname(url: str) -> str | None:
    """The host name of ``url`` when it is a plain ``http(s)://host[:port]/...`` URL whose host
    needs no rewriting, read off the text without parsing it; None when it may need the parser.

    A worker reads the whole input and keeps its shard's share: this spares parsing the URLs it
    will not fetch (with N workers, N - 1 of every N) just to learn their host. A name given is
    the one :class:`~netwire.url.URL` would give, so the shard is the same either way.
    """
    m = _QUICK_HOST.match(url)
    if m is None:
        return None
    host, port = m.group(1, 2)
    if port is not None and int(port) > 65535:
        return None  # not a URL: the parser says why
    last = host[host.rfind(".") + 1:]
    if last[0].isdigit() and _QUAD.match(host) is None:
        return None  # a number the IPv4 parser reads (and may rewrite, or refuse)
    if "xn--" in host:
        return None  # punycode: the parser checks it
    return host


def shard_of(host: str, shards: int) -> int:
    """The shard (0 .. shards-1) of ``host``: a hash of its registrable domain that does not
    change between runs or machines (Python's ``hash`` of a str does)."""
    if shards <= 1:
        return 0
    digest = hashlib.blake2b(registrable_domain(host).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards
