"""Type-checker view of the old path ``netwire.flow``: it is :mod:`netwire.http.flow` (see netwire/_moved.py)."""

from netwire.http.flow import *  # noqa: F403
