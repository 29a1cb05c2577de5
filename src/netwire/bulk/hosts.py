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

__all__ = ["registrable_domain", "shard_of"]


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


def shard_of(host: str, shards: int) -> int:
    """The shard (0 .. shards-1) of ``host``: a hash of its registrable domain that does not
    change between runs or machines (Python's ``hash`` of a str does)."""
    if shards <= 1:
        return 0
    digest = hashlib.blake2b(registrable_domain(host).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards
