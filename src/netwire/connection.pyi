"""Type-checker view of the old path ``netwire.connection``: it is :mod:`netwire.http.connection` (see netwire/_moved.py)."""

from netwire.http.connection import *  # noqa: F403
