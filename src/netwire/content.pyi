"""Type-checker view of the old path ``netwire.content``: it is :mod:`netwire.http.content` (see netwire/_moved.py)."""

from netwire.http.content import *  # noqa: F403
