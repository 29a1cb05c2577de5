"""Type-checker view of the old path ``netwire.fetch``: it is :mod:`netwire.http.fetch` (see netwire/_moved.py)."""

from netwire.http.fetch import *  # noqa: F403
