"""Type-checker view of the old path ``netwire.policy.redirects``: it is :mod:`netwire.http.policy.redirects` (see netwire/_moved.py)."""

from netwire.http.policy.redirects import *  # noqa: F403
