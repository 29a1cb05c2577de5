"""Type-checker view of the old path ``netwire.policy.retries``: it is :mod:`netwire.http.policy.retries` (see netwire/_moved.py)."""

from netwire.http.policy.retries import *  # noqa: F403
