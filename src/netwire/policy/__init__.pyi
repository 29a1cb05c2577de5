"""Type-checker view of the old path ``netwire.policy``: it is :mod:`netwire.http.policy` (see netwire/_moved.py)."""

from netwire.http.policy import *  # noqa: F403
