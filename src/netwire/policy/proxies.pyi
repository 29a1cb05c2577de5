"""Type-checker view of the old path ``netwire.policy.proxies``: it is :mod:`netwire.http.policy.proxies` (see netwire/_moved.py)."""

from netwire.http.policy.proxies import *  # noqa: F403
