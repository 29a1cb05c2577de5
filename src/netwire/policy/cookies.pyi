"""Type-checker view of the old path ``netwire.policy.cookies``: it is :mod:`netwire.http.policy.cookies` (see netwire/_moved.py)."""

from netwire.http.policy.cookies import *  # noqa: F403
