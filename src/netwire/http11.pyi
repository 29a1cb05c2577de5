"""Type-checker view of the old path ``netwire.http11``: it is :mod:`netwire.http.http11` (see netwire/_moved.py)."""

from netwire.http.http11 import *  # noqa: F403
