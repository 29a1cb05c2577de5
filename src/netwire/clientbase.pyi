"""Type-checker view of the old path ``netwire.clientbase``: it is :mod:`netwire.http.clientbase` (see netwire/_moved.py)."""

from netwire.http.clientbase import *  # noqa: F403
