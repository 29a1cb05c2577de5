"""Type-checker view of the old path ``netwire.policy.auth``: it is :mod:`netwire.http.policy.auth` (see netwire/_moved.py)."""

from netwire.http.policy.auth import *  # noqa: F403
