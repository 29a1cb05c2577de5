"""Type-checker view of the old path ``netwire.pool``: it is :mod:`netwire.http.pool` (see netwire/_moved.py)."""

from netwire.http.pool import *  # noqa: F403
