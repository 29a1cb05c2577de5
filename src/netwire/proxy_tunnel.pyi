"""Type-checker view of the old path ``netwire.proxy_tunnel``: it is :mod:`netwire.http.proxy_tunnel` (see netwire/_moved.py)."""

from netwire.http.proxy_tunnel import *  # noqa: F403
